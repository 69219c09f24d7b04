"""Replay an episode day by day in the terminal, for trainers and readers.

Each day with transcript entries is one panel: a table of that day's entries (kind,
actors, text), under each text each side's value of the step and any further values
the entry holds (aspirations, satisfaction, the extension against fighting). Panels take
the terminal's width; on a terminal, a day taller than the screen is shown in parts.
Days are numbered as ``run`` numbers them (run day 1 is the calendar's first day).
Runs of days without entries are one line ("3 quiet days"). After each panel the
replay asks ``input_fn`` to go on: Enter shows the next, ``q`` stops. Without
``input_fn`` (standard input is not a terminal) every day is shown, one after the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ceasefire.engine import Episode, TranscriptEntry
from ceasefire.terminal import data_text, plural

PROMPT = "Enter: next day, q: quit "
KIND_STYLES = {
    "offer": "cyan",
    "counter": "cyan",
    "accept": "green",
    "agreement": "bold green",
    "veto": "red",
    "breach": "bold red",
    "breakdown": "red",
    "timeout": "red",
    "talks_end": "red",
    "mediator_text": "magenta",
}


def _number(value: float) -> str:
    text = f"{value:.4g}"
    return "0" if text == "-0" else text


def _label(key: str, names: Mapping[str, str]) -> str:
    """``side_a_aspiration`` -> ``Side A aspiration``, for the party ids in ``names``."""
    if key in names:
        return names[key]
    for pid in sorted(names, key=len, reverse=True):
        if key.startswith(pid + "_"):
            return f"{names[pid]} {key[len(pid) + 1 :].replace('_', ' ')}"
    return key.replace("_", " ")


def _entry_cells(
    e: TranscriptEntry, parties: Sequence[str], names: Mapping[str, str]
) -> list[Text]:
    """One entry's cells: seq, kind, actors, and its text with the values under it
    (each side's value of the step first, then the entry's other values)."""
    counts = ", ".join(f"{n} {c}" for c, n in e.counts.items())
    text = e.text + (f" [{counts}]" if counts and counts not in e.text else "")
    values = [
        f"value to {names.get(p, p)} {_number(e.values[p])}" for p in parties if p in e.values
    ]
    values += [f"{_label(k, names)} {_number(v)}" for k, v in e.values.items() if k not in parties]
    body = data_text(text)
    if values:
        body.append_text(data_text("\n" + "; ".join(values), style="dim"))
    return [
        data_text(str(e.seq)),
        data_text(e.kind, style=KIND_STYLES.get(e.kind, "")),
        data_text(", ".join(names.get(a, a) for a in e.actors)),
        body,
    ]


def _day_panel(
    title: str, entries: Sequence[TranscriptEntry], parties: Sequence[str], names: Mapping[str, str]
) -> Panel:
    table = Table(expand=True, show_lines=False, pad_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("actors", max_width=14, overflow="fold")
    table.add_column("text and values", ratio=1, overflow="fold")
    for e in entries:
        table.add_row(*_entry_cells(e, parties, names))
    return Panel(table, title=data_text(title, style="bold"), title_align="left")


def _day_panels(
    console: Console,
    title: str,
    entries: Sequence[TranscriptEntry],
    parties: Sequence[str],
    names: Mapping[str, str],
    height: int | None,
) -> list[Panel]:
    """The day's entries as panels of at most ``height`` lines each (one panel when
    ``height`` is None); a panel holds at least one entry, however tall."""
    if height is None:
        return [_day_panel(title, entries, parties, names)]
    parts: list[list[TranscriptEntry]] = [[]]
    for e in entries:
        trial = [*parts[-1], e]
        lines = console.render_lines(_day_panel(title, trial, parties, names), pad=False)
        if parts[-1] and len(lines) > height:
            parts.append([e])
        else:
            parts[-1] = trial
    if len(parts) == 1:
        return [_day_panel(title, parts[0], parties, names)]
    return [
        _day_panel(f"{title}, part {i} of {len(parts)}", part, parties, names)
        for i, part in enumerate(parts, 1)
    ]


def replay(
    episode: Episode,
    console: Console,
    input_fn: Callable[[str], str] | None = None,
    *,
    names: Mapping[str, str] | None = None,
    height: int | None = None,
) -> int:
    """Show ``episode`` day by day on ``console``; returns the number of days shown.

    ``input_fn(prompt)`` is asked after each panel shown (but the last): an answer
    starting with ``q`` (or end of input) stops the replay. ``None`` shows every day
    without waiting. ``names`` gives display names of parties and other actors.
    ``height``: the lines a screen shows; a day taller than that (less the prompt's
    line) is shown in parts, each its own panel. Panels take the console's width.
    """
    names = dict(names or {})
    parties = list(episode.summary.released) or sorted(
        {a for e in episode.transcript for a in e.actors if a in names}
    )
    modes: dict[int, str] = {}
    for row in episode.ledger:
        if row.flow in ("pause_day", "fighting_day"):
            modes[row.day] = row.mode
    by_day: dict[int, list[TranscriptEntry]] = {}
    for e in episode.transcript:
        by_day.setdefault(e.day, []).append(e)
    last_day = max([*modes, *by_day], default=0)
    dates = {e.day: e.date for e in episode.transcript} | {r.day: r.date for r in episode.ledger}
    busy = sorted(by_day)
    page = None if height is None else max(height - 1, 5)
    shown = 0
    quiet_from: int | None = None
    for day in range(1, last_day + 1):
        if day not in by_day:
            if quiet_from is None:
                quiet_from = day
            continue
        if quiet_from is not None:
            _quiet(console, quiet_from, day - 1, dates, modes)
            quiet_from = None
        mode = modes.get(day, "")
        title = f"run day {day}, {dates.get(day, '')}" + (f" ({mode})" if mode else "")
        panels = _day_panels(console, title, by_day[day], parties, names, page)
        for i, panel in enumerate(panels):
            console.print(panel)
            if i == len(panels) - 1:
                shown += 1
            if input_fn is None or (day == busy[-1] and i == len(panels) - 1):
                continue
            try:
                answer = input_fn(PROMPT)
            except (EOFError, KeyboardInterrupt):
                answer = "q"
            if answer.strip().lower().startswith("q"):
                console.print(
                    f"replay stopped after {shown} of {plural(len(busy), 'day')} with entries",
                    markup=False,
                )
                return shown
    if quiet_from is not None:
        _quiet(console, quiet_from, last_day, dates, modes)
    return shown


def _quiet(
    console: Console, first: int, last: int, dates: Mapping[int, str], modes: Mapping[int, str]
) -> None:
    """One line for a run of days without transcript entries."""
    n = last - first + 1
    span = dates.get(first, "") if n == 1 else f"{dates.get(first, '')} to {dates.get(last, '')}"
    kinds = sorted({modes[d] for d in range(first, last + 1) if d in modes})
    word = "quiet day" if n == 1 else "quiet days"
    console.print(
        f"{n} {word} ({span}" + (f", {' and '.join(kinds)}" if kinds else "") + ")",
        style="dim",
        markup=False,
    )
