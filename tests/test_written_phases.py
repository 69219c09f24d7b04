"""Phases written in the agreement's text (``agreement.phases``, version 2): each with its
days, hand-overs and start; the outcome moves as the terms imply; wrong phases are
refused where they are written; single runs and the ensemble agree run for run."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from ceasefire import load_scenario, run
from ceasefire.ensemble import run_draw, run_ensemble
from ceasefire.monitor._compliance import due_schedule, owed_for, terms_on
from ceasefire.scenario import Scenario, ScenarioError

from conftest import ROOT

EXAMPLE = ROOT / "scenarios" / "example-two-written-phases.yaml"


@pytest.fixture(scope="module")
def example() -> Scenario:
    return load_scenario(EXAMPLE)


def changed(s: Scenario, phase: dict[str, Any] | None = None, **agreement: Any) -> Scenario:
    """The scenario with its agreement's fields (and its first written phase's) changed,
    validated again like a file."""
    data = s.model_dump(mode="json", by_alias=True)
    a = data["agreement"]
    for key, value in agreement.items():
        if value is None:
            a.pop(key, None)
        else:
            a[key] = value
    if phase is not None:
        a["phases"][0].update(phase)
    return Scenario.model_validate(data)


def days_of(episode: Any, mode: str) -> list[str]:
    return [r.date for r in episode.ledger if r.flow == f"{mode}_day"]


def released_by(episode: Any, party: str) -> int:
    return sum(episode.summary.released.get(party, {}).values())


def day_after(d: date, n: int = 1) -> str:
    return (d + timedelta(days=n)).isoformat()


# -- the example: two phases, the pause holding on between them ------------------------------


def test_the_example_carries_out_both_phases_as_written(example: Scenario) -> None:
    a = example.agreement
    assert a is not None
    episode = run(example, seed=0)
    s = episode.summary
    (first, _), (start2, last2) = a.phase_windows()
    assert [p["phase"] for p in s.phases] == [1, 2]
    assert s.phases[1] == {"phase": 2, "start": start2.isoformat(), "days": a.phases[0].days}
    # one pause from the first phase's start to the second's last day: the days between
    # held under the continuation clause, no day of fighting inside
    assert (s.pause_start, s.pause_end) == (first.isoformat(), last2.isoformat())
    assert s.pause_days == (last2 - first).days + 1
    assert not [d for d in days_of(episode, "fighting") if s.pause_start < d < s.pause_end]
    # every captive both phases name is released: phase 1's total, phase 2's hand-overs
    dated = a.phases[0].batches.dated or []
    assert a.batches.total is not None
    assert released_by(episode, "a") == a.batches.total + sum(
        sum(h.releases.values()) for h in dated
    )
    # phase 2's hand-overs on their dates, in the ledger
    made = {r.date for r in episode.ledger if r.flow == "release"}
    assert {h.date.isoformat() for h in dated} <= made
    texts = [(t.kind, t.text) for t in episode.transcript]
    held = next(text for kind, text in texts if kind == "pause_holds_on")
    assert f"until phase 2 begins on {start2}" in held
    assert (
        "phase_start",
        f"phase 2 begins: the pause goes on for {a.phases[0].days} days",
    ) in texts


def test_phase_two_counter_releases_follow_its_own_ratio(example: Scenario) -> None:
    a = example.agreement
    assert a is not None and a.phases[0].exchange is not None
    base = released_by(run(example, seed=0), "b")
    ratio = a.phases[0].exchange.ratios["held_by_a"]
    higher = changed(
        example,
        phase={
            "exchange": {**a.phases[0].exchange.model_dump(), "ratios": {"held_by_a": ratio + 1}}
        },
    )
    # phase 2's hand-overs priced by the ratio (not the last, which has its own counter)
    by_ratio = sum(
        sum(h.releases.values()) for h in a.phases[0].batches.dated or [] if h.counter is None
    )
    assert released_by(run(higher, seed=0), "b") == base + by_ratio


def test_without_a_continuation_fighting_fills_the_days_until_the_phase_date(
    example: Scenario,
) -> None:
    a = example.agreement
    assert a is not None
    episode = run(changed(example, continuation=None), seed=0)
    (_, last1), (start2, last2) = a.phase_windows()
    between = [d for d in days_of(episode, "fighting") if last1.isoformat() < d < last2.isoformat()]
    assert between == [day_after(last1, n) for n in range(1, (start2 - last1).days)]
    assert episode.summary.pause_days == a.initial_days + a.phases[0].days
    assert [p["start"] for p in episode.summary.phases][1] == start2.isoformat()


def test_the_continuation_limit_ends_the_pause_before_a_later_phase_date(
    example: Scenario,
) -> None:
    a = example.agreement
    assert a is not None
    (_, last1), (start2, _) = a.phase_windows()
    gap = (start2 - last1).days - 1
    assert gap >= 2
    episode = run(changed(example, continuation={"limit_days": 1}), seed=0)
    ends = [t for t in episode.transcript if t.kind == "pause_end"]
    assert ends[0].date == day_after(last1) and "continuation's limit" in ends[0].text
    fighting = [d for d in days_of(episode, "fighting") if d > last1.isoformat()]
    assert fighting[: gap - 1] == [day_after(last1, n) for n in range(2, gap + 1)]
    assert episode.summary.phases[1]["start"] == start2.isoformat()


@pytest.mark.parametrize("longer", [1, 6])
def test_a_longer_phase_two_releases_more_and_ends_later(example: Scenario, longer: int) -> None:
    def with_days(days: int) -> Any:
        s = changed(
            example,
            phase={
                "start": "after_previous",
                "days": days,
                "batches": {"releaser": "a", "categories": ["held_by_a"], "daily": [2] * days},
            },
        )
        return run(s, seed=0).summary

    short, long = with_days(4), with_days(4 + longer)
    assert released_by_summary(long, "a") == released_by_summary(short, "a") + 2 * longer
    assert released_by_summary(long, "b") > released_by_summary(short, "b")
    assert date.fromisoformat(long.pause_end) == date.fromisoformat(short.pause_end) + timedelta(
        days=longer
    )
    assert long.pause_days == short.pause_days + longer


def released_by_summary(summary: Any, party: str) -> int:
    return sum(summary.released.get(party, {}).values())


def test_an_unconditional_phase_two_runs_when_the_extension_rule_declines(
    example: Scenario,
) -> None:
    # the holder values more days below fighting: it offers no extension of phase 1
    values = example.values.model_dump()
    values["parties"]["a"]["fighting_day"] = 100.0
    declining = changed(example, extension={"per_step": 2}).model_copy(
        update={"values": type(example.values).model_validate(values)}
    )
    alone = run(changed(declining, phases=[], continuation=None), seed=0)
    assert any(t.kind == "extension_decline" for t in alone.transcript)
    assert alone.summary.phases == [] and alone.summary.end_reason == "extension_declined"
    both = run(declining, seed=0)
    assert any(t.kind == "extension_decline" for t in both.transcript)
    assert [p["phase"] for p in both.summary.phases] == [1, 2]
    assert both.summary.pause_days > alone.summary.pause_days
    assert released_by(both, "a") > released_by(alone, "a")


def test_a_breach_in_phase_one_ends_the_agreement_before_phase_two(example: Scenario) -> None:
    holdings = [h.model_dump() for h in example.holdings]
    assert example.agreement is not None and example.agreement.batches.total is not None
    holdings[0]["count"] = example.agreement.batches.total - 1  # short on phase 1's last day
    short = example.model_copy(
        update={"holdings": [type(example.holdings[0]).model_validate(h) for h in holdings]}
    )
    episode = run(short, seed=0)
    assert episode.summary.end_reason == "breach"
    assert [p["phase"] for p in episode.summary.phases] == [1]
    assert not any(t.kind == "phase_start" for t in episode.transcript)


def test_compliance_owes_each_phase_its_own_terms(example: Scenario) -> None:
    a = example.agreement
    assert a is not None and a.phases[0].exchange is not None
    episode = run(example, seed=0)
    (first, _), (start2, _) = a.phase_windows()
    dated = a.phases[0].batches.dated or []
    ratio1, ratio2 = a.exchange.ratios["held_by_a"], a.phases[0].exchange.ratios["held_by_a"]
    on1, on2 = first.isoformat(), dated[0].date.isoformat()
    assert owed_for(terms_on(a, episode, on1), on1, {"held_by_a": 5}) == 5 * ratio1
    assert owed_for(terms_on(a, episode, on2), on2, {"held_by_a": 5}) == 5 * ratio2
    last = dated[-1]
    assert last.counter is not None
    day = last.date.isoformat()
    assert owed_for(terms_on(a, episode, day), day, {"held_by_a": 5}) == sum(last.counter.values())
    due = due_schedule(episode, "a", "b")
    assert {h.date.isoformat() for h in dated} <= {d for d, v in due.items() if v["release"]}
    assert start2.isoformat() == episode.summary.phases[1]["start"]


# -- refused where written ------------------------------------------------------------------


def refused(tmp_path: Path, old: str, new: str) -> tuple[str, list[Any]]:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    return text, e.value.problems


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "field", "said"),
    [
        (
            "{date: 2024-03-31, releases: {held_by_a: 5}",
            "{date: 2024-04-02, releases: {held_by_a: 5}",
            "agreement.phases[0].batches.dated[2].date",
            "outside phase 2's days (2024-03-18 to 2024-03-31)",
        ),
        (
            "    - start: 2024-03-18",
            "    - start: 2024-03-12",
            "agreement.phases[0].start",
            "before phase 1's days end (2024-03-14)",
        ),
        (
            "{date: 2024-03-20, releases: {held_by_a: 10}}",
            "{date: 2024-03-20, releases: {held_by_b: 10}}",
            "agreement.phases[0].batches.dated[0].releases.held_by_b",
            "not among the phase's batches.categories",
        ),
        (
            "    - start: 2024-03-18",
            "    - start: 2024-06-18",
            "agreement.phases[0].start",
            "after the calendar's horizon",
        ),
        (
            "version: 2",
            "version: 1",
            "agreement.phases",
            "needs `version: 2`",
        ),
    ],
)
def test_wrong_phases_are_refused_where_they_are(
    tmp_path: Path, old: str, new: str, field: str, said: str
) -> None:
    text, problems = refused(tmp_path, old, new)
    hit = [p for p in problems if p.field == field]
    assert hit, [(p.field, p.message) for p in problems]
    assert said in hit[0].message, hit[0].message
    assert hit[0].line is not None and hit[0].column is not None
    if field != "agreement.phases":
        assert hit[0].line == line_of(text, new.strip().split("\n")[0])


def test_a_phase_with_an_unpriced_category_or_own_terms_is_refused(tmp_path: Path) -> None:
    _, problems = refused(
        tmp_path,
        "exchange: {releaser: b, categories: [held_by_b], ratios: {held_by_a: 4}}",
        "exchange: {releaser: b, categories: [held_by_b], ratios: {held_by_b: 4}}",
    )
    assert any("no ratio for phase 2's batch category 'held_by_a'" in p.message for p in problems)
    _, problems = refused(
        tmp_path,
        "exchange: {releaser: b, categories: [held_by_b], ratios: {held_by_a: 4}}",
        "exchange: {releaser: b, categories: [held_by_b], "
        "terms: {held_by_a: [{per_captive: 4, from: [held_by_b]}]}}",
    )
    assert any("a phase's own exchange takes `ratios`" in p.message for p in problems)


def test_a_scenario_without_phases_keeps_its_hash(example: Scenario) -> None:
    from ceasefire.scenario import content_hash

    bare = changed(example, phases=None)
    assert "phases" not in bare.model_dump(exclude_defaults=True)["agreement"]
    assert content_hash(bare) == content_hash(changed(example, phases=[]))
    assert content_hash(bare) != content_hash(example)


# -- the ensemble runs the same rule ---------------------------------------------------------


def test_ensemble_equals_single_runs_with_written_phases(example: Scenario) -> None:
    s = changed(
        example,
        extension={"per_step": 2, "max_total_days": 16},
        refusal_probability={"a": 0.03},
    )
    result = run_ensemble(s, 40, seed=5)
    seen = set()
    for i in range(40):
        single = run_draw(s, 5, i).summary
        got = result.episode(i)
        for name in ("pause_days", "released", "end_reason", "end_date", "pause_start"):
            assert getattr(single, name) == got[name], (i, name)
        seen.add((single.pause_days, single.end_reason))
    assert len(seen) > 1  # breaches in one phase or the other, and none


def test_check_warns_of_dated_hand_overs_an_extension_may_overtake(tmp_path: Path) -> None:
    from ceasefire.scenario import check_file

    text = EXAMPLE.read_text(encoding="utf-8")
    _, none = check_file(EXAMPLE)
    assert none == []
    old = "  continuation: {limit_days: 7}\n"
    path = tmp_path / "s.yaml"
    path.write_text(text.replace(old, old + "  extension: {per_step: 2}\n"), encoding="utf-8")
    _, warnings = check_file(path)
    hit = [w for w in warnings if w.field == "agreement.phases[0].batches.dated"]
    assert hit and "is not made" in hit[0].message and hit[0].line is not None
    # every phase after the previous one, no talks: the continuation cannot hold
    path.write_text(
        text.replace("    - start: 2024-03-18\n", "    - start: after_previous\n"), encoding="utf-8"
    )
    with pytest.raises(ScenarioError):  # phase 2's last hand-over now falls outside it
        check_file(path)
    moved = text.replace("    - start: 2024-03-18\n", "    - start: after_previous\n").replace(
        "{date: 2024-03-31, releases: {held_by_a: 5}", "{date: 2024-03-28, releases: {held_by_a: 5}"
    )
    path.write_text(moved, encoding="utf-8")
    _, warnings = check_file(path)
    assert [w.field for w in warnings] == ["agreement.continuation"]


# -- with talks during the pause: a phase agreed in talks follows the written ones -----------


def with_talks(priors: list[dict[str, Any]] | None = None) -> Scenario:
    """The guide's example of talks during a pause, with a written phase 2 of 5 days."""
    import re

    from ceasefire.scenario import loads_scenario

    guide = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    text = next(t for t in re.findall(r"```yaml\n(.*?)```", guide, re.S) if "name: Two phases" in t)
    data = loads_scenario(text, "talks").model_dump(mode="json", by_alias=True)
    written = {"days": 5, "batches": {"releaser": "a", "categories": ["held_by_a"], "total": 5}}
    data["agreement"]["phases"] = [written]
    data["priors"] = priors or []
    return Scenario.model_validate(data)


def test_a_phase_agreed_in_talks_follows_the_written_phases() -> None:
    episode = run(with_talks(), seed=0)
    s = episode.summary
    assert [p["phase"] for p in s.phases] == [1, 2] and s.agreements
    kinds = [t.kind for t in episode.transcript]
    written = kinds.index("phase_start")  # phase 2, as written
    agreed = next(i for i, t in enumerate(episode.transcript) if t.kind == "agreement")
    assert written < agreed < len(kinds) - 1 - kinds[::-1].index("phase_start")
    pause = days_of(episode, "pause")
    assert not [d for d in days_of(episode, "fighting") if pause[0] < d < pause[-1]]
    terms = s.agreements[0]["terms"]
    held = [t for t in episode.transcript if t.kind == "pause_holds_on"]
    assert held  # after phase 2, while the talks went on
    phase_end = [t for t in episode.transcript if t.kind == "phase_end"][-1]
    assert s.pause_days == 10 + 5 + (phase_end.day - held[0].day) + terms["pause_days"]
    assert "phase 2's days" not in s.end_detail  # the agreed phase ended it


def test_ensemble_equals_single_runs_with_written_phases_and_talks() -> None:
    spread = {
        "target": "reservation",
        "party": "a",
        "distribution": {"kind": "uniform", "low": 0.0, "high": 1.4},
        "assumption": "spread to make some talks fail",
    }
    s = with_talks(priors=[spread])
    result = run_ensemble(s, 40, seed=9)
    lengths = set()
    for i in range(40):
        single = run_draw(s, 9, i).summary
        got = result.episode(i)
        for name in ("pause_days", "released", "end_reason", "end_date", "pause_start"):
            assert getattr(single, name) == got[name], (i, name)
        lengths.add(single.pause_days)
    assert len(lengths) > 1


# -- conditional phases -------------------------------------------------------------------------


def conditional(example: Scenario, b_pause_day: float, **phase: Any) -> Scenario:
    data = example.model_dump(mode="json", by_alias=True)
    data["agreement"]["phases"][0].update(conditional=True, **phase)
    data["values"]["parties"]["b"]["pause_day"] = b_pause_day
    return Scenario.model_validate(data)


def test_a_conditional_phase_runs_only_if_both_sides_value_it_above_fighting(
    example: Scenario,
) -> None:
    # at the example's values, b gives more than it gets in phase 2: it does not go on
    declined = run(conditional(example, 0.5), seed=0)
    no = next(t for t in declined.transcript if t.kind == "extension_decline")
    assert "going on to phase 2" in no.text and no.values["b_phase"] <= no.values["b_fighting"]
    s = declined.summary
    assert (s.end_reason, s.ended_by) == ("extension_declined", "b")
    assert [p["phase"] for p in s.phases] == [1]
    assert example.agreement is not None
    assert s.pause_days == example.agreement.initial_days
    # unconditional, the same phase runs at the same values
    assert [p["phase"] for p in run(example, seed=0).summary.phases] == [1, 2]
    # valuing each day of pause more, b goes on: the phase runs as if unconditional
    keen = conditional(example, 5.0)
    went = run(keen, seed=0)
    yes = next(t for t in went.transcript if t.kind == "extension_accept")
    assert yes.values["b_phase"] > yes.values["b_fighting"]
    plain = run(keen.model_copy(update={"agreement": example.agreement}), seed=0)
    assert went.summary.released == plain.summary.released
    assert went.summary.pause_days == plain.summary.pause_days
    assert went.ledger == plain.ledger


def test_ensemble_equals_single_runs_with_a_conditional_phase(example: Scenario) -> None:
    data = conditional(example, 1.0).model_dump(mode="json", by_alias=True)
    data["priors"] = [
        {
            "target": "value",
            "party": "b",
            "term": "pause_day",
            "distribution": {"kind": "uniform", "low": 0.0, "high": 4.0},
            "assumption": "spread to make b go on in some episodes and not in others",
        }
    ]
    s = Scenario.model_validate(data)
    result = run_ensemble(s, 40, seed=2)
    went = set()
    for i in range(40):
        single = run_draw(s, 2, i).summary
        got = result.episode(i)
        for name in ("pause_days", "released", "end_reason", "end_date", "pause_start"):
            assert getattr(single, name) == got[name], (i, name)
        went.add(len(single.phases))
    assert went == {1, 2}


def test_the_day_table_marks_where_each_phase_ends_and_begins(example: Scenario) -> None:
    """``ceasefire run``'s day table names the phases on the days they change: the end of
    phase 1 (with the pause held on until phase 2's date) and phase 2's first day."""
    from ceasefire.outputs import day_rows

    rows = {r.date: r.notes for r in day_rows(run(example, seed=0))}
    assert rows["2024-03-14"] == ["phase 1 ends, pause holds on"]
    assert rows["2024-03-18"] == ["phase 2 begins"]
    assert not any(
        "phase" in n
        for d, notes in rows.items()
        for n in notes
        if d not in ("2024-03-14", "2024-03-18")
    )
