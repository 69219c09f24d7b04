"""An ensemble as a stream of batches: memory is one batch, not the whole ensemble.

:func:`iter_ensemble` yields episodes ``0..n-1`` of a scenario as consecutive
:class:`EnsembleResult` batches of at most ``batch_size`` rows: the first batch holds
draws ``0..len(b0)-1``, the next the following draws, and so on (row ``i`` of a batch
that starts at draw ``first`` is draw ``first + i``; ``episode(i)`` of a batch numbers
its rows from 0). Concatenated, the batches are ``run_ensemble(scenario, n, seed)``
row for row, whatever the batch size (``tests/test_ensemble_cli.py``); the columns per
extension or agreement of a batch are as wide as that batch needs.

Every scenario, with talks or without, runs batch by batch through
``_backend.run_batches``: on the ``local`` backend one batch at a time in this process,
on ``processes`` or ``ray`` a bounded number of batches in flight, handed back in
order; either way this process holds one batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from functools import partial
from typing import Any

import numpy as np

from ..scenario import Scenario
from ._backend import run_batches
from ._episodes import BATCH_SIZE, Batches, run_batch
from ._results import EnsembleResult
from ._run import ResultArrays, check_arguments

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

    ``engine``: ``backend=`` (``"local"``, the default, ``"processes"`` or ``"ray"``),
    ``address=`` and ``on_batch=``, as for :func:`run_ensemble`. Raises ``ValueError``
    for a bad ``n``, ``seed`` or ``batch_size``, and the backend's errors (Ray missing,
    a cluster out of reach), all before the first batch runs.
    """
    check_arguments(n, seed, batch_size)
    batches = Batches(scenario)
    parts = run_batches(partial(run_batch, batches, seed), n, batch_size, **engine)
    return _results(batches, seed, parts)


def _results(
    batches: Batches, seed: int, parts: Iterator[tuple[slice, Any]]
) -> Iterator[EnsembleResult]:
    for rows, part in parts:
        count = rows.stop - rows.start
        arrays = ResultArrays(batches, count)
        arrays.put(slice(0, count), part)
        yield arrays.result(seed, rows.start)


def slice_result(result: EnsembleResult, start: int, stop: int) -> EnsembleResult:
    """Rows ``start..stop-1`` of ``result`` (every per-episode array field is cut; other
    fields, and the class, are kept: a subclass with more per-episode arrays works)."""
    n = len(result)
    cut: dict[str, Any] = {}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n:
            cut[f.name] = value[start:stop]
    return dataclasses.replace(result, **cut, first_draw=result.first_draw + start)
