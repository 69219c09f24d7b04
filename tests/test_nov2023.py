"""The bundled November 2023 scenario reproduces the record through the mechanism,
and counterfactuals move as the terms imply."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from ceasefire.engine import Episode, run
from ceasefire.scenario import DelayEvent, HoldingsEvent, Scenario, ValueEvent

from helpers import with_agreement, with_pool


def daily(episode: Episode, flow: str, party: str) -> list[int]:
    per_day: dict[str, int] = defaultdict(int)
    for row in episode.ledger:
        if row.flow == flow and row.from_party == party:
            per_day[row.date] += row.count
    return [per_day[d] for d in sorted(per_day)]


def total(episode: Episode, party: str) -> int:
    return sum(episode.summary.released[party].values())


def test_record_is_reproduced(nov2023: Scenario) -> None:
    ep = run(nov2023, seed=0)
    s = ep.summary
    assert s.pause_days == 7
    assert s.pause_start == "2023-11-24" and s.pause_end == "2023-11-30"
    assert s.extensions == [2, 1]
    assert s.released["hamas"] == {"women_children": 80}
    assert total(ep, "israel") == 240
    assert daily(ep, "release", "hamas") == [13, 13, 13, 11, 10, 10, 10]
    assert daily(ep, "counter_release", "israel") == [39, 39, 39, 33, 30, 30, 30]
    assert s.side_channel_released == 25
    assert s.side_channel_by_category == {
        "foreign_filipino": 1,
        "foreign_russian_israeli": 1,
        "foreign_thai": 23,
    }
    assert s.end_reason == "no_eligible_batch" and s.ended_by == "hamas"
    assert s.breaches == []


def test_ten_more_eligible_captives_in_reach_give_an_eighth_day(nov2023: Scenario) -> None:
    s = run(with_pool(nov2023, "hamas", "women_children", "hamas", 90)).summary
    assert s.pause_days == 8
    assert s.extensions == [2, 2]
    assert s.released["hamas"]["women_children"] == 90
    assert sum(s.released["israel"].values()) == 270
    assert s.end_reason == "no_eligible_batch"


def test_a_pool_of_forty_cannot_complete_the_initial_batches(nov2023: Scenario) -> None:
    ep = run(with_pool(nov2023, "hamas", "women_children", "hamas", 40))
    s = ep.summary
    assert s.end_reason == "breach" and s.ended_by == "hamas"
    assert s.end_date == "2023-11-27"  # the fourth day: 13 + 13 + 13 leave 1 for a batch of 11
    assert "1 eligible captives in reach, 11 due" in s.end_detail
    assert s.released["hamas"]["women_children"] == 39
    assert sum(s.released["israel"].values()) == 117
    assert s.extensions == []
    assert [e.kind for e in ep.transcript].count("breach") == 1


def test_the_cap_on_total_days_stops_the_pause(nov2023: Scenario) -> None:
    many = with_pool(nov2023, "hamas", "women_children", "hamas", 200)
    many = with_pool(many, "israel", "prisoners_minors", "israel", 300)
    s = run(many).summary
    assert s.pause_days == 10 and s.extensions == [2, 2, 2]
    assert s.end_reason == "cap_reached" and s.ended_by is None
    assert s.released["hamas"]["women_children"] == 50 + 6 * 10
    assert sum(s.released["israel"].values()) == 3 * 110

    capped = with_agreement(nov2023, extension={"max_total_days": 5})
    s = run(capped).summary
    assert s.pause_days == 5 and s.extensions == [1] and s.end_reason == "cap_reached"
    assert s.released["hamas"]["women_children"] == 60


def test_a_short_counter_release_list_is_a_breach_by_the_other_side(nov2023: Scenario) -> None:
    # 110 hostages over 10 days need 330 prisoners; the list of 300 runs out on day 10.
    s = run(with_pool(nov2023, "hamas", "women_children", "hamas", 200)).summary
    assert s.end_reason == "breach" and s.ended_by == "israel"
    assert s.end_date == "2023-12-03"
    assert "0 eligible for counter-release, 30 due" in s.end_detail
    assert sum(s.released["israel"].values()) == 300


def test_the_ratio_changes_the_counter_releases_and_the_decisions(nov2023: Scenario) -> None:
    two = run(with_agreement(nov2023, exchange={"ratios": {"women_children": 2}})).summary
    assert sum(two.released["israel"].values()) == 160
    assert two.pause_days == 7  # 20 received - 20 given + 10 for the day: still worth it

    one = run(with_agreement(nov2023, exchange={"ratios": {"women_children": 1}})).summary
    assert one.pause_days == 4 and one.extensions == []
    assert one.end_reason == "extension_declined" and one.ended_by == "hamas"
    assert sum(one.released["israel"].values()) == 50

    ten = run(with_agreement(nov2023, exchange={"ratios": {"women_children": 10}})).summary
    # 10 per hostage: the list of 300 prisoners covers two days of 13, not the third.
    assert ten.end_reason == "breach" and ten.ended_by == "israel"
    assert ten.end_date == "2023-11-26"


def test_the_extension_step_changes_the_extensions(nov2023: Scenario) -> None:
    s = run(with_agreement(nov2023, extension={"per_step": 20})).summary
    # 30 left after the initial days: one step of 20 (one day), then 10 < 20.
    assert s.extensions == [1] and s.pause_days == 5
    assert s.released["hamas"]["women_children"] == 70
    assert s.end_reason == "no_eligible_batch"

    s = run(with_agreement(nov2023, extension={"step_days": 2})).summary
    # Two days per 10: the 30 left buy 6 days in blocks of 2, up to the cap of 10.
    assert s.extensions == [2, 2, 2] and s.pause_days == 10
    assert s.released["hamas"]["women_children"] == 80


def test_no_extension_rule_ends_with_the_initial_terms(nov2023: Scenario) -> None:
    s = run(with_agreement(nov2023, extension=None)).summary
    assert s.pause_days == 4 and s.end_reason == "terms_completed"
    assert s.released["hamas"]["women_children"] == 50


def test_a_group_coming_within_reach_adds_to_the_pool(nov2023: Scenario) -> None:
    from ceasefire.scenario import CustodyEvent

    event = CustodyEvent(
        kind="custody", date=date(2023, 11, 29), group="other_groups", reachable=True
    )
    s = run(nov2023.model_copy(update={"events": [*nov2023.events, event]})).summary
    # After day 6: 10 in Hamas's custody + 17 now in reach = 27: two more days, then 7 < 10.
    assert s.extensions == [2, 2] and s.pause_days == 8
    assert s.released["hamas"]["women_children"] == 90


def test_a_dated_loss_of_captives_shortens_the_pause(nov2023: Scenario) -> None:
    event = HoldingsEvent(
        kind="holdings",
        date=date(2023, 11, 26),
        holder="hamas",
        category="women_children",
        custody="hamas",
        change=-3,
    )
    ep = run(nov2023.model_copy(update={"events": [*nov2023.events, event]}))
    assert ep.summary.extensions == [2] and ep.summary.pause_days == 6
    assert ep.summary.released["hamas"]["women_children"] == 70
    assert any(e.kind == "event" and e.date == "2023-11-26" for e in ep.transcript)


def test_a_dated_change_of_value_changes_the_decision(nov2023: Scenario) -> None:
    event = ValueEvent(
        kind="value", date=date(2023, 11, 27), party="israel", term="pause_day", change=-100.0
    )
    s = run(nov2023.model_copy(update={"events": [*nov2023.events, event]})).summary
    assert s.pause_days == 4
    assert s.end_reason == "extension_declined" and s.ended_by == "israel"


def test_relay_delay_shifts_the_counter_releases(nov2023: Scenario) -> None:
    slow = [m.model_copy(update={"relay_delay_days": 1}) for m in nov2023.mediators]
    ep = run(nov2023.model_copy(update={"mediators": slow}))
    counters = [r for r in ep.ledger if r.flow == "counter_release"]
    assert min(r.date for r in counters) == "2023-11-25"
    assert max(r.date for r in counters) == "2023-12-01"  # owed after the pause ended
    assert sum(r.count for r in counters) == 240


def test_delays_from_the_record_are_in_the_transcript(nov2023: Scenario) -> None:
    ep = run(nov2023)
    delays = [e for e in ep.transcript if e.kind == "delay"]
    assert [e.date for e in delays] == [
        e.date.isoformat() for e in nov2023.events if isinstance(e, DelayEvent)
    ]
    assert ep.summary.delays == len(delays)
