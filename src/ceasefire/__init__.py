"""ceasefire: model, simulate and monitor mediated ceasefire-for-exchange agreements.

The public API is small::

    import ceasefire
    scenario = ceasefire.load_scenario("scenarios/gaza-2023-11-truce.yaml")
    episode = ceasefire.run(scenario, seed=0)
    episode.summary.pause_days, episode.transcript, episode.ledger
"""

from __future__ import annotations

from pathlib import Path

from ._version import __version__
from .engine import END_REASONS, Episode, LedgerRow, Summary, TranscriptEntry
from .engine import run as _run_episode
from .outputs import render_report, write_outputs
from .scenario import Problem, Scenario, ScenarioError, content_hash, json_schema, load_scenario


def run(scenario: Scenario | str | Path, seed: int = 0) -> Episode:
    """Run one episode of ``scenario`` (a loaded scenario or a file path) with ``seed``."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return _run_episode(scenario, seed=seed)


__all__ = [
    "END_REASONS",
    "Episode",
    "LedgerRow",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Summary",
    "TranscriptEntry",
    "__version__",
    "content_hash",
    "json_schema",
    "load_scenario",
    "render_report",
    "run",
    "write_outputs",
]
