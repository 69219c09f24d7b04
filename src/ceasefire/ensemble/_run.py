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
    parts = [
        result
        for _, result in run_batches(
            partial(run_batch, batches, seed),
            n,
            batch_size,
            backend=backend,
            address=address,
            on_batch=on_batch,
        )
    ]
    return assemble(batches, seed, parts, n)


def assemble(
    batches: Batches, seed: int, parts: list[dict[str, NDArray[Any]]], n: int
) -> EnsembleResult:
    """One result from the batches' arrays, in order."""
    s = batches.scenario
    types = _TYPES | (_TALKS if batches.talks else {})
    empty: dict[str, tuple[int, ...]] = {
        "priors": (0, len(s.priors)),
        "released": (0, len(batches.release_columns)),
        "side_channel": (0, len(batches.side_categories)),
        "extensions": (0, 0 if batches.talks else batches.width),
        "agreement_values": (0, 0, 2),
    }
    out: dict[str, Any] = {}
    for name, kind in types.items():
        pieces = [part[name] for part in parts]
        if name in _PADDED or name == "agreement_values":
            width = max((p.shape[1] for p in pieces), default=0)
            fill = np.nan if name == "agreement_values" else -1
            padded = []
            for p in pieces:
                full = np.full((p.shape[0], width, *p.shape[2:]), fill, dtype=p.dtype)
                full[:, : p.shape[1]] = p
                padded.append(full)
            pieces = padded
        if pieces:
            out[name] = np.concatenate(pieces).astype(kind, copy=False)
        else:
            shape = empty.get(name, (0, 0) if name in _PADDED else (0,))
            out[name] = np.zeros(shape, dtype=kind)
    assert out["pause_days"].shape[0] == n
    common: dict[str, Any] = {
        "scenario": s.name,
        "scenario_hash": content_hash(s),
        "seed": seed,
        "calendar_start": s.calendar.start,
        "parties": batches.parties,
        "release_columns": batches.release_columns,
        "side_categories": batches.side_categories,
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
