"""Checks across the scenario: every name refers to something declared, every date
falls inside the calendar. Each problem is reported at its own field path."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from ._models import Agreement, DelayEvent, Issue, IssueValue, Scenario
from ._priors import (
    HoldingPrior,
    IssueWeightPrior,
    PressurePrior,
    RefusalProbabilityPrior,
    RelayDelayPrior,
    ReservationPrior,
    ValuePrior,
)

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    known = list(known)
    kinds = f"{kind[:-1]}ies" if kind.endswith("y") else f"{kind}s"
    message = f"unknown {kind} {name!r}; declared {kinds}: {', '.join(known) or '(none)'}"
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    return message


def _duplicates(kind: str, ids: list[str], loc: Loc) -> list[Problem]:
    seen: set[str] = set()
    problems: list[Problem] = []
    for index, ident in enumerate(ids):
        if ident in seen:
            problems.append(((*loc, index, "id"), f"{kind} {ident!r} is declared twice"))
        seen.add(ident)
    return problems


def _repeated(categories: list[str], loc: Loc) -> list[Problem]:
    """A category listed twice in one list of categories (each is released once, in order)."""
    return [
        ((*loc, j), f"category {c!r} is listed twice; list each category once")
        for j, c in enumerate(categories)
        if c in categories[:j]
    ]


def _negotiation(
    s: Scenario,
    party: Callable[[Loc, str], None],
    category: Callable[[Loc, str], None],
    mediator: Callable[[Loc, str], None],
    in_calendar: Callable[[Loc, date], None],
) -> list[Problem]:
    n = s.negotiation
    assert n is not None
    at: Loc = ("negotiation",)
    problems: list[Problem] = []
    in_calendar((*at, "start"), n.start)
    party((*at, "first_mover"), n.first_mover)
    if n.mediator is not None:
        mediator((*at, "mediator"), n.mediator)
    issue_ids = [i.id for i in n.issues]
    problems += _duplicates("issue", issue_ids, (*at, "issues"))
    for j, issue in enumerate(n.issues):
        if issue.category is not None:
            category((*at, "issues", j, "category"), issue.category)
        if issue.kind == "first_category":
            for k, c in enumerate(issue.domain()):
                category((*at, "issues", j, "values", k), str(c))
    for kind in ("pause_days", "releases_per_day", "first_category", "aid_trucks_per_day"):
        if sum(i.kind == kind for i in n.issues) > 1:
            problems.append(((*at, "issues"), f"at most one issue of kind {kind!r}"))
    by_id = {i.id: i for i in n.issues}
    for p, terms in n.parties.items():
        party((*at, "parties", p), p)
        for name, f in terms.issues.items():
            if name not in issue_ids:
                problems.append(
                    ((*at, "parties", p, "issues", name), _unknown("issue", name, issue_ids))
                )
                continue
            problems += _value_function(by_id[name], f, (*at, "parties", p, "issues", name))
    for p in (p.id for p in s.parties):
        if p not in n.parties:
            problems.append(((*at, "parties"), f"no negotiator terms for party {p!r}"))
    t = n.template
    if t is not None:
        party((*at, "template", "batches_releaser"), t.batches_releaser)
        party((*at, "template", "exchange_releaser"), t.exchange_releaser)
        for k, c in enumerate(t.categories):
            category((*at, "template", "categories", k), c)
        for k, c in enumerate(t.exchange_categories):
            category((*at, "template", "exchange_categories", k), c)
        problems += _repeated(t.categories, (*at, "template", "categories"))
        problems += _repeated(t.exchange_categories, (*at, "template", "exchange_categories"))
        if not any(i.kind == "pause_days" for i in n.issues):
            problems.append(((*at, "issues"), "an agreement template needs a pause_days issue"))
        if not any(i.kind == "releases_per_day" for i in n.issues):
            problems.append(
                ((*at, "issues"), "an agreement template needs a releases_per_day issue")
            )
    return problems


def _value_function(issue: Issue, f: IssueValue, at: Loc) -> list[Problem]:
    """A value function fits its issue: a table names only the issue's values, and a
    text-valued issue has a table (a slope needs numbers)."""
    labels = [str(v) for v in issue.domain()]
    if f.slope is not None and issue.is_text():
        shown = ", ".join(f"{v}: 0.0" for v in labels[:3]) + (", ..." if len(labels) > 3 else "")
        return [
            (
                (*at, "slope"),
                f"issue {issue.id!r} takes text values, and a slope needs numbers: give a "
                f"`table` of each value's value instead, e.g. `table: {{{shown}}}`",
            )
        ]
    if f.table is None:
        return []
    domain = set(labels)
    problems: list[Problem] = []
    for key in f.table:
        if key not in domain:
            message = f"{key!r} is not a value of issue {issue.id!r}"
            if issue.values is not None:
                message += f"; its values: {', '.join(labels)}"
            else:
                message += f"; its values: {issue.min}..{issue.max} by {issue.step}"
            close = difflib.get_close_matches(key, labels, n=1)
            if close:
                message += f" (did you mean {close[0]!r}?)"
            problems.append(((*at, "table", key), message))
    return problems


def _fmt_bound(x: float) -> str:
    if x in (math.inf, -math.inf):
        return "infinity" if x > 0 else "-infinity"
    return f"{int(x):,}" if x == int(x) else f"{x:g}"


def _priors(
    s: Scenario,
    party: Callable[[Loc, str], None],
    category: Callable[[Loc, str], None],
    custodian: Callable[[Loc, str], None],
    mediator: Callable[[Loc, str], None],
) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[tuple[str | None, ...], int] = {}
    for i, prior in enumerate(s.priors):
        at: Loc = ("priors", i)
        before = seen.setdefault(prior.key(), i)
        if before != i:
            problems.append(
                (at, f"priors[{before}] already has this target; give one prior per number")
            )
        if isinstance(prior, HoldingPrior):
            party((*at, "holder"), prior.holder)
            category((*at, "category"), prior.category)
            custodian((*at, "custody"), prior.custody)
            matches = [
                h
                for h in s.holdings
                if (h.holder, h.category, h.custody)
                == (prior.holder, prior.category, prior.custody)
            ]
            if len(matches) != 1:
                named = f"{prior.category} held by {prior.holder} in the custody of {prior.custody}"
                problems.append(
                    (
                        at,
                        f"no holding of {named}; a holding prior replaces the count of a "
                        "declared holding"
                        if not matches
                        else f"{len(matches)} holdings of {named}; merge them into one, "
                        "so that the prior has one count to replace",
                    )
                )
        elif isinstance(prior, RelayDelayPrior):
            mediator((*at, "mediator"), prior.mediator)
        elif isinstance(prior, PressurePrior | ReservationPrior | IssueWeightPrior):
            party((*at, "party"), prior.party)
            n = s.negotiation
            if n is None:
                problems.append(
                    (at, f"a {prior.target} prior needs `negotiation`; the scenario has none")
                )
            elif isinstance(prior, IssueWeightPrior) and prior.party in n.parties:
                issues = list(n.parties[prior.party].issues)
                if prior.issue not in issues:
                    message = (
                        f"{prior.party} has no value function for issue {prior.issue!r}; "
                        f"its issues: {', '.join(issues) or '(none)'}"
                    )
                    close = difflib.get_close_matches(prior.issue, issues, n=1)
                    if close:
                        message += f" (did you mean {close[0]!r}?)"
                    problems.append(((*at, "issue"), message))
        elif isinstance(prior, ValuePrior):
            party((*at, "party"), prior.party)
            if prior.term in ("receive", "give"):
                if prior.category is None:
                    problems.append((at, f"a {prior.term!r} value prior needs a `category`"))
                else:
                    category((*at, "category"), prior.category)
            elif prior.category is not None:
                problems.append(
                    ((*at, "category"), f"a {prior.term!r} value prior takes no `category`")
                )
        else:
            if isinstance(prior, RefusalProbabilityPrior):
                party((*at, "party"), prior.party)
            if s.agreement is None:
                problems.append(
                    (at, f"a {prior.target} prior needs `agreement`; the scenario has none")
                )
        dist = prior.distribution
        if prior.integer_target and not dist.integer:
            problems.append(
                (
                    (*at, "distribution", "values" if dist.kind == "categorical" else "kind"),
                    f"{prior.what} is a whole number: use poisson, discrete_uniform, or "
                    "categorical with whole-number values",
                )
            )
        elif not prior.integer_target and dist.kind in ("poisson", "discrete_uniform"):
            problems.append(
                (
                    (*at, "distribution", "kind"),
                    f"{dist.kind} draws whole numbers, for counts; {prior.what} takes "
                    "uniform, truncated_normal, beta or categorical",
                )
            )
        n = s.negotiation
        if n is not None and n.tie_break == "negmas" and _moves_tie_order(prior):
            problems.append(
                (
                    (*at, "target"),
                    f"with `negotiation.tie_break: negmas` each side's order among outcomes "
                    f"of equal value is fixed from the scenario's own numbers, and a prior on "
                    f"{prior.what} would change it from episode to episode; remove the prior "
                    "or use `tie_break: other_side`",
                )
            )
        low, high = dist.support()
        if low < prior.bounds[0] or high > prior.bounds[1]:
            problems.append(
                (
                    (*at, "distribution"),
                    f"draws can fall outside {_fmt_bound(prior.bounds[0])}.."
                    f"{_fmt_bound(prior.bounds[1])}, the range of {prior.what} "
                    f"(this distribution spans {_fmt_bound(low)}..{_fmt_bound(high)}); "
                    "bound it with low/high (or min/max)",
                )
            )
    return problems


def _moves_tie_order(prior: object) -> bool:
    """Whether a prior draws a number NegMAS's tie order is computed from (a side's
    reservation, issue weights, pressure or pause-day value)."""
    if isinstance(prior, ValuePrior):
        return prior.term == "pause_day"
    return isinstance(prior, (ReservationPrior, IssueWeightPrior, PressurePrior))


def _priced(agr: Agreement, c: str) -> bool:
    """Whether the terms say what a captive of batch category ``c`` brings."""
    if c in agr.exchange.ratios or c in agr.exchange.terms:
        return True
    dated = agr.batches.dated
    return dated is not None and all(h.counter is not None for h in dated if c in h.releases)


def _version_2(s: Scenario) -> list[Problem]:
    """Version-2 clauses in a file that says `version: 1`."""
    found: list[tuple[Loc, str]] = []
    for i, c in enumerate(s.categories):
        if c.deceased:
            found.append((("categories", i, "deceased"), "`deceased`"))
    a = s.agreement
    if a is not None:
        if a.kind != "pause":
            found.append((("agreement", "kind"), "a one-off exchange (`kind: exchange`)"))
        if a.batches.dated is not None:
            found.append((("agreement", "batches", "dated"), "dated hand-overs"))
        if a.exchange.terms:
            found.append((("agreement", "exchange", "terms"), "counter-release `terms`"))
        if a.exchange.dated:
            found.append((("agreement", "exchange", "dated"), "dated counter-releases"))
        if a.obligations:
            found.append((("agreement", "obligations"), "obligations beyond captives"))
        if a.extension is not None and a.extension.proposer is not None:
            found.append((("agreement", "extension", "proposer"), "an extension's `proposer`"))
        if a.continuation is not None:
            found.append((("agreement", "continuation"), "a continuation clause"))
        if a.phases:
            found.append((("agreement", "phases"), "phases written in the agreement"))
    if s.negotiation is not None and s.negotiation.during_pause:
        found.append((("negotiation", "during_pause"), "talks during a pause"))
    for i, e in enumerate(s.events):
        if isinstance(e, DelayEvent) and e.until is not None:
            found.append((("events", i, "until"), "a postponement (`until`)"))
    return [
        (loc, f"{what} needs `version: 2` (this file says `version: 1`); write `version: 2`")
        for loc, what in found
    ]


def _dated_terms(s: Scenario, category: Callable[[Loc, str], None]) -> list[Problem]:
    """The version-2 clauses of the agreement: hand-overs and dated counter-releases on
    days the agreement is carried out, of the categories it names; terms for categories
    released, from the counter-releaser's categories; postponements of a party's
    releases that are due."""
    a = s.agreement
    assert a is not None
    problems: list[Problem] = []
    batch_cats, counter_cats = set(a.batches.categories), set(a.exchange.categories)
    last = a.phase_windows()[-1][1] if a.kind == "pause" else s.calendar.horizon
    span = (
        (
            f"the pause ({a.start} to {last})"
            if not a.phases
            else f"the phases ({a.start} to {last})"
        )
        if a.kind == "pause"
        else f"the exchange's days ({a.start} to the horizon {last})"
    )

    def on_a_day(loc: Loc, day: date, what: str) -> None:
        if not a.start <= day <= last:
            problems.append(
                (loc, f"{what} on {day} falls outside {span}; move it inside, or widen the pause")
            )

    def named(loc: Loc, counts: Iterable[str], allowed: set[str], where: str) -> None:
        for c in counts:
            category((*loc, c), c)
            if c not in allowed:
                problems.append(
                    ((*loc, c), f"{c!r} is not among the categories of {where}; add it there")
                )

    for i, h in enumerate(a.batches.dated or []):
        at: Loc = ("agreement", "batches", "dated", i)
        on_a_day((*at, "date"), h.date, "a hand-over")
        named((*at, "releases"), h.releases, batch_cats, "agreement.batches.categories")
        if h.counter is not None:
            named((*at, "counter"), h.counter, counter_cats, "agreement.exchange.categories")
    for i, r in enumerate(a.exchange.dated):
        at = ("agreement", "exchange", "dated", i)
        on_a_day((*at, "date"), r.date, "a dated counter-release")
        named((*at, "releases"), r.releases, counter_cats, "agreement.exchange.categories")
    released = set(a.batches.categories)
    if a.batches.dated is not None:
        released = {c for h in a.batches.dated for c in h.releases}
    for c, terms in a.exchange.terms.items():
        at = ("agreement", "exchange", "terms", c)
        category(at, c)
        if c in {x.id for x in s.categories} and c not in released:
            problems.append(
                (at, f"terms for {c!r}, a category the agreement never releases; remove them")
            )
        for j, t in enumerate(terms):
            named((*at, j, "from"), t.from_, counter_cats, "agreement.exchange.categories")
    holder, counter = a.batches.releaser, a.exchange.releaser
    parties = [p.id for p in s.parties]
    categories = {c.id for c in s.categories}
    for i, o in enumerate(a.obligations):
        at = ("agreement", "obligations", i)
        if o.party not in parties:
            problems.append(((*at, "party"), _unknown("party", o.party, parties)))
        if o.id in categories:
            problems.append(
                ((*at, "id"), f"{o.id!r} is a category of captives; name the obligation apart")
            )
        if o.per_day is not None and a.kind == "exchange":
            problems.append(
                ((*at, "per_day"), "a one-off exchange has no days of pause to count it on")
            )
        if o.by is not None:
            on_a_day((*at, "by"), o.by, "an obligation's date")
    problems += _duplicates(
        "obligation", [o.id for o in a.obligations], ("agreement", "obligations")
    )
    problems += _phases(s, category)
    n = s.negotiation
    if (
        a.continuation is not None
        and not a.phases
        and (n is None or not n.during_pause or n.template is None)
    ):
        problems.append(
            (
                ("agreement", "continuation"),
                "a continuation holds the pause while talks on the next phase go on: it "
                "needs `negotiation` with `during_pause: true` and a `template` for the "
                "next phase",
            )
        )
    if n is not None and n.during_pause and n.template is None:
        problems.append(
            (
                ("negotiation", "during_pause"),
                "talks during a pause agree the next phase: give the negotiation a "
                "`template` that turns an agreed outcome into its terms",
            )
        )
    rule = a.extension
    if rule is not None and rule.proposer is not None:
        who = parties + [m.id for m in s.mediators]
        if rule.proposer not in who:
            problems.append(
                (
                    ("agreement", "extension", "proposer"),
                    _unknown("party or mediator", rule.proposer, who),
                )
            )
    due_days = {h.date for b in [a.batches, *(p.batches for p in a.phases)] for h in b.dated or []}
    for i, e in enumerate(s.events):
        if not isinstance(e, DelayEvent) or e.until is None:
            continue
        at = ("events", i)
        if e.party not in (holder, counter):
            problems.append(
                (
                    (*at, "party"),
                    f"a postponement moves the releases of a party to the agreement "
                    f"({holder!r} or {counter!r}), not {e.party!r}",
                )
            )
        elif e.party == holder and e.date not in due_days:
            problems.append(
                (
                    (*at, "date"),
                    f"no hand-over of {holder!r} is dated {e.date}: a postponement "
                    "moves a dated hand-over (`agreement.batches.dated`)",
                )
            )
        on_a_day((*at, "until"), e.until, "a postponed release")
    return problems


def _phases(s: Scenario, category: Callable[[Loc, str], None]) -> list[Problem]:
    """The phases written in the agreement: each after the one before it and inside
    the calendar, its hand-overs inside its own days, of the categories it names, each
    category it releases priced, its parties the agreement's."""
    a = s.agreement
    assert a is not None
    problems: list[Problem] = []
    if not a.phases:
        return problems
    windows = a.phase_windows()
    parties = [p.id for p in s.parties]
    declared = {c.id for c in s.categories}
    for k, (first, last) in enumerate(windows):
        batches = a.batches if k == 0 else a.phases[k - 1].batches
        at: Loc = ("agreement", "batches") if k == 0 else ("agreement", "phases", k - 1, "batches")
        for i, h in enumerate(batches.dated or []):
            if not first <= h.date <= last:
                problems.append(
                    (
                        (*at, "dated", i, "date"),
                        f"a hand-over on {h.date} falls outside phase {k + 1}'s days "
                        f"({first} to {last}); move it inside, or change the phase's days",
                    )
                )
        if k == 0:
            continue
        p = a.phases[k - 1]
        here: Loc = ("agreement", "phases", k - 1)
        prev_last = windows[k - 1][1]
        if p.start != "after_previous" and first <= prev_last:
            problems.append(
                (
                    (*here, "start"),
                    f"phase {k + 1} starts on {first}, before phase {k}'s days end "
                    f"({prev_last}); start it on or after {prev_last + timedelta(days=1)}, "
                    "or write `start: after_previous`",
                )
            )
        if first > s.calendar.horizon:
            problems.append(
                (
                    (*here, "start"),
                    f"phase {k + 1} would begin on {first}, after the calendar's horizon "
                    f"{s.calendar.horizon}; widen calendar.horizon or shorten the phases",
                )
            )
        x = p.exchange or a.exchange
        for who, name in (("batches", p.batches.releaser), ("exchange", x.releaser)):
            if name not in parties:
                problems.append(((*here, who, "releaser"), _unknown("party", name, parties)))
        if p.batches.releaser == x.releaser:
            problems.append(
                (
                    (*here, "batches", "releaser"),
                    "the counter-releases must come from the other party than the batches",
                )
            )
        for j, c in enumerate(p.batches.categories):
            category((*here, "batches", "categories", j), c)
        problems += _repeated(p.batches.categories, (*here, "batches", "categories"))
        if p.exchange is not None:
            for j, c in enumerate(p.exchange.categories):
                category((*here, "exchange", "categories", j), c)
            for c in p.exchange.ratios:
                category((*here, "exchange", "ratios", c), c)
        allowed, counter_cats = set(p.batches.categories), set(x.categories)
        for i, h in enumerate(p.batches.dated or []):
            for c in h.releases:
                category((*here, "batches", "dated", i, "releases", c), c)
                if c not in allowed:
                    problems.append(
                        (
                            (*here, "batches", "dated", i, "releases", c),
                            f"{c!r} is not among the phase's batches.categories; add it there",
                        )
                    )
            for c in h.counter or {}:
                if c not in counter_cats:
                    problems.append(
                        (
                            (*here, "batches", "dated", i, "counter", c),
                            f"{c!r} is not among the categories of the phase's exchange; "
                            "add it there",
                        )
                    )
        terms = a.phase_terms(k, first)
        for c in p.batches.categories:
            if c in declared and not _priced(terms, c):
                problems.append(
                    (
                        (*here, "batches", "categories"),
                        f"no ratio for phase {k + 1}'s batch category {c!r}; give a ratio "
                        "(in the phase's `exchange` or the agreement's), `terms`, or a "
                        "`counter` on each hand-over of it",
                    )
                )
    return problems


def check_references(s: Scenario) -> list[Problem]:
    """Return every cross-reference problem in ``s`` (empty when the file is sound)."""
    parties = [p.id for p in s.parties]
    groups = [g.id for g in s.groups]
    categories = [c.id for c in s.categories]
    mediators = [m.id for m in s.mediators]
    custodians = parties + groups
    problems: list[Problem] = [] if s.version >= 2 else _version_2(s)

    problems += _duplicates("party", parties, ("parties",))
    problems += _duplicates("group", groups, ("groups",))
    problems += _duplicates("category", categories, ("categories",))
    problems += _duplicates("mediator", mediators, ("mediators",))
    problems += [
        (("groups", i, "id"), f"group {g!r} has the same id as a party")
        for i, g in enumerate(groups)
        if g in parties
    ]

    def party(loc: Loc, name: str) -> None:
        if name not in parties:
            problems.append((loc, _unknown("party", name, parties)))

    def category(loc: Loc, name: str) -> None:
        if name not in categories:
            problems.append((loc, _unknown("category", name, categories)))

    def custodian(loc: Loc, name: str) -> None:
        if name not in custodians:
            problems.append((loc, _unknown("party or group", name, custodians)))

    def mediator(loc: Loc, name: str) -> None:
        if name not in mediators:
            problems.append((loc, _unknown("mediator", name, mediators)))

    def in_calendar(loc: Loc, day: date) -> None:
        if not s.calendar.start <= day <= s.calendar.horizon:
            problems.append(
                (
                    loc,
                    f"date {day} is outside the calendar "
                    f"({s.calendar.start} to {s.calendar.horizon}); "
                    "move it inside or widen calendar.start/horizon",
                )
            )

    for i, h in enumerate(s.holdings):
        party(("holdings", i, "holder"), h.holder)
        category(("holdings", i, "category"), h.category)
        custodian(("holdings", i, "custody"), h.custody)

    for i, m in enumerate(s.mediators):
        for j, (a, b) in enumerate(m.channels):
            party(("mediators", i, "channels", j, 0), a)
            party(("mediators", i, "channels", j, 1), b)
            if a == b:
                problems.append(
                    (("mediators", i, "channels", j), "a channel joins two different parties")
                )

    if s.agreement is not None:
        agr = s.agreement
        mediator(("agreement", "mediator"), agr.mediator)
        in_calendar(("agreement", "start"), agr.start)
        if agr.signed is not None and agr.signed > agr.start:
            problems.append(
                (("agreement", "signed"), f"signed {agr.signed} is after the start {agr.start}")
            )
        party(("agreement", "batches", "releaser"), agr.batches.releaser)
        party(("agreement", "exchange", "releaser"), agr.exchange.releaser)
        if agr.batches.releaser == agr.exchange.releaser:
            problems.append(
                (
                    ("agreement", "exchange", "releaser"),
                    "the counter-releases must come from the other party than the batches",
                )
            )
        for j, c in enumerate(agr.batches.categories):
            category(("agreement", "batches", "categories", j), c)
        for j, c in enumerate(agr.exchange.categories):
            category(("agreement", "exchange", "categories", j), c)
        problems += _repeated(agr.batches.categories, ("agreement", "batches", "categories"))
        problems += _repeated(agr.exchange.categories, ("agreement", "exchange", "categories"))
        for c in agr.exchange.ratios:
            category(("agreement", "exchange", "ratios", c), c)
        for c in agr.batches.categories:
            if c in categories and not _priced(agr, c):
                problems.append(
                    (
                        ("agreement", "exchange", "ratios"),
                        f"no ratio for batch category {c!r}; give how many counter-releases "
                        "each captive of that category brings"
                        + (
                            " (a ratio, `terms`, or a `counter` on each hand-over of it)"
                            if s.version >= 2
                            else ""
                        ),
                    )
                )
        problems += _dated_terms(s, category)
        for p in agr.refusal_probability:
            party(("agreement", "refusal_probability", p), p)
        if agr.mediator in mediators:
            m = s.mediators[mediators.index(agr.mediator)]
            pair = {agr.batches.releaser, agr.exchange.releaser}
            if not any(set(ch) == pair for ch in m.channels):
                problems.append(
                    (
                        ("agreement", "mediator"),
                        f"mediator {m.id!r} has no channel between "
                        f"{agr.batches.releaser!r} and {agr.exchange.releaser!r}",
                    )
                )

    for i, sc in enumerate(s.side_channels):
        if sc.mediator is not None:
            mediator(("side_channels", i, "mediator"), sc.mediator)
        party(("side_channels", i, "releaser"), sc.releaser)
        for j, r in enumerate(sc.releases):
            category(("side_channels", i, "releases", j, "category"), r.category)
            in_calendar(("side_channels", i, "releases", j, "date"), r.date)
    problems += _duplicates("side channel", [sc.id for sc in s.side_channels], ("side_channels",))

    for i, e in enumerate(s.events):
        in_calendar(("events", i, "date"), e.date)
        if e.kind == "holdings":
            party(("events", i, "holder"), e.holder)
            category(("events", i, "category"), e.category)
            custodian(("events", i, "custody"), e.custody)
        elif e.kind == "custody":
            if e.group not in groups:
                problems.append((("events", i, "group"), _unknown("group", e.group, groups)))
        elif e.kind == "value":
            party(("events", i, "party"), e.party)
            if e.term in ("receive", "give"):
                if e.category is None:
                    problems.append((("events", i), f"a {e.term!r} value event needs a `category`"))
                else:
                    category(("events", i, "category"), e.category)
        elif e.kind in ("delay", "pressure") and e.party is not None:
            party(("events", i, "party"), e.party)

    if s.negotiation is not None:
        problems += _negotiation(s, party, category, mediator, in_calendar)
        agreed = s.agreement
        if agreed is not None and agreed.kind == "pause" and not s.negotiation.during_pause:
            last = agreed.start + timedelta(days=agreed.initial_days - 1)
            if agreed.start <= s.negotiation.start <= last:
                problems.append(
                    (
                        ("negotiation", "start"),
                        f"talks start on {s.negotiation.start}, inside the pause ({agreed.start} "
                        f"to {last}), and no clause of this format lets talks run during a "
                        f"pause unless `during_pause: true` (version 2): start them on or after "
                        f"{last + timedelta(days=1)}, or allow talks during the pause",
                    )
                )

    problems += _priors(s, party, category, custodian, mediator)

    owed = {o.id for o in s.agreement.obligations} if s.agreement is not None else set()
    for p, pv in s.values.parties.items():
        party(("values", "parties", p), p)
        for c in pv.receive:
            if c not in owed:  # an obligation's id may be priced like a category
                category(("values", "parties", p, "receive", c), c)
        for c in pv.give:
            if c not in owed:
                category(("values", "parties", p, "give", c), c)
    for p in parties:
        if p not in s.values.parties:
            problems.append(
                (("values", "parties"), f"no value model for party {p!r}; add one under its id")
            )
    return problems
