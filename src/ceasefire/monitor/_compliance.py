"""Compliance: the observations set against the agreement's terms, day by day.

What is due comes from the scenario's agreement carried out by a single run of the engine
(its ledger holds each day's batch and counter-releases under the terms). What was
done comes from the ledger of observations, as known at a chosen time. For each day
of the agreement: releases due vs done (with releases made outside the deal and counted
toward a later day's quota shown on both days), counter-releases owed vs done, the
ratio kept, the categories kept, delays and disputes, each with its source.

Days are numbered from the agreement's start: ``pause_day`` 1 is the agreement's first
day, and days after the pause go on counting (shown as "agreement day"); ``run``
numbers days from the scenario's calendar instead ("run day").

What the counter-party owes on a day has one basis, named in ``basis``: ``terms`` when
the holder's releases were the ones the terms schedule (so the schedule's
counter-releases are owed), ``releases made`` when they were not (then the terms applied
to the releases made are owed: the ratios, the per-category terms, a dated hand-over's
own counter-releases, and those the terms fix on the date). The schedule is the terms'
own: postponements the scenario records (delay events with ``until``) are departures to
report, not terms, so they are left out of it. A shortfall made good on a later day is
reported as made late (``late``), with the number of days. The counter-release status
and the ratio status are both stated against that one figure, so a row never reads
"short by 20" for the counter-releases next to "kept" for the ratio.

Parties in the observations are matched to the scenario's parties by id or name,
without regard to case ("Israel" is ``israel``; "Israel;Hamas" is both). The
original strings stay in the ledger untouched.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..engine import Episode
from ..engine import run as run_episode
from ..scenario import Agreement, DelayEvent, Scenario, content_hash
from ._model import DISPUTE_KINDS, RELEASE_KINDS, START_KINDS, Entry, Observation, Snapshot

DEAL = "deal"
TERMS_BASIS = "terms"
RELEASES_BASIS = "releases made"


@dataclass(frozen=True)
class Cited:
    """An observation cited in the compliance view: what, and where it comes from."""

    obs_id: str
    entry: int
    date: str
    kind: str
    parties: str
    count: int
    note: str
    source: str
    source_kind: str
    reliability: str


@dataclass(frozen=True)
class Credit:
    """Releases made outside the deal on ``released_on`` and counted on ``credited_on``."""

    released_on: str
    credited_on: str
    count: int
    categories: dict[str, int]
    obs_ids: list[str]


@dataclass(frozen=True)
class DayCompliance:
    date: str
    pause_day: int | None
    due: int
    deal: int
    credited_in: list[Credit]
    credited_out: list[Credit]
    counted: int
    status: str
    counter_due: int
    counter_owed: int
    basis: str
    counter_done: int
    counter_status: str
    ratio_terms: float | None
    ratio_observed: float | None
    ratio_status: str
    categories_kept: bool
    off_categories: dict[str, int]
    side_channel: dict[str, int]
    delays: list[Cited]
    disputes: list[Cited]
    extensions: list[Cited]
    notes: list[str] = field(default_factory=list)

    @property
    def credited_in_total(self) -> int:
        return sum(c.count for c in self.credited_in)

    @property
    def credited_out_total(self) -> int:
        return sum(c.count for c in self.credited_out)


@dataclass(frozen=True)
class Totals:
    due: int
    counted: int
    deal: int
    credited: int
    status: str
    counter_due: int
    counter_owed: int
    basis: str
    counter_done: int
    counter_status: str
    ratio_terms: float | None
    ratio_observed: float | None
    ratio_status: str
    side_channel: int
    delays: int
    disputes: int
    extensions_observed: list[tuple[str, int]]
    extensions_due: list[tuple[str, int]]
    pause_days_observed: int | None
    pause_days_due: int


@dataclass(frozen=True)
class Late:
    """Counter-releases owed on ``due_on`` and made on ``made_on``."""

    due_on: str
    made_on: str
    count: int
    days: int


@dataclass(frozen=True)
class ObligationCheck:
    """An obligation beyond captives set against the observations of its id: a counted
    one on each day of the pause that has an observation (``days``: date, owed,
    observed, status), a dated one by its date."""

    id: str
    party: str
    per_day: int | None
    by: str | None
    pause_days: int
    days: list[tuple[str, int, int, str]]
    owed: int
    observed: int
    status: str


@dataclass(frozen=True)
class ComplianceReport:
    scenario: str
    scenario_hash: str
    seed: int
    holder: str
    counter_party: str
    parties: dict[str, str]
    agreement_start: str
    snapshot: Snapshot
    as_of: str | None
    days: list[DayCompliance]
    totals: Totals
    unmatched: list[str]
    late: list[Late] = field(default_factory=list)
    obligations: list[ObligationCheck] = field(default_factory=list)

    @property
    def compliant(self) -> bool:
        return (
            self.totals.status == "met"
            and self.totals.counter_status == "met"
            and self.totals.ratio_status == "kept"
            and all(d.categories_kept for d in self.days)
            and not self.late
            and all(
                o.status in ("met", "not observed") or o.status.startswith("done on")
                for o in self.obligations
            )
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("late", "obligations"):  # left out when empty (as earlier releases wrote)
            if not out[key]:
                del out[key]
        out["snapshot"] = self.snapshot.to_dict()
        out["compliant"] = self.compliant
        return out


class PartyNames:
    """Matches the parties named in observations to the scenario's party ids."""

    def __init__(self, scenario: Scenario) -> None:
        self.names = {p.id: p.name for p in scenario.parties}
        self._lookup: dict[str, str] = {}
        for p in scenario.parties:
            self._lookup[p.id.casefold()] = p.id
            self._lookup[p.name.casefold()] = p.id

    def ids(self, text: str) -> list[str]:
        out = []
        for part in text.replace(",", ";").split(";"):
            pid = self._lookup.get(part.strip().casefold())
            if pid is not None and pid not in out:
                out.append(pid)
        return out

    def one(self, text: str) -> str | None:
        ids = self.ids(text)
        return ids[0] if len(ids) == 1 else None


def due_schedule(episode: Episode, holder: str, counter: str) -> dict[str, dict[str, Any]]:
    """Per date: releases and counter-releases due under the terms, by category."""
    out: dict[str, dict[str, Any]] = {}
    for row in episode.ledger:
        if row.channel != DEAL:
            continue
        day = out.setdefault(row.date, {"release": defaultdict(int), "counter": defaultdict(int)})
        if row.flow == "release" and row.from_party == holder:
            day["release"][row.category] += row.count
        elif row.flow == "counter_release" and row.from_party == counter:
            day["counter"][row.category] += row.count
    return out


def terms_schedule(scenario: Scenario) -> Scenario:
    """The scenario without its postponements: what the terms alone schedule."""
    events = [e for e in scenario.events if not (isinstance(e, DelayEvent) and e.until)]
    if len(events) == len(scenario.events):
        return scenario
    return scenario.model_copy(update={"events": events})


def terms_on(agreement: Agreement, episode: Episode, day: str) -> Agreement:
    """The terms in force on ``day``: the agreement's own, or those of the phase written
    in it that the run of the terms carried out last from a start on or before it."""
    k, start = 0, agreement.start
    for p in episode.summary.phases:
        if p["start"] <= day:
            k, start = p["phase"] - 1, dt.date.fromisoformat(p["start"])
    return agreement.phase_terms(k, start)


def owed_for(agreement: Agreement, day: str, counts: dict[str, int]) -> int:
    """Counter-releases the terms owe on ``day`` for the releases ``counts`` (by
    category): the ratios, each list of the per-category terms (rounded to the nearest,
    halves up, as the engine does), or instead a dated hand-over's own counter-releases;
    and the counter-releases the terms fix on that date."""
    x = agreement.exchange
    own = next((h for h in agreement.batches.dated or [] if h.date.isoformat() == day), None)
    if own is not None and own.counter is not None:
        owed = sum(own.counter.values()) if sum(counts.values()) else 0
    else:
        owed = sum(x.ratios.get(c, 0) * n for c, n in counts.items())
        lists: dict[tuple[tuple[str, ...], str], float] = {}
        for c, terms in x.terms.items():
            for t in terms:
                key = (tuple(t.from_), t.split)
                lists[key] = lists.get(key, 0.0) + t.per_captive * counts.get(c, 0)
        owed += sum(math.floor(v + 0.5) for v in lists.values())
    return owed + sum(sum(r.releases.values()) for r in x.dated if r.date.isoformat() == day)


def _late(days: list[DayCompliance]) -> list[Late]:
    """Shortfalls of counter-releases made good on later days, first owed first made."""
    open_: list[list[Any]] = []  # [date, count still open]
    out: list[Late] = []
    for d in days:
        extra = d.counter_done - d.counter_owed
        if extra < 0:
            open_.append([d.date, -extra])
            continue
        while extra > 0 and open_:
            due_on, left = open_[0]
            made = min(left, extra)
            gap = (dt.date.fromisoformat(d.date) - dt.date.fromisoformat(due_on)).days
            out.append(Late(due_on=due_on, made_on=d.date, count=made, days=gap))
            extra -= made
            open_[0][1] -= made
            if open_[0][1] == 0:
                open_.pop(0)
    return out


def check_obligations(
    agreement: Agreement, episode: Episode, observed: Sequence[Entry]
) -> list[ObligationCheck]:
    """Each obligation beyond captives against the observations of its id (``terms``
    rows aside): a counted one on the pause's days that have an observation, a dated
    one by its date."""
    s = episode.summary
    first, last = s.pause_start, s.pause_end
    out: list[ObligationCheck] = []
    for ob in agreement.obligations:
        seen: dict[str, int] = defaultdict(int)
        for e in observed:
            o = e.observation
            if o is None or o.kind == "terms":
                continue
            n = sum(c.count for c in o.counts if c.category == ob.id)
            if n or any(c.category == ob.id for c in o.counts):
                seen[o.date.isoformat()] += n
        if ob.per_day is not None:
            days = [
                (d, ob.per_day, n, _status(ob.per_day, n))
                for d, n in sorted(seen.items())
                if first is not None and last is not None and first <= d <= last
            ]
            owed, done = ob.per_day * len(days), sum(n for _, _, n, _ in days)
            short = [d for d in days if d[2] < d[1]]
            status = (
                "not observed"
                if not days
                else f"short on {len(short)} of {len(days)} days observed"
                if short
                else "met"
            )
            out.append(
                ObligationCheck(
                    ob.id, ob.party, ob.per_day, None, s.pause_days, days, owed, done, status
                )
            )
        else:
            assert ob.by is not None
            by = ob.by.isoformat()
            done_on = sorted(d for d, n in seen.items() if n and d <= by)
            late = sorted(d for d, n in seen.items() if n and d > by)
            status = (
                f"done on {done_on[0]}"
                if done_on
                else f"done late, on {late[0]}"
                if late
                else "not observed"
            )
            days = [(d, 0, n, "") for d, n in sorted(seen.items())]
            out.append(
                ObligationCheck(
                    ob.id, ob.party, None, by, s.pause_days, days, 0, sum(seen.values()), status
                )
            )
    return out


def _cite(e: Entry) -> Cited:
    o = e.observation
    assert o is not None
    parties = " to ".join(p for p in (o.from_party, o.to_party) if p)
    return Cited(
        obs_id=e.obs_id,
        entry=e.seq,
        date=o.date.isoformat(),
        kind=o.kind,
        parties=parties,
        count=o.total(),
        note=o.note,
        source=o.source.text,
        source_kind=o.source.kind,
        reliability=o.source.reliability,
    )


def _status(due: int, done: int) -> str:
    if due == done == 0:
        return "none due"
    if due == done:
        return "met"
    if due == 0:
        return "not due"
    return f"short by {due - done}" if done < due else f"above by {done - due}"


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 2) if den else None


def _ratio_status(counted: int, owed: int, done: int) -> str:
    if counted == 0 and done == 0:
        return "no releases"
    if done == owed:
        return "kept"
    return f"{'above' if done > owed else 'below'} by {abs(done - owed)}"


def _basis(due: int, counted: int, counter_due: int, owed: int) -> str:
    """``terms`` when the releases made are the ones scheduled and the schedule's
    counter-releases are the terms' ratio on them; ``releases made`` otherwise."""
    return TERMS_BASIS if counted == due and owed == counter_due else RELEASES_BASIS


def compliance(
    scenario: Scenario,
    observed: Sequence[Entry],
    snapshot: Snapshot,
    *,
    as_of: str | None = None,
    seed: int = 0,
) -> ComplianceReport:
    """Set the observations (current versions) against the agreement of ``scenario``."""
    agreement = scenario.agreement
    if agreement is None:
        raise ValueError(f"scenario {scenario.name!r} has no agreement to check against")
    holder = agreement.batches.releaser
    counter = agreement.exchange.releaser
    phases = [agreement.phase_terms(k, agreement.start) for k in range(len(agreement.phases) + 1)]
    eligible = list(dict.fromkeys(c for a in phases for c in a.batches.categories))
    counter_eligible = list(dict.fromkeys(c for a in phases for c in a.exchange.categories))
    names = PartyNames(scenario)
    episode = run_episode(terms_schedule(scenario), seed=seed)
    due = due_schedule(episode, holder, counter)

    deal: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    counter_done: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    off: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    side: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    credits: list[tuple[Observation, str]] = []
    delays: dict[str, list[Cited]] = defaultdict(list)
    disputes: dict[str, list[Cited]] = defaultdict(list)
    extensions: dict[str, list[Cited]] = defaultdict(list)
    unmatched: list[str] = []
    pause_start: list[Observation] = []

    for e in observed:
        o = e.observation
        if o is None:
            continue
        day = o.date.isoformat()
        if o.kind == "delay":
            delays[day].append(_cite(e))
        elif o.kind in DISPUTE_KINDS:
            disputes[day].append(_cite(e))
        elif o.kind == "extension":
            extensions[day].append(_cite(e))
        elif o.kind in START_KINDS:
            pause_start.append(o)
        if o.kind not in RELEASE_KINDS:
            continue
        source = names.one(o.from_party)
        if source is None:
            unmatched.append(
                f"{e.obs_id} ({day}): release by {o.from_party!r} matches no party of the "
                f"scenario ({', '.join(names.names.values())}); left out"
            )
            continue
        if o.credited_on is not None and source == holder:
            credits.append((o, e.obs_id))
            continue
        if o.channel != DEAL:
            if source == holder:
                for c in o.counts:
                    side[day][c.category] += c.count
            continue
        target = deal if source == holder else counter_done
        allowed = eligible if source == holder else counter_eligible
        for c in o.counts:
            if c.category in allowed:
                target[day][c.category] += c.count
            else:
                off[day][c.category] += c.count

    credit_in: dict[str, list[Credit]] = defaultdict(list)
    credit_out: dict[str, list[Credit]] = defaultdict(list)
    for o, obs_id in credits:
        assert o.credited_on is not None
        credit = Credit(
            released_on=o.date.isoformat(),
            credited_on=o.credited_on.isoformat(),
            count=o.total(),
            categories={c.category: c.count for c in o.counts},
            obs_ids=[obs_id],
        )
        credit_in[credit.credited_on].append(credit)
        credit_out[credit.released_on].append(credit)

    start = agreement.start
    dates = sorted(
        {d for d, v in due.items() if sum(v["release"].values()) or sum(v["counter"].values())}
        | set(deal)
        | set(counter_done)
        | set(credit_in)
        | set(credit_out)
        | {d for d in delays if d >= start.isoformat()}
        | {d for d in disputes if d >= start.isoformat()}
        | {d for d in extensions if d >= start.isoformat()}
    )
    first = eligible[0]
    days: list[DayCompliance] = []
    expected_all = 0
    for d in dates:
        due_day = due.get(d, {"release": {}, "counter": {}})
        due_release = sum(due_day["release"].values())
        due_counter = sum(due_day["counter"].values())
        done = sum(deal[d].values())
        credited = sum(c.count for c in credit_in[d])
        counted = done + credited
        counter_total = sum(counter_done[d].values())
        counted_by_cat = dict(deal[d])
        counted_by_cat[first] = counted_by_cat.get(first, 0) + credited
        expected = owed_for(terms_on(agreement, episode, d), d, counted_by_cat)
        expected_all += expected
        terms_ratio = _ratio(expected, counted)
        basis = _basis(due_release, counted, due_counter, expected)
        notes: list[str] = []
        if basis == RELEASES_BASIS and due_counter != expected:
            notes.append(
                f"the terms schedule {due_counter} counter-releases for {due_release} "
                f"releases; for the {counted} released, the terms' ratio makes {expected} owed"
            )
        for cr in credit_in[d]:
            notes.append(
                f"{cr.count} released on {cr.released_on} outside the deal "
                f"({', '.join(cr.categories)}) counted toward this day's quota"
            )
        for cr in credit_out[d]:
            notes.append(
                f"{cr.count} more released outside the deal ({', '.join(cr.categories)}), "
                f"counted toward the quota of {cr.credited_on}"
            )
        if off[d]:
            notes.append(
                "released under the deal outside the eligible categories: "
                + ", ".join(f"{n} {cat}" for cat, n in off[d].items())
            )
        when = dt.date.fromisoformat(d)
        days.append(
            DayCompliance(
                date=d,
                pause_day=(when - start).days + 1 if when >= start else None,
                due=due_release,
                deal=done,
                credited_in=credit_in[d],
                credited_out=credit_out[d],
                counted=counted,
                status=_status(due_release, counted),
                counter_due=due_counter,
                counter_owed=expected,
                basis=basis,
                counter_done=counter_total,
                counter_status=_status(expected, counter_total),
                ratio_terms=terms_ratio,
                ratio_observed=_ratio(counter_total, counted),
                ratio_status=_ratio_status(counted, expected, counter_total),
                categories_kept=not off[d],
                off_categories=dict(off[d]),
                side_channel=dict(side[d]),
                delays=delays.get(d, []),
                disputes=disputes.get(d, []),
                extensions=extensions.get(d, []),
                notes=notes,
            )
        )

    late = _late(days)
    for lt in late:
        for x in days:
            if x.date == lt.due_on:
                x.notes.append(
                    f"{lt.count} of the counter-releases owed made late, on {lt.made_on}"
                )
            elif x.date == lt.made_on:
                x.notes.append(
                    f"{lt.count} of these counter-releases were owed on {lt.due_on} "
                    f"({lt.days} days late)"
                )
    total_due = sum(x.due for x in days)
    total_counted = sum(x.counted for x in days)
    total_counter_due = sum(x.counter_due for x in days)
    total_counter = sum(x.counter_done for x in days)
    observed_ext = sorted((c.date, c.count) for cited in extensions.values() for c in cited)
    due_ext = [
        (t.date, int(t.counts.get("days", 0))) for t in episode.transcript if t.kind == "extension"
    ]
    pause_obs = None
    if pause_start:
        pause_obs = sum(o.total() for o in pause_start) + sum(n for _, n in observed_ext)
    totals = Totals(
        due=total_due,
        counted=total_counted,
        deal=sum(x.deal for x in days),
        credited=sum(x.credited_in_total for x in days),
        status=_status(total_due, total_counted),
        counter_due=total_counter_due,
        counter_owed=expected_all,
        basis=_basis(total_due, total_counted, total_counter_due, expected_all),
        counter_done=total_counter,
        counter_status=_status(expected_all, total_counter),
        ratio_terms=_ratio(expected_all, total_counted),
        ratio_observed=_ratio(total_counter, total_counted),
        ratio_status="kept"
        if total_counter == expected_all
        else _ratio_status(total_counted, expected_all, total_counter),
        side_channel=sum(sum(v.values()) for v in side.values()),
        delays=sum(len(x.delays) for x in days),
        disputes=sum(len(v) for v in disputes.values()),
        extensions_observed=observed_ext,
        extensions_due=due_ext,
        pause_days_observed=pause_obs,
        pause_days_due=episode.summary.pause_days,
    )
    return ComplianceReport(
        scenario=scenario.name,
        scenario_hash=content_hash(scenario),
        seed=seed,
        holder=holder,
        counter_party=counter,
        parties=names.names,
        agreement_start=start.isoformat(),
        snapshot=snapshot,
        as_of=as_of,
        days=days,
        totals=totals,
        unmatched=unmatched,
        late=late,
        obligations=check_obligations(agreement, episode, observed),
    )
