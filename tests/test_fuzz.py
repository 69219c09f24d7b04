"""Fuzzing scenario files through `check`, `run` and `ensemble` (hypothesis).

Each example takes one of the bundled scenarios (scenarios/*.yaml, tests/data/*.yaml),
changes one to three places (mostly one) in it (a number to an edge value, a field dropped or
duplicated, a date moved, a value of another type, a name swapped for another of the
file's names) and runs the command line on it, in this process (click's runner): every
command exits 0 or 2, never with a traceback; no JSON printed or written holds NaN or
Infinity; and a file `check` accepts runs, with draw I of seed S of `run` equal to episode I
of the ensemble (as tests/test_ensemble_agreement.py compares them). Each example has a
generous time limit (an alarm), so a hang fails instead of blocking.
"""

from __future__ import annotations

import copy
import io
import json
import signal
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from ceasefire.cli import main
from ceasefire.ensemble import run_ensemble
from ceasefire.scenario import load_scenario

from conftest import ROOT

SOURCES = sorted((ROOT / "scenarios").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "data").glob("*.yaml")
)
SECONDS = 120  # per example: generous (a few seconds at most in practice)

Path_ = tuple[str | int, ...]

# Edge values: about half within the scenario limits (so that `run` and `ensemble` get
# their share), the rest beyond them or of another type.
WHOLE: tuple[Any, ...] = (
    0,
    1,
    -1,
    2,
    3,
    100,
    3660,
    3661,
    10_000,
    10_000_000,
    10_000_001,
    2**63 - 1,
    2**63,
    10**30,
    1.0,
    2.5,
    True,
    "12",
    "\u0661\u0662",  # Arabic-Indic digits
    None,
)
REAL: tuple[Any, ...] = (
    0.0,
    -0.0,
    1.0,
    0.5,
    0.999999,
    1e-300,
    -1.0,
    1e12,
    1e13,
    2,
    float("nan"),
    float("inf"),
    float("-inf"),
    "NaN",
    "Infinity",
    "1e30",
)
NUMBERS = WHOLE + REAL
DATES: tuple[Any, ...] = (
    date(1, 1, 1),
    date(1899, 12, 31),
    date(1900, 1, 1),
    date(2199, 12, 31),
    date(2200, 1, 1),
    date(9999, 12, 31),
    "2023-02-30",
    "2023-11-24T10:00:00",
    20231124,
)
SHIFTS = (-4000, -30, -1, 1, 2, 30, 4000)
TEXTS: tuple[Any, ...] = (
    "",
    "x" * 5000,
    "[/]",
    ":flag_il:",
    "\x1b]0;title\x07",
    "a\u202eb",
    "NaN",
    "hamas",
    [],
    {},
)
KINDS = ("value",) * 6 + ("drop",) * 2 + ("duplicate", "type", "swap")


def _load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def _dump(data: Any) -> str:
    stream = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, stream)
    return stream.getvalue()


DOCUMENTS = [(path.name, _load(path)) for path in SOURCES]
DOCUMENTS = [(name, data) for name, data in DOCUMENTS if isinstance(data, dict)]


def _paths(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield (*prefix, key)
        if isinstance(value, dict | list):
            yield from _paths(value, (*prefix, key))


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) and len(node) <= 64 else []


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    """(source name, mutated YAML text, what was changed)."""
    name, original = draw(st.sampled_from(DOCUMENTS))
    data = copy.deepcopy(original)
    changes: list[str] = []
    for _ in range(draw(st.sampled_from((1, 1, 2, 3)))):
        kind = draw(st.sampled_from(KINDS))
        paths = [p for p in _paths(data) if p != ("version",)]  # tests/test_scenario_errors
        if kind in ("value", "type", "swap"):  # a number, date or text
            paths = [p for p in paths if not isinstance(_get(data, p), dict | list)]
        path = draw(st.sampled_from(paths))
        parent, key = _get(data, path[:-1]), path[-1]
        value = parent[key]
        if kind == "drop":
            del parent[key]
        elif kind == "duplicate":
            if isinstance(parent, list):
                parent.insert(int(key), copy.deepcopy(value))
            else:
                other = draw(st.sampled_from(sorted(parent)))
                parent[other] = copy.deepcopy(value)  # shared, YAML would write an alias
                kind = f"duplicate into {other}"
        elif kind == "swap" or (kind == "value" and isinstance(value, str)):
            # Another name of the file: a reference moved, a name given twice, ...
            parent[key] = draw(st.sampled_from(sorted(set(_strings(data))) or ["x"]))
        elif kind == "type":
            parent[key] = draw(st.sampled_from(TEXTS + NUMBERS[:4] + ([value],)))
        elif isinstance(value, bool):
            parent[key] = draw(st.sampled_from((not value, 0, 1, "yes", None)))
        elif isinstance(value, int):
            parent[key] = draw(st.sampled_from(WHOLE))
        elif isinstance(value, float):
            parent[key] = draw(st.sampled_from(REAL))
        elif isinstance(value, date):
            shift = draw(st.sampled_from((*SHIFTS, None)))
            if shift is None:
                parent[key] = draw(st.sampled_from(DATES))
            else:
                parent[key] = date.fromordinal(
                    min(max(value.toordinal() + shift, 1), date.max.toordinal())
                )
        else:
            parent[key] = draw(st.sampled_from(TEXTS + NUMBERS))
        now = parent[key] if kind != "drop" else "(dropped)"
        changes.append(f"{kind} at {'.'.join(map(str, path))}: {now!r:.60}")
    return name, _dump(data), changes


def _no_constants(name: str) -> Any:
    raise AssertionError(f"{name} in JSON")


def _strict_json(text: str) -> Any:
    return json.loads(text, parse_constant=_no_constants)


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def expired(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _cli(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        shown = "".join(traceback.format_exception(*result.exc_info))
        raise AssertionError(f"{args[0]} raised:\n{shown}")
    assert result.exit_code in (0, 2), (args, result.exit_code, result.output)
    assert "Traceback" not in result.output
    return result


SUMMARY = (
    "agreement_reached",
    "pause_start",
    "pause_end",
    "pause_days",
    "fighting_days",
    "extensions",
    "released",
    "side_channel_released",
    "side_channel_by_category",
    "delays",
    "end_reason",
    "ended_by",
    "end_date",
)


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(example=mutated(), seed=st.integers(0, 2**32), draw=st.integers(0, 7))
def test_mutated_scenarios_are_refused_or_run(
    example: tuple[str, str, list[str]], seed: int, draw: int
) -> None:
    name, text, changes = example
    with tempfile.TemporaryDirectory() as folder, _time_limit(SECONDS):
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        checked = _cli("check", str(path))
        event(f"check exit {checked.exit_code}")
        if checked.exit_code == 2:
            assert "scenario refused" in checked.output, changes
            for command in ("run", "ensemble"):
                assert _cli(command, str(path)).exit_code == 2, changes
            return
        out = Path(folder) / "out"
        ran = _cli("run", str(path), "--seed", str(seed), "--draw", str(draw), "--json")
        assert ran.exit_code == 0, (changes, ran.output)
        single = _strict_json(ran.output)
        _cli("run", str(path), "--seed", str(seed), "--out", str(out))
        for written in out.glob("*.json"):
            _strict_json(written.read_text(encoding="utf-8"))
        for written in out.glob("*.jsonl"):
            for line in written.read_text(encoding="utf-8").splitlines():
                _strict_json(line)
        n = draw + 1
        ensemble = _cli("ensemble", str(path), "-n", str(n), "--seed", str(seed), "--json")
        assert ensemble.exit_code == 0, (changes, ensemble.output)
        _strict_json(ensemble.output)
        episode = run_ensemble(load_scenario(path), n, seed=seed).episode(draw)
        for field in SUMMARY:
            assert single[field] == episode[field], (field, changes)
        assert len(single["breaches"]) == episode["breach_count"], changes
