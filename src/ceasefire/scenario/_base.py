"""Building blocks shared by the scenario models: the base classes and field types."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

# -- Limits -----------------------------------------------------------------------------
# What a scenario may say, declared once. Every number a file can set is bounded here, so
# that everything `check` accepts runs in bounded time and memory and no sum the engine
# makes can overflow its 64-bit integers (counts x ratios x holdings stay below 2**53).
# Each is far beyond any agreement on record.
MAX_COUNT = 10_000_000  # people in one holding, batch, step or event
MAX_RATIO = 10_000  # counter-releases per captive released
MAX_DAYS = 3660  # days (about ten years): the calendar, a pause, a delay, a deadline
MAX_CURES = 100  # re-requests of a refused batch in one day
MAX_REAL = 1e12  # magnitude of a value, a pressure, an issue's weight, slope or bias
MAX_ISSUE_VALUE = 1_000_000_000  # magnitude of a whole-number issue value
MAX_CATEGORIES = 200  # categories of captives, and groups
MAX_ITEMS = 10_000  # holdings, events, side-channel releases, priors, issue values
MAX_OUTCOMES = 100_000  # outcomes of the talks (the product of the issues' domains)
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2199, 12, 31)

Count = Annotated[
    int, Strict(), Field(ge=0, le=MAX_COUNT, description="a count of people (integer >= 0)")
]
PositiveCount = Annotated[int, Strict(), Field(gt=0, le=MAX_COUNT)]
SignedCount = Annotated[int, Strict(), Field(ge=-MAX_COUNT, le=MAX_COUNT)]
Days = Annotated[int, Strict(), Field(ge=0, le=MAX_DAYS)]
PositiveDays = Annotated[int, Strict(), Field(gt=0, le=MAX_DAYS)]
Ratio = Annotated[int, Strict(), Field(ge=0, le=MAX_RATIO)]
Real = Annotated[float, Field(ge=-MAX_REAL, le=MAX_REAL, allow_inf_nan=False)]
Day = Annotated[date, Field(ge=FIRST_DATE, le=LAST_DATE)]

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64),
    Field(description="identifier: lower case letters, digits and underscores"),
]
Text = Annotated[str, StringConstraints(max_length=4000)]


class _Model(BaseModel):
    # No NaN or infinity anywhere: every real number of a scenario is finite.
    # Validators are built when first used, not at import: `check` builds the scenario's
    # once (a model built at import would be built again inside it), in about a third of
    # the time that building every model at import took.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)


class _Sourced(_Model):
    source: Text | None = Field(
        default=None, description="where the numbers come from: publication, date, link"
    )
    assumption: Text | None = Field(
        default=None, description="for a modelling choice not taken from the record: why"
    )
