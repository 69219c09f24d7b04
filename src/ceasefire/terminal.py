"""The one place where text reaches a terminal.

Names, notes and sources come from scenario files and ledgers: they are data. Printed
through :class:`Terminal`, nothing in them is read as Rich markup (``[/]``) or as an
emoji code (``:israel:``), and control characters (escape sequences, carriage returns,
bidirectional overrides) are shown as escapes (``\\x1b``, ``\\u202e``) instead of being
sent to the terminal. Everything the command line prints goes through here.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.text import Text

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


class Terminal(Console):
    """A Rich console for data: markup, emoji codes and highlighting off, control
    characters visible in every string it renders (table cells included).

    On a terminal it takes the terminal's width; written to a pipe or a file, at least
    ``min_width`` columns (the width the command's tables are laid out for)."""

    def __init__(self, *, stderr: bool = False, min_width: int = 0, **kwargs: Any):
        super().__init__(
            stderr=stderr,
            markup=False,
            emoji=False,
            highlight=False,
            soft_wrap=False,
            **kwargs,
        )
        if not self.is_terminal and self.width < min_width:
            self.width = min_width

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs["markup"] = False
        kwargs["emoji"] = False
        return super().render_str(visible(text), **kwargs)
