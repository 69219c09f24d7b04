"""Each episode's random streams.

Episode ``i`` of an ensemble with seed ``s`` owns the stream
``SeedSequence(s, spawn_key=(i,))`` (the i-th child ``SeedSequence(s).spawn(n)`` would
give, without making the n children). Two streams derive from it:

- ``(i, 0)``, the **prior** stream: one uniform per prior, in the order of ``priors``;
- ``(i, 1)``, the **episode** stream: the engine's draws inside the episode (a delayed
  hand-over, a refused batch and its cures, a break-off in the talks), in the order the
  kernel makes them.

Each stream is ``numpy.random.Generator(PCG64(SeedSequence(s, spawn_key=(i, j))))``
(:func:`episode_generator`). The compiled ensemble seeds the same streams itself, from
NumPy's published algorithms (``ceasefire.engine.seed_stream``; checked against NumPy
in ``tests/test_ensemble_agreement.py``).
"""

from __future__ import annotations

import numpy as np

PRIOR_STREAM = 0
EPISODE_STREAM = 1


def episode_generator(seed: int, index: int, stream: int) -> np.random.Generator:
    """NumPy's generator for ``stream`` (0: priors, 1: the episode) of episode ``index``."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(index, stream)))
    )
