"""Nowcasts: the scenario's priors conditioned on what the record showed on a date.

Simulation-based inference by rejection with exact matching: draw an ensemble over the
priors (``n`` episodes, ``seed``), read each member's forecast quantities
(:func:`~._forecasts.ensemble_quantities`), and keep the members whose quantities equal,
exactly, every one the record had settled by the date (:func:`~._scores.observed_quantities`
on the observations dated on or before it): the days the pause held, how many
extensions were agreed, a breach or none, the agreement, and the totals once the pause
had ended. The members kept are draws from the priors conditioned on those
observations; what they do after the date is the nowcast of what is still to come.

Every member kept has the same weight, so the effective sample size is the number kept.
When no member matches, the observations are incompatible with the priors (or too
unlikely under them for ``n`` draws): :class:`NowcastError` names the observation at
which the last members dropped out. Per-day releases are not among the ensemble's
quantities, so they are not matched (see docs/forecasting.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..scenario import Scenario
from ._compliance import ComplianceReport
from ._forecasts import ensemble_quantities
from ._model import Entry
from ._scores import Forecast, observed_quantities


class NowcastError(ValueError):
    """The observations cannot be matched by any member of the ensemble."""


@dataclass(frozen=True)
class Nowcast:
    """The members of an ensemble that match the record, as a forecast, and how many."""

    forecast: Forecast
    drawn: int
    kept: int
    matched: dict[str, int]
    priors: dict[str, tuple[float, float]]

    @property
    def ess(self) -> float:
        """Effective sample size: the members kept (all of equal weight)."""
        return float(self.kept)


def dated_until(entries: Sequence[Entry], date: str) -> list[Entry]:
    """The entries whose observation happened on or before ``date`` (YYYY-MM-DD)."""
    return [
        e for e in entries if e.observation is not None and e.observation.date.isoformat() <= date
    ]


def nowcast(
    scenario: Scenario,
    report: ComplianceReport,
    observed: Sequence[Entry],
    *,
    n: int,
    seed: int,
    date: str,
    issued_at: str,
    ledger: dict[str, Any] | None = None,
) -> Nowcast:
    """Condition the priors on the observations dated up to ``date`` (``observed``, with
    their compliance ``report``) by rejection, from ``n`` episodes of ensemble ``seed``."""
    if scenario.agreement is None:
        raise NowcastError("the scenario has no agreement: there is nothing to nowcast")
    if n < 1:
        raise NowcastError("a nowcast needs at least one episode")
    from ..ensemble import run_ensemble

    result = run_ensemble(scenario, n, seed)
    events, counts = ensemble_quantities(scenario, result)
    keep, matched = match_record(events, counts, report, observed, date=date, seed=seed)
    kept = int(keep.sum())
    made = Forecast.from_samples(
        scenario,
        events={k: v[keep] for k, v in events.items()},
        counts={k: v[keep] for k, v in counts.items()},
        seeds=[],
        issued_at=issued_at,
        source=f"nowcast on {date}: {kept} of {n} episodes over the priors match the record",
        method="nowcast",
        seed=seed,
        members=kept,
    )
    conditioned = {"date": date, "drawn": n, "kept": kept, "ess": float(kept), "matched": matched}
    made = replace(made, ledger=ledger, conditioned=conditioned)
    priors = {
        name: (float(result.priors[:, j].mean()), float(result.priors[keep, j].mean()))
        for j, name in enumerate(result.prior_names)
    }
    return Nowcast(made, n, kept, matched, priors)


def match_record(
    events: dict[str, np.ndarray[Any, Any]],
    counts: dict[str, np.ndarray[Any, Any]],
    report: ComplianceReport,
    observed: Sequence[Entry],
    *,
    date: str,
    seed: int,
) -> tuple[np.ndarray[Any, Any], dict[str, int]]:
    """Which members (one value per member in ``events`` and ``counts``) give exactly
    every quantity the record settles on ``date``, and those quantities with their values,
    matched in name order. :class:`NowcastError` when none does."""
    n = next(iter([*events.values(), *counts.values()])).size
    seen_events, seen_counts, _, _ = observed_quantities(
        report, dated_until(observed, date), list(events)
    )
    samples: dict[str, np.ndarray[Any, Any]] = {
        **{k: v.astype(np.int64) for k, v in events.items()},
        **counts,
    }
    seen: dict[str, int] = {
        **{k: int(v) for k, v in seen_events.items()},
        **seen_counts,
    }
    keep = np.ones(n, dtype=bool)
    matched: dict[str, int] = {}
    for name in sorted(k for k in seen if k in samples):
        now = keep & (samples[name] == seen[name])
        if not now.any():
            raise NowcastError(
                _no_match(name, seen[name], name in events, samples, keep, matched, seed, date)
            )
        keep = now
        matched[name] = seen[name]
    return keep, matched


def _no_match(
    name: str,
    value: int,
    is_event: bool,
    samples: dict[str, np.ndarray[Any, Any]],
    keep: np.ndarray[Any, Any],
    matched: dict[str, int],
    seed: int,
    date: str,
) -> str:
    n = keep.size
    shown = ("yes" if value else "no") if is_event else str(value)
    anywhere = int(np.count_nonzero(samples[name] == value))
    before = ""
    if matched:
        last = ", ".join(list(matched)[-3:])
        before = (
            f"; {int(keep.sum())} members match the {len(matched)} observations before it "
            f"(the last: {last}), and none of them gives it"
        )
    return (
        f"no member of the ensemble ({n} episodes, seed {seed}) matches the record on "
        f"{date}: {name} was observed as {shown}, which {anywhere} of {n} members give"
        f"{before}. The observations are incompatible with the priors, or too unlikely "
        "under them for this many episodes (try more with --ensemble)"
    )
