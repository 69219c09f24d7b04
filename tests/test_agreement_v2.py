"""Version 2 of the scenario format: real agreements as they are written.

Dated hand-overs with their own composition, counter-release terms per category from
named lists, counter-releases fixed on dates, postponements, remains, one-off exchanges;
the January 2025 agreement reproduced from its sourced record; version-1 files refused
when they use a version-2 clause.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ceasefire import load_scenario, run
from ceasefire.ensemble import run_draw, run_ensemble
from ceasefire.scenario import Scenario, ScenarioError

from conftest import ROOT
from helpers import revalidated, with_agreement

JAN2025 = ROOT / "scenarios" / "gaza-2025-01-phase1.yaml"
RECORD = ROOT / "examples" / "jan2025" / "jan2025-ceasefire-phase1.csv"


def by_date(rows: list[Any], flow: str, party: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r.flow == flow and r.from_party == party:
            out[r.date][r.category] += r.count
    return {d: dict(v) for d, v in out.items()}


def record(flow: str, channel: str = "deal") -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with RECORD.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["flow"] == flow and r["channel"] == channel:
                out[r["date"]][r["category"]] += int(r["count"])
    return {d: dict(v) for d, v in out.items()}


@pytest.fixture(scope="module")
def jan() -> Scenario:
    return load_scenario(JAN2025)


def test_jan2025_hand_overs_are_the_records_date_by_date(jan: Scenario) -> None:
    """Each hand-over's composition by category, living and remains, on its date."""
    episode = run(jan, seed=0)
    assert by_date(episode.ledger, "release", "hamas") == record("hostages_released")
    assert episode.summary.remains == {"hamas": {"deceased": 8}}
    assert episode.summary.pause_days == 42
    assert episode.summary.breaches == []


def test_jan2025_counter_releases_total_the_records_on_each_date(jan: Scenario) -> None:
    episode = run(jan, seed=0)
    made = {
        d: sum(v.values()) for d, v in by_date(episode.ledger, "counter_release", "israel").items()
    }
    expected = {d: sum(v.values()) for d, v in record("prisoners_released").items()}
    assert made == expected
    assert sum(made.values()) == 1778


def test_jan2025_first_three_exchanges_come_from_the_agreed_per_captive_terms(
    jan: Scenario,
) -> None:
    """90, 200 and 110 are the 30 per civilian and 50 per female soldier (30 + 20) and
    30 per man of the terms, applied to each hand-over's composition: no hand-over of
    those dates carries its own counter-releases."""
    a = jan.agreement
    assert a is not None and a.batches.dated is not None
    rate = {c: sum(t.per_captive for t in terms) for c, terms in a.exchange.terms.items()}
    episode = run(jan, seed=0)
    made = by_date(episode.ledger, "counter_release", "israel")
    for h in a.batches.dated[:3]:
        assert h.counter is None
        owed = sum(rate[c] * n for c, n in h.releases.items())
        assert sum(made[h.date.isoformat()].values()) == owed
    # the female soldiers' 50 come 30 from the life list and 20 from the long one
    assert made["2025-01-25"] == {"prisoners_life": 4 * 30, "prisoners_long": 4 * 20}


def test_a_term_moves_the_counter_releases_as_it_implies(jan: Scenario) -> None:
    a = jan.agreement
    assert a is not None
    terms = dict(a.exchange.terms)
    more = [
        t.model_copy(update={"per_captive": t.per_captive + 10}) for t in terms["female_soldiers"]
    ]
    changed = revalidated(
        with_agreement(jan, exchange={"terms": {**terms, "female_soldiers": more}})
    )
    before = by_date(run(jan, seed=0).ledger, "counter_release", "israel")
    after = by_date(run(changed, seed=0).ledger, "counter_release", "israel")
    # 25 January: 4 female soldiers, each 10 more from each of the two lists
    assert sum(after["2025-01-25"].values()) - sum(before["2025-01-25"].values()) == 4 * 10 * 2
    # 19 January (civilian women only) is unchanged
    assert after["2025-01-19"] == before["2025-01-19"]


def test_the_postponement_moves_the_withheld_release(jan: Scenario) -> None:
    """Without the recorded postponement, the 602 owed for the six of 22 February are
    made that day; with it, on 27 February, and the summary names the move."""
    events = [e for e in jan.events if getattr(e, "until", None) is None]
    on_time = run(jan.model_copy(update={"events": events}), seed=0)
    late = run(jan, seed=0)
    made_on_time = by_date(on_time.ledger, "counter_release", "israel")
    made_late = by_date(late.ledger, "counter_release", "israel")
    assert sum(made_on_time["2025-02-22"].values()) == 602
    assert "2025-02-22" not in made_late
    assert sum(made_late["2025-02-27"].values()) == sum(made_on_time["2025-02-27"].values()) + 602
    assert late.summary.postponed == [
        {
            "due": "2025-02-22",
            "made": "2025-02-27",
            "party": "israel",
            "what": "counter-releases for the verified hand-over",
        }
    ]
    assert any(t.kind == "postponed" for t in late.transcript)


def test_a_short_pool_is_a_breach_on_the_hand_overs_day(jan: Scenario) -> None:
    """A hand-over the holder cannot make in full is a breach that day (not a smaller
    hand-over): the pause ends there."""
    holdings = [
        h.model_copy(update={"count": 2}) if h.category == "female_soldiers" else h
        for h in jan.holdings
    ]
    episode = run(jan.model_copy(update={"holdings": holdings}), seed=0)
    assert episode.summary.end_reason == "breach"
    assert episode.summary.end_date == "2025-01-25"
    assert episode.summary.breaches[0]["party"] == "hamas"


def test_ensemble_equals_single_runs_on_jan2025_with_risk(jan: Scenario) -> None:
    """Run for run, the compiled ensemble and the single run agree on the new clauses,
    with refusals, cures and drawn delays at play (so the draws' order matters)."""
    risky = revalidated(
        with_agreement(
            jan,
            refusal_probability={"hamas": 0.05, "israel": 0.05},
            cure_attempts=1,
            delay_probability=0.3,
        )
    )
    result = run_ensemble(risky, 200, seed=4)
    fields = ("pause_days", "released", "end_reason", "end_date", "ended_by", "delays")
    reasons = set()
    for i in range(200):
        single = run_draw(risky, 4, i).summary
        got = result.episode(i)
        for name in fields:
            assert getattr(single, name) == got[name], (i, name)
        reasons.add(single.end_reason)
    assert reasons == {"breach", "terms_completed"}


# -- small scenarios written from the docs ------------------------------------------------

BASE: dict[str, Any] = {
    "version": 2,
    "name": "a small exchange",
    "calendar": {"start": "2024-03-01", "horizon": "2024-03-20"},
    "parties": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}],
    "categories": [
        {"id": "held_by_a", "name": "held by A"},
        {"id": "remains", "name": "remains held by A", "deceased": True},
        {"id": "held_by_b", "name": "held by B"},
        {"id": "other_list", "name": "another list held by B"},
    ],
    "holdings": [
        {"holder": "a", "category": "held_by_a", "custody": "a", "count": 10},
        {"holder": "a", "category": "remains", "custody": "a", "count": 2},
        {"holder": "b", "category": "held_by_b", "custody": "b", "count": 100},
        {"holder": "b", "category": "other_list", "custody": "b", "count": 100},
    ],
    "mediators": [{"id": "m", "name": "M", "channels": [["a", "b"]]}],
    "agreement": {
        "mediator": "m",
        "start": "2024-03-05",
        "initial_days": 5,
        "batches": {
            "releaser": "a",
            "categories": ["held_by_a", "remains"],
            "dated": [
                {"date": "2024-03-05", "releases": {"held_by_a": 3}},
                {"date": "2024-03-08", "releases": {"held_by_a": 1, "remains": 2}},
            ],
        },
        "exchange": {
            "releaser": "b",
            "categories": ["held_by_b", "other_list"],
            "terms": {
                "held_by_a": [
                    {"per_captive": 2.5, "from": ["held_by_b"]},
                    {"per_captive": 1, "from": ["other_list"]},
                ],
                "remains": [{"per_captive": 1.5, "from": ["held_by_b"]}],
            },
        },
    },
    "values": {
        "units": "points",
        "parties": {
            "a": {"receive": {"held_by_b": 1, "other_list": 1}, "give": {"held_by_a": 1}},
            "b": {"receive": {"held_by_a": 1}, "give": {"held_by_b": 1, "other_list": 1}},
        },
    },
}


def scenario(**agreement: Any) -> Scenario:
    data = {**BASE, "agreement": {**BASE["agreement"], **agreement}}
    return Scenario.model_validate(data)


def test_non_whole_rates_round_each_lists_total_halves_up() -> None:
    episode = run(scenario(), seed=0)
    made = by_date(episode.ledger, "counter_release", "b")
    # 3 x 2.5 = 7.5 -> 8 from held_by_b, 3 x 1 from other_list
    assert made["2024-03-05"] == {"held_by_b": math.floor(3 * 2.5 + 0.5), "other_list": 3}
    # 1 x 2.5 + 2 x 1.5 = 5.5 -> 6 from held_by_b (one list, summed before rounding)
    assert made["2024-03-08"] == {"held_by_b": math.floor(2.5 + 2 * 1.5 + 0.5), "other_list": 1}
    assert episode.summary.remains == {"a": {"remains": 2}}
    released = [t for t in episode.transcript if t.kind == "release_batch"]
    assert "2 remains (remains)" in released[-1].text


def test_a_one_off_exchange_has_no_pause_and_says_so() -> None:
    one_off = scenario(kind="exchange", initial_days=0)
    episode = run(one_off, seed=0)
    s = episode.summary
    assert s.pause_days == 0 and s.pause_start is None
    assert s.agreement_kind == "exchange" and s.agreement_reached
    assert s.end_reason == "terms_completed" and s.end_date == "2024-03-08"
    kinds = [t.kind for t in episode.transcript]
    assert "pause_start" not in kinds and "fighting_resumed" not in kinds
    texts = " ".join(t.text for t in episode.transcript)
    assert "one-off exchange" in texts and "1 days" not in texts
    assert {r.mode for r in episode.ledger} == {"fighting"}
    # the hand-overs and counter-releases are made all the same
    assert sum(s.released["a"].values()) == 6
    assert "agreement_kind" not in run(scenario(), seed=0).summary.to_dict()


def test_dated_counter_releases_are_made_on_their_date() -> None:
    s = scenario(
        exchange={
            **BASE["agreement"]["exchange"],
            "dated": [{"date": "2024-03-06", "releases": {"other_list": 7}}],
        }
    )
    made = by_date(run(s, seed=0).ledger, "counter_release", "b")
    assert made["2024-03-06"] == {"other_list": 7}


# -- refusals ------------------------------------------------------------------------------


def refused(tmp_path: Path, text: str) -> list[Any]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    return e.value.problems


def jan_text(old: str, new: str) -> str:
    text = JAN2025.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_version_1_file_with_a_version_2_clause_is_refused_at_the_clause(
    tmp_path: Path,
) -> None:
    text = jan_text("version: 2\n", "version: 1\n")
    problems = refused(tmp_path, text)
    messages = " | ".join(p.message for p in problems)
    assert "needs `version: 2`" in messages
    at = {(p.field, p.line) for p in problems}
    assert ("agreement.batches.dated", line_of(text, "    dated:")) in at
    assert ("categories[3].deceased", line_of(text, "deceased: true")) in at


@pytest.mark.parametrize(
    ("old", "new", "field", "said"),
    [
        (
            "      - date: 2025-02-27\n        releases: {deceased: 4}",
            "      - date: 2025-03-04\n        releases: {deceased: 4}",
            "agreement.batches.dated[9].date",
            "outside the pause",
        ),
        (
            "        - per_captive: 30\n          from: [prisoners_long]",
            "        - per_captive: 30\n          from: [foreign_thai]",
            "agreement.exchange.terms.men[0].from.foreign_thai",
            "not among the categories of agreement.exchange.categories",
        ),
        (
            "    until: 2025-02-27",
            "    until: 2025-03-10",
            "events[3].until",
            "outside the pause",
        ),
        (
            "        releases: {men: 6}\n        counter: {prisoners_mixed: 602}",
            "        releases: {men: 6}\n        counter: {foreign_thai: 602}",
            "agreement.batches.dated[8].counter.foreign_thai",
            "not among the categories",
        ),
        (
            "  - kind: delay\n    date: 2025-02-22\n    party: israel",
            "  - kind: delay\n    date: 2025-02-23\n    party: hamas",
            "events[3].date",
            "no hand-over of 'hamas' is dated 2025-02-23",
        ),
    ],
)
def test_wrong_clauses_are_refused_where_they_are(
    tmp_path: Path, old: str, new: str, field: str, said: str
) -> None:
    text = jan_text(old, new)
    problems = refused(tmp_path, text)
    hit = [p for p in problems if p.field == field]
    assert hit, [(p.field, p.message) for p in problems]
    assert said in hit[0].message and hit[0].line is not None


def test_terms_for_a_category_never_released_are_refused(tmp_path: Path) -> None:
    text = jan_text(
        "      men:\n        - per_captive: 30",
        "      foreign_thai:\n        - per_captive: 1\n          from: [prisoners_long]\n"
        "      men:\n        - per_captive: 30",
    )
    problems = refused(tmp_path, text)
    assert any(
        p.field == "agreement.exchange.terms.foreign_thai" and "never releases" in p.message
        for p in problems
    )


def test_an_impossible_date_is_refused_at_its_place(tmp_path: Path) -> None:
    text = jan_text("  start: 2025-01-19\n", "  start: 2025-02-30\n")
    problems = refused(tmp_path, text)
    assert problems[0].line == line_of(text, "start: 2025-02-30")
    assert "2025-02-30 is not a date that exists" in problems[0].message


def test_version_1_scenarios_keep_their_hash() -> None:
    """The version-2 fields at their defaults leave a version-1 file's hash as it was
    (the golden fixtures hold the hashes of before)."""
    from ceasefire.scenario import content_hash

    s = load_scenario(ROOT / "scenarios" / "gaza-2023-11-truce.yaml")
    again = Scenario.model_validate(s.model_dump())
    assert content_hash(again) == content_hash(s)
    assert np.all([c.deceased is False for c in s.categories])


# -- monitoring the January 2025 record -----------------------------------------------------


def test_jan2025_record_against_its_terms_shows_only_the_late_release(tmp_path: Path) -> None:
    """Imported as it is, the record's one departure from the terms is the release
    withheld on 22 February and made on 27 February; every hand-over and every other
    counter-release is as the terms have it, and nothing is reported short overall."""
    import json
    import subprocess
    import sys

    def cli(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "ceasefire", *args],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    db = str(tmp_path / "ledger.sqlite")
    vocabulary = ROOT / "examples" / "jan2025" / "vocabulary.yaml"
    cli("monitor", "init", "--db", db, "--scenario", str(JAN2025), "--vocabulary", str(vocabulary))
    cli("monitor", "import", "--db", db, str(RECORD))
    report = json.loads(cli("monitor", "compliance", "--db", db, str(JAN2025), "--json"))
    assert report["late"] == [
        {"due_on": "2025-02-22", "made_on": "2025-02-27", "count": 602, "days": 5}
    ]
    assert not report["compliant"]
    t = report["totals"]
    assert (t["status"], t["counter_status"], t["ratio_status"]) == ("met", "met", "kept")
    assert t["counted"] == t["due"] == 33 and t["counter_done"] == t["counter_owed"] == 1778
    days = {d["date"]: d for d in report["days"]}
    short = {d for d, v in days.items() if v["counter_status"].startswith(("short", "above"))}
    assert short == {"2025-02-22", "2025-02-27"}
    assert all(v["status"] in ("met", "none due") for v in days.values())
    assert all(v["categories_kept"] for v in days.values())
    assert days["2025-01-19"]["side_channel"] == {}
    assert days["2025-01-30"]["side_channel"] == {"foreign_thai": 5}
    # obligations beyond captives: the aid trucks the record counts, against 600 a day
    aid = {o["id"]: o for o in report["obligations"]}["aid_trucks"]
    record_aid = record("aid_entry")
    assert [d[0] for d in aid["days"]] == sorted(record_aid)
    short = [d[0] for d in aid["days"] if d[2] < d[1]]
    assert short == [d for d, v in sorted(record_aid.items()) if v["aid_trucks"] < 600]
    assert aid["status"] == f"short on {len(short)} of {len(record_aid)} days observed"
    assert {o["id"]: o["status"] for o in report["obligations"]}["fuel_trucks"] == "not observed"


# -- obligations beyond captives, and who proposes an extension ------------------------------


def nov_v2() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "gaza-2023-11-truce.yaml").model_copy(
        update={"version": 2}
    )


def with_obligation(s: Scenario, give_price: float) -> Scenario:
    """November's truce with 200 aid trucks a day owed by Israel, priced by Israel at
    ``give_price`` a truck."""
    a = s.agreement
    assert a is not None
    data = s.model_dump(by_alias=True)
    data["agreement"]["obligations"] = [{"id": "aid_trucks", "party": "israel", "per_day": 200}]
    data["values"]["parties"]["israel"]["give"]["aid_trucks"] = give_price
    return Scenario.model_validate(data)


def test_a_counted_obligation_is_owed_each_pause_day_and_priced() -> None:
    base = run(nov_v2(), seed=0).summary
    free = run(with_obligation(nov_v2(), 0.0), seed=0).summary
    assert free.pause_days == base.pause_days
    assert free.obligations == {"israel": {"aid_trucks": 200 * free.pause_days}}
    # priced high enough by the side that owes it, it no longer accepts an extension
    costly = run(with_obligation(nov_v2(), 1e6), seed=0).summary
    assert costly.pause_days < base.pause_days
    assert costly.end_reason == "extension_declined" and costly.ended_by == "israel"


def with_proposer(s: Scenario, proposer: str) -> Scenario:
    data = s.model_dump(by_alias=True)
    data["agreement"]["extension"]["proposer"] = proposer
    return Scenario.model_validate(data)


@pytest.mark.parametrize("proposer", ["hamas", "israel", "qatar"])
def test_whoever_proposes_an_extension_both_sides_must_value_it(proposer: str) -> None:
    """The decision is both sides' (each must value the extension above fighting): who
    proposes changes who speaks first, not the outcome; the transcript names them."""
    base = run(nov_v2(), seed=0)
    episode = run(with_proposer(nov_v2(), proposer), seed=0)
    assert episode.summary.pause_days == base.summary.pause_days
    assert episode.summary.extensions == base.summary.extensions
    offers = [t for t in episode.transcript if t.kind == "extension_offer"]
    assert offers and all(t.actors[0] == proposer for t in offers)
    if proposer == "hamas":  # the holder: the default, word for word
        assert [t.text for t in episode.transcript] == [t.text for t in base.transcript]


def test_the_other_side_that_values_fighting_more_proposes_no_extension() -> None:
    s = with_proposer(nov_v2(), "israel")
    data = s.model_dump(by_alias=True)
    data["values"]["parties"]["israel"]["fighting_day"] = 1e6
    episode = run(Scenario.model_validate(data), seed=0)
    assert (
        episode.summary.end_reason == "extension_declined" and episode.summary.ended_by == "israel"
    )
    assert "proposed no extension" in episode.summary.end_detail
    assert not episode.summary.extensions


# -- warnings at check time, and talks inside a pause -----------------------------------------


def test_check_warns_of_clauses_without_effect_and_implicit_defaults(tmp_path: Path) -> None:
    from ceasefire.scenario import check_file

    text = jan_text(
        "      receive: {civilian_women: 10, female_soldiers: 10, men: 10, deceased: 5}",
        "      receive: {civilian_women: 10, female_soldiers: 10, deceased: 5, foreign_thai: 1}",
    )
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    _, warnings = check_file(path)
    said = {(w.field, w.message.split(":")[0]) for w in warnings}
    assert (
        "values.parties.israel.receive",
        "'men' is released under the deal but 'israel' does not price it under `receive`",
    ) in said
    unmoved = [w for w in warnings if w.field == "values.parties.israel.receive.foreign_thai"]
    assert unmoved == []  # the Thai nationals move, through the side channel
    assert all(w.line is not None for w in warnings)
    _, none = check_file(JAN2025)
    assert none == []


def test_talks_inside_the_pause_are_refused_not_deferred() -> None:
    """A negotiation block starting inside the pause was silently deferred to the day after
    it; no clause lets talks run during a pause yet, so it is refused, at its field."""
    import json

    from ceasefire.scenario import loads_scenario

    dec = load_scenario(ROOT / "scenarios" / "gaza-2023-12-proposal.yaml")
    nov = load_scenario(ROOT / "scenarios" / "gaza-2023-11-truce.yaml")
    assert dec.negotiation is not None and nov.agreement is not None
    data = dec.model_dump(mode="json", by_alias=True)
    agreement = nov.agreement.model_dump(mode="json", by_alias=True)
    agreement["start"] = agreement["signed"] = dec.negotiation.start.isoformat()
    data["agreement"] = agreement
    with pytest.raises(ScenarioError) as e:
        loads_scenario(json.dumps(data), "inside.json")
    inside = [p for p in e.value.problems if p.field == "negotiation.start"]
    assert inside and "inside the pause" in inside[0].message


# -- phases: talks during a pause, the next phase, and a continuation clause --------------------


def phases(**changes: Any) -> Scenario:
    """The guide's two-phase example, with changes to its data."""
    import re

    from ceasefire.scenario import loads_scenario

    guide = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    text = next(t for t in re.findall(r"```yaml\n(.*?)```", guide, re.S) if "Two phases" in t)
    data = loads_scenario(text, "phases").model_dump(mode="json", by_alias=True)
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = data
        for part in parents:
            target = target[part]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return Scenario.model_validate(data)


def days_of(episode: Any, mode: str) -> list[str]:
    return [r.date for r in episode.ledger if r.flow == f"{mode}_day"]


def test_the_next_phase_agreed_during_the_pause_follows_without_fighting() -> None:
    episode = run(phases(), seed=0)
    kinds = [t.kind for t in episode.transcript]
    assert "phase_end" in kinds and "pause_holds_on" in kinds
    agreed = next(t for t in episode.transcript if t.kind == "agreement")
    assert "next phase" in agreed.text
    pause = days_of(episode, "pause")
    first, last = pause[0], pause[-1]
    fighting_inside = [d for d in days_of(episode, "fighting") if first < d < last]
    assert fighting_inside == []  # one pause, through both phases
    s = episode.summary
    deal = s.agreements[0]
    # the first phase's 10 days, the days it held on while the talks went on, then the
    # next phase's days as agreed
    held = next(t for t in episode.transcript if t.kind == "pause_holds_on")
    phase_end = next(t for t in episode.transcript if t.kind == "phase_end")
    held_days = phase_end.day - held.day
    assert s.pause_days == 10 + held_days + deal["terms"]["pause_days"]


def test_without_a_continuation_the_pause_ends_with_its_phase() -> None:
    episode = run(phases(**{"agreement.continuation": None}), seed=0)
    s = episode.summary
    pause = days_of(episode, "pause")
    assert pause[:10] == days_of(run(phases(), seed=0), "pause")[:10]
    # the talks went on after the pause ended: the next pause starts after fighting
    assert s.agreements
    fighting_between = [d for d in days_of(episode, "fighting") if pause[0] < d < pause[-1]]
    assert fighting_between


def test_the_continuation_ends_at_its_limit() -> None:
    episode = run(phases(**{"agreement.continuation": {"limit_days": 2}}), seed=0)
    s = episode.summary
    assert s.end_reason == "continuation_ended" or s.agreements
    ends = [t for t in episode.transcript if t.kind == "pause_end"]
    assert ends and "the continuation's limit was reached" in ends[0].text
    assert ends[0].date == "2024-03-16"  # the phase's last day, 14 March, and 2 more


def test_ensemble_equals_single_runs_with_phases() -> None:
    s = phases(
        priors=[
            {
                "target": "reservation",
                "party": "a",
                "distribution": {"kind": "uniform", "low": 0.0, "high": 1.4},
                "assumption": "spread to make some talks fail",
            }
        ]
    )
    result = run_ensemble(s, 60, seed=9)
    lengths = set()
    for i in range(60):
        single = run_draw(s, 9, i).summary
        got = result.episode(i)
        for name in ("pause_days", "released", "end_reason", "end_date", "pause_start"):
            assert getattr(single, name) == got[name], (i, name)
        lengths.add(single.pause_days)
    assert len(lengths) > 2  # with and without the next phase, and its length


def test_check_warns_of_side_channel_releases_that_cannot_be_made(tmp_path: Path) -> None:
    from ceasefire.scenario import check_file

    text = jan_text(
        "      - date: 2025-01-30\n        category: foreign_thai",
        "      - date: 2025-03-10\n        category: men",
    )
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    _, warnings = check_file(path)
    fields = {w.field for w in warnings}
    assert "side_channels[0].releases[0].date" in fields  # after the pause it requires
    text = jan_text(
        "        category: foreign_thai\n        count: 5",
        "        category: prisoners_women\n        count: 5",
    )
    path.write_text(text, encoding="utf-8")
    _, warnings = check_file(path)
    assert any(
        w.field == "side_channels[0].releases[0].category" and "holds no" in w.message
        for w in warnings
    )
