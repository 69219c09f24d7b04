"""The event log: what the kernel records when it runs a single episode.

A record is one row of ``log_i`` (int64) and ``log_f`` (float64): its kind, its day,
up to ``INTS`` integer arguments, then (category, count) pairs, and up to the floats'
width of real arguments. ``_transcript`` turns the records into the transcript and the
ledger. An ensemble runs the kernel with a log of no rows: writing is then skipped.
When the log is full the kernel marks it (``S_LOG_FULL``) and goes on without writing;
the caller runs the episode again with a larger log (the run is deterministic).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._jit import inline
from ._state import S_LOG_FULL, S_LOG_N

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

# Record kinds. One per transcript entry kind (some carry a variant), and FLOW for a
# ledger row.
(
    FLOW,
    EVENT,
    TALKS_OPEN,
    TALKS_END,
    AGREEMENT,
    IN_FORCE,
    SIDE_RELEASE,
    SIDE_SHORTFALL,
    DELAY,
    REFUSAL,
    CURED,
    BREACH,
    RELEASE_BATCH,
    VERIFIED,
    COUNTER_RELEASE,
    EXTENSION_DECLINE,
    EXTENSION_OFFER,
    EXTENSION_ACCEPT,
    EXTENSION,
    PAUSE_END,
    EPISODE_END,
    TIMEOUT,
    BREAKDOWN,
    OFFER,
    ACCEPT_OFFER,
    TEXT,
    TEXT_ANSWER,
    POSTPONED,
    OBLIGATION_DUE,
    PHASE_END,
    HOLDS_ON,
    WRITTEN_PHASE,
    PHASE_DECISION,
) = range(33)

KIND, DAY = 0, 1
INTS = 8  # integer arguments, columns 2..9
PAIRS = 2 + INTS  # first (category, count) pair column


def log_width(categories: int) -> int:
    return PAIRS + 2 * categories


def float_width(parties: int) -> int:
    return max(8, 2 * parties + 2)


def new_log(rows: int, categories: int, parties: int) -> tuple[I64, F64]:
    return (
        np.zeros((rows, log_width(categories)), dtype=np.int64),
        np.zeros((rows, float_width(parties))),
    )


@inline
def record(
    si: I64, log_i: I64, log_f: F64, kind: int, a0: int, a1: int, a2: int, a3: int, a4: int
) -> int:
    """Start a record; its row (-1: not logging). Later arguments go in with ``put``."""
    rows = log_i.shape[0]
    if rows == 0:
        return -1
    n = si[S_LOG_N]
    if n >= rows:
        si[S_LOG_FULL] = 1
        return -1
    si[S_LOG_N] = n + 1
    log_i[n, KIND] = kind
    log_i[n, DAY] = si[0]
    log_i[n, 2] = a0
    log_i[n, 3] = a1
    log_i[n, 4] = a2
    log_i[n, 5] = a3
    log_i[n, 6] = a4
    for j in range(7, log_i.shape[1]):
        log_i[n, j] = -1 if j >= PAIRS else 0
    for j in range(log_f.shape[1]):
        log_f[n, j] = 0.0
    return int(n)
