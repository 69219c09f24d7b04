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
from ceasefire.scenario import Scenario

DATA = Path(__file__).resolve().parent / "data"
FIXTURE = DATA / "negmas_reference.json"
DOMAIN = DATA / "negmas_domain.yaml"
SIDES = {"a": "side_a", "b": "side_b"}

_REFERENCE: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = _REFERENCE["cases"]


@cache
def _domain() -> str:
    return DOMAIN.read_text(encoding="utf-8")


def scenario_for(case: dict[str, Any]) -> Scenario:
    """The bench domain scenario with this case's issues, values, reservations and deadlines."""
    data: dict[str, Any] = YAML(typ="safe").load(_domain())
    start: date = data["negotiation"]["start"]
    n_steps: int = case["n_steps"]
    # Day k of the talks is round k; the first side to reach its deadline times out on
    # day n_steps, which must still be inside the calendar.
    data["calendar"] = {"start": start, "horizon": start + timedelta(days=n_steps)}
    data["negotiation"]["first_mover"] = SIDES[case["first_mover"]]
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
    assert header["negmas_version"] == "0.16.0"
    assert header["cases"] == len(CASES) >= 60
    agreed = sum(c["negmas"]["agreement"] is not None for c in CASES)
    assert header["agreed"] == agreed
    assert 0 < agreed < len(CASES)  # both endings are covered
    assert not any(c["negmas"]["exact_ties"] for c in CASES)  # tie order plays no part


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


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c["negmas"]["agreement"] is not None],
    ids=[c["id"] for c in CASES if c["negmas"]["agreement"] is not None],
)
def test_same_side_makes_the_accepted_offer(
    case: dict[str, Any], episodes: dict[str, Episode]
) -> None:
    accepts = [e for e in _episode(case, episodes).transcript if e.kind == "accept"]
    assert len(accepts) == 1
    acceptor, proposer = accepts[0].actors
    assert proposer == SIDES[case["negmas"]["proposer"]]
    assert acceptor != proposer
