"""The event log of a single run, read back as the transcript, the ledger and the summary.

Each record of the log (``_log``) becomes one or two transcript entries, or a ledger
row; the words are here, the numbers come from the record. The decoder follows the
agreement in force as the records change it, so that names, mediators and batch lists
are those of the day.

Longer than most modules (about 580 lines): one short decoder per kind of record,
kept together so that the log's format and its reading stay side by side.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from .._version import __version__
from ..scenario import Agreement, Scenario, content_hash
from . import _log as L
from ._kernel import (
    COUNTER_FLOW,
    DAY_FLOW,
    DEAL_CHANNEL,
    OBLIGATION_FLOW,
    PAUSE,
    RELEASE_FLOW,
    SHORT_BATCH,
    SHORT_COUNTER,
)
from ._plan import Plan
from ._records import END_REASONS, Episode, LedgerRow, Summary, TranscriptEntry
from ._schedule import initial_batches, split_batches
from ._state import (
    END_BREACH,
    END_CAP,
    END_COMPLETED,
    END_DECLINED,
    END_HELD_ON_ENDED,
    END_HORIZON,
    END_NO_ELIGIBLE,
    S_DELAYS,
    S_END_BY,
    S_END_DAY,
    S_END_REASON,
    S_EXTENSIONS,
    S_FIGHTING_DAYS,
    S_LOG_N,
    S_N_ROUNDS_A,
    S_PAUSE_DAYS,
    S_PAUSE_END,
    S_PAUSE_START,
    S_STARTED,
    S_TALK_ROUNDS,
    State,
)
from ._terms import agreement_from

REASONS = tuple(END_REASONS)
WHAT = ("batch", "counter-release")
VIA = ("offer", "mediator_text")
FLOWS = ("day", "release", "counter_release", "side_channel_release", "obligation")


def _fmt(counts: dict[str, int], remains: frozenset[str] = frozenset()) -> str:
    """Counts by category; categories of remains (``deceased``) are named as such."""
    return (
        ", ".join(
            f"{n} {c}" + (" (remains)" if c in remains else "") for c, n in counts.items() if n
        )
        or "none"
    )


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


class Decoder:
    """Reads one episode's log (see the module)."""

    def __init__(self, plan: Plan, st: State, seed: int) -> None:
        self.plan = plan
        self.s: Scenario = plan.scenario
        self.st = st
        self.seed = seed
        self.names = {p.id: p.name for p in self.s.parties}
        self.sides = tuple(p.id for p in self.s.parties)
        self.a: Agreement | None = self.s.agreement
        n = self.s.negotiation
        self.pressure_keys: list[str] = list(n.parties) if n else []
        self.transcript: list[TranscriptEntry] = []
        self.ledger: list[LedgerRow] = []
        self.breaches: list[dict[str, object]] = []
        self.deals: list[dict[str, Any]] = []
        self.first_deal: date | None = None
        self.detail = ""
        self.today = self.s.calendar.start
        self.remains = frozenset(c.id for c in self.s.categories if c.deceased)
        self.postponed: list[dict[str, Any]] = []
        self.proposed_by = 0  # who proposed the extension being answered (0 the holder)
        self.next_phase: Agreement | None = None  # agreed during a pause, not yet in force
        self.phases = False  # a next phase has taken over (its start continues the pause)
        self.written: int | None = None  # the written phase coming into force (its number)
        self.carried: list[dict[str, Any]] = []  # the written phases carried out
        self.agreed_phase = False  # a phase agreed in talks has followed the written ones

    # -- helpers -----------------------------------------------------------------------

    def party(self, index: int) -> str:
        return self.plan.parties[index]

    def name(self, index: int) -> str:
        return self.names[self.party(index)]

    def mediator_name(self, ident: str) -> str:
        return next((m.name for m in self.s.mediators if m.id == ident), ident)

    def agreement(self) -> Agreement:
        assert self.a is not None
        return self.a

    def pairs(self, row: Any) -> dict[str, int]:
        out: dict[str, int] = {}
        for k in range(L.PAIRS, row.size, 2):
            if row[k] < 0:
                break
            out[self.plan.categories[int(row[k])]] = int(row[k + 1])
        return out

    def terms(self, outcome: int) -> dict[str, Any]:
        return dict(zip(self.plan.issues, self.plan.outcomes[outcome], strict=True))

    def terms_text(self, outcome: int) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.terms(outcome).items())

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
                day=(self.today - self.s.calendar.start).days + 1,
                kind=kind,
                actors=actors,
                text=text,
                counts=dict(counts or {}),
                values={k: round(float(v), 6) + 0.0 for k, v in (values or {}).items()},
            )
        )

    # -- records -----------------------------------------------------------------------

    def read(self) -> Episode:
        log_i, log_f = self.st.log_i, self.st.log_f
        for r in range(int(self.st.si[S_LOG_N])):
            row, f = log_i[r], log_f[r]
            self.today = self.s.calendar.start + timedelta(days=int(row[L.DAY]))
            a = [int(x) for x in row[2 : 2 + L.INTS]]
            self.dispatch(int(row[L.KIND]), a, row, [float(x) for x in f])
        return Episode(self.summary(), self.transcript, self.ledger)

    def dispatch(self, kind: int, a: list[int], row: Any, f: list[float]) -> None:
        if kind == L.FLOW:
            self.flow(a)
        elif kind == L.EVENT:
            self.event(a[0], a[1], f[0])
        elif kind == L.DELAY:
            self.delay(a[0], a[1])
        elif kind == L.IN_FORCE:
            self.in_force()
        elif kind == L.POSTPONED:
            self.postponement(a[0], a[1], a[2], a[3])
        elif kind == L.PHASE_END:
            assert self.next_phase is not None
            self.phases = True
            self.agreed_phase = True
            tomorrow = self.today + timedelta(days=1)
            self.a = self.next_phase.model_copy(update={"start": tomorrow})
            self.next_phase = None
            self.note(
                "phase_end",
                self.sides,
                f"the phase ends; the next phase, agreed in talks, is in force from {tomorrow}",
            )
        elif kind == L.PHASE_DECISION:
            self.phase_decision(a[0], a[1], f)
        elif kind == L.WRITTEN_PHASE:
            self.written_phase(a[0], a[1], a[2], a[3], a[4])
        elif kind == L.HOLDS_ON:
            over = (
                self.end_detail(a[0], a[1], 0, 0, 0)
                if a[0] != END_COMPLETED
                else ("its days are over")
            )
            limit = f", for {_days(a[2])} at most" if a[2] >= 0 else ""
            self.note(
                "pause_holds_on",
                self.sides,
                f"the phase is over ({over}); the pause holds on while the talks on the "
                f"next phase go on{limit}",
            )
        elif kind == L.OBLIGATION_DUE:
            o = self.agreement().obligations[a[0]]
            party = self.party(a[1])
            self.note(
                "obligation_due",
                (party,),
                f"{self.names[party]}'s obligation {o.id} falls due today"
                + (f": {o.description.strip()}" if o.description else ""),
            )
        elif kind in (L.SIDE_RELEASE, L.SIDE_SHORTFALL):
            self.side_channel(kind, a[0], a[1])
        elif kind == L.REFUSAL:
            party = self.party(a[0])
            self.note("refusal", (party,), f"{self.names[party]} refuses the day's {WHAT[a[1]]}")
        elif kind == L.CURED:
            m = self.agreement().mediator
            self.note(
                "breach_cured",
                (m, self.party(a[0])),
                f"{self.mediator_name(m)} re-requests the {WHAT[a[1]]}; made on attempt {a[2]}",
            )
        elif kind == L.BREACH:
            detail = self.breach_detail(a[0], a[1], a[2], a[3])
            party = self.party(a[0])
            self.breaches.append({"date": self.today.isoformat(), "party": party, "detail": detail})
            self.note("breach", (party,), f"breach: {detail}")
        elif kind in (L.RELEASE_BATCH, L.COUNTER_RELEASE):
            giver, taker = self.party(a[0]), self.party(a[1])
            counts = self.pairs(row)
            how = ""
            if kind == L.RELEASE_BATCH and a[3]:
                how = " in the hand-over dated today"
            elif kind == L.COUNTER_RELEASE and a[3]:
                how = ", fixed by the terms for this date"
            self.note(
                "release_batch" if kind == L.RELEASE_BATCH else "counter_release",
                (giver, taker, self.agreement().mediator),
                f"{self.names[giver]} releases {a[2]} ({_fmt(counts, self.remains)}){how}",
                counts=counts,
                values={p: f[j] for j, p in enumerate(self.sides)},
            )
        elif kind == L.VERIFIED:
            ag = self.agreement()
            self.note(
                "handover_verified",
                (ag.mediator, ag.batches.releaser, ag.exchange.releaser),
                f"{self.mediator_name(ag.mediator)} verifies the hand-over of {a[0]}",
                counts=self.pairs(row),
            )
        elif kind in (L.EXTENSION_DECLINE, L.EXTENSION_OFFER, L.EXTENSION_ACCEPT, L.EXTENSION):
            self.extension(kind, a, row, f)
        elif kind == L.PAUSE_END:
            self.phases = False
            self.detail = self.end_detail(a[0], a[1], a[2], a[3], a[4])
            if self.one_off():
                self.note("exchange_end", self.sides, f"one-off exchange ends: {self.detail}")
            else:
                self.note("pause_end", self.sides, f"pause ends: {self.detail}")
                self.note("fighting_resumed", self.sides, "fighting resumes the next day")
        elif kind == L.EPISODE_END:
            reason = REASONS[a[0]]
            self.note("episode_end", (), f"episode ends: {reason} ({END_REASONS[reason]})")
        else:
            self.talks(kind, a, f)

    def obligations_owed(self) -> dict[str, dict[str, int]]:
        """Counted obligations owed over the pause, by party and obligation."""
        out: dict[str, dict[str, int]] = {}
        for row in self.ledger:
            if row.flow == "obligation":
                owed = out.setdefault(row.from_party, {})
                owed[row.category] = owed.get(row.category, 0) + row.count
        return out

    def one_off(self) -> bool:
        """Whether the agreement in force is a one-off exchange (no pause)."""
        return self.a is not None and self.a.kind == "exchange"

    def written_phase(self, number: int, begins: int, mode: int, limit: int, reason: int) -> None:
        """Phase ``number`` written in the agreement follows the one whose days are over:
        from tomorrow (``mode`` 0), after the pause held on until its date (1), or on its
        date after days of fighting (2)."""
        agreement = self.s.agreement
        assert agreement is not None
        day = self.s.calendar.start + timedelta(days=begins)
        self.a = agreement.phase_terms(number - 1, day)
        self.written = number
        over = {
            END_COMPLETED: "its days are over",
            END_DECLINED: "no extension agreed",
            END_CAP: "its cap is reached",
            END_NO_ELIGIBLE: "no further batch in reach",
        }.get(reason, "its days are over")
        if mode == 2:
            self.note(
                "phase_end",
                self.sides,
                f"phase {number}, written in the agreement, comes into force on {day}",
            )
            return
        self.phases = True
        if mode == 0:
            self.note(
                "phase_end",
                self.sides,
                f"phase {number - 1} ends ({over}); phase {number}, written in the "
                f"agreement, is in force from {day}",
            )
            return
        most = f", for {_days(limit)} at most" if limit >= 0 else ""
        self.note(
            "pause_holds_on",
            self.sides,
            f"phase {number - 1} ends ({over}); the pause holds on until phase {number} "
            f"begins on {day}{most}",
        )

    def phase_decision(self, number: int, side: int, f: list[float]) -> None:
        """Both sides weigh going on to conditional phase ``number`` against fighting
        (``side``: the one that does not go on, 0 the holder, 1 the other; -1: none)."""
        agreement = self.s.agreement
        assert agreement is not None
        terms = agreement.phase_terms(number - 1, self.today)
        holder, other = terms.batches.releaser, terms.exchange.releaser
        values = {
            f"{holder}_phase": f[0],
            f"{other}_phase": f[1],
            f"{holder}_fighting": f[2],
            f"{other}_fighting": f[3],
        }
        if side < 0:
            self.note(
                "extension_accept",
                (holder, other),
                f"{self.names[holder]} and {self.names[other]} value going on to phase "
                f"{number} ({f[0]:g}, {f[1]:g}) above fighting ({f[2]:g}, {f[3]:g})",
                values=values,
            )
            return
        party = (holder, other)[side]
        self.note(
            "extension_decline",
            (party,),
            f"{self.names[party]} values going on to phase {number} ({f[side]:g}) no higher "
            f"than fighting ({f[2 + side]:g}); the phase is conditional",
            values=values,
        )

    def in_force(self) -> None:
        a = self.agreement()
        written, self.written = self.written, None
        if self.s.agreement is not None and self.s.agreement.phases:
            if written is None and not self.carried:
                written = 1
            if written is not None:
                self.carried.append(
                    {"phase": written, "start": self.today.isoformat(), "days": a.initial_days}
                )
        through = f"through {self.mediator_name(a.mediator)}"
        dated = a.batches.dated
        if dated is not None:
            dates = ", ".join(h.date.isoformat() for h in dated)
            what = f"dated hand-overs on {dates}"
        else:
            what = f"batches {initial_batches(a)} of {', '.join(a.batches.categories)}"
        if self.one_off():
            self.note("agreement_in_force", self.sides, f"one-off exchange {through}: {what}")
            return
        self.note(
            "agreement_in_force",
            self.sides,
            f"agreement in force {through}: {_days(a.initial_days)}, {what}",
        )
        if written is not None and written > 1:
            how = "goes on" if self.phases else "begins again"
            self.note(
                "phase_start",
                self.sides,
                f"phase {written} begins: the pause {how} for {_days(a.initial_days)}",
            )
        elif self.phases and self.a is not None:
            self.note(
                "phase_start",
                self.sides,
                f"the pause goes on under the next phase, for {_days(a.initial_days)}",
            )
        else:
            self.note("pause_start", self.sides, f"pause begins for {_days(a.initial_days)}")

    def postponement(self, party: int, what: int, index: int, until: int) -> None:
        """A party's releases due today moved to a later day (``index``: the dated
        hand-over; -1 daily, below -1 a dated counter-release)."""
        who = self.party(party)
        later = (self.s.calendar.start + timedelta(days=until)).isoformat()
        if what == 0:
            thing = "hand-over"
        elif index < -1:
            thing = "counter-release fixed for today"
        else:
            thing = "counter-releases for the verified hand-over"
        self.postponed.append(
            {"due": self.today.isoformat(), "made": later, "party": who, "what": thing}
        )
        self.note("postponed", (who,), f"{self.names[who]}'s {thing} postponed to {later}")

    def flow(self, a: list[int]) -> None:
        mode, what, channel, src, dst = a[0], a[1], a[2], a[3], a[4]
        mode_name = "pause" if mode == PAUSE else "fighting"
        category, count = a[5], a[6]
        if what == DAY_FLOW:
            flow, channel_name, to = f"{mode_name}_day", "", ""
        elif what in (RELEASE_FLOW, COUNTER_FLOW, OBLIGATION_FLOW):
            flow = FLOWS[what]
            channel_name, to = "deal", self.party(dst)
        else:
            sc = self.s.side_channels[channel]
            flow, channel_name, to = FLOWS[what], sc.id, sc.recipient
        assert channel != DEAL_CHANNEL or what in (RELEASE_FLOW, COUNTER_FLOW, OBLIGATION_FLOW)
        self.ledger.append(
            LedgerRow(
                date=self.today.isoformat(),
                day=(self.today - self.s.calendar.start).days + 1,
                mode=mode_name,
                flow=flow,
                channel=channel_name,
                from_party=self.party(src) if src >= 0 else "",
                to_party=to,
                category=self.plan.categories[category] if category >= 0 else "",
                count=count,
            )
        )

    def event(self, j: int, applied: int, pressure: float) -> None:
        e = self.s.events[j]
        if e.kind == "holdings":
            self.note(
                "event",
                (e.holder,),
                f"holdings of {e.holder}: {e.category} in custody of {e.custody} "
                f"change by {applied}" + (f" ({e.description})" if e.description else ""),
                counts={e.category: applied},
            )
        elif e.kind == "custody":
            state = "within" if e.reachable else "out of"
            self.note("event", (e.group,), f"captives held by {e.group} are now {state} reach")
        elif e.kind == "value":
            what = f"{e.term} {e.category}" if e.category else e.term
            self.note("event", (e.party,), f"{e.party}'s value of {what} changes by {e.change:g}")
        elif e.kind == "pressure":
            if e.party not in self.pressure_keys:
                self.pressure_keys.append(e.party)
            self.note(
                "event",
                (e.party,),
                f"pressure on {self.names[e.party]} changes by {e.change:g} "
                f"to {pressure:g}" + (f" ({e.description.strip()})" if e.description else ""),
                values={f"{e.party}_pressure": pressure},
            )

    def delay(self, j: int, party: int) -> None:
        if j < 0:
            self.note("delay", (self.party(party),), "hand-over delayed (drawn)")
            return
        e = self.s.events[j]
        assert e.kind == "delay"
        self.note(
            "delay",
            (e.party,) if e.party else (),
            "hand-over delayed"
            + (f" {e.hours:g} hours" if e.hours is not None else "")
            + (f": {e.description.strip()}" if e.description else ""),
        )

    def side_channel(self, kind: int, j: int, made: int) -> None:
        side = self.plan.side[j]
        sc = self.s.side_channels[int(side[1])]
        category, count = self.plan.categories[int(side[3])], int(side[4])
        if kind == L.SIDE_RELEASE:
            self.note(
                "side_channel_release",
                (sc.releaser, sc.recipient),
                f"{made} {category} released to {sc.recipient} through side channel {sc.id}",
                counts={category: made},
            )
        else:
            self.note(
                "side_channel_shortfall",
                (sc.releaser,),
                f"side channel {sc.id}: {count} {category} due, {made} in reach",
                counts={category: count - made},
            )

    def breach_detail(self, party: int, detail: int, x: int, y: int) -> str:
        if detail == SHORT_BATCH:
            return f"{self.name(party)} has {x} eligible captives in reach, {y} due today"
        if detail == SHORT_COUNTER:
            return f"{self.name(party)} has {x} eligible for counter-release, {y} due"
        return f"{self.name(party)} refused the day's {WHAT[x]}"

    def end_detail(self, reason: int, by: int, x: int, y: int, z: int) -> str:
        if reason == END_COMPLETED:
            if self.one_off():
                return "its last hand-over is made"
            if self.carried and self.carried[-1]["phase"] > 1 and not self.agreed_phase:
                return f"phase {self.carried[-1]['phase']}'s days are over"
            return "the initial period is complete"
        if reason == END_CAP:
            return f"the pause has reached its cap of {_days(x)}"
        if reason == END_HELD_ON_ENDED:
            why = (
                "the continuation's limit was reached"
                if y
                else "the talks ended without agreeing the next phase"
            )
            return f"it held on {_days(x)} after its phase; {why}"
        if reason == END_NO_ELIGIBLE:
            return (
                f"{self.name(by)} has {x} eligible captives in reach, "
                f"fewer than the {y} one more day needs"
            )
        if reason == END_DECLINED:
            if x == 3:
                return (
                    f"{self.name(by)} did not go on to phase {y}: it values resuming "
                    "fighting higher"
                )
            if x == 0:
                return (
                    f"{self.name(by)} offered no further batch: it values resuming fighting higher"
                )
            if x == 2:
                return f"{self.name(by)} proposed no extension: it values resuming fighting higher"
            return f"{self.name(by)} declined the extension: it values resuming fighting higher"
        assert reason == END_BREACH
        return self.breach_detail(by, x, y, z)

    def extension(self, kind: int, a: list[int], row: Any, f: list[float]) -> None:
        ag = self.agreement()
        holder, other = ag.batches.releaser, ag.exchange.releaser
        both = {
            f"{holder}_extension": f[0],
            f"{other}_extension": f[1],
            f"{holder}_fighting": f[2],
            f"{other}_fighting": f[3],
        }
        if kind == L.EXTENSION_DECLINE and a[0] == 0 and a[2] == 0:
            self.note(
                "extension_decline",
                (holder,),
                f"{self.names[holder]} values {a[1]} more days ({f[0]:g}) "
                f"no higher than fighting ({f[2]:g}); offers no batch",
                values=both,
            )
        elif kind == L.EXTENSION_DECLINE and a[0] == 0:
            self.note(
                "extension_decline",
                (holder,),
                f"{self.names[holder]} values the extension ({f[0]:g}) no higher "
                f"than resuming fighting ({f[2]:g})",
                values=both,
            )
        elif kind == L.EXTENSION_DECLINE and a[2] == 2:
            self.note(
                "extension_decline",
                (other,),
                f"{self.names[other]} values {a[1]} more days ({f[1]:g}) "
                f"no higher than fighting ({f[3]:g}); proposes no extension",
                values=both,
            )
        elif kind == L.EXTENSION_DECLINE:
            self.note(
                "extension_decline",
                (other,),
                f"{self.names[other]} values the extension ({f[1]:g}) no higher "
                f"than resuming fighting ({f[3]:g})",
                values=both,
            )
        elif kind == L.EXTENSION_OFFER:
            self.extension_offer(a, row, both)
        elif kind == L.EXTENSION_ACCEPT:
            by = self.proposed_by
            answering = (other,) if by == 0 else (holder,) if by == 1 else (holder, other)
            self.note(
                "extension_accept",
                answering,
                " and ".join(self.names[p] for p in answering)
                + (" accept" if len(answering) > 1 else " accepts"),
                values=both,
            )
        else:
            days, granted, count = a[0], a[1], a[2]
            due = split_batches(count, days, ag.batches.split)
            self.note(
                "extension",
                (ag.mediator, holder, other),
                f"pause extended by {_days(days)} (to {granted} in total), batches {due}",
                counts={"days": days},
            )

    def extension_offer(self, a: list[int], row: Any, both: dict[str, float]) -> None:
        """An extension proposed: by the holder (``a[2]`` 0), the other side (1) or a
        mediator (2 + its index)."""
        ag = self.agreement()
        holder, other = ag.batches.releaser, ag.exchange.releaser
        count, days = a[0], a[1]
        self.proposed_by = min(a[2], 2)
        what = (
            f"{count} more ({_fmt(self.pairs(row), self.remains)}) "
            f"for {days} more {_days(days).split(' ', 1)[1]}"
        )
        if a[2] == 0:
            self.note(
                "extension_offer",
                (holder, ag.mediator, other),
                f"{self.names[holder]} offers {what}",
                counts={"captives": count, "days": days},
                values=both,
            )
            self.note(
                "relay",
                (ag.mediator, holder, other),
                f"{self.mediator_name(ag.mediator)} relays the offer to {self.names[other]}",
            )
        elif a[2] == 1:
            self.note(
                "extension_offer",
                (other, ag.mediator, holder),
                f"{self.names[other]} proposes {what} from {self.names[holder]}",
                counts={"captives": count, "days": days},
                values=both,
            )
            self.note(
                "relay",
                (ag.mediator, other, holder),
                f"{self.mediator_name(ag.mediator)} relays the proposal to {self.names[holder]}",
            )
        else:
            mediator = self.s.mediators[a[2] - 2]
            self.note(
                "extension_offer",
                (mediator.id, holder, other),
                f"{mediator.name} proposes {what} from {self.names[holder]}",
                counts={"captives": count, "days": days},
                values=both,
            )

    def talks(self, kind: int, a: list[int], f: list[float]) -> None:
        n = self.s.negotiation
        assert n is not None
        first = n.first_mover
        second = next(p for p in self.names if p != first)
        mediator = next((m for m in self.s.mediators if m.id == n.mediator), None)
        values = {first: f[0], second: f[1]}
        if kind == L.TALKS_OPEN:
            via = f"through {mediator.name}" if mediator else "directly"
            index = {p: j for j, p in enumerate(self.plan.parties)}
            self.note(
                "talks_open",
                (first, second, *([mediator.id] if mediator else [])),
                f"talks open {via} over {', '.join(i.id for i in n.issues)}",
                values={f"{p}_pressure": f[index[p]] for p in self.pressure_keys},
            )
        elif kind == L.TIMEOUT:
            me = self.party(a[0])
            self.note(
                "timeout",
                (me,),
                f"{self.names[me]} does not answer within its "
                f"deadline of {_days(n.parties[me].deadline_days)}; it leaves the talks",
            )
        elif kind == L.BREAKDOWN:
            me = self.party(a[0])
            self.note("breakdown", (me,), f"{self.names[me]} breaks off the talks")
        elif kind == L.ACCEPT_OFFER:
            me, other = self.party(a[0]), self.party(a[1])
            lo = f[2]
            self.note(
                "accept",
                (me, other),
                f"{self.names[me]} accepts "
                f"{self.terms_text(a[2])} (its value {values[me]:.4g} >= aspiration "
                f"{lo:.4g})",
                values=values | {f"{me}_aspiration": lo},
            )
        elif kind == L.OFFER:
            me, other = self.party(a[0]), self.party(a[1])
            t, lo = f[2], f[3]
            self.note(
                "counter" if a[4] else "offer",
                (me, other),
                f"{self.names[me]} offers {self.terms_text(a[2])} "
                f"(round {a[3]}, t={t:.3f}, aspiration {lo:.4g})",
                values=values | {f"{me}_aspiration": lo},
            )
            if mediator is not None:
                delay = a[5]
                self.note(
                    "relay",
                    (mediator.id, me, other),
                    f"{mediator.name} relays the offer to {self.names[other]}"
                    + (f", arriving in {_days(delay)}" if delay else ""),
                    values=values,
                )
        elif kind == L.TEXT:
            assert mediator is not None
            if a[0] < 0:
                self.note(
                    "mediator_text",
                    (mediator.id,),
                    f"{mediator.name} finds no "
                    "text that leaves both sides better off than fighting",
                )
            else:
                self.note(
                    "mediator_text",
                    (mediator.id, first, second),
                    f"{mediator.name} tables a compromise text after {a[1]} "
                    f"stalled rounds: {self.terms_text(a[0])}",
                    values=values,
                )
        elif kind == L.TEXT_ANSWER:
            assert mediator is not None
            me, lo = self.party(a[0]), f[2]
            if a[1]:
                self.note(
                    "accept",
                    (me, mediator.id),
                    f"{self.names[me]} accepts the text ({values[me]:.4g} >= {lo:.4g})",
                    values=values,
                )
            else:
                self.note(
                    "veto",
                    (me, mediator.id),
                    f"{self.names[me]} vetoes the text ({values[me]:.4g} < aspiration {lo:.4g})",
                    values=values,
                )
        elif kind == L.TALKS_END:
            by = self.party(a[1]) if a[1] >= 0 else None
            name = self.names[by] if by else ""
            self.detail = {
                2: f"{name} reached its deadline without agreement",
                3: f"{name} broke off the talks",
                4: "no outcome is feasible for both sides",
            }[a[0]]
            self.note("talks_end", self.sides, f"talks end: {self.detail}")
        elif kind == L.AGREEMENT:
            self.agreement_note(a, f, first, second, mediator.id if mediator else None)

    def discounted(self, values: dict[str, float], k: int) -> dict[str, float] | None:
        """Each side's value of an agreement in round k times its discount (the
        negotiation's ``discount``: factor**k per round, factor**t per unit of relative
        time t = (k + 1) / (n + 1)); None if neither side has a discount factor below 1."""
        n = self.s.negotiation
        if n is None or all(
            t.discount is None or t.discount.factor == 1.0 for t in n.parties.values()
        ):
            return None
        out = {}
        for side, p in enumerate(values):
            d = n.parties[p].discount
            factor = 1.0
            if d is not None and d.per == "time":
                rounds = int(self.st.si[S_N_ROUNDS_A + side])
                factor = d.factor ** ((k + 1) / (rounds + 1))
            elif d is not None:
                factor = d.factor ** float(k)
            out[p] = factor * values[p]
        return out

    def agreement_note(
        self, a: list[int], f: list[float], first: str, second: str, mediator: str | None
    ) -> None:
        terms = self.terms(a[0])
        values = {first: f[0], second: f[1]}
        satisfaction = {first: f[2], second: f[3]}
        j = len(self.deals)
        k = int(self.st.deal_i[j, 1])
        deal: dict[str, Any] = {
            "date": self.today.isoformat(),
            "round": k,
            "via": VIA[a[1]],
            "terms": dict(terms),
            "values": {p: round(v, 6) for p, v in values.items()},
            "satisfaction": {p: round(v, 6) for p, v in satisfaction.items()},
        }
        shown = values | {f"{p}_satisfaction": v for p, v in satisfaction.items()}
        discounted = self.discounted(values, k)
        if discounted is not None:
            deal["discounted_values"] = {p: round(v, 6) for p, v in discounted.items()}
            shown |= {f"{p}_discounted": v for p, v in discounted.items()}
        self.deals.append(deal)
        if not a[2]:
            self.note(
                "agreement",
                self.sides,
                f"agreement on {terms} (talks only: the scenario has no template for execution)",
                values=shown,
            )
            self.detail = "agreement reached; no execution terms"
            return
        fallback = mediator or (self.s.mediators[0].id if self.s.mediators else "direct")
        agreed = agreement_from(self.s, terms, self.today, fallback)
        if a[3]:  # during a pause: the next phase, in force when the current one ends
            self.next_phase = agreed
            self.note(
                "agreement",
                self.sides,
                f"agreement reached ({VIA[a[1]].replace('_', ' ')}) on the next phase: "
                f"{terms}; in force when the current phase ends",
                values=shown,
            )
            return
        self.a = agreed
        self.note(
            "agreement",
            self.sides,
            f"agreement reached ({VIA[a[1]].replace('_', ' ')}): {terms}; pause "
            f"from {self.a.start}",
            values=shown,
        )

    # -- the summary -------------------------------------------------------------------

    def summary(self) -> Summary:
        s, st = self.s, self.st
        si = st.si
        start, horizon = s.calendar.start, s.calendar.horizon

        def iso(day: int) -> str | None:
            return None if day < 0 else (start + timedelta(days=day)).isoformat()

        reason = REASONS[int(si[S_END_REASON])]
        if int(si[S_END_REASON]) == END_HORIZON:
            detail = "the pause still holds at the horizon"
        elif reason in ("talks_ongoing", "no_agreement", "not_started"):
            detail = END_REASONS[reason]
        else:
            detail = self.detail
        by = int(si[S_END_BY])
        released = st.released
        side = st.side_released
        categories = self.plan.categories
        pause_start = iso(int(si[S_PAUSE_START]))
        a = s.agreement
        one_off = a is not None and a.kind == "exchange" and bool(si[S_STARTED])
        agreement_date = (
            self.deals[0]["date"]
            if self.deals
            else (a.signed or a.start).isoformat()
            if a is not None and (pause_start is not None or one_off)
            else None
        )
        side_by = {categories[c]: int(side[c]) for c in range(side.size) if side[c]}
        remains = {
            p: {c: int(released[i, categories.index(c)]) for c in sorted(self.remains)}
            for i, p in enumerate(self.plan.parties)
        }
        remains = {p: {c: n for c, n in v.items() if n} for p, v in remains.items()}
        return Summary(
            scenario=s.name,
            scenario_hash=content_hash(s),
            seed=self.seed,
            package_version=__version__,
            calendar_start=start.isoformat(),
            horizon=horizon.isoformat(),
            agreement_reached=pause_start is not None or bool(self.deals) or one_off,
            agreement_date=agreement_date,
            pause_start=pause_start,
            pause_end=iso(int(si[S_PAUSE_END])),
            pause_days=int(si[S_PAUSE_DAYS]),
            fighting_days=int(si[S_FIGHTING_DAYS]),
            extensions=[int(d) for d in st.extensions[: int(si[S_EXTENSIONS])]],
            released={
                p: dict(
                    sorted(
                        (categories[c], int(released[i, c]))
                        for c in range(len(categories))
                        if released[i, c]
                    )
                )
                for i, p in enumerate(self.plan.parties)
            },
            side_channel_released=sum(side_by.values()),
            side_channel_by_category=dict(sorted(side_by.items())),
            breaches=self.breaches,
            delays=int(si[S_DELAYS]),
            end_reason=reason,
            end_detail=detail,
            ended_by=self.party(by) if by >= 0 else None,
            end_date=iso(int(si[S_END_DAY])) or horizon.isoformat(),
            agreements=self.deals,
            talk_rounds=int(si[S_TALK_ROUNDS]),
            fighting_cost={p: round(float(st.cost[i]), 6) for i, p in enumerate(self.plan.parties)},
            agreement_kind="exchange" if one_off else None,
            obligations=self.obligations_owed(),
            remains={p: v for p, v in remains.items() if v},
            postponed=self.postponed,
            phases=self.carried,
        )
