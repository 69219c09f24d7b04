"""Monitor input that used to crash or be stored as it was (issue 13, items 10 and 15):
a --db that is not a ledger, a credited date past the calendar, an entry number past
any integer, digits that are not ASCII, control characters in a party's name; and the
entry ranges two imports at once print."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ceasefire.monitor import Store
from test_monitor_support import RECORD, cli, init_cli

HEADER = "date,day,phase,flow,from_party,to_party,category,count,channel,source,source_kind,note"
GOOD = '2023-11-24,1,initial_4_days,hostages_released,Hamas,Israel,women_children,13,deal,"Wire, https://example.org/a",media,ok'


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    path = str(tmp_path / "ledger.sqlite")
    init_cli(path)
    return path


def _refused(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


@pytest.mark.parametrize(
    "content", [b"hello, this is a text file\n", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8]
)
def test_a_db_that_is_not_sqlite_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    for args in (("list",), ("import", str(RECORD)), ("init",), ("verify",)):
        result = cli("monitor", args[0], "--db", str(path), *args[1:])
        _refused(result, str(path), "not a SQLite database")
    assert path.read_bytes() == content


def test_a_credited_date_past_the_calendar_is_refused(ledger: str, tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    row = GOOD.replace("2023-11-24", "9999-12-31", 1).replace(
        ",deal,", ",side_channel_credited_to_deal,"
    )
    path.write_text(HEADER + "\n" + row + "\n", encoding="utf-8")
    _refused(
        cli("monitor", "import", "--db", ledger, str(path)),
        "late.csv:2:1: date:",
        "credited_on",
    )


def test_an_entry_number_past_any_integer_reads_the_whole_ledger(
    ledger: str, tmp_path: Path
) -> None:
    assert cli("monitor", "import", "--db", ledger, str(RECORD)).returncode == 0
    huge = str(10**30)
    out = tmp_path / "all.csv"
    result = cli("monitor", "export", "--db", ledger, "--upto", huge, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "ledger snapshot 49" in result.stdout
    listed = cli("monitor", "list", "--db", ledger, "--upto", huge, "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"seq": 49' in listed.stdout


@pytest.mark.parametrize(
    ("count", "shown"),
    [("\u0661\u0663", "'\u0661\u0663'"), ("\uff11\uff13", "'\uff11\uff13'"), ("1\u06f3", "")],
)
def test_counts_in_other_digits_are_refused(
    ledger: str, tmp_path: Path, count: str, shown: str
) -> None:
    path = tmp_path / "digits.csv"
    path.write_text(HEADER + "\n" + GOOD.replace(",13,", f",{count},") + "\n", encoding="utf-8")
    _refused(
        cli("monitor", "import", "--db", ledger, str(path)),
        "digits.csv:2:8: count:",
        "ASCII digits",
        shown,
    )


@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\x7f", "\u202e"])
def test_control_characters_in_a_party_are_refused(ledger: str, tmp_path: Path, bad: str) -> None:
    path = tmp_path / "control.csv"
    path.write_text(
        HEADER + "\n" + GOOD.replace("Hamas", f"Ha{bad}mas") + "\n", encoding="utf-8", newline=""
    )
    _refused(
        cli("monitor", "import", "--db", ledger, str(path)),
        "control.csv:2:5: from_party:",
        "control character",
    )
    with Store.open(ledger) as store:
        assert store.snapshot().seq == 0


def test_a_day_in_other_digits_is_refused(ledger: str, tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    path.write_text(HEADER + "\n" + GOOD.replace(",1,", ",\u0661,", 1) + "\n", encoding="utf-8")
    _refused(cli("monitor", "import", "--db", ledger, str(path)), "day.csv:2:2: day:")


def test_imports_at_once_print_the_entries_each_made(ledger: str, tmp_path: Path) -> None:
    files = []
    for tag, rows in (("a", 300), ("b", 200), ("c", 100)):
        path = tmp_path / f"{tag}.csv"
        lines = [HEADER + ",id"]
        lines += [
            GOOD.replace(",13,", f",{i},").replace(",ok", f",{tag}") + f",{tag}-{i}"
            for i in range(rows)
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append((path, rows))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ceasefire", "monitor", "import", "--db", ledger, str(p)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p, _ in files
    ]
    spans = []
    for proc, (path, rows) in zip(procs, files, strict=True):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        found = re.search(r"entries (\d+) to (\d+)", out)
        assert found, out
        first, last = int(found[1]), int(found[2])
        assert last - first + 1 == rows
        spans.append((first, last, path.stem))
    with Store.open(ledger) as store:
        log = store.entries()
    assert len(log) == 600
    for first, last, tag in spans:
        assert {e.obs_id.split("-")[0] for e in log[first - 1 : last]} == {tag}
