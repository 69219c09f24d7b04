"""The scenario file as pydantic models: pure data, validated, versioned.

Every model forbids unknown fields (so a misspelt key is refused, with a
did-you-mean) and is frozen (a loaded scenario is never changed in place;
counterfactuals are made with ``model_copy(update=...)``).

Provenance: an object that carries numbers taken from the record has a
``source`` (publication, date, link); a number that is a modelling choice has
an ``assumption`` (its reasoning). Both are free text.

Cross-references (a custody naming a declared party, a ratio on a declared
category, dates inside the calendar) are checked in ``_references.py`` so that
each problem can be reported at its own line and column.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    field_validator,
    model_validator,
)

from ._base import (
    MAX_CATEGORIES,
    MAX_COUNT,
    MAX_CURES,
    MAX_DAYS,
    MAX_ISSUE_VALUE,
    MAX_ITEMS,
    MAX_OUTCOMES,
    MAX_RATIO,
    Count,
    Day,
    Days,
    Id,
    PositiveCount,
    PositiveDays,
    Ratio,
    Real,
    SignedCount,
    Text,
    _Model,
    _Sourced,
)
from ._priors import Prior

SCHEMA_VERSION = 2
# What each version of the format added (a file of an earlier version that uses one is
# refused, naming the version it needs). Version 1 files load unchanged.
VERSIONS = (1, 2)

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Calendar(_Model):
    """The days an episode runs over, both ends included."""

    start: Day = Field(description="first day of the episode (calendar date)")
    horizon: Day = Field(description="last day of the episode (calendar date, included)")

    @model_validator(mode="after")
    def _ordered(self) -> Calendar:
        if self.horizon < self.start:
            raise ValueError(
                f"horizon {self.horizon} is before start {self.start}; "
                "the horizon must be on or after the start"
            )
        if (self.horizon - self.start).days >= MAX_DAYS:
            raise ValueError(f"the calendar may span at most {MAX_DAYS} days (about ten years)")
        return self


class Party(_Model):
    """A side that holds captives and decides."""

    id: Id
    name: Name
    description: Text | None = None


class Group(_Sourced):
    """A custodian that is not a negotiating party (another armed group, a family, ...).

    Captives in a group's custody count towards a holder's batches only while the
    group is ``reachable`` (dated ``custody`` events can change that).
    """

    id: Id
    name: Name
    reachable: bool = Field(
        default=True, description="whether the holder can bring these captives to a hand-over"
    )


class Category(_Model):
    """A class of captives the agreement distinguishes (aggregate counts only)."""

    id: Id
    name: Name
    description: Text | None = None
    deceased: bool = Field(
        default=False,
        description="version 2: the category counts the remains of deceased captives "
        "(returned, not released alive); outputs name them as remains",
    )


class Holding(_Sourced):
    """How many captives of one category a party holds, and who has custody of them."""

    holder: Id = Field(description="the party whose captives these are to release")
    category: Id
    custody: Id = Field(description="who physically controls them: the holder, or a group")
    count: Count


class Mediator(_Sourced):
    """A body that relays between parties and verifies hand-overs."""

    id: Id
    name: Name
    channels: list[tuple[Id, Id]] = Field(
        min_length=1, description="pairs of parties this mediator relays between"
    )
    relay_delay_days: Days = Field(
        default=0,
        description="days a relay or a hand-over verification takes "
        "(counter-releases follow the verification)",
    )
    stall_limit_rounds: PositiveDays | None = Field(
        default=None,
        description="after this many rounds in a row without a concession, the mediator "
        "tables one compromise text (None: never)",
    )


class Handover(_Sourced):
    """Version 2: one dated hand-over, with its own composition (counts by category, in
    the order they are handed over) and, where the terms give no rule for it, its own
    counter-releases."""

    date: Day = Field(description="the day of the hand-over (calendar date)")
    releases: dict[Id, PositiveCount] = Field(
        min_length=1,
        max_length=MAX_CATEGORIES,
        description="captives handed over, by category, in order",
    )
    counter: dict[Id, Count] | None = Field(
        default=None,
        max_length=MAX_CATEGORIES,
        description="the counter-releases for this hand-over, by category, instead of the "
        "exchange's ratios and terms (for a total that no whole ratio gives; {} for none)",
    )


class DatedRelease(_Sourced):
    """Version 2: a counter-release fixed by the terms on a date, tied to no hand-over."""

    date: Day = Field(description="the day of the release (calendar date)")
    releases: dict[Id, PositiveCount] = Field(
        min_length=1, max_length=MAX_CATEGORIES, description="released, by category"
    )


class Batches(_Sourced):
    """The holder's side of the initial phase: who releases what, over the initial days:
    daily batches (`total` with `split`, or `daily`), or, in version 2, `dated`
    hand-overs."""

    releaser: Id = Field(description="the party releasing captives in the daily batches")
    categories: list[Id] = Field(
        min_length=1, description="eligible categories, in the order they are released"
    )
    total: Count | None = Field(
        default=None, description="captives due over the initial days, split by `split`"
    )
    daily: list[Count] | None = Field(
        max_length=MAX_DAYS,
        default=None,
        description="explicit daily batches (instead of total + split)",
    )
    split: Literal["front_loaded", "even"] = Field(
        default="front_loaded",
        description="front_loaded: ceil(total/days) a day, the remainder on the last day; "
        "even: as equal as possible, larger batches first",
    )
    dated: list[Handover] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_DAYS,
        description="version 2: dated hand-overs, each with its own composition "
        "(instead of daily batches)",
    )

    @model_validator(mode="after")
    def _total_or_daily(self) -> Batches:
        given = [self.total is not None, self.daily is not None, self.dated is not None]
        if sum(given) != 1:
            raise ValueError(
                "give exactly one of `total` (with `split`), `daily` or `dated` (version 2)"
            )
        if self.dated is not None:
            days = [h.date for h in self.dated]
            if days != sorted(days) or len(set(days)) != len(days):
                raise ValueError(
                    "dated hand-overs must be in date order, one per date "
                    "(list a day's categories together in its `releases`)"
                )
        return self


Split = Literal["in_order", "proportional"]
PerCaptive = Annotated[float, Field(gt=0, le=MAX_RATIO, allow_inf_nan=False)]


class CounterTerm(_Model):
    """Version 2: per captive of a category, this many counter-releases from these lists."""

    # `from` in files; `from_` in Python (a dump read back as either)
    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True
    )

    per_captive: PerCaptive = Field(
        description="counter-releases per captive released (need not be whole: a "
        "hand-over's total from this list is rounded to the nearest, halves up)"
    )
    from_: list[Id] = Field(
        alias="from",
        min_length=1,
        max_length=MAX_CATEGORIES,
        description="the counter-releaser's categories they are drawn from, in order",
    )
    split: Split = Field(
        default="in_order",
        description="in_order: exhaust the first category before the next; "
        "proportional: in proportion to what remains in each (largest remainder)",
    )


class Exchange(_Sourced):
    """The counter-releases: how many the other side releases per captive released."""

    releaser: Id = Field(description="the party making the counter-releases")
    categories: list[Id] = Field(
        min_length=1, description="categories the counter-releases are drawn from"
    )
    ratios: dict[Id, Ratio] = Field(
        default_factory=dict,
        description="counter-releases per captive released, by category of the captive, "
        "all drawn from `categories` together (a category with neither a ratio nor "
        "terms brings no counter-release)",
    )
    split: Split = Field(
        default="in_order",
        description="in_order: exhaust the first category before the next; "
        "proportional: in proportion to what remains in each (largest remainder)",
    )
    terms: dict[Id, list[CounterTerm]] = Field(
        default_factory=dict,
        max_length=MAX_CATEGORIES,
        description="version 2: per category of the captive released, counter-releases "
        "from named lists (e.g. per female soldier 30 from one list and 20 from another), "
        "instead of a ratio",
    )
    dated: list[DatedRelease] = Field(
        default_factory=list,
        max_length=MAX_DAYS,
        description="version 2: counter-releases fixed on dates, tied to no hand-over",
    )

    @model_validator(mode="after")
    def _ratio_or_terms(self) -> Exchange:
        both = sorted(set(self.ratios) & set(self.terms))
        if both:
            raise ValueError(
                f"{', '.join(both)}: give a category either a ratio or terms, not both"
            )
        return self


class ExtensionRule(_Sourced):
    """At the end of each paid-for period: `step_days` more days per `per_step` more captives."""

    proposer: Id | None = Field(
        default=None,
        description="version 2: who proposes each extension: the holder (the default), the "
        "other party, or a mediator; the parties then answer in turn",
    )

    step_days: PositiveDays = Field(default=1, description="days of pause granted per step")
    per_step: PositiveCount = Field(description="captives released per step")
    per_extension_limit_days: PositiveDays | None = Field(
        default=None, description="most days one extension may add"
    )
    max_total_days: PositiveDays | None = Field(
        default=None, description="cap on the total length of the pause, in days"
    )


class Obligation(_Sourced):
    """Version 2: an obligation that is not captives: counted (so many units each day of
    the pause, such as aid trucks) or dated (done by a date, such as a withdrawal)."""

    id: Id = Field(
        description="what is owed (e.g. aid_trucks); a monitor's observations of this "
        "category are checked against it, and value models may price it by this id"
    )
    party: Id = Field(description="the party that owes it")
    per_day: PositiveCount | None = Field(
        default=None, description="units owed each day of the pause (counted obligations)"
    )
    by: Day | None = Field(default=None, description="the date it is owed by (dated ones)")
    description: Text | None = None

    @model_validator(mode="after")
    def _counted_or_dated(self) -> Obligation:
        if (self.per_day is None) == (self.by is None):
            raise ValueError("give exactly one of `per_day` (counted) or `by` (a date)")
        return self


class Continuation(_Sourced):
    """Version 2: what holds between phases. When the phase's days end while talks on the
    next phase go on, the pause holds until the talks end (with the next phase agreed, or
    without), up to `limit_days` more days; before a written phase's date, the pause holds
    until that date, up to `limit_days` more days."""

    limit_days: PositiveDays | None = Field(
        default=None, description="most days the pause holds this way (none: no limit)"
    )


class Phase(_Sourced):
    """Version 2: a later phase written in the agreement's text, in force after the
    phase before it: its own days, hand-overs (daily batches or dated) and, if it says
    so, its own ratios and extension rule. It starts the day after the previous phase's
    days end (`after_previous`, no day of fighting between) or on a date (between the
    two, the pause holds on under the agreement's `continuation` clause, up to its
    limit; without one, fighting goes on until the date). A phase is unconditional by
    default: the text binds both sides, so it comes into force whatever the extension
    rule decided at the end of the one before; a `conditional` one only if both sides
    then value going on above fighting. A breach ends the agreement, and the phases
    after it do not come."""

    start: Day | Literal["after_previous"] = Field(
        default="after_previous",
        description="after_previous: the day after the previous phase's days end; or the "
        "date the phase comes into force (after the previous phase's written days)",
    )
    days: PositiveDays = Field(description="days of the phase's pause")
    batches: Batches = Field(
        description="the phase's hand-overs: daily batches (`total` with `split`, or "
        "`daily`) or `dated` hand-overs inside the phase's days"
    )
    exchange: Exchange | None = Field(
        default=None,
        description="the phase's counter-releases, if not the agreement's exchange "
        "(ratios and split only)",
    )
    extension: ExtensionRule | None = Field(
        default=None, description="the phase's extension rule (none: the phase's days end it)"
    )
    conditional: bool = Field(
        default=False,
        description="false: the phase comes into force as written; true: only if, when the "
        "previous phase ends, both sides value it (its captives and counter-releases at "
        "the phase's ratios, its days; as an extension is priced) above fighting",
    )

    @model_validator(mode="after")
    def _phase(self) -> Phase:
        daily = self.batches.daily
        if daily is not None and len(daily) != self.days:
            raise ValueError(
                f"batches.daily has {len(daily)} {'entry' if len(daily) == 1 else 'entries'} "
                f"but the phase has {self.days} days; give one batch per day"
            )
        if self.batches.dated is not None and self.extension is not None:
            raise ValueError(
                "an extension rule after dated hand-overs is not supported yet: give the "
                "phase's days as daily batches (`total` or `daily`), or no `extension`"
            )
        x = self.exchange
        if x is not None and (x.terms or x.dated):
            raise ValueError(
                "a phase's own exchange takes `ratios` (and `split`) only; write "
                "per-category `terms` and dated counter-releases in the agreement's "
                "exchange (a phase without its own exchange follows it)"
            )
        return self


class Agreement(_Sourced):
    """The agreement in force: an initial phase of daily batches, then extensions; or
    (version 2, ``kind: exchange``) a one-off exchange without a pause."""

    kind: Literal["pause", "exchange"] = Field(
        default="pause",
        description="pause: a pause in fighting with its hand-overs; exchange (version 2): "
        "a one-off exchange of dated hand-overs without a pause",
    )
    mediator: Id
    signed: Day | None = None
    start: Day = Field(description="first day of the pause (of the exchange)")
    initial_days: Days = Field(
        default=0, description="days of the initial pause (none for a one-off exchange)"
    )
    batches: Batches
    exchange: Exchange
    extension: ExtensionRule | None = None
    delay_probability: Probability = Field(
        default=0.0, description="chance that a day's hand-over is delayed (recorded, not a breach)"
    )
    refusal_probability: dict[Id, Probability] = Field(
        default_factory=dict,
        description="per party, chance that it refuses a day's batch (a breach unless cured)",
    )
    cure_attempts: int = Field(
        default=0,
        strict=True,
        ge=0,
        le=MAX_CURES,
        description="times the mediator may re-request a refused batch the same day",
    )
    obligations: list[Obligation] = Field(
        default_factory=list,
        max_length=MAX_CATEGORIES,
        description="version 2: obligations beyond captives, counted a day or dated",
    )
    continuation: Continuation | None = Field(
        default=None,
        description="version 2: the pause holds after the phase's days while talks on the "
        "next phase go on (needs `negotiation.during_pause`), or until the date of the next "
        "phase written in `phases`",
    )

    phases: list[Phase] = Field(
        default_factory=list,
        max_length=MAX_CATEGORIES,
        description="version 2: the later phases written in the agreement's text, in "
        "order (the first phase is the agreement's own days and hand-overs)",
    )

    def phase_terms(self, k: int, start: date) -> Agreement:
        """Phase ``k`` (1: the first written phase; 0: the agreement's own) as an
        agreement of its own, in force from ``start``."""
        if k == 0:
            return self
        p = self.phases[k - 1]
        return self.model_copy(
            update={
                "start": start,
                "initial_days": p.days,
                "batches": p.batches,
                "exchange": p.exchange or self.exchange,
                "extension": p.extension,
                "phases": [],
            }
        )

    def phase_windows(self) -> list[tuple[date, date]]:
        """Each phase's first and last day as written (before any extension): the
        agreement's own days, then each written phase's."""
        first = self.start
        out = [(first, first + timedelta(days=self.initial_days - 1))]
        for p in self.phases:
            last = out[-1][1]
            begins = last + timedelta(days=1) if p.start == "after_previous" else p.start
            assert isinstance(begins, date)
            out.append((begins, begins + timedelta(days=p.days - 1)))
        return out

    @model_validator(mode="after")
    def _daily_matches_days(self) -> Agreement:
        if self.kind == "exchange" and self.phases:
            raise ValueError(
                "a one-off exchange has no pause to go on in phases: leave out `phases`"
            )
        if self.kind == "pause" and self.initial_days == 0:
            raise ValueError("a pause needs `initial_days` (1 or more)")
        if self.kind == "exchange":
            if self.initial_days:
                raise ValueError(
                    "a one-off exchange has no pause: leave out `initial_days` "
                    "(or write `kind: pause`)"
                )
            if self.batches.dated is None:
                raise ValueError("a one-off exchange needs dated hand-overs (`batches.dated`)")
            if self.extension is not None:
                raise ValueError("a one-off exchange has no pause to extend: leave out `extension`")
        if self.batches.dated is not None and self.extension is not None:
            raise ValueError(
                "an extension rule after dated hand-overs is not supported yet: give the "
                "initial days as daily batches (`total` or `daily`), or no `extension`"
            )
        daily = self.batches.daily
        if daily is not None and len(daily) != self.initial_days:
            raise ValueError(
                f"batches.daily has {len(daily)} {'entry' if len(daily) == 1 else 'entries'} "
                f"but initial_days is "
                f"{self.initial_days}; give one batch per initial day"
            )
        return self


class SideRelease(_Sourced):
    date: Day
    category: Id
    count: Count


class SideChannel(_Sourced):
    """A separate negotiation outside the main deal, with its own dated releases."""

    id: Id
    name: Name
    mediator: Id | None = None
    releaser: Id
    recipient: Name = Field(description="who receives the released captives (a state, a body)")
    requires_pause: bool = Field(
        default=True, description="releases happen only on days the main pause holds"
    )
    releases: list[SideRelease] = Field(min_length=1, max_length=MAX_ITEMS)


class HoldingsEvent(_Sourced):
    """A dated change to a holding (a death, a transfer, a capture)."""

    kind: Literal["holdings"]
    date: Day
    holder: Id
    category: Id
    custody: Id
    change: SignedCount = Field(description="signed change to the count")
    description: Text | None = None


class CustodyEvent(_Sourced):
    """A dated change to whether a group's captives can be reached."""

    kind: Literal["custody"]
    date: Day
    group: Id
    reachable: bool
    description: Text | None = None


class ValueEvent(_Sourced):
    """A dated change to one term of a party's value model."""

    kind: Literal["value"]
    date: Day
    party: Id
    term: Literal["receive", "give", "pause_day", "fighting_day"]
    category: Id | None = Field(default=None, description="needed for receive and give")
    change: Real


class DelayEvent(_Sourced):
    """A recorded hold-up of a day's hand-over (no change to counts); with `until`
    (version 2), a postponement: what `party` was due to release that day under the
    deal (its dated hand-over, or its counter-releases) is made on `until` instead."""

    kind: Literal["delay"]
    date: Day
    party: Id | None = None
    hours: float | None = Field(default=None, ge=0, le=24 * MAX_DAYS)
    until: Day | None = Field(
        default=None,
        description="version 2: the later day the party's releases due on `date` are made",
    )
    description: Text | None = None

    @model_validator(mode="after")
    def _postponement(self) -> DelayEvent:
        if self.until is not None:
            if self.party is None:
                raise ValueError("a postponement (`until`) needs the `party` whose releases move")
            if self.until <= self.date:
                raise ValueError(f"`until` {self.until} must be after the date {self.date}")
        return self


class PressureEvent(_Sourced):
    """A dated change to a party's pressure (value per day of pause over fighting)."""

    kind: Literal["pressure"]
    date: Day
    party: Id
    change: Real
    description: Text | None = None


Event = Annotated[
    HoldingsEvent | CustodyEvent | ValueEvent | DelayEvent | PressureEvent,
    Field(discriminator="kind"),
]


class PartyValues(_Sourced):
    """A party's linear additive value of flows and days, in the scenario's units."""

    receive: dict[Id, Real] = Field(
        default_factory=dict, description="value per captive of this category received"
    )
    give: dict[Id, Real] = Field(
        default_factory=dict, description="cost per captive of this category released"
    )
    pause_day: Real = Field(default=0.0, description="value of one more day of pause")
    fighting_day: Real = Field(default=0.0, description="value of one more day of fighting")


class Values(_Model):
    """The value model the extension decisions use."""

    units: Name = Field(description="what one unit of value means, stated for the reader")
    parties: dict[Id, PartyValues]


# The values an issue of each kind may take: days of pause, people a day, a ratio.
_ISSUE_RANGES: dict[str, tuple[int, int]] = {
    "pause_days": (0, MAX_DAYS),
    "releases_per_day": (0, MAX_COUNT),
    "ratio": (0, MAX_RATIO),
    "aid_trucks_per_day": (0, MAX_COUNT),
}

IssueNumber = Annotated[int, Strict(), Field(ge=-MAX_ISSUE_VALUE, le=MAX_ISSUE_VALUE)]
IssueLabel = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    Field(description="a value's text label (any text, quoted as needed)"),
]

IssueKind = Literal[
    "pause_days", "releases_per_day", "ratio", "first_category", "aid_trucks_per_day", "other"
]


class Issue(_Sourced):
    """A negotiable term with a finite domain (listed `values`, or `min`..`max` by `step`)."""

    id: Id
    kind: IssueKind = Field(
        description="what the term sets in the agreement: pause_days, releases_per_day, "
        "ratio (for `category`), first_category, aid_trucks_per_day, or other"
    )
    category: Id | None = Field(default=None, description="for a ratio: the category it prices")
    values: list[IssueNumber] | list[IssueLabel] | None = Field(
        default=None,
        max_length=MAX_ITEMS,
        description="the domain: whole numbers, or text labels (an `other` issue; "
        "first_category: category ids); a text-valued issue needs `table` value functions",
    )
    min: IssueNumber | None = None
    max: IssueNumber | None = None
    step: Annotated[int, Strict(), Field(gt=0, le=MAX_ISSUE_VALUE)] = 1

    @field_validator("values", mode="before")
    @classmethod
    def _one_type(cls, values: Any) -> Any:
        """One clear message for a list that is neither all whole numbers nor all text."""
        if not isinstance(values, list):
            return values
        texts = [v for v in values if isinstance(v, str)]
        numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        if len(texts) + len(numbers) < len(values) or (texts and numbers):
            odd = next(v for v in values if not isinstance(v, str))
            raise ValueError(
                "`values` must be all whole numbers or all text; quote a value to make it "
                f'text ("1.5", "yes") (got {odd!r})'
            )
        if "" in texts:
            raise ValueError("a text value must not be empty")
        return values

    @model_validator(mode="after")
    def _domain(self) -> Issue:
        listed = self.values is not None
        ranged = self.min is not None or self.max is not None
        if listed == ranged:
            raise ValueError("give either `values` or `min` and `max`")
        if ranged and (self.min is None or self.max is None or self.max < self.min):
            raise ValueError("`min` and `max` must both be given, with min <= max")
        if listed and not self.values:
            raise ValueError("`values` must not be empty")
        if self.kind == "ratio" and self.category is None:
            raise ValueError("a ratio issue needs the `category` it prices")
        if self.kind == "first_category":
            if not listed or not all(isinstance(v, str) for v in self.values or []):
                raise ValueError("first_category takes `values`: a list of category ids")
        elif (
            self.kind != "other"
            and listed
            and not all(isinstance(v, int) for v in self.values or [])
        ):
            raise ValueError(
                f"{self.kind} takes whole numbers; text values are for issues of kind `other`"
            )
        twice = [v for j, v in enumerate(self.values or []) if v in (self.values or [])[:j]]
        if twice:
            raise ValueError(f"value {twice[0]!r} is listed twice; list each value once")
        if self.size() > MAX_ITEMS:
            raise ValueError(f"an issue may have at most {MAX_ITEMS:,} values")
        bounds = _ISSUE_RANGES.get(self.kind)
        if bounds is not None:
            numbers = [v for v in (self.values or [self.min, self.max]) if isinstance(v, int)]
            if numbers and (min(numbers) < bounds[0] or max(numbers) > bounds[1]):
                raise ValueError(
                    f"{self.kind} values must lie in {bounds[0]:,}..{bounds[1]:,}; "
                    f"this domain spans {min(numbers):,}..{max(numbers):,}"
                )
        return self

    def size(self) -> int:
        """How many values the issue's domain has."""
        if self.values is not None:
            return len(self.values)
        assert self.min is not None and self.max is not None
        return (self.max - self.min) // self.step + 1

    def is_text(self) -> bool:
        """Whether the issue's values are text labels (they need `table` value functions)."""
        return self.values is not None and any(isinstance(v, str) for v in self.values)

    def domain(self) -> list[int] | list[str]:
        if self.values is not None:
            return list(self.values)  # type: ignore[return-value]
        assert self.min is not None and self.max is not None
        return list(range(self.min, self.max + 1, self.step))


class IssueValue(_Model):
    """A party's value function for one issue: `slope` * x + `bias`, or a `table` by value,
    times `weight` (NegMAS's linear additive utility with affine or table value functions)."""

    weight: Real = 1.0
    slope: Real | None = None
    bias: Real = 0.0
    table: dict[str, Real] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> IssueValue:
        if (self.slope is None) == (self.table is None):
            raise ValueError("give either `slope` (with `bias`) or a `table`")
        return self


class Curve(_Model):
    """Time-based concession: aspiration = 1 - t**exponent over relative time t in (0, 1).

    This is NegMAS's polynomial aspiration: Boulware e > 1 (default 4) concedes late,
    linear e = 1, conceder e < 1 (default 0.25) concedes early. (Genius-style curves write
    the exponent the other way round: there Boulware has e < 1.)"""

    kind: Literal["boulware", "linear", "conceder"] = "boulware"
    exponent: float | None = Field(default=None, gt=0, le=1000)

    @model_validator(mode="after")
    def _consistent(self) -> Curve:
        e = self.exponent
        if e is not None and (
            (self.kind == "boulware" and e <= 1)
            or (self.kind == "conceder" and e >= 1)
            or (self.kind == "linear" and e != 1)
        ):
            raise ValueError(
                f"exponent {e} does not fit a {self.kind} curve (aspiration = 1 - t**e: "
                "boulware e > 1, linear e = 1, conceder e < 1)"
            )
        return self

    @property
    def e(self) -> float:
        if self.exponent is not None:
            return self.exponent
        return {"boulware": 4.0, "linear": 1.0, "conceder": 0.25}[self.kind]


class Discount(_Model):
    """A Genius-style discount factor on a side's value of an agreement: the later the
    talks agree, the less it is worth to the side. In round k (0-based) of the talks an
    outcome of value u is worth u * factor**k (``per: round``, NegMAS's
    ``ExpDiscountedUFun`` with ``factor="step"``, what NegMAS's Genius reader makes of a
    discounted profile) or u * factor**t, t the side's relative time (k + 1) / (n + 1)
    (``per: time``, Genius's own formula). The reservation value is not discounted (as
    in NegMAS 0.16): outcomes whose discounted value falls below it stop being worth
    agreeing to. See docs/negotiation.md, Discounting."""

    factor: float = Field(
        gt=0.0,
        le=1.0,
        description="what an agreement keeps of its value per round (or over the talks)",
    )
    per: Literal["round", "time"] = Field(
        default="round",
        description="round: factor**k in round k (NegMAS's Genius reader); time: factor**t, "
        "t the relative time (Genius)",
    )


class Negotiator(_Sourced):
    """How one party negotiates: its values of issues, reservation value, curve, deadline."""

    issues: dict[Id, IssueValue] = Field(
        default_factory=dict, description="value functions of issues (linear additive)"
    )
    reservation: Real = Field(description="value of going on fighting, in the value units")
    curve: Curve = Field(default_factory=Curve)
    deadline_days: PositiveDays = Field(description="days of talks before the party walks away")
    breakdown_probability: Probability = Field(
        default=0.0, description="per round, chance that this party breaks off the talks"
    )
    pressure: Real = Field(
        default=0.0,
        description="value per day of pause over a day of fighting; each day of fighting "
        "costs the party this much (events move it)",
    )
    discount: Discount | None = Field(
        default=None,
        description="discount factor on the value of an agreement over the talks "
        "(None: no discounting)",
    )


class Template(_Sourced):
    """How an agreed outcome becomes execution terms."""

    batches_releaser: Id
    categories: list[Id] = Field(min_length=1, description="eligible categories, in order")
    exchange_releaser: Id
    exchange_categories: list[Id] = Field(min_length=1)
    exchange_split: Literal["in_order", "proportional"] = "proportional"
    default_ratio: Ratio = Field(
        default=1, description="counter-releases per captive of a category no ratio issue prices"
    )
    extension: ExtensionRule | None = None
    start_after_days: Days = Field(
        default=1, description="days from agreement to the first day of pause"
    )


class Negotiation(_Sourced):
    """Talks through a mediator while fighting goes on (SYSTEM.md, Negotiation)."""

    start: Day = Field(description="first day of talks")
    mediator: Id | None = Field(default=None, description="the channel; None: direct talks")
    first_mover: Id
    issues: list[Issue] = Field(min_length=1, max_length=64)
    parties: dict[Id, Negotiator]
    template: Template | None = Field(
        default=None, description="execution terms of an agreement (None: talks only)"
    )
    restart_after_days: Days | None = Field(
        default=1, description="days after a pause ends or talks fail before new talks (None: none)"
    )
    acceptance_tolerance: float = Field(
        default=1e-4,
        ge=0,
        le=1.0,
        description="eps below the aspiration still accepted/offered (NegMAS)",
    )
    tie_break: Literal["other_side", "negmas"] = Field(
        default="other_side",
        description="which of several outcomes of exactly equal own value a side offers: "
        "other_side (the one the other side values most) or negmas (NegMAS 0.16's order: "
        "numpy's default argsort of the side's values at or above its reservation)",
    )
    during_pause: bool = Field(
        default=False,
        description="version 2: the talks may open and go on while the agreement's pause "
        "holds; an outcome they agree is the next phase, in force when the current phase "
        "ends (the pause goes on without a day of fighting)",
    )

    @model_validator(mode="after")
    def _outcomes(self) -> Negotiation:
        outcomes = 1
        for issue in self.issues:
            outcomes *= issue.size()
            if outcomes > MAX_OUTCOMES:
                sizes = " x ".join(f"{i.size():,}" for i in self.issues)
                raise ValueError(
                    f"the issues make {sizes} outcomes, over the {MAX_OUTCOMES:,} the talks "
                    "can weigh; use fewer values (a coarser `step`) or fewer issues"
                )
        return self


class Scenario(_Model):
    """A scenario file: calendar, parties, holdings, mediators, agreement, values."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"$comment": "ceasefire scenario file"},
    )

    version: Literal[1, 2] = Field(
        description="scenario format version: 1, or 2 for dated hand-overs, counter-release "
        "terms, dated counter-releases, postponements, one-off exchanges, remains and phases"
    )
    name: Name
    description: Text | None = None
    calendar: Calendar
    parties: list[Party] = Field(min_length=2, max_length=2)
    groups: list[Group] = Field(default_factory=list, max_length=MAX_CATEGORIES)
    categories: list[Category] = Field(min_length=1, max_length=MAX_CATEGORIES)
    holdings: list[Holding] = Field(default_factory=list, max_length=MAX_ITEMS)
    mediators: list[Mediator] = Field(default_factory=list, max_length=MAX_CATEGORIES)
    agreement: Agreement | None = None
    side_channels: list[SideChannel] = Field(default_factory=list, max_length=MAX_CATEGORIES)
    events: list[Event] = Field(default_factory=list, max_length=MAX_ITEMS)
    negotiation: Negotiation | None = None
    values: Values
    priors: list[Prior] = Field(
        default_factory=list,
        max_length=1000,
        description="distributions over uncertain numbers of this scenario, for ensembles: "
        "each draws one number (a holding's count, a relay delay, a value, a pressure, "
        "a probability, ...); a single run uses the point values written above",
    )

    @property
    def talks_only(self) -> bool:
        """A negotiation alone (an imported negotiation domain, say): nobody holds
        captives, and there is no agreement to carry out and no side channel, so there
        are no releases, pauses or breaches to show."""
        return (
            self.negotiation is not None
            and not self.holdings
            and self.agreement is None
            and not self.side_channels
        )

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_a_whole_number(cls, value: Any) -> Any:
        """The version is the integer 1: not ``true``, ``1.0`` or ``"1"``, which a lax
        comparison would take for it (or refuse as an unknown version)."""
        if type(value) is int:
            return value
        fix = f"write the whole number, without quotes: `version: {SCHEMA_VERSION}`"
        if isinstance(value, bool):
            raise ValueError(f"the version is a number, not a yes/no value; {fix}")
        if isinstance(value, float):
            raise ValueError(f"the version is a whole number, not a decimal one; {fix}")
        if isinstance(value, str):
            raise ValueError(f"the version is a number, not text; {fix}")
        raise ValueError(f"the version is a whole number; {fix}")
