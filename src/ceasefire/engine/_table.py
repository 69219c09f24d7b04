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

import numpy as np
from numba.extending import register_jitable
from numpy.typing import NDArray

from ._custody import in_reach
from ._plan import AG_CATS, AG_HOLDER, AG_NB, AG_NX, AG_OTHER, AG_XSPLIT, P_PAUSE_DAY, P_PRESSURE

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
NEAR = 1e-6


@register_jitable
def build_table(
    hold: I64,
    reach: I64,
    order: I64,
    pf: F64,
    flows: F64,
    weight: F64,
    grid_days: F64,
    grid_per_day: F64,
    grid_head: I64,
    grid_ratio: F64,
    issue_columns: F64,
    issue_order: I64,
    template: I64,
    has_template: bool,
    flow_categories: I64,
    flow_to_holder: I64,
    tb_grid: I64,
    tb_pos: I64,
    tb_val: F64,
) -> int:
    """Fill the table: ``tb_grid[m]`` the m-th outcome on it, ``tb_pos[g]`` outcome g's
    place (-1: not on it), ``tb_val[p, m]`` party p's value; returns the outcomes on it."""
    n_g = grid_days.size
    n_p = pf.shape[1]
    n_c = hold.shape[1]
    holder = template[AG_HOLDER]
    other = template[AG_OTHER]
    nb = template[AG_NB]
    nx = template[AG_NX]
    proportional = template[AG_XSPLIT] == 1
    reach_h = np.zeros(n_c, dtype=np.int64)
    reach_o = np.zeros(n_c, dtype=np.int64)
    for c in range(n_c):
        reach_h[c] = in_reach(hold, reach, order, holder, c)
        reach_o[c] = in_reach(hold, reach, order, other, c)
    eligible_h = 0
    for j in range(nb):
        eligible_h += reach_h[template[AG_CATS + j]]
    pool = 0
    for j in range(nx):
        pool += reach_o[template[AG_CATS + n_c + j]]
    moved = np.zeros(n_c)
    m = 0
    for g in range(n_g):
        days = grid_days[g]
        feasible = True
        if has_template:
            for c in range(n_c):
                moved[c] = 0.0
            captives = days * grid_per_day[g]
            left = captives
            head = grid_head[g]
            if head >= 0:
                take = min(left, float(reach_h[head]))
                moved[head] += take
                left = left - take
            for j in range(nb):
                c = template[AG_CATS + j]
                if c != head:
                    take = min(left, float(reach_h[c]))
                    moved[c] += take
                    left = left - take
            feasible = captives <= eligible_h
            counter = 0.0
            for j in range(nb):
                c = template[AG_CATS + j]
                counter = counter + grid_ratio[g, c] * moved[c]
            feasible = feasible and counter <= pool
            left = counter
            for j in range(nx):
                c = template[AG_CATS + n_c + j]
                if proportional:
                    share = counter * (reach_o[c] / pool) if pool else 0.0
                else:
                    share = min(left, float(reach_o[c]))
                    left = left - share
                moved[c] = moved[c] + share
        if not feasible:
            tb_pos[g] = -1
            continue
        tb_pos[g] = m
        tb_grid[m] = g
        for p in range(n_p):
            v = 0.0
            for j in range(issue_order.shape[1]):
                k = issue_order[p, j]
                if k < 0:
                    break
                v = v + weight[p, k] * issue_columns[p, k, g]
            if has_template:
                for j in range(flow_categories.size):
                    c = flow_categories[j]
                    if (flow_to_holder[j] == 1) == (p == holder):
                        w = flows[0, p, c]
                    else:
                        w = -flows[1, p, c]
                    v = v + w * moved[c]
            v = v + days * (pf[P_PAUSE_DAY, p] + pf[P_PRESSURE, p])
            tb_val[p, m] = v
        m += 1
    return m


@register_jitable
def sort_side(own: F64, other: F64, n: int, order: I64, ranked: F64) -> None:
    """A side's outcomes by own value, ties by the other side's value, highest first."""
    by_other = np.argsort(-other[:n], kind="mergesort")
    by_own = np.argsort(own[:n][by_other], kind="mergesort")
    for j in range(n):
        order[j] = by_other[by_own[j]]
        ranked[j] = own[order[j]]


@register_jitable
def threshold(t: float, exponent: float, umin: float, umax: float, eps: float) -> float:
    """The least value a side accepts or offers at relative time t."""
    aspiration = 1.0 - t**exponent
    lo = (umax - umin) * aspiration + umin - eps
    return float(max(umin, min(umax, lo)))


@register_jitable
def offer(ranked: F64, order: I64, n: int, lo: float) -> int:
    """The outcome at this threshold that is best for the other side (a table place)."""
    s = ranked[:n]
    i = min(int(np.searchsorted(s, lo)), n - 1)
    if i > 0 and s[i - 1] >= lo - NEAR and abs(s[i - 1] - lo) < abs(s[i] - lo):
        i = int(np.searchsorted(s, s[i - 1]))
    return int(order[i])


@register_jitable
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
