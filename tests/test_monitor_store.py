"""The ledger store, the same tests on SQLite and on a real PostgreSQL server:
append-only (the database refuses UPDATE and DELETE), corrections that supersede,
bitemporal reads, snapshots, the hash chain, two writers at once, and a process
killed in the middle of a bulk import."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ceasefire.monitor import MonitorError, Store, StoreError, import_csv
from ceasefire.monitor._schema import metadata
from test_monitor_support import (
    RECORD,
    STORES,
    Clock,
    fresh_db,
    new_store,
    observation,
)


@pytest.fixture(params=STORES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_db(request.param, tmp_path)


def test_the_nov2023_record_imports_unchanged_and_verifies(db: str) -> None:
    with new_store(db) as store:
        result = import_csv(store, RECORD)
        assert result.rows == 49 and result.entries == range(1, 50) and result.after.seq == 49
        snap, current = store.view()
        assert snap == result.after and len(current) == 49
        hostages = [
            e.observation
            for e in current
            if e.observation and e.observation.kind == "hostages_released"
        ]
        assert sum(o.total() for o in hostages if o.channel == "deal") == 78
        credited = [o for o in hostages if o.channel == "side_channel_credited_to_deal"]
        assert [(str(o.date), str(o.credited_on), o.total()) for o in credited] == [
            ("2023-11-29", "2023-11-30", 2)
        ]
        # Original strings are kept as written.
        assert {o.from_party for o in hostages} == {"Hamas"}
        assert store.verify() == []
        assert store.batches()[-1].file_sha256 == result.file_sha256


def test_the_database_refuses_update_and_delete_on_every_ledger_table(db: str) -> None:
    with new_store(db) as store:
        store.record([observation(10, obs_id="a")])
        statements = [
            "UPDATE entries SET note = 'changed'",
            "DELETE FROM entries",
            "UPDATE entry_counts SET count = 99",
            "DELETE FROM entry_counts",
            "UPDATE batches SET description = 'x'",
            "DELETE FROM batches",
            "UPDATE categories SET unit = 'days'",
            "DELETE FROM categories",
        ]
        if store.dialect == "postgresql":
            statements.append("TRUNCATE entries CASCADE")
        for statement in statements:
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as c:
                c.execute(sa.text(statement))
        # An entry out of order (a gap, or a time before the last) is refused too.
        with pytest.raises(sa.exc.DBAPIError, match="appended in order"), store.engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO entries (seq, obs_id, action, batch, recorded_at, reason, "
                    "content_hash, chain_hash) VALUES (5, 'x', 'retract', 99, '2099', '', 'h', 'c')"
                )
            )
        assert [e.observation.total() for e in store.entries() if e.observation] == [10]
        assert store.verify() == []


def test_correction_chains_resolve_as_of_any_date(db: str) -> None:
    clock = Clock("2023-11-24T20:00:00+00:00")
    with new_store(db, clock) as store:
        store.record([observation(10, obs_id="d1")])
        clock.set("2023-11-25T09:00:00+00:00")
        first = store.correct("d1", observation(12), "second source gives 12")
        clock.set("2023-11-26T09:00:00+00:00")
        second = store.correct("d1", observation(13), "official count: 13", expect=first.seq)
        clock.set("2023-11-27T09:00:00+00:00")
        gone = store.retract("d1", "double-counted with another row")
        clock.set("2023-11-28T09:00:00+00:00")
        back = store.correct("d1", observation(14), "reinstated after review")

        assert (first.supersedes, second.supersedes, gone.supersedes, back.supersedes) == (
            1,
            first.seq,
            second.seq,
            gone.seq,
        )

        def known(on: str) -> list[int]:
            _, current = store.view(as_of=on)
            return [e.observation.total() for e in current if e.observation]

        assert known("2023-11-23") == []
        assert known("2023-11-24") == [10]
        assert known("2023-11-25") == [12]
        assert known("2023-11-26") == [13]
        assert known("2023-11-27") == []
        assert known("2023-11-28") == [14]
        assert known("2023-11-26T08:59:59Z") == [12]
        # The whole history stays, and the snapshot of a date names its last entry.
        assert [e.action for e in store.history("d1")] == [
            "record",
            "correct",
            "correct",
            "retract",
            "correct",
        ]
        assert store.snapshot(as_of="2023-11-25").seq == first.seq
        assert store.view(upto=second.seq)[1][0].observation.total() == 13  # type: ignore[union-attr]
        # About a day: observations of that date only.
        store.record([observation(5, obs_id="d2", day="2023-11-25")])
        _, about = store.view(about=(None, None))
        assert {e.obs_id for e in about} == {"d1", "d2"}
        import datetime as dt

        day = dt.date(2023, 11, 25)
        assert [e.obs_id for e in store.view(about=(day, day))[1]] == ["d2"]


def test_corrections_refuse_a_stale_version_and_unknown_ids(db: str) -> None:
    with new_store(db) as store:
        store.record([observation(10, obs_id="d1")])
        store.correct("d1", observation(11), "recount")
        with pytest.raises(MonitorError, match="current version of d1 is entry 2, not entry 1"):
            store.correct("d1", observation(12), "stale", expect=1)
        with pytest.raises(MonitorError, match="no observation 'nope'"):
            store.correct("nope", observation(12), "x")
        with pytest.raises(MonitorError, match="already in the ledger"):
            store.record([observation(3, obs_id="d1")])
        with pytest.raises(MonitorError, match="unknown category 'women_childern'"):
            store.record([observation(3, category="women_childern")])
        assert store.snapshot().seq == 2


def test_the_migrations_create_exactly_the_schema_the_code_uses(db: str) -> None:
    with new_store(db) as store, store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diffs == []


def test_a_missing_or_uninitialised_ledger_is_refused_with_a_hint(db: str) -> None:
    with pytest.raises(StoreError, match="monitor init"):
        Store.open(db)


_WRITER = """
import sys
from test_monitor_support import observation
from ceasefire.monitor import Store
store = Store.open(sys.argv[1])
tag = sys.argv[2]
for batch in range(15):
    store.record([observation(i, obs_id=f"{tag}-{batch}-{i}") for i in range(8)])
store.close()
"""


def test_two_writers_at_once_lose_nothing(db: str) -> None:
    new_store(db).close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, db, tag], env=env, stderr=subprocess.PIPE, text=True
        )
        for tag in ("w1", "w2")
    ]
    for w in writers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    with Store.open(db) as store:
        log = store.entries()
        assert [e.seq for e in log] == list(range(1, 241))
        assert len({e.obs_id for e in log}) == 240
        assert store.verify() == []
        # Each writer's transactions stayed whole: 8 consecutive entries per batch.
        for start in range(0, 240, 8):
            assert len({e.obs_id.rsplit("-", 1)[0] for e in log[start : start + 8]}) == 1


def _big_csv(path: Path, rows: int) -> None:
    lines = [
        "date,day,phase,flow,from_party,to_party,category,count,channel,source,source_kind,note,id"
    ]
    for i in range(rows):
        lines.append(
            f"2023-11-24,1,initial_4_days,hostages_released,Hamas,Israel,women_children,{i % 20},"
            f'deal,"Example wire report, 2023-11-24, https://example.org/{i}",media,'
            f"bulk row {i},bulk-{i}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _writer_holds_lock(store: Store, db: str) -> bool:
    if store.dialect == "sqlite":
        import sqlite3

        conn = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            conn.close()
    with store.engine.connect() as conn:
        held = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON l.relation = c.oid "
                "WHERE c.relname = 'entries' AND l.mode = 'ExclusiveLock' AND l.granted"
            )
        ).scalar()
    return bool(held)


def test_a_process_killed_during_a_bulk_import_leaves_the_store_as_before(
    db: str, tmp_path: Path
) -> None:
    with new_store(db) as store:
        import_csv(store, RECORD)
        before = store.snapshot()
        before_batches = store.batches()
        before_log = [e.to_dict() for e in store.entries()]
        big = tmp_path / "big.csv"
        _big_csv(big, 40_000)
        proc = subprocess.Popen(
            [sys.executable, "-m", "ceasefire", "monitor", "import", "--db", db, str(big)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 90
        caught = False
        while time.monotonic() < deadline and proc.poll() is None:
            if _writer_holds_lock(store, db):
                caught = True
                time.sleep(0.05)  # let it write some rows inside the transaction
                break
            time.sleep(0.002)
        assert proc.poll() is None, "the import finished before it could be killed"
        assert caught, "the import never took the write lock"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL

    with Store.open(db) as store:
        assert store.snapshot() == before
        assert [e.to_dict() for e in store.entries()] == before_log
        assert store.verify() == []
        assert store.batches() == before_batches
        # The store is usable at once: a new import goes through.
        small = tmp_path / "small.csv"
        _big_csv(small, 50)
        assert import_csv(store, small).after.seq == before.seq + 50
