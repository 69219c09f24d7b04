"""Cells of the tables we write (CSV, Parquet) that spreadsheets cannot run.

A spreadsheet opening a CSV file, or importing a Parquet table, reads a cell that
starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some strip
first) as a formula: ``=HYPERLINK(...)`` in a note or a source would be run on the
reader's machine. Such text cells are written with a leading apostrophe, the
spreadsheets' own mark for "text, not a formula", as OWASP recommends; numbers are
written as they are. Text read back keeps the apostrophe: strip one leading ``'`` to
get the text as recorded.
"""

from __future__ import annotations

from typing import TypeVar

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
T = TypeVar("T")


def safe_cell(value: T) -> T | str:
    """``value``, or for text a spreadsheet would read as a formula, ``'`` + text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
