"""Errors for people: what is wrong, where (file, line, column, field), what would be right.

The monitor reuses the scenario layer's :class:`~ceasefire.scenario.Problem` (file,
line, column, field, message) so every refusal reads the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..scenario import Problem

MAX_SHOWN = 50


class MonitorError(Exception):
    """Input was refused; nothing was written. ``problems`` lists what was found."""

    def __init__(self, what: str, problems: Sequence[Problem]) -> None:
        self.what = what
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        head = f"{self.what} refused ({count} problem{'s' if count != 1 else ''}); nothing written:"
        shown = [f"  {p}" for p in self.problems[:MAX_SHOWN]]
        if count > MAX_SHOWN:
            shown.append(f"  ... and {count - MAX_SHOWN} more")
        return "\n".join([head, *shown])


def refuse(what: str, where: str, message: str, field: str = "") -> MonitorError:
    """A refusal with a single problem that has no line or column."""
    return MonitorError(what, [Problem(where, None, None, field, message)])


class StoreError(Exception):
    """The store cannot be used as asked (missing, not initialised, unreachable, busy)."""

    def __init__(self, message: str, *, bad_input: bool = True) -> None:
        self.bad_input = bad_input
        super().__init__(message)
