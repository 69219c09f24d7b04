"""Randomness comes only from the seeded generator: same scenario + seed, same episode."""

from __future__ import annotations

from ceasefire.engine import run
from ceasefire.outputs import ledger_csv, summary_json, transcript_jsonl
from ceasefire.scenario import Scenario

from helpers import with_agreement


def risky(s: Scenario) -> Scenario:
    return with_agreement(
        s, delay_probability=0.4, refusal_probability={"hamas": 0.15}, cure_attempts=1
    )


def outputs(s: Scenario, seed: int) -> tuple[str, str, str]:
    ep = run(s, seed=seed)
    return transcript_jsonl(ep), ledger_csv(ep), summary_json(ep)


def test_same_seed_gives_byte_identical_outputs(nov2023: Scenario) -> None:
    s = risky(nov2023)
    for seed in (0, 1, 12345):
        assert outputs(s, seed) == outputs(s, seed)


def test_seeds_change_the_drawn_delays_and_refusals(nov2023: Scenario) -> None:
    s = risky(nov2023)
    summaries = [run(s, seed=seed).summary for seed in range(40)]
    assert len({x.delays for x in summaries}) > 1
    assert len({(x.pause_days, x.end_reason) for x in summaries}) > 1
    assert any(x.end_reason == "breach" for x in summaries)
    assert any(x.end_reason == "no_eligible_batch" for x in summaries)


def test_a_refusal_cured_by_the_mediator_is_not_a_breach(nov2023: Scenario) -> None:
    s = risky(nov2023)
    cured = [
        ep
        for ep in (run(s, seed=seed) for seed in range(60))
        if any(e.kind == "breach_cured" for e in ep.transcript)
    ]
    assert cured
    for ep in cured:
        kinds = [e.kind for e in ep.transcript]
        first_cure = kinds.index("breach_cured")
        assert kinds[first_cure - 1] == "refusal"
        assert "breach" not in kinds[first_cure - 1 : first_cure + 1]


def test_certain_refusal_without_cure_is_a_breach_on_the_first_day(nov2023: Scenario) -> None:
    s = with_agreement(nov2023, refusal_probability={"hamas": 1.0})
    summary = run(s, seed=3).summary
    assert summary.end_reason == "breach" and summary.ended_by == "hamas"
    assert summary.end_date == "2023-11-24" and summary.pause_days == 1
    assert sum(summary.released["hamas"].values()) == 0


def test_no_probabilities_means_the_seed_does_not_matter(nov2023: Scenario) -> None:
    base = run(nov2023, seed=0)
    for seed in (1, 2, 99):
        other = run(nov2023, seed=seed)
        assert other.ledger == base.ledger and other.transcript == base.transcript
        assert other.summary.seed == seed
