"""The scenario guide (docs/scenarios.md): every YAML example loads and runs, and the field
reference is the one the models give (written once, in the models' descriptions)."""

from __future__ import annotations

import re

import pytest

from ceasefire import run
from ceasefire.scenario import loads_scenario, with_reference

from conftest import ROOT

GUIDE = ROOT / "docs" / "scenarios.md"
EXAMPLES = re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


def test_the_guide_has_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_each_example_loads_and_runs(index: int) -> None:
    scenario = loads_scenario(EXAMPLES[index], f"docs/scenarios.md example {index + 1}")
    episode = run(scenario, seed=0)
    assert episode.summary.agreement_reached
    assert not episode.summary.breaches


def test_the_field_reference_is_the_models() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert with_reference(text) == text, (
        "docs/scenarios.md's field reference is out of date: regenerate it with "
        "ceasefire.scenario.with_reference (see the module _fields)"
    )


def test_the_examples_say_what_the_guide_says_they_do() -> None:
    """The numbers the guide's prose gives for its examples come out of the engine."""
    first = run(loads_scenario(EXAMPLES[0], "first"), seed=0)
    assert first.summary.pause_days == 4
    batches = [t.counts for t in first.transcript if t.kind == "release_batch"]
    assert batches == [{"held_by_a": 2}] * 4
    counters = [sum(t.counts.values()) for t in first.transcript if t.kind == "counter_release"]
    assert counters == [6] * 4
    dated = run(loads_scenario(EXAMPLES[2], "dated"), seed=0)
    made = [t.counts for t in dated.transcript if t.kind == "counter_release"]
    # 12 January: 4 men at 20 and 12.5 from the two lists, then the 100 fixed on the date
    assert made[1:3] == [{"list_1": 4 * 20, "list_2": 50}, {"list_2": 100}]
    one_off = run(loads_scenario(EXAMPLES[4], "one-off"), seed=0).summary
    assert one_off.agreement_kind == "exchange" and one_off.pause_days == 0
    obliged = run(loads_scenario(EXAMPLES[5], "obligations"), seed=0)
    assert obliged.summary.obligations == {"b": {"aid_trucks": 300 * obliged.summary.pause_days}}
    assert obliged.summary.extensions  # the mediator's proposals, accepted
    assert any(t.kind == "obligation_due" for t in obliged.transcript)
    late = run(loads_scenario(EXAMPLES[3], "postponed"), seed=0).summary
    assert late.postponed == [
        {
            "due": "2024-03-07",
            "made": "2024-03-09",
            "party": "b",
            "what": "counter-releases for the verified hand-over",
        }
    ]
