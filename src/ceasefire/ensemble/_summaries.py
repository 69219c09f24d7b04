"""Distributions of an ensemble, accumulated batch by batch.

:class:`EnsembleSummary` takes the batches of :func:`iter_ensemble` one at a time and
keeps only counts, so its memory does not grow with the number of episodes:

- whole-number quantities (pause days, extensions, delays, releases per party and per
  party and category, side-channel releases) as per-value counts, from which quantiles
  are exact: the same numbers as ``numpy.quantile`` (its default, linear method) on the
  whole ensemble, including the interpolation's rounding;
- agreements per day (the probability of an agreement by each date), end reasons,
  breaches and who ended the episode, as counts.

Everything in :meth:`EnsembleSummary.to_dict` is computed from integer counts, so the
summary does not depend on how the episodes were batched. Probabilities come with a
95% Wilson score interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._version import __version__
from ..scenario import Scenario, content_hash
from ._results import END_CODES, EnsembleResult

QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
QUANTILE_KEYS: tuple[str, ...] = ("q05", "q25", "q50", "q75", "q95")
Z95 = 1.959963984540054  # the standard normal's 97.5% point

I64 = NDArray[np.int64]


def wilson(count: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``count / n`` (95% by default)."""
    if n <= 0:
        return (0.0, 1.0)
    p = count / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == n else min(1.0, centre + half)
    return (low, high)


def proportion(count: int, n: int) -> dict[str, Any]:
    """``{"count", "p", "low", "high"}``: a probability and its 95% Wilson interval."""
    low, high = wilson(count, n)
    return {"count": count, "p": count / n if n else 0.0, "low": low, "high": high}


def _lerp(a: float, b: float, t: float) -> float:
    """NumPy's interpolation between neighbouring order statistics (``_lerp``)."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


@dataclass
class Counts:
    """Per-value counts of a whole-number quantity (values >= 0)."""

    counts: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def add(self, values: NDArray[np.integer[Any]]) -> None:
        if values.size == 0:
            return
        if int(values.min()) < 0:
            raise ValueError("counts take whole numbers >= 0")
        found = np.bincount(values.astype(np.int64, copy=False))
        if found.size > self.counts.size:
            grown = np.zeros(found.size, dtype=np.int64)
            grown[: self.counts.size] = self.counts
            self.counts = grown
        self.counts[: found.size] += found

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def _order_statistic(self, cumulative: I64, k: int) -> float:
        """The ``k``-th smallest value (0-based)."""
        return float(np.searchsorted(cumulative, k, side="right"))

    def quantile(self, q: float) -> float:
        """``numpy.quantile(values, q)`` (linear method), from the counts alone."""
        n = self.n
        if n == 0:
            return math.nan
        cumulative = np.cumsum(self.counts)
        virtual = (n - 1) * q
        if virtual >= n - 1:
            return self._order_statistic(cumulative, n - 1)
        previous = math.floor(virtual)
        gamma = virtual - previous
        a = self._order_statistic(cumulative, previous)
        b = self._order_statistic(cumulative, previous + 1)
        return _lerp(a, b, gamma)

    def total(self) -> int:
        return int(np.dot(np.arange(self.counts.size, dtype=np.int64), self.counts))

    def mean(self) -> float:
        n = self.n
        return self.total() / n if n else math.nan

    def to_dict(self) -> dict[str, Any]:
        nonzero = np.flatnonzero(self.counts)
        out: dict[str, Any] = {"mean": self.mean()}
        out.update({k: self.quantile(q) for k, q in zip(QUANTILE_KEYS, QUANTILES, strict=True)})
        out["min"] = int(nonzero[0]) if nonzero.size else None
        out["max"] = int(nonzero[-1]) if nonzero.size else None
        out["histogram"] = {str(int(v)): int(self.counts[v]) for v in nonzero}
        return out


def agreement_day(result: EnsembleResult, scenario: Scenario) -> NDArray[np.int64]:
    """Each episode's day of agreement (see ``EnsembleResult.agreement_days``)."""
    return result.agreement_days()


def party_totals(result: EnsembleResult) -> dict[str, NDArray[np.int64]]:
    """Releases under the deal per party (summed over its categories), per episode."""
    out: dict[str, NDArray[np.int64]] = {}
    for party in result.parties:
        cols = [j for j, (p, _c) in enumerate(result.release_columns) if p == party]
        if cols:
            out[party] = result.released[:, cols].sum(axis=1, dtype=np.int64)
        else:
            out[party] = np.zeros(len(result), dtype=np.int64)
    return out


def extension_counts(result: EnsembleResult) -> NDArray[np.int64]:
    counted: NDArray[np.int64] = (result.extensions >= 0).sum(axis=1, dtype=np.int64)
    return counted


class EnsembleSummary:
    """The distributions of an ensemble, fed one batch at a time (:meth:`add`)."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self.n = 0
        self.start = scenario.calendar.start
        self.n_days = (scenario.calendar.horizon - scenario.calendar.start).days + 1
        self.parties = tuple(p.id for p in scenario.parties)
        self.pause_days = Counts()
        self.fighting_days = Counts()
        self.extensions = Counts()
        self.delays = Counts()
        self.side_channel = Counts()
        self.released: dict[str, Counts] = {}
        self.released_by: dict[tuple[str, str], Counts] = {}
        self.release_columns: tuple[tuple[str, str], ...] = ()
        self.agreed_by_day = np.zeros(self.n_days, dtype=np.int64)
        self.end_reasons = np.zeros(len(END_CODES), dtype=np.int64)
        self.ended_by = np.zeros(len(self.parties) + 1, dtype=np.int64)  # last: none
        self.breach = 0
        self.talk_rounds = Counts()  # ensembles with talks only

    def add(self, batch: EnsembleResult) -> None:
        """Count one batch of episodes in."""
        if not self.release_columns:
            self.release_columns = batch.release_columns
            for party in self.parties:
                self.released[party] = Counts()
            for column in batch.release_columns:
                self.released_by[column] = Counts()
        self.n += len(batch)
        self.pause_days.add(batch.pause_days)
        self.fighting_days.add(batch.fighting_days)
        self.extensions.add(extension_counts(batch))
        self.delays.add(batch.delays)
        self.side_channel.add(batch.side_channel_released)
        for party, totals in party_totals(batch).items():
            self.released.setdefault(party, Counts()).add(totals)
        for j, column in enumerate(batch.release_columns):
            self.released_by.setdefault(column, Counts()).add(batch.released[:, j])
        days = agreement_day(batch, self.scenario)
        agreed = days[days >= 0]
        self.agreed_by_day += np.bincount(
            np.minimum(agreed, self.n_days - 1), minlength=self.n_days
        )[: self.n_days]
        self.end_reasons += np.bincount(batch.end_reason.astype(np.int64), minlength=len(END_CODES))
        by = batch.ended_by.astype(np.int64)
        self.ended_by += np.bincount(
            np.where(by < 0, len(self.parties), by), minlength=len(self.parties) + 1
        )
        self.breach += int(batch.breach.sum())
        rounds = getattr(batch, "talk_rounds", None)
        if isinstance(rounds, np.ndarray):
            self.talk_rounds.add(rounds)

    def to_dict(self) -> dict[str, Any]:
        """The summary (``summary.json``): provenance, then the distributions."""
        n = self.n
        cumulative = np.cumsum(self.agreed_by_day)
        by_date = []
        for day in range(self.n_days):
            p = proportion(int(cumulative[day]), n)
            by_date.append({"date": (self.start + timedelta(days=day)).isoformat(), **p})
        released: dict[str, Any] = {}
        for party in self.parties:
            released[party] = {
                "total": self.released.get(party, Counts()).to_dict(),
                "by_category": {
                    c: counts.to_dict() for (p, c), counts in self.released_by.items() if p == party
                },
            }
        end_reasons = {
            reason: proportion(int(count), n)
            for reason, count in zip(END_CODES, self.end_reasons, strict=True)
            if count > 0
        }
        ended_by = {
            (self.parties[i] if i < len(self.parties) else "none"): proportion(int(c), n)
            for i, c in enumerate(self.ended_by)
            if c > 0
        }
        talks = {"talk_rounds": self.talk_rounds.to_dict()} if self.talk_rounds.n else {}
        return {
            "scenario": self.scenario.name,
            "scenario_hash": content_hash(self.scenario),
            "seed": self.seed,
            "n": n,
            "package_version": __version__,
            "mode": "negotiation" if self.scenario.negotiation is not None else "execution",
            "calendar": {
                "start": self.start.isoformat(),
                "horizon": self.scenario.calendar.horizon.isoformat(),
            },
            "priors": [prior_name(p.key()) for p in self.scenario.priors],
            "quantiles": list(QUANTILES),
            "interval": "95% Wilson score interval for probabilities",
            "pause_days": self.pause_days.to_dict(),
            "fighting_days": self.fighting_days.to_dict(),
            "extensions": self.extensions.to_dict(),
            "delays": self.delays.to_dict(),
            "released": released,
            "side_channel_released": self.side_channel.to_dict(),
            "agreement": proportion(int(cumulative[-1]) if n else 0, n),
            "agreement_by_date": by_date,
            "breach": proportion(self.breach, n),
            "end_reasons": end_reasons,
            "ended_by": ended_by,
            **talks,
        }


def prior_name(key: tuple[str | None, ...]) -> str:
    """A prior's name from its target key, e.g. ``holding_hamas_women_children_hamas``."""
    return "_".join(part for part in key if part)
