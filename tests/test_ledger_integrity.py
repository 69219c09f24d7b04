"""The ledger's promises, as an attacker with write access to the database tests them
(issue 13, items 8 and 15): rows cannot be replaced past the triggers (REPLACE INTO on
SQLite, upserts on PostgreSQL); with the triggers dropped, `monitor verify` still finds
removed, rewritten or recomputed entries, batches and categories, against the ledger's
own seals and against an anchor kept outside it (`monitor verify --against`); a dropped
table is reported, not a traceback; one missing entry is reported as one gap."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ceasefire.monitor import Observation, Store
from ceasefire.monitor._model import chain_hash, content_hash
from test_monitor_support import RECORD, STORES, cli, fresh_db, init_cli, new_store, observation


@pytest.fixture(params=STORES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_db(request.param, tmp_path)


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    """A SQLite ledger holding the November 2023 record (49 entries), via the CLI."""
    path = str(tmp_path / "ledger.sqlite")
    init_cli(path)
    assert cli("monitor", "import", "--db", path, str(RECORD)).returncode == 0
    return path


def _sql(db: str, *statements: str) -> None:
    """Run statements as someone with write access to the database file would."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


def _drop_triggers(db: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
        for name in names:
            conn.execute(f'DROP TRIGGER "{name}"')
    finally:
        conn.close()


def _verify(db: str, *args: str) -> tuple[int, str, str]:
    result = cli("monitor", "verify", "--db", db, *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout, result.stderr


# ----------------------------------------------------------- rows cannot be replaced


def test_replace_into_is_refused_on_every_ledger_table(ledger: str) -> None:
    statements = [
        "REPLACE INTO batches (id, recorded_at, origin, description, entries) "
        "VALUES (1, '2099-01-01', 'import', 'rewritten', 0)",
        "REPLACE INTO categories (id, unit, description, added_at) "
        "VALUES ('women_children', 'days', 'x', '2099')",
        "REPLACE INTO entry_counts (seq, position, category, count) "
        "VALUES (9, 0, 'women_children', 999)",
        "INSERT OR REPLACE INTO entry_counts (seq, position, category, count) "
        "VALUES (9, 5, 'women_children', 999)",
        # A new entry whose chain hash is an old one's would push the old one out.
        "REPLACE INTO entries (seq, obs_id, action, batch, recorded_at, reason, "
        "content_hash, chain_hash) SELECT 50, 'x', 'retract', 2, '2099', '', 'h', chain_hash "
        "FROM entries WHERE seq = 3",
    ]
    before = Store.open(ledger)
    log = [e.to_dict() for e in before.entries()]
    cats = before.categories()
    batches = before.batches()
    before.close()
    for statement in statements:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            _sql(ledger, statement)
    with Store.open(ledger) as store:
        assert [e.to_dict() for e in store.entries()] == log
        assert store.categories() == cats and store.batches() == batches
        assert store.verify() == []


def test_upserts_are_refused_on_both_stores(db: str) -> None:
    with new_store(db) as store:
        store.record([observation(10, obs_id="a")])
        if store.dialect == "postgresql":
            statements = [
                "INSERT INTO categories (id, unit, description, added_at) "
                "VALUES ('women_children', 'days', 'x', '2099') "
                "ON CONFLICT (id) DO UPDATE SET unit = EXCLUDED.unit",
                "INSERT INTO batches (id, recorded_at, origin, description, entries) "
                "VALUES (1, '2099', 'import', 'x', 0) "
                "ON CONFLICT (id) DO UPDATE SET description = EXCLUDED.description",
                "INSERT INTO entry_counts (seq, position, category, count) "
                "VALUES (1, 0, 'women_children', 99) "
                "ON CONFLICT (seq, position) DO UPDATE SET count = EXCLUDED.count",
            ]
        else:
            statements = [
                "INSERT INTO categories (id, unit, description, added_at) "
                "VALUES ('women_children', 'days', 'x', '2099') "
                "ON CONFLICT (id) DO UPDATE SET unit = excluded.unit",
                "REPLACE INTO categories (id, unit, description, added_at) "
                "VALUES ('women_children', 'days', 'x', '2099')",
                "REPLACE INTO batches (id, recorded_at, origin, description, entries) "
                "VALUES (1, '2099', 'import', 'x', 0)",
                "REPLACE INTO entry_counts (seq, position, category, count) "
                "VALUES (1, 0, 'women_children', 99)",
            ]
        for statement in statements:
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as c:
                c.execute(sa.text(statement))
        assert store.categories()["women_children"].unit == "people"
        assert [e.observation.total() for e in store.entries() if e.observation] == [10]
        assert store.verify() == []


# ------------------------------------------------- verify, with the triggers dropped


def test_verify_finds_the_last_entries_removed(ledger: str) -> None:
    _drop_triggers(ledger)
    _sql(ledger, "DELETE FROM entry_counts WHERE seq > 46", "DELETE FROM entries WHERE seq > 46")
    code, _, err = _verify(ledger)
    assert code == 1
    assert "entries 47-49 are missing" in err


def test_verify_finds_every_entry_removed(ledger: str) -> None:
    _drop_triggers(ledger)
    _sql(ledger, "DELETE FROM entry_counts", "DELETE FROM entries")
    code, _, err = _verify(ledger)
    assert code == 1
    assert "entries 1-49 are missing" in err


def test_one_missing_middle_entry_is_one_gap(ledger: str) -> None:
    _drop_triggers(ledger)
    _sql(ledger, "DELETE FROM entry_counts WHERE seq = 20", "DELETE FROM entries WHERE seq = 20")
    code, _, err = _verify(ledger)
    assert code == 1
    assert "entry 20 is missing" in err
    assert err.count("missing") == 1, err
    # The entries after the gap are not each reported as broken.
    assert "entry 21" not in err and "entry 35" not in err


def _recompute_chain(db: str, seq: int, note: str) -> None:
    """Rewrite entry ``seq``'s note and recompute every content and chain hash from it,
    as someone who knows the hash formula would."""
    _drop_triggers(db)
    _sql(db, f"UPDATE entries SET note = '{note}' WHERE seq = {seq}")
    with Store.open(db) as store:
        log = store.entries()
    conn = sqlite3.connect(db, isolation_level=None)
    previous = log[seq - 2].chain_hash if seq > 1 else None
    from ceasefire.monitor._model import GENESIS

    previous = previous or GENESIS
    for e in log[seq - 1 :]:
        digest = content_hash(e.content())
        chained = chain_hash(previous, digest)
        conn.execute(
            "UPDATE entries SET content_hash = ?, chain_hash = ? WHERE seq = ?",
            (digest, chained, e.seq),
        )
        previous = chained
    conn.close()


def test_verify_finds_a_recomputed_chain(ledger: str) -> None:
    _recompute_chain(ledger, 10, "rewritten")
    code, _, err = _verify(ledger)
    assert code == 1
    assert "batch" in err and "does not match" in err


def test_verify_covers_batches_and_categories(ledger: str, tmp_path: Path) -> None:
    changed = tmp_path / "batches.sqlite"
    changed.write_bytes(Path(ledger).read_bytes())
    _drop_triggers(str(changed))
    _sql(str(changed), "UPDATE batches SET file_name = 'other.csv' WHERE id = 2")
    code, _, err = _verify(str(changed))
    assert code == 1 and "batch 2" in err

    _drop_triggers(ledger)
    _sql(ledger, "UPDATE categories SET unit = 'days' WHERE id = 'women_children'")
    code, _, err = _verify(ledger)
    assert code == 1 and "categories" in err


def test_verify_reports_the_triggers_that_are_gone(ledger: str) -> None:
    _sql(ledger, "DROP TRIGGER entries_no_delete")
    code, _, err = _verify(ledger)
    assert code == 1
    assert "entries_no_delete" in err


def test_a_dropped_table_is_reported_not_a_traceback(ledger: str) -> None:
    _sql(ledger, "DROP TABLE entry_counts")
    code, out, err = _verify(ledger)
    assert code == 1, out + err
    assert "table entry_counts is missing" in err


# ---------------------------------------------------------------- verify --against


def _anchor(text: str) -> str:
    line = next(x for x in text.splitlines() if x.startswith("anchor: "))
    return line.split()[1]


def test_verify_against_an_anchor_kept_outside_the_ledger(ledger: str, tmp_path: Path) -> None:
    code, out, _ = _verify(ledger)
    assert code == 0
    anchor = _anchor(out)
    assert anchor.startswith("49:sha256:")
    saved = tmp_path / "anchor.txt"
    saved.write_text(out, encoding="utf-8")
    # Later entries do not break the anchor: the ledger only grew.
    with Store.open(ledger) as store:
        store.record([observation(3, obs_id="later")])
    for given in (anchor, str(saved)):
        code, out, err = _verify(ledger, "--against", given)
        assert code == 0, err
        assert "matches the anchor" in out

    # Everything removed and the rest recomputed to look whole: only the anchor knows.
    _drop_triggers(ledger)
    _sql(
        ledger,
        "DELETE FROM entry_counts",
        "DELETE FROM entries",
        "DELETE FROM batches",
        "DELETE FROM categories",
    )
    code, _, err = _verify(ledger, "--against", anchor)
    assert code == 1
    assert "the anchor names entry 49" in err


def test_verify_output_saved_from_a_narrow_terminal_is_an_anchor(
    ledger: str, tmp_path: Path
) -> None:
    # A hash is never broken across lines, whatever the width: the saved output of
    # `monitor verify > anchor.txt` must be usable as --against later.
    env = {**os.environ, "COLUMNS": "60"}
    command = [sys.executable, "-m", "ceasefire", "monitor", "verify", "--db", ledger]
    out = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    anchor = _anchor(out.stdout)
    assert re.fullmatch(r"49:sha256:[0-9a-f]{64}/\d+:sha256:[0-9a-f]{64}", anchor)
    saved = tmp_path / "anchor.txt"
    saved.write_text(out.stdout, encoding="utf-8")
    code, text, err = _verify(ledger, "--against", str(saved))
    assert code == 0, err
    assert f"matches the anchor {anchor}" in text


def test_verify_against_an_anchor_finds_a_recomputed_chain(ledger: str) -> None:
    code, out, _ = _verify(ledger)
    anchor = _anchor(out)
    _recompute_chain(ledger, 49, "rewritten")
    code, _, err = _verify(ledger, "--against", anchor)
    assert code == 1
    assert "entry 49" in err and "anchor" in err


def test_verify_against_an_export(ledger: str, tmp_path: Path) -> None:
    for fmt in ("json", "csv", "parquet"):
        out = tmp_path / f"ledger.{fmt}"
        assert cli("monitor", "export", "--db", ledger, "--out", str(out)).returncode == 0
        code, text, err = _verify(ledger, "--against", str(out))
        assert code == 0, err
        assert "matches the anchor" in text
    document = json.loads((tmp_path / "ledger.json").read_text(encoding="utf-8"))
    assert document["anchor"].startswith("49:sha256:")


def test_an_unusable_anchor_is_refused_with_exit_2(ledger: str, tmp_path: Path) -> None:
    code, _, err = _verify(ledger, "--against", "49:nothash")
    assert code == 2 and "anchor" in err
    empty = tmp_path / "empty.txt"
    empty.write_text("nothing here\n", encoding="utf-8")
    code, _, err = _verify(ledger, "--against", str(empty))
    assert code == 2 and "empty.txt" in err


# ------------------------------------------------------------ upgrading a ledger


def _legacy_ledger(path: Path) -> list[Observation]:
    """A ledger written as release 0001_ledger wrote them: no seals, no keys."""
    from alembic import command
    from alembic.config import Config

    from ceasefire.monitor._model import GENESIS, entry_content
    from ceasefire.monitor._store import MIGRATIONS

    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, "0001_ledger")
        when = "2023-11-24T12:00:00.000000Z"
        conn.execute(
            sa.text(
                "INSERT INTO categories (id, unit, description, added_at) "
                "VALUES ('women_children', 'people', '', :t), ('event', 'none', '', :t)"
            ),
            {"t": when},
        )
        made = [observation(n, obs_id=f"old-{n}") for n in (3, 5, 7)]
        conn.execute(
            sa.text(
                "INSERT INTO batches (id, recorded_at, origin, description, entries) "
                "VALUES (1, :t, 'import', 'import of old.csv', 3)"
            ),
            {"t": when},
        )
        previous = GENESIS
        for seq, o in enumerate(made, start=1):
            content = entry_content(
                seq=seq,
                obs_id=o.id or "",
                action="record",
                supersedes=None,
                batch=1,
                recorded_at=when,
                reason="",
                observation=o,
            )
            digest = content_hash(content)
            previous = chain_hash(previous, digest)
            conn.execute(
                sa.text(
                    "INSERT INTO entries (seq, obs_id, action, batch, recorded_at, reason, "
                    "occurred_on, kind, from_party, to_party, channel, note, source_text, "
                    "source_links, source_kind, reliability, content_hash, chain_hash, "
                    "source_published) VALUES (:seq, :id, 'record', 1, :t, '', :d, :k, :f, "
                    ":to, :c, :n, :st, :sl, :sk, :r, :h, :ch, :sp)"
                ),
                {
                    "seq": seq,
                    "id": o.id,
                    "t": when,
                    "d": o.date.isoformat(),
                    "k": o.kind,
                    "f": o.from_party,
                    "to": o.to_party,
                    "c": o.channel,
                    "n": o.note,
                    "st": o.source.text,
                    "sl": json.dumps(o.source.links),
                    "sk": o.source.kind,
                    "r": o.source.reliability,
                    "h": digest,
                    "ch": previous,
                    "sp": o.source.published.isoformat() if o.source.published else None,
                },
            )
            conn.execute(
                sa.text(
                    "INSERT INTO entry_counts (seq, position, category, count) "
                    "VALUES (:seq, 0, 'women_children', :n)"
                ),
                {"seq": seq, "n": o.counts[0].count},
            )
    engine.dispose()
    return made


def test_a_ledger_of_schema_0001_upgrades_and_verifies(tmp_path: Path) -> None:
    from ceasefire.monitor import StoreError

    path = tmp_path / "old.sqlite"
    made = _legacy_ledger(path)
    with pytest.raises(StoreError, match="revision 0001_ledger"):
        Store.open(path)
    with Store.open(path, create=True) as store:
        assert store.schema_revision() == "0003_forecasts"
        assert [e.obs_id for e in store.entries()] == ["old-3", "old-5", "old-7"]
        assert store.verify() == []
        # The keys of the old entries are there: the same rows are held, not recorded again.
        entries_made, held = store.record_new(made)
        assert entries_made == [] and held == [1, 2, 3]
        store.add_categories([], builtin=True)  # declares the built-in ones: a sealed batch
        assert store.verify() == []
        anchor = store.anchor()
        assert anchor.seq == 3 and anchor.batch == len(store.batches())
        assert store.verify_against(anchor) == []
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        _sql(
            str(path),
            "REPLACE INTO categories (id, unit, description, added_at) "
            "VALUES ('event', 'people', '', 'x')",
        )
