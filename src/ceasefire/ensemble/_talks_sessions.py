"""The sessions of talks running in a batch of episodes, as arrays over sessions.

One entry per running session (an episode has at most one): the episode, the day it
opened, the relay delay and the rounds each side's deadline allows, each side's last
offer (a grid index), the mediator's stall count, the class of the episode's table
(``_talks_tables``) and each side's threshold parameters on it. Entries of sessions
that ended stay until a quarter of the entries are dead, then the arrays are compacted
(the arithmetic of the live ones does not depend on their neighbours).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Mask = NDArray[np.bool_]

_FIELDS = (
    "ep",
    "start",
    "d",
    "rd",
    "n0",
    "n1",
    "base0",
    "base1",
    "last0",
    "last1",
    "gift0",
    "gift1",
    "stalled",
    "tabled",
    "fresh",
    "slot",
    "umin0",
    "umin1",
    "umax0",
    "umax1",
    "span0",
    "span1",
    "r0",
    "r1",
    "alive",
)


class Sessions:
    """Running sessions of talks (side 0 is the first mover, side 1 the other)."""

    def __init__(self) -> None:
        i = np.zeros(0, dtype=np.int64)
        f = np.zeros(0)
        b = np.zeros(0, dtype=bool)
        self.ep, self.start, self.d, self.rd = i, i, i, i
        self.n0, self.n1, self.base0, self.base1 = i, i, i, i
        self.last0, self.last1 = i, i
        self.gift0, self.gift1 = f, f
        self.stalled = i
        self.tabled, self.fresh = b, b
        self.slot = i
        self.umin0, self.umin1, self.umax0, self.umax1 = f, f, f, f
        self.span0, self.span1, self.r0, self.r1 = f, f, f, f
        self.alive = b
        self.dead = 0
        # When every live session opened the same day with the same relay delay, its
        # round and offset are the same for all: ``uniform`` holds their (start, rd, d,
        # n0, n1, base0, base1).
        self.uniform: tuple[int, int, int, int, int, int, int] | None = None
        # The one class every live session uses, if they all use one (else -1).
        self.single = -1

    @property
    def size(self) -> int:
        return int(self.ep.size)

    def any_alive(self) -> bool:
        return self.size > self.dead

    def add(self, fields: dict[str, NDArray[Any]]) -> None:
        for name in _FIELDS:
            setattr(self, name, np.concatenate([getattr(self, name), fields[name]]))
        self.settle(changed=True)

    def kill(self, pos: I64) -> None:
        self.alive[pos] = False
        self.dead += int(pos.size)

    def settle(self, changed: bool = False) -> None:
        """Compact when a quarter of the entries are dead; recompute the shortcuts when
        sessions were added or compacted (ending sessions cannot break them)."""
        if self.dead and self.dead * 4 >= self.size:
            keep = self.alive
            for name in _FIELDS:
                setattr(self, name, getattr(self, name)[keep])
            self.dead = 0
            changed = True
        if not changed:
            return
        live = self.alive
        if not live.any():
            self.uniform = None
            self.single = -1
            return
        start, rd = self.start[live], self.rd[live]
        if start.min() == start.max() and rd.min() == rd.max():
            j = int(np.flatnonzero(live)[0])
            self.uniform = (
                int(self.start[j]),
                int(self.rd[j]),
                int(self.d[j]),
                int(self.n0[j]),
                int(self.n1[j]),
                int(self.base0[j]),
                int(self.base1[j]),
            )
            if not (self.n0[live] == self.n0[j]).all() or not (self.n1[live] == self.n1[j]).all():
                self.uniform = None
        else:
            self.uniform = None
        self.update_single()

    def update_single(self) -> None:
        live = self.alive & ~self.fresh
        if not live.any():
            self.single = -1
            return
        slots = self.slot[live]
        self.single = int(slots[0]) if slots.min() == slots.max() else -1
