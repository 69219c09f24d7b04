"""The execution terms of an agreed outcome, as the scenario's own :class:`Agreement`
(what the transcript and summary name: the dates, batches, ratios). The kernel sets
the same terms up in its state (``_kernel.agreement_from``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ..scenario import Agreement, Batches, Exchange, Scenario


def agreement_from(
    scenario: Scenario, terms: dict[str, Any], signed: date, mediator: str
) -> Agreement:
    """The execution terms of an agreed outcome."""
    n = scenario.negotiation
    assert n is not None and n.template is not None
    t = n.template
    kinds = {i.id: i for i in n.issues}
    days = next(int(v) for k, v in terms.items() if kinds[k].kind == "pause_days")
    per_day = next(int(v) for k, v in terms.items() if kinds[k].kind == "releases_per_day")
    head = next((str(v) for k, v in terms.items() if kinds[k].kind == "first_category"), None)
    categories = list(t.categories)
    if head is not None:
        categories = [head, *(c for c in categories if c != head)]
    ratios = {c: t.default_ratio for c in t.categories}
    for k, v in terms.items():
        issue = kinds[k]
        if issue.kind == "ratio" and issue.category is not None:
            ratios[issue.category] = int(v)
    return Agreement(
        mediator=mediator,
        signed=signed,
        start=signed + timedelta(days=t.start_after_days),
        initial_days=days,
        batches=Batches(releaser=t.batches_releaser, categories=categories, daily=[per_day] * days),
        exchange=Exchange(
            releaser=t.exchange_releaser,
            categories=list(t.exchange_categories),
            ratios=ratios,
            split=t.exchange_split,
        ),
        extension=t.extension,
        assumption="agreed in the talks",
    )
