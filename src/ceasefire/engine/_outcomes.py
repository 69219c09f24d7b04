"""What an outcome of the talks means: its terms, the flows it implies, each side's value.

An outcome assigns a value to every issue. With an agreement template it implies
flows: ``pause_days`` x ``releases_per_day`` captives from the holder's eligible
categories (``first_category`` first, then the template's order), and the
counter-releases by each category's ratio. An outcome the holder cannot make from
what it has in reach, or whose counter-releases exceed the other side's eligible
holdings, is not on the table. Each side's value is linear additive:

    value = sum_i weight_i * f_i(x_i)                   (issue value functions)
          + receive/give values of the implied flows    (the scenario's value model)
          + pause_days * (pause_day value + pressure)   (each day of pause vs fighting)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from ..scenario import Agreement, Batches, Exchange, Negotiation, Scenario
from ._bargaining import FloatArray, outcome_grid
from ._holdings import Holdings
from ._values import ValueModel


@dataclass(frozen=True)
class Table:
    """The outcomes on the table now, with each side's value of each."""

    issues: list[str]
    outcomes: list[tuple[Any, ...]]
    values: dict[str, FloatArray]

    def terms(self, index: int) -> dict[str, Any]:
        return dict(zip(self.issues, self.outcomes[index], strict=True))


def _issue_column(values: list[Any]) -> FloatArray:
    return np.array([float(v) if not isinstance(v, str) else np.nan for v in values])


def build_table(
    scenario: Scenario,
    holdings: Holdings,
    value_models: dict[str, ValueModel],
    pressure: dict[str, float],
) -> Table:
    n = scenario.negotiation
    assert n is not None
    issues = n.issues
    grid = outcome_grid([i.domain() for i in issues])
    columns = {i.id: [o[k] for o in grid] for k, i in enumerate(issues)}
    count = len(grid)
    days = _column_of_kind(n, columns, "pause_days", count, default=0.0)
    flows = _flows(scenario, n, holdings, columns, days, count)
    feasible = flows.feasible if flows is not None else np.ones(count, dtype=bool)

    values: dict[str, FloatArray] = {}
    for party, terms in n.parties.items():
        v = np.zeros(count)
        for issue_id, f in terms.issues.items():
            raw = columns[issue_id]
            if f.table is not None:
                table = f.table
                v = v + f.weight * np.array([table.get(str(x), 0.0) for x in raw])
            else:
                assert f.slope is not None
                v = v + f.weight * (_issue_column(raw) * f.slope + f.bias)
        model = value_models[party]
        if flows is not None:
            for c, counts in flows.by_category.items():
                receiver = flows.receiver[c]
                weight = model.receive.get(c, 0.0) if party == receiver else -model.give.get(c, 0.0)
                v = v + weight * counts
        v = v + days * (model.pause_day + pressure.get(party, 0.0))
        values[party] = v

    keep = np.nonzero(feasible)[0]
    return Table(
        issues=[i.id for i in issues],
        outcomes=[grid[k] for k in keep],
        values={p: v[keep] for p, v in values.items()},
    )


@dataclass(frozen=True)
class _Flows:
    by_category: dict[str, FloatArray]
    receiver: dict[str, str]
    feasible: np.ndarray


def _column_of_kind(
    n: Negotiation, columns: dict[str, list[Any]], kind: str, count: int, default: float
) -> FloatArray:
    for issue in n.issues:
        if issue.kind == kind:
            return _issue_column(columns[issue.id])
    return np.full(count, default)


def _flows(
    scenario: Scenario,
    n: Negotiation,
    holdings: Holdings,
    columns: dict[str, list[Any]],
    days: FloatArray,
    count: int,
) -> _Flows | None:
    t = n.template
    if t is None:
        return None
    per_day = _column_of_kind(n, columns, "releases_per_day", count, default=0.0)
    captives = days * per_day
    first = next((columns[i.id] for i in n.issues if i.kind == "first_category"), None)
    holder, other = t.batches_releaser, t.exchange_releaser
    by_category: dict[str, FloatArray] = {}
    receiver: dict[str, str] = {}
    for c in t.categories:
        by_category[c] = np.zeros(count)
        receiver[c] = other
    orders: dict[str, list[str]] = {}
    for k in range(count):
        head = str(first[k]) if first is not None else t.categories[0]
        orders.setdefault(head, [head, *(c for c in t.categories if c != head)])
    for head, order in orders.items():
        rows = np.array([first is None or str(first[k]) == head for k in range(count)])
        left = np.where(rows, captives, 0.0)
        for c in order:
            take = np.minimum(left, holdings.in_reach(holder, c))
            by_category.setdefault(c, np.zeros(count))
            receiver.setdefault(c, other)
            by_category[c] = by_category[c] + take
            left = left - take
    in_reach = holdings.eligible(holder, t.categories)
    feasible = captives <= in_reach

    ratio_of: dict[str, FloatArray] = {
        c: np.full(count, float(t.default_ratio)) for c in t.categories
    }
    for issue in n.issues:
        if issue.kind == "ratio" and issue.category is not None:
            ratio_of[issue.category] = _issue_column(columns[issue.id])
    counter = sum((ratio_of[c] * by_category[c] for c in t.categories), np.zeros(count))
    pools = {c: holdings.in_reach(other, c) for c in t.exchange_categories}
    total_pool = sum(pools.values())
    feasible = feasible & (counter <= total_pool)
    left = counter.copy()
    for c in t.exchange_categories:
        if t.exchange_split == "proportional":
            share = counter * (pools[c] / total_pool) if total_pool else np.zeros(count)
        else:
            share = np.minimum(left, pools[c])
            left = left - share
        by_category[c] = by_category.get(c, np.zeros(count)) + share
        receiver[c] = holder
    return _Flows(by_category, receiver, feasible)


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
