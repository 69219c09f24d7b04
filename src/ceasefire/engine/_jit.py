"""How the kernel's functions are declared: plain Python, compiled when an ensemble
calls them (numba's ``register_jitable``).

``@kernel`` declares a kernel function, compiled without numba's runtime (``_nrt=False``):
it may read and write the arrays of the plan and the state (named tuples, ``_state``)
but not make new ones, and so it does no reference counting, which would otherwise be
most of an ensemble's time (an atomic increment and decrement each time a rule touches
an array). ``@inline`` declares one that, compiled, is inlined into its caller: the
rules of a day (each called from one place, the day loop) and small helpers that run
many times a day (a log row, a custody count, a draw). ``@allocating`` declares the few
functions that make arrays (an episode's state), called once per thread.
"""

from collections.abc import Callable
from typing import TypeVar

from numba.extending import register_jitable

F = TypeVar("F", bound=Callable[..., object])


def kernel(fn: F) -> F:
    """Declare ``fn`` a kernel function, compiled without the runtime."""
    register_jitable(_nrt=False)(fn)
    return fn


def inline(fn: F) -> F:
    """Declare ``fn`` a kernel function inlined into its caller when compiled."""
    register_jitable(inline="always")(fn)
    return fn


def allocating(fn: F) -> F:
    """Declare ``fn`` a kernel function that makes arrays (compiled with the runtime)."""
    register_jitable(fn)
    return fn
