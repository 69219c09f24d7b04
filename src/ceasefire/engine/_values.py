"""Each party's value of flows and days: linear additive, in the scenario's units."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..scenario import PartyValues, Scenario


@dataclass
class ValueModel:
    """A party's current weights (dated value events change them)."""

    receive: dict[str, float] = field(default_factory=dict)
    give: dict[str, float] = field(default_factory=dict)
    pause_day: float = 0.0
    fighting_day: float = 0.0

    @classmethod
    def from_terms(cls, terms: PartyValues) -> ValueModel:
        return cls(dict(terms.receive), dict(terms.give), terms.pause_day, terms.fighting_day)

    def of_flows(self, received: dict[str, int], given: dict[str, int]) -> float:
        """Value of receiving and giving these counts, by category."""
        gain = sum(self.receive.get(c, 0.0) * n for c, n in received.items())
        cost = sum(self.give.get(c, 0.0) * n for c, n in given.items())
        return gain - cost

    def of_pause(self, days: int, received: dict[str, int], given: dict[str, int]) -> float:
        """Value of ``days`` more days of pause with these releases."""
        return self.of_flows(received, given) + days * self.pause_day

    def of_fighting(self, days: int) -> float:
        """Value of ``days`` of fighting instead (the reservation for an extension)."""
        return days * self.fighting_day

    def adjust(self, term: str, category: str | None, change: float) -> None:
        if term == "receive" and category is not None:
            self.receive[category] = self.receive.get(category, 0.0) + change
        elif term == "give" and category is not None:
            self.give[category] = self.give.get(category, 0.0) + change
        elif term == "pause_day":
            self.pause_day += change
        elif term == "fighting_day":
            self.fighting_day += change


def value_models(scenario: Scenario) -> dict[str, ValueModel]:
    return {p: ValueModel.from_terms(v) for p, v in scenario.values.parties.items()}
