"""The bargaining domain's analytics (Pareto, Nash, Kalai-Smorodinsky, welfare,
opposition) and the concession curve; the talks themselves are kernel rules
(``_negotiation``, ``_table``).

Vocabulary and semantics follow NegMAS where the two meet (issues, outcomes, linear
additive utility, time-based concession, Pareto/Nash/Kalai-Smorodinsky):

* outcomes are enumerated with the first issue outermost (as ``itertools.product``);
* round k of n has relative time t = (k + 1) / (n + 1);
* aspiration a(t) = 1 - t**e; the threshold is
  lo = clip((umax - umin) * a + umin - eps, umin, umax), umin = max(min value, reservation);
* a party offers the outcome whose own value is the smallest at or above lo (an outcome
  at most 1e-6 below lo and strictly nearer to it wins), ties broken by the other side's
  value, highest first; it accepts an offer whose own value is at least lo.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
NEAR = 1e-6


def aspiration(t: float, exponent: float) -> float:
    """Share of the way from the reservation value to the best outcome still demanded."""
    result: float = 1.0 - float(t) ** float(exponent)
    return result


# -- analytics ------------------------------------------------------------------


def pareto_frontier(a: FloatArray, b: FloatArray) -> IntArray:
    """Indices of the outcomes no other outcome beats for both sides, by a's value
    (one outcome for each distinct pair of values: the first in outcome order)."""
    order = np.lexsort((-b, -a))
    frontier: list[int] = []
    best_b = -np.inf
    for i in order:
        if b[i] > best_b:
            frontier.append(int(i))
            best_b = float(b[i])
    return np.array(sorted(frontier, key=lambda i: (a[i], -b[i])), dtype=np.int64)


def nash_point(a: FloatArray, b: FloatArray, ra: float, rb: float) -> int | None:
    """The outcome maximising the product of both gains over the reservation values
    (only outcomes where both gain); None if there is none."""
    ga, gb = a - ra, b - rb
    ok = (ga > 0) & (gb > 0)
    if not ok.any():
        return None
    product = np.where(ok, ga * gb, -np.inf)
    return int(np.argmax(product))


def kalai_smorodinsky_point(a: FloatArray, b: FloatArray, ra: float, rb: float) -> int | None:
    """The individually rational outcome maximising the smaller of the two gains, each as a
    share of that side's best possible gain."""
    ga, gb = a - ra, b - rb
    ok = (ga >= 0) & (gb >= 0)
    if not ok.any() or ga[ok].max() <= 0 or gb[ok].max() <= 0:
        return None
    share = np.minimum(ga / ga[ok].max(), gb / gb[ok].max())
    return int(np.argmax(np.where(ok, share, -np.inf)))


def max_welfare_point(a: FloatArray, b: FloatArray, ra: float, rb: float) -> int | None:
    """The individually rational outcome with the largest sum of gains."""
    ga, gb = a - ra, b - rb
    ok = (ga >= 0) & (gb >= 0)
    if not ok.any():
        return None
    return int(np.argmax(np.where(ok, ga + gb, -np.inf)))


def opposition(a: FloatArray, b: FloatArray, ra: float, rb: float) -> float:
    """How opposed the sides are: the distance from the ideal point (1, 1) to the nearest
    outcome, each value normalised between its reservation and its best (0: a common
    ideal outcome exists; larger: more conflict)."""
    na = (a - ra) / max(float(a.max()) - ra, 1e-12)
    nb = (b - rb) / max(float(b.max()) - rb, 1e-12)
    return float(np.sqrt((1 - na) ** 2 + (1 - nb) ** 2).min())


def satisfaction(value: float, best: float, reservation: float) -> float:
    """A side's gain over its reservation as a share of the most it could have had."""
    span = best - reservation
    return (value - reservation) / span if span > 0 else 0.0
