"""Interactive charts for the HTML reports: Vega-Lite specs as plain JSON, drawn by the
vendored vega, vega-lite and vega-embed (``outputs/vendor/``, inlined into each report).

A chart is a ``<div class="vl-chart">`` holding the static SVG of ``_svg.py`` as its
fallback, with its Vega-Lite spec in a ``data-spec`` attribute (HTML-escaped: text from
scenarios stays data). The one script block of a report (:func:`chart_scripts`, placed at
the end of the body) replaces each fallback with the interactive chart: hover values,
legend toggling, zoom where it helps and, for histograms, a log-scale option. With scripts
off, or when a chart cannot be drawn, the static SVG stays.

Colours: one per category (:func:`category_colours`) and one per party
(:func:`party_colours`), fixed by the scenario's order, the same in every report.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from ._svg import BASE_PALETTE, esc, palette

VEGA = "vega-6.4.0.min.js"
VEGA_LITE = "vega-lite-6.5.0.min.js"
VEGA_EMBED = "vega-embed-7.3.0.min.js"
VENDORED = (VEGA, VEGA_LITE, VEGA_EMBED)

# Parties get darker tones than categories, so a party is never read as a category.
PARTY_PALETTE = ("#3a3a8c", "#8c3a3a", "#2f6b4f", "#6b4f2f", "#5a2f6b", "#2f5a6b")

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

_SOURCE_MAP = re.compile(r"\n?//# sourceMappingURL=\S*\s*$")

# Replaces each fallback with its chart; the log box swaps in the spec's log-scale twin.
_BOOT = """
(function () {
  "use strict";
  var opts = {renderer: "svg", mode: "vega-lite",
    actions: {export: true, source: false, compiled: false, editor: false}};
  function draw(el, key) {
    var fallback = Array.prototype.slice.call(el.childNodes);
    var spec = JSON.parse(el.getAttribute(key));
    // The chart is drawn in the page (beside its fallback until it is done), so that it
    // knows the width it has.
    var box = document.createElement("div");
    el.appendChild(box);
    return vegaEmbed(box, spec, opts).then(function () {
      el.replaceChildren(box);
      el.setAttribute("data-drawn", key);
    }).catch(function (err) {
      el.replaceChildren.apply(el, fallback);
      el.setAttribute("data-error", String(err));
    });
  }
  document.querySelectorAll("div.vl-chart").forEach(function (el) {
    draw(el, "data-spec");
    var id = el.getAttribute("id");
    var log = id && document.querySelector('input.vl-log[data-for="' + id + '"]');
    if (log) {
      log.disabled = false;
      log.addEventListener("change", function () {
        draw(el, log.checked ? "data-spec-log" : "data-spec");
      });
    }
  });
})();
"""


@cache
def _vendored(name: str) -> str:
    text = resources.files("ceasefire.outputs").joinpath("vendor", name).read_text("utf-8")
    return _SOURCE_MAP.sub("", text)


def chart_scripts() -> str:
    """The report's one script block: the vendored libraries, then the start-up code."""
    body = "\n".join(_vendored(name) for name in VENDORED)
    return f"<script>\n{body}\n{_BOOT.strip()}\n</script>"


def spec_json(spec: Mapping[str, Any]) -> str:
    """A spec as stable JSON text (sorted keys, no NaN), the same bytes for the same spec."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), allow_nan=False)


def chart(
    ident: str,
    spec: Mapping[str, Any],
    fallback: str,
    *,
    log_spec: Mapping[str, Any] | None = None,
) -> str:
    """The chart's container: the static SVG fallback, the spec, and a log-scale box."""
    attrs = f'id="{esc(ident)}" class="vl-chart" data-spec="{esc(spec_json(spec))}"'
    box = ""
    if log_spec is not None:
        attrs += f' data-spec-log="{esc(spec_json(log_spec))}"'
        box = (
            f'<label class="vl-option"><input type="checkbox" class="vl-log" '
            f'data-for="{esc(ident)}" disabled> log scale (shows the tails)</label>'
        )
    return f"{box}<div {attrs}>{fallback}</div>"


def category_colours(categories: Sequence[str]) -> dict[str, str]:
    """One colour per category id, by its place in the scenario."""
    return dict(zip(categories, palette(len(categories)), strict=True))


def party_colours(parties: Sequence[str]) -> dict[str, str]:
    """One colour per party id, by its place in the scenario."""
    return {pid: PARTY_PALETTE[i % len(PARTY_PALETTE)] for i, pid in enumerate(parties)}


def _config() -> dict[str, Any]:
    return {
        "font": FONT,
        "view": {"stroke": "#cccccc"},
        "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#e6e6e6"},
        "legend": {
            "labelFontSize": 11,
            "titleFontSize": 12,
            "orient": "bottom",
            "columns": 2,
            "labelLimit": 0,
        },
        "range": {"category": list(BASE_PALETTE)},
    }


def base_spec(title: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The parts every spec shares: schema-free header, inline data, width, config."""
    return {
        "title": {"text": title, "anchor": "start"},
        "data": {"values": [dict(r) for r in rows]},
        "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},
        "config": _config(),
    }


def legend_toggle(field: str, name: str = "pick") -> dict[str, Any]:
    """A point selection bound to the legend: a click on an entry shows only that entry
    (shift-click adds another); a double-click shows all again."""
    return {"name": name, "select": {"type": "point", "fields": [field]}, "bind": "legend"}


def colour_scale(colours: Mapping[str, str], labels: Mapping[str, str]) -> dict[str, Any]:
    """A categorical scale whose label ``labels[id]`` has the colour ``colours[id]``."""
    ids = list(colours)
    return {"domain": [labels[i] for i in ids], "range": [colours[i] for i in ids]}


def per_party_releases(
    rows: Sequence[Mapping[str, Any]],
    *,
    parties: Sequence[str],
    categories: Mapping[str, str],
    colours: Mapping[str, str],
    title: str,
) -> dict[str, Any]:
    """Released per day, one panel per releasing party, each with its own count axis, so
    that a party's handful of releases is not a sliver next to the other's hundreds.

    ``rows``: ``{"date", "party", "category", "count", "mode"}`` with display names.
    """
    spec = base_spec(title, rows)
    del spec["width"], spec["autosize"]
    spec["params"] = [legend_toggle("category")]
    spec["facet"] = {
        "row": {
            "field": "party",
            "type": "nominal",
            "sort": list(parties),
            "title": None,
            "header": {"labelAngle": 0, "labelAlign": "left", "labelFontSize": 12},
        }
    }
    spec["resolve"] = {"scale": {"y": "independent"}}
    spec["spec"] = {
        "width": 1000,
        "height": 140,
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "date", "type": "ordinal", "title": "date", "sort": "ascending"},
            "y": {
                "aggregate": "sum",
                "field": "count",
                "type": "quantitative",
                "title": "released",
                "axis": {"tickMinStep": 1, "format": "d"},
            },
            "color": {
                "field": "category",
                "type": "nominal",
                "title": "category",
                "scale": colour_scale(colours, categories),
            },
            "opacity": {"condition": {"param": "pick", "value": 1}, "value": 0.15},
            "tooltip": [
                {"field": "date", "title": "date"},
                {"field": "party", "title": "released by"},
                {"field": "category", "title": "category"},
                {"field": "count", "type": "quantitative", "title": "released"},
                {"field": "mode", "title": "day"},
            ],
        },
    }
    return spec


def log_ticks(top: int) -> list[int]:
    """Count-axis ticks for a symmetric-log scale: 0, then 1, 10, 100, ... up to ``top``."""
    ticks = [0, 1]
    while ticks[-1] * 10 <= top:
        ticks.append(ticks[-1] * 10)
    return ticks


def histogram(
    values: Mapping[int, int],
    *,
    title: str,
    x_label: str,
    colour: str,
    tail: float | None = None,
    log: bool = False,
) -> dict[str, Any]:
    """Episodes per value, zoomable along x, with the tail (values past ``tail``, e.g.
    the 95th percentile) marked by a rule; ``log``: a symmetric-log count axis, on which
    a bar of one episode still shows."""
    total = sum(values.values()) or 1
    step = 0
    lo = min(values, default=0)
    hi = max(values, default=0)
    for v in values:
        step = math.gcd(step, v - lo)
    step = max(step, 1)
    half = step * 0.45
    rows = [
        {
            "value": v,
            "left": v - half,
            "right": v + half,
            "episodes": n,
            "share": round(n / total, 6),
        }
        for v, n in sorted(values.items())
    ]
    spec = base_spec(title, rows)
    y_scale: dict[str, Any] = {"type": "symlog"} if log else {"type": "linear"}
    bars: dict[str, Any] = {
        "mark": {"type": "bar", "color": colour, "tooltip": True},
        "params": [{"name": "zoom", "select": "interval", "bind": "scales", "encodings": ["x"]}],
        "encoding": {
            "x": {
                "field": "left",
                "type": "quantitative",
                "title": x_label,
                "scale": {"zero": False, "nice": False, "domain": [lo - step, hi + step]},
                "axis": {"format": "d", "tickMinStep": step},
            },
            "x2": {"field": "right"},
            "y2": {"datum": 0},
            "y": {
                "field": "episodes",
                "type": "quantitative",
                "title": "episodes" + (" (log scale)" if log else ""),
                "scale": y_scale,
                **({"axis": {"values": log_ticks(max(values.values(), default=1))}} if log else {}),
            },
            "tooltip": [
                {"field": "value", "type": "quantitative", "title": x_label},
                {"field": "episodes", "type": "quantitative", "title": "episodes"},
                {"field": "share", "type": "quantitative", "title": "share", "format": ".2%"},
            ],
        },
    }
    layers: list[dict[str, Any]] = [bars]
    if tail is not None:
        layers.append(
            {
                "data": {"values": [{"tail": tail, "label": f"95th percentile: {tail:g}"}]},
                "mark": {"type": "rule", "color": "#333333", "strokeDash": [4, 3]},
                "encoding": {
                    "x": {"field": "tail", "type": "quantitative"},
                    "tooltip": [{"field": "label", "title": "tail"}],
                },
            }
        )
        layers.append(
            {
                "data": {"values": [{"tail": tail, "label": f"95th pct. {tail:g}"}]},
                "mark": {"type": "text", "align": "left", "dx": 3, "y": 8, "fontSize": 11},
                "encoding": {
                    "x": {"field": "tail", "type": "quantitative"},
                    "text": {"field": "label"},
                },
            }
        )
    spec["height"] = 180
    spec["layer"] = layers
    return spec


def interval_bars(
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str,
    x_label: str,
    series: Mapping[str, str],
    x_domain: tuple[float, float] | None = None,
    value_format: str = ".3f",
    tooltip: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Horizontal bars with 95% interval whiskers, one row per label in the given order and,
    within a row, one bar per series (``series``: label -> colour, legend order); a click
    on a legend entry shows only that series. A rule marks 0.

    ``rows``: ``{"row", "series", "value", "low", "high"}`` (``low``/``high`` None: no
    whisker), and the fields that ``tooltip`` names."""
    spec = base_spec(title, rows)
    order = list(dict.fromkeys(str(r["row"]) for r in rows))
    y: dict[str, Any] = {"field": "row", "type": "nominal", "sort": order, "title": None}
    # Long row names are cut (hover shows them whole) on a narrow screen, not on a wide one.
    y["axis"] = {"labelLimit": {"expr": "containerSize()[0] < 600 ? 110 : 320"}}
    offset = {"field": "series", "type": "nominal", "sort": list(series)}
    x_scale: dict[str, Any] = {"zero": True}
    if x_domain is not None:
        x_scale["domain"] = [x_domain[0], x_domain[1]]
    tips = [
        {"field": "row", "title": "row"},
        {"field": "series", "title": "bar"},
        {"field": "value", "type": "quantitative", "title": x_label, "format": value_format},
        {"field": "low", "type": "quantitative", "title": "95% low", "format": value_format},
        {"field": "high", "type": "quantitative", "title": "95% high", "format": value_format},
        *(dict(t) for t in tooltip),
    ]
    bars: dict[str, Any] = {
        "params": [legend_toggle("series")],
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "y": y,
            "yOffset": offset,
            "x": {
                "field": "value",
                "type": "quantitative",
                "title": x_label,
                "scale": x_scale,
                "axis": {"tickCount": 8},
            },
            "color": {
                "field": "series",
                "type": "nominal",
                "title": None,
                "scale": {"domain": list(series), "range": list(series.values())},
                # One series needs no legend: the axis title names it.
                **({} if len(series) > 1 else {"legend": None}),
            },
            "opacity": {"condition": {"param": "pick", "value": 1}, "value": 0.15},
            "tooltip": tips,
        },
    }
    whiskers: dict[str, Any] = {
        "transform": [{"filter": "isValid(datum.low) && isValid(datum.high)"}],
        "mark": {"type": "rule", "color": "#222222", "strokeWidth": 1.5},
        "encoding": {
            "y": y,
            "yOffset": offset,
            "x": {"field": "low", "type": "quantitative"},
            "x2": {"field": "high"},
            "tooltip": tips,
        },
    }
    zero: dict[str, Any] = {
        "data": {"values": [{"zero": 0}]},
        "mark": {"type": "rule", "color": "#555555"},
        "encoding": {"x": {"field": "zero", "type": "quantitative"}},
    }
    # A fixed height (rows x step) rather than a step: the width fits the container.
    spec["height"] = len(order) * (10 + 12 * max(len(series), 1))
    spec["layer"] = [bars, whiskers, zero]
    return spec
