"""Terminal output fits its width: every table at 80 and 100 columns with no date or
count cut (no line wider than the width, every date of the data whole, no ellipsis);
output to a pipe is $COLUMNS wide, else 80, and plain; the replay fits a screen."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ceasefire.engine import run
from ceasefire.outputs import day_rows
from ceasefire.outputs._replay import replay
from ceasefire.scenario import load_scenario
from ceasefire.terminal import Terminal
from test_monitor_support import RECORD, cli, init_cli

from conftest import NOV2023, ROOT

DEC2023 = ROOT / "scenarios" / "gaza-2023-12-proposal.yaml"
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _cli(width: int | None, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    environ.update(env)
    if width is not None:
        environ["COLUMNS"] = str(width)
    return subprocess.run(
        [sys.executable, "-m", "ceasefire", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=environ,
        stdin=subprocess.DEVNULL,
    )


def _assert_fits(out: str, width: int, dates: set[str]) -> None:
    lines = out.splitlines()
    widest = max(len(line) for line in lines)
    assert widest <= width, max(lines, key=len)
    assert "…" not in out
    shown = set(DATE.findall(out))
    assert dates <= shown, sorted(dates - shown)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("ledger") / "l.sqlite")
    init_cli(db)
    assert cli("monitor", "import", "--db", db, str(RECORD)).returncode == 0
    return db


def _record_dates() -> set[str]:
    with open(RECORD, encoding="utf-8", newline="") as handle:
        return {row["date"] for row in csv.DictReader(handle)}


@pytest.mark.parametrize("width", [80, 100])
def test_monitor_compliance_fits(ledger: str, width: int) -> None:
    result = _cli(width, "monitor", "compliance", "--db", ledger, str(NOV2023))
    assert result.returncode == 0, result.stderr
    days = {f"2023-11-{d}" for d in range(24, 31)} | {"2023-12-01"}
    _assert_fits(result.stdout, width, days)
    assert "agreement\n" not in result.stdout  # the header is a column's, not a cut
    assert "agreement day 1 is 2023-11-24" in " ".join(result.stdout.split())


@pytest.mark.parametrize("width", [80, 100])
def test_monitor_list_fits(ledger: str, width: int) -> None:
    result = _cli(width, "monitor", "list", "--db", ledger)
    assert result.returncode == 0, result.stderr
    _assert_fits(result.stdout, width, _record_dates())
    full = _cli(width, "monitor", "list", "--db", ledger, "--all")
    assert full.returncode == 0, full.stderr
    _assert_fits(full.stdout, width, _record_dates())


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("path", [NOV2023, DEC2023], ids=["nov", "dec"])
def test_run_fits(path: Path, width: int) -> None:
    episode = run(load_scenario(path), seed=0)
    result = _cli(width, "run", str(path))
    assert result.returncode == 0, result.stderr
    _assert_fits(result.stdout, width, {r.date for r in episode.ledger})
    assert "run day 1 is" in " ".join(result.stdout.split())


@pytest.mark.parametrize("width", [80, 100])
def test_run_talks_are_shown_whole(width: int) -> None:
    """The December talks column is wrapped, not cropped: every word of the talks is shown."""
    episode = run(load_scenario(DEC2023), seed=0)
    ends = {word for row in day_rows(episode) for talk in row.talks for word in talk.split()}
    assert ends
    # Through a terminal of that width (Rich crops what is wider than a terminal).
    result = _cli(width, "run", str(DEC2023), TTY_COMPATIBLE="1")
    assert result.returncode == 0, result.stderr
    words = set(re.sub(r"\x1b\[[0-9;]*m", "", result.stdout).replace("│", " ").split())
    assert ends <= words, sorted(ends - words)


@pytest.mark.parametrize("width", [80, 100])
def test_ensemble_fits(width: int) -> None:
    result = _cli(width, "ensemble", str(NOV2023), "-n", "20", "--quiet")
    assert result.returncode == 0, result.stderr
    _assert_fits(result.stdout, width, set())


def test_piped_output_is_80_columns_and_plain_without_columns() -> None:
    # FORCE_COLOR asks Rich for colours even on a pipe: a pipe gets none from us.
    result = _cli(None, "run", str(NOV2023), FORCE_COLOR="1", TTY_COMPATIBLE="1")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    wide = _cli(150, "run", str(NOV2023))
    assert max(len(line) for line in wide.stdout.splitlines()) > 100


def test_replay_fits_a_100_by_50_screen() -> None:
    scenario = load_scenario(NOV2023)
    episode = run(scenario, seed=0)
    buffer = io.StringIO()
    console = Terminal(file=buffer, width=100, height=50)
    names = {p.id: p.name for p in scenario.parties}
    replay(episode, console, None, names=names, height=50)
    out = buffer.getvalue()
    _assert_fits(out, 100, {e.date for e in episode.transcript})
    panels = re.findall(r"^╭.*?^╰[^\n]*$", out, flags=re.M | re.S)
    assert panels
    assert max(p.count("\n") + 1 for p in panels) <= 49  # a line left for the prompt
    # The text column is wide: each entry's first words stand on one line.
    flat = out.replace("│", " ")
    for e in episode.transcript:
        words = e.text.split()
        head = words[0]
        for word in words[1:]:
            if len(head) + 1 + len(word) > 30:
                break
            head += " " + word
        assert re.search(r"\s+".join(map(re.escape, head.split())), flat), head


def test_replay_splits_a_day_taller_than_the_screen() -> None:
    scenario = load_scenario(NOV2023)
    episode = run(scenario, seed=0)
    buffer = io.StringIO()
    console = Terminal(file=buffer, width=80, height=14)
    prompts: list[str] = []

    def enter(prompt: str) -> str:
        prompts.append(prompt)
        return ""

    names = {p.id: p.name for p in scenario.parties}
    shown = replay(episode, console, enter, names=names, height=14)
    out = buffer.getvalue()
    assert shown == len({e.day for e in episode.transcript})
    assert "part 1 of" in out and "part 2 of" in out
    panels = re.findall(r"^╭.*?^╰[^\n]*$", out, flags=re.M | re.S)
    assert max(p.count("\n") + 1 for p in panels) <= 13
    assert len(prompts) == len(panels) - 1
    assert {e.kind for e in episode.transcript} <= set(re.findall(r"[a-z_]+", out))
