"""The comparison and sensitivity reports: self-contained HTML pages in the style of the
ensemble report (its page parts), each chart interactive (Vega-Lite, :mod:`._charts`)
with its static SVG inside for readers with scripts off; every text escaped; the same
data give the same bytes.

- :func:`render_compare_report`: what differs between the two designs, each metric's
  means and the paired difference B - A, one chart per unit (days, extensions, people,
  probabilities: never two units on one axis).
- :func:`render_sensitivity_report`: Sobol' indices per output as tornado charts, each
  index with its 95% interval and its noise (the bootstrap's standard error), and what the
  dummy input (chance within an episode) says about the noise floor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..scenario import Scenario
from ._charts import chart, interval_bars
from ._ensemble_report import _figure, _nav, _page
from ._report import _kv_table, _table
from ._svg import BarSeries, esc, hbar_chart

# Wide tables scroll inside their own box, so that the page never runs wider than the screen.
WIDE_CSS = "div.table-wide { overflow-x: auto; max-width: 100%; }"


def _wide(table: str) -> str:
    return f'<div class="table-wide">{table}</div>'


def _interval_text(low: float | None, high: float | None, digits: int = 2) -> str:
    if low is None or high is None:
        return "-"
    return f"{low:+.{digits}f} to {high:+.{digits}f}"


def _design(scenario: Scenario, meta: dict[str, Any]) -> str:
    file = f" (<code>{esc(meta['file'])}</code>)" if meta.get("file") else ""
    return f"{esc(scenario.name)}{file}, <code>{esc(meta['scenario_hash'])}</code>"


DIFFERENCE = "Mean paired difference B - A"


def _difference_row(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "row": m["label"],
        "series": DIFFERENCE,
        "value": m["difference"],
        "low": m["low"],
        "high": m["high"],
        "a_mean": m["a_mean"],
        "b_mean": m["b_mean"],
    }


def render_compare_report(a: Scenario, b: Scenario, data: dict[str, Any]) -> str:
    """The comparison's report: each metric's means under A and B and the paired
    difference B - A with its 95% interval."""
    diffs = data.get("differences", [])
    if a.name != b.name:
        title = f"Comparison: {a.name} (A) and {b.name} (B)"
    elif diffs:
        shown = ", ".join(d["path"] for d in diffs[:3]) + (", ..." if len(diffs) > 3 else "")
        title = f"Comparison of two designs of {a.name}: they differ in {shown}"
    else:
        title = f"Comparison: {a.name} (A) with itself (B)"
    header = "\n".join(
        [
            f"<h1>{esc(title)}</h1>",
            _wide(
                _kv_table(
                    [
                        ("A", _design(a, data["a"])),
                        ("B", _design(b, data["b"])),
                        ("Episodes", esc(f"{data['n']:,} of each, seed {data['seed']}")),
                        ("Version", f"ceasefire <code>{esc(data['package_version'])}</code>"),
                    ]
                )
            ),
            f'<p class="note">{esc(data["method"])}</p>',
            _nav(
                [
                    ("what-differs", "What differs"),
                    ("metrics", "Metrics"),
                    ("differences", "Differences"),
                ]
            ),
        ]
    )
    rows = []
    for m in data["metrics"]:
        digits = 3 if m["kind"] == "probability" else 2
        rows.append(
            [
                esc(m["label"]),
                esc(f"{m['a_mean']:.{digits}f}"),
                esc(f"{m['b_mean']:.{digits}f}"),
                esc(f"{m['difference']:+.{digits}f}"),
                esc(_interval_text(m["low"], m["high"], digits)),
            ]
        )
    if diffs:
        differs = _wide(
            _table(
                ["Field", "A", "B"],
                [[f"<code>{esc(d['path'])}</code>", esc(d["a"]), esc(d["b"])] for d in diffs],
            )
        )
    else:
        differs = (
            '<p class="note">The two scenarios are the same (apart from name and description).</p>'
        )
    what = '<section id="what-differs">\n<h2>What differs</h2>\n' + differs + "\n</section>"
    metrics = (
        '<section id="metrics">\n<h2>Metrics</h2>\n'
        + _wide(
            _table(
                ["Metric", "Mean A", "Mean B", "B - A", "95% interval"],
                rows,
                numeric=[1, 2, 3, 4],
            )
        )
        + "\n</section>"
    )
    charts = []
    # One chart per unit: days, extensions and people are never on one axis.
    units = {"pause_days": "days", "extensions": "extensions"}
    for unit, title in (
        ("days", "Difference B - A in pause days"),
        ("extensions", "Difference B - A in extensions"),
        ("people", "Differences B - A in people released"),
        ("probability", "Differences B - A in probabilities"),
    ):
        ms = [
            m
            for m in data["metrics"]
            if (m["kind"] == "probability" and unit == "probability")
            or (m["kind"] == "count" and units.get(m["metric"], "people") == unit)
        ]
        if not ms:
            continue
        svg = hbar_chart(
            rows=[m["label"] for m in ms],
            series=[BarSeries("difference", DIFFERENCE, "#0072b2")],
            values=[[m["difference"]] for m in ms],
            intervals=[[(m["low"], m["high"]) if m["low"] is not None else None] for m in ms],
            title=title,
            x_label=f"B - A ({unit})",
        )
        spec = interval_bars(
            [_difference_row(m) for m in ms],
            title=title,
            x_label=f"B - A ({unit})",
            series={DIFFERENCE: "#0072b2"},
            value_format=".3f" if unit == "probability" else ".2f",
            tooltip=[
                {"field": "a_mean", "type": "quantitative", "title": "mean A", "format": ".3~f"},
                {"field": "b_mean", "type": "quantitative", "title": "mean B", "format": ".3~f"},
            ],
        )
        charts.append(
            _figure(
                chart(f"diff-{unit}", spec, svg),
                f"{title}, with 95% intervals (paired t). Hover over a bar for the means "
                "under A and B.",
            )
        )
    differences = (
        '<section id="differences">\n<h2>Differences</h2>\n' + "\n".join(charts) + "\n</section>"
    )
    return _page(title, header, [what, metrics, differences], WIDE_CSS)


def index_text(value: float) -> str:
    """A Sobol index to three decimals, without a negative zero."""
    return f"{round(value, 3) + 0.0:.3f}"


FIRST_ORDER = "First-order index"
TOTAL_ORDER = "Total index"


def _index_rows(ranked: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for r in ranked:
        for label, key in ((FIRST_ORDER, "first"), (TOTAL_ORDER, "total")):
            rows.append(
                {
                    "row": r["input"],
                    "series": label,
                    "kind": r["kind"],
                    "value": round(r[f"{key}_order"], 6),
                    "low": round(r[f"{key}_low"], 6),
                    "high": round(r[f"{key}_high"], 6),
                    "se": round(r[f"{key}_se"], 6),
                }
            )
    return rows


def _noise_note(out: dict[str, Any]) -> str:
    """What the dummy (the in-episode random stream) says about chance in this output."""
    floor = out.get("noise_floor")
    if floor is None:
        return (
            '<p class="note">No dummy input: the noise of each index is its bootstrap '
            "standard error (± s.e.).</p>\n"
        )
    if floor <= 0:
        return (
            '<p class="note">Noise: the dummy input (the in-episode random stream) scores '
            "0, so chance within an episode does not move this output; the noise of each "
            "index is its bootstrap standard error (± s.e.), from the finite design.</p>\n"
        )
    below = [r["input"] for r in out["indices"] if r["kind"] != "dummy" and r["total_low"] <= floor]
    return (
        '<p class="note">Noise: the dummy input (the in-episode random stream) has a total '
        f"index of up to {esc(index_text(floor))} (the upper end of its 95% interval): "
        "that much of the variance can come from chance within episodes. "
        + (
            "Inputs whose total index may be as low as that cannot be told apart from "
            "chance here: " + ", ".join(f"<code>{esc(n)}</code>" for n in below) + ". "
            if below
            else "Every input's total index is above it. "
        )
        + "The noise of each index is its bootstrap standard error (± s.e.).</p>\n"
    )


def render_sensitivity_report(scenario: Scenario, data: dict[str, Any]) -> str:
    """The sensitivity analysis: Sobol indices per input and output, tornado charts."""
    header = "\n".join(
        [
            f"<h1>{esc(scenario.name)}: which inputs matter most</h1>",
            f'<p class="provenance">Scenario hash <code>{esc(data["scenario_hash"])}</code>, '
            f"seed <code>{esc(data['seed'])}</code>, base sample <code>{esc(data['n'])}</code>, "
            f"<code>{esc(data['evaluations'])}</code> model runs, ceasefire version "
            f"<code>{esc(data['package_version'])}</code>.</p>",
            f'<p class="note">{esc(data["method"])}</p>',
            _nav(
                [
                    ("inputs", "Inputs"),
                    *((f"out-{k}", v["label"]) for k, v in data["outputs"].items()),
                ]
            ),
        ]
    )
    in_rows = [
        [f"<code>{esc(i['name'])}</code>", esc(i["kind"]), esc(i["range"])] for i in data["inputs"]
    ]
    sections = [
        '<section id="inputs">\n<h2>Inputs</h2>\n'
        + _wide(_table(["Input", "Kind", "Varied over"], in_rows))
        + "\n</section>"
    ]
    for key, out in data["outputs"].items():
        ranked = out["indices"]
        title = f"Sobol indices: {out['label']}"
        x_range = (
            min(0.0, *(r["first_low"] for r in ranked)) if ranked else 0.0,
            max(1.0, *(r["total_high"] for r in ranked)) if ranked else 1.0,
        )
        svg = hbar_chart(
            rows=[r["input"] for r in ranked],
            series=[
                BarSeries("first", FIRST_ORDER, "#0072b2"),
                BarSeries("total", TOTAL_ORDER, "#e69f00"),
            ],
            values=[[r["first_order"], r["total_order"]] for r in ranked],
            intervals=[
                [(r["first_low"], r["first_high"]), (r["total_low"], r["total_high"])]
                for r in ranked
            ],
            title=title,
            x_label="share of the output's variance",
            x_range=x_range,
        )
        spec = interval_bars(
            _index_rows(ranked),
            title=title,
            x_label="share of the output's variance",
            series={FIRST_ORDER: "#0072b2", TOTAL_ORDER: "#e69f00"},
            x_domain=x_range,
            tooltip=[
                {"field": "se", "type": "quantitative", "title": "noise (s.e.)", "format": ".3f"},
                {"field": "kind", "title": "kind"},
            ],
        )
        rows = [
            [
                f"<code>{esc(r['input'])}</code>",
                esc(index_text(r["first_order"])),
                esc(f"{index_text(r['first_low'])} to {index_text(r['first_high'])}"),
                esc(index_text(r["first_se"])),
                esc(index_text(r["total_order"])),
                esc(f"{index_text(r['total_low'])} to {index_text(r['total_high'])}"),
                esc(index_text(r["total_se"])),
            ]
            for r in ranked
        ]
        sections.append(
            f'<section id="out-{esc(key)}">\n<h2>{esc(out["label"])}</h2>\n'
            f"<p>Mean {esc(format(out['mean'], '.2f'))}, "
            f"variance {esc(format(out['variance'], '.2f'))} "
            "over the design's runs.</p>\n"
            + _noise_note(out)
            + _figure(
                chart(f"tornado-{key}", spec, svg),
                "Tornado chart: inputs sorted by their total index (the share of "
                "variance they account for, interactions included); the first-order "
                "index is the share they account for alone. Whiskers: 95% bootstrap "
                "intervals. Hover over a bar for its values and noise; a click on a "
                "legend entry shows only that index.",
            )
            + _wide(
                _table(
                    [
                        "Input",
                        "First order",
                        "95% interval",
                        "± s.e.",
                        "Total",
                        "95% interval",
                        "± s.e.",
                    ],
                    rows,
                    numeric=[1, 2, 3, 4, 5, 6],
                )
            )
            + "\n</section>"
        )
    return _page(f"Sensitivity: {scenario.name}", header, sections, WIDE_CSS)
