"""`ceasefire run --replay`: the transcript day by day, waiting for Enter on a terminal,
all at once otherwise; a scripted input source stops it with q."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from ceasefire.engine import Episode, run
from ceasefire.outputs._replay import replay
from ceasefire.scenario import Scenario, load_scenario

from conftest import NOV2023

BENCH = Path(__file__).parent / "data" / "negmas_domain.yaml"
NAMES = {"side_a": "Side A", "side_b": "Side B"}


@pytest.fixture(scope="module")
def bench() -> Scenario:
    return load_scenario(BENCH)


@pytest.fixture(scope="module")
def episode(bench: Scenario) -> Episode:
    return run(bench, seed=0)


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=140, color_system=None, force_terminal=False), buffer


class Script:
    """An input source that gives its answers in turn and records the prompts."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise EOFError
        return self.answers.pop(0)


def _heading(day: int, date: str) -> str:
    return f"day {day}, {date}"


def test_cli_replay_without_a_terminal_prints_every_day(episode: Episode) -> None:
    env = {**os.environ, "COLUMNS": "160"}
    result = subprocess.run(
        [sys.executable, "-m", "ceasefire", "run", str(BENCH), "--replay"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    talks = [e for e in episode.transcript if e.kind in ("offer", "counter", "agreement")]
    assert talks
    for e in talks:
        assert _heading(e.day, e.date) in out
    # In order, and every offer's seq number is shown.
    days = sorted({e.day for e in talks})
    positions = [out.index(_heading(d, next(e.date for e in talks if e.day == d))) for d in days]
    assert positions == sorted(positions)
    assert "Side A aspiration" in out
    # The days after the agreement up to the horizon have no entries: one line.
    assert "88 quiet days (2024-04-03 to 2024-06-29, fighting)" in out
    assert "Enter: next day" not in out  # no prompt without a terminal
    assert "summary" in out and "agreed" in out


def test_scripted_input_stops_after_two_days(episode: Episode) -> None:
    console, buffer = _console()
    script = Script("", "q")
    shown = replay(episode, console, script, names=NAMES)
    out = buffer.getvalue()
    assert shown == 2
    assert len(script.prompts) == 2
    assert _heading(1, "2024-01-01") in out and _heading(2, "2024-01-02") in out
    assert _heading(3, "2024-01-03") not in out
    assert "replay stopped after 2 of" in out


def test_enter_goes_on_to_the_end(episode: Episode) -> None:
    console, buffer = _console()
    busy = sorted({e.day for e in episode.transcript})
    script = Script(*[""] * len(busy))
    shown = replay(episode, console, script, names=NAMES)
    assert shown == len(busy)
    assert len(script.prompts) == len(busy) - 1  # no prompt after the last day
    assert "episode ends" in buffer.getvalue()


def test_end_of_input_stops(episode: Episode) -> None:
    console, buffer = _console()
    assert replay(episode, console, Script(), names=NAMES) == 1
    assert "replay stopped after 1 of" in buffer.getvalue()


def test_execution_days_show_releases_and_mode() -> None:
    scenario = load_scenario(NOV2023)
    episode = run(scenario, seed=0)
    console, buffer = _console()
    names = {p.id: p.name for p in scenario.parties}
    shown = replay(episode, console, None, names=names)
    out = buffer.getvalue()
    assert shown == len({e.day for e in episode.transcript})
    assert "(pause)" in out and "release_batch" in out and "extension_offer" in out
    for e in episode.transcript:
        if e.kind in ("release_batch", "extension", "pause_end"):
            assert _heading(e.day, e.date) in out


def test_json_and_replay_are_refused_together() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ceasefire", "run", str(BENCH), "--replay", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "cannot be combined" in result.stderr
