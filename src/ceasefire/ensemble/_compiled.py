"""The episode kernel compiled for ensembles: many episodes at once, in parallel.

:func:`simulate` runs the engine's own kernel (``ceasefire.engine.run_episode``) on each
episode of a batch, the episodes spread over the CPU's cores (numba's ``prange`` over
chunks of episodes, one state per chunk, reset for each episode); :func:`prior_uniforms`
draws each episode's uniforms for the priors. Each episode seeds its own streams
(``SeedSequence(seed, spawn_key=(i, j))``, computed here as NumPy does).

Compiling takes about 20 minutes on a 2-core machine; the machine code is cached on
disk, in a folder named after a hash of the compiled functions' sources (the engine's
modules and this one, so an edited kernel is never run from a stale cache), under
``$NUMBA_CACHE_DIR`` if set,
else ``$XDG_CACHE_HOME/ceasefire/numba`` (default ``~/.cache/ceasefire/numba``). Only
the first ensemble after an install or an upgrade compiles.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import njit, prange
from numba.core.errors import NumbaIRAssumptionWarning
from numpy.typing import NDArray

from .. import engine
from ..engine import (
    SEED_WORK,
    new_state,
    next_double,
    reset_state,
    run_episode,
    seed_stream,
)
from ..engine import slots as S

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
U64 = NDArray[np.uint64]

# Compiled without numba's runtime (no reference counting: ``engine._jit``).
NO_RUNTIME: dict[str, Any] = {"_nrt": False}

# Columns of the per-episode integer results.
(
    R_PAUSE_DAYS,
    R_FIGHTING_DAYS,
    R_END_REASON,
    R_END_DAY,
    R_ENDED_BY,
    R_PAUSE_START,
    R_PAUSE_END,
    R_BREACHES,
    R_DELAYS,
    R_TALK_ROUNDS,
    R_EXTENSIONS,
    R_DEALS,
) = range(12)
N_RESULTS = 12


_KERNEL_MARKS = (b"@kernel", b"@inline", b"@allocating", b"register_jitable")
_IMPORT = re.compile(rb"^from \.(_\w+) import", re.M)


def kernel_sources() -> list[Path]:
    """The engine modules the compiled code is made of: those that declare kernel
    functions, and every engine module they import (constants are compiled in). The
    decoders of the event log, the records and the rest are plain Python: editing them
    does not recompile."""
    folder = Path(engine.__file__).parent
    found: set[Path] = set()
    todo = [p for p in folder.glob("*.py") if any(m in p.read_bytes() for m in _KERNEL_MARKS)]
    while todo:
        path = todo.pop()
        if path in found:
            continue
        found.add(path)
        for name in _IMPORT.findall(path.read_bytes()):
            todo.append(folder / f"{name.decode()}.py")
    return sorted(found)


def _cache_dir() -> str:
    # The sources of every compiled function: the engine's kernel modules and this
    # module's (the rest of the ensemble package is plain Python, and editing it does not
    # recompile).
    digest = hashlib.sha256()
    for path in [*kernel_sources(), Path(__file__)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(f"{numba.__version__} {np.__version__}".encode())
    if os.environ.get("NUMBA_CACHE_DIR"):
        base = Path(os.environ["NUMBA_CACHE_DIR"])
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        base = base / "ceasefire" / "numba"
    return str(base / digest.hexdigest()[:16])


numba.config.CACHE_DIR = _cache_dir()  # type: ignore[attr-defined]


@contextmanager
def quiet_compiler() -> Iterator[None]:
    """Around a call that may compile: numba's internal pedantic checks
    (``NumbaIRAssumptionWarning``, about variables its inliner renames) are not the
    user's business."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumbaIRAssumptionWarning)
        yield


def is_compiled() -> bool:
    """Whether the compiled ensemble is in the disk cache: if not, the next ensemble
    compiles it first (about 20 minutes on a 2-core machine, once)."""
    return any(Path(numba.config.CACHE_DIR).glob("*/*simulate*.nbi"))  # type: ignore[attr-defined]


@njit(parallel=True, cache=True)
def prior_uniforms(words: U64, indices: U64, count: int) -> F64:  # pragma: no cover - compiled
    """Each episode's ``count`` uniforms from its prior stream ``(i, 0)``."""
    out = np.zeros((indices.size, count))
    for e in prange(indices.size):
        rng = np.zeros(4, dtype=np.uint64)
        seed_stream(words, indices[e], 0, rng, np.zeros(SEED_WORK, dtype=np.uint64))
        for j in range(count):
            out[e, j] = next_double(rng)
    return out


@njit(parallel=True, cache=True)
def simulate(  # pragma: no cover - compiled
    plan: S.PlanArrays,
    words: U64,
    indices: U64,
    holdings: I64,
    relay: I64,
    party: F64,
    flows: F64,
    weight: F64,
    delay: F64,
    released_party: I64,
    released_category: I64,
    side_categories: I64,
    results: I64,
    extensions: I64,
    released: I64,
    side: I64,
    deals: I64,
    deal_values: F64,
    order: I64,
    chunks: int,
) -> None:
    """Run the episodes of ``indices`` (episode stream ``(i, 1)`` each) with their
    parameters (row e of each), writing row e of each result array: ``chunks`` runs of
    episodes, in parallel, each on its own state, taking the rows in the order of
    ``order`` (a permutation: the results do not depend on it; episodes whose talks
    start from the same table, one after the other, build it once)."""
    n = indices.size
    size = (n + chunks - 1) // chunks
    n_p, n_c = holdings.shape[1], holdings.shape[2]
    for chunk in prange(chunks):
        log_i = np.zeros((0, 1), dtype=np.int64)
        log_f = np.zeros((0, 1))
        run_chunk(
            plan,
            new_state(plan, n_p, n_c, log_i, log_f),
            chunk * size,
            min(n, (chunk + 1) * size),
            words,
            indices,
            holdings,
            relay,
            party,
            flows,
            weight,
            delay,
            released_party,
            released_category,
            side_categories,
            results,
            extensions,
            released,
            side,
            deals,
            deal_values,
            order,
        )


@njit(cache=True, **NO_RUNTIME)  # type: ignore[untyped-decorator]
def run_chunk(  # pragma: no cover - compiled
    plan: S.PlanArrays,
    st: S.State,
    first: int,
    stop: int,
    words: U64,
    indices: U64,
    holdings: I64,
    relay: I64,
    party: F64,
    flows: F64,
    weight: F64,
    delay: F64,
    released_party: I64,
    released_category: I64,
    side_categories: I64,
    results: I64,
    extensions: I64,
    released: I64,
    side: I64,
    deals: I64,
    deal_values: F64,
    order: I64,
) -> None:
    """Episodes ``order[first..stop-1]`` of a batch, one after the other on one state.
    Compiled without numba's runtime: no reference counting (``engine._jit``)."""
    si = st.si
    for q in range(first, stop):
        e = order[q]
        reset_state(plan, st, holdings[e], relay[e], party[e], flows[e], weight[e], delay[e])
        seed_stream(words, indices[e], 1, st.rng, st.seed_work)
        run_episode(plan, st)
        row = results[e]
        row[R_PAUSE_DAYS] = si[S.S_PAUSE_DAYS]
        row[R_FIGHTING_DAYS] = si[S.S_FIGHTING_DAYS]
        row[R_END_REASON] = si[S.S_END_REASON]
        row[R_END_DAY] = si[S.S_END_DAY]
        row[R_ENDED_BY] = si[S.S_END_BY]
        row[R_PAUSE_START] = si[S.S_PAUSE_START]
        row[R_PAUSE_END] = si[S.S_PAUSE_END]
        row[R_BREACHES] = si[S.S_BREACHES]
        row[R_DELAYS] = si[S.S_DELAYS]
        row[R_TALK_ROUNDS] = si[S.S_TALK_ROUNDS]
        row[R_EXTENSIONS] = si[S.S_EXTENSIONS]
        row[R_DEALS] = si[S.S_DEALS]
        ext = st.extensions
        for j in range(min(ext.size, extensions.shape[1])):
            extensions[e, j] = ext[j]
        rel = st.released
        for j in range(released_party.size):
            released[e, j] = rel[released_party[j], released_category[j]]
        side_released = st.side_released
        for j in range(side_categories.size):
            side[e, j] = side_released[side_categories[j]]
        deal_i, deal_f = st.deal_i, st.deal_f
        for j in range(min(deal_i.shape[0], deals.shape[1])):
            for k in range(4):
                deals[e, j, k] = deal_i[j, k]
            deal_values[e, j, 0] = deal_f[j, 0]
            deal_values[e, j, 1] = deal_f[j, 1]
