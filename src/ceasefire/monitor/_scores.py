"""Forecasts and their scores: a forecast made on day D, judged later against the record.

A :class:`Forecast` holds its predictive distribution: for each yes/no event ("the
pause holds on D", "at least 2 extensions", "a breach", "an agreement by D") the
number of members in which it happens (its probability is that share), and for each
count ("released by a party", totals, pause days) one sample per member. It is made
from an ensemble over the scenario's priors (:func:`ensemble_forecast` in
``_forecasts.py``, the default of ``monitor forecast``), from single runs of the
point values (:meth:`Forecast.from_episodes`), or from per-member arrays
(:meth:`Forecast.from_samples`). It is saved with its inputs (scenario hash, seed, n,
the ledger snapshot it was issued against), so it can be made again and scored later,
unchanged.

Scores (lower is better for all but coverage): events get the Brier score and the log
score of the forecast probability; counts the CRPS of the members (``scoringrules``'
ensemble estimator), whether the observation falls in the central 50% and 90%
intervals, and its PIT value. Only what the ledger already covers is scored: days up
to the last observed date, and totals once the end of the pause is observed. See
docs/forecasting.md.
"""

from __future__ import annotations

import datetime as dt
import json
import math
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
VERSION = 2
INTERVALS = (50, 90)
PIT_BINS = 10


@dataclass(frozen=True)
class Forecast:
    """A predictive distribution over the forecast quantities, with its inputs.

    ``events[name]`` is the number of members in which the event happens (of
    ``members``); ``counts[name]`` one sample per member. ``method`` is ``ensemble``
    (``seed`` and ``members`` give the ensemble back: draws 0..n-1 of the priors) or
    ``runs`` (single runs of the point values, one per entry of ``seeds``) or
    ``nowcast`` (the members of an ensemble that match the record on a date; see
    ``_nowcast.py``: ``conditioned`` says on what). ``ledger`` is the snapshot the
    forecast was issued against (``seq``, ``chain_hash``, ``as_of``), or None.
    """

    scenario: str
    scenario_hash: str
    issued_at: str
    source: str
    method: str
    members: int
    seed: int | None
    seeds: list[int]
    ledger: dict[str, Any] | None
    events: dict[str, int]
    counts: dict[str, list[int]]
    conditioned: dict[str, Any] | None = None

    def probability(self, event: str) -> float:
        return self.events[event] / self.members

    def with_ledger(self, ledger: dict[str, Any] | None) -> Forecast:
        return Forecast(**{**asdict(self), "ledger": ledger})

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
        method: str = "runs",
        seed: int | None = None,
        members: int | None = None,
    ) -> Forecast:
        """A forecast from per-member arrays (one value per member; ``members``
        defaults to the number of seeds)."""
        n = len(seeds) if members is None else members
        if n < 1:
            raise ValueError("a forecast needs at least one member")
        for name, values in [*events.items(), *counts.items()]:
            size = int(np.asarray(values).size)
            if size != n:
                raise ValueError(f"{name}: {size} samples for {n} members")
        return cls(
            scenario=scenario.name,
            scenario_hash=content_hash(scenario),
            issued_at=issued_at,
            source=source,
            method=method,
            members=n,
            seed=seed,
            seeds=[int(s) for s in seeds],
            ledger=None,
            events={k: int(np.count_nonzero(np.asarray(v))) for k, v in sorted(events.items())},
            counts={k: [int(x) for x in np.asarray(v).tolist()] for k, v in sorted(counts.items())},
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
        """The forecast as JSON: its inputs, each event's probability (and the members
        in which it happens), each count's samples. Same forecast, same bytes. Strict
        JSON (``dumps``: no NaN or infinity)."""
        data: dict[str, Any] = {"format": FORMAT, "version": VERSION, **asdict(self)}
        data["events"] = {
            k: {"probability": self.probability(k), "members_yes": v}
            for k, v in self.events.items()
        }
        return dumps(data, indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str = "the forecast") -> Forecast:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{where} is not a ceasefire forecast (made by `monitor forecast`)")
        version = data.get("version")
        if version == 1:  # the first format: one yes/no per member, single runs only
            seeds = [int(s) for s in data["seeds"]]
            return cls(
                scenario=str(data["scenario"]),
                scenario_hash=str(data["scenario_hash"]),
                issued_at=str(data["issued_at"]),
                source=str(data["source"]),
                method="runs",
                members=len(seeds),
                seed=None,
                seeds=seeds,
                ledger=None,
                events={str(k): sum(bool(x) for x in v) for k, v in data["events"].items()},
                counts={str(k): [int(x) for x in v] for k, v in data["counts"].items()},
            )
        if version != VERSION:
            raise ValueError(f"{where}: forecast version {version!r} is not supported")
        members = int(data["members"])
        counts = {str(k): [int(x) for x in v] for k, v in data["counts"].items()}
        events = {str(k): int(v["members_yes"]) for k, v in data["events"].items()}
        bad = [k for k, v in counts.items() if len(v) != members]
        bad += [k for k, v in events.items() if not 0 <= v <= members]
        if members < 1 or bad:
            raise ValueError(f"{where}: samples do not match its {members} members ({bad[:3]})")
        ledger = data.get("ledger")
        conditioned = data.get("conditioned")
        return cls(
            scenario=str(data["scenario"]),
            scenario_hash=str(data["scenario_hash"]),
            issued_at=str(data["issued_at"]),
            source=str(data["source"]),
            method=str(data["method"]),
            members=members,
            seed=None if data.get("seed") is None else int(data["seed"]),
            seeds=[int(s) for s in data["seeds"]],
            ledger=dict(ledger) if isinstance(ledger, dict) else None,
            events=events,
            counts=counts,
            conditioned=dict(conditioned) if isinstance(conditioned, dict) else None,
        )

    @classmethod
    def load(cls, path: str | Path) -> Forecast:
        return cls.from_json(Path(path).read_text(encoding="utf-8"), str(path))


def window_dates(scenario: Scenario) -> list[str]:
    """The dates the agreement's pause could cover (start to its longest end)."""
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


def calendar_dates(scenario: Scenario) -> list[str]:
    """Every date of the scenario's calendar (for ``agreement_by:DATE``)."""
    return _dates_between(
        scenario.calendar.start.isoformat(), scenario.calendar.horizon.isoformat()
    )


def extension_steps(scenario: Scenario) -> int:
    """The most extensions the agreement allows (for ``extensions_at_least:K``)."""
    agreement = scenario.agreement
    if agreement is None or agreement.extension is None:
        return 0
    room = len(window_dates(scenario)) - agreement.initial_days
    return max(0, room // max(1, agreement.extension.step_days))


def episode_quantities(
    scenario: Scenario, episode: Episode
) -> tuple[dict[str, bool], dict[str, int]]:
    """The forecast quantities of one episode: events and counts by name."""
    agreement = scenario.agreement
    if agreement is None:
        return {}, {}
    holder, counter = agreement.batches.releaser, agreement.exchange.releaser
    window = window_dates(scenario)
    pause = {r.date for r in episode.ledger if r.flow == "pause_day"}
    extended = {t.date for t in episode.transcript if t.kind == "extension"}
    s = episode.summary
    events: dict[str, bool] = {}
    counts: dict[str, int] = {}
    for d in window:
        events[f"extension_agreed:{d}"] = d in extended
        events[f"pause_holds:{d}"] = d in pause
        counts[f"released:{holder}:{d}"] = 0
        counts[f"released:{counter}:{d}"] = 0
    for k in range(1, extension_steps(scenario) + 1):
        events[f"extensions_at_least:{k}"] = len(s.extensions) >= k
    events["breach"] = bool(s.breaches)
    for d in calendar_dates(scenario):
        events[f"agreement_by:{d}"] = s.agreement_date is not None and s.agreement_date <= d
    for r in episode.ledger:
        if r.channel == "deal" and r.flow in ("release", "counter_release"):
            key = f"released:{r.from_party}:{r.date}"
            if key in counts:
                counts[key] += r.count
    counts[f"released_total:{holder}"] = sum(s.released.get(holder, {}).values())
    counts[f"released_total:{counter}"] = sum(s.released.get(counter, {}).values())
    counts["pause_days"] = s.pause_days
    counts["extensions"] = len(s.extensions)
    return events, counts


def observed_quantities(
    report: ComplianceReport, observed: Sequence[Entry], wanted: Sequence[str] = ()
) -> tuple[dict[str, bool], dict[str, int], str | None, bool]:
    """What the ledger shows for the forecast quantities, as far as it covers.

    Returns events, counts, the last date the record covers and whether the end of the
    pause is observed (only then are totals final). An event that has happened is
    known at once ("at least 1 extension", "a breach", "agreement by D"); that it did
    not happen only once the record covers it (its date, or the end of the pause).
    ``wanted``: event names to settle beyond the record's last date where it can
    (``agreement_by:D`` once the agreement is recorded)."""
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
    _observed_events(report, obs, covered, ended, events, wanted)
    if ended:
        counts[f"released_total:{holder}"] = report.totals.counted
        counts[f"released_total:{counter}"] = report.totals.counter_done
        if report.totals.pause_days_observed is not None:
            counts["pause_days"] = report.totals.pause_days_observed
        counts["extensions"] = len(report.totals.extensions_observed)
    return events, counts, covered, ended


def _observed_events(
    report: ComplianceReport,
    obs: Sequence[Any],
    covered: str,
    ended: bool,
    events: dict[str, bool],
    wanted: Sequence[str],
) -> None:
    """The events known from the record: extensions, a breach, the agreement's date."""
    made = len(report.totals.extensions_observed)
    for name in wanted:
        kind, _, arg = name.partition(":")
        if kind == "extensions_at_least" and (made >= int(arg) or ended):
            events[name] = made >= int(arg)
        elif kind in ("pause_holds", "extension_agreed") and ended and arg > covered:
            events[name] = False  # the pause's end is observed: nothing after it
    short = any(
        d.pause_day is not None
        and d.date <= covered
        and (d.status.startswith("short") or d.counter_status.startswith("short"))
        for d in report.days
    )
    if short or ended:
        events["breach"] = short
    terms = [o.date.isoformat() for o in obs if o.kind in ("terms", "pause_start")]
    agreed = min(terms) if terms else None
    first = min(o.date for o in obs).isoformat()
    for d in _dates_between(first, covered):
        events[f"agreement_by:{d}"] = agreed is not None and agreed <= d
    if agreed is not None:
        # Known from then on, whatever the record covers: the agreement was made.
        for name in wanted:
            if name.startswith("agreement_by:") and name.split(":", 1)[1] >= agreed:
                events[name] = True


def _dates_between(first: str, last: str) -> list[str]:
    a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [(a + dt.timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


@dataclass(frozen=True)
class ScoreRow:
    """One quantity scored. ``score`` is the Brier score (events) or the CRPS (counts);
    ``log_score`` (events) is inf when the forecast gave the outcome probability 0;
    ``pit`` and ``in_50`` / ``in_90`` (counts) place the observation in the members."""

    quantity: str
    kind: str
    forecast: str
    observed: str
    score: float
    log_score: float | None = None
    pit: float | None = None
    in_50: bool | None = None
    in_90: bool | None = None


@dataclass(frozen=True)
class Scores:
    scenario: str
    forecast_issued_at: str
    members: int
    method: str
    covered_until: str | None
    final: bool
    rows: list[ScoreRow]
    brier_mean: float | None
    log_mean: float | None
    crps_mean: float | None
    coverage: dict[str, float | None]
    pit_histogram: list[int]
    not_scored: list[str]

    def to_dict(self) -> dict[str, Any]:
        """As JSON-ready data; an infinite log score is written as the string "inf"."""
        out: dict[str, Any] = _finite(asdict(self))
        return out


def _finite(data: Any) -> Any:
    if isinstance(data, float) and not math.isfinite(data):
        return "inf" if data > 0 else "-inf"
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_finite(v) for v in data]
    return data


def central_interval(samples: np.ndarray[Any, Any], level: int) -> tuple[float, float]:
    """The central ``level``% interval of the members: the (1 - level/100)/2 and
    (1 + level/100)/2 quantiles of their empirical distribution (it holds at least
    ``level``% of the members)."""
    lo, hi = (100 - level) / 200, (100 + level) / 200
    return (
        float(np.quantile(samples, lo, method="inverted_cdf")),
        float(np.quantile(samples, hi, method="inverted_cdf")),
    )


def pit_value(samples: np.ndarray[Any, Any], y: float) -> float:
    """The mid-distribution PIT of ``y``: P(X < y) + P(X = y) / 2 over the members.
    A calibrated forecast gives values spread evenly over 0..1 across many quantities."""
    return float(np.mean(samples < y) + 0.5 * np.mean(samples == y))


def score_forecast(
    forecast: Forecast, report: ComplianceReport, observed: Sequence[Entry]
) -> Scores:
    """Brier and log scores for events, CRPS, interval coverage and PIT for counts,
    over what the ledger covers."""
    import scoringrules as sr  # imported here: it takes a while, and only scoring needs it

    events, counts, covered, final = observed_quantities(report, observed, list(forecast.events))
    rows: list[ScoreRow] = []
    not_scored: list[str] = []
    for name in forecast.events:
        if name not in events:
            not_scored.append(name)
            continue
        p = forecast.probability(name)
        o = np.asarray([float(events[name])])
        brier = float(sr.brier_score(o, np.asarray([p]))[0])
        with np.errstate(divide="ignore"):
            log = float(sr.log_score(o, np.asarray([p]))[0]) + 0.0  # no -0.0
        shown = f"p={p:.3f}"
        rows.append(ScoreRow(name, "event", shown, "yes" if o[0] else "no", brier, log_score=log))
    for name, values in forecast.counts.items():
        if name not in counts:
            not_scored.append(name)
            continue
        arr = np.asarray(values, dtype=float)
        y = float(counts[name])
        crps = float(np.asarray(sr.crps_ensemble(np.asarray([y]), arr[None, :])).ravel()[0])
        inside = {}
        for level in INTERVALS:
            lo, hi = central_interval(arr, level)
            inside[level] = lo <= y <= hi
        lo90, hi90 = central_interval(arr, 90)
        shown = (
            f"{arr[0]:g}"
            if arr.size == 1
            else f"median {np.median(arr):g} [90%: {lo90:g}-{hi90:g}]"
        )
        rows.append(
            ScoreRow(
                name,
                "count",
                shown,
                f"{y:g}",
                crps,
                pit=pit_value(arr, y),
                in_50=inside[50],
                in_90=inside[90],
            )
        )
    event_rows = [r for r in rows if r.kind == "event"]
    count_rows = [r for r in rows if r.kind == "count"]
    pits = [r.pit for r in count_rows if r.pit is not None]
    histogram: list[int] = []
    if pits:
        histogram = [int(c) for c in np.histogram(pits, bins=PIT_BINS, range=(0.0, 1.0))[0]]
    return Scores(
        scenario=forecast.scenario,
        forecast_issued_at=forecast.issued_at,
        members=forecast.members,
        method=forecast.method,
        covered_until=covered,
        final=final,
        rows=rows,
        brier_mean=_mean([r.score for r in event_rows]),
        log_mean=_mean([r.log_score for r in event_rows if r.log_score is not None]),
        crps_mean=_mean([r.score for r in count_rows]),
        coverage={
            str(level): _mean([float(bool(getattr(r, f"in_{level}"))) for r in count_rows])
            for level in INTERVALS
        },
        pit_histogram=histogram,
        not_scored=not_scored,
    )


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if values else None
