"""The engine's talks reach NegMAS's agreement, round and utilities on Genius domains with
exact ties, with ``negotiation.tie_break: negmas``.

tests/data/negmas_genius_ties.json holds NegMAS 0.16's results (SAOMechanism, both sides
BoulwareTBNegotiator, the first profile first) on the domains AmsterdamB, CameraB and
IntegerDomain of tests/data/domains, as ``ceasefire import-domain --ignore-discount``
imports them, NegMAS given the imported tables and weights; each case draws the
deadline and both reservation values. bench/negmas/make_genius_fixture.py made it;
NegMAS is not needed here.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ceasefire.engine import run
from ceasefire.scenario import Scenario, import_domain

DATA = Path(__file__).resolve().parent / "data"
FIXTURE: dict[str, Any] = json.loads((DATA / "negmas_genius_ties.json").read_text("utf-8"))
CASES: list[dict[str, Any]] = FIXTURE["cases"]
DOMAINS = ("amsterdam_b", "camera_b", "integer_domain")


@cache
def imported(domain: str) -> str:
    return import_domain([DATA / "domains" / domain], ignore_discount=True)


def scenario_for(case: dict[str, Any], tie_break: str) -> Scenario:
    data: dict[str, Any] = YAML(typ="safe").load(imported(case["domain"]))
    n = data["negotiation"]
    start: date = n["start"]
    data["calendar"] = {"start": start, "horizon": start + timedelta(days=case["n_steps"])}
    n["tie_break"] = tie_break
    for party, key in zip(n["parties"], ("a", "b"), strict=True):
        n["parties"][party]["reservation"] = case[f"reserved_{key}"]
        n["parties"][party]["deadline_days"] = case["n_steps"]
        assert n["parties"][party]["curve"] == {"kind": "boulware"}
    return Scenario.model_validate(data)


def outcome(case: dict[str, Any], tie_break: str) -> tuple[Any, ...]:
    """(terms in issue order, round, both values) of the engine's deal, or Nones."""
    s = run(scenario_for(case, tie_break)).summary
    if not s.agreements:
        assert s.end_reason == "talks_deadline" and s.talk_rounds == case["n_steps"]
        return (None, None, None, None)
    deal = s.agreements[0]
    values = list(deal["values"].values())
    return (list(deal["terms"].values()), deal["round"], *values)


def matches(case: dict[str, Any], got: tuple[Any, ...]) -> bool:
    expected = case["negmas"]
    if expected["agreement"] is None:
        return got == (None, None, None, None)
    return (
        got[:2] == (expected["agreement"], expected["round"])
        and got[2] == pytest.approx(expected["utility_a"], abs=1e-6)
        and got[3] == pytest.approx(expected["utility_b"], abs=1e-6)
    )


def test_fixture_header() -> None:
    header = FIXTURE["header"]
    assert header["negmas_version"] == "0.16.0"
    assert header["cases"] == len(CASES) == 48
    assert {c["domain"] for c in CASES} == set(DOMAINS)
    assert header["agreed"] == sum(c["negmas"]["agreement"] is not None for c in CASES)
    assert header["exact_ties"] == sum(c["negmas"]["exact_ties"] for c in CASES) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_same_agreement_round_and_utilities_as_negmas(case: dict[str, Any]) -> None:
    got = outcome(case, "negmas")
    assert matches(case, got), (got, case["negmas"])


def test_the_default_rule_differs_on_some_cases() -> None:
    differ = [c["id"] for c in CASES if not matches(c, outcome(c, "other_side"))]
    assert differ
