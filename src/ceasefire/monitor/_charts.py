"""Vega-Lite specs of the monitoring reports (compliance and backtest), built on the
reports' shared chart helpers (:mod:`ceasefire.outputs`): the same look, the same colour
per party, the same start-up script, the static SVG as the fallback where scripts are off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..outputs import base_spec, legend_toggle

# What is due (owed) is grey in every chart; what is done takes the party's colour.
DUE_COLOUR = "#bdbdbd"


def due_done(
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str,
    series: Mapping[str, str],
    pairs: Sequence[str],
    y_label: str = "people",
) -> dict[str, Any]:
    """Per date, a pair of stacked bars side by side (``pairs``, e.g. due and done), each
    stacked by series (``series``: label -> colour, legend order); a click on a legend
    entry shows only that series, a double-click all again; hover for the values.

    ``rows``: ``{"date", "day", "pair", "series", "count"}``."""
    spec = base_spec(title, rows)
    dates = list(dict.fromkeys(str(r["date"]) for r in rows))
    # The scale ends a step above the tallest stack, so that a bar never runs into the
    # top of the frame (where it looks cut off).
    totals: dict[tuple[str, str], float] = {}
    for r in rows:
        key = (str(r["date"]), str(r["pair"]))
        totals[key] = totals.get(key, 0.0) + float(r["count"])
    spec["height"] = 220
    spec["params"] = [legend_toggle("series")]
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"] = {
        "x": {
            "field": "date",
            "type": "ordinal",
            "sort": dates,
            "title": "date",
            "axis": {"labelAngle": -45},
        },
        "xOffset": {"field": "pair", "type": "nominal", "sort": list(pairs)},
        "y": {
            "aggregate": "sum",
            "field": "count",
            "type": "quantitative",
            "title": y_label,
            "axis": {"tickMinStep": 1, "format": "d"},
            "scale": {"domainMin": 0, "domainMax": _headroom(max(totals.values(), default=1.0))},
        },
        "color": {
            "field": "series",
            "type": "nominal",
            "title": None,
            "sort": list(series),
            "scale": {"domain": list(series), "range": list(series.values())},
            "legend": {"columns": 1},  # long labels: one a line, also on a narrow screen
        },
        "order": {"field": "order", "type": "quantitative"},
        "opacity": {"condition": {"param": "pick", "value": 1}, "value": 0.15},
        "tooltip": [
            {"field": "date", "title": "date"},
            {"field": "day", "title": "day"},
            {"field": "series", "title": "bar"},
            {"field": "count", "type": "quantitative", "title": y_label},
        ],
    }
    return spec


def bars(
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    colour: str,
) -> dict[str, Any]:
    """One bar per slot, in the given order (``rows``: ``{"slot", "count"}``)."""
    spec = base_spec(title, rows)
    spec["height"] = 200
    spec["mark"] = {"type": "bar", "color": colour, "tooltip": True}
    spec["encoding"] = {
        "x": {
            "field": "slot",
            "type": "ordinal",
            "sort": [str(r["slot"]) for r in rows],
            "title": x_label,
        },
        "y": {"field": "count", "type": "quantitative", "title": y_label},
        "tooltip": [
            {"field": "slot", "title": x_label},
            {"field": "count", "type": "quantitative", "title": y_label},
        ],
    }
    return spec


def fan(
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str,
    realised: float | None,
    colour: str = "#0072b2",
) -> dict[str, Any]:
    """A fan chart: per date the central 90% and 50% of the members (bands) and the
    median (line), with the realised value as a dashed rule; hover over a date's point
    for its values.

    ``rows``: ``{"date", "q05", "q25", "q50", "q75", "q95", "kept"}``."""
    spec = base_spec(title, rows)
    dates = [str(r["date"]) for r in rows]
    x: dict[str, Any] = {"field": "date", "type": "ordinal", "sort": dates, "title": "date"}
    x["axis"] = {"labelAngle": -45}
    tips = [
        {"field": "date", "title": "date"},
        {"field": "q50", "type": "quantitative", "title": "median"},
        {"field": "q25", "type": "quantitative", "title": "25%"},
        {"field": "q75", "type": "quantitative", "title": "75%"},
        {"field": "q05", "type": "quantitative", "title": "5%"},
        {"field": "q95", "type": "quantitative", "title": "95%"},
        {"field": "kept", "type": "quantitative", "title": "members kept"},
    ]
    layers: list[dict[str, Any]] = [
        {
            "mark": {"type": "area", "color": colour, "opacity": 0.18},
            "encoding": {
                "x": x,
                "y": {"field": "q05", "type": "quantitative", "title": "count"},
                "y2": {"field": "q95"},
            },
        },
        {
            "mark": {"type": "area", "color": colour, "opacity": 0.35},
            "encoding": {
                "x": x,
                "y": {"field": "q25", "type": "quantitative"},
                "y2": {"field": "q75"},
            },
        },
        {
            "mark": {"type": "line", "color": colour, "strokeWidth": 2, "point": True},
            "encoding": {"x": x, "y": {"field": "q50", "type": "quantitative"}, "tooltip": tips},
        },
    ]
    if realised is not None:
        layers.append(
            {
                "data": {"values": [{"realised": realised, "label": f"realised: {realised:g}"}]},
                "mark": {"type": "rule", "color": "#d55e00", "strokeDash": [5, 3], "size": 1.5},
                "encoding": {
                    "y": {"field": "realised", "type": "quantitative"},
                    "tooltip": [{"field": "label", "title": "realised"}],
                },
            }
        )
    spec["height"] = 220
    spec["layer"] = layers
    return spec


def _headroom(top: float) -> float:
    """The first whole round number above the count ``top``: a multiple of a step of 1,
    2 or 5 times a power of ten, about a sixth of ``top``."""
    raw = max(top / 6, 1.0)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return float((math.floor(top / step) + 1) * step)
