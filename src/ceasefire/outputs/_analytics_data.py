"""The bargaining analytics of a scenario's talks as data, by either of two definitions.

On the table on the day the talks open (:func:`ceasefire.engine.bargaining_analytics`:
every outcome on the table and each side's value of it, at full precision), this gives a
:class:`NegotiationAnalytics`: the Pareto frontier, the Nash, Kalai (egalitarian),
Kalai-Smorodinsky and maximum-welfare points, the opposition level, and, with an
episode, each agreement with each side's satisfaction. ``docs/negotiation.md`` states
both definitions; in short:

``ours`` (the engine's, as in the HTML report). Gains are measured from each side's
reservation value r.

* frontier: every outcome no other outcome beats for both sides, below a reservation
  value or not (one outcome per distinct pair of values), by the first side's value;
* Nash: the outcome with the largest product of gains, among those where both gain;
* Kalai: the largest smaller gain; Kalai-Smorodinsky: the largest smaller gain as a
  share of that side's best possible gain; max welfare: the largest sum of gains (each
  among the outcomes where neither side loses); each the first such outcome;
* opposition: the distance from (1, 1) to the nearest outcome, each value scaled from
  r (0) to the side's best (1);
* satisfaction: (u - r) / (best - r), 0 when best <= r.

``negmas``: NegMAS 0.16.0's ``calc_scenario_stats`` (``pareto_frontier``,
``nash_points``, ``kalai_points``, ``ks_points``, ``max_welfare_points``,
``opposition_level`` with each side's maximum). Each side's disagreement value d is r,
or its lowest value on the table when r is lower (or not finite).

* frontier: the non-dominated outcomes among the *rational* ones (u >= r for both), one
  per distinct pair of values, by the sum of values, highest first;
* every point is searched on the frontier, and every frontier outcome within 1e-12 of
  the best score is returned (so a point may be several outcomes, or none): Nash,
  the largest product of (u - d); Kalai, the largest smaller (u - d); Kalai-Smorodinsky,
  the smallest spread between the two sides' (u - d) / (max - d); max welfare, the
  largest sum of values (not of gains). Where a side's range (max - d; for max welfare
  max - min) is at most 1e-12, every frontier outcome is returned;
* opposition: the distance from (1, 1) to the nearest rational outcome, each value
  divided by the side's maximum (not scaled from r); ``inf`` when no outcome is
  rational (NegMAS's value; JSON writes it as ``"inf"``);
* satisfaction: (u - d) / (max - d), NegMAS's advantage (u - d where max = d).

Outcomes are named by their index among all the outcomes of the issues, first issue
outermost (NegMAS's ``enumerate`` order), their terms and both values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from ..engine import Analytics as TableAnalytics
from ..engine import Episode, bargaining_analytics, build_plan
from ..scenario import Scenario
from ._offers import Offer, OfferTraceError, offer_trace

Definitions = Literal["ours", "negmas"]
DEFINITIONS: tuple[str, ...] = get_args(Definitions)
EPS = 1e-12  # NegMAS's tolerance for ties and empty ranges


@dataclass(frozen=True)
class OutcomePoint:
    """One outcome of the table: its index among all outcomes, its terms, both values."""

    outcome: int
    terms: dict[str, Any]
    utilities: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "terms": dict(self.terms),
            "utilities": dict(self.utilities),
        }


@dataclass(frozen=True)
class AgreementShare:
    """An agreement of the episode, its values and each side's satisfaction with it."""

    session: int
    round: int
    date: str
    via: str
    point: OutcomePoint
    satisfaction: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "round": self.round,
            "date": self.date,
            "via": self.via,
            **self.point.to_dict(),
            "satisfaction": dict(self.satisfaction),
        }


@dataclass(frozen=True)
class NegotiationAnalytics:
    """The analytics of a scenario's talks by one definition (see the module).

    ``disagreement`` is the value each side's gains are measured from (``ours``: its
    reservation). ``ranges`` are each side's lowest and highest value on the table
    (``None`` when the table is empty). Points are tuples: ``ours`` gives at most one
    outcome each, ``negmas`` every tied outcome. ``opposition`` is ``None`` for an empty
    table under ``ours``.
    """

    definitions: str
    parties: tuple[str, str]
    issues: tuple[str, ...]
    outcome_count: int
    reservation: dict[str, float]
    disagreement: dict[str, float]
    ranges: dict[str, tuple[float, float] | None]
    frontier: tuple[OutcomePoint, ...]
    nash: tuple[OutcomePoint, ...]
    kalai: tuple[OutcomePoint, ...]
    kalai_smorodinsky: tuple[OutcomePoint, ...]
    max_welfare: tuple[OutcomePoint, ...]
    opposition: float | None
    agreements: tuple[AgreementShare, ...] = ()

    def satisfaction(self, utilities: dict[str, float]) -> dict[str, float]:
        """Each side's satisfaction with an outcome of these values (see the module)."""
        out: dict[str, float] = {}
        for p in self.parties:
            span = self.ranges[p]
            if span is None or p not in utilities:
                continue
            d, best = self.disagreement[p], span[1]
            gain = utilities[p] - d
            if self.definitions == "negmas":
                out[p] = gain / (best - d) if best - d else gain
            else:
                out[p] = gain / (best - d) if best - d > 0 else 0.0
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, values at full precision (``inf`` stays a float: write with
        :func:`ceasefire.outputs.strict_json_dumps`)."""

        def points(ps: Sequence[OutcomePoint]) -> list[dict[str, Any]]:
            return [p.to_dict() for p in ps]

        def solution(ps: Sequence[OutcomePoint]) -> list[dict[str, Any]]:
            return [p.to_dict() | {"satisfaction": self.satisfaction(p.utilities)} for p in ps]

        return {
            "definitions": self.definitions,
            "parties": list(self.parties),
            "issues": list(self.issues),
            "outcome_count": self.outcome_count,
            "reservation": dict(self.reservation),
            "disagreement": dict(self.disagreement),
            "ranges": {p: None if r is None else list(r) for p, r in self.ranges.items()},
            "frontier": points(self.frontier),
            "nash": solution(self.nash),
            "kalai": solution(self.kalai),
            "kalai_smorodinsky": solution(self.kalai_smorodinsky),
            "max_welfare": solution(self.max_welfare),
            "opposition": self.opposition,
            "agreements": [a.to_dict() for a in self.agreements],
        }


def negotiation_analytics(
    scenario: Scenario,
    episode: Episode | None = None,
    *,
    definitions: str = "ours",
    offers: list[Offer] | None = None,
) -> NegotiationAnalytics:
    """The analytics of ``scenario``'s talks by ``definitions`` (``ours`` or ``negmas``);
    with ``episode`` (its run, see :func:`~._offers.offer_trace`), also its agreements
    (date, round and channel as in its summary, values at full precision from its
    ``offers``, the offer trace, read here unless given) and each side's satisfaction
    with them. Raises ``ValueError`` for a scenario without talks or an unknown
    definition."""
    if definitions not in DEFINITIONS:
        raise ValueError(
            f"unknown analytics definitions {definitions!r}; use one of {', '.join(DEFINITIONS)}"
        )
    base = bargaining_analytics(scenario)
    a, b = base.parties
    va, vb = base.table.values[a], base.table.values[b]
    everything = {o: i for i, o in enumerate(build_plan(scenario).outcomes)}

    def at(place: int) -> OutcomePoint:
        return OutcomePoint(
            outcome=everything[base.table.outcomes[place]],
            terms=base.table.terms(place),
            utilities={a: float(va[place]), b: float(vb[place])},
        )

    make = _ours if definitions == "ours" else _negmas
    result = make(base, va, vb, at)
    if episode is None:
        return result
    if offers is None:
        offers = offer_trace(scenario, episode)
    accepted = [o for o in offers if o.accepted]
    if [d["terms"] for d in episode.summary.agreements] != [o.terms for o in accepted]:
        raise OfferTraceError("the offers accepted are not the episode's agreements")
    shares = []
    for deal, offer in zip(episode.summary.agreements, accepted, strict=True):
        point = OutcomePoint(offer.outcome, dict(offer.terms), dict(offer.utilities))
        shares.append(
            AgreementShare(
                session=offer.session,
                round=int(deal["round"]),
                date=str(deal["date"]),
                via=str(deal["via"]),
                point=point,
                satisfaction=result.satisfaction(point.utilities),
            )
        )
    return _with_agreements(result, tuple(shares))


def _with_agreements(
    result: NegotiationAnalytics, shares: tuple[AgreementShare, ...]
) -> NegotiationAnalytics:
    return NegotiationAnalytics(**{**result.__dict__, "agreements": shares})


def _ranges(
    parties: tuple[str, str], va: np.ndarray[Any, Any], vb: np.ndarray[Any, Any]
) -> dict[str, tuple[float, float] | None]:
    if va.size == 0:
        return {p: None for p in parties}
    return {p: (float(v.min()), float(v.max())) for p, v in zip(parties, (va, vb), strict=True)}


def _ours(
    base: TableAnalytics,
    va: np.ndarray[Any, Any],
    vb: np.ndarray[Any, Any],
    at: Callable[[int], OutcomePoint],
) -> NegotiationAnalytics:
    a, b = base.parties
    ra, rb = base.reservation[a], base.reservation[b]

    def one(index: int | None) -> tuple[OutcomePoint, ...]:
        return () if index is None else (at(index),)

    kalai: int | None = None
    ga, gb = va - ra, vb - rb
    ok = (ga >= 0) & (gb >= 0)
    if ok.any():
        kalai = int(np.argmax(np.where(ok, np.minimum(ga, gb), -np.inf)))
    return NegotiationAnalytics(
        definitions="ours",
        parties=base.parties,
        issues=base.issues,
        outcome_count=base.outcome_count,
        reservation=dict(base.reservation),
        disagreement=dict(base.reservation),
        ranges=_ranges(base.parties, va, vb),
        frontier=tuple(at(p.index) for p in base.frontier),
        nash=one(None if base.nash is None else base.nash.index),
        kalai=one(kalai),
        kalai_smorodinsky=one(
            None if base.kalai_smorodinsky is None else base.kalai_smorodinsky.index
        ),
        max_welfare=one(None if base.max_welfare is None else base.max_welfare.index),
        opposition=base.opposition,
    )


def _negmas(
    base: TableAnalytics,
    va: np.ndarray[Any, Any],
    vb: np.ndarray[Any, Any],
    at: Callable[[int], OutcomePoint],
) -> NegotiationAnalytics:
    a, b = base.parties
    r = np.array([base.reservation[a], base.reservation[b]])
    values = np.stack([va, vb], axis=1) if va.size else np.zeros((0, 2))
    ranges = _ranges(base.parties, va, vb)
    low = values.min(axis=0) if len(values) else np.zeros(2)
    high = values.max(axis=0) if len(values) else np.zeros(2)
    d = np.where(np.isfinite(r) & (r >= low), r, low)
    frontier = negmas_frontier(values, r)
    pts = values[frontier]

    def best(
        score: np.ndarray[Any, Any], widths: np.ndarray[Any, Any], lowest: bool = False
    ) -> tuple[OutcomePoint, ...]:
        """Frontier places within EPS of the best score (all where a range is empty)."""
        if not len(frontier):
            return ()
        if (widths <= EPS).any():
            chosen = list(range(len(frontier)))
        else:
            ok = np.isfinite(score)
            if not ok.any():
                return ()
            top = score[ok].min() if lowest else score[ok].max()
            near = score <= top + EPS if lowest else score >= top - EPS
            chosen = [i for i in range(len(frontier)) if ok[i] and near[i]]
        return tuple(at(int(frontier[i])) for i in chosen)

    gains = pts - d
    widths = high - d
    rational = (pts >= r).all(axis=1)
    nash = best(np.prod(gains, axis=1), widths)
    kalai = best(np.where(rational, gains.min(axis=1), -np.inf), widths)
    safe = np.where(widths != 0, widths, 1.0)
    advantage = np.where(widths != 0, gains / safe, gains)
    spread = advantage.max(axis=1) - advantage.min(axis=1) if len(pts) else np.zeros(0)
    ks = best(np.where(rational, spread, np.inf), widths, lowest=True)
    welfare = best(pts.sum(axis=1), high - low)
    return NegotiationAnalytics(
        definitions="negmas",
        parties=base.parties,
        issues=base.issues,
        outcome_count=base.outcome_count,
        reservation={a: float(r[0]), b: float(r[1])},
        disagreement={a: float(d[0]), b: float(d[1])},
        ranges=ranges,
        frontier=tuple(at(int(i)) for i in frontier),
        nash=nash,
        kalai=kalai,
        kalai_smorodinsky=ks,
        max_welfare=welfare,
        opposition=negmas_opposition(values, r, high),
    )


def negmas_frontier(values: np.ndarray[Any, Any], reservation: np.ndarray[Any, Any]) -> list[int]:
    """NegMAS's Pareto frontier of two sides: the rational rows of ``values`` (each value
    at least that side's reservation) that no other row matches or beats on both sides
    (of equal rows, the first in table order), by the sum of values, highest first
    (ties: table order)."""
    rational = np.flatnonzero((values >= reservation).all(axis=1))
    a, b = values[rational, 0], values[rational, 1]
    # By the first side's value, highest first, then the second's, then table order: a
    # row is on the frontier when its second value beats every row before it.
    order = rational[np.lexsort((rational, -b, -a))]
    kept: list[int] = []
    top = -math.inf
    for i in order.tolist():
        if values[i, 1] > top:
            kept.append(i)
            top = float(values[i, 1])
    return sorted(kept, key=lambda i: (-float(values[i].sum()), i))


def negmas_opposition(
    values: np.ndarray[Any, Any], reservation: np.ndarray[Any, Any], high: np.ndarray[Any, Any]
) -> float:
    """NegMAS's opposition level: the distance from (1, 1) to the nearest rational row,
    each value divided by its side's maximum (by 1 where that maximum is 0); ``inf``
    when no row is rational."""
    rational = values[(values >= reservation).all(axis=1)]
    if not len(rational):
        return math.inf
    scale = np.where(high != 0, high, 1.0)
    return float(np.sqrt(((1.0 - rational / scale) ** 2).sum(axis=1).min()))
