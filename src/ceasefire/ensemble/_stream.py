"""An ensemble as a stream of batches: memory is one batch, not the whole ensemble.

:func:`iter_ensemble` yields episodes ``0..n-1`` of a scenario as consecutive
:class:`EnsembleResult` batches of at most ``batch_size`` rows: the first batch holds
draws ``0..len(b0)-1``, the next the following draws, and so on (row ``i`` of a batch
that starts at draw ``first`` is draw ``first + i``; ``episode(i)`` of a batch numbers
its rows from 0). Concatenated, the batches are ``run_ensemble(scenario, n, seed)``
row for row, whatever the batch size (``tests/test_ensemble_cli.py``).

Execution-mode scenarios run batch by batch through ``_backend.run_batches``: on the
``local`` backend one batch at a time in this process, on ``ray`` a bounded number of
batches in flight on the cluster, handed back in order; either way this process holds
one batch. Scenarios with talks are handed to :func:`run_ensemble` with the same
arguments and cut into batches afterwards: that engine returns the whole ensemble, so
their memory is the result arrays of all ``n`` episodes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from functools import partial
from typing import Any

import numpy as np

from ..scenario import Scenario, content_hash
from ._backend import run_batches
from ._execution import BATCH_SIZE, EnsembleResult, _check, _Plan, _run_batch, run_ensemble

__all__ = ["iter_ensemble", "slice_result"]


def iter_ensemble(
    scenario: Scenario,
    n: int,
    seed: int = 0,
    batch_size: int = BATCH_SIZE,
    **engine: Any,
) -> Iterator[EnsembleResult]:
    """Episodes ``0..n-1`` of ``scenario`` with ensemble seed ``seed``, as consecutive
    batches of at most ``batch_size`` episodes.

    ``engine``: ``backend=`` (``"local"``, the default, or ``"ray"``) and ``address=``,
    as for :func:`run_ensemble`. Raises ``ValueError`` for a bad ``n``,
    ``seed`` or ``batch_size``, and the backend's errors (Ray missing, a cluster out of
    reach), all before the first batch runs.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    if seed < 0:
        raise ValueError("the seed must be >= 0")
    if scenario.negotiation is not None:
        whole = run_ensemble(scenario, n, seed, batch_size=batch_size, **engine)
        return _sliced(whole, batch_size)
    _check(scenario)
    plan = _Plan(scenario)
    batches = run_batches(partial(_run_batch, plan, seed), n, batch_size, **engine)
    return _results(plan, content_hash(scenario), seed, batches)


def _results(
    plan: _Plan,
    digest: str,
    seed: int,
    batches: Iterator[tuple[slice, Any]],
) -> Iterator[EnsembleResult]:
    for _rows, arrays in batches:
        yield EnsembleResult(
            scenario=plan.s.name,
            scenario_hash=digest,
            seed=seed,
            calendar_start=plan.start,
            parties=plan.parties,
            release_columns=plan.release_columns,
            side_categories=plan.side_categories,
            priors=np.asarray(arrays["priors"], dtype=np.float64),
            pause_days=arrays["pause_days"].astype(np.int32),
            fighting_days=arrays["fighting_days"].astype(np.int32),
            extensions=arrays["extensions"].astype(np.int32),
            released=arrays["released"].astype(np.int32),
            side_channel=arrays["side_channel"].astype(np.int32),
            end_reason=arrays["end_reason"].astype(np.int8),
            end_day=arrays["end_day"].astype(np.int32),
            ended_by=arrays["ended_by"].astype(np.int8),
            pause_start_day=arrays["pause_start_day"].astype(np.int32),
            pause_end_day=arrays["pause_end_day"].astype(np.int32),
            breaches=arrays["breaches"].astype(np.int32),
            delays=arrays["delays"].astype(np.int32),
        )


def slice_result(result: EnsembleResult, start: int, stop: int) -> EnsembleResult:
    """Rows ``start..stop-1`` of ``result`` (every per-episode array field is cut; other
    fields, and the class, are kept: a subclass with more per-episode arrays works)."""
    n = len(result)
    cut: dict[str, Any] = {}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n:
            cut[f.name] = value[start:stop]
    return dataclasses.replace(result, **cut)


def _sliced(result: EnsembleResult, batch_size: int) -> Iterator[EnsembleResult]:
    for first in range(0, len(result), batch_size):
        yield slice_result(result, first, min(first + batch_size, len(result)))
