"""Negotiation mode: concession, acceptance at aspiration, the mediator's text, relay
delays, dated events, determinism, and the direction pressure and curves move things."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ceasefire.engine import Episode, run
from ceasefire.engine._bargaining import aspiration
from ceasefire.engine._table import NEAR, index_side, offer, offer_in_order
from ceasefire.scenario import (
    Curve,
    Mediator,
    PressureEvent,
    Scenario,
    load_scenario,
)

from conftest import ROOT

DEC2023 = ROOT / "scenarios" / "gaza-2023-12-proposal.yaml"
BENCH = Path(__file__).parent / "data" / "negmas_domain.yaml"


@pytest.fixture(scope="module")
def dec2023() -> Scenario:
    return load_scenario(DEC2023)


@pytest.fixture(scope="module")
def bench() -> Scenario:
    return load_scenario(BENCH)


def with_party(s: Scenario, party: str, **changes: Any) -> Scenario:
    n = s.negotiation
    assert n is not None
    parties = dict(n.parties)
    parties[party] = parties[party].model_copy(update=changes)
    return s.model_copy(update={"negotiation": n.model_copy(update={"parties": parties})})


def first_deal(ep: Episode) -> dict[str, Any]:
    assert ep.summary.agreements, ep.summary.end_detail
    return ep.summary.agreements[0]


def test_boulware_concedes_late_and_conceder_early() -> None:
    times = np.linspace(0.05, 0.95, 19)
    boulware = np.array([aspiration(t, Curve(kind="boulware").e) for t in times])
    linear = np.array([aspiration(t, Curve(kind="linear").e) for t in times])
    conceder = np.array([aspiration(t, Curve(kind="conceder").e) for t in times])
    assert (boulware > linear).all() and (linear > conceder).all()
    assert aspiration(0.5, 4.0) == pytest.approx(1 - 0.5**4)
    assert np.all(np.diff(boulware) < 0)


def test_curve_exponent_must_fit_its_kind() -> None:
    with pytest.raises(ValueError, match="boulware e > 1"):
        Curve(kind="boulware", exponent=0.5)
    assert Curve(kind="conceder").e == 0.25 and Curve().e == 4.0


def test_conceders_agree_earlier_than_boulware_sides(bench: Scenario) -> None:
    rounds = {}
    for kind in ("boulware", "linear", "conceder"):
        s = with_party(bench, "side_a", curve=Curve(kind=kind))
        s = with_party(s, "side_b", curve=Curve(kind=kind))
        rounds[kind] = first_deal(run(s))["round"]
    assert rounds["conceder"] < rounds["linear"] < rounds["boulware"] == 92


NO_RANK = np.zeros(0, dtype=np.int64)


def kernel_offer(own: np.ndarray, other: np.ndarray, lo: float, rank: np.ndarray = NO_RANK) -> int:
    """The kernel's offer at threshold ``lo`` on a table of these values (with NegMAS's
    tie order ``rank`` when given; table place m holds outcome m)."""
    n = own.size
    grid = np.arange(n, dtype=np.int64)
    members = np.zeros(n, dtype=np.int64)
    start = np.zeros(n + 1, dtype=np.int64)
    values = np.zeros(n)
    ranked = np.zeros(n + 1, dtype=np.int64)
    sf = np.zeros(2)
    of_rank, buckets = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    high = index_side(own, n, members, start, values, ranked, sf, 0, of_rank, buckets)
    assert high == own.max()
    sizes = np.diff(start)  # each rank's bucket
    assert of_rank.tolist() == np.repeat(np.arange(n), sizes[:n]).tolist()
    if rank.size:  # tie_break: negmas
        place = offer_in_order(
            own, n, members, start, values, ranked, of_rank, sf, 0, lo, rank, grid
        )
    else:
        place = offer(own, other, n, members, start, values, ranked, of_rank, sf, 0, lo)
    for b in np.flatnonzero(ranked[:n]):  # the buckets read are ranked
        part = slice(start[b], start[b + 1])
        assert values[part].tolist() == sorted(own[members[part]].tolist())
        assert (own[members[part]] == values[part]).all()
    return place


def rule_offer(own: np.ndarray, other: np.ndarray, lo: float, rank: np.ndarray = NO_RANK) -> int:
    """The offer rule as docs/SYSTEM.md states it, outcome by outcome: the smallest own
    value at or above ``lo`` (the greatest if none is), unless the greatest below ``lo``
    is at most 1e-6 below it and strictly nearer; among outcomes of that value, the best
    for the other side, then the first."""
    values = own.tolist()
    above = [v for v in values if v >= lo]
    below = [v for v in values if v < lo]
    chosen = min(above) if above else max(values)
    if above and below:
        near = max(below)
        if near >= lo - NEAR and abs(near - lo) < abs(chosen - lo):
            chosen = near
    tied = [j for j, v in enumerate(values) if v == chosen]
    if rank.size:  # NegMAS's order: the first of the tied in it (the last above all)
        return (max if not above else min)(tied, key=lambda j: int(rank[j]))
    if not above:  # above every value: the last of the ranking, least for the other side
        return max(tied, key=lambda j: (-other[j], j))
    return min(tied, key=lambda j: (-other[j], j))


def test_acceptance_exactly_at_aspiration() -> None:
    own = np.array([0.2, 0.5, 0.8])
    other = own[::-1].copy()
    assert kernel_offer(own, other, 0.5) == 1 and kernel_offer(own, other, 0.5001) == 2
    assert kernel_offer(own, other, 0.5 + 1e-9) == 1  # within 1e-6 below and nearer


def test_offers_tie_break_towards_the_other_side() -> None:
    own = np.array([0.5, 0.5, 0.9])
    other = np.array([0.1, 0.7, 0.0])
    assert kernel_offer(own, other, 0.45) == 1


def test_offers_follow_the_rule_on_tables_with_ties_and_thresholds_out_of_range() -> None:
    """Random tables with many exact ties, thresholds on tied values, between them, just
    above them (within 1e-6) and outside the table's range."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(1, 40))
        own = rng.choice(np.round(rng.uniform(0, 1, size=6), 2), size=n)
        if rng.random() < 0.3:  # values spread out: more buckets in play
            own = rng.uniform(-5, 5, size=n)
        elif rng.random() < 0.2:  # a cluster in one bucket (sorted by the heap sort)
            n = int(rng.integers(20, 120))
            own = np.append(rng.uniform(0.5, 0.5 + 1e-9, size=n - 1).round(12), 100.0)
            own[rng.integers(0, n - 1, size=n // 4)] = 0.5
        other = rng.choice([0.0, 0.25, 0.5, 1.0], size=n)
        near = [*(own + 5e-7).tolist(), *(own - 5e-7).tolist()]
        lows = [*own.tolist(), *near, *rng.uniform(-6, 6, 8).tolist()]
        for lo in lows:
            assert kernel_offer(own, other, lo) == rule_offer(own, other, lo), (own, other, lo)
        # One index for every threshold, as in talks: buckets ranked as offers read them.
        members = np.zeros(n, dtype=np.int64)
        start = np.zeros(n + 1, dtype=np.int64)
        values, ranked, sf = np.zeros(n), np.zeros(n + 1, dtype=np.int64), np.zeros(2)
        of_rank = np.zeros(n, dtype=np.int64)
        index_side(
            own, n, members, start, values, ranked, sf, 0, of_rank, np.zeros(n, dtype=np.int64)
        )
        for lo in rng.permutation(lows):
            place = offer(own, other, n, members, start, values, ranked, of_rank, sf, 0, lo)
            assert place == rule_offer(own, other, lo), (own, other, lo)


def test_negmas_ties_offer_the_first_tied_outcome_in_the_order() -> None:
    """With ``tie_break: negmas`` the kernel offers, among outcomes of the chosen value,
    the one of least rank (the greatest above every value), whatever the other side's
    values; elsewhere the same outcome as the default rule's value choice."""
    own = np.array([0.5, 0.5, 0.9, 0.5])
    other = np.array([0.1, 0.7, 0.0, 0.9])
    assert kernel_offer(own, other, 0.45) == 3  # default: the best for the other side
    for rank, expected in (([3, 1, 0, 2], 1), ([0, 3, 2, 1], 0), ([1, 2, 3, 0], 3)):
        assert kernel_offer(own, other, 0.45, np.array(rank, dtype=np.int64)) == expected
    rng = np.random.default_rng(11)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        own = rng.choice(np.round(rng.uniform(0, 1, size=5), 2), size=n)
        other = rng.choice([0.0, 0.25, 0.5, 1.0], size=n)
        rank = rng.permutation(n).astype(np.int64)
        lows = [*own.tolist(), *(own - 5e-7).tolist(), *rng.uniform(-1, 2, 6).tolist()]
        for lo in lows:
            got = kernel_offer(own, other, lo, rank)
            assert got == rule_offer(own, other, lo, rank), (own, rank, lo)


def bench_values(s: Scenario, party: str) -> dict[tuple[int, ...], float]:
    """Each outcome's value for a party, computed here from the file's value functions."""
    n = s.negotiation
    assert n is not None
    domains = [i.domain() for i in n.issues]
    out = {}
    for outcome in itertools.product(*domains):
        total = 0.0
        for issue, x in zip(n.issues, outcome, strict=True):
            f = n.parties[party].issues[issue.id]
            assert f.slope is not None
            total += f.weight * (f.slope * float(x) + f.bias)
        out[tuple(int(v) for v in outcome)] = total
    return out


def test_the_mediator_text_maximises_the_nash_product(bench: Scenario) -> None:
    mediator = Mediator(
        id="m", name="Mediator", channels=[("side_a", "side_b")], stall_limit_rounds=3
    )
    n = bench.negotiation
    assert n is not None
    s = bench.model_copy(
        update={"mediators": [mediator], "negotiation": n.model_copy(update={"mediator": "m"})}
    )
    ep = run(s)
    texts = [e for e in ep.transcript if e.kind == "mediator_text"]
    assert len(texts) == 1
    va, vb = bench_values(s, "side_a"), bench_values(s, "side_b")
    ra, rb = n.parties["side_a"].reservation, n.parties["side_b"].reservation
    best = max(
        (o for o in va if va[o] > ra and vb[o] > rb), key=lambda o: (va[o] - ra) * (vb[o] - rb)
    )
    assert texts[0].values["side_a"] == pytest.approx(va[best], abs=1e-6)
    assert texts[0].values["side_b"] == pytest.approx(vb[best], abs=1e-6)
    kinds = [e.kind for e in ep.transcript]
    after = kinds[kinds.index("mediator_text") + 1 : kinds.index("mediator_text") + 3]
    assert set(after) <= {"accept", "veto"} and len(after) == 2


def test_relay_delay_shifts_the_days_not_the_rounds(bench: Scenario) -> None:
    direct = first_deal(run(bench))
    relay = Mediator(id="m", name="Mediator", channels=[("side_a", "side_b")], relay_delay_days=1)
    n = bench.negotiation
    assert n is not None
    slow = bench.model_copy(
        update={
            "mediators": [relay],
            "negotiation": n.model_copy(update={"mediator": "m"}),
            "calendar": bench.calendar.model_copy(update={"horizon": date(2024, 12, 31)}),
        }
    )
    slow = with_party(slow, "side_a", deadline_days=200)
    slow = with_party(slow, "side_b", deadline_days=200)
    ep = run(slow)
    relayed = first_deal(ep)
    assert relayed["round"] == direct["round"] == 92
    assert relayed["terms"] == direct["terms"]
    start = date(2024, 1, 1)
    assert date.fromisoformat(direct["date"]) == start.fromordinal(start.toordinal() + 92)
    # Round k begins on day 2k; the second mover answers a day later.
    assert date.fromisoformat(relayed["date"]) == start.fromordinal(start.toordinal() + 185)
    assert sum(e.kind == "relay" for e in ep.transcript) > 0


def test_a_pressure_event_changes_values_on_its_date(dec2023: Scenario) -> None:
    ep = run(dec2023)
    events = [e for e in ep.transcript if e.kind == "event" and "pressure" in e.text]
    assert [e.date for e in events] == ["2023-12-03", "2023-12-15"]
    assert events[1].values == {"israel_pressure": 10.0}
    opened = next(e for e in ep.transcript if e.kind == "talks_open")
    assert opened.values == {"israel_pressure": 10.0, "hamas_pressure": 7.0}
    # The same offer is worth more to Israel after a later pressure rise (pause days x 5).
    later = dec2023.model_copy(
        update={
            "events": [
                *dec2023.events,
                PressureEvent(kind="pressure", date=date(2024, 1, 2), party="israel", change=5.0),
            ]
        }
    )
    base, moved = run(dec2023).transcript, run(later).transcript
    assert [e for e in base if e.date < "2024-01-02"] == [e for e in moved if e.date < "2024-01-02"]
    assert [e for e in base if e.date >= "2024-01-02"] != [
        e for e in moved if e.date >= "2024-01-02"
    ]


def test_raising_pressure_brings_agreement_earlier_on_terms_better_for_the_other_side(
    dec2023: Scenario,
) -> None:
    base = first_deal(run(dec2023))
    for party, other in (("israel", "hamas"), ("hamas", "israel")):
        assert dec2023.negotiation is not None
        pressure = dec2023.negotiation.parties[party].pressure + 10
        moved = first_deal(run(with_party(dec2023, party, pressure=pressure)))
        assert moved["date"] < base["date"], party
        assert moved["values"][other] > base["values"][other], party


def test_a_conceding_side_gets_less_sooner(dec2023: Scenario) -> None:
    base = first_deal(run(dec2023))
    for party, other in (("israel", "hamas"), ("hamas", "israel")):
        moved = first_deal(run(with_party(dec2023, party, curve=Curve(kind="conceder"))))
        assert moved["date"] < base["date"], party
        assert moved["values"][other] > base["values"][other], party


def test_the_december_agreement_is_carried_out(dec2023: Scenario) -> None:
    ep = run(dec2023)
    deal = first_deal(ep)
    s = ep.summary
    assert s.pause_start is not None and s.pause_start > deal["date"]
    released = sum(s.released["hamas"].values())
    assert 0 < released <= deal["terms"]["pause_days"] * deal["terms"]["releases_per_day"] + 20
    assert all(0.0 <= v <= 1.0 for v in deal["satisfaction"].values())
    kinds = {e.kind for e in ep.transcript}
    assert {
        "talks_open",
        "offer",
        "counter",
        "relay",
        "accept",
        "agreement",
        "release_batch",
        "counter_release",
    } <= kinds


def test_deadline_without_agreement_is_an_explicit_timeout(bench: Scenario) -> None:
    s = with_party(bench, "side_a", reservation=0.9)
    ep = run(s)
    assert ep.summary.agreements == []
    assert ep.summary.end_reason == "talks_deadline"
    timeouts = [e for e in ep.transcript if e.kind == "timeout"]
    assert len(timeouts) == 1
    offers = [e for e in ep.transcript if e.kind in ("offer", "counter")]
    assert offers[-1].date < timeouts[0].date or offers[-1].actors[0] != timeouts[0].actors[0]


def test_breakdowns_are_drawn_from_the_seed(dec2023: Scenario) -> None:
    s = with_party(dec2023, "hamas", breakdown_probability=0.05)
    first = run(s, seed=11)
    assert run(s, seed=11) == first
    outcomes = {
        (e.summary.end_reason, e.summary.agreement_date)
        for e in (run(s, seed=seed) for seed in range(12))
    }
    assert len(outcomes) > 1
    assert any(
        any(t.kind == "breakdown" for t in run(s, seed=seed).transcript) for seed in range(12)
    )
