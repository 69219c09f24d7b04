"""Forecast scores: a forecast made on day D, judged later against the observations.

A :class:`Forecast` holds, for each quantity, one sample per ensemble member: yes/no
events ("an extension is agreed on D", "the pause holds on D") and counts ("released
by a party on D", totals, pause days). Today a forecast is made from runs of the
engine's single runs (:meth:`Forecast.from_episodes`, one member per run); the ensemble
engine will hand over its per-episode arrays through :meth:`Forecast.from_samples`.
A forecast is saved with the time it was issued and its scenario's hash, so it can
be scored later, unchanged.

Events get the Brier score (the forecast probability is the share of members in
which the event happens), counts the CRPS of the ensemble (``scoringrules``); for a
single run these reduce to (p - o)^2 with p in {0, 1} and the absolute error. Lower
is better for both. Only what the ledger already covers is scored: days up to the
last observed date, and totals once the end of the pause is observed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import Episode
from ..outputs import strict_json_dumps as dumps
from ..scenario import Scenario, content_hash
from ._compliance import ComplianceReport
from ._model import Entry

FORMAT = "ceasefire-forecast"
VERSION = 1


@dataclass(frozen=True)
class Forecast:
    scenario: str
    scenario_hash: str
    issued_at: str
    source: str
    seeds: list[int]
    events: dict[str, list[bool]]
    counts: dict[str, list[int]]

    @property
    def members(self) -> int:
        return len(self.seeds)

    @classmethod
    def from_samples(
        cls,
        scenario: Scenario,
        *,
        events: Mapping[str, Sequence[bool] | np.ndarray[Any, Any]],
        counts: Mapping[str, Sequence[int] | np.ndarray[Any, Any]],
        seeds: Sequence[int],
        issued_at: str,
        source: str = "ensemble",
    ) -> Forecast:
        """A forecast from per-member arrays (one value per ensemble member)."""
        n = len(seeds)
        out_events = {k: [bool(x) for x in np.asarray(v).tolist()] for k, v in events.items()}
        out_counts = {k: [int(x) for x in np.asarray(v).tolist()] for k, v in counts.items()}
        sizes = [(k, len(v)) for k, v in out_events.items()]
        sizes += [(k, len(v)) for k, v in out_counts.items()]
        for name, size in sizes:
            if size != n:
                raise ValueError(f"{name}: {size} samples for {n} members")
        return cls(
            scenario=scenario.name,
            scenario_hash=content_hash(scenario),
            issued_at=issued_at,
            source=source,
            seeds=list(seeds),
            events=dict(sorted(out_events.items())),
            counts=dict(sorted(out_counts.items())),
        )

    @classmethod
    def from_episodes(
        cls,
        scenario: Scenario,
        episodes: Sequence[Episode],
        *,
        issued_at: str,
    ) -> Forecast:
        """A forecast from engine runs (a single run is an ensemble of one)."""
        if not episodes:
            raise ValueError("a forecast needs at least one episode")
        per = [episode_quantities(scenario, e) for e in episodes]
        event_names = sorted({k for ev, _ in per for k in ev})
        count_names = sorted({k for _, co in per for k in co})
        return cls.from_samples(
            scenario,
            events={k: [ev.get(k, False) for ev, _ in per] for k in event_names},
            counts={k: [co.get(k, 0) for _, co in per] for k in count_names},
            seeds=[e.summary.seed for e in episodes],
            issued_at=issued_at,
            source="reference engine" if len(episodes) == 1 else "reference engine runs",
        )

    def to_json(self) -> str:
        data = {"format": FORMAT, "version": VERSION, **asdict(self)}
        return dumps(data, indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def load(cls, path: str | Path) -> Forecast:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{path} is not a ceasefire forecast (made by `monitor forecast`)")
        if data.get("version") != VERSION:
            raise ValueError(f"{path}: forecast version {data.get('version')!r} is not supported")
        return cls(
            scenario=str(data["scenario"]),
            scenario_hash=str(data["scenario_hash"]),
            issued_at=str(data["issued_at"]),
            source=str(data["source"]),
            seeds=[int(s) for s in data["seeds"]],
            events={str(k): [bool(x) for x in v] for k, v in data["events"].items()},
            counts={str(k): [int(x) for x in v] for k, v in data["counts"].items()},
        )


def _window(scenario: Scenario) -> list[str]:
    agreement = scenario.agreement
    if agreement is None:
        return []
    rule = agreement.extension
    longest = agreement.initial_days
    if rule is not None:
        longest = rule.max_total_days or (scenario.calendar.horizon - agreement.start).days + 1
    last = min(scenario.calendar.horizon, agreement.start + dt.timedelta(days=longest - 1))
    days = (last - agreement.start).days + 1
    return [(agreement.start + dt.timedelta(days=i)).isoformat() for i in range(max(days, 0))]


def episode_quantities(
    scenario: Scenario, episode: Episode
) -> tuple[dict[str, bool], dict[str, int]]:
    """The forecast quantities of one episode: events and counts by name."""
    agreement = scenario.agreement
    if agreement is None:
        return {}, {}
    holder, counter = agreement.batches.releaser, agreement.exchange.releaser
    window = _window(scenario)
    pause = {r.date for r in episode.ledger if r.flow == "pause_day"}
    extended = {t.date for t in episode.transcript if t.kind == "extension"}
    events: dict[str, bool] = {}
    counts: dict[str, int] = {}
    for d in window:
        events[f"extension_agreed:{d}"] = d in extended
        events[f"pause_holds:{d}"] = d in pause
        counts[f"released:{holder}:{d}"] = 0
        counts[f"released:{counter}:{d}"] = 0
    for r in episode.ledger:
        if r.channel == "deal" and r.flow in ("release", "counter_release"):
            key = f"released:{r.from_party}:{r.date}"
            if key in counts:
                counts[key] += r.count
    s = episode.summary
    counts[f"released_total:{holder}"] = sum(s.released.get(holder, {}).values())
    counts[f"released_total:{counter}"] = sum(s.released.get(counter, {}).values())
    counts["pause_days"] = s.pause_days
    counts["extensions"] = len(s.extensions)
    return events, counts


def observed_quantities(
    report: ComplianceReport, observed: Sequence[Entry]
) -> tuple[dict[str, bool], dict[str, int], str | None, bool]:
    """What the ledger shows for the forecast quantities, as far as it covers.

    Returns events, counts, the last date the record covers and whether the end of the
    pause is observed (only then are totals final)."""
    obs = [e.observation for e in observed if e.observation is not None]
    if not obs:
        return {}, {}, None, False
    covered = max(o.date for o in obs).isoformat()
    ended = any(o.kind == "pause_end" for o in obs)
    holder, counter = report.holder, report.counter_party
    events: dict[str, bool] = {}
    counts: dict[str, int] = {}
    extended = {d for d, n in report.totals.extensions_observed if n > 0}
    starts = [o for o in obs if o.kind == "pause_start"]
    pause: set[str] | None = None
    if starts:
        begin = min(o.date for o in starts)
        length = report.totals.pause_days_observed or 0
        pause = {(begin + dt.timedelta(days=i)).isoformat() for i in range(length)}
    by_day = {d.date: d for d in report.days}
    begin_dates = sorted([*by_day, *extended, *(pause or set())])
    if starts:
        first = min(o.date for o in starts).isoformat()
    elif begin_dates:
        first = begin_dates[0]
    else:
        first = covered
    for d in _dates_between(first, covered):
        events[f"extension_agreed:{d}"] = d in extended
        if pause is not None and (ended or d < covered):
            events[f"pause_holds:{d}"] = d in pause
        day = by_day.get(d)
        counts[f"released:{holder}:{d}"] = day.counted if day else 0
        counts[f"released:{counter}:{d}"] = day.counter_done if day else 0
    if ended:
        counts[f"released_total:{holder}"] = report.totals.counted
        counts[f"released_total:{counter}"] = report.totals.counter_done
        if report.totals.pause_days_observed is not None:
            counts["pause_days"] = report.totals.pause_days_observed
        counts["extensions"] = len(report.totals.extensions_observed)
    return events, counts, covered, ended


def _dates_between(first: str, last: str) -> list[str]:
    a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [(a + dt.timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


@dataclass(frozen=True)
class ScoreRow:
    quantity: str
    kind: str
    forecast: str
    observed: str
    score: float


@dataclass(frozen=True)
class Scores:
    scenario: str
    forecast_issued_at: str
    members: int
    covered_until: str | None
    final: bool
    rows: list[ScoreRow]
    brier_mean: float | None
    crps_mean: float | None
    not_scored: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_forecast(
    forecast: Forecast, report: ComplianceReport, observed: Sequence[Entry]
) -> Scores:
    """Brier scores for events and CRPS for counts, over what the ledger covers."""
    import scoringrules as sr  # imported here: it takes a while, and only scoring needs it

    events, counts, covered, final = observed_quantities(report, observed)
    rows: list[ScoreRow] = []
    briers: list[float] = []
    crpss: list[float] = []
    not_scored: list[str] = []
    for name, samples in forecast.events.items():
        if name not in events:
            not_scored.append(name)
            continue
        p = float(np.mean(np.asarray(samples, dtype=float)))
        o = events[name]
        score = float(sr.brier_score(np.asarray([float(o)]), np.asarray([p]))[0])
        briers.append(score)
        rows.append(ScoreRow(name, "event", f"p={p:.2f}", "yes" if o else "no", round(score, 4)))
    for name, values in forecast.counts.items():
        if name not in counts:
            not_scored.append(name)
            continue
        arr = np.asarray(values, dtype=float)
        y = float(counts[name])
        score = float(np.asarray(sr.crps_ensemble(np.asarray([y]), arr[None, :])).ravel()[0])
        crpss.append(score)
        shown = (
            f"{arr[0]:g}"
            if arr.size == 1
            else f"mean {arr.mean():.1f} [{arr.min():g}-{arr.max():g}]"
        )
        rows.append(ScoreRow(name, "count", shown, f"{y:g}", round(score, 4)))
    return Scores(
        scenario=forecast.scenario,
        forecast_issued_at=forecast.issued_at,
        members=forecast.members,
        covered_until=covered,
        final=final,
        rows=rows,
        brier_mean=round(float(np.mean(briers)), 4) if briers else None,
        crps_mean=round(float(np.mean(crpss)), 4) if crpss else None,
        not_scored=not_scored,
    )
