"""Ensemble forecasts: the predictive distribution of the forecast quantities over the
scenario's priors, from the ensemble engine, and made again from its inputs.

Member ``i`` of a forecast with seed ``s`` is episode ``i`` of ``run_ensemble(scenario,
n, s)``, which is ``run_draw(scenario, s, i)``: the quantities are read from the
ensemble's arrays, as :func:`~._scores.episode_quantities` reads them from a single
run (``tests/test_monitor_forecasts.py`` checks that they agree, member by member).
The ensemble gives no per-day releases or extension dates, so an ensemble forecast
has the events ``pause_holds:DATE``, ``extensions_at_least:K``, ``breach`` and
``agreement_by:DATE``, and the counts ``released_total:PARTY``, ``pause_days`` and
``extensions``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..scenario import Scenario, content_hash
from ._scores import Forecast, calendar_dates, extension_steps, window_dates

if TYPE_CHECKING:  # the ensemble engine (numba) is loaded only to make a forecast
    from ..ensemble import EnsembleResult

Mask = NDArray[np.bool_]


def ensemble_quantities(
    scenario: Scenario, result: EnsembleResult
) -> tuple[dict[str, Mask], dict[str, NDArray[np.int64]]]:
    """The forecast quantities of each episode of ``result``: events and counts by name,
    one value per episode."""
    agreement = scenario.agreement
    if agreement is None:
        return {}, {}
    holder, counter = agreement.batches.releaser, agreement.exchange.releaser

    def day(date: str) -> int:
        return (dt.date.fromisoformat(date) - result.calendar_start).days

    events: dict[str, Mask] = {}
    start, end = result.pause_start_day, result.pause_end_day
    for d in window_dates(scenario):
        k = day(d)
        events[f"pause_holds:{d}"] = (start >= 0) & (start <= k) & (k <= end)
    made = np.count_nonzero(result.extensions >= 0, axis=1).astype(np.int64)
    for k in range(1, extension_steps(scenario) + 1):
        events[f"extensions_at_least:{k}"] = made >= k
    events["breach"] = result.breaches > 0
    agreed = result.agreement_days()
    for d in calendar_dates(scenario):
        events[f"agreement_by:{d}"] = (agreed >= 0) & (agreed <= day(d))
    counts: dict[str, NDArray[np.int64]] = {}
    for party in (holder, counter):
        columns = [j for j, (p, _) in enumerate(result.release_columns) if p == party]
        counts[f"released_total:{party}"] = result.released[:, columns].sum(axis=1, dtype=np.int64)
    counts["pause_days"] = result.pause_days.astype(np.int64)
    counts["extensions"] = made
    return events, counts


def ensemble_forecast(
    scenario: Scenario,
    n: int,
    seed: int,
    *,
    issued_at: str,
    ledger: dict[str, Any] | None = None,
) -> Forecast:
    """A forecast from ``n`` episodes over the scenario's priors (ensemble ``seed``),
    issued at ``issued_at`` against ``ledger`` (a snapshot: ``seq``, ``chain_hash``,
    ``as_of``)."""
    if scenario.agreement is None:
        raise ValueError("the scenario has no agreement: there is nothing to forecast")
    if n < 1:
        raise ValueError("an ensemble forecast needs at least one episode")
    from ..ensemble import run_ensemble

    result = run_ensemble(scenario, n, seed)
    events, counts = ensemble_quantities(scenario, result)
    made = Forecast.from_samples(
        scenario,
        events=events,
        counts=counts,
        seeds=[],
        issued_at=issued_at,
        source=f"ensemble of {n} episodes over the priors",
        method="ensemble",
        seed=seed,
        members=n,
    )
    return made.with_ledger(ledger)


def reproduce(forecast: Forecast, scenario: Scenario) -> Forecast:
    """The forecast made again from its inputs (same scenario, seed, n, snapshot and
    time of issue): equal to ``forecast``, byte for byte in JSON, if nothing changed."""
    from ..engine import run as run_episode

    if content_hash(scenario) != forecast.scenario_hash:
        raise ValueError(
            f"the forecast was made from another version of the scenario "
            f"({forecast.scenario_hash}, this file is {content_hash(scenario)})"
        )
    if forecast.method == "nowcast":
        raise ValueError(
            "a nowcast is made again with `ceasefire nowcast` (same seed, --ensemble and "
            "--as-of) from the ledger snapshot it names"
        )
    if forecast.method == "ensemble" and forecast.seed is not None:
        return ensemble_forecast(
            scenario,
            forecast.members,
            forecast.seed,
            issued_at=forecast.issued_at,
            ledger=forecast.ledger,
        )
    episodes = [run_episode(scenario, seed=s) for s in forecast.seeds]
    again = Forecast.from_episodes(scenario, episodes, issued_at=forecast.issued_at)
    return again.with_ledger(forecast.ledger)
