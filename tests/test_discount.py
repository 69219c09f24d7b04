"""Discount factors in the talks (``negotiation.parties.<p>.discount``): the model, the
refused prior, no effect at factor 1, the summary's discounted values, and the ensemble
equal to single runs with discounting."""

from __future__ import annotations

from typing import Any

import pytest

from ceasefire.engine import run
from ceasefire.ensemble import NegotiationEnsembleResult, run_draw, run_ensemble
from ceasefire.scenario import Scenario, ScenarioError, load_scenario, loads_scenario

from conftest import ROOT

DECEMBER = ROOT / "scenarios" / "gaza-2023-12-proposal.yaml"
BENCH = ROOT / "tests" / "data" / "negmas_domain.yaml"


def with_discounts(s: Scenario, discounts: dict[str, dict[str, Any] | None]) -> Scenario:
    data = s.model_dump()
    for party, discount in discounts.items():
        data["negotiation"]["parties"][party]["discount"] = discount
    return Scenario.model_validate(data)


def parties(s: Scenario) -> list[str]:
    assert s.negotiation is not None
    return list(s.negotiation.parties)


@pytest.mark.parametrize(
    ("discount", "words"),
    [
        ({"factor": 0}, "greater than 0"),
        ({"factor": 1.5}, "less than or equal to 1"),
        ({"factor": 0.9, "per": "step"}, "'round' or 'time'"),
        ({"per": "round"}, "factor"),
    ],
)
def test_a_bad_discount_is_refused_where_it_is(discount: dict[str, Any], words: str) -> None:
    text = BENCH.read_text("utf-8")
    s = loads_scenario(text, "bench.yaml")
    party = parties(s)[0]
    marker = f"    {party}:\n"
    assert marker in text
    edited = text.replace(marker, marker + f"      discount: {discount}\n".replace("'", ""), 1)
    with pytest.raises(ScenarioError) as caught:
        loads_scenario(edited, "bench.yaml")
    message = str(caught.value)
    assert f"negotiation.parties.{party}.discount" in message and words in message


def test_a_prior_on_a_discount_factor_is_refused_clearly() -> None:
    text = BENCH.read_text("utf-8")
    party = parties(loads_scenario(text, "bench.yaml"))[0]
    text += (
        f"priors:\n  - {{target: discount, party: {party}, kind: uniform, low: 0.5, high: 0.9}}\n"
    )
    with pytest.raises(ScenarioError) as caught:
        loads_scenario(text, "bench.yaml")
    assert "a discount factor takes no prior" in str(caught.value)


def test_factor_one_is_no_discount() -> None:
    s = load_scenario(BENCH)
    plain = run(s)
    ones = run(with_discounts(s, {p: {"factor": 1.0, "per": "round"} for p in parties(s)}))
    assert ones.transcript == plain.transcript
    assert ones.summary.agreements == plain.summary.agreements
    assert "discounted_values" not in plain.summary.agreements[0]


def test_the_summary_gives_discounted_and_undiscounted_values() -> None:
    s = load_scenario(BENCH)
    a, b = parties(s)
    r = run(with_discounts(s, {a: {"factor": 0.999, "per": "round"}, b: None}))
    deal = r.summary.agreements[0]
    k = deal["round"]
    assert deal["discounted_values"][a] == pytest.approx(deal["values"][a] * 0.999**k, abs=1e-6)
    assert deal["discounted_values"][b] == deal["values"][b]
    # A discounted side concedes in effect sooner: the talks end otherwise than without.
    assert (k, deal["terms"]) != (
        run(s).summary.agreements[0]["round"],
        run(s).summary.agreements[0]["terms"],
    )


@pytest.mark.parametrize("per", ["round", "time"])
def test_the_ensemble_equals_single_runs_with_discounting(per: str) -> None:
    s = load_scenario(DECEMBER)
    a, b = parties(s)
    s = with_discounts(s, {a: {"factor": 0.97, "per": per}, b: {"factor": 0.9, "per": "round"}})
    n, seed = 24, 11
    result = run_ensemble(s, n, seed=seed)
    assert isinstance(result, NegotiationEnsembleResult)
    rounds = set()
    for i in range(n):
        ref = run_draw(s, seed, i).summary
        got = result.episode(i)
        deals = [
            {k: d[k] for k in ("date", "round", "via", "terms", "values")} for d in ref.agreements
        ]
        assert deals == got["agreements"], i
        assert (ref.talk_rounds, ref.end_reason, ref.end_date) == (
            got["talk_rounds"],
            got["end_reason"],
            got["end_date"],
        ), i
        rounds.add(ref.talk_rounds)
    undiscounted = run_draw(load_scenario(DECEMBER), seed, 0).summary
    assert (undiscounted.talk_rounds, undiscounted.agreements) != (
        run_draw(s, seed, 0).summary.talk_rounds,
        run_draw(s, seed, 0).summary.agreements,
    )


def test_above_every_value_a_discounted_side_offers_its_best() -> None:
    """With d = 0.5 per round, lo / D soon exceeds every value of side a: it keeps
    offering its best outcome (NegMAS's inverter clamps to the greatest), its threshold
    shown in undiscounted units, and accepts nothing."""
    s = load_scenario(BENCH)
    a = parties(s)[0]
    r = run(with_discounts(s, {a: {"factor": 0.5, "per": "round"}}))
    offers = [e for e in r.transcript if e.kind in ("offer", "counter") and e.actors[0] == a]
    assert len(offers) == r.summary.talk_rounds
    best = max(e.values[a] for e in offers)
    late = [e for e in offers if e.values[f"{a}_aspiration"] > best]
    assert len(late) > len(offers) // 2
    assert all(e.values[a] == best for e in late)
    assert r.summary.end_reason == "talks_deadline" and not r.summary.agreements
