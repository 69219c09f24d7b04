"""`ceasefire compare A B`: two designs on the same draws, paired differences."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ceasefire.ensemble import ComparisonError, compare, run_ensemble
from ceasefire.scenario import Scenario, load_scenario
from test_ensemble_cli import assert_offline_html

from conftest import NOV2023, ROOT
from helpers import with_agreement

ALL_AT_ONCE = ROOT / "tests" / "data" / "nov2023-all-at-once.yaml"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "ceasefire", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def metrics(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["metric"]: m for m in data["metrics"]}


@pytest.fixture()
def ratio_one(tmp_path: Path) -> Path:
    """The November file with 1 prisoner per hostage instead of 3 (text edit of a copy)."""
    text = NOV2023.read_text(encoding="utf-8")
    assert text.count("      women_children: 3\n") == 1
    path = tmp_path / "ratio-1.yaml"
    path.write_text(
        text.replace("      women_children: 3\n", "      women_children: 1\n"), encoding="utf-8"
    )
    return path


def test_ratio_one_shortens_the_pause(tmp_path: Path, ratio_one: Path) -> None:
    out = tmp_path / "cmp"
    result = cli(
        "compare",
        str(NOV2023),
        str(ratio_one),
        "-n",
        "4000",
        "--seed",
        "3",
        "--out",
        str(out),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert json.loads((out / "summary.json").read_text(encoding="utf-8")) == data
    assert data["n"] == 4000 and data["seed"] == 3
    m = metrics(data)
    # At one prisoner per hostage the holder declines every extension: 4 days, not ~6.5.
    pause = m["pause_days"]
    assert pause["b_mean"] < pause["a_mean"]
    assert pause["low"] < pause["difference"] < pause["high"] < 0
    assert m["released_israel"]["high"] < 0
    assert m["end_extension_declined"]["low"] > 0.9
    assert m["end_no_eligible_batch"]["high"] < -0.9
    assert_offline_html((out / "report.html").read_text(encoding="utf-8"))

    printed = cli("compare", str(NOV2023), str(ratio_one), "-n", "500")
    assert printed.returncode == 0, printed.stderr
    for part in (
        "pause days",
        "mean A",
        "mean B",
        "B - A",
        "95% interval",
        "P(ends: extension_declined)",
    ):
        assert part in printed.stdout, part


def test_a_design_against_itself_differs_by_exactly_zero() -> None:
    result = cli("compare", str(NOV2023), str(NOV2023), "-n", "3000", "--json")
    assert result.returncode == 0, result.stderr
    for m in json.loads(result.stdout)["metrics"]:
        assert m["a_mean"] == m["b_mean"], m
        assert m["difference"] == 0.0 and m["low"] == 0.0 and m["high"] == 0.0, m
        assert m["sd"] == 0.0


def test_phased_against_all_at_once(tmp_path: Path) -> None:
    """Daily batches against all 50 on the first day: the comparison runs on the same
    draws. With a pool of at least 50 always in reach and no refusals, the design does
    not change the outcome here, and the paired differences are exactly 0."""
    assert load_scenario(ALL_AT_ONCE).agreement.batches.daily == [50, 0, 0, 0]  # type: ignore[union-attr]
    out = tmp_path / "phased"
    result = cli(
        "compare", str(NOV2023), str(ALL_AT_ONCE), "-n", "2000", "--out", str(out), "--json"
    )
    assert result.returncode == 0, result.stderr
    m = metrics(json.loads(result.stdout))
    assert {
        "pause_days",
        "released_hamas",
        "released_israel",
        "agreement",
        "breach",
        "end_no_eligible_batch",
    } <= set(m)
    assert m["pause_days"]["difference"] == 0.0
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "summary.json"]


def test_common_random_numbers_pair_each_episode(nov2023: Scenario) -> None:
    """Each side of the comparison is the ensemble of its own file (same seed), so the
    means are those of run_ensemble; the batch size changes nothing."""
    b = with_agreement(nov2023, extension={"per_step": 15})
    small = compare(nov2023, b, 1500, seed=8, batch_size=7)
    large = compare(nov2023, b, 1500, seed=8, batch_size=1000)
    assert small == large
    ens_a, ens_b = run_ensemble(nov2023, 1500, seed=8), run_ensemble(b, 1500, seed=8)
    m = metrics(small)
    assert m["pause_days"]["a_mean"] == float(np.mean(ens_a.pause_days))
    assert m["pause_days"]["b_mean"] == float(np.mean(ens_b.pause_days))
    d = ens_b.pause_days.astype(np.int64) - ens_a.pause_days
    assert m["pause_days"]["difference"] == pytest.approx(float(np.mean(d)), abs=1e-12)
    assert m["pause_days"]["sd"] == pytest.approx(float(np.std(d, ddof=1)), rel=1e-9)
    # Same draws: the priors of episode i are identical in A and B.
    assert np.array_equal(ens_a.priors, ens_b.priors)


def test_files_with_different_priors_are_refused(tmp_path: Path, nov2023: Scenario) -> None:
    text = NOV2023.read_text(encoding="utf-8")
    cut = text.index("  - target: delay_probability")
    fewer = tmp_path / "one-prior.yaml"
    fewer.write_text(text[:cut], encoding="utf-8")
    result = cli("compare", str(NOV2023), str(fewer), "-n", "100")
    assert result.returncode == 2
    assert "same prior targets" in result.stderr and "Traceback" not in result.stderr
    with pytest.raises(ComparisonError, match="matched by position"):
        compare(nov2023, load_scenario(fewer), 10)


def test_report_names_what_differs_and_keeps_units_apart(tmp_path: Path) -> None:
    """Two designs of one scenario (same name): the title and a table name the changed
    field, with its value in each; days and people are on separate charts."""
    from ceasefire.outputs._analysis_report import render_compare_report

    a = load_scenario(NOV2023)
    assert a.agreement is not None
    ratios = dict(a.agreement.exchange.ratios)
    changed = next(iter(ratios))
    b = with_agreement(a, exchange={"ratios": {**ratios, changed: ratios[changed] + 1}})
    data = compare(a, b, 64, seed=1)
    paths = [d["path"] for d in data["differences"]]
    assert paths == [f"agreement.exchange.ratios.{changed}"]
    assert [data["differences"][0][k] for k in ("a", "b")] == [
        json.dumps(ratios[changed]),
        json.dumps(ratios[changed] + 1),
    ]
    page = render_compare_report(a, b, data)
    assert f"they differ in agreement.exchange.ratios.{changed}</h1>" in page
    assert '<section id="what-differs">' in page
    titles = re.findall(r'<svg class="chart"[^>]*><title>([^<]*)</title>', page)
    assert "Difference B - A in pause days" in " ".join(titles)
    assert "in people released" in " ".join(titles)
    assert_offline_html(page)
    assert compare(a, a, 8, seed=1)["differences"] == []
