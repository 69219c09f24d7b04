"""The ensemble engine in negotiation mode agrees with single runs, run for run.

Episode i of ``run_ensemble(scenario, n, seed)`` must be ``run_draw(scenario, seed, i)``
for scenarios with talks: the same agreements (date, round, via, terms, values), the
same rounds of talks, the same pauses that carry the agreements out (days, extensions,
releases by party and category), the same ending (reason, party, date).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from ceasefire.engine import Summary
from ceasefire.ensemble import NegotiationEnsembleResult, run_draw, run_ensemble
from ceasefire.scenario import Scenario, load_scenario

from conftest import ROOT

DECEMBER = ROOT / "scenarios" / "gaza-2023-12-proposal.yaml"
BENCH = ROOT / "tests" / "data" / "negmas_domain.yaml"

FIELDS = (
    "agreement_reached",
    "agreement_date",
    "talk_rounds",
    "pause_days",
    "extensions",
    "released",
    "side_channel_released",
    "side_channel_by_category",
    "end_reason",
    "ended_by",
    "end_date",
    "pause_start",
    "pause_end",
    "fighting_days",
    "delays",
)


def ensemble(scenario: Scenario, n: int, seed: int, batch_size: int = 50_000) -> Any:
    result = run_ensemble(scenario, n, seed=seed, batch_size=batch_size)
    assert isinstance(result, NegotiationEnsembleResult)
    assert len(result) == n
    return result


def differences(
    scenario: Scenario, n: int, seed: int, batch_size: int = 50_000
) -> tuple[list[str], NegotiationEnsembleResult]:
    """Every field in which an ensemble episode differs from the single run's."""
    result = ensemble(scenario, n, seed, batch_size)
    out: list[str] = []
    for i in range(n):
        ref: Summary = run_draw(scenario, seed, i).summary
        got = result.episode(i)
        for name in FIELDS:
            if getattr(ref, name) != got[name]:
                out.append(f"episode {i}: {name} {getattr(ref, name)!r} != {got[name]!r}")
        deals = [
            {k: d[k] for k in ("date", "round", "via", "terms", "values")} for d in ref.agreements
        ]
        if deals != got["agreements"]:
            out.append(f"episode {i}: agreements {deals!r} != {got['agreements']!r}")
        if len(ref.breaches) != got["breach_count"]:
            out.append(f"episode {i}: breaches {ref.breaches!r} != {got['breach_count']}")
    return out, result


def changed(s: Scenario, edit: Callable[[dict[str, Any]], None]) -> Scenario:
    """The scenario with its data edited, validated like a file."""
    data = s.model_dump()
    edit(data)
    return Scenario.model_validate(data)


def uniform_reservations(data: dict[str, Any], low: float = 0.15, high: float = 0.55) -> None:
    """Reserved values drawn from U(low, high), as ``shared/peers/numpy_bound.py`` does."""
    data["priors"] = [
        {
            "target": "reservation",
            "party": party,
            "distribution": {"kind": "uniform", "low": low, "high": high},
            "assumption": "the reserved values of the NumPy lock-step bound",
        }
        for party in ("side_a", "side_b")
    ]


@pytest.fixture(scope="module")
def december() -> Scenario:
    return load_scenario(DECEMBER)


@pytest.fixture(scope="module")
def bench() -> Scenario:
    return changed(load_scenario(BENCH), uniform_reservations)


# -- the bundled December scenario ----------------------------------------------------------


def test_december_matches_the_reference_engine_run_for_run(december: Scenario) -> None:
    assert december.priors
    found, result = differences(december, 1000, seed=2023)
    assert found == []
    # The draws move the outcome: agreements on many terms, on many days, pauses of
    # many lengths, and every kind of ending the scenario can reach.
    assert result.agreed.mean() > 0.5
    assert len(set(result.agreement_outcome[:, 0].tolist())) > 20
    assert len(set(result.first_agreement_day.tolist())) > 5
    assert len(set(result.pause_days.tolist())) > 5
    reasons = Counter(result.end_reasons.tolist())
    assert reasons["talks_ongoing"] and reasons["talks_no_outcomes"]


def test_talks_only_domain_matches_the_reference_engine(bench: Scenario) -> None:
    found, result = differences(bench, 300, seed=11)
    assert found == []
    reasons = Counter(result.end_reasons.tolist())
    assert reasons["agreed"] > 200 and reasons["talks_deadline"] > 0
    # The point values of the file give NegMAS's own result: (13, 14, 2) in round 92.
    point = ensemble(load_scenario(BENCH), 3, seed=0)
    assert point.episode(2)["agreements"][0]["round"] == 92
    assert point.terms(int(point.agreement_outcome[0, 0])) == {
        "pause_days": 13,
        "hostages_released_per_day": 14,
        "prisoners_per_hostage": 2,
    }


# -- every negotiation-mode feature ---------------------------------------------------------


def _breakdowns(d: dict[str, Any]) -> None:  # the episode streams, in talks and pauses
    d["negotiation"]["parties"]["israel"]["breakdown_probability"] = 0.02
    d["negotiation"]["parties"]["hamas"]["breakdown_probability"] = 0.01


def _quick_restart(d: dict[str, Any]) -> None:  # talks reopen while hand-overs are verified
    d["negotiation"]["restart_after_days"] = 1
    d["negotiation"]["parties"]["israel"]["breakdown_probability"] = 0.01


def _direct(d: dict[str, Any]) -> None:  # no mediator: one-day rounds, the first mediator executes
    d["negotiation"]["mediator"] = None
    d["negotiation"]["parties"]["israel"]["deadline_days"] = 25
    d["negotiation"]["parties"]["hamas"]["curve"] = {"kind": "conceder"}
    d["negotiation"]["restart_after_days"] = 2


def _texts(d: dict[str, Any]) -> None:  # the mediator's compromise texts, some accepted
    d["mediators"][0]["stall_limit_rounds"] = 2
    d["negotiation"]["parties"]["hamas"]["curve"] = {"kind": "linear"}
    d["negotiation"]["parties"]["israel"]["curve"] = {"kind": "conceder"}


def _events(d: dict[str, Any]) -> None:  # tables that change during the talks
    def event(**fields: Any) -> dict[str, Any]:
        return {**fields, "assumption": "a test event"}

    d["events"] += [
        event(kind="holdings", date="2023-12-24", holder="hamas", category="men",
              custody="hamas", change=-30),
        event(kind="pressure", date="2023-12-27", party="hamas", change=30),
        event(kind="value", date="2024-01-05", party="israel", term="receive",
              category="men", change=5),
        event(kind="custody", date="2024-01-10", group="other_groups", reachable=True),
        event(kind="value", date="2024-01-12", party="hamas", term="pause_day", change=3),
        event(kind="holdings", date="2024-01-30", holder="israel",
              category="prisoners_long_sentences", custody="israel", change=-280),
        event(kind="delay", date="2024-02-20"),
    ]  # fmt: skip


def _in_order(d: dict[str, Any]) -> None:  # other template rules; no second talks
    t = d["negotiation"]["template"]
    t["exchange_split"] = "in_order"
    t["start_after_days"] = 2
    t["extension"] = None
    d["negotiation"]["restart_after_days"] = None


def _never_starts(d: dict[str, Any]) -> None:  # the start date has passed when agreed
    d["negotiation"]["template"]["start_after_days"] = 0


def _emptied(d: dict[str, Any]) -> None:  # nothing left to agree on
    for category, change in (("men", -75), ("elderly_men", -55)):
        d["events"].append(
            {"kind": "holdings", "date": "2024-01-02", "holder": "hamas",
             "category": category, "custody": "hamas", "change": change, "assumption": "x"}
        )  # fmt: skip


def _weights_and_values(d: dict[str, Any]) -> None:  # priors on issue weights and values
    d["negotiation"]["parties"]["israel"]["issues"] = {
        "pause_days": {"weight": 2.0, "slope": -1.0, "bias": 14},
        "first_category": {"weight": 1.0, "table": {"men": 3.0}},
    }
    d["priors"] += [
        {"target": "issue_weight", "party": "israel", "issue": "pause_days",
         "distribution": {"kind": "uniform", "low": 0, "high": 5}, "assumption": "x"},
        {"target": "value", "party": "hamas", "term": "give", "category": "men",
         "distribution": {"kind": "uniform", "low": 1, "high": 5}, "assumption": "x"},
        {"target": "value", "party": "israel", "term": "fighting_day",
         "distribution": {"kind": "uniform", "low": -10, "high": 10}, "assumption": "x"},
    ]  # fmt: skip


def _side_channels(d: dict[str, Any]) -> None:  # releases outside the deal change the tables
    d["side_channels"] = [
        {"id": "fighting", "name": "F", "releaser": "hamas", "recipient": "x",
         "requires_pause": False, "assumption": "x",
         "releases": [{"date": "2023-12-28", "category": "men", "count": 5},
                      {"date": "2024-02-10", "category": "elderly_men", "count": 3}]},
        {"id": "pause", "name": "P", "releaser": "hamas", "recipient": "x",
         "requires_pause": True, "assumption": "x",
         "releases": [{"date": f"2024-02-{k:02d}", "category": "men", "count": 1}
                      for k in range(1, 20)]},
    ]  # fmt: skip


def _high_reservations(d: dict[str, Any]) -> None:  # reservations above every outcome
    for prior in d["priors"]:
        if prior["target"] == "reservation":
            prior["distribution"] = {"kind": "uniform", "low": -50, "high": 2500}


DECEMBER_VARIANTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "breakdowns": _breakdowns,
    "quick restart": _quick_restart,
    "direct talks": _direct,
    "mediator texts": _texts,
    "events during talks": _events,
    "in order, no extension": _in_order,
    "pause never starts": _never_starts,
    "emptied tables": _emptied,
    "weights and values": _weights_and_values,
    "side channels": _side_channels,
    "high reservations": _high_reservations,
}


@pytest.mark.parametrize("name", DECEMBER_VARIANTS)
def test_every_december_feature_matches_the_reference_engine(december: Scenario, name: str) -> None:
    s = changed(december, DECEMBER_VARIANTS[name])
    found, _ = differences(s, 60, seed=1, batch_size=23)
    assert found == []


def _shared_tables(d: dict[str, Any]) -> None:  # few holdings: tables kept and taken back
    for prior in d["priors"]:
        if prior["target"] == "holding":
            prior["distribution"] = {"kind": "categorical", "values": [20, 45]}
    d["priors"].append(
        {"target": "issue_weight", "party": "israel", "issue": "pause_days",
         "distribution": {"kind": "categorical", "values": [0.0, 2.0]}, "assumption": "x"}
    )  # fmt: skip
    d["negotiation"]["parties"]["israel"]["issues"] = {
        "pause_days": {"weight": 2.0, "slope": -1.0, "bias": 14}
    }


def test_episodes_that_share_a_table_match_the_reference_engine(december: Scenario) -> None:
    # Two holdings draws of two values each and two weights: eight tables for 400
    # episodes, with the pressure drawn for each. The kernel takes the episodes in the
    # order of those draws, 64 runs of about 6 in one batch, so that an episode often
    # takes back the table the one before it began with and adds its own days' term.
    s = changed(december, _shared_tables)
    found, result = differences(s, 400, seed=5)
    assert found == []
    assert len(set(result.agreement_outcome[:, 0].tolist())) > 5


def _mediated(d: dict[str, Any]) -> None:  # relay delays drawn: sessions out of step
    d["mediators"] = [
        {
            "id": "m",
            "name": "M",
            "channels": [["side_a", "side_b"]],
            "relay_delay_days": 1,
            "stall_limit_rounds": 3,
            "assumption": "x",
        }
    ]
    d["negotiation"]["mediator"] = "m"
    d["negotiation"]["parties"]["side_a"]["breakdown_probability"] = 0.005
    d["negotiation"]["parties"]["side_a"]["deadline_days"] = 40
    d["negotiation"]["parties"]["side_b"]["curve"] = {"kind": "conceder"}
    d["negotiation"]["restart_after_days"] = 3
    d["priors"].append(
        {"target": "relay_delay_days", "mediator": "m",
         "distribution": {"kind": "discrete_uniform", "low": 0, "high": 3}, "assumption": "x"}
    )  # fmt: skip


def _pressure(d: dict[str, Any]) -> None:  # pressure moves the values during the talks
    d["negotiation"]["parties"]["side_a"]["pressure"] = 0.001
    d["negotiation"]["parties"]["side_b"]["curve"] = {"kind": "conceder"}
    d["negotiation"]["restart_after_days"] = 5
    d["events"] = [
        {"kind": "pressure", "date": "2024-02-01", "party": "side_a", "change": 0.01,
         "assumption": "x"}
    ]  # fmt: skip
    d["priors"].append(
        {"target": "pressure", "party": "side_b",
         "distribution": {"kind": "uniform", "low": 0, "high": 0.01}, "assumption": "x"}
    )  # fmt: skip


def _ties(d: dict[str, Any]) -> None:  # many outcomes of exactly equal value
    for party, weights in (("side_a", (0.25, 0.25, 0.5)), ("side_b", (0.5, 0.25, 0.25))):
        issues = d["negotiation"]["parties"][party]["issues"]
        for f, w in zip(issues.values(), weights, strict=True):
            f["weight"] = w
    uniform_reservations(d, 0.0, 1.3)  # some above every outcome


def _ties_by_class(d: dict[str, Any]) -> None:  # the same, with tables per class
    _ties(d)
    d["priors"].append(
        {"target": "issue_weight", "party": "side_b", "issue": "pause_days",
         "distribution": {"kind": "categorical", "values": [0.25, 0.5, 0.75]},
         "assumption": "x"}
    )  # fmt: skip


def _negmas_ties(d: dict[str, Any]) -> None:  # the same ties, broken in NegMAS's order
    _ties(d)
    d["negotiation"]["tie_break"] = "negmas"
    # Its order is fixed from the file's numbers (no prior may draw them); breakdowns
    # and a dated change of pressure make the episodes differ.
    d["priors"] = []
    for party in ("side_a", "side_b"):
        d["negotiation"]["parties"][party]["breakdown_probability"] = 0.01
    d["negotiation"]["restart_after_days"] = 2
    d["events"] = [
        {"kind": "pressure", "date": "2024-01-20", "party": "side_b", "change": 0.002,
         "assumption": "x"}
    ]  # fmt: skip


TALKS_VARIANTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "mediated": _mediated,
    "pressure": _pressure,
    "ties": _ties,
    "ties by class": _ties_by_class,
    "negmas ties": _negmas_ties,
}


@pytest.mark.parametrize("name", TALKS_VARIANTS)
def test_every_talks_feature_matches_the_reference_engine(bench: Scenario, name: str) -> None:
    s = changed(bench, TALKS_VARIANTS[name])
    found, _ = differences(s, 100, seed=4, batch_size=41)
    assert found == []


def test_the_variants_reach_the_paths_they_are_for(december: Scenario, bench: Scenario) -> None:
    """Large ensembles of the variants (no reference runs): each path is taken."""

    def run(base: Scenario, edit: Callable[[dict[str, Any]], None]) -> Any:
        return ensemble(changed(base, edit), 1000, seed=1)

    reasons = Counter(run(december, _breakdowns).end_reasons.tolist())
    assert reasons["talks_breakdown"] > 0 and reasons["horizon"] > 0
    texts = run(december, _texts)
    assert (texts.agreement_via == 1).any()  # a compromise text both sides accepted
    assert (texts.agreements > 1).any()  # talks again after a pause, and a second deal
    assert Counter(run(december, _never_starts).end_reasons.tolist())["not_started"] > 0
    assert Counter(run(december, _in_order).end_reasons.tolist())["terms_completed"] > 0
    mediated = run(bench, _mediated)
    assert Counter(mediated.end_reasons.tolist())["talks_breakdown"] > 0
    assert mediated.agreed.any()


def test_an_agreement_in_force_and_talks_match_the_single_runs(december: Scenario) -> None:
    """An agreement in force while talks go on (once run by a slower path): the same
    kernel, the same episodes."""

    def with_agreement(d: dict[str, Any]) -> None:
        d["agreement"] = {
            "mediator": "qatar",
            "start": "2023-12-05",
            "initial_days": 3,
            "batches": {"releaser": "hamas", "categories": ["elderly_men"], "total": 6},
            "exchange": {
                "releaser": "israel",
                "categories": ["prisoners_women"],
                "ratios": {"elderly_men": 3},
            },
            "refusal_probability": {"hamas": 0.1},
        }

    s = changed(december, with_agreement)
    found, result = differences(s, 40, seed=5)
    assert found == []
    assert result.released.sum() > 0


# -- determinism and batches ----------------------------------------------------------------


ARRAYS = (
    "priors",
    "pause_days",
    "fighting_days",
    "extensions",
    "released",
    "end_reason",
    "end_day",
    "ended_by",
    "pause_start_day",
    "pause_end_day",
    "agreement_day",
    "agreement_round",
    "agreement_outcome",
    "agreement_via",
    "agreement_values",
    "talk_rounds",
)


def same(a: Any, b: Any) -> bool:
    return all(
        getattr(a, k).shape == getattr(b, k).shape
        and np.array_equal(getattr(a, k), getattr(b, k), equal_nan=k == "agreement_values")
        for k in ARRAYS
    )


def test_same_seed_same_arrays_and_the_batch_size_changes_nothing(
    december: Scenario, bench: Scenario
) -> None:
    for s in (december, bench):
        first = ensemble(s, 300, seed=42)
        assert same(first, ensemble(s, 300, seed=42))
        assert same(first, ensemble(s, 300, seed=42, batch_size=37))
        other = ensemble(s, 300, seed=43)
        assert not np.array_equal(first.priors, other.priors)


def test_an_ensemble_is_a_prefix_of_a_larger_one(december: Scenario) -> None:
    small, large = ensemble(december, 50, seed=5), ensemble(december, 200, seed=5)
    for name in ARRAYS:
        a, b = getattr(small, name), getattr(large, name)
        width = a.shape[1] if a.ndim > 1 else None
        cut = b[:50] if width is None else b[:50, :width]
        assert np.array_equal(a, cut, equal_nan=name == "agreement_values"), name
        if width is not None:  # columns past the small one's width are padding there
            assert (b[:50, width:] == -1).all() or np.isnan(b[:50, width:]).all()


def test_empty_ensemble(december: Scenario) -> None:
    result = ensemble(december, 0, seed=1)
    assert result.agreement_day.shape[0] == 0 and result.talk_rounds.shape == (0,)
