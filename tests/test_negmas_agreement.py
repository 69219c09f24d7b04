"""The engine's talks reach NegMAS's agreement, in NegMAS's round, on the bench domain.

tests/data/negmas_reference.json holds NegMAS 0.16's results (SAOMechanism, both sides
BoulwareTBNegotiator, A first) on random variants of the three-issue domain of
shared/peers/negmas_bench.py: reserved values, deadlines, the pause's range and both
sides' weights vary. bench/negmas/make_fixture.py made it; NegMAS is not needed here.

Each case becomes a scenario (tests/data/negmas_domain.yaml with the case's numbers):
direct talks, no relay delay (one round a day), deadline_days = n_steps for both sides,
the value functions' slopes and biases exactly as given to NegMAS. The engine must agree
on the same terms in the same 0-based round k (NegMAS's state.step - 1), or, where NegMAS
timed out, end the talks at the deadline without agreement.

tests/data/negmas_ties.json (``make_fixture.py --tie-prone``) holds cases whose weights are
multiples of 0.05, so that each side values many outcomes exactly equally: there the
engine runs with ``negotiation.tie_break: negmas`` and must still reach NegMAS's agreement,
round and utilities in every case; with the default rule (``other_side``) some differ.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ceasefire.engine import Episode, run
from ceasefire.scenario import Scenario, ScenarioError, loads_scenario

DATA = Path(__file__).resolve().parent / "data"
FIXTURE = DATA / "negmas_reference.json"
TIES = DATA / "negmas_ties.json"
DOMAIN = DATA / "negmas_domain.yaml"
SIDES = {"a": "side_a", "b": "side_b"}

_REFERENCE: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
_TIES: dict[str, Any] = json.loads(TIES.read_text(encoding="utf-8"))
TIE_CASES: list[dict[str, Any]] = _TIES["cases"]
CASES: list[dict[str, Any]] = _REFERENCE["cases"] + TIE_CASES
AGREED = [c for c in CASES if c["negmas"]["agreement"] is not None]


@cache
def _domain() -> str:
    return DOMAIN.read_text(encoding="utf-8")


def scenario_for(case: dict[str, Any], tie_break: str | None = None) -> Scenario:
    """The bench domain scenario with this case's issues, values, reservations and deadlines."""
    data: dict[str, Any] = YAML(typ="safe").load(_domain())
    start: date = data["negotiation"]["start"]
    n_steps: int = case["n_steps"]
    # Day k of the talks is round k; the first side to reach its deadline times out on
    # day n_steps, which must still be inside the calendar.
    data["calendar"] = {"start": start, "horizon": start + timedelta(days=n_steps)}
    data["negotiation"]["first_mover"] = SIDES[case["first_mover"]]
    data["negotiation"]["tie_break"] = tie_break or case.get("tie_break", "other_side")
    data["negotiation"]["issues"] = [
        {"id": i["id"], "kind": old["kind"], "min": i["min"], "max": i["max"]}
        for i, old in zip(case["issues"], data["negotiation"]["issues"], strict=True)
    ]
    for key, party in SIDES.items():
        assert case["negotiators"][key] == "BoulwareTBNegotiator"
        terms = data["negotiation"]["parties"][party]
        terms["reservation"] = case[f"reserved_{key}"]
        terms["deadline_days"] = n_steps
        terms["curve"] = {"kind": "boulware"}
        terms["issues"] = {
            issue["id"]: {"weight": w, "slope": f["slope"], "bias": f["bias"]}
            for issue, w, f in zip(
                case["issues"], case[f"weights_{key}"], case[f"value_functions_{key}"], strict=True
            )
        }
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def episodes() -> dict[str, Episode]:
    return {}


def _episode(case: dict[str, Any], cache_: dict[str, Episode]) -> Episode:
    if case["id"] not in cache_:
        cache_[case["id"]] = run(scenario_for(case))
    return cache_[case["id"]]


def test_fixture_header() -> None:
    header = _REFERENCE["header"]
    cases = _REFERENCE["cases"]
    assert header["negmas_version"] == "0.16.0"
    assert header["cases"] == len(cases) >= 60
    agreed = sum(c["negmas"]["agreement"] is not None for c in cases)
    assert header["agreed"] == agreed
    assert 0 < agreed < len(cases)  # both endings are covered
    assert not any(c["negmas"]["exact_ties"] for c in cases)  # tie order plays no part


def test_tie_fixture_header() -> None:
    header = _TIES["header"]
    assert header["negmas_version"] == "0.16.0"
    assert header["cases"] == len(TIE_CASES) >= 40
    agreed = sum(c["negmas"]["agreement"] is not None for c in TIE_CASES)
    assert header["agreed"] == agreed
    assert 0 < agreed < len(TIE_CASES)
    # Most cases have exact ties, so NegMAS's order among them can matter.
    tied = sum(c["negmas"]["exact_ties"] for c in TIE_CASES)
    assert header["exact_ties"] == tied >= 0.75 * len(TIE_CASES)
    assert all(c["tie_break"] == "negmas" for c in TIE_CASES)


def _outcome(episode: Episode) -> tuple[Any, ...]:
    s = episode.summary
    deal = s.agreements[0] if s.agreements else None
    return (deal and deal["terms"], deal and deal["round"], s.end_reason)


def test_the_tie_rule_matters_on_the_tie_prone_cases() -> None:
    """Without NegMAS's order, some tie-prone cases end otherwise (the fixture tests it)."""
    differ = [
        c["id"]
        for c in TIE_CASES
        if _outcome(run(scenario_for(c, "other_side"))) != _outcome(run(scenario_for(c)))
    ]
    assert differ


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_same_agreement_and_round_as_negmas(
    case: dict[str, Any], episodes: dict[str, Episode]
) -> None:
    summary = _episode(case, episodes).summary
    expected = case["negmas"]
    start = date.fromisoformat(summary.calendar_start)
    if expected["agreement"] is None:
        assert summary.agreements == []
        assert summary.end_reason == "talks_deadline"
        assert summary.end_date == (start + timedelta(days=case["n_steps"])).isoformat()
        assert summary.talk_rounds == case["n_steps"]
        return
    k = expected["round"]
    assert len(summary.agreements) == 1
    deal = summary.agreements[0]
    terms = dict(zip((i["id"] for i in case["issues"]), expected["agreement"], strict=True))
    assert (deal["terms"], deal["round"]) == (terms, k)
    assert deal["date"] == (start + timedelta(days=k)).isoformat()
    assert deal["via"] == "offer"
    assert summary.end_reason == "agreed"
    assert deal["values"]["side_a"] == pytest.approx(expected["utility_a"], abs=1e-6)
    assert deal["values"]["side_b"] == pytest.approx(expected["utility_b"], abs=1e-6)


@pytest.mark.parametrize("case", AGREED, ids=[c["id"] for c in AGREED])
def test_same_side_makes_the_accepted_offer(
    case: dict[str, Any], episodes: dict[str, Episode]
) -> None:
    accepts = [e for e in _episode(case, episodes).transcript if e.kind == "accept"]
    assert len(accepts) == 1
    acceptor, proposer = accepts[0].actors
    assert proposer == SIDES[case["negmas"]["proposer"]]
    assert acceptor != proposer


def test_negmas_ties_refuse_priors_that_would_reorder_them() -> None:
    """NegMAS's order is computed once from the file's numbers: a prior that draws a
    reservation, an issue weight, a pressure or a pause-day value is refused with it,
    and accepted with the default rule."""
    prior = (
        "\npriors:\n  - target: reservation\n    party: side_b\n"
        "    distribution: {kind: uniform, low: 0.1, high: 0.5}\n    assumption: x\n"
    )
    text = _domain().replace("  first_mover:", "  tie_break: negmas\n  first_mover:", 1)
    assert "tie_break: negmas" in text
    assert loads_scenario(text).negotiation is not None  # no prior: accepted
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text + prior)
    [problem] = info.value.problems
    assert "tie_break: negmas" in problem.message and "a prior on" in problem.message
    assert problem.line == len((text + prior).splitlines()) - 3  # the prior's target
    assert loads_scenario(_domain() + prior).priors  # the default rule takes it
