"""The table of the talks: the outcomes on offer today and each side's value of each.

An outcome assigns a value to every issue. With an agreement template it implies
flows: ``pause_days`` x ``releases_per_day`` captives from the holder's eligible
categories (``first_category`` first, then the template's order), and the
counter-releases by each category's ratio. An outcome the holder cannot make from
what it has in reach, or whose counter-releases exceed the other side's eligible
holdings, is not on the table. Each side's value is linear additive:

    value = sum_i weight_i * f_i(x_i)                   (issue value functions)
          + receive/give values of the implied flows    (the scenario's value model)
          + pause_days * (pause_day value + pressure)   (each day of pause vs fighting)

Each side concedes along its curve (NegMAS's time-based concession): at relative time
t its aspiration is 1 - t**e, its threshold lo = clip((umax - umin) * aspiration + umin
- eps, umin, umax) with umin = max(min value, reservation); it offers the outcome whose
own value is the smallest at or above lo (one at most 1e-6 below lo and strictly nearer
to it wins), ties broken by the other side's value, highest first; it accepts an offer
worth at least lo to it.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ._custody import in_reach
from ._jit import inline, kernel
from ._plan import AG_CATS, AG_HOLDER, AG_NB, AG_NX, AG_OTHER, AG_XSPLIT, P_PAUSE_DAY, P_PRESSURE

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
NEAR = 1e-6
# Each party's part of a table's real inputs (``inputs_changed``'s ``key_f``) begins
# with the two that make the days' term: its pause-day value and its pressure.
DAY_TERMS = 2


@kernel
def build_table(
    hold: I64,
    reach: I64,
    order: I64,
    pf: F64,
    flows: F64,
    weight: F64,
    grid_days: F64,
    grid_combo: I64,
    combo_captives: F64,
    combo_head: I64,
    grid_ratio_h: F64,
    flow_x: I64,
    issue_columns: F64,
    issue_order: I64,
    template: I64,
    has_template: bool,
    flow_categories: I64,
    flow_to_holder: I64,
    tb_grid: I64,
    tb_pos: I64,
    tb_val: F64,
    work: F64,
    reach_o: I64,
    tb_issue: F64,
    issues_known: bool,
    tb_moved: F64,
    tb_days: F64,
    tb_combo: F64,
) -> int:
    """Fill the table: ``tb_grid[m]`` the m-th outcome on it, ``tb_pos[g]`` outcome g's
    place (-1: not on it), ``tb_val[p, m]`` party p's value; returns the outcomes on it.
    ``work`` (``n_p + 3`` rows, as wide as the categories, the parties and the flows)
    and ``reach_o`` (one per category) are scratch. ``tb_issue[p, g]`` is party p's
    value of outcome g's issues, computed here unless ``issues_known``.

    The holder's release depends only on the outcome's combination of captives and
    first category (``_episode.plan_arrays``): it is worked out once per combination
    (``tb_combo``). Then, outcome by outcome, what the counter-releases come to, which
    outcomes are on the table and what each moves (``tb_moved[j, m]``, flow j of the
    m-th; ``tb_days[m]``); then each party's values, one term at a time over every
    outcome (loops the compiler turns into vector instructions), each value summed in
    the same order as outcome by outcome: its issues, each flow; the days' term is
    added by :func:`add_day_values`."""
    n_g = grid_days.size
    n_p = pf.shape[1]
    n_c = hold.shape[1]
    holder = template[AG_HOLDER]
    other = template[AG_OTHER]
    nb = template[AG_NB]
    nx = template[AG_NX]
    proportional = template[AG_XSPLIT] == 1
    hcats = template[AG_CATS : AG_CATS + nb]
    xcats = template[AG_CATS + n_c : AG_CATS + n_c + nx]
    wv = work[:n_p]
    reach_h = work[n_p]
    share = work[n_p + 1]
    moved = work[n_p + 2]
    for c in range(n_c):
        reach_h[c] = float(in_reach(hold, reach, order, holder, c))
        reach_o[c] = in_reach(hold, reach, order, other, c)
    eligible_h = 0
    for j in range(nb):
        eligible_h += int(reach_h[hcats[j]])
    pool = 0
    for j in range(nx):
        pool += reach_o[xcats[j]]
    for c in range(n_c):
        share[c] = 0.0
    for j in range(nx):
        c = xcats[j]
        share[c] = reach_o[c] / pool if pool else 0.0
    n_f = flow_categories.size
    for p in range(n_p):
        for j in range(n_f):
            c = flow_categories[j]
            if (flow_to_holder[j] == 1) == (p == holder):
                wv[p, j] = flows[0, p, c]
            else:
                wv[p, j] = -flows[1, p, c]
    n_i = issue_order.shape[1]
    if not issues_known:
        for g in range(n_g):
            for p in range(n_p):
                v = 0.0
                for j in range(n_i):
                    k = issue_order[p, j]
                    if k < 0:
                        break
                    v = v + weight[p, k] * issue_columns[p, k, g]
                tb_issue[p, g] = v
    m = 0
    if not has_template:
        for g in range(n_g):
            tb_pos[g] = g
            tb_grid[g] = g
            tb_days[g] = grid_days[g]
        m = n_g
    else:
        # The holder's release of each combination: the first category, then the
        # template's order; tb_combo[k, n_c] = 1 where the holder has them all.
        for k in range(combo_captives.size):
            for c in range(n_c + 1):
                tb_combo[k, c] = 0.0
            captives = combo_captives[k]
            if captives > eligible_h:
                continue
            tb_combo[k, n_c] = 1.0
            left = captives
            head = combo_head[k]
            if head >= 0:
                take = min(left, reach_h[head])
                tb_combo[k, head] += take
                left = left - take
            for j in range(nb):
                c = hcats[j]
                if c != head:
                    take = min(left, reach_h[c])
                    tb_combo[k, c] += take
                    left = left - take
        exchanged = moved  # scratch: the counter-release of each exchange category
        for g in range(n_g):
            k = grid_combo[g]
            if tb_combo[k, n_c] == 0.0:
                tb_pos[g] = -1
                continue
            counter = 0.0
            for j in range(nb):
                counter = counter + grid_ratio_h[j, g] * tb_combo[k, hcats[j]]
            if not counter <= pool:
                tb_pos[g] = -1
                continue
            left = counter
            for j in range(nx):
                c = xcats[j]
                if proportional:
                    exchanged[j] = counter * share[c]
                else:
                    given = min(left, float(reach_o[c]))
                    left = left - given
                    exchanged[j] = given
            tb_pos[g] = m
            tb_grid[m] = g
            tb_days[m] = grid_days[g]
            for j in range(n_f):
                v = tb_combo[k, flow_categories[j]]
                if flow_x[j] >= 0:
                    v = v + exchanged[flow_x[j]]
                tb_moved[j, m] = v
            m += 1
    for p in range(n_p):
        val = tb_val[p]
        issue = tb_issue[p]
        for q in range(m):
            val[q] = issue[tb_grid[q]]
    if has_template:
        for p in range(n_p):
            for j in range(n_f):
                w = wv[p, j]
                row = tb_moved[j]
                val = tb_val[p]
                for k in range(m):
                    val[k] = val[k] + w * row[k]
    return m


@kernel
def add_day_values(tb_val: F64, tb_days: F64, m: int, pf: F64) -> None:
    """The last term of each party's values: the outcome's days of pause, each worth the
    party's pause-day value and pressure (added after the rest, as the table's sum has
    it, so that a kept table gives the same numbers: :func:`restore_table`)."""
    for p in range(tb_val.shape[0]):
        dv = pf[P_PAUSE_DAY, p] + pf[P_PRESSURE, p]
        val = tb_val[p]
        for k in range(m):
            val[k] = val[k] + tb_days[k] * dv


@kernel
def inputs_changed(
    key_i: I64, key_f: F64, hold: I64, reach: I64, pf: F64, flows: F64, weight: F64
) -> bool:
    """Whether the table's inputs (holdings, reach, each party's day values, pressure,
    flow values and issue weights) differ from those it was last built from, kept in
    ``key_i[2:]`` and ``key_f``; they are kept there now. Reals are the same only if
    equal with the same sign (a NaN never is)."""
    changed = key_i[0] == 0
    key_i[0] = 1
    n_p, n_c, n_k = hold.shape
    i = 2
    for p in range(n_p):
        for c in range(n_c):
            for k in range(n_k):
                changed = changed or key_i[i] != hold[p, c, k]
                key_i[i] = hold[p, c, k]
                i += 1
    for k in range(n_k):
        changed = changed or key_i[i] != reach[k]
        key_i[i] = reach[k]
        i += 1
    i = 0
    for p in range(n_p):
        for v in (pf[P_PAUSE_DAY, p], pf[P_PRESSURE, p]):
            changed = changed or not same(key_f[i], v)
            key_f[i] = v
            i += 1
        for t in range(2):
            for c in range(n_c):
                changed = changed or not same(key_f[i], flows[t, p, c])
                key_f[i] = flows[t, p, c]
                i += 1
        for j in range(weight.shape[1]):
            changed = changed or not same(key_f[i], weight[p, j])
            key_f[i] = weight[p, j]
            i += 1
    return bool(changed)


@inline
def same(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@kernel
def same_base(
    key_i: I64, key_f: F64, hold: I64, reach: I64, flows: F64, weight: F64, days: int
) -> bool:
    """Whether a table kept with inputs ``key_i``, ``key_f`` (as :func:`inputs_changed`
    keeps them) was built from these holdings, reach, flow values and issue weights:
    all its values but the days' term (``days`` values a party at the head of each
    party's part of ``key_f``, not compared)."""
    if key_i[0] == 0:
        return False
    n_p, n_c, n_k = hold.shape
    i = 2
    for p in range(n_p):
        for c in range(n_c):
            for k in range(n_k):
                if key_i[i] != hold[p, c, k]:
                    return False
                i += 1
    for k in range(n_k):
        if key_i[i] != reach[k]:
            return False
        i += 1
    i = 0
    for p in range(n_p):
        i += days
        for t in range(2):
            for c in range(n_c):
                if not same(key_f[i], flows[t, p, c]):
                    return False
                i += 1
        for j in range(weight.shape[1]):
            if not same(key_f[i], weight[p, j]):
                return False
            i += 1
    return True


@kernel
def keep_table(
    n: int,
    key_i: I64,
    key_f: F64,
    tb_val: F64,
    tb_grid: I64,
    tb_pos: I64,
    tb_days: F64,
    kp_key_i: I64,
    kp_key_f: F64,
    kp_val: F64,
    kp_place: I64,
    kp_days: F64,
) -> None:
    """Keep the table just built (``n`` outcomes, its values before the days' term) and
    its inputs."""
    for i in range(key_i.size):
        kp_key_i[i] = key_i[i]
    kp_key_i[1] = n
    for i in range(key_f.size):
        kp_key_f[i] = key_f[i]
    for p in range(tb_val.shape[0]):
        for m in range(n):
            kp_val[p, m] = tb_val[p, m]
    for m in range(n):
        kp_place[0, m] = tb_grid[m]
        kp_days[m] = tb_days[m]
    for g in range(tb_pos.size):
        kp_place[1, g] = tb_pos[g]


@kernel
def restore_table(
    kp_key_i: I64,
    kp_val: F64,
    kp_place: I64,
    kp_days: F64,
    tb_val: F64,
    tb_grid: I64,
    tb_pos: I64,
    tb_days: F64,
) -> int:
    """The kept table back on the table, its values before the days' term; returns its
    size."""
    n = kp_key_i[1]
    for p in range(tb_val.shape[0]):
        for m in range(n):
            tb_val[p, m] = kp_val[p, m]
    for m in range(n):
        tb_grid[m] = kp_place[0, m]
        tb_days[m] = kp_days[m]
    for g in range(tb_pos.size):
        tb_pos[g] = kp_place[1, g]
    return int(n)


@inline
def bucket(v: float, low: float, scale: float, n: int) -> int:
    """The bucket of value ``v`` among ``n`` (never decreasing in ``v``)."""
    x = (v - low) * scale
    if not x > 0.0:
        return 0
    if x >= n - 1:
        return n - 1
    return int(x)


@kernel
def index_side(
    own: F64,
    n: int,
    members: I64,
    start: I64,
    values: F64,
    ranked: I64,
    sf: F64,
    slot: int,
    of_rank: I64,
    buckets: I64,
) -> float:
    """A side's index of the table: places ``0..n-1`` in ``n`` buckets of equal width of
    its own value, bucket b at ``members[start[b]:start[b + 1]]`` in place order
    (``of_rank[m]``: the bucket of ``members[m]``; ``buckets``: scratch); the least value
    and the buckets per unit of value in ``sf[slot]``, ``sf[slot + 1]``; returns the
    greatest value. A bucket is ranked (sorted by value, then place, its
    values in ``values``, ``ranked[b]`` = 1) when an offer first reads it
    (:func:`rank_bucket`), so that the whole of ``members`` ranks the table where it has
    been read. Finding an offer then looks at a bucket or two and the places of one
    value, not at every outcome."""
    low = own[0]
    high = own[0]
    for j in range(1, n):
        low = min(low, own[j])
        high = max(high, own[j])
    scale = n / (high - low) if high > low else 0.0
    sf[slot] = low
    sf[slot + 1] = scale
    for b in range(n + 1):
        start[b] = 0
        ranked[b] = 0
    for j in range(n):  # each place's bucket (scratch ``buckets``), counted
        b = bucket(own[j], low, scale, n)
        buckets[j] = b
        start[b + 1] += 1
    for b in range(n):
        start[b + 1] += start[b]
    for j in range(n):  # start[b] runs over bucket b's places, ending at start[b + 1]
        b = buckets[j]
        members[start[b]] = j
        of_rank[start[b]] = b
        start[b] += 1
    for b in range(n, 0, -1):
        start[b] = start[b - 1]
    start[0] = 0
    return float(high)


@inline
def rank_bucket(
    own: F64, members: I64, start: I64, values: F64, ranked: I64, of_rank: I64, m: int
) -> int:
    """Rank the bucket of rank ``m`` (once per index); returns the bucket."""
    k = int(of_rank[m])
    if ranked[k] == 0:
        fill_bucket(own, members, start, values, ranked, k)
    return k


@kernel
def fill_bucket(own: F64, members: I64, start: I64, values: F64, ranked: I64, k: int) -> None:
    """Rank bucket ``k``: its values read, sorted by value, then place (a call, not
    inlined: it runs once per bucket and index, and inlining its sort at every read
    would multiply the compile time)."""
    ranked[k] = 1
    for i in range(start[k], start[k + 1]):
        values[i] = own[members[i]]
    if start[k + 1] - start[k] > 1:
        sort_bucket(values, members, start[k], start[k + 1])


@kernel
def sort_bucket(values: F64, members: I64, first: int, stop: int) -> None:
    """Sort ``first..stop-1`` by value, then place: insertion for a few (the usual
    bucket), a heap sort for many (a cluster of values), so never quadratic."""
    if stop - first <= 16:
        for m in range(first + 1, stop):
            v, j = values[m], members[m]
            i = m
            while i > first and values[i - 1] > v:
                values[i] = values[i - 1]
                members[i] = members[i - 1]
                i -= 1
            values[i] = v
            members[i] = j
        return
    size = stop - first
    for root in range(size // 2 - 1, -1, -1):
        sift_down(values, members, first, root, size)
    for end in range(size - 1, 0, -1):
        swap(values, members, first, first + end)
        sift_down(values, members, first, 0, end)


@kernel
def sift_down(values: F64, members: I64, base: int, root: int, size: int) -> None:
    while True:
        child = 2 * root + 1
        if child >= size:
            return
        if child + 1 < size and before(values, members, base + child, base + child + 1):
            child += 1
        if not before(values, members, base + root, base + child):
            return
        swap(values, members, base + root, base + child)
        root = child


@kernel
def before(values: F64, members: I64, i: int, j: int) -> bool:
    """Entry i ranks before entry j: a smaller value, or the same and an earlier place."""
    return bool(values[i] < values[j] or (values[i] == values[j] and members[i] < members[j]))


@kernel
def swap(values: F64, members: I64, i: int, j: int) -> None:
    values[i], values[j] = values[j], values[i]
    members[i], members[j] = members[j], members[i]


@kernel
def threshold(aspiration: float, umin: float, umax: float, eps: float) -> float:
    """The least value a side accepts or offers at this aspiration (``1 - t**e``)."""
    lo = (umax - umin) * aspiration + umin - eps
    return float(max(umin, min(umax, lo)))


@inline
def offer(
    own: F64,
    other: F64,
    n: int,
    members: I64,
    start: I64,
    values: F64,
    ranked: I64,
    of_rank: I64,
    sf: F64,
    slot: int,
    lo: float,
) -> int:
    """The place a side offers at threshold ``lo`` (the rule of the module's docstring):
    the least own value at or above ``lo``, or the greatest below it if that is at most
    1e-6 below and strictly nearer (:func:`tied`); among places of that value, the best
    for the other side, then the first. Above every value: the greatest, least for the
    other side, then the last (the end of the ranking by own value, ties by the other's,
    highest first)."""
    first, k, last = tied(own, n, members, start, values, ranked, of_rank, sf, slot, lo)
    chosen = values[first]
    best = members[first]
    for m in range(first + 1, start[k + 1]):
        if values[m] != chosen:
            break
        j = members[m]
        if (other[j] < other[best] or other[j] == other[best]) if last else other[j] > other[best]:
            best = j
    return int(best)


@kernel
def offer_in_order(
    own: F64,
    n: int,
    members: I64,
    start: I64,
    values: F64,
    ranked: I64,
    of_rank: I64,
    sf: F64,
    slot: int,
    lo: float,
    rank: I64,
    grid: I64,
) -> int:
    """:func:`offer` with NegMAS's tie order (``tie_break: negmas``; outcome g's place in
    it ``rank[g]``, ``grid`` each place's outcome): among places of the chosen value, the
    least rank, or, above every value, the greatest. A call of its own, so that the
    default rule's inlined search carries nothing of it."""
    first, k, last = tied(own, n, members, start, values, ranked, of_rank, sf, slot, lo)
    chosen = values[first]
    best = members[first]
    for m in range(first + 1, start[k + 1]):
        if values[m] != chosen:
            break
        j = members[m]
        if rank[grid[j]] > rank[grid[best]] if last else rank[grid[j]] < rank[grid[best]]:
            best = j
    return int(best)


@inline
def tied(
    own: F64,
    n: int,
    members: I64,
    start: I64,
    values: F64,
    ranked: I64,
    of_rank: I64,
    sf: F64,
    slot: int,
    lo: float,
) -> tuple[int, int, bool]:
    """Where an offer at threshold ``lo`` chooses: the first rank of the chosen value, its
    bucket, and whether ``lo`` is above every value. On the side's index
    (:func:`index_side`): the first rank at or above ``lo`` is in ``lo``'s bucket or
    starts the next non-empty one; the rank before it ends the bucket before; places of
    one value share a bucket."""
    b = bucket(lo, sf[slot], sf[slot + 1], n)
    i = start[b]
    end = start[b + 1]
    if i < end:
        if ranked[b] == 0:
            fill_bucket(own, members, start, values, ranked, b)
        while i < end and values[i] < lo:
            i += 1
    last = i >= n
    if last:
        first = n - 1
        k = rank_bucket(own, members, start, values, ranked, of_rank, first)
    else:  # ranks inside lo's bucket are in it; others' buckets come from their values
        first = i
        k = b if i < end else rank_bucket(own, members, start, values, ranked, of_rank, i)
        if i > 0:
            k_below = (
                b
                if i > start[b]
                else rank_bucket(own, members, start, values, ranked, of_rank, i - 1)
            )
            below, above = values[i - 1], values[i]
            if below >= lo - NEAR and abs(below - lo) < abs(above - lo):
                first = i - 1
                k = k_below
    chosen = values[first]
    while first > start[k] and values[first - 1] == chosen:
        first -= 1
    return first, k, last


@kernel
def nash(a: F64, b: F64, n: int, ra: float, rb: float) -> int:
    """The place maximising the product of both gains over the reservation values
    (only outcomes where both gain); -1 if there is none."""
    best = -1
    top = -np.inf
    for j in range(n):
        ga = a[j] - ra
        gb = b[j] - rb
        if ga > 0 and gb > 0:
            product = ga * gb
            if best < 0 or product > top:
                best = j
                top = product
    return best
