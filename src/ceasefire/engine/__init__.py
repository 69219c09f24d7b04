"""The engine: one episode, day by day, every rule of the dynamics written once.

The rules live in the episode kernel (``_kernel``, ``_negotiation``, ``_table``,
``_custody``) over a flat, typed state (``_plan``, ``_state``). :func:`run` runs a single
episode with its event log on and decodes the transcript, ledger and summary from it;
``ceasefire.ensemble`` runs the same functions compiled, over many episodes at once,
through the kernel interface exported here (``docs/engine.md``).
"""

from . import _log as event_log
from . import _state as slots
from ._analytics import Analytics, Point, bargaining_analytics
from ._episode import new_state, plan_arrays, reset_state, run_logged
from ._kernel import run_episode
from ._plan import (
    P_FIGHTING_DAY,
    P_PAUSE_DAY,
    P_PRESSURE,
    P_REFUSAL,
    P_RESERVATION,
    Params,
    Plan,
    build_plan,
    point_params,
)
from ._records import END_REASONS, EVENT_KINDS, Episode, LedgerRow, Summary, TranscriptEntry
from ._rng import SEED_WORK, next_double, seed_stream, seed_words
from ._run import run
from ._schedule import split_batches

__all__ = [
    "END_REASONS",
    "EVENT_KINDS",
    "P_FIGHTING_DAY",
    "P_PAUSE_DAY",
    "P_PRESSURE",
    "P_REFUSAL",
    "P_RESERVATION",
    "SEED_WORK",
    "Analytics",
    "Episode",
    "LedgerRow",
    "Params",
    "Plan",
    "Point",
    "Summary",
    "TranscriptEntry",
    "bargaining_analytics",
    "build_plan",
    "event_log",
    "new_state",
    "next_double",
    "plan_arrays",
    "point_params",
    "reset_state",
    "run",
    "run_episode",
    "run_logged",
    "seed_stream",
    "seed_words",
    "slots",
    "split_batches",
]
