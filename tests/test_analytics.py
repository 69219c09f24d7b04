"""Bargaining analytics: the frontier and the three solution points against brute force on
small random domains, and the analytics of the NegMAS bench domain."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ceasefire.engine import Analytics, bargaining_analytics, run
from ceasefire.engine._bargaining import (
    FloatArray,
    kalai_smorodinsky_point,
    max_welfare_point,
    nash_point,
    pareto_frontier,
)
from ceasefire.scenario import Scenario, load_scenario

from conftest import NOV2023

BENCH = Path(__file__).parent / "data" / "negmas_domain.yaml"

# Values on a coarse grid, so that ties and duplicate outcomes are common.
VALUE = st.integers(min_value=-4, max_value=8).map(lambda k: k / 4)


@st.composite
def domains(draw: st.DrawFn) -> tuple[FloatArray, FloatArray, float, float]:
    n = draw(st.integers(min_value=1, max_value=25))
    a = np.array(draw(st.lists(VALUE, min_size=n, max_size=n)), dtype=np.float64)
    b = np.array(draw(st.lists(VALUE, min_size=n, max_size=n)), dtype=np.float64)
    return a, b, draw(VALUE), draw(VALUE)


def _dominated(a: FloatArray, b: FloatArray, i: int) -> bool:
    return any(
        a[j] >= a[i] and b[j] >= b[i] and (a[j] > a[i] or b[j] > b[i]) for j in range(len(a))
    )


def _first_best(scores: list[float | None]) -> int | None:
    """The first index with the largest score (None scores are not candidates)."""
    best: int | None = None
    top = -np.inf
    for i, s in enumerate(scores):
        if s is not None and s > top:
            best, top = i, s
    return best


@settings(max_examples=300, deadline=None)
@given(domains())
def test_pareto_frontier_is_the_non_dominated_set(
    domain: tuple[FloatArray, FloatArray, float, float],
) -> None:
    a, b, _, _ = domain
    frontier = [int(i) for i in pareto_frontier(a, b)]
    brute = [i for i in range(len(a)) if not _dominated(a, b, i)]
    # Every index returned is non-dominated, and every non-dominated value pair appears
    # exactly once (of outcomes with the same pair of values, one stands for all).
    assert set(frontier) <= set(brute)
    pairs = [(a[i], b[i]) for i in frontier]
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == {(a[i], b[i]) for i in brute}
    # Ordered by a's value, rising (b falls along the frontier).
    assert [a[i] for i in frontier] == sorted(a[i] for i in frontier)
    assert [b[i] for i in frontier] == sorted((b[i] for i in frontier), reverse=True)


@settings(max_examples=300, deadline=None)
@given(domains())
def test_nash_point_maximises_the_product_of_gains(
    domain: tuple[FloatArray, FloatArray, float, float],
) -> None:
    a, b, ra, rb = domain
    scores: list[float | None] = [
        float((a[i] - ra) * (b[i] - rb)) if a[i] > ra and b[i] > rb else None for i in range(len(a))
    ]
    assert nash_point(a, b, ra, rb) == _first_best(scores)


@settings(max_examples=300, deadline=None)
@given(domains())
def test_max_welfare_point_maximises_the_sum_of_gains(
    domain: tuple[FloatArray, FloatArray, float, float],
) -> None:
    a, b, ra, rb = domain
    scores: list[float | None] = [
        float((a[i] - ra) + (b[i] - rb)) if a[i] >= ra and b[i] >= rb else None
        for i in range(len(a))
    ]
    assert max_welfare_point(a, b, ra, rb) == _first_best(scores)


@settings(max_examples=300, deadline=None)
@given(domains())
def test_kalai_smorodinsky_point_maximises_the_smaller_share(
    domain: tuple[FloatArray, FloatArray, float, float],
) -> None:
    a, b, ra, rb = domain
    rational = [i for i in range(len(a)) if a[i] >= ra and b[i] >= rb]
    best_a = max((a[i] - ra for i in rational), default=0.0)
    best_b = max((b[i] - rb for i in rational), default=0.0)
    if best_a <= 0 or best_b <= 0:
        # No individually rational outcome gains for both sides: no KS point. (The
        # degenerate case with a gain only outside the rational set is left out here.)
        if float(a.max()) - ra <= 0 or float(b.max()) - rb <= 0 or not rational:
            assert kalai_smorodinsky_point(a, b, ra, rb) is None
        return
    scores: list[float | None] = [
        float(min((a[i] - ra) / best_a, (b[i] - rb) / best_b)) if i in rational else None
        for i in range(len(a))
    ]
    assert kalai_smorodinsky_point(a, b, ra, rb) == _first_best(scores)


def test_brute_force_on_seeded_random_domains() -> None:
    """The same checks on larger continuous domains (few ties), drawn from a fixed seed."""
    rng = np.random.default_rng(20231201)
    for _ in range(50):
        n = int(rng.integers(2, 400))
        a, b = rng.random(n), rng.random(n)
        ra, rb = float(rng.uniform(0, 0.6)), float(rng.uniform(0, 0.6))
        frontier = {int(i) for i in pareto_frontier(a, b)}
        assert frontier == {i for i in range(n) if not _dominated(a, b, i)}
        ok = (a > ra) & (b > rb)
        if ok.any():
            nash = nash_point(a, b, ra, rb)
            assert nash is not None and nash in frontier
            assert (a[nash] - ra) * (b[nash] - rb) == max((a - ra)[ok] * (b - rb)[ok])
        welfare = max_welfare_point(a, b, ra, rb)
        if welfare is not None:
            assert welfare in frontier
        ks = kalai_smorodinsky_point(a, b, ra, rb)
        if ks is not None:
            assert ks in frontier


# -- the analytics of a scenario ------------------------------------------------


@pytest.fixture(scope="module")
def bench() -> Scenario:
    return load_scenario(BENCH)


@pytest.fixture(scope="module")
def analytics(bench: Scenario) -> Analytics:
    return bargaining_analytics(bench)


def test_bench_analytics(bench: Scenario, analytics: Analytics) -> None:
    assert analytics.parties == ("side_a", "side_b")
    assert analytics.issues == ("pause_days", "hostages_released_per_day", "prisoners_per_hostage")
    assert analytics.outcome_count == 14 * 11 * 5
    assert analytics.reservation == {"side_a": 0.35, "side_b": 0.30}
    assert analytics.best == pytest.approx({"side_a": 1.0, "side_b": 1.0})
    # The three points are individually rational and on the frontier.
    frontier = {p.index for p in analytics.frontier}
    for point in (analytics.nash, analytics.kalai_smorodinsky, analytics.max_welfare):
        assert point is not None
        assert point.index in frontier
        for party in analytics.parties:
            assert point.values[party] >= analytics.reservation[party]
        shares = analytics.satisfaction(point.values)
        assert all(0.0 <= s <= 1.0 for s in shares.values())
    nash = analytics.nash
    assert nash is not None
    assert nash.terms == {
        "pause_days": 7,
        "hostages_released_per_day": 15,
        "prisoners_per_hostage": 5,
    }
    assert nash.values == pytest.approx({"side_a": 0.565385, "side_b": 0.543846}, abs=1e-6)
    # The frontier runs from side_b's best outcome to side_a's.
    first, last = analytics.frontier[0], analytics.frontier[-1]
    assert first.values["side_b"] == pytest.approx(1.0)
    assert last.values["side_a"] == pytest.approx(1.0)
    assert analytics.opposition is not None and 0 < analytics.opposition < np.sqrt(2)


def test_bench_agreement_is_sensible(bench: Scenario, analytics: Analytics) -> None:
    summary = run(bench, seed=0).summary
    assert summary.agreements, summary.end_detail
    deal = summary.agreements[0]
    for party, share in deal["satisfaction"].items():
        assert 0.0 < share < 1.0
        # The engine's satisfaction is the analytics' (no pressure moves the bench domain).
        assert share == pytest.approx(analytics.satisfaction(deal["values"])[party], abs=1e-5)
    nash = analytics.nash
    assert nash is not None
    # Nash product of the agreement is no larger than the Nash point's.
    ra, rb = analytics.reservation["side_a"], analytics.reservation["side_b"]
    product = (deal["values"]["side_a"] - ra) * (deal["values"]["side_b"] - rb)
    assert 0 < product <= (nash.values["side_a"] - ra) * (nash.values["side_b"] - rb) + 1e-9


def test_to_dict_is_json_ready_and_deterministic(bench: Scenario, analytics: Analytics) -> None:
    data = analytics.to_dict()
    text = json.dumps(data, sort_keys=False)
    assert json.dumps(bargaining_analytics(bench).to_dict()) == text
    assert "-0.0" not in text
    assert set(data) == {
        "parties",
        "issues",
        "outcome_count",
        "pressure",
        "reservation",
        "best",
        "frontier",
        "nash",
        "kalai_smorodinsky",
        "max_welfare",
        "opposition",
    }
    assert data["nash"]["satisfaction"].keys() == {"side_a", "side_b"}
    assert len(data["frontier"]) == len(analytics.frontier)


def test_pressure_moves_values(bench: Scenario, analytics: Analytics) -> None:
    pressed = bargaining_analytics(bench, pressure={"side_a": 0.01})
    assert pressed.pressure == {"side_a": 0.01, "side_b": 0.0}
    # Each day of pause is worth 0.01 more to side_a; side_b's values do not move.
    days = np.array([t[0] for t in pressed.table.outcomes], dtype=np.float64)
    assert np.allclose(
        pressed.table.values["side_a"], analytics.table.values["side_a"] + 0.01 * days
    )
    assert np.array_equal(pressed.table.values["side_b"], analytics.table.values["side_b"])


def test_scenario_without_talks_is_refused() -> None:
    with pytest.raises(ValueError, match="no negotiation"):
        bargaining_analytics(load_scenario(NOV2023))


def test_table_at_talks_start_applies_dated_events() -> None:
    """The December 2023 proposal: pressure events before the talks open move the table;
    the analytics see what the talks see (the pressure in the talks_open entry), and the
    mediator's first text, tabled before any further event, is the Nash point."""
    path = Path(__file__).resolve().parents[1] / "scenarios" / "gaza-2023-12-proposal.yaml"
    if not path.exists():
        pytest.skip("the December 2023 scenario is not there")
    scenario = load_scenario(path)
    n = scenario.negotiation
    assert n is not None
    analytics = bargaining_analytics(scenario)
    written = bargaining_analytics(scenario, at_talks_start=False)
    assert written.pressure == {p: n.parties[p].pressure for p in written.parties}
    episode = run(scenario, seed=0)
    opening = next(e for e in episode.transcript if e.kind == "talks_open")
    assert analytics.pressure == pytest.approx(
        {p: opening.values[f"{p}_pressure"] for p in analytics.parties}
    )
    text = next((e for e in episode.transcript if e.kind == "mediator_text" and e.values), None)
    later = [ev for ev in scenario.events if n.start < ev.date]
    if text is None or any(ev.date.isoformat() <= text.date for ev in later):
        pytest.skip("no mediator text on an unchanged table")
    nash = analytics.nash
    assert nash is not None
    assert {p: text.values[p] for p in analytics.parties} == pytest.approx(nash.values)
