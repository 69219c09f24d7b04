"""Ensembles: many episodes of one scenario, each on its own draw of the priors.

Episode ``i`` of an ensemble with seed ``s`` uses the stream
``SeedSequence(s, spawn_key=(i,))``: its child ``(i, 0)`` draws the priors (one uniform
per prior, in file order), its child ``(i, 1)`` the engine's draws inside the episode.

- :func:`draw_scenario` gives the scenario of draw ``i`` (every prior's target replaced);
- :func:`run_draw` runs the reference engine on draw ``i`` (``ceasefire run --draw I``);
- :func:`run_ensemble` runs draws ``0..n-1`` at once with the vectorised engine (execution
  mode: an agreement in force, no talks); its episode ``i`` equals ``run_draw``'s.
"""

from ._draws import draw_scenario, prior_values, quantile, run_draw, with_values
from ._execution import (
    END_CODES,
    EnsembleResult,
    NegotiationEnsembleUnavailable,
    run_ensemble,
)
from ._streams import EPISODE_STREAM, PRIOR_STREAM, episode_generator

__all__ = [
    "END_CODES",
    "EPISODE_STREAM",
    "PRIOR_STREAM",
    "EnsembleResult",
    "NegotiationEnsembleUnavailable",
    "draw_scenario",
    "episode_generator",
    "prior_values",
    "quantile",
    "run_draw",
    "run_ensemble",
    "with_values",
]
