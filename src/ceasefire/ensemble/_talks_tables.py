"""Outcome tables for negotiation-mode ensembles: each episode's values of every outcome.

The reference engine rebuilds its table (``engine._outcomes.build_table``) whenever the
holdings, the pressure or the value model have changed, and sorts it once per side
(``engine._bargaining.Side``). Here every episode in talks points at a *class*: a row of
a :class:`TableStore` holding both sides' values of every outcome of the grid, which
outcomes are feasible, and each side's outcomes sorted by its own value. Episodes whose
inputs are equal share a class (an ensemble whose priors only move reservation values
has one class for all its episodes); otherwise each has its own.

Exactness: the values are computed with the reference engine's arithmetic, element by
element and in its order (issue terms in the order the side lists them, then the
implied flows in the order of ``_flows``' categories, then the days of pause times
pause value plus pressure), broadcast over classes. Infeasible outcomes sort first, as
``-inf``, so that a searchsorted over a whole row finds the same outcome as over the
reference engine's filtered table. Rows are sorted by own value only (a stable argsort,
cheaper than ``lexsort`` on these rows); the reference engine's tie rule
(``lexsort((-other, own))``: among equal own values the other side's highest value,
then the earliest outcome) is applied at query time, to the few outcomes that tie.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..engine._bargaining import NEAR, outcome_grid
from ..scenario import Scenario

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Mask = NDArray[np.bool_]

# Elements of one temporary (classes x outcomes) array while building tables.
_CHUNK_ELEMENTS = 1 << 16
# Builds of at most this many classes check each row for tied values once (a row
# without ties skips the tie rule at every query); larger builds leave it to the query.
_TIE_CHECK_ROWS = 8


def _numeric(values: list[Any]) -> F64:
    """``engine._outcomes._issue_column``: the issue's values as floats (NaN for names)."""
    return np.array([float(v) if not isinstance(v, str) else np.nan for v in values])


@dataclass(frozen=True)
class KeyColumn:
    """One input of the values: a party's term, or a count in reach."""

    kind: str  # "pressure", "pause_day", "weight", "receive", "give", "reach_holder", ...
    party: str
    name: str


class Grid:
    """The outcomes (every combination of the issues' values, first issue outermost)
    and what each one implies, for one scenario."""

    def __init__(self, scenario: Scenario) -> None:
        n = scenario.negotiation
        assert n is not None
        self.s = scenario
        self.n = n
        self.issues = [i.id for i in n.issues]
        self.outcomes: list[tuple[Any, ...]] = outcome_grid([i.domain() for i in n.issues])
        self.m = len(self.outcomes)
        raw = {i.id: [o[k] for o in self.outcomes] for k, i in enumerate(n.issues)}
        self.raw = raw
        self.numeric = {i.id: _numeric(raw[i.id]) for i in n.issues}
        self.parties: tuple[str, str] = (
            n.first_mover,
            next(p.id for p in scenario.parties if p.id != n.first_mover),
        )
        self.days = self._of_kind("pause_days")
        t = n.template
        self.template = t
        # The categories the holder's flows can come from, in the order ``_flows`` first
        # meets them (the template's, then first-category values outside it).
        self.head_of: I64 = np.zeros(self.m, dtype=np.int64)
        self.heads: list[str] = []
        self.flow_categories: list[str] = []
        self.receiver: dict[str, str] = {}
        if t is not None:
            self.per_day = self._of_kind("releases_per_day")
            self.captives = self.days * self.per_day
            first = next((raw[i.id] for i in n.issues if i.kind == "first_category"), None)
            for k in range(self.m):
                head = str(first[k]) if first is not None else t.categories[0]
                if head not in self.heads:
                    self.heads.append(head)
                self.head_of[k] = self.heads.index(head)
            self.orders = {h: [h, *(c for c in t.categories if c != h)] for h in self.heads}
            by: list[str] = list(t.categories)
            for h in self.heads:
                for c in self.orders[h]:
                    if c not in by:
                        by.append(c)
            self.holder_categories = list(by)
            for c in by:
                self.receiver[c] = t.exchange_releaser
            for c in t.exchange_categories:
                if c not in by:
                    by.append(c)
                self.receiver[c] = t.batches_releaser
            self.flow_categories = by
            # The holder's flows depend on (captives, first category) only.
            pairs = np.stack([self.captives, self.head_of.astype(np.float64)], axis=1)
            unique, inverse = np.unique(pairs, axis=0, return_inverse=True)
            self.reduced_captives: F64 = unique[:, 0].copy()
            self.reduced_head: I64 = unique[:, 1].astype(np.int64)
            self.reduced_of: I64 = inverse.reshape(-1).astype(np.int64)
            self.ratio_of: dict[str, F64] = {
                c: np.full(self.m, float(t.default_ratio)) for c in t.categories
            }
            for issue in n.issues:
                if issue.kind == "ratio" and issue.category is not None:
                    self.ratio_of[issue.category] = self.numeric[issue.id]
        self.key = self._key_columns()

    def _of_kind(self, kind: str) -> F64:
        for issue in self.n.issues:
            if issue.kind == kind:
                return self.numeric[issue.id]
        return np.zeros(self.m)

    def _key_columns(self) -> list[KeyColumn]:
        cols: list[KeyColumn] = []
        for party in self.parties:
            cols.append(KeyColumn("pressure", party, ""))
            cols.append(KeyColumn("pause_day", party, ""))
            for issue in self.n.parties[party].issues:
                cols.append(KeyColumn("weight", party, issue))
            for c in self.flow_categories:
                cols.append(KeyColumn("receive", party, c))
                cols.append(KeyColumn("give", party, c))
        t = self.template
        if t is not None:
            for c in self.holder_categories:
                cols.append(KeyColumn("reach_holder", t.batches_releaser, c))
            for c in t.exchange_categories:
                cols.append(KeyColumn("reach_other", t.exchange_releaser, c))
        return cols

    # -- values ------------------------------------------------------------------

    def surely_empty(self, inputs: F64) -> Mask:
        """Rows whose table is empty because the holder cannot fill the smallest batch."""
        t = self.template
        if t is None:
            return np.zeros(inputs.shape[0], dtype=bool)
        index = {(c.kind, c.party, c.name): j for j, c in enumerate(self.key)}
        total = np.zeros(inputs.shape[0])
        for c in t.categories:
            total = total + inputs[:, index[("reach_holder", t.batches_releaser, c)]]
        out: Mask = total < float(self.captives.min())
        return out

    def values(self, inputs: F64) -> tuple[F64, F64, Mask]:
        """Both sides' values of every outcome, and which are feasible, for each row of
        ``inputs`` (one column per ``self.key`` entry).

        Element by element this is ``build_table``'s arithmetic, in its order. Where a
        step gives the same numbers for many outcomes it is computed once and gathered:
        the issue terms when the weights are the same in every row, and the holder's
        flows, which depend only on (pause days x releases per day, first category).
        Additions of an exact +0.0 that ``build_table`` makes (starting sums from
        zeros, the heads an outcome does not have) leave non-negative terms unchanged
        and are skipped."""
        index = {(c.kind, c.party, c.name): j for j, c in enumerate(self.key)}

        def col(kind: str, party: str, name: str = "") -> F64:
            out: F64 = inputs[:, index[(kind, party, name)]][:, None]
            return out

        rows = inputs.shape[0]
        t = self.template
        by_category: dict[str, F64] = {}
        feasible: Mask = np.ones((1, self.m), dtype=bool)
        if t is not None:
            holder, other = t.batches_releaser, t.exchange_releaser
            reduced = {c: np.zeros((rows, self.reduced_captives.size)) for c in t.categories}
            for h_index, head in enumerate(self.heads):
                at = np.flatnonzero(self.reduced_head == h_index)
                left: F64 = self.reduced_captives[at][None, :]
                for c in self.orders[head]:
                    take = np.minimum(left, col("reach_holder", holder, c))
                    reduced[c][:, at] = take
                    left = left - take
            for c in t.categories:
                by_category[c] = reduced[c][:, self.reduced_of]
            in_reach = np.zeros((rows, 1))
            for c in t.categories:
                in_reach = in_reach + col("reach_holder", holder, c)
            feasible = self.captives[None, :] <= in_reach
            counter: F64 | None = None
            for c in t.categories:
                term = self.ratio_of[c] * by_category[c]
                counter = term if counter is None else counter + term
            assert counter is not None
            pools = {c: col("reach_other", other, c) for c in t.exchange_categories}
            total: F64 = np.zeros((rows, 1))
            for c in t.exchange_categories:
                total = total + pools[c]
            feasible = feasible & (counter <= total)
            left = counter
            some = total > 0
            safe = np.where(some, total, 1.0)
            for c in t.exchange_categories:
                if t.exchange_split == "proportional":
                    share = counter * (pools[c] / safe)
                    if not some.all():
                        share = np.where(some, share, 0.0)
                else:
                    share = np.minimum(left, pools[c])
                    left = left - share
                by_category[c] = by_category[c] + share if c in by_category else share
        values: list[F64] = []
        for party in self.parties:
            terms = self.n.parties[party]
            weights = [index[("weight", party, i)] for i in terms.issues]
            shared = bool((inputs[:, weights] == inputs[:1, weights]).all()) if rows else True
            w_rows = inputs[:1] if shared else inputs
            v: F64 = np.zeros((w_rows.shape[0], self.m))
            for issue_id, f in terms.issues.items():
                w = w_rows[:, index[("weight", party, issue_id)]][:, None]
                if f.table is not None:
                    table = f.table
                    column = np.array([table.get(str(x), 0.0) for x in self.raw[issue_id]])
                    v = v + w * column
                else:
                    assert f.slope is not None
                    v = v + w * (self.numeric[issue_id] * f.slope + f.bias)
            for c, counts in by_category.items():
                if party == self.receiver[c]:
                    weight = col("receive", party, c)
                else:
                    weight = -col("give", party, c)
                v = v + weight * counts
            v = v + self.days * (col("pause_day", party) + col("pressure", party))
            values.append(np.broadcast_to(v, (rows, self.m)))
        return values[0], values[1], np.broadcast_to(feasible, (rows, self.m))


# ---------------------------------------------------------------------------
# The store of classes


class TableStore:
    """Rows of tables (classes), allocated as episodes need them.

    ``sorted[side][slot]`` is that side's values of the feasible outcomes in ascending
    order, after a ``-inf`` sentinel (position 0) and the infeasible outcomes (as
    ``-inf``); ``order[side][slot]`` the grid index at each position."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.m = m = grid.m
        self.cap = 0
        self.values: list[F64] = [np.zeros((0, m)), np.zeros((0, m))]
        self.sorted: list[F64] = [np.zeros((0, m + 1)), np.zeros((0, m + 1))]
        self.order: list[I64] = [
            np.zeros((0, m + 1), dtype=np.int64),
            np.zeros((0, m + 1), dtype=np.int64),
        ]
        self.feasible: Mask = np.zeros((0, m), dtype=bool)
        self.count: I64 = np.zeros(0, dtype=np.int64)  # feasible outcomes
        self.umax: list[F64] = [np.zeros(0), np.zeros(0)]
        self.vmin: list[F64] = [np.zeros(0), np.zeros(0)]
        self.ties: list[Mask] = [np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)]
        self.all_feasible = True

    def _grow(self, cap: int) -> None:
        old = self.cap

        def grown(a: NDArray[Any]) -> NDArray[Any]:
            out = np.zeros((cap, *a.shape[1:]), dtype=a.dtype)
            out[:old] = a
            return out

        self.values = [grown(a) for a in self.values]
        self.sorted = [grown(a) for a in self.sorted]
        self.order = [grown(a) for a in self.order]
        self.feasible = grown(self.feasible)
        self.count = grown(self.count)
        self.umax = [grown(a) for a in self.umax]
        self.vmin = [grown(a) for a in self.vmin]
        self.ties = [grown(a) for a in self.ties]
        self.cap = cap

    def build(self, inputs: F64, live: I64) -> I64:
        """Tables for each row of ``inputs``; returns their slots (``live`` slots stay)."""
        m = self.m
        rows = inputs.shape[0]
        used = np.zeros(self.cap, dtype=bool)
        used[live] = True
        free = np.flatnonzero(~used)
        if free.size < rows:
            self._grow(max(self.cap * 2, self.cap + rows - free.size, 4))
            used = np.zeros(self.cap, dtype=bool)
            used[live] = True
            free = np.flatnonzero(~used)
        slots = free[:rows].astype(np.int64)
        empty = self.grid.surely_empty(inputs)
        if empty.any():
            none = slots[empty]
            self.feasible[none] = False
            self.count[none] = 0
            for side in range(2):
                self.sorted[side][none] = -np.inf
                self.umax[side][none] = np.nan
                self.vmin[side][none] = np.nan
                self.ties[side][none] = False
        full = np.flatnonzero(~empty)
        chunk = max(1, _CHUNK_ELEMENTS // max(m, 1))
        for lo in range(0, full.size, chunk):
            rows_of = full[lo : lo + chunk]
            part = slots[rows_of]
            va, vb, feas = self.grid.values(inputs[rows_of])
            self.feasible[part] = feas
            count = feas.sum(axis=1)
            self.count[part] = count
            every_feasible = bool((count == m).all())
            for side, own in enumerate((va, vb)):
                self.values[side][part] = own
                keyed = own if every_feasible else np.where(feas, own, -np.inf)
                order = np.argsort(keyed, axis=1, kind="stable")
                s = np.take_along_axis(keyed, order, axis=1)
                self.order[side][part, 1:] = order
                self.sorted[side][part, 0] = -np.inf
                self.sorted[side][part, 1:] = s
                self.umax[side][part] = s[:, -1]
                first = np.minimum(m - count, m - 1)
                self.vmin[side][part] = s[np.arange(part.size), first]
                if part.size <= _TIE_CHECK_ROWS:
                    same = (s[:, 1:] == s[:, :-1]) & np.isfinite(s[:, 1:])
                    self.ties[side][part] = same.any(axis=1)
                else:  # unknown: resolved at query time
                    self.ties[side][part] = True
        every = np.concatenate([live, slots])
        self.all_feasible = bool((self.count[every] == m).all())
        return slots

    # -- queries ---------------------------------------------------------------

    def value(self, side: int, slot: I64, outcome: I64, single: int) -> F64:
        """Side's value of ``outcome`` (a grid index; -1 gives a value to be masked) in
        each class ``slot`` (``single`` >= 0: every entry's class is that one)."""
        if single >= 0:
            row: F64 = self.values[side][single][outcome]
            return row
        out: F64 = self.values[side].ravel()[slot * self.m + outcome]
        return out

    def on_table(self, slot: I64, outcome: I64, single: int) -> Mask:
        """Whether ``outcome`` (a grid index, -1: none) is on the table of ``slot``."""
        valid = outcome >= 0
        if self.all_feasible:
            return valid
        if single >= 0:
            on: Mask = valid & self.feasible[single][outcome]
            return on
        out: Mask = valid & self.feasible.ravel()[slot * self.m + outcome]
        return out

    def _search(self, side: int, slot: I64, x: F64) -> I64:
        """Row-wise ``searchsorted(sorted_row, x, side="left")``."""
        m1 = self.m + 1
        flat = self.sorted[side].ravel()
        base = slot * m1
        lo = np.zeros(x.size, dtype=np.int64)
        hi = np.full(x.size, m1, dtype=np.int64)
        for _ in range(max(1, int(m1).bit_length())):
            open_ = lo < hi
            mid = (lo + hi) >> 1
            below = flat[base + np.minimum(mid, m1 - 1)] < x
            lo = np.where(open_ & below, mid + 1, lo)
            hi = np.where(open_ & ~below, mid, hi)
        return lo

    def offer(self, side: int, slot: I64, lo: F64, single: int) -> I64:
        """``Side.offer(lo)`` for each (class, threshold): the outcome whose own value is
        the smallest at or above ``lo`` (or at most ``NEAR`` below and strictly nearer),
        among equal own values the one the other side values most, then the first.

        With the sentinel, position ``i`` (the first value >= lo, at most the last) is
        >= 1 and the value below it is -inf where ``Side.offer`` has none; the nearness
        test is made only where the value below is within ``NEAR`` of ``lo``."""
        m = self.m
        if single >= 0:
            s = self.sorted[side][single]
            i = np.searchsorted(s, lo, side="left")
            np.minimum(i, m, out=i)
            s_below = s[i - 1]
            row_order = self.order[side][single]
        else:
            flat = self.sorted[side].ravel()
            base = slot * (m + 1)
            i = self._search(side, slot, lo)
            np.minimum(i, m, out=i)
            s_below = flat[base + i - 1]
        maybe = s_below >= lo - NEAR
        pos = i
        if maybe.any():
            w = np.flatnonzero(maybe)
            s_i = s[i[w]] if single >= 0 else flat[base[w] + i[w]]
            near = np.abs(s_below[w] - lo[w]) < np.abs(s_i - lo[w])
            pos = i.copy()
            pos[w[near]] -= 1
        if single >= 0:
            chosen: I64 = row_order[pos]
            if not self.ties[side][single]:
                return chosen
            rows = np.arange(lo.size)
            slot = np.full(lo.size, single, dtype=np.int64)
        else:
            chosen = self.order[side].ravel()[base + pos]
            tied = self.ties[side][slot]
            if not tied.any():
                return chosen
            rows = np.flatnonzero(tied)
        flat = self.sorted[side].ravel()
        at = slot[rows] * (m + 1) + pos[rows]
        value = flat[at]
        # ``Side.offer`` clamps to the last outcome when every value is below lo; that
        # position is the last of its tied group in lexsort order, not the first.
        last = (value < lo[rows]) & (pos[rows] == i[rows])
        chosen[rows] = self._resolve(side, slot[rows], pos[rows], value, last)
        return chosen

    def _resolve(self, side: int, slot: I64, pos: I64, value: F64, last: Mask) -> I64:
        """Among the outcomes whose own value equals ``value`` (contiguous around ``pos``
        in the sorted row), the lexsort-first one (the other side's highest value, then
        the earliest outcome) or, where ``last``, the lexsort-last one."""
        m1 = self.m + 1
        flat = self.sorted[side].ravel()
        order = self.order[side].ravel()
        other = self.values[1 - side].ravel()
        base = slot * m1
        values_base = slot * self.m
        start = pos.copy()
        while True:  # the sentinel stops the walk at position 1
            back = flat[base + start - 1] == value
            if not back.any():
                break
            start = start - back
        best: I64 = order[base + start]
        best_other = other[values_base + best]
        j = start + 1
        while True:
            more = (j < m1) & (flat[base + np.minimum(j, m1 - 1)] == value)
            if not more.any():
                break
            cand = order[base + np.minimum(j, m1 - 1)]
            cand_other = other[values_base + cand]
            first_better = (cand_other > best_other) | ((cand_other == best_other) & (cand < best))
            last_better = (cand_other < best_other) | ((cand_other == best_other) & (cand > best))
            take = more & np.where(last, last_better, first_better)
            best = np.where(take, cand, best)
            best_other = np.where(take, cand_other, best_other)
            j = j + 1
        return best

    def nash(self, slot: I64, ra: F64, rb: F64) -> I64:
        """``nash_point`` per class and reservation values (-1: no outcome where both
        gain)."""
        out = np.full(slot.size, -1, dtype=np.int64)
        chunk = max(1, _CHUNK_ELEMENTS // max(self.m, 1))
        for lo in range(0, slot.size, chunk):
            part = slice(lo, lo + chunk)
            rows = slot[part]
            ga = self.values[0][rows] - ra[part, None]
            gb = self.values[1][rows] - rb[part, None]
            ok = self.feasible[rows] & (ga > 0) & (gb > 0)
            product = np.where(ok, ga * gb, -np.inf)
            best = np.argmax(product, axis=1)
            out[part] = np.where(ok.any(axis=1), best, -1)
        return out


def aspiration_table(exponent: float, rounds: int) -> F64:
    """``1 - t**e`` for t = (k + 1) / (rounds + 1), k = 0..rounds-1, with Python's
    float arithmetic (``engine._bargaining.aspiration``)."""
    return np.array(
        [1.0 - float((k + 1) / (rounds + 1)) ** float(exponent) for k in range(rounds)]
        or [math.nan]
    )
