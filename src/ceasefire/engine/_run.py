"""A single episode: the kernel run as plain Python with its event log on, decoded into
the transcript, the ledger and the summary. No compilation: the first run answers at
once."""

from __future__ import annotations

import numpy as np

from ..scenario import Scenario
from ._episode import run_logged
from ._plan import build_plan, point_params
from ._records import Episode
from ._rng import stream_state
from ._transcript import Decoder


def run(scenario: Scenario, seed: int = 0, rng: np.random.Generator | None = None) -> Episode:
    """Run one episode of ``scenario`` with the stream ``SeedSequence(seed)``.

    ``rng``, when given, is the generator whose stream to draw from instead (an ensemble
    episode's, ``ceasefire.ensemble.episode_generator``); it must be NumPy's PCG64, and it
    is not advanced. ``seed`` is then only recorded in the summary.
    """
    if rng is None:
        state = stream_state(np.random.SeedSequence(seed))
    else:
        bits = rng.bit_generator
        if not isinstance(bits, np.random.PCG64):
            raise TypeError("the episode's generator must be numpy.random.PCG64")
        pcg = bits.state["state"]
        s, inc, mask = int(pcg["state"]), int(pcg["inc"]), (1 << 64) - 1
        state = np.array([s >> 64, s & mask, inc >> 64, inc & mask], dtype=np.uint64)
    plan = build_plan(scenario)
    st = run_logged(plan, point_params(plan), state)
    return Decoder(plan, st, seed).read()
