"""Per-episode tables of an ensemble: one row per episode, named columns (Arrow)."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from ._results import END_CODES, EnsembleResult, NegotiationEnsembleResult

_EPOCH = date(1970, 1, 1)


def _dates(days: np.ndarray[Any, Any], offset: int, mask: np.ndarray[Any, Any]) -> pa.Array:
    values = pa.array((days.astype(np.int64) + offset).astype(np.int32), mask=mask)
    return values.cast(pa.date32())


def episode_table(result: EnsembleResult) -> pa.Table:
    """The per-episode rows of ``result`` (see ``EnsembleResult.to_arrow``)."""
    n = len(result)
    start = (result.calendar_start - _EPOCH).days
    ext = result.extensions
    lengths = (ext >= 0).sum(axis=1)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    columns: dict[str, pa.Array] = {
        "draw": pa.array(np.arange(result.first_draw, result.first_draw + n, dtype=np.int64)),
        "pause_days": pa.array(result.pause_days.astype(np.int32)),
        "fighting_days": pa.array(result.fighting_days.astype(np.int32)),
        "extensions": pa.ListArray.from_arrays(
            pa.array(offsets), pa.array(ext[ext >= 0].astype(np.int32))
        ),
    }
    for j, (party, category) in enumerate(result.release_columns):
        columns[f"released_{party}_{category}"] = pa.array(result.released[:, j].astype(np.int32))
    columns["side_channel"] = pa.array(result.side_channel_released.astype(np.int32))
    reasons = pa.DictionaryArray.from_arrays(
        pa.array(result.end_reason.astype(np.int32)), pa.array(list(END_CODES))
    )
    columns["end_reason"] = reasons.dictionary_decode()
    columns["end_date"] = _dates(result.end_day, start, result.end_day < 0)
    agreed = result.agreement_days()
    signed = None if isinstance(result, NegotiationEnsembleResult) else result.agreement_signed
    if signed is not None:  # the agreement in force: its own date, even before the calendar
        columns["agreement_date"] = _dates(
            np.zeros(n, dtype=np.int64), (signed - _EPOCH).days, agreed < 0
        )
    else:
        columns["agreement_date"] = _dates(agreed, start, agreed < 0)
    by = result.ended_by.astype(np.int32)
    columns["ended_by"] = pa.DictionaryArray.from_arrays(
        pa.array(by, mask=by < 0), pa.array(list(result.parties))
    ).dictionary_decode()
    columns["breach"] = pa.array(result.breach)
    columns["breach_count"] = pa.array(result.breaches.astype(np.int32))
    columns["delays"] = pa.array(result.delays.astype(np.int32))
    rounds = getattr(result, "talk_rounds", None)
    if isinstance(rounds, np.ndarray):  # an ensemble with talks
        columns["talk_rounds"] = pa.array(rounds.astype(np.int32))
    for j, (name, integer) in enumerate(zip(result.prior_names, result.prior_integer, strict=True)):
        values = result.priors[:, j]
        array = values.astype(np.int64) if integer else values.astype(np.float64)
        columns[f"prior_{name}"] = pa.array(array)
    return pa.table(columns)
