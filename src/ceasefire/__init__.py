"""ceasefire: model, simulate and monitor mediated ceasefire-for-exchange agreements.

The public API is small::

    import ceasefire
    scenario = ceasefire.load_scenario("scenarios/gaza-2023-11-truce.yaml")
    episode = ceasefire.run(scenario, seed=0)
    episode.summary.pause_days, episode.transcript, episode.ledger
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from ._version import __version__
    from .engine import END_REASONS, Episode, LedgerRow, Summary, TranscriptEntry
    from .outputs import (
        NegotiationAnalytics,
        Offer,
        negotiation_analytics,
        offer_trace,
        render_report,
        write_outputs,
    )
    from .scenario import (
        DomainError,
        Problem,
        Scenario,
        ScenarioError,
        content_hash,
        import_domain,
        json_schema,
        load_scenario,
    )

# The public names are imported on first use (PEP 562), so that `import ceasefire` (and
# the command line, which starts with it) loads neither the engine and the reports nor
# the installed packages' metadata (for the version).
_LAZY = {
    "__version__": "_version",
    "END_REASONS": "engine",
    "Episode": "engine",
    "LedgerRow": "engine",
    "Summary": "engine",
    "TranscriptEntry": "engine",
    "NegotiationAnalytics": "outputs",
    "Offer": "outputs",
    "negotiation_analytics": "outputs",
    "offer_trace": "outputs",
    "render_report": "outputs",
    "write_outputs": "outputs",
    "DomainError": "scenario",
    "Problem": "scenario",
    "Scenario": "scenario",
    "ScenarioError": "scenario",
    "content_hash": "scenario",
    "import_domain": "scenario",
    "json_schema": "scenario",
    "load_scenario": "scenario",
}


def __getattr__(name: str) -> Any:
    layer = _LAZY.get(name)
    if layer is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{layer}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def run(scenario: Scenario | str | Path, seed: int = 0) -> Episode:
    """Run one episode of ``scenario`` (a loaded scenario or a file path) with ``seed``."""
    from .engine import run as run_episode
    from .scenario import Scenario, load_scenario

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return run_episode(scenario, seed=seed)


__all__ = [
    "END_REASONS",
    "DomainError",
    "Episode",
    "LedgerRow",
    "NegotiationAnalytics",
    "Offer",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Summary",
    "TranscriptEntry",
    "__version__",
    "content_hash",
    "import_domain",
    "json_schema",
    "load_scenario",
    "negotiation_analytics",
    "offer_trace",
    "render_report",
    "run",
    "write_outputs",
]
