"""Ensembles: many episodes of one scenario, each on its own draw of the priors.

Episode ``i`` of an ensemble with seed ``s`` uses the stream
``SeedSequence(s, spawn_key=(i,))``: its child ``(i, 0)`` draws the priors (one uniform
per prior, in file order), its child ``(i, 1)`` the engine's draws inside the episode.

- :func:`draw_scenario` gives the scenario of draw ``i`` (every prior's target replaced);
- :func:`run_draw` runs the reference engine on draw ``i`` (``ceasefire run --draw I``);
- :func:`run_ensemble` runs draws ``0..n-1`` at once with the vectorised engine; its
  episode ``i`` equals ``run_draw``'s. Execution mode (an agreement in force, no talks)
  runs in ``_execution``; scenarios with talks in ``_negotiation`` (talks in lock-step
  by calendar day over the episodes, each against its own table of outcomes, then the
  pauses their agreements set up), which returns a :class:`NegotiationEnsembleResult`
  (each agreement's day, round, terms and values; talk rounds). The few scenarios it
  does not vectorise run every episode with the reference engine, marked in its
  ``reference`` column (``docs/ensembles.md``);
- :func:`iter_ensemble` yields the same episodes as consecutive batches (memory: a batch);
- :class:`EnsembleSummary` accumulates their distributions, :func:`compare` pairs two
  designs on the same draws, :func:`sobol_analysis` ranks inputs by Sobol' indices.
"""

from ._compare import ComparisonError, compare
from ._draws import draw_scenario, prior_values, quantile, run_draw, with_values
from ._execution import (
    END_CODES,
    EnsembleResult,
    NegotiationEnsembleUnavailable,
    run_ensemble,
)
from ._negotiation import VIA, NegotiationEnsembleResult
from ._sensitivity import SensitivityError, sobol_analysis
from ._stream import iter_ensemble
from ._streams import EPISODE_STREAM, PRIOR_STREAM, episode_generator
from ._summaries import EnsembleSummary

__all__ = [
    "END_CODES",
    "EPISODE_STREAM",
    "PRIOR_STREAM",
    "VIA",
    "ComparisonError",
    "EnsembleResult",
    "EnsembleSummary",
    "NegotiationEnsembleResult",
    "NegotiationEnsembleUnavailable",
    "SensitivityError",
    "compare",
    "draw_scenario",
    "episode_generator",
    "iter_ensemble",
    "prior_values",
    "quantile",
    "run_draw",
    "run_ensemble",
    "sobol_analysis",
    "with_values",
]
