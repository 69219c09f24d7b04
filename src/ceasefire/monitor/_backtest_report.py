"""The backtest as an HTML page: fan charts of each count over the days of the replay,
with the realised value, and the scores of the nowcast, the prior and the naive forecast.

Every text from the scenario or the record is escaped (:func:`~..outputs._svg.esc`)."""

from __future__ import annotations

from ..outputs import chart, chart_scripts
from ..outputs._svg import esc, linear_ticks, num, tick_label
from ._backtest import METHODS, Backtest
from ._charts import fan

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:72em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
    "padding:.2em .5em;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}"
    "figcaption{font-size:.9em;color:#444}svg.chart{display:block;width:100%;height:auto}"
    "div.vl-chart{width:100%;overflow-x:auto}div.vl-chart .vega-embed{width:100%}"
    "div.table-wide{overflow-x:auto;max-width:100%}"
    "@media (max-width:40em){body{margin:1em}}"
)


def fan_figure(bt: Backtest, quantity: str) -> str:
    """The fan chart of ``quantity``: interactive, with :func:`fan_chart` as its fallback."""
    svg = fan_chart(bt, quantity)
    if not svg:
        return ""
    rows = [
        {
            "date": d.date,
            **{k: d.fans[quantity][i] for i, k in enumerate(("q05", "q25", "q50", "q75", "q95"))},
            "kept": d.kept,
        }
        for d in bt.days
        if quantity in d.fans
    ]
    real = bt.realised.get(quantity)
    spec = fan(rows, title=quantity, realised=float(real) if real is not None else None)
    return chart(f"fan-{quantity}", spec, svg)


def fan_chart(bt: Backtest, quantity: str) -> str:
    """The nowcast's central 50% and 90% intervals and median of ``quantity`` on each
    date, with the realised value as a dashed line, as inline SVG."""
    days = [d for d in bt.days if quantity in d.fans]
    if not days:
        return ""
    real = bt.realised.get(quantity)
    values = [v for d in days for v in d.fans[quantity]] + ([real] if real is not None else [])
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    left, top, w, h = 56.0, 16.0, 640.0, 220.0
    step = w / len(days)

    def py(y: float) -> float:
        return top + h - (y - lo) / (hi - lo) * h

    def band(i: int, j: int, colour: str, opacity: str) -> str:
        upper = " ".join(
            f"L{num(left + k * step)} {num(py(d.fans[quantity][j]))} "
            f"L{num(left + (k + 1) * step)} {num(py(d.fans[quantity][j]))}"
            for k, d in enumerate(days)
        )
        lower = " ".join(
            f"L{num(left + (k + 1) * step)} {num(py(d.fans[quantity][i]))} "
            f"L{num(left + k * step)} {num(py(d.fans[quantity][i]))}"
            for k, d in reversed(list(enumerate(days)))
        )
        return (
            f'<path d="M{upper[1:]} {lower} Z" fill="{colour}" fill-opacity="{opacity}" '
            'stroke="none"/>'
        )

    body = [band(0, 4, "#0072b2", "0.18"), band(1, 3, "#0072b2", "0.35")]
    median = " ".join(
        f"L{num(left + k * step)} {num(py(d.fans[quantity][2]))} "
        f"L{num(left + (k + 1) * step)} {num(py(d.fans[quantity][2]))}"
        for k, d in enumerate(days)
    )
    body.append(f'<path d="M{median[1:]}" fill="none" stroke="#0072b2" stroke-width="1.8"/>')
    if real is not None:
        body.append(
            f'<line x1="{num(left)}" x2="{num(left + w)}" y1="{num(py(real))}" '
            f'y2="{num(py(real))}" stroke="#d55e00" stroke-width="1.5" stroke-dasharray="5 3">'
            f"<title>realised: {esc(real)}</title></line>"
        )
    for t in linear_ticks(lo, hi, target=5):
        if lo <= t <= hi:
            body.append(
                f'<text x="{num(left - 6)}" y="{num(py(t) + 4)}" font-size="11" '
                f'text-anchor="end">{esc(tick_label(t))}</text>'
            )
    for k, d in enumerate(days):
        cx, cy = left + (k + 0.5) * step, top + h + 10
        f = d.fans[quantity]
        body.append(
            f'<text x="{num(cx)}" y="{num(cy)}" font-size="10" text-anchor="end" '
            f'transform="rotate(-45 {num(cx)} {num(cy)})">{esc(d.date)}</text>'
            f'<rect x="{num(left + k * step)}" y="{num(top)}" width="{num(step)}" '
            f'height="{num(h)}" fill-opacity="0"><title>{esc(d.date)}: median {f[2]:g}, '
            f"50% {f[1]:g}-{f[3]:g}, 90% {f[0]:g}-{f[4]:g} ({d.kept} members)</title></rect>"
        )
    body.append(
        f'<line x1="{num(left)}" y1="{num(top + h)}" x2="{num(left + w)}" y2="{num(top + h)}" '
        'stroke="#333"/>'
    )
    return (
        f'<svg class="chart" viewBox="0 0 {num(left + w + 16)} {num(top + h + 90)}" '
        f'role="img"><title>{esc(quantity)}</title>{"".join(body)}</svg>'
    )


def _cell(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def render_backtest(bt: Backtest) -> str:
    """The whole report as one HTML document."""
    head = "".join(f"<th>{m}</th>" for m in METHODS)
    rows = []
    for d in bt.days:
        event = d.focus_events.get("extensions_at_least:2", {})
        p = "".join(f"<td>{_cell(event.get(f'{m}_p'), 3)}</td>" for m in METHODS)
        rows.append(
            f"<tr><td>{esc(d.date)}</td><td>{d.observations}</td><td>{d.settled}</td>"
            f"<td>{d.kept}</td><td>{d.open_quantities}</td>"
            + "".join(f"<td>{_cell(d.brier[m])}</td>" for m in METHODS)
            + "".join(f"<td>{_cell(d.crps[m])}</td>" for m in METHODS)
            + p
            + "</tr>"
        )
    figures = "".join(
        f"<figure>{fan_figure(bt, q)}<figcaption>{esc(q)}: the nowcast on each date (median, "
        f"central 50% and 90% of the members kept) and the realised value "
        f"({esc(bt.realised.get(q, 'not observed'))}, dashed). Hover over a date's point "
        "for its values."
        "</figcaption></figure>"
        for q in (bt.days[-1].fans if bt.days else {})
    )
    notes = "".join(f"<li>{esc(d.date)}: {esc(d.note)}</li>" for d in bt.days if d.note)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Backtest: {esc(bt.scenario)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Backtest: {esc(bt.scenario)}</h1>"
        f"<p>One ensemble of {bt.drawn:,} episodes over the priors (seed {bt.seed}); on each "
        "date the nowcast keeps the members that match the record as it stood that day. "
        "Scores are against the whole record, over the quantities still open on the date "
        "(lower is better): mean Brier score of the events, mean CRPS of the counts. "
        "prior: the ensemble conditioned on nothing; naive: what was agreed by the date "
        "is carried out at the rate so far, and nothing more is agreed.</p>"
        "<div class='table-wide'><table><tr><th rowspan=2>date</th><th rowspan=2>observations</th>"
        "<th rowspan=2>settled</th><th rowspan=2>members kept</th><th rowspan=2>open</th>"
        "<th colspan=3>mean Brier (open)</th><th colspan=3>mean CRPS (open)</th>"
        "<th colspan=3>P(extended again)</th></tr>"
        f"<tr>{head}{head}{head}</tr>{''.join(rows)}</table></div>"
        + (f"<h2>Dates with no matching member</h2><ul>{notes}</ul>" if notes else "")
        + f"<h2>Fan charts</h2>{figures}"
        + (chart_scripts() if 'class="vl-chart"' in figures else "")
        + "</body></html>\n"
    )
