"""Two designs on the same draws: paired differences with common random numbers.

:func:`compare` runs episodes ``0..n-1`` of scenarios A and B with the same ensemble
seed. Episode ``i`` of both uses the same streams (``SeedSequence(seed, spawn_key=(i,))``):
the same uniform for each prior, so priors are matched **by position** (the j-th prior of
A and of B take the same uniform; both files must have the same prior targets in the same
order), and the same in-episode stream (delays, refusals, cures: drawn in the order each
episode makes them). What differs between the pair is the design, so the difference
B - A per episode has far less noise than two independent ensembles would give.

For each metric the result gives the mean under A, under B, and the mean paired
difference B - A with a 95% paired t interval (mean ± t(0.975, n-1) · sd / √n). The
sums are kept as exact integers, so the result does not depend on the batch size, and
identical designs give differences of exactly 0 with an interval of [0, 0].
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from .._version import __version__
from ..scenario import Scenario, content_hash
from ._episodes import BATCH_SIZE
from ._results import END_CODES, EnsembleResult
from ._stream import iter_ensemble
from ._summaries import agreement_day, extension_counts, party_totals, prior_name

METHOD = (
    "Common random numbers: episode i of A and of B uses the same random streams (the "
    "same uniform for the j-th prior of each file, the same in-episode draws), so each "
    "difference is paired. Intervals: 95% paired t intervals of the mean difference "
    "B - A (mean ± t(0.975, n - 1) · sd / √n)."
)


class ComparisonError(ValueError):
    """The two scenarios cannot be compared on the same draws."""


@dataclass
class _Paired:
    """Exact integer sums of a paired metric."""

    sum_a: int = 0
    sum_b: int = 0
    sum_d: int = 0
    sum_d2: int = 0

    def add(self, a: NDArray[np.int64], b: NDArray[np.int64]) -> None:
        d = b - a
        self.sum_a += int(a.sum())
        self.sum_b += int(b.sum())
        self.sum_d += int(d.sum())
        self.sum_d2 += int((d * d).sum())

    def result(self, n: int) -> dict[str, Any]:
        mean = self.sum_d / n
        low: float | None = None
        high: float | None = None
        sd: float | None = None
        if n > 1:
            # n·Σd² - (Σd)², exact in integers: zero when every difference is the same.
            spread = n * self.sum_d2 - self.sum_d * self.sum_d
            sd = math.sqrt(spread / (n * (n - 1)))
            half = float(special.stdtrit(n - 1, 0.975)) * sd / math.sqrt(n) if spread else 0.0
            low, high = mean - half, mean + half
        return {
            "a_mean": self.sum_a / n,
            "b_mean": self.sum_b / n,
            "difference": mean,
            "low": low,
            "high": high,
            "sd": sd,
        }


def check_comparable(a: Scenario, b: Scenario) -> None:
    """Raise :class:`ComparisonError` unless A and B can share draws."""
    keys_a = [prior_name(p.key()) for p in a.priors]
    keys_b = [prior_name(p.key()) for p in b.priors]
    if keys_a != keys_b:
        raise ComparisonError(
            "the two scenarios must have the same prior targets in the same order, so that "
            "episode i of each takes the same draw (priors are matched by position); "
            f"A has [{', '.join(keys_a) or 'none'}], B has [{', '.join(keys_b) or 'none'}]"
        )
    parties_a = [p.id for p in a.parties]
    parties_b = [p.id for p in b.parties]
    if parties_a != parties_b:
        raise ComparisonError(
            f"the two scenarios must have the same parties in the same order; A has "
            f"{', '.join(parties_a)}, B has {', '.join(parties_b)}"
        )


def _metrics(result: EnsembleResult, scenario: Scenario) -> dict[str, NDArray[np.int64]]:
    out: dict[str, NDArray[np.int64]] = {
        "pause_days": result.pause_days.astype(np.int64),
        "extensions": extension_counts(result),
    }
    for party, totals in party_totals(result).items():
        out[f"released_{party}"] = totals
    out["side_channel_released"] = result.side_channel_released.astype(np.int64)
    out["agreement"] = (agreement_day(result, scenario) >= 0).astype(np.int64)
    out["breach"] = result.breach.astype(np.int64)
    for code, reason in enumerate(END_CODES):
        out[f"end_{reason}"] = (result.end_reason == code).astype(np.int64)
    return out


MAX_DIFFERENCES = 40
_TEXT_LIMIT = 80


def _short(value: object) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 3] + "..."


def _diff(a: object, b: object, path: str, out: list[dict[str, str]]) -> None:
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in a:
                out.append({"path": sub, "a": "(absent)", "b": _short(b[key])})
            elif key not in b:
                out.append({"path": sub, "a": _short(a[key]), "b": "(absent)"})
            else:
                _diff(a[key], b[key], sub, out)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{path}[{i}]", out)
        return
    out.append({"path": path, "a": _short(a), "b": _short(b)})


def differences(a: Scenario, b: Scenario) -> list[dict[str, str]]:
    """Where the two scenarios differ: each differing field's path (as in the file) and its
    value in A and in B (compact JSON, long values shortened), the name and description
    left out; at most ``MAX_DIFFERENCES``, in the files' order."""
    out: list[dict[str, str]] = []
    da = a.model_dump(mode="json", exclude={"name", "description"})
    db = b.model_dump(mode="json", exclude={"name", "description"})
    _diff(da, db, "", out)
    return out[:MAX_DIFFERENCES]


def _label(key: str, names: dict[str, str]) -> tuple[str, str]:
    if key == "pause_days":
        return "pause days", "count"
    if key == "extensions":
        return "extensions", "count"
    if key == "side_channel_released":
        return "side-channel releases", "count"
    if key.startswith("released_"):
        party = key.removeprefix("released_")
        return f"released by {names.get(party, party)} (deal)", "count"
    if key == "agreement":
        return "P(agreement)", "probability"
    if key == "breach":
        return "P(breach)", "probability"
    return f"P(ends: {key.removeprefix('end_')})", "probability"


def compare(
    a: Scenario,
    b: Scenario,
    n: int,
    seed: int = 0,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    **engine: Any,
) -> dict[str, Any]:
    """Compare designs A and B on episodes ``0..n-1`` of ``seed`` (see the module)."""
    check_comparable(a, b)
    if n < 1:
        raise ValueError("n must be >= 1")
    sums: dict[str, _Paired] = {}
    seen: set[str] = set()
    done = 0
    for batch_a, batch_b in zip(
        iter_ensemble(a, n, seed, batch_size, **engine),
        iter_ensemble(b, n, seed, batch_size, **engine),
        strict=True,
    ):
        if len(batch_a) != len(batch_b):  # pragma: no cover - same n, same batch size
            raise RuntimeError("the two ensembles are not in step")
        ma, mb = _metrics(batch_a, a), _metrics(batch_b, b)
        for key in ma:
            sums.setdefault(key, _Paired()).add(ma[key], mb[key])
            if key.startswith("end_") and (ma[key].any() or mb[key].any()):
                seen.add(key)
        done += len(batch_a)
        if progress is not None:
            progress(len(batch_a))
    names = {p.id: p.name for p in a.parties}
    metrics = []
    for key, paired in sums.items():
        if key.startswith("end_") and key not in seen:
            continue
        label, kind = _label(key, names)
        metrics.append({"metric": key, "label": label, "kind": kind, **paired.result(done)})
    return {
        "a": {"scenario": a.name, "scenario_hash": content_hash(a)},
        "b": {"scenario": b.name, "scenario_hash": content_hash(b)},
        "seed": seed,
        "n": done,
        "package_version": __version__,
        "priors": [prior_name(p.key()) for p in a.priors],
        "differences": differences(a, b),
        "method": METHOD,
        "metrics": metrics,
    }
