"""Small builders for counterfactual scenarios (real scenarios, changed through the models)."""

from __future__ import annotations

from typing import Any

from ceasefire.outputs._charts import chart_scripts
from ceasefire.scenario import Scenario


def without_chart_scripts(html: str) -> str:
    """A report less its one block of vendored chart libraries (checked on its own by
    test_charts.py), so that the rest can be checked for scripts and network references."""
    assert html.count("<script") == html.count(chart_scripts())
    return html.replace(chart_scripts(), "")


def with_pool(s: Scenario, holder: str, category: str, custody: str, count: int) -> Scenario:
    """The scenario with the holding (holder, category, custody) set to ``count``."""
    holdings = [
        h.model_copy(update={"count": count})
        if (h.holder, h.category, h.custody) == (holder, category, custody)
        else h
        for h in s.holdings
    ]
    return s.model_copy(update={"holdings": holdings})


def with_agreement(s: Scenario, **changes: Any) -> Scenario:
    """The scenario with agreement parts replaced, e.g. exchange={"ratios": {...}}."""
    assert s.agreement is not None
    update: dict[str, Any] = {}
    for part, value in changes.items():
        current = getattr(s.agreement, part)
        update[part] = (
            current.model_copy(update=value)
            if isinstance(value, dict) and hasattr(current, "model_copy")
            else value
        )
    return s.model_copy(update={"agreement": s.agreement.model_copy(update=update)})


def revalidated(s: Scenario) -> Scenario:
    """Round-trip through validation, so a counterfactual is checked like a file."""
    return Scenario.model_validate(s.model_dump())


def _no_constant(name: str) -> Any:
    raise ValueError(f"not strict JSON: {name}")


def strict_loads(text: str | bytes) -> Any:
    """``json.loads`` that refuses ``NaN``, ``Infinity`` and ``-Infinity`` (as strict
    parsers do)."""
    import json

    return json.loads(text, parse_constant=_no_constant)
