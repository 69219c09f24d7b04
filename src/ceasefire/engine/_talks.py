"""The reference engine, negotiation mode: one session of talks, round by round.

A round: the first mover responds to the other side's last offer (accepts it, or
makes its own), the offer travels through the mediator (its relay delay), the other
side responds (accepts, or counters), and its counter travels back. With a relay
delay of d days a round takes 2d days (one day at least). Each side's relative time in
round k is t = (k + 1) / (n + 1), n being the rounds that fit in its deadline.

After ``stall_limit_rounds`` rounds in a row in which neither side conceded (neither
offer gave the other side more than that side's previous offer did), the mediator
tables one compromise text: the outcome maximising the product of both sides' gains
over their reservation values. Each side accepts it at its current aspiration or
vetoes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from ..scenario import Mediator, Negotiation
from ._bargaining import Side, nash_point, satisfaction
from ._outcomes import Table


@dataclass
class Deal:
    """An agreed outcome."""

    date: date
    round: int
    terms: dict[str, Any]
    values: dict[str, float]
    satisfaction: dict[str, float]
    via: str


@dataclass
class Result:
    deal: Deal | None = None
    ended: str | None = None  # "deadline", "breakdown", "no_outcomes"
    by: str | None = None
    detail: str = ""


Note = Callable[..., None]


@dataclass
class Talks:
    """One session of talks between the first mover (a) and the other side (b)."""

    n: Negotiation
    start: date
    a: str
    b: str
    mediator: Mediator | None
    rng: np.random.Generator
    note: Note
    names: dict[str, str]
    last_offer: dict[str, tuple[Any, ...] | None] = field(default_factory=dict)
    previous_gift: dict[str, float] = field(default_factory=dict)
    stalled: int = 0
    text_tabled: bool = False
    rounds: int = 0
    _sides: tuple[Table, dict[str, Side]] | None = None

    @property
    def delay(self) -> int:
        return self.mediator.relay_delay_days if self.mediator is not None else 0

    @property
    def round_days(self) -> int:
        return max(1, 2 * self.delay)

    def n_rounds(self, party: str) -> int:
        return max(1, self.n.parties[party].deadline_days // self.round_days)

    def step(self, today: date, table: Table) -> Result | None:
        """Play whatever falls on ``today``; a Result when the talks end."""
        k, offset = divmod((today - self.start).days, self.round_days)
        if not table.outcomes:
            return Result(ended="no_outcomes", detail="no outcome is feasible for both sides")
        if self._sides is None or self._sides[0] is not table:
            self._sides = (
                table,
                {
                    self.a: Side.build(
                        table.values[self.a],
                        table.values[self.b],
                        self.n.parties[self.a].reservation,
                    ),
                    self.b: Side.build(
                        table.values[self.b],
                        table.values[self.a],
                        self.n.parties[self.b].reservation,
                    ),
                },
            )
        sides = self._sides[1]
        result: Result | None = None
        if offset in (0, self.delay % self.round_days):
            self.rounds = k + 1
        if offset == 0:
            result = self.act(self.a, self.b, k, today, table, sides)
        if result is None and offset == self.delay % self.round_days:
            result = self.act(self.b, self.a, k, today, table, sides)
            if result is None:
                result = self.check_stall(k, today, table, sides)
        return result

    def threshold(self, party: str, k: int, side: Side) -> tuple[float, float]:
        terms = self.n.parties[party]
        t = (k + 1) / (self.n_rounds(party) + 1)
        return t, side.threshold(t, terms.curve.e, self.n.acceptance_tolerance)

    def act(
        self, me: str, other: str, k: int, today: date, table: Table, sides: dict[str, Side]
    ) -> Result | None:
        terms = self.n.parties[me]
        if k >= self.n_rounds(me):
            self.rounds = min(self.rounds, k)  # the round it did not answer is not played
            self.note(
                "timeout",
                (me,),
                f"{self.names[me]} does not answer within its "
                f"deadline of {terms.deadline_days} days; it leaves the talks",
            )
            return Result(
                ended="deadline",
                by=me,
                detail=f"{self.names[me]} reached its deadline without agreement",
            )
        if self.rng.random() < terms.breakdown_probability:
            self.note("breakdown", (me,), f"{self.names[me]} breaks off the talks")
            return Result(ended="breakdown", by=me, detail=f"{self.names[me]} broke off the talks")
        t, lo = self.threshold(me, k, sides[me])
        incoming = self.last_offer.get(other)
        if incoming is not None and incoming in table.outcomes:
            index = table.outcomes.index(incoming)
            values = self.values_of(table, index)
            if sides[me].accepts(index, lo):
                self.note(
                    "accept",
                    (me, other),
                    f"{self.names[me]} accepts "
                    f"{_terms(table, index)} (its value {values[me]:.4g} >= aspiration "
                    f"{lo:.4g})",
                    values=values | {f"{me}_aspiration": lo},
                )
                return Result(deal=self.deal(today, k, table, index, "offer"))
        index = sides[me].offer(lo)
        values = self.values_of(table, index)
        self.note(
            "offer" if incoming is None else "counter",
            (me, other),
            f"{self.names[me]} offers {_terms(table, index)} "
            f"(round {k}, t={t:.3f}, aspiration {lo:.4g})",
            values=values | {f"{me}_aspiration": lo},
        )
        self.last_offer[me] = table.outcomes[index]
        if self.mediator is not None:
            self.note(
                "relay",
                (self.mediator.id, me, other),
                f"{self.mediator.name} relays the offer to {self.names[other]}"
                + (f", arriving in {self.delay} days" if self.delay else ""),
                values=values,
            )
        return None

    def check_stall(
        self, k: int, today: date, table: Table, sides: dict[str, Side]
    ) -> Result | None:
        conceded = False
        for me, other in ((self.a, self.b), (self.b, self.a)):
            offer = self.last_offer.get(me)
            if offer is None or offer not in table.outcomes:
                continue
            gift = float(table.values[other][table.outcomes.index(offer)])
            if me in self.previous_gift and gift > self.previous_gift[me] + 1e-12:
                conceded = True
            self.previous_gift[me] = gift
        self.stalled = 0 if conceded or k == 0 else self.stalled + 1
        limit = self.mediator.stall_limit_rounds if self.mediator is not None else None
        if limit is None or self.text_tabled or self.stalled < limit or self.mediator is None:
            return None
        self.text_tabled = True
        ra = self.n.parties[self.a].reservation
        rb = self.n.parties[self.b].reservation
        index = nash_point(table.values[self.a], table.values[self.b], ra, rb)
        if index is None:
            self.note(
                "mediator_text",
                (self.mediator.id,),
                f"{self.mediator.name} finds no "
                "text that leaves both sides better off than fighting",
            )
            return None
        values = self.values_of(table, index)
        self.note(
            "mediator_text",
            (self.mediator.id, self.a, self.b),
            f"{self.mediator.name} tables a compromise text after {self.stalled} "
            f"stalled rounds: {_terms(table, index)}",
            values=values,
        )
        vetoes = []
        for me in (self.a, self.b):
            _, lo = self.threshold(me, k, sides[me])
            if sides[me].accepts(index, lo):
                self.note(
                    "accept",
                    (me, self.mediator.id),
                    f"{self.names[me]} accepts the text ({values[me]:.4g} >= {lo:.4g})",
                    values=values,
                )
            else:
                vetoes.append(me)
                self.note(
                    "veto",
                    (me, self.mediator.id),
                    f"{self.names[me]} vetoes the text ({values[me]:.4g} < aspiration {lo:.4g})",
                    values=values,
                )
        if vetoes:
            return None
        return Result(deal=self.deal(today, k, table, index, "mediator_text"))

    def values_of(self, table: Table, index: int) -> dict[str, float]:
        return {p: float(table.values[p][index]) for p in (self.a, self.b)}

    def deal(self, today: date, k: int, table: Table, index: int, via: str) -> Deal:
        values = self.values_of(table, index)
        return Deal(
            date=today,
            round=k,
            terms=table.terms(index),
            values=values,
            satisfaction={
                p: satisfaction(
                    values[p], float(table.values[p].max()), self.n.parties[p].reservation
                )
                for p in (self.a, self.b)
            },
            via=via,
        )


def _terms(table: Table, index: int) -> str:
    return ", ".join(f"{k}={v}" for k, v in table.terms(index).items())
