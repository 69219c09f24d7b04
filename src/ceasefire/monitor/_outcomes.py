"""Negotiation scenarios held against what followed: the forecast of an agreement by each
date of the calendar, scored against a record, and the priors conditioned on it.

A scenario with a negotiation and no agreement yet forecasts whether and when the
parties agree: ``agreement_by:DATE`` for each date of its calendar, from the ensemble's
day of agreement. The record settles each date it covers: the agreement is the first
``terms`` (or pause start) observation; before it, no agreement. Conditioning is the
nowcast's rejection with exact matching (ABC with a tolerance of zero): the members
whose ``agreement_by`` events all equal the record's are kept, and the priors' means
over them are the posterior means. Conditioned on the record up to a date before the end
of the calendar (``until``), the dates after it are held out: both forecasts are scored
on them, the prior-only one and the one of the members kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..scenario import Scenario, content_hash
from ._model import Entry
from ._nowcast import NowcastError


@dataclass(frozen=True)
class OutcomeRow:
    date: str
    prior_p: float
    posterior_p: float | None
    observed: bool
    prior_brier: float
    posterior_brier: float | None


@dataclass(frozen=True)
class OutcomeBacktest:
    scenario: str
    scenario_hash: str
    drawn: int
    seed: int
    agreed_on: str | None
    conditioned_until: str
    kept: int
    rows: list[OutcomeRow]
    priors: dict[str, tuple[float, float | None]]
    prior_brier_mean: float
    agreement_quantiles: list[float] | None
    held_out: int = 0
    prior_brier_held_out: float | None = None
    posterior_brier_held_out: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def agreed_on(entries: Sequence[Entry]) -> str | None:
    """The date of the first ``terms`` or pause-start observation, or None."""
    dates = [
        e.observation.date.isoformat()
        for e in entries
        if e.observation is not None
        and e.observation.kind in ("terms", "pause_start", "ceasefire_start")
    ]
    return min(dates, default=None)


def outcome_backtest(
    scenario: Scenario,
    entries: Sequence[Entry],
    *,
    n: int,
    seed: int,
    until: str | None = None,
) -> OutcomeBacktest:
    """Score the ensemble's ``agreement_by`` forecast over the calendar against the
    record, and condition the priors on the record up to ``until`` (default: the end of
    the calendar): the members that agree on no date up to it before the record's
    agreement (and on it, if it falls there). The dates after ``until`` are held out:
    the mean Brier scores of both forecasts over them are given apart."""
    if scenario.negotiation is None:
        raise NowcastError("the scenario has neither an agreement nor a negotiation")
    from ..ensemble import run_ensemble

    result = run_ensemble(scenario, n, seed)
    start = result.calendar_start
    end = scenario.calendar.horizon
    last = until or end.isoformat()
    if not start.isoformat() <= last <= end.isoformat():
        raise NowcastError(
            f"the date to condition on, {last}, is outside the scenario's calendar "
            f"({start.isoformat()} to {end.isoformat()}); give a date within it"
        )
    days = (end - start).days
    dates = [(start + dt.timedelta(days=i)).isoformat() for i in range(days + 1)]
    agreed = result.agreement_days()
    made = agreed_on(entries)
    keep = np.ones(n, dtype=bool)
    for k, date in enumerate(dates):
        if date > last:
            break
        yes = (agreed >= 0) & (agreed <= k)
        keep &= yes == (made is not None and made <= date)
    kept = int(keep.sum())
    rows = []
    for k, date in enumerate(dates):
        yes = (agreed >= 0) & (agreed <= k)
        o = float(made is not None and made <= date)
        p = float(yes.mean())
        q = float(yes[keep].mean()) if kept else None
        rows.append(
            OutcomeRow(date, p, q, bool(o), (p - o) ** 2, None if q is None else (q - o) ** 2)
        )
    priors = {
        name: (
            float(result.priors[:, j].mean()),
            float(result.priors[keep, j].mean()) if kept else None,
        )
        for j, name in enumerate(result.prior_names)
    }
    reached = agreed[agreed >= 0]
    quantiles = (
        [float(np.quantile(reached, q, method="inverted_cdf")) for q in (0.05, 0.5, 0.95)]
        if reached.size
        else None
    )
    after = [r for r in rows if r.date > last]
    return OutcomeBacktest(
        scenario=scenario.name,
        scenario_hash=content_hash(scenario),
        drawn=n,
        seed=seed,
        agreed_on=made,
        conditioned_until=last,
        kept=kept,
        rows=rows,
        priors=priors,
        prior_brier_mean=float(np.mean([r.prior_brier for r in rows])),
        agreement_quantiles=quantiles,
        held_out=len(after),
        prior_brier_held_out=float(np.mean([r.prior_brier for r in after])) if after else None,
        posterior_brier_held_out=(
            float(np.mean([r.posterior_brier for r in after if r.posterior_brier is not None]))
            if after and kept
            else None
        ),
    )
