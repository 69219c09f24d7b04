"""An episode's random stream inside the kernel: NumPy's PCG64, one double at a time.

The state is four unsigned 64-bit words (state high, state low, increment high,
increment low), seeded by NumPy itself (:func:`stream_state`), so a draw here is
``numpy.random.Generator(PCG64(seed_sequence)).random()``: a 128-bit LCG step, the
XSL-RR output, ``(next64 >> 11) * 2**-53``. Both are part of NumPy's stream-compatibility
guarantee, and ``tests/test_randomness.py`` checks them against NumPy's own generator.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable
from numpy.typing import NDArray

U64 = NDArray[np.uint64]

_MULT = 0x2360ED051FC65DA44385DF649FCCF645
_M_HI = np.uint64(_MULT >> 64)
_M_LO = np.uint64(_MULT & 0xFFFFFFFFFFFFFFFF)
_M_LO_0 = np.uint64(_MULT & 0xFFFFFFFF)
_M_LO_1 = np.uint64((_MULT >> 32) & 0xFFFFFFFF)
_LOW32 = np.uint64(0xFFFFFFFF)
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


@register_jitable
def next_double(rng: U64) -> float:
    """The stream's next double in [0, 1) (``Generator.random``)."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    # state * MULT + inc (mod 2**128), on 64-bit halves
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
    out_hi = new_hi + inc_hi + (_ONE if out_lo < new_lo else _ZERO)
    rng[0] = out_hi
    rng[1] = out_lo
    # XSL-RR output
    x = out_hi ^ out_lo
    rot = out_hi >> _S58
    out = (x >> rot) | (x << ((_S64 - rot) & _S63))
    return float(out >> _S11) * _TO_DOUBLE
