"""A scenario as flat, typed arrays: what the episode kernel reads.

The kernel (``_kernel``) works on numbers only, so that the same functions run as plain
Python for a single run and compiled for an ensemble. Everything named in the scenario
becomes an index, in a fixed order:

* parties in file order; categories as declared, then any other id the scenario uses;
  custodies: the parties, then the groups; mediators in file order;
* the outcomes of the talks: the issues' domains, first issue outermost.

:class:`Plan` holds what is the same for every episode (the structure); :class:`Params`
the numbers a prior may replace (holdings, values, pressure, reservation, issue weights,
relay delays, delay and refusal probabilities), one row per episode.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..scenario import (
    Agreement,
    CustodyEvent,
    DelayEvent,
    HoldingsEvent,
    PressureEvent,
    Scenario,
    ValueEvent,
)
from ._schedule import initial_batches

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

# Event kinds (column EV_KIND of ``Plan.events``).
EV_HOLDINGS, EV_CUSTODY, EV_VALUE, EV_PRESSURE, EV_DELAY = range(5)
# Value terms (column EV_C of a value event).
TERM_RECEIVE, TERM_GIVE, TERM_PAUSE_DAY, TERM_FIGHTING_DAY = range(4)
TERMS = ("receive", "give", "pause_day", "fighting_day")
NONE = -1

# Slots of an agreement's integer vector (the scenario's, or one built from a deal).
(
    AG_HOLDER,
    AG_OTHER,
    AG_MEDIATOR,
    AG_NB,
    AG_NX,
    AG_XSPLIT,
    AG_BSPLIT,
    AG_DAYS,
    AG_HAS_EXT,
    AG_STEP_DAYS,
    AG_PER_STEP,
    AG_LIMIT_DAYS,
    AG_MAX_DAYS,
    AG_CURES,
    AG_START,
    AG_DATED,  # 1: dated hand-overs instead of daily batches
    AG_ONE_OFF,  # 1: a one-off exchange, without a pause
    AG_PROPOSER,  # who proposes an extension: PROPOSED_BY_*, or a mediator's index
    AG_HOLD_ON,  # 1: the pause holds on after the phase while talks go on
    AG_HOLD_LIMIT,  # the most days it holds on so (-1: no limit)
    AG_TERMS,  # 1: the agreement's per-category counter-release terms apply
    AG_CONDITIONAL,  # a written phase: 1 if both sides must value it above fighting
    AG_TOTAL,  # a written phase: the captives its hand-overs release in all
    AG_CATS,
) = range(24)
PROPOSED_BY_HOLDER, PROPOSED_BY_OTHER = -1, -2
SPLITS = ("in_order", "proportional")
BATCH_SPLITS = ("front_loaded", "even")


def agreement_width(categories: int) -> int:
    """Length of an agreement vector: the slots, then batch categories, exchange
    categories and each category's ratio."""
    return AG_CATS + 3 * categories


@dataclass
class Plan:
    """The structure of a scenario, the same for every episode (see the module)."""

    scenario: Scenario
    parties: tuple[str, ...]
    categories: tuple[str, ...]
    custodies: tuple[str, ...]
    mediators: tuple[str, ...]
    n_days: int
    custody_order: I64  # [party, k]: custodies a holder draws from, own first (-1: none)
    events: I64  # [event, (day, kind, a, b, c, change)]
    event_change: F64  # [event]: a value or pressure change
    side: I64  # [release, (day, channel, releaser, category, count, requires_pause)]
    agreement: I64  # the scenario's agreement (AG_* slots), or empty
    initial_due: I64  # its initial batches
    # talks: first mover, other side, talks mediator (-1: direct), its stall limit
    # (-1: none), start day (-1: no talks), restart after days (-1: never), template (0/1)
    talks: I64
    # [party, (curve exponent, deadline days, breakdown probability, discount factor,
    # 1 if the discount is per unit of relative time)]
    negotiators: F64
    tolerance: float
    issues: tuple[str, ...]
    outcomes: list[tuple[Any, ...]]
    grid_days: F64  # [outcome]: its pause days (0 if no issue sets them)
    grid_per_day: F64
    grid_head: I64  # [outcome]: its first category (-1: the template's order)
    grid_ratio: F64  # [outcome, category]: counter-releases per captive
    issue_columns: F64  # [party, issue, outcome]: the issue value function, unweighted
    issue_order: I64  # [party, j]: the party's issues in its file order (-1: none)
    # [party, outcome]: its place in the side's NegMAS tie order (tie_break: negmas), or
    # no columns (tie_break: other_side)
    tie_rank: I64
    template: I64  # a deal's agreement vector but for days, batches and ratios
    flow_categories: I64  # categories an outcome moves, in value-sum order
    flow_to_holder: I64  # [flow category]: 1 if the template's holder receives it
    handovers: I64  # [h, (day, pairs, (category, count)...)]: dated hand-overs
    handover_counter: I64  # [h, (has its own, count by category...)]
    groups: I64  # [g, (split, n, categories...)]: the terms' counter-release lists
    group_rate: F64  # [g, category released]: counter-releases per captive from list g
    xdated: I64  # [r, (day, count by category...)]: counter-releases fixed on dates
    postpone: I64  # [j, (party, from day, until day, event)]
    obligations: I64  # [o, (party, per day, by day, its id's category index)]
    # [k, (agreement vector, batches due by day...)]: the phases written in the
    # agreement after its own, each as an agreement vector (AG_START: its date, -1 the
    # day after the previous phase) followed by its daily batches
    phases: I64


@dataclass
class Params:
    """The numbers a prior may replace, one row per episode."""

    holdings: I64  # [episode, party, category, custody]
    relay_delay: I64  # [episode, mediator]
    party: F64  # [episode, (pressure, reservation, pause day, fighting day, refusal), party]
    flows: F64  # [episode, (receive, give), party, category]
    issue_weight: F64  # [episode, party, issue]
    delay_probability: F64  # [episode]

    def __len__(self) -> int:
        return int(self.delay_probability.size)


P_PRESSURE, P_RESERVATION, P_PAUSE_DAY, P_FIGHTING_DAY, P_REFUSAL = range(5)


def _categories(s: Scenario) -> list[str]:
    out = [c.id for c in s.categories]

    def add(c: str | None) -> None:
        if c is not None and c not in out:
            out.append(c)

    for h in s.holdings:
        add(h.category)
    for terms in s.values.parties.values():
        for c in (*terms.receive, *terms.give):
            add(c)
    if s.agreement is not None:
        for c in (*s.agreement.batches.categories, *s.agreement.exchange.categories):
            add(c)
        for c in s.agreement.exchange.ratios:
            add(c)
        for c, counter_terms in s.agreement.exchange.terms.items():
            add(c)
            for t in counter_terms:
                for x in t.from_:
                    add(x)
    for e in s.events:
        add(getattr(e, "category", None))
    if s.agreement is not None:  # an obligation's id, last: it may be priced like one
        for o in s.agreement.obligations:
            add(o.id)
    for sc in s.side_channels:
        for r in sc.releases:
            add(r.category)
    n = s.negotiation
    if n is not None:
        for i in n.issues:
            add(i.category)
            if i.kind == "first_category":
                for v in i.domain():
                    add(str(v))
        if n.template is not None:
            for c in (*n.template.categories, *n.template.exchange_categories):
                add(c)
    return out


def build_plan(s: Scenario) -> Plan:
    parties = tuple(p.id for p in s.parties)
    categories = tuple(_categories(s))
    groups = sorted(g.id for g in s.groups)
    custodies = parties + tuple(g for g in (g.id for g in s.groups) if g not in parties)
    mediators = tuple(m.id for m in s.mediators)
    pi = {p: i for i, p in enumerate(parties)}
    ci = {c: i for i, c in enumerate(categories)}
    ki = {k: i for i, k in enumerate(custodies)}
    mi = {m: i for i, m in enumerate(mediators)}
    n_p, n_c, n_k = len(parties), len(categories), len(custodies)
    start = s.calendar.start
    n_days = (s.calendar.horizon - start).days + 1

    order = np.full((n_p, n_k), NONE, dtype=np.int64)
    for p, party in enumerate(parties):
        # Holdings._sources: own custody first, then the groups by id.
        keys = [party, *(g for g in groups if g != party)]
        for j, key in enumerate(keys):
            order[p, j] = ki[key]

    events = np.zeros((len(s.events), 6), dtype=np.int64)
    change = np.zeros(len(s.events))
    for j, e in enumerate(s.events):
        row = events[j]
        row[0] = (e.date - start).days
        if isinstance(e, HoldingsEvent):
            row[1:] = (EV_HOLDINGS, pi[e.holder], ci[e.category], ki[e.custody], e.change)
        elif isinstance(e, CustodyEvent):
            row[1:] = (EV_CUSTODY, ki[e.group], int(e.reachable), 0, 0)
        elif isinstance(e, ValueEvent):
            cat = ci[e.category] if e.category is not None else NONE
            row[1:] = (EV_VALUE, pi[e.party], cat, TERMS.index(e.term), 0)
            change[j] = e.change
        elif isinstance(e, PressureEvent):
            row[1:] = (EV_PRESSURE, pi[e.party], 0, 0, 0)
            change[j] = e.change
        elif isinstance(e, DelayEvent):
            row[1:] = (EV_DELAY, pi[e.party] if e.party else NONE, 0, 0, 0)

    side_rows = [
        ((r.date - start).days, j, pi[sc.releaser], ci[r.category], r.count, sc.requires_pause)
        for j, sc in enumerate(s.side_channels)
        for r in sc.releases
    ]
    side = np.array(side_rows, dtype=np.int64).reshape(len(side_rows), 6)

    agreement = np.zeros(0, dtype=np.int64)
    due = np.zeros(0, dtype=np.int64)
    phases = np.zeros((0, agreement_width(n_c)), dtype=np.int64)
    if s.agreement is not None:
        agreement = agreement_vector(s.agreement, pi, ci, mi, n_c, (s.agreement.start - start).days)
        due = np.array(initial_batches(s.agreement), dtype=np.int64)
        phases = _phases(s.agreement, pi, ci, mi, n_c, start)
    dated = _dated(s, pi, ci, n_c)

    n = s.negotiation
    talks = np.full(8, NONE, dtype=np.int64)
    negotiators = np.zeros((n_p, 5))
    negotiators[:, 3] = 1.0
    issues: tuple[str, ...] = ()
    outcomes: list[tuple[Any, ...]] = []
    tolerance = 0.0
    n_i = 0
    template = np.zeros(agreement_width(n_c), dtype=np.int64)
    flow_categories: list[int] = []
    flow_to_holder: list[int] = []
    if n is not None:
        first = pi[n.first_mover]
        other = next(i for i, p in enumerate(parties) if p != n.first_mover)
        mediator = next((m for m in s.mediators if m.id == n.mediator), None)
        talks[:] = (
            first,
            other,
            mi[mediator.id] if mediator else NONE,
            mediator.stall_limit_rounds
            if mediator is not None and mediator.stall_limit_rounds
            else NONE,
            (n.start - start).days,
            NONE if n.restart_after_days is None else n.restart_after_days,
            int(n.template is not None),
            int(n.during_pause),
        )
        for party, terms in n.parties.items():
            discount = terms.discount
            negotiators[pi[party]] = (
                terms.curve.e,
                terms.deadline_days,
                terms.breakdown_probability,
                1.0 if discount is None else discount.factor,
                float(discount is not None and discount.per == "time"),
            )
        tolerance = n.acceptance_tolerance
        issues = tuple(i.id for i in n.issues)
        outcomes = list(itertools.product(*[i.domain() for i in n.issues]))
        n_i = len(issues)
    n_g = len(outcomes)
    columns = [[o[k] for o in outcomes] for k in range(n_i)]

    def numeric(values: list[Any]) -> F64:
        return np.array([float(v) if not isinstance(v, str) else np.nan for v in values])

    def of_kind(kind: str) -> F64:
        assert n is not None
        for k, issue in enumerate(n.issues):
            if issue.kind == kind:
                return numeric(columns[k])
        return np.zeros(n_g)

    grid_days = np.zeros(n_g)
    grid_per_day = np.zeros(n_g)
    grid_head = np.full(n_g, NONE, dtype=np.int64)
    grid_ratio = np.zeros((n_g, n_c))
    issue_columns = np.zeros((n_p, max(n_i, 1), n_g))
    issue_order = np.full((n_p, max(n_i, 1)), NONE, dtype=np.int64)
    if n is not None:
        grid_days = of_kind("pause_days")
        grid_per_day = of_kind("releases_per_day")
        index = {i.id: k for k, i in enumerate(n.issues)}
        for party_id, negotiator in n.parties.items():
            row = pi[party_id]
            for j, (issue_id, f) in enumerate(negotiator.issues.items()):
                k = index[issue_id]
                issue_order[row, j] = k
                if f.table is not None:
                    table = f.table
                    issue_columns[row, k] = np.array([table.get(str(x), 0.0) for x in columns[k]])
                else:
                    assert f.slope is not None
                    issue_columns[row, k] = numeric(columns[k]) * f.slope + f.bias
        t = n.template
        if t is not None:
            for k, issue in enumerate(n.issues):
                if issue.kind == "first_category":
                    grid_head[:] = [ci[str(v)] for v in columns[k]]
            grid_ratio[:, [ci[c] for c in t.categories]] = float(t.default_ratio)
            for k, issue in enumerate(n.issues):
                if issue.kind == "ratio" and issue.category is not None:
                    grid_ratio[:, ci[issue.category]] = numeric(columns[k])
            template[AG_HOLDER] = pi[t.batches_releaser]
            template[AG_OTHER] = pi[t.exchange_releaser]
            template[AG_NB] = len(t.categories)
            template[AG_NX] = len(t.exchange_categories)
            template[AG_XSPLIT] = SPLITS.index(t.exchange_split)
            template[AG_BSPLIT] = 0
            _extension(template, t.extension, pi, mi)
            template[AG_START] = t.start_after_days
            template[AG_CURES] = 0
            for j, c in enumerate(t.categories):
                template[AG_CATS + j] = ci[c]
            for j, c in enumerate(t.exchange_categories):
                template[AG_CATS + n_c + j] = ci[c]
            # _outcomes._flows: the template's categories, any first category outside
            # them, then the exchange categories (whose receiver is the holder).
            heads = [str(v) for i in n.issues if i.kind == "first_category" for v in i.domain()]
            for c in [*t.categories, *heads, *t.exchange_categories]:
                if ci[c] not in flow_categories:
                    flow_categories.append(ci[c])
                    flow_to_holder.append(0)
            for c in t.exchange_categories:
                flow_to_holder[flow_categories.index(ci[c])] = 1
    return Plan(
        scenario=s,
        parties=parties,
        categories=categories,
        custodies=custodies,
        mediators=mediators,
        n_days=n_days,
        custody_order=order,
        events=events,
        event_change=change,
        side=side,
        agreement=agreement,
        initial_due=due,
        talks=talks,
        negotiators=negotiators,
        tolerance=tolerance,
        issues=issues,
        outcomes=outcomes,
        grid_days=grid_days,
        grid_per_day=grid_per_day,
        grid_head=grid_head,
        grid_ratio=grid_ratio,
        issue_columns=issue_columns,
        issue_order=issue_order,
        tie_rank=tie_rank(s, pi, issue_columns, issue_order, grid_days),
        template=template,
        flow_categories=np.array(flow_categories, dtype=np.int64),
        flow_to_holder=np.array(flow_to_holder, dtype=np.int64),
        phases=phases,
        **dated,
    )


def _phases(
    a: Agreement, pi: dict[str, int], ci: dict[str, int], mi: dict[str, int], n_c: int, start: Any
) -> I64:
    """The phases written in the agreement as rows of ``Plan.phases``."""
    width = agreement_width(n_c)
    longest = max((p.days for p in a.phases), default=0)
    rows = np.zeros((len(a.phases), width + longest), dtype=np.int64)
    for k, p in enumerate(a.phases, start=1):
        terms = a.phase_terms(k, a.start)
        day = NONE if p.start == "after_previous" else (p.start - start).days
        rows[k - 1, :width] = agreement_vector(terms, pi, ci, mi, n_c, day, p.exchange is None)
        due = initial_batches(terms)
        rows[k - 1, width : width + len(due)] = due
        rows[k - 1, AG_CONDITIONAL] = int(p.conditional)
        dated = p.batches.dated
        rows[k - 1, AG_TOTAL] = (
            sum(n for h in dated for n in h.releases.values()) if dated else sum(due)
        )
    return rows


def tie_rank(s: Scenario, pi: dict[str, int], columns: F64, order: I64, grid_days: F64) -> I64:
    """Each side's NegMAS tie order (``tie_break: negmas``): ``rank[p, g]`` is outcome g's
    place when side p's values of the outcomes at or above its reservation, taken in
    outcome order, are sorted by numpy's default (not stable) ``argsort``, as NegMAS
    0.16's presorting inverter does; the outcomes below the reservation follow, in
    outcome order. Among outcomes of exactly equal value a side then offers the one of
    the least rank. The values are those of the talks' first table without a template
    (the issues', then the pause days' at the scenario's day value and pressure), summed
    as the kernel sums them. With ``tie_break: other_side``, no columns."""
    n = s.negotiation
    n_p, _, n_g = columns.shape
    if n is None or n.tie_break != "negmas":
        return np.zeros((n_p, 0), dtype=np.int64)
    rank = np.zeros((n_p, n_g), dtype=np.int64)
    for party, terms in n.parties.items():
        p = pi[party]
        weights = list(terms.issues.values())
        value = np.zeros(n_g)
        for j, k in enumerate(order[p]):
            if k < 0:
                break
            value = value + weights[j].weight * columns[p, k]
        values = s.values.parties.get(party)
        day = (values.pause_day if values is not None else 0.0) + terms.pressure
        value = value + grid_days * day
        rational = np.flatnonzero(value >= terms.reservation)
        below = np.flatnonzero(~(value >= terms.reservation))
        ranked = np.concatenate([rational[np.argsort(value[rational])], below])
        rank[p, ranked] = np.arange(n_g)
    return rank


def _dated(s: Scenario, pi: dict[str, int], ci: dict[str, int], n_c: int) -> dict[str, Any]:
    """The version-2 clauses as arrays: dated hand-overs and their own counter-releases,
    the terms' counter-release lists (one per list and split, its rate for each category
    released), counter-releases fixed on dates, and postponements."""
    a, start = s.agreement, s.calendar.start
    handovers = np.zeros((0, 2 + 2 * n_c), dtype=np.int64)
    own = np.zeros((0, 1 + n_c), dtype=np.int64)
    groups = np.zeros((0, 2 + n_c), dtype=np.int64)
    rates = np.zeros((0, n_c))
    xdated = np.zeros((0, 1 + n_c), dtype=np.int64)
    rows: list[tuple[int, int, int, int]] = []
    if a is not None:
        dated = [h for b in [a.batches, *(p.batches for p in a.phases)] for h in b.dated or []]
        handovers = np.zeros((len(dated), 2 + 2 * n_c), dtype=np.int64)
        own = np.zeros((len(dated), 1 + n_c), dtype=np.int64)
        for h, ho in enumerate(dated):
            handovers[h, 0] = (ho.date - start).days
            handovers[h, 1] = len(ho.releases)
            for j, (c, n) in enumerate(ho.releases.items()):
                handovers[h, 2 + 2 * j] = ci[c]
                handovers[h, 3 + 2 * j] = n
            if ho.counter is not None:
                own[h, 0] = 1
                for c, n in ho.counter.items():
                    own[h, 1 + ci[c]] += n
        lists: dict[tuple[tuple[str, ...], str], int] = {}
        for terms in a.exchange.terms.values():
            for t in terms:
                lists.setdefault((tuple(t.from_), t.split), len(lists))
        groups = np.zeros((len(lists), 2 + n_c), dtype=np.int64)
        rates = np.zeros((len(lists), n_c))
        for (cats, split), g in lists.items():
            groups[g, 0] = SPLITS.index(split)
            groups[g, 1] = len(cats)
            groups[g, 2 : 2 + len(cats)] = [ci[c] for c in cats]
        for c, terms in a.exchange.terms.items():
            for t in terms:
                rates[lists[tuple(t.from_), t.split], ci[c]] += t.per_captive
        xdated = np.zeros((len(a.exchange.dated), 1 + n_c), dtype=np.int64)
        for r, release in enumerate(a.exchange.dated):
            xdated[r, 0] = (release.date - start).days
            for c, n in release.releases.items():
                xdated[r, 1 + ci[c]] += n
    for j, e in enumerate(s.events):
        if isinstance(e, DelayEvent) and e.until is not None and e.party is not None:
            rows.append((pi[e.party], (e.date - start).days, (e.until - start).days, j))
    postpone = np.array(rows, dtype=np.int64).reshape(len(rows), 4)
    owed = a.obligations if a is not None else []
    obligations = np.full((len(owed), 4), NONE, dtype=np.int64)
    for o, ob in enumerate(owed):
        obligations[o] = (
            pi[ob.party],
            ob.per_day or 0,
            NONE if ob.by is None else (ob.by - start).days,
            ci[ob.id],
        )
    return {
        "obligations": obligations,
        "handovers": handovers,
        "handover_counter": own,
        "groups": groups,
        "group_rate": rates,
        "xdated": xdated,
        "postpone": postpone,
    }


def _extension(vector: I64, rule: Any, pi: dict[str, int], mi: dict[str, int]) -> None:
    """The extension rule's slots (the holder's slot set before)."""
    vector[AG_HAS_EXT] = int(rule is not None)
    vector[AG_PROPOSER] = PROPOSED_BY_HOLDER
    if rule is not None and rule.proposer is not None:
        if rule.proposer in pi:
            if pi[rule.proposer] != vector[AG_HOLDER]:
                vector[AG_PROPOSER] = PROPOSED_BY_OTHER
        else:
            vector[AG_PROPOSER] = mi[rule.proposer]
    if rule is not None:
        vector[AG_STEP_DAYS] = rule.step_days
        vector[AG_PER_STEP] = rule.per_step
        vector[AG_LIMIT_DAYS] = (
            NONE if rule.per_extension_limit_days is None else (rule.per_extension_limit_days)
        )
        vector[AG_MAX_DAYS] = NONE if rule.max_total_days is None else rule.max_total_days


def agreement_vector(
    a: Agreement,
    pi: dict[str, int],
    ci: dict[str, int],
    mi: dict[str, int],
    n_c: int,
    start_day: int,
    terms: bool = True,
) -> I64:
    """The agreement's vector (``AG_*`` slots); ``terms``: its exchange's per-category
    terms apply (the agreement's own exchange)."""
    v = np.zeros(agreement_width(n_c), dtype=np.int64)
    v[AG_HOLDER] = pi[a.batches.releaser]
    v[AG_OTHER] = pi[a.exchange.releaser]
    v[AG_MEDIATOR] = mi.get(a.mediator, NONE)
    v[AG_NB] = len(a.batches.categories)
    v[AG_NX] = len(a.exchange.categories)
    v[AG_XSPLIT] = SPLITS.index(a.exchange.split)
    v[AG_BSPLIT] = BATCH_SPLITS.index(a.batches.split)
    v[AG_DAYS] = a.initial_days
    _extension(v, a.extension, pi, mi)
    v[AG_CURES] = a.cure_attempts
    v[AG_START] = start_day
    v[AG_DATED] = int(a.batches.dated is not None)
    v[AG_ONE_OFF] = int(a.kind == "exchange")
    holds = a.continuation
    v[AG_HOLD_ON] = int(holds is not None)
    v[AG_HOLD_LIMIT] = NONE if holds is None or holds.limit_days is None else holds.limit_days
    v[AG_TERMS] = int(terms)
    for j, c in enumerate(a.batches.categories):
        v[AG_CATS + j] = ci[c]
    for j, c in enumerate(a.exchange.categories):
        v[AG_CATS + n_c + j] = ci[c]
    for c, r in a.exchange.ratios.items():
        v[AG_CATS + 2 * n_c + ci[c]] = r
    return v


def point_params(plan: Plan, episodes: int = 1) -> Params:
    """The scenario's own numbers (no prior drawn), repeated for ``episodes`` rows."""
    s = plan.scenario
    pi = {p: i for i, p in enumerate(plan.parties)}
    ci = {c: i for i, c in enumerate(plan.categories)}
    ki = {k: i for i, k in enumerate(plan.custodies)}
    n_p, n_c, n_k = len(plan.parties), len(plan.categories), len(plan.custodies)
    holdings = np.zeros((n_p, n_c, n_k), dtype=np.int64)
    for h in s.holdings:
        holdings[pi[h.holder], ci[h.category], ki[h.custody]] += h.count
    relay = np.array([m.relay_delay_days for m in s.mediators], dtype=np.int64)
    party = np.zeros((5, n_p))
    flows = np.zeros((2, n_p, n_c))
    n_i = max(len(plan.issues), 1)
    weight = np.zeros((n_p, n_i))
    for p, v in s.values.parties.items():
        party[P_PAUSE_DAY, pi[p]] = v.pause_day
        party[P_FIGHTING_DAY, pi[p]] = v.fighting_day
        for c, w in v.receive.items():
            flows[0, pi[p], ci[c]] = w
        for c, w in v.give.items():
            flows[1, pi[p], ci[c]] = w
    n = s.negotiation
    if n is not None:
        index = {i.id: k for k, i in enumerate(n.issues)}
        for p, terms in n.parties.items():
            party[P_PRESSURE, pi[p]] = terms.pressure
            party[P_RESERVATION, pi[p]] = terms.reservation
            for issue_id, f in terms.issues.items():
                weight[pi[p], index[issue_id]] = f.weight
    delay = 0.0
    if s.agreement is not None:
        delay = s.agreement.delay_probability
        for p, r in s.agreement.refusal_probability.items():
            party[P_REFUSAL, pi[p]] = r
    return Params(
        holdings=np.repeat(holdings[None], episodes, axis=0),
        relay_delay=np.repeat(relay[None], episodes, axis=0),
        party=np.repeat(party[None], episodes, axis=0),
        flows=np.repeat(flows[None], episodes, axis=0),
        issue_weight=np.repeat(weight[None], episodes, axis=0),
        delay_probability=np.full(episodes, delay),
    )
