"""Ensembles: many episodes of one scenario, each on its own draw of the priors.

Episode ``i`` of an ensemble with seed ``s`` uses the stream
``SeedSequence(s, spawn_key=(i,))``: its child ``(i, 0)`` draws the priors (one uniform
per prior, in file order), its child ``(i, 1)`` the engine's draws inside the episode.

- :func:`draw_scenario` gives the scenario of draw ``i`` (every prior's target replaced);
- :func:`run_draw` runs draw ``i`` as a single run, with its transcript
  (``ceasefire run --draw I``);
- :func:`run_ensemble` runs draws ``0..n-1`` on the engine's own episode kernel,
  compiled (``_compiled``) and run in parallel over each batch's episodes; its episode
  ``i`` equals ``run_draw``'s. A scenario with talks gives a
  :class:`NegotiationEnsembleResult` (each agreement's day, round, terms and values;
  talk rounds);
- :func:`is_compiled` says whether the compiled kernel is cached (else the next
  ensemble compiles it first);
- :func:`iter_ensemble` yields the same episodes as consecutive batches (memory: a batch);
- :class:`EnsembleSummary` accumulates their distributions, :func:`compare` pairs two
  designs on the same draws, :func:`sobol_analysis` ranks inputs by Sobol' indices.
"""

from ._compare import ComparisonError, compare
from ._compiled import is_compiled
from ._draws import draw_scenario, prior_values, quantile, run_draw, with_values
from ._results import (
    END_CODES,
    VIA,
    EnsembleResult,
    NegotiationEnsembleResult,
    NegotiationEnsembleUnavailable,
)
from ._run import run_ensemble
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
    "is_compiled",
    "iter_ensemble",
    "prior_values",
    "quantile",
    "run_draw",
    "run_ensemble",
    "sobol_analysis",
    "with_values",
]
