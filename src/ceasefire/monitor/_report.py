"""The compliance report: one self-contained HTML page, offline, every text escaped.

It holds the verdict and totals, a chart of releases due vs done per day (with the
releases made outside the deal and counted toward a day's quota shown apart), the
same for counter-releases, the day-by-day table, the delays and disputes with their
sources (links shown as text, never as references), and the ledger snapshot the
figures were read from. The same report data always gives the same bytes.
"""

from __future__ import annotations

from typing import Any

from ..outputs import chart, chart_scripts, party_colours
from ..outputs._report import _CSS, _kv_table, _table
from ..outputs._svg import Series, esc, stacked_bar_chart
from ._charts import DUE_COLOUR, bars, due_done
from ._compliance import TERMS_BASIS, Cited, ComplianceReport, DayCompliance
from ._scores import Scores

_EXTRA_CSS = """
.verdict { font-weight: 600; }
.status-met, .status-kept { color: #1b6e1b; }
.status-off { color: #9a3b00; font-weight: 600; }
td.source { font-size: 0.8rem; color: #4a4a4a; overflow-wrap: anywhere; }
/* The day-by-day table has 16 columns: smaller text, headers that wrap, and a scroll box
   of its own as a last resort, so that the page itself never runs wider than the screen. */
div.table-wide { overflow-x: auto; max-width: 100%; }
#days table { font-size: 0.76rem; }
#days th { white-space: normal; overflow-wrap: normal; vertical-align: bottom; }
#days th, #days td { padding: 0.2rem 0.3rem; }
#days td:first-child { white-space: nowrap; }
""".strip()


def _status_cell(text: str) -> str:
    good = text in ("met", "kept", "none due", "no releases", "compliant") or text.startswith(
        "done on"
    )
    return f'<span class="{"status-met" if good else "status-off"}">{esc(text)}</span>'


def _day_label(day: DayCompliance) -> str:
    if day.pause_day is None:
        return "before the agreement"
    return f"agreement day {day.pause_day}"


def _basis(basis: str) -> str:
    if basis == TERMS_BASIS:
        return "the terms' schedule"
    return "the terms' ratio to the releases made"


DUE = "Due under the terms"
OWED = "Owed under the terms"
DEAL = "Released under the deal"
CREDITED = "Released outside the deal, counted toward this day"
LATER = "Released outside the deal, counted toward a later day"


def due_done_charts(report: ComplianceReport) -> list[tuple[str, dict[str, Any], str]]:
    """The compliance charts, each ``(id, Vega-Lite spec, static SVG)``: the holder's
    releases due vs done per day, and the other side's counter-releases owed vs done (no
    specs, only the SVG's note, when no day has any)."""
    days = [d for d in report.days if d.due or d.counted or d.credited_out_total]
    slots = [f"{d.date} ({_day_label(d)})" for d in days]
    holder = report.parties.get(report.holder, report.holder)
    colours = party_colours(list(report.parties))
    deal_colour = colours.get(report.holder, "#0072b2")
    series = [
        Series("due", DUE, DUE_COLOUR),
        Series("deal", DEAL, deal_colour),
        Series("credited", CREDITED, "#e69f00"),
        Series("later", LATER, "#f5d7a1"),
    ]
    values: dict[tuple[int, int, str], float] = {}
    for i, d in enumerate(days):
        values[i, 0, "due"] = d.due
        values[i, 1, "deal"] = d.deal
        values[i, 1, "credited"] = d.credited_in_total
        values[i, 1, "later"] = d.credited_out_total
    title = f"Releases by {holder}: due vs done per day"
    svg = stacked_bar_chart(
        slots=slots,
        stacks=["due", "done"],
        series=series,
        values=values,
        title=title,
        y_label="people",
        stack_caption="In each pair: left, due under the terms; right, done as observed",
        empty_note="no releases due or observed",
    )
    rows = [
        {"date": d.date, "day": _day_label(d), "pair": pair, "series": s, "count": n, "order": k}
        for d in days
        for pair, parts in (
            ("due", [(DUE, d.due)]),
            (
                "done",
                [(DEAL, d.deal), (CREDITED, d.credited_in_total), (LATER, d.credited_out_total)],
            ),
        )
        for k, (s, n) in enumerate(parts)
    ]
    spec = due_done(
        rows,
        title=title,
        series={s.label: s.colour for s in series},
        pairs=["due", "done"],
    )
    counter = report.parties.get(report.counter_party, report.counter_party)
    counter_colour = colours.get(report.counter_party, "#009e73")
    counter_values: dict[tuple[int, int, str], float] = {}
    for i, d in enumerate(days):
        counter_values[i, 0, "due"] = d.counter_owed
        counter_values[i, 1, "deal"] = d.counter_done
    counter_title = f"Counter-releases by {counter}: owed vs done per day"
    counter_svg = stacked_bar_chart(
        slots=slots,
        stacks=["due", "done"],
        series=[Series("due", OWED, DUE_COLOUR), Series("deal", DEAL, counter_colour)],
        values=counter_values,
        title=counter_title,
        y_label="people",
        stack_caption="In each pair: left, owed under the terms; right, done as observed",
        empty_note="no counter-releases due or observed",
    )
    counter_rows = [
        {"date": d.date, "day": _day_label(d), "pair": pair, "series": s, "count": n, "order": 0}
        for d in days
        for pair, s, n in (("owed", OWED, d.counter_owed), ("done", DEAL, d.counter_done))
    ]
    counter_spec = due_done(
        counter_rows,
        title=counter_title,
        series={OWED: DUE_COLOUR, DEAL: counter_colour},
        pairs=["owed", "done"],
    )
    if not days:
        return [("chart-due", {}, svg), ("chart-counter", {}, counter_svg)]
    return [("chart-due", spec, svg), ("chart-counter", counter_spec, counter_svg)]


def _chart(report: ComplianceReport) -> str:
    holder = report.parties.get(report.holder, report.holder)
    counter = report.parties.get(report.counter_party, report.counter_party)
    (due_id, spec, svg), (counter_id, counter_spec, counter_svg) = due_done_charts(report)
    hint = " Hover over a bar for its values; a click on a legend entry shows only that part."
    return (
        '<section id="chart"><h2>Due vs done</h2>\n'
        f"<figure>{chart(due_id, spec, svg) if spec else svg}<figcaption>Releases by "
        f"{esc(holder)} per day (in each pair: left, due; right, done). Due: the "
        "agreement's batches as a single run of the engine carries out the terms. Done: "
        f"the observations in the ledger.{hint}</figcaption></figure>\n"
        f"<figure>{chart(counter_id, counter_spec, counter_svg) if counter_spec else counter_svg}"
        f"<figcaption>Counter-releases by {esc(counter)} per day (in each pair: left, owed; "
        "right, done). Owed: what the terms' schedule gives for the day, or, where the "
        "releases made differ from the schedule, the terms' ratio to the releases made (the "
        "day's 'owed on' in the table). Days are numbered from the agreement's first day."
        f"{hint}</figcaption></figure>\n</section>"
    )


def _days(report: ComplianceReport) -> str:
    rows = []
    for d in report.days:
        credited = ""
        if d.credited_in_total:
            credited += f"+{d.credited_in_total} counted from earlier"
        if d.credited_out_total:
            credited += ("; " if credited else "") + f"+{d.credited_out_total} counted later"
        ratio = "" if d.ratio_observed is None else f"{d.ratio_observed:g}"
        if d.ratio_terms is not None:
            ratio += f" (terms {d.ratio_terms:g})"
        rows.append(
            [
                esc(d.date),
                esc(str(d.pause_day) if d.pause_day is not None else "before"),
                str(d.due),
                str(d.deal),
                esc(credited),
                str(d.counted),
                _status_cell(d.status),
                str(d.counter_owed),
                esc(_basis(d.basis)),
                str(d.counter_done),
                _status_cell(d.counter_status),
                esc(ratio) + " " + _status_cell(d.ratio_status),
                _status_cell("kept" if d.categories_kept else "not kept"),
                str(len(d.delays)),
                str(len(d.disputes)),
                "<br>".join(esc(n) for n in d.notes),
            ]
        )
    table = _table(
        [
            "date",
            "agreement day",
            "due",
            "deal",
            "credited",
            "counted",
            "releases",
            "counter owed",
            "owed on",
            "counter done",
            "counter-releases",
            "ratio",
            "categories",
            "delays",
            "disputes",
            "notes",
        ],
        rows,
        numeric=(2, 3, 5, 7, 9, 13, 14),
    )
    return (
        f'<section id="days"><h2>Day by day</h2>\n<div class="table-wide">{table}</div>\n</section>'
    )


def _cited_table(title: str, anchor: str, cited: list[Cited]) -> str:
    if not cited:
        return (
            f'<section id="{anchor}"><h2>{esc(title)}</h2>'
            '<p class="muted">none observed</p></section>'
        )
    rows = [
        [
            esc(c.date),
            f"<code>{esc(c.obs_id)}</code> (entry {c.entry})",
            esc(c.kind),
            esc(c.parties),
            esc(c.note),
            f"{esc(c.source_kind)}, grade {esc(c.reliability)}",
            f'<span class="source">{esc(c.source)}</span>',
        ]
        for c in cited
    ]
    table = _table(
        ["date", "observation", "kind", "parties", "what the sources say", "source kind", "source"],
        rows,
        columns={6: "source"},
    )
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>\n{table}\n</section>'


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _pit_chart(scores: Scores) -> str:
    bins = len(scores.pit_histogram)
    slots = [f"{i / bins:.1f}-{(i + 1) / bins:.1f}" for i in range(bins)]
    values = {(i, 0, "pit"): float(c) for i, c in enumerate(scores.pit_histogram)}
    svg = stacked_bar_chart(
        slots=slots,
        stacks=["counts"],
        series=[Series("pit", "Counts whose observation has a PIT value in the bin", "#0072b2")],
        values=values,
        title="PIT histogram of the counts",
        y_label="counts",
        empty_note="no count scored yet",
        plot_height=200.0,
    )
    if not any(scores.pit_histogram):
        return svg
    spec = bars(
        [{"slot": s, "count": int(c)} for s, c in zip(slots, scores.pit_histogram, strict=True)],
        title="PIT histogram of the counts",
        x_label="PIT value",
        y_label="counts",
        colour="#0072b2",
    )
    return chart("chart-pit", spec, svg)


def _scores_section(scores: Scores) -> str:
    """The forecast's scores: means, coverage, the PIT histogram and every row."""
    cover = ", ".join(f"{k}%: {_number(v)}" for k, v in scores.coverage.items())
    summary = _kv_table(
        [
            (
                "forecast",
                esc(
                    f"issued {scores.forecast_issued_at}, {scores.method}, {scores.members} members"
                ),
            ),
            ("record covers up to", esc(scores.covered_until or "nothing yet")),
            ("mean Brier score (events)", esc(_number(scores.brier_mean))),
            ("mean log score (events)", esc(_number(scores.log_mean))),
            ("mean CRPS (counts)", esc(_number(scores.crps_mean))),
            ("central interval coverage (counts)", esc(cover)),
            ("not scored yet", esc(str(len(scores.not_scored)))),
        ]
    )
    rows = [
        [
            esc(r.quantity),
            esc(r.forecast),
            esc(r.observed),
            esc(f"{r.score:.4g}"),
            esc("" if r.log_score is None else f"{r.log_score:.4g}"),
            esc("" if r.pit is None else f"{r.pit:.3f}"),
            esc("" if r.in_50 is None else ("in" if r.in_50 else "out")),
            esc("" if r.in_90 is None else ("in" if r.in_90 else "out")),
        ]
        for r in scores.rows
    ]
    table = _table(
        ["quantity", "forecast", "observed", "Brier / CRPS", "log score", "PIT", "50%", "90%"],
        rows,
        numeric=(3, 4, 5),
    )
    return (
        '<section id="scores"><h2>Forecast scores</h2>\n'
        '<p class="note">Brier and log scores for events, CRPS for counts: lower is '
        "better. A calibrated forecast puts about 50% and 90% of the observations in its "
        "central 50% and 90% intervals, and spreads the PIT values evenly.</p>\n"
        f"{summary}\n<figure>{_pit_chart(scores)}<figcaption>Where each observed count "
        "falls in its forecast distribution (mid-distribution PIT).</figcaption></figure>\n"
        f"{table}\n</section>"
    )


def render_compliance(report: ComplianceReport, scores: Scores | None = None) -> str:
    """One self-contained HTML5 document of ``report`` (and a forecast's ``scores``)."""
    t = report.totals
    holder = report.parties.get(report.holder, report.holder)
    counter = report.parties.get(report.counter_party, report.counter_party)
    verdict = "compliant" if report.compliant else "not compliant"
    ext_obs = ", ".join(f"+{n} on {d}" for d, n in t.extensions_observed) or "none"
    ext_due = ", ".join(f"+{n} on {d}" for d, n in t.extensions_due) or "none"
    summary = _kv_table(
        [
            ("verdict", f'<span class="verdict">{_status_cell(verdict)}</span>'),
            (
                f"released by {holder}",
                f"{t.counted} counted ({t.deal} under the deal + {t.credited} credited) "
                f"of {t.due} due: {_status_cell(t.status)}",
            ),
            (
                f"counter-releases by {counter}",
                esc(f"{t.counter_done} of {t.counter_owed} owed (on {_basis(t.basis)}): ")
                + _status_cell(t.counter_status),
            ),
            (
                "ratio",
                esc(f"{t.ratio_observed:g}" if t.ratio_observed is not None else "n/a")
                + esc(f" (terms {t.ratio_terms:g})" if t.ratio_terms is not None else "")
                + " "
                + _status_cell(t.ratio_status),
            ),
            (
                "pause days",
                esc(f"{t.pause_days_observed} observed, " if t.pause_days_observed else "")
                + esc(f"{t.pause_days_due} under the terms as carried out by the engine"),
            ),
            ("extensions", esc(f"observed {ext_obs}; engine {ext_due}")),
            *(
                [
                    (
                        "made late",
                        esc(
                            "; ".join(
                                f"{lt.count} owed on {lt.due_on}, made on {lt.made_on} "
                                f"({lt.days} days late)"
                                for lt in report.late
                            )
                        ),
                    )
                ]
                if report.late
                else []
            ),
            *(
                (
                    f"obligation {ob.id}",
                    esc(
                        f"{report.parties.get(ob.party, ob.party)}, "
                        + (
                            f"{ob.per_day:,} a day: {len(ob.days)} of {ob.pause_days} pause "
                            f"days observed, {ob.observed:,} of {ob.owed:,} owed on those "
                            f"days ("
                            + ", ".join(
                                f"{d}: {n:,}" + (" short" if n < owed else "")
                                for d, owed, n, _ in ob.days
                            )
                            + ")"
                            if ob.per_day is not None
                            else f"by {ob.by}"
                        )
                        + ": "
                    )
                    + _status_cell(ob.status),
                )
                for ob in report.obligations
            ),
            ("delays", str(t.delays)),
            ("disputes and claims", str(t.disputes)),
            ("released outside the deal (not counted)", str(t.side_channel)),
        ]
    )
    provenance = (
        f'<p class="provenance">Scenario <code>{esc(report.scenario_hash)}</code>, due schedule '
        f"from a single run of the engine (seed {report.seed}); observations from "
        f"{esc(report.snapshot.label())}"
        + (f", as known on {esc(report.as_of)}" if report.as_of else "")
        + ".</p>"
    )
    unmatched = ""
    if report.unmatched:
        unmatched = (
            '<section id="unmatched"><h2>Observations left out</h2><ul>'
            + "".join(f"<li>{esc(u)}</li>" for u in report.unmatched)
            + "</ul></section>"
        )
    delays = [c for d in report.days for c in d.delays]
    disputes = [c for d in report.days for c in d.disputes]
    extensions = [c for d in report.days for c in d.extensions]
    parts = [
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Compliance: {esc(report.scenario)}</title>\n"
        f"<style>\n{_CSS}\n{_EXTRA_CSS}\n</style>\n</head>\n<body>",
        f"<header>\n<h1>Compliance: {esc(report.scenario)}</h1>\n{provenance}\n"
        '<p class="note">Observations from the monitoring ledger, set against the '
        "agreement's terms day by day. Where sources disagree, the ledger records each "
        "position with its source; nothing here settles a dispute.</p>\n"
        "<nav><ul>"
        '<li><a href="#summary">Summary</a></li><li><a href="#chart">Due vs done</a></li>'
        '<li><a href="#days">Day by day</a></li><li><a href="#delays">Delays</a></li>'
        '<li><a href="#disputes">Disputes and claims</a></li>'
        '<li><a href="#extensions">Extensions</a></li>'
        + ('<li><a href="#scores">Forecast scores</a></li>' if scores is not None else "")
        + "</ul></nav>\n</header>\n<main>",
        f'<section id="summary"><h2>Summary</h2>\n{summary}\n</section>',
        _chart(report),
        _days(report),
        _cited_table("Delays", "delays", delays),
        _cited_table("Disputes and claims", "disputes", disputes),
        _cited_table("Extensions", "extensions", extensions),
        unmatched,
        _scores_section(scores) if scores is not None else "",
        "</main>",
    ]
    # The chart libraries only where the page holds an interactive chart.
    if any('class="vl-chart"' in part for part in parts):
        parts.append(chart_scripts())
    parts += [
        "</body>\n</html>\n",
    ]
    return "\n".join(p for p in parts if p)
