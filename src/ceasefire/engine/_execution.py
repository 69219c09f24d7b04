"""The reference engine, execution mode: one episode, day by day.

Read ``run`` first: it is the whole day loop. Each day:

1. dated events change holdings, custody or values;
2. on the agreement's start date the pause begins;
3. side channels make the releases dated that day;
4. during a pause, the day's batch is asked for: the holder releases captives of
   the eligible categories in its reach, or the day is a breach;
5. hand-overs the mediator has verified bring the counter-releases by ratio;
6. on the last paid-for day, the extension rule: the holder offers the next batch
   it is able and willing to give, the other side accepts if it values the
   extension above resuming fighting; otherwise the pause ends.

Random draws (a delayed hand-over, a refused batch) come only from the generator
passed in, in a fixed order per batch, so a scenario and seed give one episode.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from .._version import __version__
from ..scenario import Agreement, Scenario, content_hash
from ._holdings import Holdings, allocate
from ._outcomes import Table, agreement_from, build_table
from ._records import END_REASONS, Episode, LedgerRow, Summary, TranscriptEntry
from ._schedule import initial_batches, split_batches
from ._talks import Deal, Talks
from ._values import ValueModel, value_models


@dataclass
class Pause:
    """The pause in force: its days so far and the batches still due this period."""

    start: date
    days_granted: int
    due: list[int]
    days_held: int = 0


@dataclass
class Verification:
    """A hand-over waiting for the mediator's verification, then counter-releases."""

    on: date
    released: dict[str, int]


@dataclass
class Ending:
    reason: str
    detail: str
    by: str | None
    on: date


class Execution:
    """State and steps of one episode in execution mode."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator, seed: int) -> None:
        self.s = scenario
        self.rng = rng
        self.seed = seed
        self.a: Agreement | None = scenario.agreement
        self.holdings = Holdings.from_scenario(scenario)
        self.values: dict[str, ValueModel] = value_models(scenario)
        self.names = {p.id: p.name for p in scenario.parties}
        self.pause: Pause | None = None
        self.pending: list[Verification] = []
        self.ending: Ending | None = None
        self.pause_start: date | None = None
        self.pause_end: date | None = None
        self.pause_days = 0
        self.extensions: list[int] = []
        self.fighting_days = 0
        self.released: dict[str, dict[str, int]] = {p.id: {} for p in scenario.parties}
        self.side_released: dict[str, int] = {}
        self.breaches: list[dict[str, object]] = []
        self.delays = 0
        self.transcript: list[TranscriptEntry] = []
        self.ledger: list[LedgerRow] = []
        self.today = scenario.calendar.start
        self.started = False
        n = scenario.negotiation
        self.pressure = {p: t.pressure for p, t in n.parties.items()} if n else {}
        self.fighting_cost = dict.fromkeys(self.names, 0.0)
        self.talks: Talks | None = None
        self.next_talks: date | None = n.start if n else None
        self.deals: list[Deal] = []
        self.talk_rounds = 0
        self._table: tuple[object, Table] | None = None

    # -- the day loop ---------------------------------------------------------

    def run(self) -> Episode:
        for today in _days(self.s.calendar.start, self.s.calendar.horizon):
            self.today = today
            self.apply_events()
            if self.a is not None and today == self.a.start and not self.started:
                self.start_pause()
            if self.pause is None and self.talks is None and today == self.next_talks:
                self.open_talks()
            mode = "pause" if self.pause is not None else "fighting"
            self.record_day(mode)
            self.side_channels()
            if self.pause is not None:
                self.ask_for_batch()
            elif self.talks is not None:
                self.talk()
            self.verify_handovers()
            if self.pause is not None and self.pause.due == []:
                self.end_of_period()
        return self.finish()

    # -- steps ------------------------------------------------------------------

    def apply_events(self) -> None:
        for e in self.s.events:
            if e.date != self.today:
                continue
            if e.kind == "holdings":
                applied = self.holdings.change(e.holder, e.category, e.custody, e.change)
                self.note(
                    "event",
                    (e.holder,),
                    f"holdings of {e.holder}: {e.category} in custody of {e.custody} "
                    f"change by {applied}" + (f" ({e.description})" if e.description else ""),
                    counts={e.category: applied},
                )
            elif e.kind == "custody":
                self.holdings.reachable[e.group] = e.reachable
                state = "within" if e.reachable else "out of"
                self.note("event", (e.group,), f"captives held by {e.group} are now {state} reach")
            elif e.kind == "value":
                self.values[e.party].adjust(e.term, e.category, e.change)
                what = f"{e.term} {e.category}" if e.category else e.term
                self.note(
                    "event", (e.party,), f"{e.party}'s value of {what} changes by {e.change:g}"
                )
            elif e.kind == "pressure":
                self.pressure[e.party] = self.pressure.get(e.party, 0.0) + e.change
                self.note(
                    "event",
                    (e.party,),
                    f"pressure on {self.names[e.party]} changes by {e.change:g} "
                    f"to {self.pressure[e.party]:g}"
                    + (f" ({e.description.strip()})" if e.description else ""),
                    values={f"{e.party}_pressure": self.pressure[e.party]},
                )
            elif e.kind == "delay":
                self.delays += 1
                who = (e.party,) if e.party else ()
                self.note(
                    "delay",
                    who,
                    "hand-over delayed"
                    + (f" {e.hours:g} hours" if e.hours is not None else "")
                    + (f": {e.description.strip()}" if e.description else ""),
                )

    def open_talks(self) -> None:
        n = self.s.negotiation
        assert n is not None
        other = next(p for p in self.names if p != n.first_mover)
        mediator = next((m for m in self.s.mediators if m.id == n.mediator), None)
        self.talks = Talks(
            n=n,
            start=self.today,
            a=n.first_mover,
            b=other,
            mediator=mediator,
            rng=self.rng,
            note=self.note,
            names=self.names,
        )
        via = f"through {mediator.name}" if mediator else "directly"
        self.note(
            "talks_open",
            (n.first_mover, other, *([mediator.id] if mediator else [])),
            f"talks open {via} over {', '.join(i.id for i in n.issues)}",
            values={f"{p}_pressure": v for p, v in self.pressure.items()},
        )

    def talk(self) -> None:
        assert self.talks is not None
        n = self.s.negotiation
        assert n is not None
        result = self.talks.step(self.today, self.table())
        if result is None:
            return
        self.talk_rounds += self.talks.rounds
        mediator = self.talks.mediator
        self.talks = None
        if result.deal is None:
            reason = f"talks_{result.ended}"
            self.ending = Ending(reason, result.detail, result.by, self.today)
            self.note("talks_end", self._sides(), f"talks end: {result.detail}")
            self.next_talks = self._after(n.restart_after_days)
            return
        deal = result.deal
        self.deals.append(deal)
        fallback = (
            mediator.id if mediator else (self.s.mediators[0].id if self.s.mediators else "direct")
        )
        if n.template is None:
            self.note(
                "agreement",
                self._sides(),
                f"agreement on {deal.terms} (talks only: "
                "the scenario has no template for execution)",
                values=deal.values | {f"{p}_satisfaction": v for p, v in deal.satisfaction.items()},
            )
            self.ending = Ending(
                "agreed", "agreement reached; no execution terms", None, self.today
            )
            return
        self.a = agreement_from(self.s, deal.terms, self.today, fallback)
        self.started = False
        self.note(
            "agreement",
            self._sides(),
            f"agreement reached ({deal.via.replace('_', ' ')}): {deal.terms}; pause "
            f"from {self.a.start}",
            values=deal.values | {f"{p}_satisfaction": v for p, v in deal.satisfaction.items()},
        )

    def table(self) -> Table:
        """The outcomes on the table today; rebuilt only when holdings, values or
        pressure have changed since it was last built."""
        key = (
            tuple(sorted(self.holdings.counts.items())),
            tuple(sorted(self.holdings.reachable.items())),
            tuple(sorted(self.pressure.items())),
            tuple((p, repr(v)) for p, v in sorted(self.values.items())),
        )
        if self._table is None or self._table[0] != key:
            self._table = (key, build_table(self.s, self.holdings, self.values, self.pressure))
        return self._table[1]

    def _after(self, days: int | None) -> date | None:
        return None if days is None else self.today + timedelta(days=max(1, days))

    def start_pause(self) -> None:
        a = self._agreement()
        self.started = True
        self.pause = Pause(start=self.today, days_granted=a.initial_days, due=initial_batches(a))
        if self.pause_start is None:  # the summary names the first pause's start
            self.pause_start = self.today
        self.note(
            "agreement_in_force",
            self._sides(),
            f"agreement in force through {self._mediator_name(a.mediator)}: "
            f"{a.initial_days} days, "
            f"batches {self.pause.due} of {', '.join(a.batches.categories)}",
        )
        self.note("pause_start", self._sides(), f"pause begins for {a.initial_days} days")

    def record_day(self, mode: str) -> None:
        if mode == "pause":
            assert self.pause is not None
            self.pause.days_held += 1
            self.pause_days += 1
            self.pause_end = self.today
        else:
            self.fighting_days += 1
            for p in self.fighting_cost:
                self.fighting_cost[p] += self.pressure.get(p, 0.0)
        self.flow(mode, f"{mode}_day", "", "", "", "", 1)

    def side_channels(self) -> None:
        for sc in self.s.side_channels:
            if sc.requires_pause and self.pause is None:
                continue
            for r in sc.releases:
                if r.date != self.today:
                    continue
                made = min(r.count, self.holdings.in_reach(sc.releaser, r.category))
                if made:
                    self.holdings.take(sc.releaser, r.category, made)
                    self.side_released[r.category] = self.side_released.get(r.category, 0) + made
                    self.flow(
                        "pause" if self.pause else "fighting",
                        "side_channel_release",
                        sc.id,
                        sc.releaser,
                        sc.recipient,
                        r.category,
                        made,
                    )
                    self.note(
                        "side_channel_release",
                        (sc.releaser, sc.recipient),
                        f"{made} {r.category} released to {sc.recipient} "
                        f"through side channel {sc.id}",
                        counts={r.category: made},
                    )
                if made < r.count:
                    self.note(
                        "side_channel_shortfall",
                        (sc.releaser,),
                        f"side channel {sc.id}: {r.count} {r.category} due, {made} in reach",
                        counts={r.category: r.count - made},
                    )

    def ask_for_batch(self) -> None:
        a, pause = self._agreement(), self.pause
        assert pause is not None
        due = pause.due.pop(0)
        holder, other = a.batches.releaser, a.exchange.releaser
        delayed = self.rng.random() < a.delay_probability
        in_reach = self.holdings.eligible(holder, a.batches.categories)
        if in_reach < due:
            self.breach(
                holder,
                f"{self.names[holder]} has {in_reach} eligible captives in reach, {due} due today",
            )
            return
        if not self.willing(holder, "batch"):
            return
        if delayed:
            self.delays += 1
            self.note("delay", (holder,), "hand-over delayed (drawn)")
        batch = allocate(self.holdings, holder, a.batches.categories, due, "in_order")
        batch = {c: n for c, n in batch.items() if n}
        for c, n in batch.items():
            self.holdings.take(holder, c, n)
            self.count_release(holder, c, n)
            self.flow("pause", "release", "deal", holder, other, c, n)
        self.note(
            "release_batch",
            (holder, other, a.mediator),
            f"{self.names[holder]} releases {due} ({_fmt(batch)})",
            counts=batch,
            values=self.value_of(received={other: batch}, given={holder: batch}),
        )
        mediator = next((m for m in self.s.mediators if m.id == a.mediator), None)
        delay = mediator.relay_delay_days if mediator is not None else 0
        self.pending.append(Verification(self.today + timedelta(days=delay), batch))

    def verify_handovers(self) -> None:
        a = self.a
        if a is None:
            return
        holder, other = a.batches.releaser, a.exchange.releaser
        for v in [v for v in self.pending if v.on == self.today]:
            self.pending.remove(v)
            self.note(
                "handover_verified",
                (a.mediator, holder, other),
                f"{self._mediator_name(a.mediator)} verifies the hand-over of "
                f"{sum(v.released.values())}",
                counts=v.released,
            )
            due = sum(a.exchange.ratios.get(c, 0) * n for c, n in v.released.items())
            in_reach = self.holdings.eligible(other, a.exchange.categories)
            if in_reach < due:
                self.breach(
                    other,
                    f"{self.names[other]} has {in_reach} eligible for counter-release, {due} due",
                )
                continue
            if due == 0 or not self.willing(other, "counter-release"):
                continue
            counter = allocate(self.holdings, other, a.exchange.categories, due, a.exchange.split)
            counter = {c: n for c, n in counter.items() if n}
            mode = "pause" if self.pause is not None else "fighting"
            for c, n in counter.items():
                self.holdings.take(other, c, n)
                self.count_release(other, c, n)
                self.flow(mode, "counter_release", "deal", other, holder, c, n)
            self.note(
                "counter_release",
                (other, holder, a.mediator),
                f"{self.names[other]} releases {due} ({_fmt(counter)})",
                counts=counter,
                values=self.value_of(received={holder: counter}, given={other: counter}),
            )

    def willing(self, party: str, what: str) -> bool:
        """Draw whether ``party`` refuses; the mediator may re-request (a cure)."""
        a = self._agreement()
        p = a.refusal_probability.get(party, 0.0)
        draws = self.rng.random(1 + a.cure_attempts)
        if draws[0] >= p:
            return True
        self.note("refusal", (party,), f"{self.names[party]} refuses the day's {what}")
        for attempt, u in enumerate(draws[1:], start=1):
            if u >= p:
                self.note(
                    "breach_cured",
                    (a.mediator, party),
                    f"{self._mediator_name(a.mediator)} re-requests the {what}; "
                    f"made on attempt {attempt + 1}",
                )
                return True
        self.breach(party, f"{self.names[party]} refused the day's {what}")
        return False

    def end_of_period(self) -> None:
        a, pause = self._agreement(), self.pause
        assert pause is not None
        rule = a.extension
        holder, other = a.batches.releaser, a.exchange.releaser
        if rule is None:
            self.end_pause("terms_completed", "the initial period is complete", None)
            return
        # What the holder is able to give: whole steps of eligible captives in reach,
        # within the per-extension limit and the cap on total days.
        in_reach = self.holdings.eligible(holder, a.batches.categories)
        steps = in_reach // rule.per_step
        if rule.per_extension_limit_days is not None:
            steps = min(steps, rule.per_extension_limit_days // rule.step_days)
        if rule.max_total_days is not None:
            room = (rule.max_total_days - pause.days_granted) // rule.step_days
            if room <= 0:
                self.end_pause(
                    "cap_reached",
                    f"the pause has reached its cap of {rule.max_total_days} days",
                    None,
                )
                return
            steps = min(steps, room)
        if steps == 0:
            self.end_pause(
                "no_eligible_batch",
                f"{self.names[holder]} has {in_reach} eligible captives in reach, "
                f"fewer than the {rule.per_step} one more day needs",
                holder,
            )
            return
        days, count = steps * rule.step_days, steps * rule.per_step
        batch = allocate(self.holdings, holder, a.batches.categories, count, "in_order")
        counter_due = sum(a.exchange.ratios.get(c, 0) * n for c, n in batch.items())
        counter = allocate(
            self.holdings,
            other,
            a.exchange.categories,
            min(counter_due, self.holdings.eligible(other, a.exchange.categories)),
            a.exchange.split,
        )
        value = {
            p: self.values[p].of_pause(
                days,
                received=_recv(p, holder, batch, counter),
                given=_gave(p, holder, batch, counter),
            )
            for p in (holder, other)
        }
        value = {p: v + days * self.pressure.get(p, 0.0) for p, v in value.items()}
        fight = {p: self.values[p].of_fighting(days) for p in (holder, other)}
        both = {f"{p}_extension": value[p] for p in value} | {
            f"{p}_fighting": fight[p] for p in fight
        }
        if value[holder] <= fight[holder]:
            self.note(
                "extension_decline",
                (holder,),
                f"{self.names[holder]} values {days} more days ({value[holder]:g}) "
                f"no higher than fighting ({fight[holder]:g}); offers no batch",
                values=both,
            )
            self.end_pause(
                "extension_declined",
                f"{self.names[holder]} offered no further "
                "batch: it values resuming fighting higher",
                holder,
            )
            return
        self.note(
            "extension_offer",
            (holder, a.mediator, other),
            f"{self.names[holder]} offers {count} more ({_fmt(batch)}) "
            f"for {days} more day{'s' if days != 1 else ''}",
            counts={"captives": count, "days": days},
            values=both,
        )
        self.note(
            "relay",
            (a.mediator, holder, other),
            f"{self._mediator_name(a.mediator)} relays the offer to {self.names[other]}",
        )
        if value[other] <= fight[other]:
            self.note(
                "extension_decline",
                (other,),
                f"{self.names[other]} values the extension ({value[other]:g}) no higher "
                f"than resuming fighting ({fight[other]:g})",
                values=both,
            )
            self.end_pause(
                "extension_declined",
                f"{self.names[other]} declined the extension: it values resuming fighting higher",
                other,
            )
            return
        self.note("extension_accept", (other,), f"{self.names[other]} accepts", values=both)
        pause.days_granted += days
        pause.due = split_batches(count, days, a.batches.split)
        self.extensions.append(days)
        self.note(
            "extension",
            (a.mediator, holder, other),
            f"pause extended by {days} day{'s' if days != 1 else ''} "
            f"(to {pause.days_granted} in total), "
            f"batches {pause.due}",
            counts={"days": days},
        )

    def breach(self, party: str, detail: str) -> None:
        self.breaches.append({"date": self.today.isoformat(), "party": party, "detail": detail})
        self.note("breach", (party,), f"breach: {detail}")
        if self.pause is not None:
            self.end_pause("breach", detail, party)

    def end_pause(self, reason: str, detail: str, by: str | None) -> None:
        assert self.pause is not None
        self.pause = None
        self.ending = Ending(reason, detail, by, self.today)
        self.note("pause_end", self._sides(), f"pause ends: {detail}")
        self.note("fighting_resumed", self._sides(), "fighting resumes the next day")
        if self.s.negotiation is not None:
            self.next_talks = self._after(self.s.negotiation.restart_after_days)

    def finish(self) -> Episode:
        horizon = self.s.calendar.horizon
        if self.pause is not None:
            self.ending = Ending("horizon", "the pause still holds at the horizon", None, horizon)
        elif self.talks is not None:
            self.ending = Ending("talks_ongoing", END_REASONS["talks_ongoing"], None, horizon)
        if self.ending is None:
            if self.a is None:
                self.ending = Ending("no_agreement", END_REASONS["no_agreement"], None, horizon)
            else:
                self.ending = Ending("not_started", END_REASONS["not_started"], None, horizon)
        self.today = horizon
        self.note(
            "episode_end",
            (),
            f"episode ends: {self.ending.reason} ({END_REASONS[self.ending.reason]})",
        )
        summary = Summary(
            scenario=self.s.name,
            scenario_hash=content_hash(self.s),
            seed=self.seed,
            package_version=__version__,
            calendar_start=self.s.calendar.start.isoformat(),
            horizon=horizon.isoformat(),
            agreement_reached=self.pause_start is not None or bool(self.deals),
            agreement_date=self.deals[0].date.isoformat()
            if self.deals
            else (self.a.signed or self.a.start).isoformat()
            if self.a is not None and self.pause_start is not None
            else None,
            pause_start=_iso(self.pause_start),
            pause_end=_iso(self.pause_end),
            pause_days=self.pause_days,
            fighting_days=self.fighting_days,
            extensions=list(self.extensions),
            released={p: dict(sorted(c.items())) for p, c in self.released.items()},
            side_channel_released=sum(self.side_released.values()),
            side_channel_by_category=dict(sorted(self.side_released.items())),
            breaches=self.breaches,
            delays=self.delays,
            end_reason=self.ending.reason,
            end_detail=self.ending.detail,
            ended_by=self.ending.by,
            end_date=self.ending.on.isoformat(),
            agreements=[
                {
                    "date": d.date.isoformat(),
                    "round": d.round,
                    "via": d.via,
                    "terms": {k: v for k, v in d.terms.items()},
                    "values": {p: round(v, 6) for p, v in d.values.items()},
                    "satisfaction": {p: round(v, 6) for p, v in d.satisfaction.items()},
                }
                for d in self.deals
            ],
            talk_rounds=self.talk_rounds,
            fighting_cost={p: round(v, 6) for p, v in self.fighting_cost.items()},
        )
        return Episode(summary, self.transcript, self.ledger)

    # -- helpers ----------------------------------------------------------------

    def _mediator_name(self, ident: str) -> str:
        return next((m.name for m in self.s.mediators if m.id == ident), ident)

    def _agreement(self) -> Agreement:
        assert self.a is not None
        return self.a

    def _sides(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.s.parties)

    def count_release(self, party: str, category: str, n: int) -> None:
        self.released[party][category] = self.released[party].get(category, 0) + n

    def value_of(
        self, received: dict[str, dict[str, int]], given: dict[str, dict[str, int]]
    ) -> dict[str, float]:
        return {
            p: self.values[p].of_flows(received.get(p, {}), given.get(p, {})) for p in self._sides()
        }

    def flow(
        self, mode: str, flow: str, channel: str, src: str, dst: str, category: str, count: int
    ) -> None:
        self.ledger.append(
            LedgerRow(
                date=self.today.isoformat(),
                day=self._day_number(),
                mode=mode,
                flow=flow,
                channel=channel,
                from_party=src,
                to_party=dst,
                category=category,
                count=count,
            )
        )

    def note(
        self,
        kind: str,
        actors: tuple[str, ...],
        text: str,
        counts: dict[str, int] | None = None,
        values: dict[str, float] | None = None,
    ) -> None:
        self.transcript.append(
            TranscriptEntry(
                seq=len(self.transcript) + 1,
                date=self.today.isoformat(),
                day=self._day_number(),
                kind=kind,
                actors=actors,
                text=text,
                counts=dict(counts or {}),
                values={k: round(v, 6) + 0.0 for k, v in (values or {}).items()},
            )
        )

    def _day_number(self) -> int:
        return (self.today - self.s.calendar.start).days + 1


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _recv(
    party: str, holder: str, batch: dict[str, int], counter: dict[str, int]
) -> dict[str, int]:
    return counter if party == holder else batch


def _gave(
    party: str, holder: str, batch: dict[str, int], counter: dict[str, int]
) -> dict[str, int]:
    return batch if party == holder else counter


def _fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {c}" for c, n in counts.items() if n) or "none"


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def run(scenario: Scenario, seed: int = 0, rng: np.random.Generator | None = None) -> Episode:
    """Run one episode of ``scenario`` with the generator seeded by ``seed``.

    ``rng``, when given, is the generator to draw from instead (an ensemble passes
    each episode's own stream); ``seed`` is then only recorded in the summary.
    """
    if rng is None:
        rng = np.random.default_rng(np.random.SeedSequence(seed))
    return Execution(scenario, rng, seed).run()
