"""The analytics as data: ``negotiation_analytics`` by NegMAS's definitions equals NegMAS
0.16.0's ``calc_scenario_stats`` on the reference domains, by ours equals the engine's
analytics, and both reach ``run --json``.

tests/data/negmas_analytics.json holds NegMAS's values on the domains of
tests/data/negmas_reference.json (and variants with other reserved values);
bench/negmas/make_analytics_fixture.py made it. NegMAS is not needed here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from ceasefire.engine import bargaining_analytics, run
from ceasefire.outputs import (
    NegotiationAnalytics,
    OutcomePoint,
    negotiation_analytics,
    strict_json_dumps,
)
from ceasefire.scenario import load_scenario
from test_negmas_agreement import scenario_for

from conftest import NOV2023
from helpers import strict_loads

DATA = Path(__file__).resolve().parent / "data"
_FIXTURE: dict[str, Any] = json.loads((DATA / "negmas_analytics.json").read_text("utf-8"))
CASES: list[dict[str, Any]] = _FIXTURE["cases"]
BENCH = DATA / "negmas_domain.yaml"
DECEMBER = Path(__file__).resolve().parents[1] / "scenarios" / "gaza-2023-12-proposal.yaml"
POINTS = ("frontier", "nash", "kalai", "kalai_smorodinsky", "max_welfare")
ULP = 1e-12  # values summed issue by issue: NegMAS's sum may differ in the last bits


def _welfare_order(points: list[tuple[int, float]]) -> list[int]:
    """Outcomes by welfare, highest first; welfares within 1e-9 count as equal (then by
    outcome): the values' last bits, and NegMAS's sort among equals, may differ."""
    return [o for o, _ in sorted(points, key=lambda p: (-round(p[1], 9), p[0]))]


def _same_points(
    ours: tuple[OutcomePoint, ...], theirs: list[dict[str, Any]], by_welfare: bool = False
) -> None:
    if by_welfare:
        # ours: by welfare, ties by table order; NegMAS's: the same up to near ties
        mine = [(p.outcome, sum(p.utilities.values())) for p in ours]
        assert [o for o, _ in mine] == [o for o, _ in sorted(mine, key=lambda p: (-p[1], p[0]))]
        other = [(p["outcome"], sum(p["utilities"])) for p in theirs]
        assert _welfare_order(mine) == _welfare_order(other)
        by_outcome = {p["outcome"]: p for p in theirs}
        theirs = [by_outcome[p.outcome] for p in ours]
    assert [p.outcome for p in ours] == [p["outcome"] for p in theirs]
    for p, q in zip(ours, theirs, strict=True):
        assert list(p.terms.values()) == q["terms"]
        assert list(p.utilities.values()) == pytest.approx(q["utilities"], abs=ULP, rel=0)


def test_fixture_header_and_coverage() -> None:
    assert _FIXTURE["header"]["negmas_version"] == "0.16.0"
    assert _FIXTURE["header"]["cases"] == len(CASES) >= 72
    # the variants reach the edges: no rational outcome, and reserved values below all
    assert any(c["negmas"]["opposition"] == "inf" and not c["negmas"]["frontier"] for c in CASES)
    assert any(c["reserved_a"] < c["negmas"]["ranges"][0][0] for c in CASES)
    assert any(len(c["negmas"]["frontier"]) > 50 for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_negmas_definitions_equal_negmas(case: dict[str, Any]) -> None:
    scenario = scenario_for(case | {"n_steps": 10, "first_mover": "a"} | _negotiators())
    got = negotiation_analytics(scenario, definitions="negmas")
    expected = case["negmas"]
    assert got.outcome_count == expected["n_outcomes"]
    ranges = [x for p in got.parties for x in got.ranges[p] or ()]
    assert ranges == pytest.approx([x for r in expected["ranges"] for x in r], abs=ULP, rel=0)
    for name in POINTS:
        _same_points(getattr(got, name), expected[name], by_welfare=name == "frontier")
    if expected["opposition"] == "inf":
        assert got.opposition == math.inf
    else:
        assert got.opposition == pytest.approx(expected["opposition"], abs=ULP, rel=0)


def _negotiators() -> dict[str, Any]:
    return {"negotiators": {"a": "BoulwareTBNegotiator", "b": "BoulwareTBNegotiator"}}


def test_our_definitions_are_the_engines() -> None:
    scenario = load_scenario(DECEMBER)
    engine = bargaining_analytics(scenario)
    ours = negotiation_analytics(scenario)
    assert ours.definitions == "ours"
    assert [p.terms for p in ours.frontier] == [p.terms for p in engine.frontier]
    assert [p.utilities for p in ours.frontier] == [p.values for p in engine.frontier]
    for name in ("nash", "kalai_smorodinsky", "max_welfare"):
        point = getattr(engine, name)
        assert [p.terms for p in getattr(ours, name)] == ([] if point is None else [point.terms])
    assert ours.opposition == engine.opposition
    assert ours.reservation == ours.disagreement == engine.reservation


def test_the_definitions_differ_where_documented() -> None:
    """NegMAS's frontier leaves out the outcomes below a reservation value (ours keeps
    them), and orders by welfare; its opposition divides by the maximum."""
    scenario = load_scenario(BENCH)
    ours = negotiation_analytics(scenario)
    theirs = negotiation_analytics(scenario, definitions="negmas")
    r = ours.reservation
    below = [p for p in ours.frontier if any(p.utilities[s] < r[s] for s in ours.parties)]
    assert below, "the bench domain has frontier outcomes below a reservation value"
    assert {p.outcome for p in theirs.frontier} == {p.outcome for p in ours.frontier} - {
        p.outcome for p in below
    }
    welfare = [sum(p.utilities.values()) for p in theirs.frontier]
    assert welfare == sorted(welfare, reverse=True)
    assert ours.opposition != theirs.opposition


def test_agreements_and_satisfaction_at_full_precision() -> None:
    scenario = load_scenario(BENCH)
    episode = run(scenario, seed=0)
    (deal,) = episode.summary.agreements
    for definitions in ("ours", "negmas"):
        got = negotiation_analytics(scenario, episode, definitions=definitions)
        (share,) = got.agreements
        assert (share.point.terms, share.round, share.date) == (
            deal["terms"],
            deal["round"],
            deal["date"],
        )
        for p, value in share.point.utilities.items():
            assert round(value, 6) == deal["values"][p]
            hi = (got.ranges[p] or (0.0, 0.0))[1]
            d = got.disagreement[p]
            assert share.satisfaction[p] == (value - d) / (hi - d)
    # ours: the engine's satisfaction (reservation to best), as the summary shows it
    ours = negotiation_analytics(scenario, episode).agreements[0]
    assert {p: round(v, 6) for p, v in ours.satisfaction.items()} == deal["satisfaction"]


def test_to_dict_is_strict_json_with_infinity_as_a_string() -> None:
    case = next(c for c in CASES if c["negmas"]["opposition"] == "inf")
    scenario = scenario_for(case | {"n_steps": 10, "first_mover": "a"} | _negotiators())
    got = negotiation_analytics(scenario, definitions="negmas")
    data = strict_loads(strict_json_dumps(got.to_dict()))
    assert data["opposition"] == "inf"
    assert data["frontier"] == data["nash"] == []
    assert data["definitions"] == "negmas"


def test_unknown_definitions_and_no_talks_are_refused() -> None:
    with pytest.raises(ValueError, match="ours, negmas"):
        negotiation_analytics(load_scenario(BENCH), definitions="genius")
    with pytest.raises(ValueError, match="no negotiation"):
        negotiation_analytics(load_scenario(NOV2023))


def test_record_type_is_exported() -> None:
    import ceasefire

    got = ceasefire.negotiation_analytics(load_scenario(BENCH))
    assert isinstance(got, NegotiationAnalytics)


@pytest.mark.parametrize("definitions", ["ours", "negmas"])
def test_run_json_carries_the_analytics(definitions: str) -> None:
    from click.testing import CliRunner

    from ceasefire.cli import main

    result = CliRunner().invoke(
        main, ["run", str(BENCH), "--seed", "2", "--json", "--analytics", definitions]
    )
    assert result.exit_code == 0, result.output
    printed = strict_loads(result.output)
    scenario = load_scenario(BENCH)
    expected = negotiation_analytics(scenario, run(scenario, seed=2), definitions=definitions)
    assert printed["analytics"] == strict_loads(strict_json_dumps(expected.to_dict()))
    assert printed["analytics"]["agreements"][0]["round"] == printed["agreements"][0]["round"]
    # the summary's own keys come first, as before
    assert list(printed)[-1] == "analytics"


def test_run_refuses_unknown_definitions() -> None:
    from click.testing import CliRunner

    from ceasefire.cli import main

    result = CliRunner().invoke(main, ["run", str(BENCH), "--json", "--analytics", "genius"])
    assert result.exit_code == 2
    assert "genius" in result.output and "negmas" in result.output  # what is allowed
