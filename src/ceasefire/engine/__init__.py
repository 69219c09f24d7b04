"""The reference engine: one episode, day by day, readable as the specification."""

from ._analytics import Analytics, Point, bargaining_analytics
from ._records import END_REASONS, EVENT_KINDS, Episode, LedgerRow, Summary, TranscriptEntry
from ._run import run
from ._schedule import split_batches

__all__ = [
    "END_REASONS",
    "EVENT_KINDS",
    "Analytics",
    "Episode",
    "LedgerRow",
    "Point",
    "Summary",
    "TranscriptEntry",
    "bargaining_analytics",
    "run",
    "split_batches",
]
