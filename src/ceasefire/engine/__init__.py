"""The reference engine: one episode, day by day, readable as the specification."""

from ._execution import run
from ._records import END_REASONS, EVENT_KINDS, Episode, LedgerRow, Summary, TranscriptEntry
from ._schedule import split_batches

__all__ = [
    "END_REASONS",
    "EVENT_KINDS",
    "Episode",
    "LedgerRow",
    "Summary",
    "TranscriptEntry",
    "run",
    "split_batches",
]
