"""Run an ensemble: its batches on a backend, put back together in order."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..scenario import Scenario, content_hash
from ._backend import Backend, Progress, run_batches
from ._episodes import BATCH_SIZE, Batches, run_batch
from ._results import EnsembleResult, NegotiationEnsembleResult
from ._summaries import prior_name

_TYPES: dict[str, type[np.generic]] = {
    "priors": np.float64,
    "pause_days": np.int32,
    "fighting_days": np.int32,
    "extensions": np.int32,
    "released": np.int32,
    "side_channel": np.int32,
    "end_reason": np.int8,
    "end_day": np.int32,
    "ended_by": np.int8,
    "pause_start_day": np.int32,
    "pause_end_day": np.int32,
    "breaches": np.int32,
    "delays": np.int32,
}
_TALKS: dict[str, type[np.generic]] = {
    "agreement_day": np.int32,
    "agreement_round": np.int32,
    "agreement_outcome": np.int32,
    "agreement_via": np.int8,
    "agreement_values": np.float64,
    "talk_rounds": np.int32,
}
# Arrays with a column per extension or deal: batches may differ in width.
_PADDED = ("extensions", "agreement_day", "agreement_round", "agreement_outcome", "agreement_via")


def check_arguments(n: int, seed: int, batch_size: int) -> None:
    if n < 0:
        raise ValueError("n must be >= 0")
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    if seed < 0:
        raise ValueError("the seed must be >= 0")


def run_ensemble(
    scenario: Scenario,
    n: int,
    seed: int = 0,
    batch_size: int = BATCH_SIZE,
    *,
    backend: str | Backend = "local",
    address: str | None = None,
    on_batch: Progress | None = None,
) -> EnsembleResult:
    """Run episodes 0..n-1 of ``scenario`` with ensemble seed ``seed``.

    Episode ``i`` is draw ``i`` of the priors with its own stream of in-episode draws;
    it equals ``run_draw(scenario, seed, i)``. Episodes run ``batch_size`` at a time, in
    parallel on this machine's cores; memory is the result arrays plus one batch's
    parameters, and results do not depend on the batch size. A scenario with talks gives
    a :class:`NegotiationEnsembleResult`.

    ``backend`` runs the batches: ``"local"`` in this process, ``"processes"`` over one
    worker process per CPU, ``"ray"`` on a Ray cluster (``address``, else
    ``RAY_ADDRESS``, else a local one; ``docs/ray.md``); the results are the same
    whichever runs them. ``on_batch(done, total)`` follows the progress.
    """
    check_arguments(n, seed, batch_size)
    batches = Batches(scenario)
    arrays = ResultArrays(batches, n)
    for rows, result in run_batches(
        partial(run_batch, batches, seed),
        n,
        batch_size,
        backend=backend,
        address=address,
        on_batch=on_batch,
    ):
        arrays.put(rows, result)
    return arrays.result(seed)


class ResultArrays:
    """An ensemble's result arrays, each batch written into its rows as it arrives (one
    copy, at the result's types; no batch kept). Arrays with a column per extension or
    deal are as wide as the widest batch, the rest of a row filled with -1 (NaN for
    the values)."""

    def __init__(self, batches: Batches, n: int) -> None:
        self.batches = batches
        self.n = n
        self.types = _TYPES | (_TALKS if batches.talks else {})
        self.out: dict[str, NDArray[Any]] = {}
        self.filled = 0

    def put(self, rows: slice, part: dict[str, NDArray[Any]]) -> None:
        for name, kind in self.types.items():
            piece = part[name]
            padded = name in _PADDED or name == "agreement_values"
            have = self.out.get(name)
            if have is None or (padded and piece.shape[1] > have.shape[1]):
                shape = (self.n, *piece.shape[1:])
                if padded:
                    fill = np.nan if name == "agreement_values" else -1
                    wider = np.full(shape, fill, dtype=kind)
                    if have is not None:
                        wider[:, : have.shape[1]] = have
                    have = wider
                else:
                    have = np.empty(shape, dtype=kind)
                self.out[name] = have
            if padded:
                have[rows, : piece.shape[1]] = piece
            else:
                have[rows] = piece
        self.filled += rows.stop - rows.start

    def result(self, seed: int, first: int = 0) -> EnsembleResult:
        """The result, its first row draw ``first``."""
        batches = self.batches
        s = batches.scenario
        n = self.n
        empty: dict[str, tuple[int, ...]] = {
            "priors": (0, len(s.priors)),
            "released": (0, len(batches.release_columns)),
            "side_channel": (0, len(batches.side_categories)),
            "extensions": (0, 0 if batches.talks else batches.width),
            "agreement_values": (0, 0, 2),
        }
        out: dict[str, Any] = dict(self.out)
        for name, kind in self.types.items():
            if name not in out:
                shape = empty.get(name, (0, 0) if name in _PADDED else (0,))
                out[name] = np.zeros(shape, dtype=kind)
        assert self.filled == n and out["pause_days"].shape[0] == n
        common: dict[str, Any] = {
            "scenario": s.name,
            "scenario_hash": content_hash(s),
            "seed": seed,
            "calendar_start": s.calendar.start,
            "parties": batches.parties,
            "release_columns": batches.release_columns,
            "side_categories": batches.side_categories,
            "first_draw": first,
            "prior_names": tuple(prior_name(p.key()) for p in s.priors),
            "prior_integer": tuple(bool(p.integer_target) for p in s.priors),
            "agreement_signed": None
            if s.agreement is None
            else s.agreement.signed or s.agreement.start,
        }
        if not batches.talks:
            return EnsembleResult(**common, **out)
        a = s.agreement
        signed = -1 if a is None else ((a.signed or a.start) - s.calendar.start).days
        return NegotiationEnsembleResult(
            **common,
            **out,
            issues=batches.plan.issues,
            outcomes=tuple(batches.plan.outcomes),
            signed_day=signed,
        )
