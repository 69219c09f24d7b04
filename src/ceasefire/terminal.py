"""The one place where text reaches a terminal.

Names, notes and sources come from scenario files and ledgers: they are data. Printed
through :class:`Terminal`, nothing in them is read as Rich markup (``[/]``) or as an
emoji code (``:israel:``), and control characters (escape sequences, carriage returns,
bidirectional overrides) are shown as escapes (``\\x1b``, ``\\u202e``) instead of being
sent to the terminal. Everything the command line prints goes through here.

Output fits its width: on a terminal, the terminal's; written to a pipe or a file,
``$COLUMNS`` when set, else 80 columns, and never any ANSI styling. Tables are laid out
by :func:`fitted_table`: dates and counts are never cut, text columns wrap, and the
least important columns are left out when even wrapped text would not fit.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from rich.cells import cell_len
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

PIPE_WIDTH = 80

# C0 controls but the newline, DEL and C1 controls, line and paragraph separators,
# bidirectional embeddings, overrides and isolates, lone surrogates.
_CONTROL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with its control characters written as escapes; newlines are kept."""
    return _CONTROL.sub(_escape, text)


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 day``, ``2 days``; ``words`` where the plural is not ``word`` + s."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def data_text(text: str, style: str = "") -> Text:
    """A Rich ``Text`` of data: no markup, control characters visible."""
    return Text(visible(text), style=style)


def _is_tty(stream: IO[str] | None) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def pipe_width() -> int:
    """The width of output that goes to a pipe or a file: ``$COLUMNS``, else 80."""
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else PIPE_WIDTH


class Terminal(Console):
    """A Rich console for data: markup, emoji codes and highlighting off, control
    characters visible in every string it renders (table cells included).

    On a terminal it takes the terminal's width (``$COLUMNS`` when set). Written to a
    pipe or a file it is ``$COLUMNS`` wide, else 80, and plain text: no ANSI styling,
    whatever ``FORCE_COLOR`` or ``TTY_COMPATIBLE`` say."""

    def __init__(self, *, stderr: bool = False, **kwargs: Any):
        stream = kwargs.get("file") or (sys.stderr if stderr else sys.stdout)
        if not _is_tty(stream) and kwargs.get("force_terminal") is None:
            kwargs["force_terminal"] = False
            kwargs.setdefault("color_system", None)
            if kwargs.get("width") is None:
                kwargs["width"] = pipe_width()
        super().__init__(
            stderr=stderr,
            markup=False,
            emoji=False,
            highlight=False,
            soft_wrap=False,
            **kwargs,
        )

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs["markup"] = False
        kwargs["emoji"] = False
        return super().render_str(visible(text), **kwargs)


Cell = str | Text


@dataclass(frozen=True)
class Col:
    """A column of :func:`fitted_table`.

    ``wrap``: text that may wrap at spaces; a word longer than ``narrowest`` may be
    folded onto the next line (never cut). Otherwise the column is never wrapped nor
    cut (dates, counts). ``drop``: 0 for a column always shown; columns with a higher
    number are left out first when the table would not fit otherwise."""

    header: str
    justify: JustifyMethod = "left"
    wrap: bool = False
    drop: int = 0
    narrowest: int = 12


def _lines(cell: Cell) -> list[str]:
    text = cell.plain if isinstance(cell, Text) else visible(cell)
    return text.split("\n")


def _widest(cells: Sequence[Cell]) -> int:
    return max((cell_len(line) for cell in cells for line in _lines(cell)), default=0)


def _longest_word(cells: Sequence[Cell]) -> int:
    return max(
        (cell_len(word) for cell in cells for line in _lines(cell) for word in line.split()),
        default=0,
    )


def table_width(columns: Sequence[Col], rows: Sequence[Sequence[Cell]]) -> int:
    """The narrowest a table of ``columns`` can be laid out with nothing cut and no word
    folded (but those longer than their column's ``narrowest``): columns of dates and
    counts as wide as their widest cell; text columns narrowed as Rich narrows them,
    the widest first down to a common width, here the widest any of them needs. One
    space of padding each side, a border between columns and at the edges."""
    fixed = 0
    natural: list[int] = []
    need = 0
    for i, col in enumerate(columns):
        cells = [col.header, *(row[i] for row in rows)]
        if col.wrap:
            natural.append(_widest(cells))
            need = max(need, min(_longest_word(cells), col.narrowest))
        else:
            fixed += _widest(cells)
    return fixed + sum(min(n, need) for n in natural) + 3 * len(columns) + 1


@dataclass(frozen=True)
class Fitted:
    """A table laid out for a width, and the headers of the columns left out."""

    table: Table
    left_out: list[str]

    def note(self, width: int) -> str:
        """A line naming the columns left out at ``width`` ('' when none were)."""
        if not self.left_out:
            return ""
        names = ", ".join(h.replace("\n", " ") for h in self.left_out)
        return f"left out at {width} columns: {names} (a wider terminal or --json shows them)"


def fitted_table(
    width: int,
    columns: Sequence[Col],
    rows: Sequence[Sequence[Cell]],
    *,
    styles: Sequence[str] | None = None,
    **table_options: Any,
) -> Fitted:
    """A Rich table of ``rows`` that fits ``width`` columns without cutting a date or a
    count: the columns with the highest ``drop`` are left out until it fits."""
    keep = list(range(len(columns)))
    while table_width([columns[i] for i in keep], [[r[i] for i in keep] for r in rows]) > width:
        droppable = [i for i in keep if columns[i].drop > 0]
        if not droppable:
            break
        worst = max(columns[i].drop for i in droppable)
        keep.remove(max(i for i in droppable if columns[i].drop == worst))
    table = Table(**table_options)
    for i in keep:
        col = columns[i]
        if col.wrap:
            table.add_column(col.header, justify=col.justify, overflow="fold")
        else:
            table.add_column(col.header, justify=col.justify, no_wrap=True)
    for n, row in enumerate(rows):
        table.add_row(*(row[i] for i in keep), style=styles[n] if styles else None)
    return Fitted(table, [columns[i].header for i in range(len(columns)) if i not in keep])
