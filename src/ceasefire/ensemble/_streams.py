"""Each episode's random streams, for many episodes at once.

Episode ``i`` of an ensemble with seed ``s`` owns the stream
``SeedSequence(s, spawn_key=(i,))`` (the i-th child ``SeedSequence(s).spawn(n)`` would
give, without making the n children). Two streams derive from it:

- ``(i, 0)``, the **prior** stream: one uniform per prior, in the order of ``priors``;
- ``(i, 1)``, the **episode** stream: the engine's draws inside the episode (a delayed
  hand-over, a refused batch and its cures), in the order the reference engine makes them.

Each stream is ``numpy.random.Generator(PCG64(SeedSequence(s, spawn_key=(i, j))))``; the
reference engine uses exactly that generator (:func:`episode_generator`). Building one
generator per episode costs tens of microseconds in Python, so the ensemble engine runs
the same arithmetic over arrays instead: :func:`seeded_states` is NumPy's
``SeedSequence`` hash (pool of 4 words, ``generate_state(4, uint64)``) and
:class:`Streams` is NumPy's ``PCG64`` (128-bit LCG, XSL-RR output) with
``Generator.random``'s conversion to a double ``(next64 >> 11) * 2**-53``, all
vectorised over episodes. Both are part of NumPy's stream-compatibility guarantee;
:func:`check_against_numpy` compares them with NumPy's own generators, and the ensemble
runs that check once per process before trusting them.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

U32 = NDArray[np.uint32]
U64 = NDArray[np.uint64]
F64 = NDArray[np.float64]

PRIOR_STREAM = 0
EPISODE_STREAM = 1

# NumPy's SeedSequence constants (numpy/random/bit_generator.pyx).
_POOL_SIZE = 4
_INIT_A = 0x43B0D7E5
_MULT_A = 0x931E8875
_INIT_B = 0x8B51F9DD
_MULT_B = 0x58F38DED
_MIX_MULT_L = np.uint32(0xCA01F9DD)
_MIX_MULT_R = np.uint32(0x4973F715)
_XSHIFT = np.uint32(16)
_MASK32 = 0xFFFFFFFF

# PCG64's multiplier (PCG_DEFAULT_MULTIPLIER_128), split into 64- and 32-bit parts.
_MULT = 0x2360ED051FC65DA44385DF649FCCF645
_M_HI = np.uint64(_MULT >> 64)
_M_LO = np.uint64(_MULT & 0xFFFFFFFFFFFFFFFF)
_M_LO_0 = np.uint64(_MULT & _MASK32)
_M_LO_1 = np.uint64((_MULT >> 32) & _MASK32)
_LOW32 = np.uint64(_MASK32)
_S32 = np.uint64(32)
_S58 = np.uint64(58)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_TO_DOUBLE = 1.0 / 9007199254740992.0


def episode_generator(seed: int, index: int, stream: int) -> np.random.Generator:
    """NumPy's generator for ``stream`` (0: priors, 1: the episode) of episode ``index``."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(index, stream)))
    )


def _words(value: int) -> list[int]:
    """An integer as little-endian 32-bit words (SeedSequence's coercion)."""
    if value < 0:
        raise ValueError("seeds and episode indices must be >= 0")
    words = [value & _MASK32]
    value >>= 32
    while value:
        words.append(value & _MASK32)
        value >>= 32
    return words


def _hashmix(value: U32, const: list[int]) -> U32:
    value = value ^ np.uint32(const[0])
    const[0] = (const[0] * _MULT_A) & _MASK32
    value = value * np.uint32(const[0])
    return value ^ (value >> _XSHIFT)


def _mix(x: U32, y: U32) -> U32:
    result: U32 = _MIX_MULT_L * x - _MIX_MULT_R * y
    return result ^ (result >> _XSHIFT)


def seeded_states(seed: int, indices: U64, stream: int) -> tuple[U64, U64, U64, U64]:
    """PCG64's (state high, state low, increment high, increment low) after seeding with
    ``SeedSequence(seed, spawn_key=(i, stream))``, for each episode index ``i``."""
    if indices.size and int(indices.max()) > _MASK32:
        raise ValueError("episode indices must be below 2**32")
    count = indices.size
    run = _words(seed)
    if len(run) < _POOL_SIZE:  # with a spawn key, NumPy pads the seed to the pool size
        run += [0] * (_POOL_SIZE - len(run))
    # Words that are the same for every episode stay one-element arrays (broadcast), so
    # only what depends on the episode index is computed per episode.
    columns: list[U32] = [np.array([w], dtype=np.uint32) for w in run]
    columns.append(indices.astype(np.uint32))
    columns += [np.array([w], dtype=np.uint32) for w in _words(stream)]

    const = [_INIT_A]
    pool = [_hashmix(columns[i], const) for i in range(_POOL_SIZE)]
    for src in range(_POOL_SIZE):
        for dst in range(_POOL_SIZE):
            if src != dst:
                pool[dst] = _mix(pool[dst], _hashmix(pool[src], const))
    for src in range(_POOL_SIZE, len(columns)):
        for dst in range(_POOL_SIZE):
            pool[dst] = _mix(pool[dst], _hashmix(columns[src], const))

    hash_b = _INIT_B
    out: list[U32] = []
    for i in range(8):
        value = pool[i % _POOL_SIZE] ^ np.uint32(hash_b)
        hash_b = (hash_b * _MULT_B) & _MASK32
        value = value * np.uint32(hash_b)
        out.append(value ^ (value >> _XSHIFT))
    words = [
        np.broadcast_to(out[2 * j].astype(np.uint64), (count,))
        | (out[2 * j + 1].astype(np.uint64) << _S32)
        for j in range(4)
    ]
    seed_hi, seed_lo, inc_hi, inc_lo = words
    # pcg_setseq_128_srandom_r: inc = initseq << 1 | 1; state = 0; step; state += seed; step.
    inc_hi = (inc_hi << _ONE) | (inc_lo >> np.uint64(63))
    inc_lo = (inc_lo << _ONE) | _ONE
    zero = np.zeros(count, dtype=np.uint64)
    hi, lo = _step(zero, zero.copy(), inc_hi, inc_lo)
    lo2 = lo + seed_lo
    hi = hi + seed_hi + (lo2 < lo).astype(np.uint64)
    hi, lo = _step(hi, lo2, inc_hi, inc_lo)
    return hi, lo, inc_hi, inc_lo


def _step(hi: U64, lo: U64, inc_hi: U64, inc_lo: U64) -> tuple[U64, U64]:
    """One LCG step: state * MULT + inc (mod 2**128), on (high, low) 64-bit halves."""
    a0 = lo & _LOW32
    a1 = lo >> _S32
    p00 = a0 * _M_LO_0
    p01 = a0 * _M_LO_1
    p10 = a1 * _M_LO_0
    p11 = a1 * _M_LO_1
    mid = (p00 >> _S32) + (p01 & _LOW32) + (p10 & _LOW32)
    carry = p11 + (p01 >> _S32) + (p10 >> _S32) + (mid >> _S32)
    new_lo = lo * _M_LO
    new_hi = carry + lo * _M_HI + hi * _M_LO
    out_lo = new_lo + inc_lo
    out_hi = new_hi + inc_hi + (out_lo < new_lo).astype(np.uint64)
    return out_hi, out_lo


def _output(hi: U64, lo: U64) -> F64:
    """XSL-RR output of the state, as Generator.random's double in [0, 1)."""
    x = hi ^ lo
    rot = hi >> _S58
    out = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
    return (out >> _S11).astype(np.float64) * _TO_DOUBLE


class Streams:
    """One stream per episode (episodes ``indices``), each drawn from independently."""

    def __init__(self, seed: int, indices: U64, stream: int) -> None:
        self.hi, self.lo, self.inc_hi, self.inc_lo = seeded_states(seed, indices, stream)

    def __len__(self) -> int:
        return int(self.hi.size)

    def random(self) -> F64:
        """The next double of every stream."""
        self.hi, self.lo = _step(self.hi, self.lo, self.inc_hi, self.inc_lo)
        return _output(self.hi, self.lo)

    def random_where(self, mask: NDArray[np.bool_]) -> F64:
        """The next double of the streams where ``mask`` holds (NaN elsewhere); the
        other streams do not move."""
        if mask.all():
            return self.random()
        out = np.full(mask.size, np.nan)
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return out
        hi, lo = _step(self.hi[rows], self.lo[rows], self.inc_hi[rows], self.inc_lo[rows])
        self.hi[rows] = hi
        self.lo[rows] = lo
        out[rows] = _output(hi, lo)
        return out


def check_against_numpy(seed: int = 20231124, count: int = 64, draws: int = 3) -> None:
    """Raise if the vectorised streams differ from NumPy's generators."""
    indices = np.arange(count, dtype=np.uint64) * np.uint64(65_537) + np.uint64(3)
    for stream in (PRIOR_STREAM, EPISODE_STREAM):
        ours = Streams(seed, indices, stream)
        got = np.stack([ours.random() for _ in range(draws)], axis=1)
        for row, index in enumerate(indices.tolist()):
            expected = episode_generator(seed, index, stream).random(draws)
            if not np.array_equal(got[row], expected):
                raise RuntimeError(
                    f"the vectorised streams differ from NumPy {np.__version__}'s "
                    "SeedSequence/PCG64; the ensemble engine cannot reproduce the "
                    "reference engine's draws with this NumPy"
                )


@cache
def verified() -> bool:
    """Check the vectorised streams against NumPy once per process."""
    check_against_numpy()
    return True
