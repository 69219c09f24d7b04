"""The ensemble engine, negotiation mode: talks, agreements and their pauses, many
episodes at once.

Every episode of a batch moves through the same calendar in lock-step, one day at a
time, with the reference engine's day (``engine/_execution.py``) as a fixed sequence of
array operations over episodes:

1. dated events (holdings, custody, values, pressure, recorded delays);
2. the pause of an agreement reached in the talks begins ``start_after_days`` after it;
3. talks open on ``negotiation.start`` and again ``restart_after_days`` after talks
   fail or a pause ends;
4. side channels; during a pause the day's batch (``_execution``'s rules, with each
   episode's own agreed terms: its daily batch, its first category, its ratios);
5. the talks: for each running session, the acts that fall on the day (the first mover
   on the round's first day, the other side ``relay_delay_days`` later), each with its
   deadline check, its breakdown draw, its threshold, its acceptance of the last offer
   or its own offer, and after the second act the mediator's stall count and, at the
   stall limit, its compromise text (``_talks_sessions``, ``_talks_tables``);
6. hand-overs verified today bring the counter-releases; at the end of a paid-for
   period, the extension rule.

Each episode's talks play against its own table of outcomes (its pools decide which
outcomes are feasible and what they imply, its pressure and priors its values), rebuilt
when what the table depends on has changed for that episode. Random draws come from
each episode's stream, at the points where the reference engine draws: one per act of
the talks for a breakdown, and during a pause what ``_execution`` draws. When no side
can break off (every ``breakdown_probability`` is 0) no draw can change anything, and
the streams are not built.

Scenarios the vectorised engine does not cover (an agreement in force *and* talks, a
first category outside the template's categories, an affine value function of category
names) run every episode with the reference engine (``run_draw``, exact by
construction); the result's ``reference`` column says which episodes did, so the share
is always reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from ..engine import Summary
from ..scenario import (
    IssueWeightPrior,
    PressurePrior,
    RelayDelayPrior,
    ReservationPrior,
    Scenario,
    ValuePrior,
    content_hash,
)
from ._backend import Backend, Progress, run_batches
from ._draws import prior_values, run_draw
from ._execution import (
    _CODE,
    NO_PARTY,
    EnsembleResult,
    _Batch,
    _Plan,
    _python_sum,
)
from ._streams import EPISODE_STREAM, Streams, _output, _step, verified
from ._talks_sessions import Sessions
from ._talks_tables import F64, Grid, TableStore, aspiration_table

I64 = NDArray[np.int64]
Mask = NDArray[np.bool_]

VIA: tuple[str, ...] = ("offer", "mediator_text")
NEVER = -1
# Memory for the tables of one batch, when each episode may need its own (bytes).
TABLE_BUDGET = 256 * 2**20
_BYTES_PER_OUTCOME = 56


# ---------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class NegotiationEnsembleResult(EnsembleResult):
    """An ensemble of a scenario with talks: :class:`EnsembleResult`'s columns, and the
    talks' results.

    ``agreement_day[i, j]`` (days from ``calendar_start``), ``agreement_round``,
    ``agreement_outcome`` (an index into ``outcomes``, whose values are in the order of
    ``issues``), ``agreement_via`` (an index into ``VIA``) and ``agreement_values``
    (each party's value, in the order of ``parties``) describe episode i's j-th
    agreement, padded with -1 (NaN for values); ``talk_rounds`` the rounds of talks
    played; ``reference`` marks episodes the reference engine ran (see the module);
    ``signed_day`` the day of the scenario's own agreement, if it has one."""

    issues: tuple[str, ...]
    outcomes: tuple[tuple[Any, ...], ...]
    agreement_day: NDArray[np.int32]
    agreement_round: NDArray[np.int32]
    agreement_outcome: NDArray[np.int32]
    agreement_via: NDArray[np.int8]
    agreement_values: NDArray[np.float64]
    talk_rounds: NDArray[np.int32]
    reference: NDArray[np.bool_]
    signed_day: int = -1  # the scenario's own agreement: signed (or start) day, -1: none

    @property
    def agreements(self) -> NDArray[np.int64]:
        """Agreements reached in each episode."""
        count: NDArray[np.int64] = (self.agreement_day >= 0).sum(axis=1, dtype=np.int64)
        return count

    @property
    def agreed(self) -> Mask:
        """Whether the episode's talks reached an agreement."""
        return self.agreements > 0

    @property
    def first_agreement_day(self) -> NDArray[np.int32]:
        """The day of each episode's first agreement (-1: none)."""
        if self.agreement_day.shape[1] == 0:
            return np.full(len(self), -1, dtype=np.int32)
        first: NDArray[np.int32] = self.agreement_day[:, 0]
        return first

    def terms(self, outcome: int) -> dict[str, Any]:
        return dict(zip(self.issues, self.outcomes[outcome], strict=True))

    def episode(self, i: int) -> dict[str, Any]:
        out = super().episode(i)
        deals = []
        for j in range(self.agreement_day.shape[1]):
            day = int(self.agreement_day[i, j])
            if day < 0:
                break
            deals.append(
                {
                    "date": self._date(day),
                    "round": int(self.agreement_round[i, j]),
                    "via": VIA[int(self.agreement_via[i, j])],
                    "terms": self.terms(int(self.agreement_outcome[i, j])),
                    "values": {
                        p: round(float(self.agreement_values[i, j, k]), 6)
                        for k, p in enumerate(self.parties)
                    },
                }
            )
        out["agreement_reached"] = bool(self.pause_start_day[i] >= 0) or bool(deals)
        signed = self.signed_day if self.pause_start_day[i] >= 0 else -1
        out["agreement_date"] = deals[0]["date"] if deals else self._date(signed)
        out["agreements"] = deals
        out["talk_rounds"] = int(self.talk_rounds[i])
        out["reference"] = bool(self.reference[i])
        return out


# ---------------------------------------------------------------------------
# What the vectorised engine covers


def unsupported(scenario: Scenario) -> str | None:
    """Why the vectorised engine cannot run this scenario's talks (None: it can)."""
    n = scenario.negotiation
    assert n is not None
    if scenario.agreement is not None:
        return "the scenario has an agreement in force as well as talks"
    t = n.template
    if t is not None:
        for issue in n.issues:
            if issue.kind == "first_category" and any(
                str(v) not in t.categories for v in issue.domain()
            ):
                return "a first category lies outside the template's categories"
    for terms in n.parties.values():
        for issue_id, f in terms.issues.items():
            issue = next(i for i in n.issues if i.id == issue_id)
            if f.table is None and issue.kind == "first_category":
                return "an affine value function of category names"
    return None


class _TalksPlan(_Plan):
    """The scenario's talks, prepared once for every batch."""

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario)
        n = scenario.negotiation
        assert n is not None
        self.n = n
        self.grid = Grid(scenario)
        self.sides = self.grid.parties
        self.talk_mediator = next((m for m in scenario.mediators if m.id == n.mediator), None)
        self.stall_limit = (
            self.talk_mediator.stall_limit_rounds if self.talk_mediator is not None else None
        )
        self.talks_start = (n.start - self.start).days
        self.restart = n.restart_after_days
        self.breakdown = tuple(n.parties[p].breakdown_probability for p in self.sides)
        self.exponent = tuple(n.parties[p].curve.e for p in self.sides)
        self.deadline = tuple(n.parties[p].deadline_days for p in self.sides)
        self.eps = n.acceptance_tolerance
        t = n.template
        self.t = t
        if t is not None:
            # The mediator of the executed agreement (``Execution.talk``'s fallback).
            mediator_id = (
                self.talk_mediator.id
                if self.talk_mediator is not None
                else (scenario.mediators[0].id if scenario.mediators else "direct")
            )
            self.exec_mediator = next((m for m in scenario.mediators if m.id == mediator_id), None)
            self.holder, self.other = t.batches_releaser, t.exchange_releaser
            self.batch_categories = list(t.categories)
            self.exchange_categories = list(t.exchange_categories)
            cats = self.batch_categories
            # Each episode's batch order: its first category, then the template's order.
            heads = self.grid.heads
            self.perm = np.array(
                [[cats.index(h), *(j for j, c in enumerate(cats) if c != h)] for h in heads],
                dtype=np.int64,
            )
            days_issue = next(i.id for i in n.issues if i.kind == "pause_days")
            per_day_issue = next(i.id for i in n.issues if i.kind == "releases_per_day")
            self.outcome_days = np.array(self.grid.raw[days_issue], dtype=np.int64)
            self.outcome_per_day = np.array(self.grid.raw[per_day_issue], dtype=np.int64)
            ratios = np.full((len(cats), self.grid.m), t.default_ratio, dtype=np.int64)
            for issue in n.issues:
                if issue.kind == "ratio" and issue.category in cats:
                    ratios[cats.index(issue.category)] = np.array(
                        self.grid.raw[issue.id], dtype=np.int64
                    )
            self.outcome_ratios = ratios
            self.release_columns = tuple(
                [(self.holder, c) for c in self.batch_categories]
                + [(self.other, c) for c in self.exchange_categories]
            )
        else:
            self.exec_mediator = None
            self.perm = np.zeros((1, 0), dtype=np.int64)
            self.release_columns = ()
        self.t_split = t.exchange_split if t is not None else "in_order"

    def table_varies(self) -> bool:
        """Whether episodes may need tables of their own (memory per episode)."""
        kinds = (PressurePrior, IssueWeightPrior, ValuePrior)
        return self.t is not None or any(isinstance(p, kinds) for p in self.s.priors)


def _classes(inputs: F64) -> tuple[F64, I64]:
    """The distinct rows of ``inputs`` and each row's index among them (``np.unique``
    over the columns that vary)."""
    if inputs.shape[0] == 0:
        return inputs, np.zeros(0, dtype=np.int64)
    varies = (inputs != inputs[:1]).any(axis=0)
    if not varies.any():
        return inputs[:1], np.zeros(inputs.shape[0], dtype=np.int64)
    _, first, inverse = np.unique(inputs[:, varies], axis=0, return_index=True, return_inverse=True)
    return inputs[first], inverse.reshape(-1).astype(np.int64)


# ---------------------------------------------------------------------------
# One batch of episodes


class _TalksBatch(_Batch):
    def __init__(self, plan: _TalksPlan, seed: int, first: int, count: int) -> None:
        super().__init__(plan, seed, first, count)
        n, s = plan.n, plan.s
        self.tp = plan
        size = count
        # Negotiator numbers and relay delays of each episode (its draw of the priors).
        # ``_Batch.apply_events`` moves ``self.pressure`` (here arrays: the same dict).
        self.party_pressure: dict[str, F64] = {
            p: np.full(size, t.pressure) for p, t in n.parties.items()
        }
        self.pressure = cast("dict[str, float]", self.party_pressure)
        reservation = {p: np.full(size, t.reservation) for p, t in n.parties.items()}
        self.weights = {
            p: {i: np.full(size, f.weight) for i, f in t.issues.items()}
            for p, t in n.parties.items()
        }
        relay = {m.id: np.full(size, m.relay_delay_days, dtype=np.int64) for m in s.mediators}
        for j, prior in enumerate(s.priors):
            drawn = self.prior_values[:, j]
            if isinstance(prior, PressurePrior):
                self.party_pressure[prior.party] = drawn.copy()
            elif isinstance(prior, ReservationPrior):
                reservation[prior.party] = drawn.copy()
            elif isinstance(prior, IssueWeightPrior):
                self.weights[prior.party][prior.issue] = drawn.copy()
            elif isinstance(prior, RelayDelayPrior):
                relay[prior.mediator] = drawn.astype(np.int64)
        self.reservation = tuple(reservation[p] for p in plan.sides)
        zero = np.zeros(size, dtype=np.int64)
        tm, em = plan.talk_mediator, plan.exec_mediator
        self.d_talk = relay[tm.id] if tm is not None else zero
        self.d_exec = relay[em.id] if em is not None else zero
        # Aspiration tables: one per side and per number of rounds its deadline allows.
        self.asp: list[F64] = []
        base: list[dict[int, int]] = []
        n_of: list[dict[int, int]] = []
        delays = sorted(set(self.d_talk.tolist())) or [0]
        for side in range(2):
            tables: list[F64] = []
            offsets: dict[int, int] = {}
            rounds: dict[int, int] = {}
            at = 0
            for d in delays:
                r = max(1, plan.deadline[side] // max(1, 2 * d))
                rounds[d] = r
                if r not in offsets:
                    offsets[r] = at
                    table = aspiration_table(plan.exponent[side], r)
                    tables.append(table)
                    at += table.size
            self.asp.append(np.concatenate(tables))
            base.append({d: offsets[rounds[d]] for d in delays})
            n_of.append(rounds)
        lookup = np.array(delays, dtype=np.int64)
        where = np.searchsorted(lookup, self.d_talk)
        self.n_rounds = [np.array([n_of[s_][d] for d in delays])[where] for s_ in range(2)]
        self.asp_base = [np.array([base[s_][d] for d in delays])[where] for s_ in range(2)]

        # The streams: only when a side can break off the talks.
        if any(p > 0 for p in plan.breakdown):
            indices = np.arange(first, first + count, dtype=np.uint64)
            self.streams = Streams(seed, indices, EPISODE_STREAM)
        else:
            self.streams = None

        # Talks.
        self.store = TableStore(plan.grid)
        self.sessions = Sessions()
        self.in_talks = np.zeros(size, dtype=bool)
        self.dirty = np.ones(size, dtype=bool)
        self.ep_slot = np.full(size, -1, dtype=np.int64)  # the episode's table class
        self.next_talks = np.full(size, plan.talks_start, dtype=np.int64)
        self.talk_days = {plan.talks_start}  # days on which some talks may open
        self.talk_rounds = np.zeros(size, dtype=np.int64)
        self.deal_log: list[tuple[Any, ...]] = []

        # Agreements and their pauses (with a template).
        cats = len(plan.batch_categories) if plan.t is not None else 0
        self.has_agreement = np.zeros(size, dtype=bool)
        self.pause_from = np.full(size, NEVER, dtype=np.int64)
        self.head = np.zeros(size, dtype=np.int64)
        self.ratio = np.zeros((cats, size), dtype=np.int64)
        self.per_day = np.zeros(size, dtype=np.int64)
        slots = int(self.d_exec.max()) + 1 if size else 1
        self.slots = slots
        self.pending = np.zeros((slots, cats, size), dtype=np.int64)
        self.pending_day = np.full((slots, size), -1, dtype=np.int64)
        self.released = np.zeros((len(plan.release_columns), size), dtype=np.int64)
        self.ext_log: list[tuple[I64, I64]] = []
        self.rows = np.arange(size)

    # -- helpers ----------------------------------------------------------------

    def advance(self, where: Mask) -> None:
        """Move the streams of ``where`` by one draw (a draw whose value cannot matter:
        the template's agreements have no delay or refusal probability)."""
        if self.streams is not None and where.any():
            self.streams.random_where(where)

    def draws_at(self, episodes: I64) -> F64:
        """The next double of the streams of ``episodes`` (distinct)."""
        st = self.streams
        assert st is not None
        hi, lo = _step(st.hi[episodes], st.lo[episodes], st.inc_hi[episodes], st.inc_lo[episodes])
        st.hi[episodes] = hi
        st.lo[episodes] = lo
        return _output(hi, lo)

    def take(self, party: str, category: str, count: I64, day: int) -> None:
        super().take(party, category, count, day)
        self.dirty |= count > 0

    def end(self, where: Mask, reason: str, by: int, day: int) -> None:
        """A pause ends: as ``_Batch.end``, and new talks are due."""
        super().end(where, reason, by, day)
        restart = self.tp.restart
        if restart is not None and where.any():
            self.next_talks[where] = day + max(1, restart)
            self.talk_days.add(day + max(1, restart))

    def term(self, terms: dict[str, F64], category: str) -> F64:
        found = terms.get(category)
        return found if found is not None else np.zeros(self.count)

    # -- the day loop -------------------------------------------------------------

    def run(self) -> None:
        p = self.tp
        execution = p.t is not None
        for day in range(p.n_days):
            self.apply_events(day)
            if execution:
                starting = self.pause_from == day
                if starting.any():
                    self.start_pauses(starting, day)
            if day in self.talk_days:
                opening = (self.next_talks == day) & ~self.active & ~self.in_talks
                if opening.any():
                    self.open_talks(np.flatnonzero(opening), day)
            holding = execution and bool(self.active.any())
            if holding:
                self.pause_days += self.active
                self.pause_end[self.active] = day
            self.side_channels(day)
            if holding:
                self.pause_batch(day)
            if self.sessions.any_alive():
                self.talk_day(day)
            if execution and self.has_agreement.any():
                self.verify(day)
                over = self.active & (self.period_k == self.period_days)
                if over.any():
                    self.end_period(over, day)
            if not self.sessions.any_alive() and self.quiet(day):
                self.fast_forward(day)
                break
        self.finish()

    def quiet(self, day: int) -> bool:
        """Whether nothing after ``day`` can change any result."""
        if any(later > day for later in self.talk_days) or self.active.any():
            return False
        return not ((self.pause_from > day).any() or (self.pending_day >= 0).any())

    def fast_forward(self, day: int) -> None:
        """The days after ``day`` when :meth:`quiet`: only recorded delays count."""
        for later in range(day + 1, self.p.n_days):
            for e in self.p.events_by_day[later]:
                if e.kind == "delay":
                    self.delays += 1

    def apply_events(self, day: int) -> None:
        super().apply_events(day)
        # Holdings, custody, values and pressure may change an episode's table.
        if any(e.kind != "delay" for e in self.p.events_by_day[day]):
            self.dirty[:] = True

    # -- talks --------------------------------------------------------------------

    def open_talks(self, episodes: I64, day: int) -> None:
        self.in_talks[episodes] = True
        count = episodes.size
        i = np.zeros(count, dtype=np.int64)
        f = np.zeros(count)
        d = self.d_talk[episodes]
        self.sessions.add(
            {
                "ep": episodes.astype(np.int64),
                "start": np.full(count, day, dtype=np.int64),
                "d": d,
                "rd": np.maximum(1, 2 * d),
                "n0": self.n_rounds[0][episodes],
                "n1": self.n_rounds[1][episodes],
                "base0": self.asp_base[0][episodes],
                "base1": self.asp_base[1][episodes],
                "last0": np.full(count, -1, dtype=np.int64),
                "last1": np.full(count, -1, dtype=np.int64),
                "gift0": np.full(count, np.nan),
                "gift1": np.full(count, np.nan),
                "stalled": i,
                "tabled": np.zeros(count, dtype=bool),
                "fresh": np.ones(count, dtype=bool),
                "slot": i,
                "umin0": f,
                "umin1": f,
                "umax0": f,
                "umax1": f,
                "span0": f,
                "span1": f,
                "r0": self.reservation[0][episodes],
                "r1": self.reservation[1][episodes],
                "alive": np.ones(count, dtype=bool),
            }
        )

    def inputs(self, episodes: I64, day: int) -> F64:
        """What each episode's table depends on (``Grid.key``), one row per episode."""
        columns: list[F64] = []
        for c in self.tp.grid.key:
            column: F64
            if c.kind == "pressure":
                column = self.party_pressure[c.party]
            elif c.kind == "pause_day":
                column = self.pause_day[c.party]
            elif c.kind == "weight":
                column = self.weights[c.party][c.name]
            elif c.kind == "receive":
                column = self.term(self.receive[c.party], c.name)
            elif c.kind == "give":
                column = self.term(self.give[c.party], c.name)
            else:  # a count in reach
                column = self.in_reach(c.party, c.name, day).astype(np.float64)
            columns.append(column[episodes])
        if not columns:
            return np.zeros((episodes.size, 0))
        return np.stack(columns, axis=1)

    def refresh(self, pos: I64, day: int, k: I64 | int, off: I64 | int) -> None:
        """Give the sessions at ``pos`` (new, or their inputs changed) their tables: an
        episode keeps its table from one session to the next unless something it
        depends on changed (``dirty``), as the reference engine's cached table."""
        ss = self.sessions
        episodes = ss.ep[pos]
        rebuild = self.dirty[episodes] | (self.ep_slot[episodes] < 0)
        if rebuild.any():
            changed = episodes[rebuild]
            inputs = self.inputs(changed, day)
            unique, inverse = _classes(inputs)
            keep = self.ep_slot >= 0
            keep[changed] = False
            slots = self.store.build(unique, self.ep_slot[keep])
            self.ep_slot[changed] = slots[inverse]
        self.dirty[episodes] = False
        slot = self.ep_slot[episodes]
        ss.slot[pos] = slot
        ss.fresh[pos] = False
        store = self.store
        for side in range(2):
            umin = np.maximum(store.vmin[side][slot], (ss.r0, ss.r1)[side][pos])
            umax = store.umax[side][slot]
            getattr(ss, f"umin{side}")[pos] = umin
            getattr(ss, f"umax{side}")[pos] = umax
            getattr(ss, f"span{side}")[pos] = umax - umin
        ss.update_single()
        empty = store.count[slot] == 0
        if empty.any():
            # ``Talks.step``: an empty table ends the talks before the day's acts.
            at = pos[empty]
            kk = k if isinstance(k, int) else k[at]
            oo = off if isinstance(off, int) else off[at]
            rounds = kk + (np.asarray(oo) > 0)
            self.close(at, day, np.broadcast_to(rounds, at.shape), "no_outcomes", NO_PARTY)

    def talk_day(self, day: int) -> None:
        ss = self.sessions
        k: I64 | int
        off: I64 | int
        if ss.uniform is not None:
            start, rd, d = ss.uniform[:3]
            k, off = divmod(day - start, rd)
            b_offset = d % rd
        else:
            rel = day - ss.start
            k = rel // ss.rd
            off = rel - k * ss.rd
            b_offset = -1
        need = ss.alive & (ss.fresh | self.dirty[ss.ep])
        if need.any():
            self.refresh(np.flatnonzero(need), day, k, off)
        if ss.uniform is not None:
            assert isinstance(k, int) and isinstance(off, int)
            if off == 0:
                self.act(0, None, k, day)
            if off == b_offset:
                self.act(1, None, k, day)
        else:
            assert not isinstance(k, int) and not isinstance(off, int)
            first = np.flatnonzero(ss.alive & (off == 0))
            if first.size:
                self.act(0, first, k[first], day)
            second = np.flatnonzero(ss.alive & (off == ss.d % ss.rd))
            if second.size:
                self.act(1, second, k[second], day)
        ss.settle()

    def threshold(self, side: int, pos: I64 | None, k: I64 | int) -> F64:
        """``Side.threshold`` at round ``k`` on each session's current table (``pos``
        None: every entry, in uniform sessions)."""
        ss = self.sessions
        umin = getattr(ss, f"umin{side}")
        umax = getattr(ss, f"umax{side}")
        span = getattr(ss, f"span{side}")
        a: F64 | float
        if pos is None:
            assert ss.uniform is not None and isinstance(k, int)
            a = float(self.asp[side][ss.uniform[5 + side] + k])
        else:
            umin, umax, span = umin[pos], umax[pos], span[pos]
            a = self.asp[side][getattr(ss, f"base{side}")[pos] + k]
        lo = span * a + umin - self.tp.eps
        out: F64 = np.maximum(umin, np.minimum(umax, lo))
        return out

    def act(self, side: int, pos: I64 | None, k: I64 | int, day: int) -> None:
        """Side ``side`` acts in round ``k`` in the sessions at ``pos`` (``Talks.act``);
        ``pos`` None: every entry (the live ones count), all in the same round."""
        ss, store = self.sessions, self.store
        party = self._party(side)
        # The deadline.
        if pos is None:
            assert ss.uniform is not None and isinstance(k, int)
            if k >= ss.uniform[3 + side]:  # every live session reaches it together
                where = np.flatnonzero(ss.alive)
                self.close(where, day, np.full(where.size, k), "deadline", party)
                return
        else:
            assert not isinstance(k, int)
            timeout = k >= getattr(ss, f"n{side}")[pos]
            if timeout.any():
                self.close(pos[timeout], day, k[timeout], "deadline", party)
                pos, k = pos[~timeout], k[~timeout]
        # The breakdown draw, made at every act.
        if self.streams is not None:
            acting = np.flatnonzero(ss.alive) if pos is None else pos
            broke = self.draws_at(ss.ep[acting]) < self.tp.breakdown[side]
            if broke.any():
                kk = np.full(acting.size, k) if isinstance(k, int) else k
                self.close(acting[broke], day, kk[broke] + 1, "breakdown", party)
                if pos is not None and not isinstance(k, int):
                    pos, k = pos[~broke], k[~broke]
        if pos is not None and pos.size == 0:
            return
        # Accept the other side's last offer at the threshold, or make an offer.
        lo = self.threshold(side, pos, k)
        single = ss.single
        slot = ss.slot if pos is None else ss.slot[pos]
        incoming = getattr(ss, f"last{1 - side}")
        if pos is not None:
            incoming = incoming[pos]
        if pos is None and side == 0 and k == 0:
            accept = None  # round 0: the first mover opens, with nothing to answer
        else:
            mine = store.value(side, slot, incoming, single)
            if pos is None and store.all_feasible:
                # Every live session of the cohort holds the other side's offer.
                accept = (mine >= lo) & ss.alive
            else:
                accept = store.on_table(slot, incoming, single) & (mine >= lo)
                if pos is None:
                    accept &= ss.alive
            if accept.any():
                where = np.flatnonzero(accept) if pos is None else pos[accept]
                kk = np.full(where.size, k) if isinstance(k, int) else k[accept]
                self.agree(where, day, kk, incoming[accept], 0)
        offer = store.offer(side, slot, lo, single)
        stay: I64 | None = None
        if pos is None:
            # Every entry offers; only the live ones' offers are ever read.
            setattr(ss, f"last{side}", offer)
            if side == 1 and self.tp.stall_limit is not None:
                stay = np.flatnonzero(ss.alive)
            k_stay: I64 | int = k
        else:
            if accept is not None:
                keep = ~accept
                pos, k, offer = pos[keep], np.asarray(k)[keep], offer[keep]
            getattr(ss, f"last{side}")[pos] = offer
            stay, k_stay = pos, k
        if side == 1 and self.tp.stall_limit is not None and stay is not None and stay.size:
            self.check_stall(stay, day, k_stay)

    def _party(self, side: int) -> int:
        return self.p.parties.index(self.tp.sides[side])

    def check_stall(self, where: I64, day: int, k: I64 | int) -> None:
        """``Talks.check_stall`` for the sessions at ``where`` (both sides have acted)."""
        ss, store = self.sessions, self.store
        limit = self.tp.stall_limit
        assert limit is not None
        kk = np.full(where.size, k, dtype=np.int64) if isinstance(k, int) else k
        slot = ss.slot[where]
        conceded = np.zeros(where.size, dtype=bool)
        for me in range(2):
            offer = getattr(ss, f"last{me}")[where]
            valid = store.on_table(slot, offer, -1)
            gift = store.value(1 - me, slot, offer, -1)
            prev = getattr(ss, f"gift{me}")[where]
            conceded |= valid & ~np.isnan(prev) & (gift > prev + 1e-12)
            getattr(ss, f"gift{me}")[where] = np.where(valid, gift, prev)
        stalled = np.where(conceded | (kk == 0), 0, ss.stalled[where] + 1)
        ss.stalled[where] = stalled
        text = ~ss.tabled[where] & (stalled >= limit)
        if not text.any():
            return
        where, kk, slot = where[text], kk[text], slot[text]
        ss.tabled[where] = True
        index = store.nash(slot, ss.r0[where], ss.r1[where])
        some = index >= 0
        if not some.any():
            return
        where, kk, slot, index = where[some], kk[some], slot[some], index[some]
        both = np.ones(where.size, dtype=bool)
        for side in range(2):
            lo = self.threshold(side, where, kk)
            both &= store.value(side, slot, index, -1) >= lo
        if both.any():
            self.agree(where[both], day, kk[both], index[both], 1)

    def agree(self, where: I64, day: int, k: I64, outcome: I64, via: int) -> None:
        """Deals in the sessions at ``where``: ``Execution.talk`` after a deal."""
        ss, store, p = self.sessions, self.store, self.tp
        slot = ss.slot[where]
        episodes = ss.ep[where]
        values = [store.value(side, slot, outcome, -1) for side in range(2)]
        by_party = [values[p.sides.index(party)] for party in p.parties]
        self.deal_log.append((episodes, day, k.copy(), outcome.copy(), via, *by_party))
        self.close(where, day, k + 1, None, NO_PARTY)
        if p.t is None:
            self.end_reason[episodes] = _CODE["agreed"]
            self.ended_by[episodes] = NO_PARTY
            self.end_day[episodes] = day
            return
        self.has_agreement[episodes] = True
        after = p.t.start_after_days
        # The pause begins on the agreement's start date, checked at the start of each
        # day: with no days between, that day has passed and the pause never begins.
        self.pause_from[episodes] = day + after if after > 0 else NEVER
        self.head[episodes] = p.grid.head_of[outcome]
        self.ratio[:, episodes] = p.outcome_ratios[:, outcome]
        self.per_day[episodes] = p.outcome_per_day[outcome]
        self.days_granted[episodes] = p.outcome_days[outcome]

    def close(
        self, where: I64, day: int, rounds: NDArray[Any], reason: str | None, by: int
    ) -> None:
        """Sessions at ``where`` end (``reason`` None: in a deal)."""
        ss = self.sessions
        episodes = ss.ep[where]
        self.talk_rounds[episodes] += rounds
        self.in_talks[episodes] = False
        ss.kill(where)
        if reason is None:
            return
        self.end_reason[episodes] = _CODE[f"talks_{reason}"]
        self.ended_by[episodes] = by
        self.end_day[episodes] = day
        restart = self.tp.restart
        self.next_talks[episodes] = NEVER if restart is None else day + max(1, restart)
        if restart is not None:
            self.talk_days.add(day + max(1, restart))

    # -- pauses (agreements from the template) --------------------------------------

    def start_pauses(self, starting: Mask, day: int) -> None:
        self.pause_from[starting] = NEVER
        self.active |= starting
        self.period_k[starting] = 0
        self.period_days[starting] = self.days_granted[starting]
        self.period_initial[starting] = True
        first = starting & (self.pause_start < 0)
        self.pause_start[first] = day

    def due(self) -> I64:
        k, days, count = self.period_k, np.maximum(self.period_days, 1), self.period_count
        per_day = -(-count // days)
        later = np.clip(count - k * per_day, 0, per_day)
        return np.where(self.period_initial, self.per_day, later)

    def reach_by_category(self, party: str, categories: list[str], day: int) -> I64:
        return np.stack([self.in_reach(party, c, day) for c in categories])

    def in_order(self, available: I64, count: I64) -> I64:
        """In-order allocation of ``count`` along each episode's batch order."""
        out = np.zeros_like(available)
        left = count.copy()
        for j in range(available.shape[0]):
            c = self.tp.perm[self.head, j]
            share = np.minimum(left, available[c, self.rows])
            out[c, self.rows] += share
            left = left - share
        return out

    def pause_batch(self, day: int) -> None:
        p = self.tp
        asked = self.active.copy()
        due = np.where(asked, self.due(), 0)
        self.period_k += asked
        self.advance(asked)  # the delay draw
        available = self.reach_by_category(p.holder, p.batch_categories, day)
        short = asked & (available.sum(axis=0) < due)
        self.breach(short, p.holder, day)
        made = asked & ~short
        self.advance(made)  # the refusal draw (no cure attempts)
        batch = self.in_order(available, np.where(made, due, 0))
        slot = day % self.slots
        for j, c in enumerate(p.batch_categories):
            self.take(p.holder, c, batch[j], day)
            self.released[j] += batch[j]
            self.pending[slot, j] = batch[j]
        self.pending_day[slot] = np.where(made, day, -1)

    def verify(self, day: int) -> None:
        p = self.tp
        released_on = day - self.d_exec
        slots = released_on % self.slots
        due_now = (released_on >= 0) & (self.pending_day[slots, self.rows] == released_on)
        if not due_now.any():
            return
        self.pending_day[slots[due_now], self.rows[due_now]] = -1
        handed = self.pending[slots, :, self.rows].T
        due = np.where(due_now, (self.ratio * handed).sum(axis=0), 0)
        in_reach = self.eligible(p.other, p.exchange_categories, day)
        short = due_now & (in_reach < due)
        self.breach(short, p.other, day)
        made = due_now & ~short & (due > 0)
        self.advance(made)  # the refusal draw
        counter = self.allocate(
            p.other, p.exchange_categories, np.where(made, due, 0), p.t_split, day
        )
        offset = len(p.batch_categories)
        for j, (c, n) in enumerate(zip(p.exchange_categories, counter, strict=True)):
            self.take(p.other, c, n, day)
            self.released[offset + j] += n

    def end_period(self, over: Mask, day: int) -> None:
        p = self.tp
        assert p.t is not None
        rule = p.t.extension
        holder, other = p.holder, p.other
        if rule is None:
            self.end(over, "terms_completed", NO_PARTY, day)
            return
        available = self.reach_by_category(holder, p.batch_categories, day)
        in_reach = available.sum(axis=0)
        steps = in_reach // rule.per_step
        if rule.per_extension_limit_days is not None:
            steps = np.minimum(steps, rule.per_extension_limit_days // rule.step_days)
        if rule.max_total_days is not None:
            room = (rule.max_total_days - self.days_granted) // rule.step_days
            capped = over & (room <= 0)
            self.end(capped, "cap_reached", NO_PARTY, day)
            over = over & ~capped
            steps = np.minimum(steps, room)
        none = over & (steps == 0)
        self.end(none, "no_eligible_batch", p.parties.index(holder), day)
        offer = over & ~none
        if not offer.any():
            return
        steps = np.where(offer, steps, 0)
        days, count = steps * rule.step_days, steps * rule.per_step
        batch = self.in_order(available, count)
        counter_due = (self.ratio * batch).sum(axis=0)
        counter = self.allocate(
            other,
            p.exchange_categories,
            np.minimum(counter_due, self.eligible(other, p.exchange_categories, day)),
            p.t_split,
            day,
        )
        order = [p.perm[self.head, j] for j in range(len(p.batch_categories))]
        value = {}
        for party in (holder, other):
            receive = np.stack([self.term(self.receive[party], c) for c in p.batch_categories])
            give = np.stack([self.term(self.give[party], c) for c in p.batch_categories])
            in_batch = [batch[c, self.rows] for c in order]
            if party == holder:
                gain = _python_sum(
                    [
                        self.term(self.receive[party], c) * n
                        for c, n in zip(p.exchange_categories, counter, strict=True)
                    ]
                )
                cost = _python_sum(
                    [give[c, self.rows] * n for c, n in zip(order, in_batch, strict=True)]
                )
            else:
                gain = _python_sum(
                    [receive[c, self.rows] * n for c, n in zip(order, in_batch, strict=True)]
                )
                cost = _python_sum(
                    [
                        self.term(self.give[party], c) * n
                        for c, n in zip(p.exchange_categories, counter, strict=True)
                    ]
                )
            of_pause = (gain - cost) + days * self.pause_day[party]
            value[party] = of_pause + days * self.party_pressure[party]
        fight = {party: days * self.fighting_day[party] for party in (holder, other)}
        holder_declines = offer & (value[holder] <= fight[holder])
        self.end(holder_declines, "extension_declined", p.parties.index(holder), day)
        offer = offer & ~holder_declines
        other_declines = offer & (value[other] <= fight[other])
        self.end(other_declines, "extension_declined", p.parties.index(other), day)
        extend = offer & ~other_declines
        if not extend.any():
            return
        self.days_granted += np.where(extend, days, 0)
        self.period_k[extend] = 0
        self.period_days[extend] = days[extend]
        self.period_count[extend] = count[extend]
        self.period_initial[extend] = False
        rows = np.flatnonzero(extend)
        self.ext_log.append((rows, days[rows]))

    # -- results --------------------------------------------------------------------

    def finish(self) -> None:
        last = self.p.n_days - 1
        self.fighting_days = self.p.n_days - self.pause_days  # every other day is fighting
        holding = self.active.copy()
        self.end_reason[holding] = _CODE["horizon"]
        self.ended_by[holding] = NO_PARTY
        self.end_day[holding] = last
        talking = self.in_talks
        self.end_reason[talking] = _CODE["talks_ongoing"]
        self.ended_by[talking] = NO_PARTY
        self.end_day[talking] = last
        unset = self.end_reason < 0
        self.end_reason[unset] = np.where(
            self.has_agreement[unset], _CODE["not_started"], _CODE["no_agreement"]
        )
        self.end_day[unset] = last

    def talk_results(self) -> dict[str, NDArray[Any]]:
        n = self.count
        if self.deal_log:
            ep = np.concatenate([e for e, *_ in self.deal_log])
            day = np.concatenate([np.full(e.size, d) for e, d, *_ in self.deal_log])
            rnd = np.concatenate([r for _, _, r, *_ in self.deal_log])
            outcome = np.concatenate([o for _, _, _, o, *_ in self.deal_log])
            via = np.concatenate([np.full(e.size, v) for e, _, _, _, v, *_ in self.deal_log])
            va = np.concatenate([x for *_, x, _ in self.deal_log])
            vb = np.concatenate([x for *_, x in self.deal_log])
        else:
            ep = day = rnd = outcome = via = np.zeros(0, dtype=np.int64)
            va = vb = np.zeros(0)
        order = np.argsort(ep, kind="stable")  # logged day by day: stays in date order
        ep, day, rnd, outcome, via, va, vb = (
            x[order] for x in (ep, day, rnd, outcome, via, va, vb)
        )
        counts = np.bincount(ep, minlength=n)
        width = int(counts.max()) if n else 0
        column = np.arange(ep.size) - np.repeat(np.cumsum(counts) - counts, counts)
        out = {
            "agreement_day": np.full((n, width), -1, dtype=np.int64),
            "agreement_round": np.full((n, width), -1, dtype=np.int64),
            "agreement_outcome": np.full((n, width), -1, dtype=np.int64),
            "agreement_via": np.full((n, width), -1, dtype=np.int64),
            "agreement_values": np.full((n, width, 2), np.nan),
        }
        out["agreement_day"][ep, column] = day
        out["agreement_round"][ep, column] = rnd
        out["agreement_outcome"][ep, column] = outcome
        out["agreement_via"][ep, column] = via
        out["agreement_values"][ep, column, 0] = va
        out["agreement_values"][ep, column, 1] = vb
        if self.ext_log:
            rows = np.concatenate([r for r, _ in self.ext_log])
            added = np.concatenate([d for _, d in self.ext_log])
        else:
            rows = added = np.zeros(0, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        rows, added = rows[order], added[order]
        counts = np.bincount(rows, minlength=n)
        width = int(counts.max()) if n else 0
        column = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
        extensions = np.full((n, width), -1, dtype=np.int64)
        extensions[rows, column] = added
        out["extensions"] = extensions
        out["talk_rounds"] = self.talk_rounds
        return out

    def results(self) -> dict[str, NDArray[Any]]:
        out = super().results()
        out.update(self.talk_results())
        out["released"] = self.released.T
        out["reference"] = np.zeros(self.count, dtype=bool)
        return out


# ---------------------------------------------------------------------------
# Episodes run by the reference engine


def _row(summary: Summary, plan: _TalksPlan, priors: list[float]) -> dict[str, Any]:
    """One episode's result row from the reference engine's summary."""
    start, parties, columns = plan.start, plan.parties, plan.release_columns
    side = plan.side_categories

    def day(iso: str | None) -> int:
        return -1 if iso is None else (date.fromisoformat(iso) - start).days

    grid = plan.grid
    index = {o: k for k, o in enumerate(grid.outcomes)}
    deals = summary.agreements
    return {
        "priors": np.array(priors, dtype=np.float64),
        "pause_days": summary.pause_days,
        "fighting_days": summary.fighting_days,
        "extensions": np.array(summary.extensions, dtype=np.int64),
        "released": np.array(
            [summary.released.get(p, {}).get(c, 0) for p, c in columns], dtype=np.int64
        ),
        "side_channel": np.array(
            [summary.side_channel_by_category.get(c, 0) for c in side], dtype=np.int64
        ),
        "end_reason": _CODE[summary.end_reason],
        "end_day": day(summary.end_date),
        "ended_by": NO_PARTY if summary.ended_by is None else parties.index(summary.ended_by),
        "pause_start_day": day(summary.pause_start),
        "pause_end_day": day(summary.pause_end),
        "breaches": len(summary.breaches),
        "delays": summary.delays,
        "agreement_day": np.array([day(d["date"]) for d in deals], dtype=np.int64),
        "agreement_round": np.array([d["round"] for d in deals], dtype=np.int64),
        "agreement_outcome": np.array(
            [index[tuple(d["terms"][i] for i in grid.issues)] for d in deals], dtype=np.int64
        ),
        "agreement_via": np.array([VIA.index(d["via"]) for d in deals], dtype=np.int64),
        "agreement_values": np.array(
            [[d["values"][p] for p in parties] for d in deals], dtype=np.float64
        ).reshape(len(deals), 2),
        "talk_rounds": summary.talk_rounds,
        "reference": True,
    }


def _reference_rows(
    scenario: Scenario, plan: _TalksPlan, seed: int, first: int, count: int
) -> dict[str, NDArray[Any]]:
    """Episodes ``first..first+count-1`` by the reference engine, as result rows."""
    rows = [
        _row(
            run_draw(scenario, seed, i).summary,
            plan,
            [float(v) for v in prior_values(scenario, seed, i)],
        )
        for i in range(first, first + count)
    ]
    out: dict[str, NDArray[Any]] = {}
    for name in rows[0] if rows else ():
        values = [r[name] for r in rows]
        if name in (
            "extensions",
            "agreement_day",
            "agreement_round",
            "agreement_outcome",
            "agreement_via",
            "agreement_values",
        ):
            width = max((len(v) for v in values), default=0)
            shape = (count, width, 2) if name == "agreement_values" else (count, width)
            fill = np.nan if name == "agreement_values" else -1
            stacked = np.full(shape, fill, dtype=values[0].dtype)
            for r, v in enumerate(values):
                stacked[r, : len(v)] = v
            out[name] = stacked
        else:
            out[name] = np.array(values) if np.ndim(values[0]) == 0 else np.stack(values)
    return out


# ---------------------------------------------------------------------------
# The ensemble


def negotiation_batch_size(plan: _TalksPlan, batch_size: int) -> int:
    """The batch size for talks: at most ``batch_size``, and small enough that the
    tables of a batch fit ``TABLE_BUDGET`` when each episode may need its own."""
    if not plan.table_varies():
        return batch_size
    per_episode = _BYTES_PER_OUTCOME * max(plan.grid.m, 1)
    return max(1, min(batch_size, TABLE_BUDGET // per_episode))


def _talks_batch(plan: _TalksPlan, seed: int, first: int, count: int) -> dict[str, NDArray[Any]]:
    """Episodes first..first+count-1: the unit a backend runs, here or on a Ray worker."""
    verified()
    batch = _TalksBatch(plan, seed, first, count)
    batch.run()
    return batch.results()


def run_negotiation_ensemble(
    scenario: Scenario,
    n: int,
    seed: int,
    batch_size: int,
    *,
    backend: str | Backend = "local",
    address: str | None = None,
    on_batch: Progress | None = None,
) -> NegotiationEnsembleResult:
    """``run_ensemble`` for a scenario with ``negotiation`` (see the module)."""
    verified()
    plan = _TalksPlan(scenario)
    fallback = unsupported(scenario)
    task: Callable[[int, int], dict[str, NDArray[Any]]]
    if fallback is not None:
        plan.release_columns = tuple((p, c.id) for p in plan.parties for c in scenario.categories)
        task = partial(_reference_rows, scenario, plan, seed)
        size = batch_size
    else:
        task = partial(_talks_batch, plan, seed)
        size = negotiation_batch_size(plan, batch_size)
    parts = [
        result
        for _, result in run_batches(
            task, n, size, backend=backend, address=address, on_batch=on_batch
        )
    ]
    out = _concatenate(parts, plan, scenario, n)
    return NegotiationEnsembleResult(
        scenario=scenario.name,
        scenario_hash=content_hash(scenario),
        seed=seed,
        calendar_start=plan.start,
        parties=plan.parties,
        release_columns=plan.release_columns,
        side_categories=plan.side_categories,
        issues=tuple(plan.grid.issues),
        outcomes=tuple(plan.grid.outcomes),
        signed_day=-1 if plan.a is None else ((plan.a.signed or plan.a.start) - plan.start).days,
        **out,
    )


_PADDED = ("extensions", "agreement_day", "agreement_round", "agreement_outcome", "agreement_via")
_TYPES: dict[str, type[np.generic]] = {
    "priors": np.float64,
    "pause_days": np.int32,
    "fighting_days": np.int32,
    "extensions": np.int32,
    "released": np.int32,
    "side_channel": np.int32,
    "end_reason": np.int8,
    "end_day": np.int32,
    "ended_by": np.int8,
    "pause_start_day": np.int32,
    "pause_end_day": np.int32,
    "breaches": np.int32,
    "delays": np.int32,
    "agreement_day": np.int32,
    "agreement_round": np.int32,
    "agreement_outcome": np.int32,
    "agreement_via": np.int8,
    "agreement_values": np.float64,
    "talk_rounds": np.int32,
    "reference": np.bool_,
}


def _concatenate(
    parts: list[dict[str, NDArray[Any]]], plan: _TalksPlan, scenario: Scenario, n: int
) -> dict[str, NDArray[Any]]:
    empty: dict[str, NDArray[Any]] = {
        "priors": np.zeros((0, len(scenario.priors))),
        "released": np.zeros((0, len(plan.release_columns))),
        "side_channel": np.zeros((0, len(plan.side_categories))),
        "agreement_values": np.zeros((0, 0, 2)),
    }
    out: dict[str, NDArray[Any]] = {}
    for name, kind in _TYPES.items():
        pieces = [part[name] for part in parts]
        if name in _PADDED or name == "agreement_values":
            width = max((p.shape[1] for p in pieces), default=0)
            fill = np.nan if name == "agreement_values" else -1
            padded = []
            for p in pieces:
                shape = (p.shape[0], width, *p.shape[2:])
                dtype = np.float64 if name == "agreement_values" else np.int64
                full = np.full(shape, fill, dtype=dtype)
                full[:, : p.shape[1]] = p
                padded.append(full)
            pieces = padded
        if pieces:
            out[name] = np.concatenate(pieces).astype(kind)
        elif name in empty:
            out[name] = empty[name].astype(kind)
        elif name in _PADDED:
            out[name] = np.zeros((0, 0), dtype=kind)
        else:
            out[name] = np.zeros(0, dtype=kind)
    assert out["pause_days"].shape[0] == n
    return out
