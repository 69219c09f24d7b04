"""Outputs of ensembles, comparisons and sensitivity analyses.

- :class:`StagedFolder`: a folder written all or nothing. Files go into a staging folder
  beside the target; :meth:`StagedFolder.commit` renames it into place (replacing an
  existing target whole). Any exception before that, ``KeyboardInterrupt`` included,
  removes the staging folder and leaves the target as it was.
- :class:`EpisodeWriter`: per-episode rows appended batch by batch to a Parquet file
  (``pyarrow.parquet.ParquetWriter``, one row group per batch), so memory is one batch.
- :func:`write_ensemble`: consumes a stream of batches into ``summary.json``,
  ``episodes.parquet`` and ``report.html``.
- :func:`render_ensemble_report`: a self-contained HTML page in the style of the episode
  report (inline CSS, static SVG charts inside interactive ones, the vendored chart
  libraries inline, no network references, every text escaped, deterministic: the same
  data give the same bytes). The comparison and sensitivity reports
  (``_analysis_report.py``) share its page parts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..ensemble import EnsembleResult
from ..ensemble._summaries import (
    QUANTILE_KEYS,
    QUANTILES,
    EnsembleSummary,
    prior_name,
)
from ..scenario import Scenario
from ..terminal import plural
from ._charts import category_colours, chart, chart_scripts, histogram, party_colours
from ._folders import StagedFolder
from ._json import dumps
from ._report import _CSS, _table
from ._svg import BarSeries, Series, band_chart, esc, hbar_chart, stacked_bar_chart

ENSEMBLE_FILES = ("summary.json", "episodes.parquet", "report.html")
_EPOCH = date(1970, 1, 1)
MAX_BINS = 40


# ---------------------------------------------------------------------------
# Per-episode rows as Parquet


class EpisodeWriter:
    """Appends each batch's per-episode rows to one Parquet file (a row group a batch)
    and, with ``csv_path``, to a CSV file (extensions written as ``2;1``)."""

    def __init__(self, path: Path, csv_path: Path | None = None) -> None:
        self.path = path
        self.csv_path = csv_path
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None

    def append(self, result: EnsembleResult) -> None:
        table = result.to_arrow()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self._writer.write_table(table)
        if self.csv_path is not None:
            flat = _flat(table)
            if self._csv is None:
                self._csv = pacsv.CSVWriter(self.csv_path, flat.schema)
            self._csv.write_table(flat)
        self.rows += len(result)

    def close(self) -> None:
        for writer in (self._writer, self._csv):
            if writer is not None:
                writer.close()
        self._writer = self._csv = None


def _flat(table: pa.Table) -> pa.Table:
    """``table`` with its list column (extensions) as text, ``2;1``, for CSV."""
    i = table.schema.get_field_index("extensions")
    days = table.column(i).to_pylist()
    text = pa.array([";".join(str(d) for d in row) for row in days], pa.string())
    return table.set_column(i, "extensions", text)


# ---------------------------------------------------------------------------
# The ensemble run, streamed into its outputs


Progress = Callable[[int], None]


def write_ensemble(
    scenario: Scenario,
    batches: Iterable[EnsembleResult],
    *,
    seed: int,
    out: str | Path | None = None,
    progress: Progress | None = None,
    force: bool = False,
    episodes_csv: bool = False,
) -> dict[str, Any]:
    """Consume ``batches`` (consecutive, from draw 0) into the ensemble's summary; with
    ``out``, also write ``summary.json``, ``episodes.parquet`` and ``report.html`` there
    (and ``episodes.csv``, the same rows, with ``episodes_csv``), all or nothing.
    ``progress(k)`` is called after each batch of ``k`` episodes (an exception it
    raises, like any other, leaves ``out`` as it was)."""
    summary = EnsembleSummary(scenario, seed)
    if out is None:
        for batch in batches:
            summary.add(batch)
            if progress is not None:
                progress(len(batch))
        return summary.to_dict()
    with StagedFolder(out, force=force) as folder:
        writer = EpisodeWriter(
            folder.path("episodes.parquet"),
            folder.path("episodes.csv") if episodes_csv else None,
        )
        folder.on_close(writer.close)
        for batch in batches:
            summary.add(batch)
            writer.append(batch)
            if progress is not None:
                progress(len(batch))
        data = summary.to_dict()
        folder.write_text("summary.json", summary_text(data))
        folder.write_text("report.html", render_ensemble_report(scenario, data))
        folder.commit()
    return data


def summary_text(data: dict[str, Any]) -> str:
    return dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_folder(out: str | Path, files: dict[str, str], *, force: bool = False) -> Path:
    """Write text files into ``out``, all or nothing (see :class:`StagedFolder`)."""
    with StagedFolder(out, force=force) as folder:
        for name, text in files.items():
            folder.write_text(name, text)
        return folder.commit()


# ---------------------------------------------------------------------------
# HTML


def _head(title: str, css: str = "") -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        f"<style>\n{_CSS}\n{css + chr(10) if css else ''}</style>\n</head>\n<body>"
    )


def _page(title: str, header: str, sections: Sequence[str], css: str = "") -> str:
    return "\n".join(
        [
            _head(title, css),
            f"<header>\n{header}\n</header>",
            "<main>",
            *sections,
            "</main>",
            # The libraries only where a section holds an interactive chart.
            *([chart_scripts()] if any('class="vl-chart"' in s for s in sections) else []),
            "</body>\n</html>\n",
        ]
    )


def _nav(links: Sequence[tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="#{esc(a)}">{esc(label)}</a></li>' for a, label in links)
    return f"<nav><ul>{items}</ul></nav>"


def _fmt(value: float | int | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def _prob_cell(entry: dict[str, Any]) -> list[str]:
    low, high = (f"{100 * entry[k]:.2f}%" for k in ("low", "high"))
    return [esc(_pct(entry["p"])), esc(f"{low} to {high}"), esc(f"{entry['count']:,}")]


def _quantile_row(label: str, d: dict[str, Any]) -> list[str]:
    return [esc(label), esc(_fmt(d["mean"], 2)), *(esc(_fmt(d[k])) for k in QUANTILE_KEYS)]


def _histogram(title: str, d: dict[str, Any], x_label: str, colour: str) -> str:
    """Episodes per value; values on a common step (e.g. multiples of 10) keep that step,
    and more than ``MAX_BINS`` slots are grouped into equal bins."""
    hist = {int(k): int(v) for k, v in d["histogram"].items()}
    if not hist:
        return ""
    lo, hi = min(hist), max(hist)
    step = 0
    for v in hist:
        step = math.gcd(step, v - lo)
    step = max(step, 1)
    width = step * math.ceil(((hi - lo) // step + 1) / MAX_BINS)
    slots: list[str] = []
    values: dict[tuple[int, int, str], float] = {}
    tips: dict[tuple[int, int, str], str] = {}
    total = sum(hist.values())
    for b, left in enumerate(range(lo, hi + 1, width)):
        right = min(left + width - 1, hi)
        slots.append(str(left) if width == step else f"{left}-{right}")
        count = sum(c for v, c in hist.items() if left <= v <= right)
        values[(b, 0, "episodes")] = count
        tips[(b, 0, "episodes")] = (
            f"{x_label} {slots[-1]}: {plural(count, 'episode')} ({_pct(count / total)})"
        )
    return stacked_bar_chart(
        slots=slots,
        stacks=["episodes"],
        series=[Series("episodes", "Episodes", colour)],
        values=values,
        tooltips=tips,
        title=title,
        y_label="episodes",
        stack_caption=f"x: {x_label}",
        plot_height=200.0,
    )


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>" if svg else ""


def _provenance(data: dict[str, Any]) -> str:
    return (
        f'<p class="provenance">Scenario hash <code>{esc(data["scenario_hash"])}</code>, '
        f"seed <code>{esc(data['seed'])}</code>, <code>{esc(data['n'])}</code> episodes, "
        f"ceasefire version <code>{esc(data['package_version'])}</code>.</p>"
    )


def _priors_section(scenario: Scenario) -> str:
    if not scenario.priors:
        return (
            '<section id="priors">\n<h2>Priors</h2>\n<p>The scenario has no priors: every '
            "episode uses the file's values, and only draws inside the episodes "
            "(delays, refusals) differ.</p>\n</section>"
        )
    rows = []
    for prior in scenario.priors:
        dist = prior.distribution.model_dump(exclude_none=True)
        kind = dist.pop("kind", "")
        params = ", ".join(f"{k} {v}" for k, v in dist.items() if k not in ("source", "assumption"))
        why = prior.source or prior.assumption or ""
        rows.append(
            [
                f"<code>{esc(prior_name(prior.key()))}</code>",
                esc(f"{kind} ({params})"),
                esc(" ".join(str(why).split())),
            ]
        )
    return (
        '<section id="priors">\n<h2>Priors</h2>\n'
        '<p class="note">Each episode draws every prior once (its draw is in the Parquet '
        "file's <code>prior_</code> columns).</p>\n"
        + _table(["Prior", "Distribution", "Source or assumption"], rows)
        + "\n</section>"
    )


def _histogram_chart(ident: str, title: str, d: dict[str, Any], x_label: str, colour: str) -> str:
    svg = _histogram(title, d, x_label, colour)
    if not svg:
        return ""
    hist = {int(k): int(v) for k, v in d["histogram"].items()}
    tail = d.get("q95")
    kw: dict[str, Any] = {"title": title, "x_label": x_label, "colour": colour}
    kw["tail"] = float(tail) if tail is not None else None
    return chart(ident, histogram(hist, **kw), svg, log_spec=histogram(hist, **kw, log=True))


def _histogram_figures(scenario: Scenario, data: dict[str, Any]) -> list[str]:
    """One figure per distinct distribution: quantities whose episodes' histograms are the
    same (e.g. several categories driven by one prior) share one chart that names them all."""
    parties = {p.id: p.name for p in scenario.parties}
    categories = {c.id: c.name for c in scenario.categories}
    party_colour = party_colours([p.id for p in scenario.parties])
    category_colour = category_colours([c.id for c in scenario.categories])
    entries: list[tuple[str, str, dict[str, Any], str]] = [
        ("Pause days", "the number of pause days", data["pause_days"], "#555555")
    ]
    for pid, rel in data["released"].items():
        name = parties.get(pid, pid)
        entries.append(
            (
                f"Released by {name}",
                f"the total released under the deal by {name}",
                rel["total"],
                party_colour.get(pid, "#555555"),
            )
        )
        for cid, d in rel["by_category"].items():
            entries.append(
                (
                    f"Released by {name}: {categories.get(cid, cid)}",
                    f"the number released by {name} in the category {categories.get(cid, cid)}",
                    d,
                    category_colour.get(cid, "#555555"),
                )
            )
    groups: dict[tuple[tuple[str, int], ...], list[int]] = {}
    for i, (_, _, d, _) in enumerate(entries):
        key = tuple(sorted((k, int(v)) for k, v in d["histogram"].items()))
        groups.setdefault(key, []).append(i)
    figures: list[str] = []
    for n, members in enumerate(groups.values()):
        title, what, d, colour = entries[members[0]]
        caption = f"Episodes by {what}."
        if len(members) > 1:
            others = [entries[i][0] for i in members[1:]]
            title += f" (and {plural(len(others), 'other quantity', 'other quantities')})"
            caption = (
                f"Episodes by {what}. The same distribution, episode for episode, holds for: "
                + "; ".join(others)
                + ", so it is drawn once."
            )
        caption += " The dashed rule marks the 95th percentile; beyond it lies the tail."
        figures.append(
            _figure(
                _histogram_chart(
                    f"hist-{n}", title, d, "pause days" if n == 0 else "released", colour
                ),
                caption,
            )
        )
    return figures


def render_ensemble_report(scenario: Scenario, data: dict[str, Any]) -> str:
    """The ensemble's report: distributions, histograms, agreement by date, end reasons."""
    parties = {p.id: p.name for p in scenario.parties}
    categories = {c.id: c.name for c in scenario.categories}
    header = "\n".join(
        [
            f"<h1>{esc(scenario.name)}: ensemble of {esc(plural(data['n'], 'episode'))}</h1>",
            _provenance(data),
            '<p class="note">Distributions over simulated episodes, each on its own draw of '
            "the scenario's priors. They are outputs of the model under the scenario's terms "
            "and assumptions, not a record or a forecast of events. Probabilities carry a 95% "
            "Wilson score interval, which covers the sampling error of the ensemble only, not "
            "the model's.</p>",
            _nav(
                [
                    ("distributions", "Distributions"),
                    ("probabilities", "Probabilities"),
                    ("histograms", "Histograms"),
                    ("agreement", "Agreement by date"),
                    ("endings", "End reasons"),
                    ("priors", "Priors"),
                ]
            ),
        ]
    )
    q_headers = ["Quantity", "Mean", *(f"{round(q * 100)}%" for q in QUANTILES)]
    rows = [
        _quantile_row("Pause days", data["pause_days"]),
        _quantile_row("Extensions", data["extensions"]),
    ]
    for pid, rel in data["released"].items():
        rows.append(_quantile_row(f"Released by {parties.get(pid, pid)} (deal)", rel["total"]))
        for cid, d in rel["by_category"].items():
            rows.append(_quantile_row(f"  of which {categories.get(cid, cid)}", d))
    rows.append(_quantile_row("Side-channel releases", data["side_channel_released"]))
    rows.append(_quantile_row("Delays", data["delays"]))
    if "talk_rounds" in data:
        rows.append(_quantile_row("Talk rounds", data["talk_rounds"]))
    distributions = (
        '<section id="distributions">\n<h2>Distributions</h2>\n'
        f"{_table(q_headers, rows, numeric=range(1, len(q_headers)))}\n</section>"
    )
    p_rows = [
        ["Agreement by the horizon", *_prob_cell(data["agreement"])],
        ["Breach", *_prob_cell(data["breach"])],
    ]
    for reason, entry in data["end_reasons"].items():
        p_rows.append([f"Ends: <code>{esc(reason)}</code>", *_prob_cell(entry)])
    for who, entry in data["ended_by"].items():
        p_rows.append([esc(f"Ended by {parties.get(who, who)}"), *_prob_cell(entry)])
    probabilities = (
        '<section id="probabilities">\n<h2>Probabilities</h2>\n'
        + _table(["Event", "Probability", "95% interval", "Episodes"], p_rows, numeric=[1, 2, 3])
        + "\n</section>"
    )
    figures = _histogram_figures(scenario, data)
    histograms = (
        '<section id="histograms">\n<h2>Histograms</h2>\n'
        + "\n".join(f for f in figures if f)
        + "\n</section>"
    )
    by_date = data["agreement_by_date"]
    curve = band_chart(
        slots=[d["date"] for d in by_date],
        values=[d["p"] for d in by_date],
        lows=[d["low"] for d in by_date],
        highs=[d["high"] for d in by_date],
        title="Probability of an agreement by each date",
        y_label="P(agreement by date)",
        line_label="share of episodes agreed by the date",
        band_label="95% Wilson interval",
    )
    agreement = (
        '<section id="agreement">\n<h2>Agreement by date</h2>\n'
        + _figure(
            curve,
            "The share of episodes in which an agreement was reached on or "
            "before each date, with its 95% Wilson interval. An agreement in force "
            "counts from its signing date (else its start) in every episode whose "
            "pause began.",
        )
        + "\n</section>"
    )
    reasons = list(data["end_reasons"].items())
    endings_chart = hbar_chart(
        rows=[r for r, _ in reasons],
        series=[BarSeries("probability", "Probability", "#0072b2")],
        values=[[e["p"]] for _, e in reasons],
        intervals=[[(e["low"], e["high"])] for _, e in reasons],
        title="End reasons",
        x_label="probability",
        x_range=(0.0, 1.0),
    )
    endings = (
        '<section id="endings">\n<h2>End reasons</h2>\n'
        + _figure(endings_chart, "How the episodes ended, with 95% Wilson intervals.")
        + "\n</section>"
    )
    return _page(
        f"Ensemble report: {scenario.name}",
        header,
        [distributions, probabilities, histograms, agreement, endings, _priors_section(scenario)],
    )
