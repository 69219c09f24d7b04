"""How the kernel's functions are declared: plain Python, compiled when an ensemble
calls them (numba's ``register_jitable``).

``@kernel`` declares a kernel function; ``@inline`` one that, compiled, is inlined into
its caller: the rules of a day (each called from one place, the day loop) and small
helpers that run many times a day (a log row, a custody count, a draw). A call on the
state costs reference counting on every array it touches, shared between the threads
of an ensemble; inlining lets the compiler drop most of it. Inlining everything would
copy the deep helpers of the talks into every caller and make the compilation take
many minutes, so those stay calls.
"""

from collections.abc import Callable
from typing import TypeVar

from numba.extending import register_jitable

F = TypeVar("F", bound=Callable[..., object])


def kernel(fn: F) -> F:
    """Declare ``fn`` a kernel function (a fresh decorator each time: numba's consumes
    its options)."""
    register_jitable(fn)
    return fn


def inline(fn: F) -> F:
    """Declare ``fn`` a kernel function inlined into its caller when compiled."""
    register_jitable(inline="always")(fn)
    return fn
