"""An episode's random stream inside the kernel: NumPy's PCG64, one double at a time.

The state is four unsigned 64-bit words (state high, state low, increment high,
increment low), seeded by NumPy itself (:func:`stream_state`), so a draw here is
``numpy.random.Generator(PCG64(seed_sequence)).random()``: a 128-bit LCG step, the
XSL-RR output, ``(next64 >> 11) * 2**-53``. Both are part of NumPy's stream-compatibility
guarantee, and ``tests/test_randomness.py`` checks them against NumPy's own generator.

The LCG step needs the high word of a 64 x 64-bit product: compiled, one machine
multiply (:func:`mul_hi`, an LLVM 128-bit product); as plain Python, Python's integers.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload
from numpy.typing import NDArray

from ._jit import inline, kernel
from ._state import S_OWED, State

U64 = NDArray[np.uint64]

_MULT = 0x2360ED051FC65DA44385DF649FCCF645
_M_HI = np.uint64(_MULT >> 64)
_M_LO = np.uint64(_MULT & 0xFFFFFFFFFFFFFFFF)
_S32 = np.uint64(32)
_S58 = np.uint64(58)
_S11 = np.uint64(11)
_S63 = np.uint64(63)
_S64 = np.uint64(64)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_TO_DOUBLE = 1.0 / 9007199254740992.0


def stream_state(seq: np.random.SeedSequence) -> U64:
    """The kernel's state for ``Generator(PCG64(seq))`` before its first draw."""
    state = np.random.PCG64(seq).state["state"]
    s, inc = int(state["state"]), int(state["inc"])
    mask = (1 << 64) - 1
    return np.array([s >> 64, s & mask, inc >> 64, inc & mask], dtype=np.uint64)


def mul_hi(a: np.uint64, b: np.uint64) -> np.uint64:
    """The high 64 bits of the 128-bit product ``a * b``."""
    return np.uint64((int(a) * int(b)) >> 64)


@intrinsic
def _mul_hi_llvm(typingctx: object, a: types.Type, b: types.Type) -> tuple[object, object]:
    def codegen(
        context: object, builder: ir.IRBuilder, signature: object, args: list[ir.Value]
    ) -> ir.Value:
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))

    return types.uint64(types.uint64, types.uint64), codegen


@overload(mul_hi, inline="always", strict=False)
def _mul_hi_compiled(a: types.Type, b: types.Type) -> object:
    if a == types.uint64 and b == types.uint64:
        # The intrinsic's first parameter, the typing context, is numba's to pass.
        return lambda a, b: _mul_hi_llvm(a, b)  # type: ignore[call-arg]
    return None


@inline
def next_double(rng: U64) -> float:
    """The stream's next double in [0, 1) (``Generator.random``)."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    # state * MULT + inc (mod 2**128), on 64-bit halves
    new_lo = lo * _M_LO
    new_hi = mul_hi(lo, _M_LO) + lo * _M_HI + hi * _M_LO
    out_lo = new_lo + inc_lo
    out_hi = new_hi + inc_hi + (_ONE if out_lo < new_lo else _ZERO)
    rng[0] = out_hi
    rng[1] = out_lo
    # XSL-RR output
    x = out_hi ^ out_lo
    rot = out_hi >> _S58
    out = (x >> rot) | (x << ((_S64 - rot) & _S63))
    return float(out >> _S11) * _TO_DOUBLE


@inline
def chance(st: State, p: float) -> bool:
    """Whether an event of probability ``p`` happens: one draw of the episode's stream
    below ``p``. When ``p`` is at most 0 the draw cannot decide anything and is owed
    instead (:func:`owe`)."""
    if p <= 0.0:
        owe(st, 1)
        return False
    return draw(st) < p


@inline
def draw(st: State) -> float:
    """The episode's next draw: the draws owed to its stream (:func:`owe`) taken, then
    the next one."""
    si, rng = st.si, st.rng
    for _ in range(si[S_OWED]):
        next_double(rng)
    si[S_OWED] = 0
    return next_double(rng)


@inline
def owe(st: State, draws: int) -> None:
    """``draws`` draws of the episode's stream whose values decide nothing (a side that
    cannot break off the talks, the re-requests a refusal did not need) are owed: taken
    before the next draw (:func:`draw`), so that every later draw is the one it would
    be. Draws still owed when the episode ends are never taken (nothing draws after it),
    which saves a draw per act of talks that cannot break down."""
    st.si[S_OWED] += draws


# NumPy's SeedSequence constants (numpy/random/bit_generator.pyx).
_MASK32 = np.uint64(0xFFFFFFFF)
_INIT_A = np.uint64(0x43B0D7E5)
_MULT_A = np.uint64(0x931E8875)
_INIT_B = np.uint64(0x8B51F9DD)
_MULT_B = np.uint64(0x58F38DED)
_MIX_L = np.uint64(0xCA01F9DD)
_MIX_R = np.uint64(0x4973F715)
_S16 = np.uint64(16)


def seed_words(seed: int) -> U64:
    """A seed as SeedSequence's little-endian 32-bit words, padded to its pool of 4."""
    if seed < 0:
        raise ValueError("seeds must be >= 0")
    words = [seed & 0xFFFFFFFF]
    seed >>= 32
    while seed:
        words.append(seed & 0xFFFFFFFF)
        seed >>= 32
    return np.array(words + [0] * (4 - len(words)), dtype=np.uint64)


@inline
def _hashmix(value: np.uint64, const: U64) -> np.uint64:
    value = value ^ const[0]
    const[0] = (const[0] * _MULT_A) & _MASK32
    value = (value * const[0]) & _MASK32
    return value ^ (value >> _S16)


@inline
def _mix(x: np.uint64, y: np.uint64) -> np.uint64:
    result = (_MIX_L * x - _MIX_R * y) & _MASK32
    return result ^ (result >> _S16)


SEED_WORK = 13  # the scratch words of :func:`seed_stream`


@inline
def _entropy(words: U64, key: np.uint64, wide: int, stream: int, k: int) -> np.uint64:
    """Word ``k`` of the entropy: the seed's words, the index (one or two 32-bit
    words), the stream."""
    n = words.size
    if k < n:
        return np.uint64(words[k])
    if k == n:
        return key & _MASK32
    if wide and k == n + 1:
        return key >> _S32
    return np.uint64(stream)


@kernel
def seed_stream(words: U64, index: int, stream: int, rng: U64, work: U64) -> None:
    """Set ``rng`` to ``PCG64(SeedSequence(seed, spawn_key=(index, stream)))``'s state,
    ``words`` being :func:`seed_words` of the seed (``index`` below 2**64, ``stream``
    below 2**32; ``work`` has ``SEED_WORK`` words of scratch): SeedSequence's hash of
    its entropy, then PCG64's seeding. As NumPy does, each number of the spawn key is
    its 32-bit words, low word first."""
    key = np.uint64(index)
    wide = 1 if key >> _S32 else 0
    size = words.size + 2 + wide
    const = work[0:1]
    pool = work[1:5]
    out = work[5:13]
    const[0] = _INIT_A
    for i in range(4):
        pool[i] = _hashmix(_entropy(words, key, wide, stream, i), const)
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = _mix(pool[dst], _hashmix(pool[src], const))
    for src in range(4, size):
        for dst in range(4):
            pool[dst] = _mix(pool[dst], _hashmix(_entropy(words, key, wide, stream, src), const))
    hash_b = _INIT_B
    for i in range(8):
        value = pool[i % 4] ^ hash_b
        hash_b = (hash_b * _MULT_B) & _MASK32
        value = (value * hash_b) & _MASK32
        out[i] = value ^ (value >> _S16)
    seed_hi = out[0] | (out[1] << _S32)
    seed_lo = out[2] | (out[3] << _S32)
    inc_hi = out[4] | (out[5] << _S32)
    inc_lo = out[6] | (out[7] << _S32)
    # pcg_setseq_128_srandom_r: inc = initseq << 1 | 1; state = 0; step; state += seed; step
    rng[2] = (inc_hi << _ONE) | (inc_lo >> _S63)
    rng[3] = (inc_lo << _ONE) | _ONE
    rng[0] = _ZERO
    rng[1] = _ZERO
    next_double(rng)
    lo = rng[1] + seed_lo
    rng[0] = rng[0] + seed_hi + (_ONE if lo < rng[1] else _ZERO)
    rng[1] = lo
    next_double(rng)
