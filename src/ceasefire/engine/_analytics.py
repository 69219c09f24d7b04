"""Bargaining analytics of a scenario's talks: what the table offers before anyone moves.

On the outcome table on the day the talks open (``negotiation.start``): the scenario's
initial holdings, value models and each negotiator's initial pressure, changed by the
dated events from the calendar's start up to and including that day (holdings, custody,
value and pressure events, in the order the day loop applies them). Side-channel
releases and any agreement executed before the talks are not applied. With
``at_talks_start=False`` no event is applied: the table of the scenario as written.
Each side's reservation value is the disagreement point:

* the Pareto frontier (the outcomes no other outcome beats for both sides);
* the Nash point (largest product of both gains), the Kalai-Smorodinsky point (largest
  smaller gain, each as a share of that side's best gain) and the maximum-welfare point
  (largest sum of gains), as ``_bargaining`` defines them;
* each side's reservation and best value, and the opposition of the two sides.

The result is a frozen :class:`Analytics`; ``to_dict`` gives JSON-ready values in a fixed
order (the scenario's parties, then its issues), rounded to 6 decimals like the transcript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..scenario import Scenario
from ._bargaining import (
    FloatArray,
    kalai_smorodinsky_point,
    max_welfare_point,
    nash_point,
    opposition,
    pareto_frontier,
    satisfaction,
)
from ._episode import first_morning, plan_arrays
from ._kernel import apply_events
from ._log import new_log
from ._negotiation import table as build_table
from ._plan import P_PRESSURE, build_plan, point_params
from ._state import S_DAY, T_START

DIGITS = 6


def _r(value: float) -> float:
    """Rounded for output, with no negative zero."""
    return round(value, DIGITS) + 0.0


@dataclass(frozen=True)
class Table:
    """The outcomes on the table, with each side's value of each (in the grid's order)."""

    issues: list[str]
    outcomes: list[tuple[Any, ...]]
    values: dict[str, FloatArray]

    def terms(self, index: int) -> dict[str, Any]:
        return dict(zip(self.issues, self.outcomes[index], strict=True))


@dataclass(frozen=True)
class Point:
    """One outcome of the table: its terms and each side's value of it."""

    index: int
    terms: dict[str, Any]
    values: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "terms": dict(self.terms),
            "values": {p: _r(v) for p, v in self.values.items()},
        }


@dataclass(frozen=True)
class Analytics:
    """The bargaining analytics of one scenario's talks (see the module's docstring).

    ``parties`` are the scenario's two parties in its order (``a`` then ``b``); every
    mapping is keyed by party id in that order. Points are ``None`` where no outcome
    qualifies; ``best`` and ``opposition`` are ``None`` when the table is empty.
    ``table`` holds every outcome and value (for charts); ``to_dict`` leaves it out.
    """

    parties: tuple[str, str]
    issues: tuple[str, ...]
    outcome_count: int
    pressure: dict[str, float]
    reservation: dict[str, float]
    best: dict[str, float | None]
    frontier: tuple[Point, ...]
    nash: Point | None
    kalai_smorodinsky: Point | None
    max_welfare: Point | None
    opposition: float | None
    table: Table = field(compare=False, repr=False)

    def satisfaction(self, values: dict[str, float]) -> dict[str, float]:
        """Each side's gain over its reservation as a share of the most it could have had."""
        out: dict[str, float] = {}
        for p in self.parties:
            best = self.best[p]
            if p in values and best is not None:
                out[p] = satisfaction(values[p], best, self.reservation[p])
        return out

    def to_dict(self) -> dict[str, Any]:
        def point(p: Point | None) -> dict[str, Any] | None:
            if p is None:
                return None
            shares = self.satisfaction(p.values)
            return p.to_dict() | {"satisfaction": {k: _r(v) for k, v in shares.items()}}

        return {
            "parties": list(self.parties),
            "issues": list(self.issues),
            "outcome_count": self.outcome_count,
            "pressure": {p: _r(v) for p, v in self.pressure.items()},
            "reservation": {p: _r(v) for p, v in self.reservation.items()},
            "best": {p: None if v is None else _r(v) for p, v in self.best.items()},
            "frontier": [p.to_dict() for p in self.frontier],
            "nash": point(self.nash),
            "kalai_smorodinsky": point(self.kalai_smorodinsky),
            "max_welfare": point(self.max_welfare),
            "opposition": None if self.opposition is None else _r(self.opposition),
        }


def bargaining_analytics(
    scenario: Scenario,
    *,
    pressure: dict[str, float] | None = None,
    at_talks_start: bool = True,
) -> Analytics:
    """The analytics of ``scenario``'s talks on the table at their start.

    ``pressure`` replaces the pressure (after events) for the parties it names.
    Raises ``ValueError`` if the scenario has no negotiation.
    """
    n = scenario.negotiation
    if n is None:
        raise ValueError(f"scenario {scenario.name!r} has no negotiation")
    a, b = (p.id for p in scenario.parties)
    for party in (a, b):
        if party not in n.parties:
            raise ValueError(f"negotiation.parties has no terms for party {party!r}")
    press = {p: n.parties[p].pressure for p in (a, b)}
    table = _table(scenario, at_talks_start, press, pressure or {})
    va, vb = table.values[a], table.values[b]
    ra, rb = n.parties[a].reservation, n.parties[b].reservation
    count = len(table.outcomes)

    def at(index: int | None) -> Point | None:
        if index is None:
            return None
        return Point(
            index=index,
            terms=table.terms(index),
            values={a: float(va[index]), b: float(vb[index])},
        )

    if count == 0:
        frontier: tuple[Point, ...] = ()
        nash = ks = welfare = None
        best: dict[str, float | None] = {a: None, b: None}
        opp: float | None = None
    else:
        frontier = tuple(p for i in pareto_frontier(va, vb) if (p := at(int(i))) is not None)
        nash = at(nash_point(va, vb, ra, rb))
        ks = at(kalai_smorodinsky_point(va, vb, ra, rb))
        welfare = at(max_welfare_point(va, vb, ra, rb))
        best = {a: float(va.max()), b: float(vb.max())}
        opp = opposition(va, vb, ra, rb)
    return Analytics(
        parties=(a, b),
        issues=tuple(table.issues),
        outcome_count=count,
        pressure=press,
        reservation={a: ra, b: rb},
        best=best,
        frontier=frontier,
        nash=nash,
        kalai_smorodinsky=ks,
        max_welfare=welfare,
        opposition=opp,
        table=table,
    )


def _table(
    scenario: Scenario,
    at_talks_start: bool,
    press: dict[str, float],
    override: dict[str, float],
) -> Table:
    """The kernel's table of the talks on their first day: the episode's state on the
    scenario's point values, the dated events of the days up to and including it
    applied by the kernel's own rule (``apply_events``), then ``override``'s pressure.
    ``press`` is updated to the pressure the table was built with."""
    plan = build_plan(scenario)
    arrays = plan_arrays(plan, extensions=1, deals=1)
    params = point_params(plan, 1)
    log_i, log_f = new_log(0, len(plan.categories), len(plan.parties))
    st = first_morning(plan, arrays, params, log_i, log_f)
    if at_talks_start:
        for day in range(int(plan.talks[T_START]) + 1):
            st.si[S_DAY] = day
            apply_events(arrays, st)
    index = {p: i for i, p in enumerate(plan.parties)}
    for p in press:
        if p in override:
            st.party[P_PRESSURE, index[p]] = override[p]
        press[p] = float(st.party[P_PRESSURE, index[p]])
    count = build_table(arrays, st)
    on = st.tb_grid[:count].tolist()
    return Table(
        issues=list(plan.issues),
        outcomes=[plan.outcomes[g] for g in on],
        values={p: np.array(st.tb_val[index[p], :count]) for p in plan.parties},
    )
