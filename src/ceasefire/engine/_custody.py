"""Who holds how many captives, of which category, in whose custody (kernel functions).

``hold[holder, category, custody]`` counts captives. A holder can bring to a hand-over
the captives in its own custody and those of a group while the group is reachable
(``reach[custody]``); ``order[holder]`` lists the custodies it draws from: its own
first, then the groups by id.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._jit import inline

I64 = NDArray[np.int64]


@inline
def in_reach(hold: I64, reach: I64, order: I64, holder: int, category: int) -> int:
    """Captives of ``category`` the holder can bring to a hand-over now."""
    total = 0
    for j in range(order.shape[1]):
        k = order[holder, j]
        if k < 0:
            break
        if k == holder or reach[k] != 0:
            total += hold[holder, category, k]
    return total


@inline
def eligible(hold: I64, reach: I64, order: I64, holder: int, cats: I64, count: int) -> int:
    """Captives of the first ``count`` categories of ``cats`` in the holder's reach."""
    total = 0
    for j in range(count):
        total += in_reach(hold, reach, order, holder, cats[j])
    return total


@inline
def take(hold: I64, reach: I64, order: I64, holder: int, category: int, count: int) -> None:
    """Remove ``count`` captives of one category from what the holder has in reach:
    its own custody first, then the groups in order."""
    for j in range(order.shape[1]):
        k = order[holder, j]
        if k < 0 or count == 0:
            break
        if k == holder or reach[k] != 0:
            step = min(count, hold[holder, category, k])
            hold[holder, category, k] -= step
            count -= step


@inline
def allocate(
    hold: I64,
    reach: I64,
    order: I64,
    holder: int,
    cats: I64,
    n_cats: int,
    count: int,
    proportional: bool,
    out: I64,
    rest: I64,
) -> None:
    """Which categories a batch of ``count`` comes from, into ``out[j]`` for ``cats[j]``.

    In order: the first category until it is exhausted, then the next. Proportional: in
    proportion to what is in reach of each category, the remainder going to the largest
    fractional parts (ties to the earlier category). The caller has checked that
    ``count`` does not exceed what is in reach.
    """
    for j in range(n_cats):
        out[j] = 0
    if not proportional:
        left = count
        for j in range(n_cats):
            out[j] = min(left, in_reach(hold, reach, order, holder, cats[j]))
            left -= out[j]
        return
    pool = 0
    for j in range(n_cats):
        pool += in_reach(hold, reach, order, holder, cats[j])
    if pool == 0:
        return
    given = 0
    for j in range(n_cats):
        share = count * in_reach(hold, reach, order, holder, cats[j])
        out[j] = share // pool
        rest[j] = share % pool
        given += out[j]
    for _ in range(count - given):
        best = 0
        for j in range(1, n_cats):
            if rest[j] > rest[best]:
                best = j
        out[best] += 1
        rest[best] = -1
