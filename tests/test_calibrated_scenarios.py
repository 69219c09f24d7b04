"""The calibrated scenarios: the revised December 2023 scenario (its priors the posterior
of "no agreement by 2024-02-29" under the original's) and the January 2025 scenario's
priors (its point values, and so its single run, unchanged); each loads, its priors are
what the ensembles draw, and `ceasefire backtest` runs on it against its record."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from ceasefire import load_scenario, run
from ceasefire.ensemble import run_ensemble
from ceasefire.scenario import RelayDelayPrior
from test_monitor_support import cli

from conftest import ROOT
from helpers import revalidated

DEC2023 = ROOT / "scenarios" / "gaza-2023-12-proposal.yaml"
REVISED = ROOT / "scenarios" / "gaza-2023-12-proposal-revised.yaml"
AFTER = ROOT / "examples" / "dec2023-after" / "dec2023-after.csv"
JAN2025 = ROOT / "scenarios" / "gaza-2025-01-phase1.yaml"
JAN_RECORD = ROOT / "examples" / "jan2025" / "jan2025-ceasefire-phase1.csv"
CALIBRATED_ON = dt.date(2024, 2, 29)  # the date the revised priors were calibrated on


def test_the_revised_scenario_is_the_original_but_for_its_priors_and_calendar() -> None:
    original, revised = load_scenario(DEC2023), load_scenario(REVISED)
    assert original.calendar.horizon == CALIBRATED_ON
    assert revised.calendar.start == original.calendar.start
    assert revised.calendar.horizon > dt.date(2025, 1, 15)  # reaches the rest of the record
    skip = {"name", "calendar", "priors"}
    assert revised.model_dump(exclude=skip) == original.model_dump(exclude=skip)
    assert [p.key() for p in revised.priors] == [p.key() for p in original.priors]
    assert all(p.assumption for p in revised.priors)


def test_the_revised_scenario_writes_in_no_date_of_the_record() -> None:
    text = REVISED.read_text(encoding="utf-8")
    record_dates = {line.split(",", 1)[0] for line in AFTER.read_text().splitlines()[1:]}
    assert record_dates and not [d for d in record_dates if d in text]


def test_the_revised_priors_are_the_posterior_of_no_agreement_by_the_date() -> None:
    # The original's ensemble (10,000 episodes, seed 0) conditioned on no agreement by
    # 2024-02-29; the revised file states its relay weights as the kept members' counts
    # and its other revised priors as their means, which its own ensemble draws.
    original, revised = load_scenario(DEC2023), load_scenario(REVISED)
    before = run_ensemble(original, 10_000, 0)
    agreed = before.agreement_days()
    by = (CALIBRATED_ON - before.calendar_start).days
    keep = ~((agreed >= 0) & (agreed <= by))
    names = list(before.prior_names)
    relay = before.priors[keep, names.index("relay_delay_days_qatar")]
    (prior,) = [p for p in revised.priors if isinstance(p, RelayDelayPrior)]
    dist = prior.distribution
    counts = [int((relay == v).sum()) for v in dist.values]  # type: ignore[union-attr]
    assert counts == list(dist.weights)  # type: ignore[union-attr]
    after = run_ensemble(revised, 10_000, 0)
    for name in ("pressure_israel", "pressure_hamas", "reservation_israel"):
        j = names.index(name)
        posterior = before.priors[keep, j]
        drawn = after.priors[:, j]
        assert drawn.mean() == pytest.approx(posterior.mean(), abs=0.1 * posterior.std())
        assert drawn.std() == pytest.approx(posterior.std(), rel=0.1)
    # Calibrated: the revised ensemble gives the record's "no agreement by the date" a
    # higher probability than the original did.
    later = after.agreement_days()
    assert ((later < 0) | (later > by)).mean() > keep.mean() + 0.1


def test_the_backtest_runs_on_the_revised_scenario_over_the_whole_record() -> None:
    result = cli("backtest", str(REVISED), str(AFTER), "--ensemble", "300", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    rows = data["rows"]
    scenario = load_scenario(REVISED)
    assert rows[0]["date"] == "2023-12-01"
    assert rows[-1]["date"] == scenario.calendar.horizon.isoformat()
    assert data["agreed_on"] == "2025-01-15"
    assert next(r["date"] for r in rows if r["observed"]) == "2025-01-15"
    agreed = run_ensemble(scenario, 300, 0).agreement_days()
    day = (dt.date(2025, 1, 15) - scenario.calendar.start).days
    assert data["kept"] == int((agreed == day).sum())  # members that agree on that day
    assert data["held_out"] == 0 and data["prior_brier_held_out"] is None  # none held out
    for k, r in enumerate(rows):
        p = float(((agreed >= 0) & (agreed <= k)).mean())
        assert r["prior_p"] == pytest.approx(p)
        assert r["prior_brier"] == pytest.approx((p - r["observed"]) ** 2)


def test_the_january_priors_leave_the_single_run_as_it_was() -> None:
    scenario = load_scenario(JAN2025)
    assert {p.key()[0] for p in scenario.priors} == {"delay_probability", "refusal_probability"}
    assert all(p.assumption for p in scenario.priors)
    without = revalidated(scenario.model_copy(update={"priors": []}))
    one, other = run(scenario, seed=0), run(without, seed=0)
    assert one.ledger == other.ledger
    assert one.transcript == other.transcript
    assert one.summary.scenario_hash != other.summary.scenario_hash  # the priors are content
    assert one.summary == dataclasses.replace(
        other.summary, scenario_hash=one.summary.scenario_hash
    )


def test_the_january_priors_are_drawn_and_the_backtest_matches_the_february_shortfall() -> None:
    scenario = load_scenario(JAN2025)
    result = run_ensemble(scenario, 200, 0)
    names = list(result.prior_names)
    assert len(names) == 3
    refusal = result.priors[:, names.index("refusal_probability_israel")]
    assert refusal.min() > 0 and refusal.max() < 1 and len(np.unique(refusal)) == 200
    breach = result.breach
    assert 0 < breach.sum() < 200  # the priors give some members a breach, not all
    made = cli("backtest", str(JAN2025), str(JAN_RECORD), "--ensemble", "200", "--json")
    assert made.returncode == 0, made.stderr
    days = {d["date"]: d for d in json.loads(made.stdout)["days"]}
    # Before 22 February the record settles nothing the members differ on; on that day it
    # shows a counter-release short of its due, which the members with a breach give.
    assert days["2025-02-21"]["kept"] == 200
    assert days["2025-02-22"]["kept"] == int(breach.sum())
    assert days["2025-02-21"]["brier"]["prior"] == pytest.approx((1 - breach.mean()) ** 2)


def test_until_conditions_on_the_record_to_a_date_and_holds_out_the_rest() -> None:
    until = CALIBRATED_ON.isoformat()
    result = cli(
        "backtest", str(REVISED), str(AFTER), "--ensemble", "300", "--until", until, "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    rows = data["rows"]
    scenario = load_scenario(REVISED)
    assert rows[-1]["date"] == scenario.calendar.horizon.isoformat()  # scored to the end
    assert data["conditioned_until"] == until
    agreed = run_ensemble(scenario, 300, 0).agreement_days()
    by = (CALIBRATED_ON - scenario.calendar.start).days
    keep = (agreed < 0) | (agreed > by)  # the record: no agreement up to the date
    assert data["kept"] == int(keep.sum()) > 0
    after = [(k, r) for k, r in enumerate(rows) if r["date"] > until]
    assert data["held_out"] == len(after) == (scenario.calendar.horizon - CALIBRATED_ON).days
    for k, r in after:
        q = float(((agreed[keep] >= 0) & (agreed[keep] <= k)).mean())
        assert r["posterior_p"] == pytest.approx(q)
    assert data["prior_brier_held_out"] == pytest.approx(
        float(np.mean([r["prior_brier"] for _, r in after]))
    )
    assert data["posterior_brier_held_out"] == pytest.approx(
        float(np.mean([r["posterior_brier"] for _, r in after]))
    )
    assert "--until DATE" in cli("backtest", "-h").stdout


@pytest.mark.parametrize(
    ("scenario", "until", "message"),
    [
        (REVISED, "2023-11-30", "outside the scenario's calendar"),
        (REVISED, "29/02/2024", "is not a date"),
        (JAN2025, "2025-02-01", "only for a scenario with a negotiation"),
    ],
)
def test_a_wrong_until_is_refused_with_a_message(scenario: Path, until: str, message: str) -> None:
    record = JAN_RECORD if scenario == JAN2025 else AFTER
    bad = cli("backtest", str(scenario), str(record), "--ensemble", "10", "--until", until)
    assert bad.returncode == 2
    assert message in bad.stderr and "Traceback" not in bad.stderr
