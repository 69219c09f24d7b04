"""The ensemble engine, execution mode: many episodes at once, day by day.

Each array holds one number per episode; a day is a few dozen array operations
whatever the number of episodes. The rules are the reference engine's
(``engine/_execution.py``), step for step, so that episode ``i`` of
``run_ensemble(scenario, n, seed)`` is ``run_draw(scenario, seed, i)``:

1. dated events (holdings, custody, values, pressure, recorded delays);
2. the pause begins on the agreement's start date;
3. side channels release what is dated that day and in reach;
4. during the pause, the day's batch: a drawn delay, then a breach if the holder has
   fewer eligible captives in reach than due, else its refusal draws (and cures); the
   batch is taken in the order of the eligible categories;
5. hand-overs verified today (released the mediator's relay delay ago) bring the
   counter-releases by ratio (split in order or in proportion, largest remainder), after
   the same eligibility check and refusal draws for the other side;
6. at the end of a paid-for period, the extension rule, with both sides' values.

Random draws: every episode draws from its own stream (``_streams``), one uniform at a
time, exactly where the reference engine draws: per pause day one for the delay and
``1 + cure_attempts`` for the holder's batch (when it can be made), and
``1 + cure_attempts`` for each verified hand-over that has counter-releases due and can
be made. The streams of episodes that do not draw at a step do not move. When every
delay and refusal probability of a batch of episodes is 0, no draw can change anything
and the streams are not built at all.

Episodes run in batches of ``batch_size``; memory is bounded by the batch, and results
do not depend on the batch size.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..engine import END_REASONS
from ..engine._schedule import initial_batches
from ..scenario import (
    Agreement,
    CustodyEvent,
    DelayProbabilityPrior,
    HoldingPrior,
    HoldingsEvent,
    PressureEvent,
    RefusalProbabilityPrior,
    RelayDelayPrior,
    Scenario,
    ValueEvent,
    ValuePrior,
    content_hash,
)
from ._backend import Backend, Progress, run_batches
from ._draws import quantile
from ._streams import EPISODE_STREAM, PRIOR_STREAM, Streams, verified

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Mask = NDArray[np.bool_]

END_CODES: tuple[str, ...] = tuple(END_REASONS)
_CODE = {reason: code for code, reason in enumerate(END_CODES)}
NO_PARTY = -1


class NegotiationEnsembleUnavailable(NotImplementedError):
    """Kept for compatibility: no longer raised (scenarios with talks run in
    ``_negotiation``)."""


# ---------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class EnsembleResult:
    """What each episode of an ensemble gave, as arrays over episodes (row i: draw i).

    ``released[:, j]`` counts releases under the deal by ``release_columns[j]`` (party,
    category); ``side_channel[:, j]`` side-channel releases of ``side_categories[j]``;
    ``extensions`` the days each extension added, in order, padded with -1;
    ``end_reason`` a code into ``END_CODES``; ``end_day``, ``pause_start_day`` and
    ``pause_end_day`` days from ``calendar_start`` (-1: none); ``ended_by`` an index into
    ``parties`` (-1: none); ``priors`` each episode's draw of every prior, in file order.
    """

    scenario: str
    scenario_hash: str
    seed: int
    calendar_start: date
    parties: tuple[str, ...]
    release_columns: tuple[tuple[str, str], ...]
    side_categories: tuple[str, ...]
    priors: F64
    pause_days: NDArray[np.int32]
    fighting_days: NDArray[np.int32]
    extensions: NDArray[np.int32]
    released: NDArray[np.int32]
    side_channel: NDArray[np.int32]
    end_reason: NDArray[np.int8]
    end_day: NDArray[np.int32]
    ended_by: NDArray[np.int8]
    pause_start_day: NDArray[np.int32]
    pause_end_day: NDArray[np.int32]
    breaches: NDArray[np.int32]
    delays: NDArray[np.int32]

    def __len__(self) -> int:
        return int(self.pause_days.size)

    @property
    def side_channel_released(self) -> NDArray[np.int64]:
        total: NDArray[np.int64] = self.side_channel.sum(axis=1, dtype=np.int64)
        return total

    @property
    def breach(self) -> Mask:
        """Whether the episode had a breach (of a batch or of counter-releases)."""
        return self.breaches > 0

    @property
    def end_reasons(self) -> NDArray[np.str_]:
        return np.array(END_CODES)[self.end_reason]

    def _date(self, day: int) -> str | None:
        return None if day < 0 else (self.calendar_start + timedelta(days=day)).isoformat()

    def episode(self, i: int) -> dict[str, Any]:
        """Episode ``i`` with the names of the reference engine's summary fields."""
        released: dict[str, dict[str, int]] = {p: {} for p in self.parties}
        for j, (party, category) in enumerate(self.release_columns):
            if self.released[i, j] > 0:
                released[party][category] = int(self.released[i, j])
        side = {
            c: int(self.side_channel[i, j])
            for j, c in enumerate(self.side_categories)
            if self.side_channel[i, j] > 0
        }
        by = int(self.ended_by[i])
        return {
            "draw": i,
            "seed": self.seed,
            "scenario_hash": self.scenario_hash,
            "agreement_reached": bool(self.pause_start_day[i] >= 0),
            "pause_start": self._date(int(self.pause_start_day[i])),
            "pause_end": self._date(int(self.pause_end_day[i])),
            "pause_days": int(self.pause_days[i]),
            "fighting_days": int(self.fighting_days[i]),
            "extensions": [int(d) for d in self.extensions[i] if d >= 0],
            "released": {p: dict(sorted(c.items())) for p, c in released.items()},
            "side_channel_released": sum(side.values()),
            "side_channel_by_category": dict(sorted(side.items())),
            "breach": bool(self.breaches[i] > 0),
            "breach_count": int(self.breaches[i]),
            "delays": int(self.delays[i]),
            "end_reason": END_CODES[int(self.end_reason[i])],
            "ended_by": None if by == NO_PARTY else self.parties[by],
            "end_date": self._date(int(self.end_day[i])),
            "priors": [float(v) for v in self.priors[i]],
        }


# ---------------------------------------------------------------------------
# The scenario, prepared once for every batch


def _python_sum(terms: list[F64]) -> F64:
    """``sum(terms)`` as this Python computes it on floats, element by element: the
    reference engine's value sums use the built-in ``sum``, which adds left to right up
    to Python 3.11 and with Neumaier's compensation from 3.12."""
    total = 0.0 + terms[0]
    if sys.version_info < (3, 12):
        for x in terms[1:]:
            total = total + x
        return total
    compensation = np.zeros_like(total)
    for x in terms[1:]:
        t = total + x
        compensation = compensation + np.where(
            np.abs(total) >= np.abs(x), (total - t) + x, (x - t) + total
        )
        total = t
    use = (compensation != 0) & np.isfinite(compensation)
    return np.where(use, total + compensation, total)


class _Plan:
    """Everything about the scenario that is the same for every episode."""

    def __init__(self, scenario: Scenario) -> None:
        s = self.s = scenario
        self.start = s.calendar.start
        self.n_days = (s.calendar.horizon - s.calendar.start).days + 1
        self.parties = tuple(p.id for p in s.parties)
        self.a: Agreement | None = s.agreement

        keys: list[tuple[str, str, str]] = []
        for h in s.holdings:
            if (h.holder, h.category, h.custody) not in keys:
                keys.append((h.holder, h.category, h.custody))
        for e in s.events:
            if isinstance(e, HoldingsEvent) and (e.holder, e.category, e.custody) not in keys:
                keys.append((e.holder, e.category, e.custody))
        self.keys = keys
        self.key_index = {k: i for i, k in enumerate(keys)}
        self.initial = [0] * len(keys)
        for h in s.holdings:
            self.initial[self.key_index[(h.holder, h.category, h.custody)]] += h.count

        # Which groups are reachable on each day (custody events apply at the day's start).
        reach = {g.id: g.reachable for g in s.groups}
        self.reach_by_day: list[tuple[tuple[str, bool], ...]] = []
        self.events_by_day: list[list[Any]] = [[] for _ in range(self.n_days)]
        for e in s.events:
            if 0 <= (e.date - self.start).days < self.n_days:
                self.events_by_day[(e.date - self.start).days].append(e)
        for t in range(self.n_days):
            for e in self.events_by_day[t]:
                if isinstance(e, CustodyEvent):
                    reach[e.group] = e.reachable
            self.reach_by_day.append(tuple(sorted(reach.items())))
        self._sources: dict[tuple[str, str, tuple[tuple[str, bool], ...]], list[int]] = {}

        self.side_by_day: list[list[tuple[str, str, int, bool]]] = [[] for _ in range(self.n_days)]
        side_categories: list[str] = []
        for sc in s.side_channels:
            for r in sc.releases:
                if 0 <= (r.date - self.start).days < self.n_days:
                    self.side_by_day[(r.date - self.start).days].append(
                        (sc.releaser, r.category, r.count, sc.requires_pause)
                    )
                if r.category not in side_categories:
                    side_categories.append(r.category)
        self.side_categories = tuple(sorted(side_categories))

        a = self.a
        if a is None:
            self.holder = self.other = ""
            self.batch_categories: list[str] = []
            self.exchange_categories: list[str] = []
            self.start_day = -1
            self.initial_due: list[int] = []
            self.width = 1
            self.mediator = None
        else:
            self.holder, self.other = a.batches.releaser, a.exchange.releaser
            self.batch_categories = list(a.batches.categories)
            self.exchange_categories = list(a.exchange.categories)
            self.start_day = (a.start - self.start).days
            self.initial_due = initial_batches(a)
            self.mediator = next((m for m in s.mediators if m.id == a.mediator), None)
            width = max(1, self.n_days - self.start_day - a.initial_days + 1)
            rule = a.extension
            if rule is not None and rule.max_total_days is not None:
                width = max(1, min(width, (rule.max_total_days - a.initial_days) // rule.step_days))
            self.width = width
        self.release_columns = tuple(
            [(self.holder, c) for c in self.batch_categories]
            + [(self.other, c) for c in self.exchange_categories]
        )
        self.value_categories = sorted(
            {*self.batch_categories, *self.exchange_categories}
            | {c for p in s.values.parties.values() for c in (*p.receive, *p.give)}
        )

    def sources(self, holder: str, category: str, day: int) -> list[int]:
        """Holdings a holder can draw a category from on ``day``: own custody first,
        then reachable groups by id (``Holdings._sources``)."""
        reach = self.reach_by_day[day]
        key = (holder, category, reach)
        found = self._sources.get(key)
        if found is None:
            reachable = dict(reach)
            keys = [
                k
                for k in self.keys
                if k[0] == holder
                and k[1] == category
                and (k[2] == holder or reachable.get(k[2], False))
            ]
            keys.sort(key=lambda k: (k[2] != holder, k[2]))
            found = self._sources[key] = [self.key_index[k] for k in keys]
        return found


# ---------------------------------------------------------------------------
# One batch of episodes


class _Batch:
    def __init__(
        self,
        plan: _Plan,
        seed: int,
        first: int,
        count: int,
        *,
        uniforms: F64 | None = None,
        episodes: NDArray[np.uint64] | None = None,
    ) -> None:
        """Episodes ``first..first+count-1``; or, for a design of experiments
        (``ensemble._sensitivity``), the priors' uniforms given as ``uniforms[:, j]``
        and the episode streams of ``episodes`` (one index per row, repeats allowed)."""
        self.p = plan
        self.count = count
        s = plan.s
        indices = np.arange(first, first + count, dtype=np.uint64) if episodes is None else episodes
        n = count

        # The priors: one uniform per prior from each episode's prior stream.
        self.prior_values = np.zeros((n, len(s.priors)))
        draws: list[NDArray[Any]] = []
        if s.priors:
            stream = Streams(seed, indices, PRIOR_STREAM)
            for j, prior in enumerate(s.priors):
                u = stream.random() if uniforms is None else uniforms[:, j]
                drawn = quantile(prior.distribution, u)
                draws.append(drawn)
                self.prior_values[:, j] = drawn

        self.h: I64 = np.tile(np.array(plan.initial, dtype=np.int64)[:, None], (1, n))
        a = plan.a
        self.delay_days = np.full(
            n, plan.mediator.relay_delay_days if plan.mediator is not None else 0, np.int64
        )
        self.delay_p = np.full(n, a.delay_probability if a is not None else 0.0)
        refusal = a.refusal_probability if a is not None else {}
        self.refuse = {p: np.full(n, refusal.get(p, 0.0)) for p in plan.parties}
        self.cures = a.cure_attempts if a is not None else 0
        self.receive: dict[str, dict[str, F64]] = {}
        self.give: dict[str, dict[str, F64]] = {}
        self.pause_day: dict[str, F64] = {}
        self.fighting_day: dict[str, F64] = {}
        for party, terms in s.values.parties.items():
            self.receive[party] = {
                c: np.full(n, terms.receive.get(c, 0.0)) for c in plan.value_categories
            }
            self.give[party] = {
                c: np.full(n, terms.give.get(c, 0.0)) for c in plan.value_categories
            }
            self.pause_day[party] = np.full(n, terms.pause_day)
            self.fighting_day[party] = np.full(n, terms.fighting_day)
        for prior, drawn in zip(s.priors, draws, strict=True):
            if isinstance(prior, HoldingPrior):
                key = (prior.holder, prior.category, prior.custody)
                self.h[plan.key_index[key]] = drawn
            elif isinstance(prior, RelayDelayPrior):
                if plan.mediator is not None and prior.mediator == plan.mediator.id:
                    self.delay_days = drawn.astype(np.int64)
            elif isinstance(prior, ValuePrior):
                if prior.term == "receive" and prior.category is not None:
                    self.receive[prior.party][prior.category] = drawn.astype(np.float64)
                elif prior.term == "give" and prior.category is not None:
                    self.give[prior.party][prior.category] = drawn.astype(np.float64)
                elif prior.term == "pause_day":
                    self.pause_day[prior.party] = drawn.astype(np.float64)
                else:
                    self.fighting_day[prior.party] = drawn.astype(np.float64)
            elif isinstance(prior, DelayProbabilityPrior):
                self.delay_p = drawn.astype(np.float64)
            elif isinstance(prior, RefusalProbabilityPrior):
                self.refuse[prior.party] = drawn.astype(np.float64)
            # Negotiator priors (pressure, reservation, issue weights) do not reach here:
            # they need talks, which the ensemble engine does not run yet.
        self.pressure: dict[str, float] = {}

        # The episode streams, only when a draw can change something.
        random = (self.delay_p > 0).any() or any((r > 0).any() for r in self.refuse.values())
        self.streams = Streams(seed, indices, EPISODE_STREAM) if random else None

        # Pause state.
        self.active = np.zeros(n, dtype=bool)
        self.days_granted = np.zeros(n, dtype=np.int64)
        self.period_k = np.zeros(n, dtype=np.int64)
        self.period_days = np.ones(n, dtype=np.int64)
        self.period_count = np.zeros(n, dtype=np.int64)
        self.period_initial = np.zeros(n, dtype=bool)
        slots = int(self.delay_days.max()) + 1 if n else 1
        self.slots = slots
        same = n == 0 or bool((self.delay_days == self.delay_days[0]).all())
        self.same_delay: int | None = int(self.delay_days[0]) if same and n else None
        self.pending = np.zeros((slots, len(plan.batch_categories), n), dtype=np.int64)
        self.pending_day = np.full((slots, n), -1, dtype=np.int64)

        # Results.
        self.pause_days = np.zeros(n, dtype=np.int64)
        self.fighting_days = np.zeros(n, dtype=np.int64)
        self.pause_start = np.full(n, -1, dtype=np.int64)
        self.pause_end = np.full(n, -1, dtype=np.int64)
        self.extensions = np.full((n, plan.width), -1, dtype=np.int64)
        self.n_extensions = np.zeros(n, dtype=np.int64)
        self.released = np.zeros((len(plan.release_columns), n), dtype=np.int64)
        self.side = np.zeros((len(plan.side_categories), n), dtype=np.int64)
        self.end_reason = np.full(n, -1, dtype=np.int64)
        self.end_day = np.full(n, -1, dtype=np.int64)
        self.ended_by = np.full(n, NO_PARTY, dtype=np.int64)
        self.breaches = np.zeros(n, dtype=np.int64)
        self.delays = np.zeros(n, dtype=np.int64)

    # -- holdings ---------------------------------------------------------------

    def in_reach(self, party: str, category: str, day: int) -> I64:
        keys = self.p.sources(party, category, day)
        if not keys:
            return np.zeros(self.count, dtype=np.int64)
        total: I64 = self.h[keys[0]].copy()
        for k in keys[1:]:
            total += self.h[k]
        return total

    def eligible(self, party: str, categories: list[str], day: int) -> I64:
        total = np.zeros(self.count, dtype=np.int64)
        for c in categories:
            total += self.in_reach(party, c, day)
        return total

    def take(self, party: str, category: str, count: I64, day: int) -> None:
        left = count.copy()
        for k in self.p.sources(party, category, day):
            step = np.minimum(left, self.h[k])
            self.h[k] -= step
            left -= step

    def allocate(
        self, party: str, categories: list[str], count: I64, split: str, day: int
    ) -> list[I64]:
        """``engine._holdings.allocate``, per episode (``count`` <= what is in reach)."""
        available = [self.in_reach(party, c, day) for c in categories]
        if split == "in_order":
            out = []
            left = count.copy()
            for avail in available:
                share = np.minimum(left, avail)
                out.append(share)
                left = left - share
            return out
        pool = np.zeros(self.count, dtype=np.int64)
        for avail in available:
            pool += avail
        safe = np.maximum(pool, 1)
        shares = [np.divmod(count * avail, safe) for avail in available]
        quotients = [q for q, _ in shares]
        remainders = [r for _, r in shares]
        remainder = count - sum(quotients, np.zeros(self.count, dtype=np.int64))
        out = []
        for i, q in enumerate(quotients):
            # Rank of category i when sorted by (-remainder, position): the first
            # `remainder` categories get one more.
            rank = np.zeros(self.count, dtype=np.int64)
            for j, r in enumerate(remainders):
                if j != i:
                    ahead = (r > remainders[i]) | ((r == remainders[i]) & (j < i))
                    rank += ahead
            out.append(np.where(pool > 0, q + (rank < remainder), 0))
        return out

    # -- randomness -------------------------------------------------------------

    def uniforms(self, where: Mask) -> F64:
        if self.streams is None:  # every probability is 0: no draw changes anything
            return np.ones(self.count)
        return self.streams.random_where(where)

    def willing(self, where: Mask, refusal: F64) -> Mask:
        """Draw the refusal and the cures (``1 + cure_attempts`` uniforms) for ``where``."""
        willing = self.uniforms(where) >= refusal
        for _ in range(self.cures):
            willing |= self.uniforms(where) >= refusal
        return willing

    # -- endings ------------------------------------------------------------------

    def end(self, where: Mask, reason: str, by: int, day: int) -> None:
        self.active &= ~where
        self.end_reason[where] = _CODE[reason]
        self.ended_by[where] = by
        self.end_day[where] = day

    def breach(self, where: Mask, party: str, day: int) -> None:
        self.breaches += where
        self.end(where & self.active, "breach", self.p.parties.index(party), day)

    # -- the day loop -------------------------------------------------------------

    def run(self) -> None:
        p = self.p
        for day in range(p.n_days):
            self.apply_events(day)
            if p.a is not None and day == p.start_day:
                self.start_pause(day)
            self.pause_days += self.active
            self.pause_end[self.active] = day
            self.fighting_days += ~self.active
            self.side_channels(day)
            if p.a is not None:
                if self.active.any():
                    self.ask_for_batch(p.a, day)
                self.verify_handovers(p.a, day)
                period_over = self.active & (self.period_k == self.period_days)
                if period_over.any():
                    self.end_of_period(p.a, period_over, day)
        self.finish()

    def apply_events(self, day: int) -> None:
        for e in self.p.events_by_day[day]:
            if isinstance(e, HoldingsEvent):
                k = self.p.key_index[(e.holder, e.category, e.custody)]
                self.h[k] = np.maximum(0, self.h[k] + e.change)
            elif isinstance(e, ValueEvent):
                if e.term in ("receive", "give") and e.category is not None:
                    terms = (self.receive if e.term == "receive" else self.give)[e.party]
                    before = terms.get(e.category, np.zeros(self.count))
                    terms[e.category] = before + e.change
                elif e.term == "pause_day":
                    self.pause_day[e.party] = self.pause_day[e.party] + e.change
                elif e.term == "fighting_day":
                    self.fighting_day[e.party] = self.fighting_day[e.party] + e.change
            elif isinstance(e, PressureEvent):
                self.pressure[e.party] = self.pressure.get(e.party, 0.0) + e.change
            elif e.kind == "delay":
                self.delays += 1
            # Custody events are in the plan's reach_by_day.

    def start_pause(self, day: int) -> None:
        a = self.p.a
        assert a is not None
        self.active[:] = True
        self.days_granted[:] = a.initial_days
        self.period_k[:] = 0
        self.period_days[:] = a.initial_days
        self.period_initial[:] = True
        self.pause_start[:] = day

    def side_channels(self, day: int) -> None:
        for releaser, category, count, requires_pause in self.p.side_by_day[day]:
            made = np.minimum(count, self.in_reach(releaser, category, day))
            if requires_pause:
                made = np.where(self.active, made, 0)
            self.take(releaser, category, made, day)
            self.side[self.p.side_categories.index(category)] += made

    def due_today(self, a: Agreement) -> I64:
        k = self.period_k
        days = np.maximum(self.period_days, 1)
        count = self.period_count
        if a.batches.split == "even":
            base, extra = np.divmod(count, days)
            later = base + (k < extra)
        else:
            per_day = -(-count // days)
            later = np.clip(count - k * per_day, 0, per_day)
        initial = np.array(self.p.initial_due, dtype=np.int64)
        first = initial[np.minimum(k, initial.size - 1)]
        return np.where(self.period_initial, first, later)

    def ask_for_batch(self, a: Agreement, day: int) -> None:
        p = self.p
        asked = self.active.copy()
        due = np.where(asked, self.due_today(a), 0)
        self.period_k += asked
        delayed = self.uniforms(asked) < self.delay_p
        in_reach = self.eligible(p.holder, p.batch_categories, day)
        short = asked & (in_reach < due)
        self.breach(short, p.holder, day)
        can = asked & ~short
        willing = self.willing(can, self.refuse[p.holder])
        self.breach(can & ~willing, p.holder, day)
        made = can & willing
        self.delays += made & delayed
        batch = self.allocate(p.holder, p.batch_categories, np.where(made, due, 0), "in_order", day)
        slot = day % self.slots
        for j, (c, n) in enumerate(zip(p.batch_categories, batch, strict=True)):
            self.take(p.holder, c, n, day)
            self.released[j] += n
            self.pending[slot, j] = n
        self.pending_day[slot] = np.where(made, day, -1)

    def verify_handovers(self, a: Agreement, day: int) -> None:
        p = self.p
        if self.same_delay is not None:  # one relay delay for every episode: plain slices
            released = day - self.same_delay
            if released < 0:
                return
            slot = released % self.slots
            due_now = self.pending_day[slot] == released
            if not due_now.any():
                return
            self.pending_day[slot][due_now] = -1
            handed = [self.pending[slot, j] for j in range(len(p.batch_categories))]
        else:
            released_on = day - self.delay_days
            slots = released_on % self.slots
            rows = np.arange(self.count)
            due_now = (released_on >= 0) & (self.pending_day[slots, rows] == released_on)
            if not due_now.any():
                return
            self.pending_day[slots[due_now], rows[due_now]] = -1
            handed = [self.pending[slots, j, rows] for j in range(len(p.batch_categories))]
        due = np.zeros(self.count, dtype=np.int64)
        for c, n in zip(p.batch_categories, handed, strict=True):
            due += a.exchange.ratios.get(c, 0) * n
        due = np.where(due_now, due, 0)
        in_reach = self.eligible(p.other, p.exchange_categories, day)
        short = due_now & (in_reach < due)
        self.breach(short, p.other, day)
        can = due_now & ~short & (due > 0)
        willing = self.willing(can, self.refuse[p.other])
        self.breach(can & ~willing, p.other, day)
        made = can & willing
        counter = self.allocate(
            p.other, p.exchange_categories, np.where(made, due, 0), a.exchange.split, day
        )
        offset = len(p.batch_categories)
        for j, (c, n) in enumerate(zip(p.exchange_categories, counter, strict=True)):
            self.take(p.other, c, n, day)
            self.released[offset + j] += n

    def end_of_period(self, a: Agreement, over: Mask, day: int) -> None:
        p = self.p
        rule = a.extension
        holder, other = p.holder, p.other
        if rule is None:
            self.end(over, "terms_completed", NO_PARTY, day)
            return
        in_reach = self.eligible(holder, p.batch_categories, day)
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
        batch = self.allocate(holder, p.batch_categories, count, "in_order", day)
        counter_due = np.zeros(self.count, dtype=np.int64)
        for c, n in zip(p.batch_categories, batch, strict=True):
            counter_due += a.exchange.ratios.get(c, 0) * n
        counter = self.allocate(
            other,
            p.exchange_categories,
            np.minimum(counter_due, self.eligible(other, p.exchange_categories, day)),
            a.exchange.split,
            day,
        )
        value = {}
        for party in (holder, other):
            received, given = (counter, batch) if party == holder else (batch, counter)
            received_cats, given_cats = (
                (p.exchange_categories, p.batch_categories)
                if party == holder
                else (p.batch_categories, p.exchange_categories)
            )
            gain = _python_sum(
                [self.receive[party][c] * n for c, n in zip(received_cats, received, strict=True)]
            )
            cost = _python_sum(
                [self.give[party][c] * n for c, n in zip(given_cats, given, strict=True)]
            )
            of_pause = (gain - cost) + days * self.pause_day[party]
            value[party] = of_pause + days * self.pressure.get(party, 0.0)
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
        self.extensions[rows, self.n_extensions[rows]] = days[rows]
        self.n_extensions[rows] += 1

    def results(self) -> dict[str, NDArray[Any]]:
        """The batch's rows of the ensemble's result arrays."""
        return {
            "priors": self.prior_values,
            "pause_days": self.pause_days,
            "fighting_days": self.fighting_days,
            "extensions": self.extensions,
            "released": self.released.T,
            "side_channel": self.side.T,
            "end_reason": self.end_reason,
            "end_day": self.end_day,
            "ended_by": self.ended_by,
            "pause_start_day": self.pause_start,
            "pause_end_day": self.pause_end,
            "breaches": self.breaches,
            "delays": self.delays,
        }

    def finish(self) -> None:
        last = self.p.n_days - 1
        self.end(self.active.copy(), "horizon", NO_PARTY, last)
        unset = self.end_reason < 0
        reason = "no_agreement" if self.p.a is None else "not_started"
        self.end_reason[unset] = _CODE[reason]
        self.end_day[unset] = last


def _check(scenario: Scenario) -> None:
    """Nothing is refused any more: scenarios with talks run in ``_negotiation``."""


BATCH_SIZE = 50_000


def _run_batch(plan: _Plan, seed: int, first: int, count: int) -> dict[str, NDArray[Any]]:
    """Episodes first..first+count-1: the unit a backend runs, here or on a Ray worker."""
    verified()
    batch = _Batch(plan, seed, first, count)
    batch.run()
    return batch.results()


def run_ensemble(
    scenario: Scenario,
    n: int,
    seed: int = 0,
    batch_size: int = BATCH_SIZE,
    *,
    backend: str | Backend = "local",
    address: str | None = None,
    on_batch: Progress | None = None,
) -> EnsembleResult:
    """Run episodes 0..n-1 of ``scenario`` with ensemble seed ``seed``.

    Episode ``i`` is draw ``i`` of the priors with its own stream of in-episode draws;
    it equals ``run_draw(scenario, seed, i)`` of the reference engine. Episodes run
    ``batch_size`` at a time: memory is the result arrays (about 100 bytes an episode
    for the November scenario) plus one batch's working state (about 10 MB per 10,000
    episodes there); results do not depend on the batch size, and larger batches spread
    NumPy's per-call overhead over more episodes (50,000 runs the November scenario
    about 1.5 times as fast as 10,000).

    ``backend`` runs the batches: ``"local"`` in this process, ``"ray"`` on a Ray cluster
    (``address``, else ``RAY_ADDRESS``, else a local one; ``docs/ray.md``); the results
    are the same whichever runs them. ``on_batch(done, total)`` follows the progress.
    """
    _check(scenario)
    if n < 0:
        raise ValueError("n must be >= 0")
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    if seed < 0:
        raise ValueError("the seed must be >= 0")
    verified()
    if scenario.negotiation is not None:  # talks: the negotiation-mode engine
        from ._negotiation import run_negotiation_ensemble

        return run_negotiation_ensemble(
            scenario, n, seed, batch_size, backend=backend, address=address, on_batch=on_batch
        )
    plan = _Plan(scenario)
    # The results are filled in batch by batch; a batch's working state is dropped as
    # soon as its rows are copied, so memory is the results plus one batch.
    k, width = len(scenario.priors), plan.width
    out: dict[str, NDArray[Any]] = {
        "priors": np.zeros((n, k)),
        "pause_days": np.zeros(n, np.int32),
        "fighting_days": np.zeros(n, np.int32),
        "extensions": np.zeros((n, width), np.int32),
        "released": np.zeros((n, len(plan.release_columns)), np.int32),
        "side_channel": np.zeros((n, len(plan.side_categories)), np.int32),
        "end_reason": np.zeros(n, np.int8),
        "end_day": np.zeros(n, np.int32),
        "ended_by": np.zeros(n, np.int8),
        "pause_start_day": np.zeros(n, np.int32),
        "pause_end_day": np.zeros(n, np.int32),
        "breaches": np.zeros(n, np.int32),
        "delays": np.zeros(n, np.int32),
    }
    task = partial(_run_batch, plan, seed)
    for rows, results in run_batches(
        task, n, batch_size, backend=backend, address=address, on_batch=on_batch
    ):
        for name, values in results.items():
            out[name][rows] = values
    return EnsembleResult(
        scenario=scenario.name,
        scenario_hash=content_hash(scenario),
        seed=seed,
        calendar_start=plan.start,
        parties=plan.parties,
        release_columns=plan.release_columns,
        side_categories=plan.side_categories,
        **out,
    )
