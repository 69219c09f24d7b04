"""A self-contained HTML report of one episode.

``render_report`` returns one HTML5 document as a string: inline CSS, a chart
drawn as inline SVG, no scripts and no network references, so it can be opened
offline, archived and printed. Every piece of text taken from the scenario or the
episode is escaped (see ``_svg.esc``). The same scenario and episode always give
the same string: nothing depends on the clock, and dictionaries are read in the
order the scenario or the engine fixed.

Longer than most modules (about 1,000 lines): one section builder per part of the
page (summary, chart, day-by-day table, transcript, talks, values, sources), in the
page's order, sharing one set of names and styles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel

from ceasefire.engine import (
    END_REASONS,
    Analytics,
    Episode,
    LedgerRow,
    Point,
    Summary,
    TranscriptEntry,
    bargaining_analytics,
)
from ceasefire.scenario import Scenario
from ceasefire.terminal import plural

from ._charts import category_colours, chart, chart_scripts, per_party_releases
from ._svg import (
    Band,
    Guide,
    Layer,
    Series,
    esc,
    line_chart,
    palette,
    runs,
    scatter_chart,
    stacked_bar_chart,
)

RELEASE_FLOWS = ("release", "counter_release", "side_channel_release")
DAY_FLOWS = {"pause_day": "pause", "fighting_day": "fighting"}
MODE_LABELS = {"pause": "Pause day", "fighting": "Fighting day"}
MODE_COLOURS = {"pause": "#dcefdc", "fighting": "#ececec"}
FLOW_LABELS = {
    "release": "Release",
    "counter_release": "Counter-release",
    "side_channel_release": "Side-channel release",
}
OFFER_KINDS = ("offer", "counter")
# At most this many outcomes are drawn as background dots in the negotiation scatter.
MAX_OUTCOME_DOTS = 5000
POINT_STYLES = {  # analytics point: (label, colour, marker, size)
    "nash": ("Nash point", "#009e73", "diamond", 6.5),
    "kalai_smorodinsky": ("Kalai-Smorodinsky point", "#cc79a7", "triangle", 6.5),
    "max_welfare": ("Maximum-welfare point", "#d55e00", "square", 5.0),
}
AGREEMENT_COLOUR = "#1b1b1b"
MEDIATOR_COLOUR = "#555555"
# Fields that identify an item in the "Sources and assumptions" table, in this order.
_ITEM_FIELDS = (
    "id",
    "kind",
    "target",
    "date",
    "holder",
    "releaser",
    "party",
    "group",
    "category",
    "custody",
    "count",
    "mediator",
    "term",
    "issue",
)

_CSS = """
:root { color-scheme: light; }
body {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Noto Sans", sans-serif;
  line-height: 1.45; color: #1b1b1b; background: #ffffff;
  max-width: 74rem; margin: 0 auto; padding: 1.5rem;
}
h1 { font-size: 1.6rem; margin: 0 0 0.3rem; }
h2 {
  font-size: 1.2rem; margin: 2.2rem 0 0.6rem; padding-bottom: 0.2rem;
  border-bottom: 1px solid #d0d0d0;
}
h3 { font-size: 1rem; margin: 1.2rem 0 0.4rem; }
p { margin: 0.4rem 0; }
.provenance, .note, .muted { color: #4a4a4a; font-size: 0.88rem; }
.item { display: block; color: #5a5a5a; font-size: 0.8rem; }
code {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 0.85em;
}
.provenance code { overflow-wrap: anywhere; }
.nowrap { white-space: nowrap; }
nav ul { list-style: none; padding: 0; margin: 0.8rem 0; display: flex; flex-wrap: wrap; }
nav li { margin: 0 1.2rem 0.2rem 0; }
nav a { color: #1f4e8c; }
table { border-collapse: collapse; width: 100%; margin: 0.4rem 0 1rem; font-size: 0.88rem; }
th, td {
  border: 1px solid #d9d9d9; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top;
  overflow-wrap: break-word;
}
td.mode { white-space: nowrap; }
thead th { background: #f2f2f2; }
table.kv th { width: 15rem; background: #f8f8f8; font-weight: 600; }
table.kv.narrow, table.narrow { width: auto; min-width: 24rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.subtotal td { font-weight: 600; background: #fafafa; }
tr.mode-pause td.mode { background: #dcefdc; }
tr.mode-fighting td.mode { background: #ececec; }
ul.flows { margin: 0; padding-left: 1.1rem; }
figure { margin: 1rem 0; }
figcaption { font-size: 0.88rem; color: #3a3a3a; margin-top: 0.4rem; }
svg.chart { display: block; width: 100%; height: auto; }
div.vl-chart { width: 100%; overflow-x: auto; }
div.vl-chart .vega-embed { width: 100%; }
label.vl-option { display: block; font-size: 0.88rem; margin: 0.3rem 0; }
figure.plane svg.chart { max-width: 46rem; }
h1, h2, h3, .provenance { overflow-wrap: anywhere; }
/* A narrow screen: tables scroll sideways in their own box, never the page. */
@media (max-width: 40em) {
  body { padding: 0.8rem; }
  main table, header table { display: block; overflow-x: auto; max-width: 100%; }
  table.kv.narrow, table.narrow { min-width: 0; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  h2, h3 { break-after: avoid; }
  figure, tr { break-inside: avoid; }
  thead { display: table-header-group; }
}
""".strip()


@dataclass(frozen=True)
class _Names:
    """Display names for the ids that appear in an episode's outputs."""

    parties: dict[str, str]
    categories: dict[str, str]
    actors: dict[str, str]

    @classmethod
    def of(cls, scenario: Scenario) -> _Names:
        parties = {p.id: p.name for p in scenario.parties}
        categories = {c.id: c.name for c in scenario.categories}
        actors = {g.id: g.name for g in scenario.groups}
        actors.update({m.id: m.name for m in scenario.mediators})
        actors.update(parties)
        return cls(parties=parties, categories=categories, actors=actors)

    def party(self, pid: str | None) -> str:
        if not pid:
            return "none"
        return self.parties.get(pid, pid)

    def actor(self, aid: str) -> str:
        return self.actors.get(aid, aid)

    def category(self, cid: str) -> str:
        return self.categories.get(cid, cid)


# ---------------------------------------------------------------------------
# Small HTML helpers


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Iterable[int] = (),
    columns: Mapping[int, str] | None = None,
    row_classes: Sequence[str] | None = None,
) -> str:
    """A table; ``headers`` are plain text, cells are already HTML.

    ``numeric`` columns are right-aligned; ``columns`` gives other columns a class;
    ``row_classes`` gives each body row a class.
    """
    col_cls = dict(columns or {})
    for i in numeric:
        col_cls[i] = "num"

    def attr(i: int) -> str:
        return f' class="{esc(col_cls[i])}"' if i in col_cls else ""

    head = "".join(f'<th scope="col"{attr(i)}>{esc(h)}</th>' for i, h in enumerate(headers))
    body: list[str] = []
    for r, row in enumerate(rows):
        cells = "".join(f"<td{attr(i)}>{c}</td>" for i, c in enumerate(row))
        tr_cls = row_classes[r] if row_classes is not None and r < len(row_classes) else ""
        body.append(f'<tr class="{esc(tr_cls)}">{cells}</tr>' if tr_cls else f"<tr>{cells}</tr>")
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>"
    )


def _kv_table(rows: Sequence[tuple[str, str]], cls: str = "kv") -> str:
    """A two-column table of labels (plain text) and values (HTML)."""
    body = "\n".join(f'<tr><th scope="row">{esc(k)}</th><td>{v}</td></tr>' for k, v in rows)
    return f'<table class="{esc(cls)}"><tbody>\n{body}\n</tbody></table>'


def _ident(ident: str) -> str:
    """An id as HTML code that may break after its underscores."""
    return "<code>" + esc(ident).replace("_", "_<wbr>") + "</code>"


def _named(name: str, ident: str) -> str:
    """A display name with its id, as HTML."""
    if name == ident:
        return _ident(ident)
    return f"{esc(name)} {_ident(ident)}"


def _mapping(values: Mapping[str, float] | Mapping[str, int]) -> str:
    """A small mapping as ``key: value`` lines of HTML, in its own order."""
    return "<br>".join(f"{esc(k)}: {v:g}" for k, v in values.items())


def _days_word(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


# ---------------------------------------------------------------------------
# Reading the ledger


def _calendar_days(summary: Summary, ledger: Sequence[LedgerRow]) -> list[str]:
    """Every date of the calendar, and any other date the ledger names, in order."""
    days = {row.date for row in ledger}
    try:
        start = date.fromisoformat(summary.calendar_start)
        end = date.fromisoformat(summary.horizon)
    except ValueError:
        return sorted(days)
    if (end - start).days <= 3660:
        day = start
        while day <= end:
            days.add(day.isoformat())
            day += timedelta(days=1)
    return sorted(days)


def _day_modes(ledger: Sequence[LedgerRow]) -> dict[str, str]:
    """Each date's mode, from its pause_day / fighting_day row (else any row's mode)."""
    modes: dict[str, str] = {}
    for row in ledger:
        if row.flow in DAY_FLOWS:
            modes[row.date] = DAY_FLOWS[row.flow]
    for row in ledger:
        if row.date not in modes and row.mode:
            modes[row.date] = row.mode
    return modes


def release_counts(ledger: Iterable[LedgerRow]) -> dict[tuple[str, str, str], int]:
    """Captives released per ``(date, from_party, category)``, over every release flow."""
    out: dict[tuple[str, str, str], int] = {}
    for row in ledger:
        if row.flow in RELEASE_FLOWS:
            key = (row.date, row.from_party, row.category)
            out[key] = out.get(key, 0) + row.count
    return out


def _ordered(known: Sequence[str], present: Iterable[str]) -> list[str]:
    """``present`` ids in the order of ``known``, then any others sorted."""
    seen = set(present)
    return [k for k in known if k in seen] + sorted(seen - set(known))


# ---------------------------------------------------------------------------
# Provenance


def sources_and_assumptions(model: BaseModel) -> list[tuple[str, str, str, str]]:
    """Every ``source`` and ``assumption`` in a model, as ``(path, item, kind, text)``.

    ``path`` is the field path (``agreement.batches``, ``holdings[2]``,
    ``values.parties.israel``), ``item`` a few identifying fields of the object.
    Walks models, lists and dictionaries in their own order.
    """
    out: list[tuple[str, str, str, str]] = []
    _walk(model, "", out)
    return out


def _walk(obj: object, path: str, out: list[tuple[str, str, str, str]]) -> None:
    if isinstance(obj, BaseModel):
        fields = type(obj).model_fields
        item = ", ".join(
            f"{name} {getattr(obj, name)}"
            for name in _ITEM_FIELDS
            if name in fields
            and getattr(obj, name) is not None
            # a field left at its default names nothing (an agreement's kind "pause")
            and (fields[name].is_required() or getattr(obj, name) != fields[name].default)
        )
        for kind in ("source", "assumption"):
            value = getattr(obj, kind, None)
            if value is not None:
                out.append((path or "(scenario)", item, kind, str(value).strip()))
        for name in fields:
            if name not in ("source", "assumption"):
                _walk(getattr(obj, name), f"{path}.{name}" if path else name, out)
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            _walk(value, f"{path}[{i}]", out)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _walk(value, f"{path}.{key}", out)


# ---------------------------------------------------------------------------
# Sections


def _head(scenario: Scenario) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Episode report: {esc(scenario.name)}</title>\n"
        f"<style>\n{_CSS}\n</style>\n</head>\n<body>"
    )


def _header(scenario: Scenario, summary: Summary, negotiation: bool = False) -> str:
    description = (
        f'<p class="description">{esc(scenario.description.strip())}</p>'
        if scenario.description
        else ""
    )
    links = [("summary", "Summary"), ("chart", "Releases per day")]
    if negotiation:
        links.append(("negotiation", "Negotiation"))
    links += [
        ("days", "Day by day"),
        ("transcript", "Transcript"),
        ("scenario", "Parties and categories"),
        ("values", "Value model"),
        ("sources", "Sources and assumptions"),
    ]
    nav = "".join(f'<li><a href="#{anchor}">{esc(label)}</a></li>' for anchor, label in links)
    return (
        "<header>\n"
        f"<h1>{esc(scenario.name)}</h1>\n"
        f'<p class="provenance">Scenario hash <code>{esc(summary.scenario_hash)}</code>, '
        f"seed <code>{esc(summary.seed)}</code>, "
        + (
            f"draw <code>{esc(summary.draw)}</code> of the scenario's priors, "
            if summary.draw is not None
            else ""
        )
        + f"ceasefire version <code>{esc(summary.package_version)}</code>.</p>\n"
        f"{description}\n"
        '<p class="note">This report shows one simulated episode. The figures are outputs '
        "of the model under the scenario's terms, holdings and assumptions; they are not "
        "a record of events.</p>\n"
        f"<nav><ul>{nav}</ul></nav>\n"
        "</header>"
    )


def phases_text(phases: list[dict[str, Any]]) -> str:
    """The phases carried out, in words: "phase 1 from 2024-03-05 (10 days); ..."."""
    return "; ".join(
        f"phase {p['phase']} from {p['start']} ({_days_word(p['days'])})" for p in phases
    )


def _summary_section(scenario: Scenario, summary: Summary, names: _Names) -> str:
    s = summary
    if s.extensions:
        extensions = f"{len(s.extensions)}: " + ", ".join(_days_word(d) for d in s.extensions)
    else:
        extensions = "none"
    reason = END_REASONS.get(s.end_reason, "")
    end = _ident(s.end_reason) + (f" ({esc(reason)})" if reason else "")
    general = [
        ("Calendar", f"{esc(s.calendar_start)} to {esc(s.horizon)}"),
        ("Agreement reached", "yes" if s.agreement_reached else "no"),
        ("Agreement date", esc(s.agreement_date or "none")),
        *(
            [("Kind", "a one-off exchange, without a pause")]
            if s.agreement_kind == "exchange"
            else []
        ),
        ("Pause start", esc(s.pause_start or "no pause")),
        ("Pause end", esc(s.pause_end or "no pause")),
        ("Pause days", esc(s.pause_days)),
        ("Fighting days", esc(s.fighting_days)),
        ("Extensions", esc(extensions)),
        *([("Phases", esc(phases_text(s.phases)))] if s.phases else []),
        ("Side-channel releases", esc(s.side_channel_released)),
        ("Breaches", esc(len(s.breaches))),
        ("Delays", esc(s.delays)),
        ("End reason", end),
        ("End detail", esc(s.end_detail) if s.end_detail else "none"),
        ("Ended by", esc(names.party(s.ended_by))),
        ("End date", esc(s.end_date)),
        *(
            (
                f"Remains returned by {esc(names.party(pid))}",
                esc(", ".join(f"{n} {names.category(c)}" for c, n in counts.items())),
            )
            for pid, counts in s.remains.items()
        ),
        *(
            (
                f"Obligations of {esc(names.party(pid))} over the pause",
                esc(", ".join(f"{n:,} {o}" for o, n in owed.items())),
            )
            for pid, owed in s.obligations.items()
        ),
        *(
            (
                "Postponed",
                esc(f"{names.party(m['party'])}'s {m['what']}: due {m['due']}, made {m['made']}"),
            )
            for m in s.postponed
        ),
    ]
    parts = ['<section id="summary">', "<h2>Summary</h2>", _kv_table(general)]

    parts.append("<h3>Releases under the agreement, by party and category</h3>")
    party_ids = _ordered([p.id for p in scenario.parties], s.released)
    cat_order = [c.id for c in scenario.categories]
    rows: list[list[str]] = []
    classes: list[str] = []
    for pid in party_ids:
        by_cat = s.released[pid]
        for cid in _ordered(cat_order, by_cat):
            rows.append([esc(names.party(pid)), _named(names.category(cid), cid), esc(by_cat[cid])])
            classes.append("")
        rows.append([esc(names.party(pid)), "Total", esc(sum(by_cat.values()))])
        classes.append("subtotal")
    if rows:
        parts.append(
            _table(["Released by", "Category", "Released"], rows, numeric=[2], row_classes=classes)
        )
    else:
        parts.append("<p>No releases under the agreement.</p>")

    parts.append("<h3>Releases through side channels, by category</h3>")
    by_cat = s.side_channel_by_category
    side_rows = [
        [_named(names.category(cid), cid), esc(by_cat[cid])] for cid in _ordered(cat_order, by_cat)
    ]
    side_rows.append(["Total", esc(s.side_channel_released)])
    parts.append(
        _table(
            ["Category", "Released"],
            side_rows,
            numeric=[1],
            row_classes=[""] * (len(side_rows) - 1) + ["subtotal"],
        )
    )

    parts.append("<h3>Breaches</h3>")
    if s.breaches:
        known = ["date", "party", "detail"]
        others = sorted({k for b in s.breaches for k in b} - set(known))
        breach_rows = [
            [
                esc(b.get("date", "")),
                esc(names.party(str(b.get("party", "")))),
                esc(b.get("detail", "")),
            ]
            + [esc(b.get(k, "")) for k in others]
            for b in s.breaches
        ]
        parts.append(_table(["Date", "Party", "Detail", *others], breach_rows))
    else:
        parts.append("<p>No breaches.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _chart_section(scenario: Scenario, episode: Episode, names: _Names) -> str:
    days = _calendar_days(episode.summary, episode.ledger)
    modes = _day_modes(episode.ledger)
    counts = {k: n for k, n in release_counts(episode.ledger).items() if n > 0}
    index = {d: i for i, d in enumerate(days)}

    party_ids = _ordered([p.id for p in scenario.parties], (k[1] for k in counts))
    all_cats = [c.id for c in scenario.categories]
    cat_ids = _ordered(all_cats, (k[2] for k in counts))
    # Colours follow the scenario's categories, so they do not change between episodes.
    coloured = all_cats + [c for c in cat_ids if c not in all_cats]
    colour_of = dict(zip(coloured, palette(len(coloured)), strict=True))
    # Legend order: the categories of the first (left) bar, then the next bar's.
    first_stack = {
        cid: min(party_ids.index(k[1]) for k in counts if k[2] == cid) for cid in cat_ids
    }
    cat_ids.sort(key=lambda cid: (first_stack[cid], coloured.index(cid)))
    series = [Series(cid, names.category(cid), colour_of[cid]) for cid in cat_ids]

    side: dict[tuple[str, str, str], int] = {}
    for row in episode.ledger:
        if row.flow == "side_channel_release":
            flow_key = (row.date, row.from_party, row.category)
            side[flow_key] = side.get(flow_key, 0) + row.count
    stack_of = {pid: i for i, pid in enumerate(party_ids)}
    values: dict[tuple[int, int, str], float] = {}
    tooltips: dict[tuple[int, int, str], str] = {}
    for (day, pid, cid), count in sorted(counts.items()):
        key = (index[day], stack_of[pid], cid)
        values[key] = float(count)
        tip = f"{day}, released by {names.party(pid)}, {names.category(cid)} ({cid}): {count}"
        if side.get((day, pid, cid)):
            tip += f" (of which {side[(day, pid, cid)]} through side channels)"
        tooltips[key] = tip

    day_modes = [modes.get(d, "unknown") for d in days]
    bands = [
        Band(
            start,
            end,
            mode,
            MODE_LABELS.get(mode, mode) + " (shaded background)",
            MODE_COLOURS.get(mode, "#ffffff"),
        )
        for start, end, mode in runs(day_modes)
    ]
    stacks = [f"released by {names.party(pid)}" for pid in party_ids]
    if len(stacks) == 2:
        caption = (
            f"Two bars per day: left, captives released by {names.party(party_ids[0])}; "
            f"right, captives released by {names.party(party_ids[1])}."
        )
    else:
        caption = None
    svg = stacked_bar_chart(
        slots=days,
        stacks=stacks,
        series=series,
        values=values,
        bands=bands,
        tooltips=tooltips,
        title="Captives released per day, by releasing party and category",
        y_label="Captives released",
        stack_caption=caption,
        empty_note="No releases in this episode",
    )
    positions = (
        ["left", "right"]
        if len(party_ids) == 2
        else [f"bar {i + 1}" for i in range(len(party_ids))]
    )
    who = "; ".join(
        f"{pos}: released by {names.party(pid)}"
        for pos, pid in zip(positions, party_ids, strict=True)
    )
    figcaption = (
        "Captives released each day, under the agreement and through side channels, "
        "stacked by category: one panel per releasing party, each on its own scale; "
        "hover a bar for its date, party, category, count and mode of the day, click a "
        "legend entry to show that category alone. Without scripts, one chart: "
        + (f"bars in each day, {who}; " if len(party_ids) > 1 else "")
        + "shaded backgrounds mark pause days and fighting days."
    )
    rows = [
        {
            "date": day,
            "party": names.party(pid),
            "category": names.category(cid),
            "count": count,
            "mode": MODE_LABELS.get(modes.get(day, "unknown"), modes.get(day, "unknown")),
        }
        for (day, pid, cid), count in sorted(counts.items())
    ]
    shown = (
        chart(
            "chart-releases",
            per_party_releases(
                rows,
                parties=[names.party(pid) for pid in party_ids],
                categories={cid: names.category(cid) for cid in coloured},
                colours=category_colours(coloured),
                title="Captives released per day: one panel per releasing party",
            ),
            svg,
        )
        if rows
        else svg
    )
    figcaption += (
        (
            " With scripts on, each releasing party has its own panel and count axis, so a "
            "handful of releases is not dwarfed by hundreds; a click on a category in the "
            "legend shows only that category (double-click: all again)."
        )
        if rows
        else ""
    )
    return (
        '<section id="chart">\n<h2>Releases per day</h2>\n<figure>\n'
        f"{shown}\n<figcaption>{esc(figcaption)}</figcaption>\n</figure>\n</section>"
    )


def _terms_text(terms: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in terms.items())


def _value(v: float) -> str:
    """A value as short text (4 significant digits, no negative zero)."""
    text = f"{v:.4g}"
    return "0" if text == "-0" else text


def _outcome_dots(analytics: Analytics) -> list[tuple[float, float]]:
    """Every outcome's (value to a, value to b), duplicates dropped, in a fixed order;
    at most MAX_OUTCOME_DOTS of them, drawn by a fixed-seed generator if more."""
    a, b = analytics.parties
    va, vb = analytics.table.values[a], analytics.table.values[b]
    if len(va) == 0:
        return []
    pairs = np.unique(np.round(np.column_stack([va, vb]), 6), axis=0)
    if len(pairs) > MAX_OUTCOME_DOTS:
        keep = np.random.default_rng(0).choice(len(pairs), MAX_OUTCOME_DOTS, replace=False)
        pairs = pairs[np.sort(keep)]
    return [(float(x), float(y)) for x, y in pairs]


def _offer_tip(e: TranscriptEntry, parties: Sequence[str], names: _Names) -> str:
    values = ", ".join(
        f"value to {names.party(p)} {_value(e.values[p])}" for p in parties if p in e.values
    )
    return f"Day {e.day} ({e.date}): {e.text}; {values}"


def _negotiation_section(scenario: Scenario, episode: Episode, names: _Names) -> str | None:
    """Offers over time, the outcome plane with the analytics points, and a table of the
    analytics and each agreement's satisfaction; None when the transcript has no offers."""
    offers = [e for e in episode.transcript if e.kind in OFFER_KINDS and e.actors and e.values]
    if scenario.negotiation is None or not offers:
        return None
    analytics = bargaining_analytics(scenario)
    a, b = analytics.parties
    colour = dict(zip((a, b), palette(2), strict=True))
    other = {a: b, b: a}
    agreements = episode.summary.agreements
    reservation_guides = [
        Guide("y", analytics.reservation[p], f"Reservation value of {names.party(p)}", colour[p])
        for p in (a, b)
    ]

    # (a) Both sides' values of every offer, over the days of the episode; one line per
    # session of talks (a session starts at its talks_open entry).
    session_of: dict[int, int] = {}
    session = 0
    for e in episode.transcript:
        session += e.kind == "talks_open"
        session_of[e.seq] = session
    series: list[Layer] = []
    for p in (a, b):
        made = [e for e in offers if e.actors[0] == p and p in e.values and other[p] in e.values]
        for k, number in enumerate(sorted({session_of[e.seq] for e in made})):
            own = [e for e in made if session_of[e.seq] == number]
            tips = [_offer_tip(e, (a, b), names) for e in own]
            series.append(
                Layer(
                    key=f"offer-own offer-own-{p}",
                    label=f"Offers of {names.party(p)}: value to {names.party(p)}"
                    if k == 0
                    else "",
                    colour=colour[p],
                    points=[(float(e.day), e.values[p]) for e in own],
                    tooltips=tips,
                    marker="circle",
                    size=2.2,
                    line="solid",
                )
            )
            series.append(
                Layer(
                    key=f"offer-other offer-other-{p}",
                    label=(f"Offers of {names.party(p)}: value to {names.party(other[p])} (dashed)")
                    if k == 0
                    else "",
                    colour=colour[p],
                    points=[(float(e.day), e.values[other[p]]) for e in own],
                    tooltips=tips,
                    marker="circle",
                    size=1.6,
                    line="dashed",
                )
            )
    day_of = {e.date: e.day for e in episode.transcript}
    agreement_guides = [
        Guide(
            "x",
            float(day_of[d["date"]]),
            f"Agreement on day {day_of[d['date']]}",
            AGREEMENT_COLOUR,
            dashed=False,
        )
        for d in agreements
        if d.get("date") in day_of
    ]
    lines = line_chart(
        series=series,
        guides=[*reservation_guides, *agreement_guides],
        title="Each side's value of every offer, by day",
        x_label="Day of the episode",
        y_label="Value of the offer",
    )

    # (b) The outcome plane: value to a (x) against value to b (y).
    layers = [
        Layer(
            key="outcome",
            label="Outcomes on the table",
            colour="#c8c8c8",
            points=_outcome_dots(analytics),
            marker="dot",
            size=3.0,
        ),
        Layer(
            key="frontier",
            label="Pareto frontier",
            colour="#555555",
            points=[(q.values[a], q.values[b]) for q in analytics.frontier],
            marker="none",
            line="solid",
        ),
    ]
    for p in (a, b):
        own = [e for e in offers if e.actors[0] == p and a in e.values and b in e.values]
        if own:
            layers.append(
                Layer(
                    key=f"offer offer-{p}",
                    label=f"Offers of {names.party(p)}",
                    colour=colour[p],
                    points=[(e.values[a], e.values[b]) for e in own],
                    tooltips=[_offer_tip(e, (a, b), names) for e in own],
                    marker="circle",
                    size=4.0,
                    opacity=0.75,
                )
            )
    texts = [
        e
        for e in episode.transcript
        if e.kind == "mediator_text" and a in e.values and b in e.values
    ]
    if texts:
        layers.append(
            Layer(
                key="mediator-text",
                label="Mediator's compromise text",
                colour=MEDIATOR_COLOUR,
                points=[(e.values[a], e.values[b]) for e in texts],
                tooltips=[_offer_tip(e, (a, b), names) for e in texts],
                marker="cross",
                size=5.0,
            )
        )
    points: dict[str, Point | None] = {
        "nash": analytics.nash,
        "kalai_smorodinsky": analytics.kalai_smorodinsky,
        "max_welfare": analytics.max_welfare,
    }
    for key, point in points.items():
        if point is None:
            continue
        label, point_colour, marker, size = POINT_STYLES[key]
        layers.append(
            Layer(
                key=f"point-{key.replace('_', '-')}",
                label=label,
                colour=point_colour,
                points=[(point.values[a], point.values[b])],
                tooltips=[
                    f"{label}: {_terms_text(point.terms)}; value to {names.party(a)} "
                    f"{_value(point.values[a])}, to {names.party(b)} "
                    f"{_value(point.values[b])}"
                ],
                marker=marker,
                size=size,
            )
        )
    deals = [d for d in agreements if a in d.get("values", {}) and b in d.get("values", {})]
    if deals:
        layers.append(
            Layer(
                key="agreement",
                label="Agreement",
                colour=AGREEMENT_COLOUR,
                points=[(float(d["values"][a]), float(d["values"][b])) for d in deals],
                tooltips=[
                    f"Agreement on {d['date']} ({str(d.get('via', '')).replace('_', ' ')}): "
                    f"{_terms_text(d.get('terms', {}))}; value to {names.party(a)} "
                    f"{_value(d['values'][a])}, to {names.party(b)} {_value(d['values'][b])}"
                    for d in deals
                ],
                marker="star",
                size=10.0,
            )
        )
    plane = scatter_chart(
        layers=layers,
        guides=[
            Guide(
                "x", analytics.reservation[a], f"Reservation value of {names.party(a)}", colour[a]
            ),
            Guide(
                "y", analytics.reservation[b], f"Reservation value of {names.party(b)}", colour[b]
            ),
        ],
        title=f"Outcomes valued by {names.party(a)} and {names.party(b)}",
        x_label=f"Value to {names.party(a)}",
        y_label=f"Value to {names.party(b)}",
        empty_note="No outcome is feasible",
    )

    # (c) The analytics, and each agreement's satisfaction.
    def row(
        label: str,
        terms: Mapping[str, Any],
        values: Mapping[str, float],
        shares: Mapping[str, float],
    ) -> list[str]:
        return [
            esc(label),
            esc(_terms_text(terms)),
            *(esc(_value(float(values[p]))) if p in values else "" for p in (a, b)),
            *(esc(f"{float(shares[p]):.3f}") if p in shares else "" for p in (a, b)),
        ]

    rows: list[list[str]] = []
    for key, point in points.items():
        label = POINT_STYLES[key][0]
        if point is None:
            rows.append([esc(label), '<span class="muted">none</span>', "", "", "", ""])
        else:
            rows.append(row(label, point.terms, point.values, analytics.satisfaction(point.values)))
    for d in agreements:
        via = str(d.get("via", "")).replace("_", " ")
        rows.append(
            row(
                f"Agreement, {d.get('date', '')} ({via})",
                d.get("terms", {}),
                d.get("values", {}),
                d.get("satisfaction", {}),
            )
        )
    points_table = _table(
        [
            "Outcome",
            "Terms",
            f"Value to {names.party(a)}",
            f"Value to {names.party(b)}",
            f"Satisfaction of {names.party(a)}",
            f"Satisfaction of {names.party(b)}",
        ],
        rows,
        numeric=[2, 3, 4, 5],
    )
    opposition = "none" if analytics.opposition is None else f"{analytics.opposition:.3f}"
    facts = [
        ("Outcomes on the table", esc(analytics.outcome_count)),
        ("Pareto-optimal outcomes", esc(len(analytics.frontier))),
        *(
            (
                f"{names.party(p)}: reservation, best value",
                esc(
                    f"{_value(analytics.reservation[p])}, "
                    + ("none" if (v := analytics.best[p]) is None else _value(v))
                ),
            )
            for p in (a, b)
        ),
        *(
            (f"{names.party(p)}: pressure when the talks open", esc(f"{analytics.pressure[p]:g}"))
            for p in (a, b)
        ),
        ("Opposition", esc(opposition)),
    ]
    shown = len(layers[0].points)
    dots_note = (
        f" {shown} of them are drawn (a fixed sample)."
        if shown < analytics.outcome_count and shown == MAX_OUTCOME_DOTS
        else ""
    )
    return (
        '<section id="negotiation">\n<h2>Negotiation</h2>\n'
        f'<p class="note">Values are in the units of the value model '
        f"({esc(scenario.values.units.strip())}). The outcome plane and "
        "the bargaining analytics are computed on the table on the day the talks open (the "
        "scenario's holdings, values and pressure, changed by the dated events up to that "
        "day); offers and agreements are placed at the values the transcript recorded on "
        "their day, which later events, pressure and releases may have moved. "
        "Satisfaction is a side's gain over its reservation value as a share of the most it "
        "could have gained.</p>\n"
        f"<figure>\n{lines}\n<figcaption>"
        + esc(
            "Each offer's value to both sides, by day: a solid line for the value to the "
            "side that made the offer, dashed for the value to the other side. Horizontal "
            "dashed lines mark each side's reservation value; vertical lines mark agreements."
        )
        + "</figcaption>\n</figure>\n"
        f'<figure class="plane">\n{plane}\n<figcaption>'
        + esc(
            f"Every outcome on the table (grey) by its value to {names.party(a)} "
            f"(across) and to {names.party(b)} (up), with the Pareto frontier, the "
            "Nash, Kalai-Smorodinsky and maximum-welfare points, every offer of each side, "
            "and the agreement (star). Dashed lines mark the reservation values." + dots_note
        )
        + "</figcaption>\n</figure>\n"
        "<h3>Bargaining analytics and agreements</h3>\n"
        f"{points_table}\n{_kv_table(facts, 'kv narrow')}\n</section>"
    )


def _flow_item(row: LedgerRow, names: _Names) -> str:
    label = FLOW_LABELS.get(row.flow, row.flow)
    channel = f" ({_ident(row.channel)})" if row.channel else ""
    return (
        f"<li>{esc(label)}{channel}: {esc(names.actor(row.from_party))} to "
        f"{esc(names.actor(row.to_party))}, {esc(row.count)} "
        f"{_named(names.category(row.category), row.category)}</li>"
    )


def _days_section(episode: Episode, names: _Names) -> str:
    days = _calendar_days(episode.summary, episode.ledger)
    modes = _day_modes(episode.ledger)
    numbers: dict[str, int] = {}
    flows: dict[str, list[LedgerRow]] = {}
    for row in episode.ledger:
        numbers.setdefault(row.date, row.day)
        if row.flow not in DAY_FLOWS:
            flows.setdefault(row.date, []).append(row)
    rows: list[list[str]] = []
    classes: list[str] = []
    for d in days:
        mode = modes.get(d, "unknown")
        day_flows = flows.get(d, [])
        released = sum(r.count for r in day_flows if r.flow in RELEASE_FLOWS)
        items = "".join(_flow_item(r, names) for r in day_flows)
        rows.append(
            [
                f'<span class="nowrap">{esc(d)}</span>',
                esc(numbers.get(d, "")),
                esc(MODE_LABELS.get(mode, mode)),
                esc(released),
                f'<ul class="flows">{items}</ul>' if items else '<span class="muted">none</span>',
            ]
        )
        classes.append(f"mode-{mode}")
    table = _table(
        ["Date", "Run day", "Mode", "Released", "Flows"],
        rows,
        numeric=[1, 3],
        columns={2: "mode"},
        row_classes=classes,
    )
    return (
        '<section id="days">\n<h2>Day by day</h2>\n'
        '<p class="note">From the ledger: each day\'s mode and its flows. Run day 1 is the '
        "first day of the scenario's calendar (a compliance report numbers days from the "
        "agreement's first day).</p>\n"
        f"{table}\n</section>"
    )


def _transcript_section(transcript: Sequence[TranscriptEntry], names: _Names) -> str:
    rows = [
        [
            esc(e.seq),
            f'<span class="nowrap">{esc(e.date)}</span>',
            _ident(e.kind),
            esc(", ".join(names.actor(a) for a in e.actors)),
            esc(e.text),
            _mapping(e.counts),
            _mapping(e.values),
        ]
        for e in transcript
    ]
    return (
        '<section id="transcript">\n<h2>Transcript</h2>\n'
        f'<p class="note">{plural(len(transcript), "entry", "entries")}, in order. '
        "Counts are numbers of captives; values are in the units of the value model (below).</p>\n"
        + _table(["Seq", "Date", "Kind", "Actors", "Text", "Counts", "Values"], rows, numeric=[0])
        + "\n</section>"
    )


def _scenario_section(scenario: Scenario) -> str:
    def described(items: Iterable[tuple[str, str, str | None]]) -> list[list[str]]:
        return [
            [esc(name), _ident(ident), esc(text.strip()) if text else ""]
            for ident, name, text in items
        ]

    parties = described((p.id, p.name, p.description) for p in scenario.parties)
    categories = described((c.id, c.name, c.description) for c in scenario.categories)
    parts = [
        '<section id="scenario">\n<h2>Parties and categories</h2>',
        _table(["Party", "Id", "Description"], parties),
        _table(["Category", "Id", "Description"], categories),
    ]
    if scenario.mediators:
        mediators = [
            [
                esc(m.name),
                _ident(m.id),
                esc(", ".join(f"{a} and {b}" for a, b in m.channels)),
                esc(m.relay_delay_days),
            ]
            for m in scenario.mediators
        ]
        parts.append(
            _table(
                ["Mediator", "Id", "Relays between", "Relay delay (days)"], mediators, numeric=[3]
            )
        )
    parts.append("</section>")
    return "\n".join(parts)


def _values_section(scenario: Scenario, names: _Names) -> str:
    rows = [
        [
            esc(names.party(pid)),
            _mapping(pv.receive) or '<span class="muted">none</span>',
            _mapping(pv.give) or '<span class="muted">none</span>',
            f"{pv.pause_day:g}",
            f"{pv.fighting_day:g}",
        ]
        for pid, pv in scenario.values.parties.items()
    ]
    return (
        '<section id="values">\n<h2>Value model</h2>\n'
        f"<p><strong>Units:</strong> {esc(scenario.values.units.strip())}</p>\n"
        + _table(
            ["Party", "Receive (per captive)", "Give (per captive)", "Pause day", "Fighting day"],
            rows,
            numeric=[3, 4],
        )
        + "\n</section>"
    )


def _sources_section(scenario: Scenario) -> str:
    found = sources_and_assumptions(scenario)
    n_src = sum(1 for f in found if f[2] == "source")
    n_asm = len(found) - n_src
    rows = [
        [
            "<code>"
            + esc(path).replace(".", ".<wbr>")
            + "</code>"
            + (f'<span class="item">{esc(item)}</span>' if item else ""),
            esc(kind.capitalize()),
            esc(text),
        ]
        for path, item, kind, text in found
    ]
    table = (
        _table(["Field", "Kind", "Text"], rows)
        if rows
        else ("<p>The scenario states no sources or assumptions.</p>")
    )
    return (
        '<section id="sources">\n<h2>Sources and assumptions</h2>\n'
        f'<p class="note">{n_src} sources and {n_asm} assumptions, as written in the '
        "scenario file. A source names where numbers come from; an assumption gives the "
        "reasoning for a modelling choice. Addresses are shown as text, not as links.</p>\n"
        f"{table}\n</section>"
    )


def render_report(scenario: Scenario, episode: Episode) -> str:
    """One self-contained HTML5 document describing ``episode`` of ``scenario``."""
    names = _Names.of(scenario)
    negotiation = _negotiation_section(scenario, episode, names)
    parts = [
        _head(scenario),
        _header(scenario, episode.summary, negotiation=negotiation is not None),
        "<main>",
        _summary_section(scenario, episode.summary, names),
        _chart_section(scenario, episode, names),
        *([negotiation] if negotiation is not None else []),
        _days_section(episode, names),
        _transcript_section(episode.transcript, names),
        _scenario_section(scenario),
        _values_section(scenario, names),
        _sources_section(scenario),
        "</main>",
        chart_scripts(),
        "</body>\n</html>\n",
    ]
    return "\n".join(parts)
