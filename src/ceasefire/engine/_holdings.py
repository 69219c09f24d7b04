"""Who holds how many captives, of which category, in whose custody.

Counts live per (holder, category, custody). A holder can release captives only
from its own custody or from a group's custody while that group is reachable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..scenario import Scenario


@dataclass
class Holdings:
    counts: dict[tuple[str, str, str], int]
    reachable: dict[str, bool]
    parties: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Holdings:
        counts: dict[tuple[str, str, str], int] = {}
        for h in scenario.holdings:
            key = (h.holder, h.category, h.custody)
            counts[key] = counts.get(key, 0) + h.count
        return cls(
            counts=counts,
            reachable={g.id: g.reachable for g in scenario.groups},
            parties=frozenset(p.id for p in scenario.parties),
        )

    def _in_reach(self, holder: str, custody: str) -> bool:
        return custody == holder or self.reachable.get(custody, False)

    def _sources(self, holder: str, category: str) -> list[tuple[str, str, str]]:
        """Keys a holder can draw this category from: own custody first, then groups."""
        keys = [k for k in self.counts if k[0] == holder and k[1] == category]
        keys = [k for k in keys if self._in_reach(holder, k[2])]
        return sorted(keys, key=lambda k: (k[2] != holder, k[2]))

    def in_reach(self, holder: str, category: str) -> int:
        """Captives of ``category`` the holder can bring to a hand-over now."""
        return sum(self.counts[k] for k in self._sources(holder, category))

    def eligible(self, holder: str, categories: Iterable[str]) -> int:
        return sum(self.in_reach(holder, c) for c in categories)

    def total(self, holder: str, category: str) -> int:
        """All captives of a category the holder holds, in reach or not."""
        return sum(n for k, n in self.counts.items() if k[0] == holder and k[1] == category)

    def take(self, holder: str, category: str, count: int) -> None:
        """Remove ``count`` captives of one category from what the holder has in reach."""
        if count > self.in_reach(holder, category):
            raise ValueError(f"{holder} has fewer than {count} {category} in reach")
        for key in self._sources(holder, category):
            step = min(count, self.counts[key])
            self.counts[key] -= step
            count -= step

    def change(self, holder: str, category: str, custody: str, change: int) -> int:
        """Apply a signed change; never below zero. Returns the change applied."""
        key = (holder, category, custody)
        before = self.counts.get(key, 0)
        self.counts[key] = max(0, before + change)
        return self.counts[key] - before


def allocate(
    holdings: Holdings, holder: str, categories: list[str], count: int, split: str
) -> dict[str, int]:
    """Which categories a batch of ``count`` comes from.

    ``in_order``: the first category until it is exhausted, then the next.
    ``proportional``: in proportion to what is in reach of each category, the
    remainder going to the largest fractional parts (ties to the earlier category).
    The caller has checked that ``count`` does not exceed what is in reach.
    """
    available = {c: holdings.in_reach(holder, c) for c in categories}
    out = dict.fromkeys(categories, 0)
    if split == "in_order":
        left = count
        for c in categories:
            out[c] = min(left, available[c])
            left -= out[c]
        return out
    pool = sum(available.values())
    if pool == 0:
        return out
    share = {c: divmod(count * available[c], pool) for c in categories}
    for c in categories:
        out[c] = share[c][0]
    remainder = count - sum(out.values())
    order = sorted(categories, key=lambda c: (-share[c][1], categories.index(c)))
    for c in order[:remainder]:
        out[c] += 1
    return out
