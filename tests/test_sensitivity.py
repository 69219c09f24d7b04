"""`ceasefire sensitivity`: Sobol' indices of priors and clauses, and a tornado chart."""

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

from ceasefire.ensemble import SensitivityError, run_draw, sobol_analysis
from ceasefire.ensemble._draws import prior_uniforms
from ceasefire.ensemble._sensitivity import _evaluate, make_clauses, with_clauses
from ceasefire.scenario import Scenario, load_scenario
from test_ensemble_cli import assert_offline_html

from conftest import NOV2023, ROOT
from helpers import revalidated, with_agreement

DECEMBER = ROOT / "scenarios" / "gaza-2023-12-proposal.yaml"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "ceasefire", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def indices(data: dict[str, Any], output: str) -> dict[str, dict[str, Any]]:
    return {r["input"]: r for r in data["outputs"][output]["indices"]}


@pytest.fixture(scope="module")
def analysis(nov2023: Scenario) -> dict[str, Any]:
    return sobol_analysis(nov2023, n=128, seed=3)


def test_what_matters_on_the_november_scenario(analysis: dict[str, Any]) -> None:
    pool = "holding_hamas_women_children_hamas"
    ratio = "exchange.ratios.women_children"
    step = "extension.per_step"
    names = [i["name"] for i in analysis["inputs"]]
    assert names == [
        pool,
        "delay_probability",
        "initial_days",
        ratio,
        step,
        "extension.per_extension_limit_days",
        "extension.max_total_days",
        "dummy",
    ]
    assert analysis["evaluations"] == 128 * (len(names) + 2)
    assert analysis["engine"] == "compiled"
    pause = indices(analysis, "pause_days")
    # Inputs that the outputs never read: indices exactly 0 (the dummy, and the delay
    # probability, which records delays but moves no pause day and no release).
    for irrelevant in ("dummy", "delay_probability"):
        for key in ("first_order", "total_order"):
            assert pause[irrelevant][key] == 0.0
    for relevant in (pool, ratio, step):
        assert pause[relevant]["total_order"] > 0.1, relevant
        assert pause[relevant]["total_low"] > pause["dummy"]["total_high"], relevant
    # The ratio drives the counter-releases.
    prisoners = indices(analysis, "released_israel")
    assert max(prisoners, key=lambda k: prisoners[k]["total_order"]) == ratio
    assert prisoners[ratio]["first_order"] > 0.5
    hostages = indices(analysis, "released_hamas")
    assert hostages[pool]["total_order"] > 0.1
    # Sorted by total index, largest first.
    totals = [r["total_order"] for r in analysis["outputs"]["pause_days"]["indices"]]
    assert totals == sorted(totals, reverse=True)
    for r in analysis["outputs"]["pause_days"]["indices"]:
        assert r["first_low"] <= r["first_high"] and r["total_low"] <= r["total_high"]


def test_deterministic_per_seed(nov2023: Scenario, analysis: dict[str, Any]) -> None:
    again = sobol_analysis(nov2023, n=128, seed=3)
    assert json.dumps(again) == json.dumps(analysis)
    other = sobol_analysis(nov2023, n=128, seed=4)
    assert json.dumps(other) != json.dumps(analysis)


def test_the_design_runs_the_same_model_as_a_single_run(nov2023: Scenario) -> None:
    """The compiled evaluation of design points (priors given as uniforms, clauses set,
    episode streams chosen) equals single runs on the same scenario and stream;
    with refusals, so that the in-episode draws matter."""
    scenario = with_agreement(
        nov2023, refusal_probability={"hamas": 0.1, "israel": 0.1}, cure_attempts=1
    )
    clauses = make_clauses(scenario, None)
    rng = np.random.default_rng(0)
    rows = 40
    u_priors = rng.random((rows, len(scenario.priors)))
    u_clauses = rng.random((rows, len(clauses)))
    u_clauses[: rows // 2] = u_clauses[0]  # half the rows share a clause setting
    episodes = rng.integers(0, 50, rows).astype(np.uint64)
    fast = _evaluate(scenario, clauses, u_priors, u_clauses, episodes, seed=5)
    slow = _evaluate(scenario, clauses, u_priors, u_clauses, episodes, seed=5, reference=True)
    assert np.array_equal(fast, slow)
    # With episode i's own prior uniforms and stream, and the file's clauses, a design
    # point is draw i of the ensemble.
    draws = np.arange(12, dtype=np.uint64)
    own = np.array([prior_uniforms(scenario, 5, int(i)) for i in draws])
    point = _evaluate(scenario, [], own, np.zeros((12, 0)), draws, seed=5)
    for i in range(12):
        summary = run_draw(scenario, 5, i).summary
        assert point[0, i] == summary.pause_days
        assert point[1, i] == sum(summary.released["israel"].values())
        assert point[2, i] == sum(summary.released["hamas"].values())


def test_with_clauses_matches_a_validated_copy(nov2023: Scenario) -> None:
    settings = {
        "initial_days": 3,
        "exchange.ratios.women_children": 2,
        "extension.per_step": 12,
        "extension.max_total_days": 9,
        "batches.total": 45,
    }
    changed = with_clauses(nov2023, settings)
    assert changed == revalidated(changed)
    a = changed.agreement
    assert a is not None and a.extension is not None
    assert (
        a.initial_days,
        a.exchange.ratios["women_children"],
        a.extension.per_step,
        a.extension.max_total_days,
        a.batches.total,
    ) == (3, 2, 12, 9, 45)
    assert nov2023.agreement is not None and nov2023.agreement.initial_days == 4


def test_ranges_and_names(nov2023: Scenario) -> None:
    default = {c.name: (c.low, c.high) for c in make_clauses(nov2023, None)}
    assert default == {
        "initial_days": (2, 6),
        "exchange.ratios.women_children": (1, 5),
        "extension.per_step": (5, 15),
        "extension.per_extension_limit_days": (1, 3),
        "extension.max_total_days": (5, 15),
    }
    given = make_clauses(nov2023, {"agreement.extension.per_step": (8, 12)})
    assert [(c.name, c.low, c.high) for c in given] == [("extension.per_step", 8, 12)]
    with pytest.raises(SensitivityError, match=r"unknown clause 'extension\.per_stp'"):
        make_clauses(nov2023, {"extension.per_stp": None})
    with pytest.raises(SensitivityError, match="LOW <= HIGH"):
        make_clauses(nov2023, {"extension.per_step": (0, 3)})
    with pytest.raises(SensitivityError, match="power of 2"):
        sobol_analysis(nov2023, n=100)


def test_cli_tables_json_and_tornado_report(tmp_path: Path) -> None:
    out = tmp_path / "sens"
    result = cli(
        "sensitivity",
        str(NOV2023),
        "-n",
        "32",
        "--seed",
        "1",
        "--out",
        str(out),
        "--json",
        "--clause",
        "exchange.ratios.women_children=1:5",
        "--clause",
        "extension.per_step",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert json.loads((out / "summary.json").read_text(encoding="utf-8")) == data
    assert [i["name"] for i in data["inputs"]] == [
        "holding_hamas_women_children_hamas",
        "delay_probability",
        "exchange.ratios.women_children",
        "extension.per_step",
        "dummy",
    ]
    assert set(data["outputs"]) == {"pause_days", "released_israel", "released_hamas"}
    report = (out / "report.html").read_text(encoding="utf-8")
    assert_offline_html(report)
    assert report.count('class="bar total"') == 3 * 5  # a tornado per output
    assert "Tornado chart" in report

    printed = cli("sensitivity", str(NOV2023), "-n", "16", "--no-clauses", "--no-dummy")
    assert printed.returncode == 0, printed.stderr
    for part in (
        "Sobol indices: pause days",
        "first",  # the header "first order" is on two lines, to fit 80 columns
        "order",
        "total",
        "95% interval",
        "holding_hamas_women_children_hamas",
        "model runs",
    ):
        assert part in printed.stdout, part
    assert "dummy" not in printed.stdout


def test_cli_bad_input_exits_2(tmp_path: Path) -> None:
    for args, message in (
        (("-n", "48"), "power of 2"),
        (("--clause", "extension.per_stp"), "unknown clause"),
        (("--clause", "extension.per_step=9"), "NAME=LOW:HIGH"),
        (("--clause", "extension.per_step=9:3"), "LOW <= HIGH"),
        (("--clause", "initial_days", "--no-clauses"), "cannot be combined"),
    ):
        result = cli("sensitivity", str(NOV2023), *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr, args


def test_a_scenario_with_talks_runs_on_the_compiled_engine() -> None:
    december = load_scenario(DECEMBER)
    data = sobol_analysis(december, n=4, seed=0, n_resamples=50)
    assert data["engine"] == "compiled"
    assert [i["kind"] for i in data["inputs"]] == ["prior"] * len(december.priors) + ["dummy"]
    dummy = indices(data, "pause_days")["dummy"]
    assert dummy["first_order"] == 0.0 and dummy["total_order"] == 0.0


def test_the_dummy_is_chance_within_episodes_and_each_index_has_its_noise(
    nov2023: Scenario, analysis: dict[str, Any]
) -> None:
    """The dummy input is the in-episode random stream: 0 where no draw inside an episode
    moves the output (the file's November terms), above 0 with refusals that do. Each
    index carries its bootstrap standard error, non-zero where the index varies."""
    for out in analysis["outputs"].values():
        assert out["noise_floor"] == 0.0
        for r in out["indices"]:
            assert r["first_se"] >= 0.0 and r["total_se"] >= 0.0
    pause = indices(analysis, "pause_days")
    assert pause["initial_days"]["total_se"] > 0.0
    assert pause["initial_days"]["first_se"] > 0.0
    risky = with_agreement(
        nov2023, refusal_probability={"hamas": 0.1, "israel": 0.1}, cure_attempts=1
    )
    data = sobol_analysis(risky, n=64, seed=3, n_resamples=200)
    for key in ("pause_days", "released_hamas"):
        dummy = indices(data, key)["dummy"]
        assert dummy["total_order"] > 0.05, key
        assert dummy["total_low"] > 0.0 and dummy["total_se"] > 0.0, key
        assert data["outputs"][key]["noise_floor"] == dummy["total_high"]
    # Without the dummy, the in-episode draws are shared by A and B: no index sees them.
    bare = sobol_analysis(risky, n=64, seed=3, n_resamples=200, dummy=False)
    assert "dummy" not in indices(bare, "pause_days")
    assert bare["outputs"]["pause_days"]["noise_floor"] is None
    assert json.dumps(sobol_analysis(risky, n=64, seed=3, n_resamples=200)) == json.dumps(data)


def test_the_report_shows_each_index_noise_and_an_interactive_tornado(
    nov2023: Scenario,
) -> None:
    from ceasefire.outputs._analysis_report import render_sensitivity_report
    from test_charts import specs

    risky = with_agreement(nov2023, refusal_probability={"hamas": 0.1, "israel": 0.1})
    data = sobol_analysis(risky, n=32, seed=2, n_resamples=100)
    page = render_sensitivity_report(risky, data)
    assert len(re.findall(r"<th[^>]*>± s\.e\.</th>", page)) == 2 * len(data["outputs"])
    assert "the in-episode random stream" in page and "cannot be told apart" in page
    found = specs(page)
    assert set(found) == {f"tornado-{k}" for k in data["outputs"]}
    for key, out in data["outputs"].items():
        rows = found[f"tornado-{key}"]["data"]["values"]
        order = [r["input"] for r in out["indices"]]
        assert list(dict.fromkeys(r["row"] for r in rows)) == order
        dummy = [r for r in rows if r["row"] == "dummy" and r["series"] == "Total index"]
        assert dummy[0]["se"] == round(indices(data, key)["dummy"]["total_se"], 6)
