"""Runs for the pages: the single run and a small ensemble of a design, and the day-by-day
view of a single run's transcript.

The ensemble kernel is compiled once after an install (about 20 to 30 minutes on a 2-core
machine), then loaded from the disk cache. The app never waits for that compilation
inside a request: the first request that needs an ensemble starts it in a background
thread and says so; the page asks again every few seconds until it is done. Ensembles
run one at a time (the compiled kernel runs its episodes in parallel already).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ceasefire.engine import Episode, TranscriptEntry, run
from ceasefire.ensemble import EnsembleSummary, is_compiled, run_ensemble
from ceasefire.outputs import base_spec, legend_toggle
from ceasefire.scenario import Scenario, content_hash

MAX_EPISODES = 20_000
CACHED = 16


class Ensembles:
    """Runs ensembles one at a time; compiles the kernel in the background first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._compiling: threading.Thread | None = None
        self.compile_error: str | None = None
        self._cache: OrderedDict[tuple[str, int, int], dict[str, Any]] = OrderedDict()

    def compiling(self, scenario: Scenario) -> bool:
        """Whether the kernel is being compiled (starting that if it is not cached)."""
        if self._compiling is not None and self._compiling.is_alive():
            return True
        if is_compiled():
            return False
        self._compiling = threading.Thread(
            target=self._compile, args=(scenario,), name="ceasefire-compile", daemon=True
        )
        self._compiling.start()
        return True

    def _compile(self, scenario: Scenario) -> None:
        try:
            with self._lock:
                run_ensemble(scenario, 1, 0)
        except Exception as exc:  # reported on the page, not raised in a thread
            self.compile_error = f"{type(exc).__name__}: {exc}"

    def summary(self, scenario: Scenario, n: int, seed: int) -> dict[str, Any]:
        """The ensemble's summary; the last few are kept (the file's design is asked for
        with every edit), by the scenario's content hash, N and seed."""
        key = (content_hash(scenario), n, seed)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            result = run_ensemble(scenario, n, seed)
            summary = EnsembleSummary(scenario, seed)
            summary.add(result)
            self._cache[key] = summary.to_dict()
            while len(self._cache) > CACHED:
                self._cache.popitem(last=False)
            return self._cache[key]


@dataclass
class Bar:
    value: str
    count: int
    x: float
    width: float
    height: float
    y: float


@dataclass
class Histogram:
    """A histogram as SVG geometry (the template draws it; attributes only, no styles)."""

    title: str
    bars: list[Bar] = field(default_factory=list)
    width: int = 320
    height: int = 90


def histograms(
    titled: dict[str, dict[str, int]], width: int = 320, height: int = 90
) -> list[Histogram]:
    """Bars for whole-number values, on one axis for all (the gaps between observed
    values included, up to 60 values), each scaled to its own tallest bar."""
    values = sorted({int(v) for counts in titled.values() for v in counts})
    if not values:
        return [Histogram(title, width=width, height=height) for title in titled]
    lo, hi = values[0], values[-1]
    span = list(range(lo, hi + 1)) if hi - lo <= 60 else values
    return [_histogram(title, counts, span, width, height) for title, counts in titled.items()]


def _histogram(
    title: str, counts: dict[str, int], span: list[int], width: int, height: int
) -> Histogram:
    out = Histogram(title, width=width, height=height)
    top = max(counts.values(), default=0)
    step = width / len(span)
    for i, v in enumerate(span):
        count = counts.get(str(v), 0)
        h = (height - 14) * count / top if top else 0.0
        out.bars.append(Bar(str(v), count, i * step + 1, max(step - 2, 1), h, height - 14 - h))
    return out


# The two designs side by side: the reference is grey, the design being edited blue.
DESIGN_COLOURS = ("#8c8c8c", "#0072b2")


def pause_days_spec(titled: dict[str, dict[str, int]]) -> str:
    """The pause-days histograms of the designs as one Vega-Lite chart, bars side by side
    per value (hover: the episodes and their share; a click on a legend entry shows only
    that design), as JSON text for the page's ``data-spec``."""
    rows = []
    for design, counts in titled.items():
        total = sum(counts.values()) or 1
        for value, count in sorted(counts.items(), key=lambda kv: int(kv[0])):
            rows.append(
                {
                    "design": design,
                    "value": int(value),
                    "episodes": int(count),
                    "share": round(int(count) / total, 6),
                }
            )
    designs = list(titled)
    spec = base_spec("Pause days, episodes per value", rows)
    spec["height"] = 160
    spec["params"] = [legend_toggle("design")]
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"] = {
        "x": {
            "field": "value",
            "type": "ordinal",
            "title": "pause days",
            "axis": {"labelAngle": 0},
        },
        "xOffset": {"field": "design", "type": "nominal", "sort": designs},
        "y": {"field": "episodes", "type": "quantitative", "title": "episodes"},
        "color": {
            "field": "design",
            "type": "nominal",
            "title": None,
            "scale": {"domain": designs, "range": list(DESIGN_COLOURS[: len(designs)])},
        },
        "opacity": {"condition": {"param": "pick", "value": 1}, "value": 0.15},
        "tooltip": [
            {"field": "design", "title": "design"},
            {"field": "value", "title": "pause days"},
            {"field": "episodes", "type": "quantitative", "title": "episodes"},
            {"field": "share", "type": "quantitative", "title": "share", "format": ".1%"},
        ],
    }
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class Day:
    number: int
    date: date
    entries: list[TranscriptEntry]


def days(scenario: Scenario, episode: Episode) -> list[Day]:
    """Every calendar day of the run (run day 1 is the calendar's first day), each with
    its transcript entries."""
    start, horizon = scenario.calendar.start, scenario.calendar.horizon
    total = (horizon - start).days + 1
    by_day: dict[int, list[TranscriptEntry]] = {}
    for entry in episode.transcript:
        by_day.setdefault(entry.day, []).append(entry)
    last = max([total, *by_day])
    return [Day(d, start + timedelta(days=d - 1), by_day.get(d, [])) for d in range(1, last + 1)]


def single_run(scenario: Scenario, seed: int) -> Episode:
    return run(scenario, seed=seed)
