"""Invariants of the execution mode over many generated agreements (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ceasefire.engine import END_REASONS, run
from ceasefire.scenario import Scenario, load_scenario

from conftest import NOV2023
from helpers import with_agreement, with_pool

BASE = load_scenario(NOV2023)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Scenario, int]:
    s = with_pool(BASE, "hamas", "women_children", "hamas", draw(st.integers(0, 150)))
    s = with_pool(s, "hamas", "women_children", "other_groups", draw(st.integers(0, 30)))
    s = with_pool(s, "israel", "prisoners_women", "israel", draw(st.integers(0, 300)))
    s = with_pool(s, "israel", "prisoners_minors", "israel", draw(st.integers(0, 300)))
    s = with_agreement(
        s,
        initial_days=draw(st.integers(1, 6)),
        batches={
            "total": draw(st.integers(0, 80)),
            "split": draw(st.sampled_from(["front_loaded", "even"])),
        },
        exchange={
            "ratios": {"women_children": draw(st.integers(0, 6))},
            "split": draw(st.sampled_from(["in_order", "proportional"])),
        },
        extension={
            "step_days": draw(st.integers(1, 3)),
            "per_step": draw(st.integers(1, 25)),
            "max_total_days": draw(st.one_of(st.none(), st.integers(1, 12))),
        },
        delay_probability=draw(st.floats(0, 1)),
        refusal_probability={"hamas": draw(st.floats(0, 0.3)), "israel": draw(st.floats(0, 0.3))},
        cure_attempts=draw(st.integers(0, 2)),
    )
    return s, draw(st.integers(0, 2**32))


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_no_episode_releases_more_than_a_holder_has_in_custody(case: tuple[Scenario, int]) -> None:
    scenario, seed = case
    ep = run(scenario, seed=seed)
    held: dict[tuple[str, str], int] = {}
    for h in scenario.holdings:
        held[(h.holder, h.category)] = held.get((h.holder, h.category), 0) + h.count
    in_reach = {k: v for k, v in held.items()}
    in_reach[("hamas", "women_children")] -= next(
        h.count for h in scenario.holdings if h.custody == "other_groups"
    )
    released: dict[tuple[str, str], int] = {}
    for row in ep.ledger:
        if row.flow in ("release", "counter_release", "side_channel_release"):
            key = (row.from_party, row.category)
            released[key] = released.get(key, 0) + row.count
            assert row.count > 0
    for key, n in released.items():
        assert n <= in_reach[key], key

    s = ep.summary
    assert s.end_reason in END_REASONS
    assert ep.transcript[-1].kind == "episode_end"
    days = [r for r in ep.ledger if r.flow in ("pause_day", "fighting_day")]
    assert len(days) == (scenario.calendar.horizon - scenario.calendar.start).days + 1
    assert s.pause_days + s.fighting_days == len(days)
    assert scenario.agreement is not None and scenario.agreement.extension is not None
    cap = scenario.agreement.extension.max_total_days
    if cap is not None:
        assert s.pause_days <= max(cap, scenario.agreement.initial_days)
    assert s.pause_days == scenario.agreement.initial_days + sum(s.extensions) or (
        s.end_reason in ("breach", "horizon")
    )
    # Counter-releases match the ratio whenever no counter-release breach happened.
    ratio = scenario.agreement.exchange.ratios["women_children"]
    if not any(b["party"] == "israel" for b in s.breaches):
        assert sum(s.released["israel"].values()) == ratio * sum(s.released["hamas"].values())
    assert [e.seq for e in ep.transcript] == list(range(1, len(ep.transcript) + 1))


DEC2023 = load_scenario(NOV2023.parent / "gaza-2023-12-proposal.yaml")


@st.composite
def negotiations(draw: st.DrawFn) -> tuple[Scenario, int]:
    s = DEC2023
    for category in ("elderly_men", "men"):
        s = with_pool(s, "hamas", category, "hamas", draw(st.integers(0, 60)))
    for category in ("prisoners_women", "prisoners_minors", "prisoners_long_sentences"):
        s = with_pool(s, "israel", category, "israel", draw(st.integers(0, 150)))
    n = s.negotiation
    assert n is not None
    parties = {
        p: t.model_copy(
            update={
                "pressure": draw(st.floats(0, 30)),
                "breakdown_probability": draw(st.floats(0, 0.05)),
                "deadline_days": draw(st.integers(2, 30)),
            }
        )
        for p, t in n.parties.items()
    }
    s = s.model_copy(update={"negotiation": n.model_copy(update={"parties": parties})})
    return s, draw(st.integers(0, 2**32))


@settings(max_examples=25, deadline=None)
@given(negotiations())
def test_negotiated_episodes_never_release_more_than_is_in_custody(
    case: tuple[Scenario, int],
) -> None:
    scenario, seed = case
    ep = run(scenario, seed=seed)
    held: dict[tuple[str, str], int] = {}
    for h in scenario.holdings:
        if h.custody == h.holder:
            held[(h.holder, h.category)] = held.get((h.holder, h.category), 0) + h.count
    held[("hamas", "men")] = max(0, held[("hamas", "men")] - 3)  # the dated loss of three
    released: dict[tuple[str, str], int] = {}
    for row in ep.ledger:
        if row.flow in ("release", "counter_release"):
            key = (row.from_party, row.category)
            released[key] = released.get(key, 0) + row.count
    for key, n in released.items():
        assert n <= held.get(key, 0), key
    assert ep.summary.end_reason in END_REASONS
    for deal in ep.summary.agreements:
        assert all(0.0 <= v <= 1.0 + 1e-9 for v in deal["satisfaction"].values())
