"""Bulk import from the command line: malformed files are refused whole, with the line,
column and field of each problem, exit code 2 and nothing written (on both stores)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ceasefire.monitor import Store
from test_monitor_support import RECORD, STORES, cli, fresh_db, new_store

HEADER = "date,day,phase,flow,from_party,to_party,category,count,channel,source,source_kind,note"
GOOD = '2023-11-24,1,initial_4_days,hostages_released,Hamas,Israel,women_children,13,deal,"Wire, https://example.org/a",media,ok'


@pytest.fixture(params=STORES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty ledger on each store (the checks come before any write, so the
    one-problem-at-a-time cases below run on SQLite only; see sqlite_db)."""
    for url in fresh_db(request.param, tmp_path):
        new_store(url).close()
        yield url


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    url = str(tmp_path / "ledger.sqlite")
    new_store(url).close()
    return url


def _refused(db: str, path: Path, *expected: str) -> str:
    with Store.open(db) as store:
        before = store.snapshot()
    result = cli("monitor", "import", "--db", db, str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "nothing written" in result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    with Store.open(db) as store:
        assert store.snapshot() == before
    return result.stderr


def test_the_record_imports_as_it_is(db: str) -> None:
    result = cli("monitor", "import", "--db", db, str(RECORD))
    assert result.returncode == 0, result.stderr
    assert "imported 49 observations" in result.stdout
    assert "ledger snapshot 49" in result.stdout


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "wrong columns",
            HEADER.replace("count", "cuont", 1) + ",extra\n" + GOOD + ",x\n",
            [
                ":1:8: cuont: unknown column 'cuont' (did you mean 'count'?)",
                "unknown column 'extra'",
                "missing column: count",
            ],
        ),
        (
            "negative count",
            HEADER + "\n" + GOOD + "\n" + GOOD.replace(",13,", ",-3,") + "\n",
            [":3:8: count: negative count -3"],
        ),
        (
            "unknown category",
            HEADER + "\n" + GOOD.replace("women_children", "women_childern") + "\n",
            [":2:7: category: unknown category 'women_childern' (did you mean 'women_children'?)"],
        ),
        (
            "unparsable date",
            HEADER
            + "\n"
            + GOOD.replace("2023-11-24", "2023-11-31", 1)
            + "\n"
            + GOOD.replace("2023-11-24", "24/11/2023", 1)
            + "\n",
            [
                ":2:1: date: '2023-11-31' is not a calendar date",
                ":3:1: date: '24/11/2023' is not a calendar date; write it as YYYY-MM-DD",
            ],
        ),
        (
            "duplicate id",
            HEADER + ",id\n" + GOOD + ",r1\n" + GOOD + ",r2\n" + GOOD + ",r1\n",
            [":4:13: id: duplicate id 'r1'; it is already on line 2"],
        ),
        (
            "fraction and bad kind",
            HEADER + "\n" + GOOD.replace(",13,", ",2.5,").replace(",media,", ",rumour,") + "\n",
            [
                ":2:8: count: '2.5' is not a whole number",
                "source_kind: 'rumour' is not allowed; use one of: official, mediator, media, "
                "anonymous",
            ],
        ),
    ],
)
def test_a_malformed_csv_is_refused_whole(
    sqlite_db: str, tmp_path: Path, name: str, content: str, expected: list[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    _refused(sqlite_db, path, *expected)


def test_wrong_encoding_is_refused_with_its_line(sqlite_db: str, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\n" + GOOD.replace("ok", "déjà vu") + "\n").encode("latin-1"))
    _refused(sqlite_db, path, "latin1.csv:2:", "not UTF-8 text", "save it as UTF-8")


def test_an_id_already_in_the_ledger_is_refused_with_its_line(db: str, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text(HEADER + ",id\n" + GOOD + ",r1\n", encoding="utf-8")
    assert cli("monitor", "import", "--db", db, str(first)).returncode == 0
    again = tmp_path / "again.csv"
    again.write_text(
        HEADER
        + ",id\n"
        + GOOD.replace(",ok", ",second")
        + ",r2\n"
        + GOOD.replace(",ok", ",changed")
        + ",r1\n",
        encoding="utf-8",
    )
    _refused(
        db,
        again,
        "again.csv:3:13: id: duplicate id 'r1': it is already in the ledger",
        "monitor correct r1",
    )


def test_the_record_broken_in_many_places_lists_every_problem(db: str, tmp_path: Path) -> None:
    lines = RECORD.read_text(encoding="utf-8").splitlines()
    lines[8] = lines[8].replace(",13,", ",-13,")
    lines[20] = lines[20].replace("2023-11-26", "2023-13-26", 1)
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stderr = _refused(
        db,
        path,
        "broken.csv:9:8: count: negative count -13",
        "broken.csv:21:1: date: '2023-13-26' is not a calendar date",
    )
    assert "(2 problems)" in stderr


def _entries(db: str) -> int:
    with Store.open(db) as store:
        return store.snapshot().seq


def test_importing_a_file_twice_records_it_once(db: str) -> None:
    assert cli("monitor", "import", "--db", db, str(RECORD)).returncode == 0
    again = cli("monitor", "import", "--db", db, str(RECORD))
    assert again.returncode == 0, again.stderr
    assert "imported 0 observations" in again.stdout
    assert "skipped 49 rows the ledger already holds: lines 2-50 of the file" in again.stdout
    assert "nothing written; ledger snapshot 49" in again.stdout
    assert _entries(db) == 49
    with Store.open(db) as store:
        assert store.verify() == []


def test_a_longer_file_adds_only_its_new_rows(db: str, tmp_path: Path) -> None:
    lines = RECORD.read_text(encoding="utf-8").splitlines()
    first = tmp_path / "first.csv"
    first.write_text("\n".join(lines[:21]) + "\n", encoding="utf-8")
    assert cli("monitor", "import", "--db", db, str(first)).returncode == 0
    assert _entries(db) == 20
    full = cli("monitor", "import", "--db", db, str(RECORD))
    assert full.returncode == 0, full.stderr
    assert "imported 29 observations" in full.stdout
    assert "skipped 20 rows the ledger already holds: lines 2-21" in full.stdout
    assert "entries 21 to 49" in full.stdout
    assert _entries(db) == 49


def test_a_row_repeated_in_a_file_is_refused_unless_allowed(sqlite_db: str, tmp_path: Path) -> None:
    other = GOOD.replace(",13,", ",10,")
    path = tmp_path / "twice.csv"
    path.write_text(HEADER + "\n" + GOOD + "\n" + other + "\n" + GOOD + "\n", encoding="utf-8")
    _refused(sqlite_db, path, "twice.csv:4: repeats line 2", "--allow-duplicates")
    allowed = cli("monitor", "import", "--db", sqlite_db, "--allow-duplicates", str(path))
    assert allowed.returncode == 0, allowed.stderr
    assert "imported 3 observations" in allowed.stdout
    # Allowed, every row is recorded as it is, even one the ledger holds.
    again = cli("monitor", "import", "--db", sqlite_db, "--allow-duplicates", str(path))
    assert again.returncode == 0 and _entries(sqlite_db) == 6


def test_rows_held_under_an_id_or_since_corrected_are_not_recorded_again(
    sqlite_db: str, tmp_path: Path
) -> None:
    path = tmp_path / "ids.csv"
    second = GOOD.replace(",13,", ",10,")
    path.write_text(HEADER + ",id\n" + GOOD + ",r1\n" + second + ",\n", encoding="utf-8")
    assert cli("monitor", "import", "--db", sqlite_db, str(path)).returncode == 0
    with Store.open(sqlite_db) as store:
        current = store.history("obs-2")[-1].observation
        assert current is not None
        fixed = current.counts[0].model_copy(update={"count": 11})
        store.correct("obs-2", current.model_copy(update={"counts": [fixed]}), "recount")
    again = cli("monitor", "import", "--db", sqlite_db, str(path))
    assert again.returncode == 0, again.stderr
    assert "skipped 2 rows" in again.stdout and "entries 1-2 of the ledger" in again.stdout
    assert _entries(sqlite_db) == 3
