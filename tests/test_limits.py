"""Every number a scenario can set is bounded (``scenario._base``): what `check` accepts
runs in bounded time and memory, and no count overflows the engine's integers. Each case
here was once accepted by `check` and then crashed, hung or overflowed in `run` or
`ensemble`; now it is refused with exit 2, its field named, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ceasefire.scenario import ScenarioError, load_scenario

from conftest import NOV2023, ROOT

NOV = NOV2023.read_text(encoding="utf-8")
DEC = (ROOT / "scenarios" / "gaza-2023-12-proposal.yaml").read_text(encoding="utf-8")


def changed(text: str, old: str, new: str) -> str:
    """``text`` with the first ``old`` made ``new``."""
    assert old in text, old
    return text.replace(old, new, 1)


def problems(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    path = tmp_path / "limits.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [(p.field or "", p.message) for p in info.value.problems]


CASES = {
    # overflowed the ensemble's int64 (7 days in `run`, a breach on day 1 in `ensemble`)
    "holding at 2**63-1": (NOV, "    count: 80\n", "    count: 9223372036854775807\n"),
    "ratio of 1e18": (
        NOV,
        "      women_children: 3\n",
        "      women_children: 1000000000000000000\n",
    ),
    "a count of 10**30": (NOV, "    count: 80\n", f"    count: {10**30}\n"),
    # crashed or hung `run`
    "cure_attempts 1e9": (
        NOV,
        "  initial_days: 4\n",
        "  initial_days: 4\n  cure_attempts: 1000000000\n",
    ),
    "initial_days 1e9": (NOV, "  initial_days: 4\n", "  initial_days: 1000000000\n"),
    "relay delay 1e18": (
        NOV,
        "    relay_delay_days: 0\n",
        "    relay_delay_days: 1000000000000000000\n",
    ),
    "start_after_days 1e18": (
        DEC,
        "    start_after_days: 1\n",
        "    start_after_days: 1000000000000000000\n",
    ),
    "horizon 9999-12-31": (NOV, "  horizon: 2023-12-07", "  horizon: 9999-12-31"),
    # NaN and infinity were written into transcript.jsonl and summary.json
    "pause_day NaN": (NOV, "      pause_day: -15\n", "      pause_day: .nan\n"),
    "pause_day infinity": (NOV, "      pause_day: -15\n", "      pause_day: .inf\n"),
    "pause_day 1e300": (NOV, "      pause_day: -15\n", "      pause_day: 1e300\n"),
}


def test_bounds_hold_for_the_bundled_scenarios() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        assert load_scenario(path).name


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_of_bounds_numbers_are_refused(tmp_path: Path, name: str) -> None:
    base, old, new = CASES[name]
    found = problems(tmp_path, changed(base, old, new))
    assert found, name
    assert all(message for _, message in found)


def test_the_refusal_names_the_field_and_the_bound(tmp_path: Path) -> None:
    text = changed(NOV, "    count: 80\n", "    count: 9223372036854775807\n")
    (field, message), *_ = problems(tmp_path, text)
    assert field == "holdings[0].count"
    assert "10000000" in message.replace(",", "")


def test_nan_is_refused_by_name(tmp_path: Path) -> None:
    text = changed(NOV, "      pause_day: -15\n", "      pause_day: .nan\n")
    (field, message), *_ = problems(tmp_path, text)
    assert field.endswith("pause_day")
    assert "finite" in message


def test_too_many_outcomes_says_how_many(tmp_path: Path) -> None:
    """Two issues of 10,000 values (10**8 outcomes) were a MemoryError in `run`."""
    text = changed(DEC, "      min: 3\n      max: 14\n", "      min: 1\n      max: 3000\n")
    text = changed(text, "      min: 3\n      max: 10\n", "      min: 1\n      max: 10000\n")
    found = problems(tmp_path, text)
    assert any("outcomes" in message and "100,000" in message for _, message in found)


def test_a_poisson_holding_prior_without_max_is_within_bounds() -> None:
    from ceasefire.scenario import Poisson

    big = Poisson(kind="poisson", mean=1_000_000)
    assert big.support()[1] < 10_000_000
    assert big.support()[1] == big.top()


def test_many_categories_are_refused_at_once(tmp_path: Path) -> None:
    """20,000 categories under the 2 MiB limit took 27 s to check and 37 s to run."""
    categories = "".join(f"  - {{id: c{i}, name: C{i}}}\n" for i in range(20_000))
    text = changed(NOV, "categories:\n", "categories:\n" + categories)
    path = tmp_path / "wide.yaml"
    path.write_text(text, encoding="utf-8")
    assert "categories" in refused_by_cli("check", str(path))


@pytest.mark.parametrize("name", ["holding at 2**63-1", "pause_day NaN", "horizon 9999-12-31"])
def test_cli_run_refuses_without_traceback(tmp_path: Path, name: str) -> None:
    base, old, new = CASES[name]
    path = tmp_path / "bad.yaml"
    path.write_text(changed(base, old, new), encoding="utf-8")
    refused_by_cli("run", str(path), "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def refused_by_cli(*args: str) -> str:
    """The CLI's message for ``args``, which it must refuse (exit 2, no traceback); the
    timeout bounds how long a refusal may take."""
    done = subprocess.run(
        [sys.executable, "-m", "ceasefire", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr
