"""Nowcasts on the November 2023 record: the priors conditioned, by rejection with exact
matching, on what the ledger showed on a date, through `ceasefire nowcast`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ceasefire.ensemble import run_ensemble
from ceasefire.monitor import Forecast, Store, ensemble_quantities
from ceasefire.scenario import Scenario
from test_monitor_support import RECORD, cli, init_cli

from conftest import NOV2023

N = 2000


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("ledger") / "ledger.sqlite")
    init_cli(db)
    result = cli("monitor", "import", "--db", db, str(RECORD))
    assert result.returncode == 0, result.stderr
    return db


def _nowcast(ledger: str, date: str, *args: str) -> dict[str, Any]:
    result = cli(
        "nowcast", "--db", ledger, str(NOV2023), "--as-of", date, "--ensemble", str(N),
        "--seed", "1", "--json", *args,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def mid_pause(ledger: str) -> dict[str, Any]:
    return _nowcast(ledger, "2023-11-30")


def test_the_members_kept_are_exactly_those_that_match(
    mid_pause: dict[str, Any], nov2023: Scenario
) -> None:
    made = Forecast.from_json(json.dumps(mid_pause))
    cond = mid_pause["conditioned"]
    assert made.method == "nowcast" and cond["drawn"] == N and cond["date"] == "2023-11-30"
    assert 0 < cond["kept"] < N and cond["ess"] == cond["kept"] == made.members
    # The second extension was on the record by 30 November: every member kept has it.
    assert cond["matched"]["extensions_at_least:2"] == 1
    # Every member of the ensemble that gives every matched value is kept, and no other.
    events, counts = ensemble_quantities(nov2023, run_ensemble(nov2023, N, 1))
    samples = {**events, **counts}
    match = np.ones(N, dtype=bool)
    for name, value in cond["matched"].items():
        match &= samples[name] == value
    assert int(match.sum()) == cond["kept"]
    for name, value in cond["matched"].items():
        if name in made.events:
            assert made.events[name] == (made.members if value else 0), name
        else:
            assert set(made.counts[name]) == {value}, name
    # What is still to come stays uncertain.
    assert 0 < made.events["pause_holds:2023-12-01"] < made.members


def test_before_the_pause_nothing_is_ruled_out(ledger: str) -> None:
    before = _nowcast(ledger, "2023-11-23")
    assert before["conditioned"]["kept"] == N
    assert all(k.startswith("agreement_by:") for k in before["conditioned"]["matched"])


def test_after_the_pause_the_totals_are_matched(ledger: str) -> None:
    after = _nowcast(ledger, "2023-12-02")
    matched = after["conditioned"]["matched"]
    assert matched["released_total:hamas"] == 80 and matched["pause_days"] == 7
    assert set(after["counts"]["released_total:israel"]) == {240}


def test_the_nowcast_scores_better_than_the_forecast_before_it(
    ledger: str, tmp_path: Path, mid_pause: dict[str, Any]
) -> None:
    nowcast = tmp_path / "nowcast.json"
    nowcast.write_text(json.dumps(mid_pause), encoding="utf-8")
    forecast = tmp_path / "forecast.json"
    made = cli(
        "monitor", "forecast", str(NOV2023), "--ensemble", str(N), "--seed", "1",
        "--out", str(forecast),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    crps = {}
    for path in (nowcast, forecast):
        scored = cli(
            "monitor", "score", "--db", ledger, str(NOV2023), "--forecast", str(path), "--json"
        )
        assert scored.returncode == 0, scored.stderr
        crps[path.name] = json.loads(scored.stdout)["crps_mean"]
    assert 0 < crps["nowcast.json"] < crps["forecast.json"]


def test_a_nowcast_is_printed_and_saved_in_the_ledger(ledger: str, tmp_path: Path) -> None:
    copy = tmp_path / "ledger.sqlite"
    copy.write_bytes(Path(ledger).read_bytes())
    result = cli(
        "nowcast", "--db", str(copy), str(NOV2023), "--as-of", "2023-11-28", "--ensemble",
        "500", "--save",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "effective sample size" in result.stdout and "still to come" in result.stdout
    with Store.open(copy) as store:
        saved = store.forecasts()[-1]
    assert (saved.method, saved.seed) == ("nowcast", 0)


def test_observations_the_priors_cannot_give_are_refused(ledger: str, tmp_path: Path) -> None:
    text = NOV2023.read_text(encoding="utf-8")
    narrow = "distribution: {kind: poisson, mean: 55, min: 50, max: 59}"
    assert "distribution: {kind: poisson, mean: 80, min: 50, max: 100}" in text
    scenario = tmp_path / "narrow.yaml"
    scenario.write_text(
        text.replace("distribution: {kind: poisson, mean: 80, min: 50, max: 100}", narrow),
        encoding="utf-8",
    )
    result = cli(
        "nowcast", "--db", ledger, str(scenario), "--as-of", "2023-12-01", "--ensemble", "300"
    )
    assert result.returncode == 2
    assert "incompatible with the priors" in result.stderr
    # A pool of at most 59 leaves room for one extension; the record shows two.
    assert "extensions was observed as 2, which 0 of 300 members give" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_date_is_refused(ledger: str) -> None:
    result = cli("nowcast", "--db", ledger, str(NOV2023), "--as-of", "2023-11-31")
    assert result.returncode == 2 and "--as-of" in result.stderr
    assert "Traceback" not in result.stderr
