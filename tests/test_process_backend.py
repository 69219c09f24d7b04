"""The `processes` backend spreads batches over local worker processes and gives the local
backend's results byte for byte."""

from __future__ import annotations

import numpy as np

from ceasefire.ensemble import run_ensemble
from ceasefire.ensemble._backend import ProcessBackend, get_backend
from ceasefire.scenario import load_scenario

from conftest import NOV2023

FIELDS = (
    "priors",
    "pause_days",
    "extensions",
    "released",
    "side_channel",
    "end_reason",
    "end_day",
    "ended_by",
    "pause_start_day",
    "pause_end_day",
    "breaches",
    "delays",
)


def test_processes_give_the_local_results_byte_for_byte() -> None:
    scenario = load_scenario(NOV2023)
    local = run_ensemble(scenario, 3_001, seed=5, batch_size=317)
    spread = run_ensemble(
        scenario, 3_001, seed=5, batch_size=317, backend=ProcessBackend(workers=2)
    )
    for field in FIELDS:
        a, b = getattr(local, field), getattr(spread, field)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), field


def test_processes_is_a_named_backend() -> None:
    assert isinstance(get_backend("processes"), ProcessBackend)
    assert np.isscalar(ProcessBackend().workers)
