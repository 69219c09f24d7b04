"""Priors: a distribution over an uncertain number of the scenario, for ensembles.

A prior names its **target** (which number of the scenario it replaces) and a
**distribution**. A single run (``ceasefire run``) uses the point values written in
the scenario; an ensemble's episode ``i`` replaces every target by episode ``i``'s
draw (see ``ceasefire.ensemble``).

Targets (the ``target`` field picks one)::

    holding               holder, category, custody   a holding's count (whole number)
    relay_delay_days      mediator                    a mediator's relay delay (whole number)
    pressure              party                       a negotiator's pressure
    reservation           party                       a negotiator's reservation value
    issue_weight          party, issue                the weight of a negotiator's issue value
    value                 party, term[, category]     a term of a party's value model
    delay_probability                                 the agreement's delay probability
    refusal_probability   party                       the agreement's refusal probability

Distributions (the ``kind`` field picks one): whole numbers from ``poisson`` (``mean``,
optional ``min``/``max`` clip), ``discrete_uniform`` (``low``..``high``) and
``categorical`` (``values`` with optional ``weights``); real numbers from ``uniform``
(``low``..``high``), ``truncated_normal`` (``mean``, ``sd``, optional ``low``/``high``)
and ``beta`` (``a``, ``b``, scaled to ``low``..``high``, default 0..1). A whole-number
target takes a whole-number distribution (or a categorical of whole numbers); a
real-valued target takes a real distribution or a categorical.

Whether the names a target uses are declared, and whether the distribution's range fits
the target (a count is never negative, a probability lies in 0..1), is checked with the
other cross-references in ``_references.py``.
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

from pydantic import (
    Field,
    FiniteFloat,
    PlainValidator,
    Strict,
    WithJsonSchema,
    model_validator,
)

from ._base import MAX_COUNT, MAX_DAYS, MAX_REAL, Id, _Model, _Sourced

WholeNumber = Annotated[int, Strict()]


def _number(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Number = Annotated[
    int | float,
    PlainValidator(_number),
    WithJsonSchema({"type": "number", "description": "a number (whole numbers stay whole)"}),
]


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


# ---------------------------------------------------------------------------
# Distributions


class Poisson(_Model):
    """Whole numbers: Poisson with this ``mean``, then clipped to ``min``..``max``."""

    kind: Literal["poisson"]
    mean: float = Field(gt=0, le=1_000_000, allow_inf_nan=False)
    min: WholeNumber | None = Field(default=None, ge=0, description="draws below become min")
    max: WholeNumber | None = Field(default=None, ge=0, description="draws above become max")

    @model_validator(mode="after")
    def _ordered(self) -> Poisson:
        if self.min is not None and self.max is not None and self.max < self.min:
            raise ValueError(f"max {self.max} is below min {self.min}")
        return self

    @property
    def integer(self) -> bool:
        return True

    def top(self) -> int:
        """The greatest count drawn without ``max``: the mean plus 12 standard deviations
        and 40 (where the Poisson's tail is below 1e-30; draws beyond it become it)."""
        return int(self.mean + 12.0 * math.sqrt(self.mean) + 40.0)

    def support(self) -> tuple[float, float]:
        high = self.top() if self.max is None else self.max
        return (float(self.min or 0), float(max(high, self.min or 0)))


class DiscreteUniform(_Model):
    """Whole numbers ``low``..``high`` (both included), each equally likely."""

    kind: Literal["discrete_uniform"]
    low: WholeNumber
    high: WholeNumber

    @model_validator(mode="after")
    def _ordered(self) -> DiscreteUniform:
        if self.high < self.low:
            raise ValueError(f"high {self.high} is below low {self.low}")
        if self.high - self.low >= 2**31:
            raise ValueError("low..high may span at most 2**31 values")
        return self

    @property
    def integer(self) -> bool:
        return True

    def support(self) -> tuple[float, float]:
        return (float(self.low), float(self.high))


class Categorical(_Model):
    """One of ``values``, with probabilities proportional to ``weights`` (default equal)."""

    kind: Literal["categorical"]
    values: list[Number] = Field(min_length=1, max_length=10_000)
    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = Field(
        default=None, description="one weight >= 0 per value (default: all equal)"
    )

    @model_validator(mode="after")
    def _weights(self) -> Categorical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"{len(self.weights)} weights for {len(self.values)} values; "
                    "give one weight per value"
                )
            if not sum(self.weights) > 0:
                raise ValueError("the weights sum to 0; give at least one positive weight")
        return self

    @property
    def integer(self) -> bool:
        return all(isinstance(v, int) for v in self.values)

    def support(self) -> tuple[float, float]:
        weights = self.weights or [1.0] * len(self.values)
        drawn = [float(v) for v, w in zip(self.values, weights, strict=True) if w > 0]
        return (min(drawn), max(drawn))


class Uniform(_Model):
    """Real numbers, uniform on ``low``..``high``."""

    kind: Literal["uniform"]
    low: FiniteFloat
    high: FiniteFloat

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.high > self.low:
            raise ValueError(f"high {self.high} must be above low {self.low}")
        return self

    @property
    def integer(self) -> bool:
        return False

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


TAIL_SDS = 40.0
"""Where a truncated normal without ``low`` or ``high`` ends, in standard deviations."""


class TruncatedNormal(_Model):
    """Real numbers: normal (``mean``, ``sd``) restricted to ``low``..``high``."""

    kind: Literal["truncated_normal"]
    mean: FiniteFloat
    sd: float = Field(gt=0, allow_inf_nan=False)
    low: FiniteFloat | None = Field(default=None, description="lower end (None: unbounded)")
    high: FiniteFloat | None = Field(default=None, description="upper end (None: unbounded)")

    @model_validator(mode="after")
    def _interval(self) -> TruncatedNormal:
        if self.low is not None and self.high is not None and not self.high > self.low:
            raise ValueError(f"high {self.high} must be above low {self.low}")
        if self.mass() < 1e-12:
            raise ValueError(
                f"low..high holds almost none of the normal's probability (mean {self.mean:g}, "
                f"sd {self.sd:g}); move the mean or widen low..high"
            )
        return self

    def standard_bounds(self) -> tuple[float, float]:
        """``low`` and ``high`` in standard deviations from the mean."""
        a = -math.inf if self.low is None else (self.low - self.mean) / self.sd
        b = math.inf if self.high is None else (self.high - self.mean) / self.sd
        return a, b

    def mass(self) -> float:
        """The normal's probability inside low..high (computed in the nearer tail)."""
        a, b = self.standard_bounds()
        if a > 0:
            return _normal_cdf(-a) - _normal_cdf(-b)
        return _normal_cdf(b) - _normal_cdf(a)

    @property
    def integer(self) -> bool:
        return False

    def support(self) -> tuple[float, float]:
        """low..high; an open end at ``TAIL_SDS`` standard deviations from the mean, past
        anything a uniform of double precision reaches (about 11), so that every draw is
        finite and ``check`` can bound it."""
        low = self.mean - TAIL_SDS * self.sd if self.low is None else self.low
        high = self.mean + TAIL_SDS * self.sd if self.high is None else self.high
        return (low, high)


class Beta(_Model):
    """Real numbers: Beta(``a``, ``b``) on 0..1, scaled to ``low``..``high``."""

    kind: Literal["beta"]
    a: float = Field(gt=0, le=1e6, allow_inf_nan=False)
    b: float = Field(gt=0, le=1e6, allow_inf_nan=False)
    low: FiniteFloat = 0.0
    high: FiniteFloat = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> Beta:
        if not self.high > self.low:
            raise ValueError(f"high {self.high} must be above low {self.low}")
        return self

    @property
    def integer(self) -> bool:
        return False

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


Distribution = Annotated[
    Poisson | DiscreteUniform | Categorical | Uniform | TruncatedNormal | Beta,
    Field(discriminator="kind"),
]
DISTRIBUTION_KINDS = (
    "poisson",
    "discrete_uniform",
    "categorical",
    "uniform",
    "truncated_normal",
    "beta",
)


# ---------------------------------------------------------------------------
# Targets


class _Prior(_Sourced):
    distribution: Distribution

    # Whether the target holds whole numbers, the range its values must stay in (by
    # default a real number's, as the scenario's limits declare), and what it is called
    # in messages.
    integer_target: ClassVar[bool] = False
    bounds: ClassVar[tuple[float, float]] = (-MAX_REAL, MAX_REAL)
    what: ClassVar[str] = "number"

    @model_validator(mode="after")
    def _provenance(self) -> _Prior:
        if self.source is None and self.assumption is None:
            raise ValueError(
                "a prior needs an `assumption` (the reasoning behind the distribution) "
                "or a `source`"
            )
        return self

    def key(self) -> tuple[str | None, ...]:
        """What the prior replaces; two priors may not share one."""
        raise NotImplementedError


class HoldingPrior(_Prior):
    """The count of the holding (holder, category, custody)."""

    target: Literal["holding"]
    holder: Id
    category: Id
    custody: Id

    integer_target: ClassVar[bool] = True
    bounds: ClassVar[tuple[float, float]] = (0.0, float(MAX_COUNT))
    what: ClassVar[str] = "a holding's count"

    def key(self) -> tuple[str | None, ...]:
        return ("holding", self.holder, self.category, self.custody)


class RelayDelayPrior(_Prior):
    """A mediator's ``relay_delay_days``."""

    target: Literal["relay_delay_days"]
    mediator: Id

    integer_target: ClassVar[bool] = True
    bounds: ClassVar[tuple[float, float]] = (0.0, float(MAX_DAYS))
    what: ClassVar[str] = "a relay delay in days"

    def key(self) -> tuple[str | None, ...]:
        return ("relay_delay_days", self.mediator)


class PressurePrior(_Prior):
    """A negotiator's starting ``pressure`` (negotiation.parties.PARTY.pressure)."""

    target: Literal["pressure"]
    party: Id

    what: ClassVar[str] = "a pressure"

    def key(self) -> tuple[str | None, ...]:
        return ("pressure", self.party)


class ReservationPrior(_Prior):
    """A negotiator's ``reservation`` value."""

    target: Literal["reservation"]
    party: Id

    what: ClassVar[str] = "a reservation value"

    def key(self) -> tuple[str | None, ...]:
        return ("reservation", self.party)


class IssueWeightPrior(_Prior):
    """The ``weight`` of a negotiator's value function for one issue."""

    target: Literal["issue_weight"]
    party: Id
    issue: Id

    what: ClassVar[str] = "an issue weight"

    def key(self) -> tuple[str | None, ...]:
        return ("issue_weight", self.party, self.issue)


class ValuePrior(_Prior):
    """A term of a party's value model (values.parties.PARTY)."""

    target: Literal["value"]
    party: Id
    term: Literal["receive", "give", "pause_day", "fighting_day"]
    category: Id | None = Field(default=None, description="needed for receive and give")

    what: ClassVar[str] = "a value"

    def key(self) -> tuple[str | None, ...]:
        return ("value", self.party, self.term, self.category)


class DelayProbabilityPrior(_Prior):
    """The agreement's ``delay_probability``."""

    target: Literal["delay_probability"]

    bounds: ClassVar[tuple[float, float]] = (0.0, 1.0)
    what: ClassVar[str] = "a probability"

    def key(self) -> tuple[str | None, ...]:
        return ("delay_probability",)


class RefusalProbabilityPrior(_Prior):
    """The agreement's ``refusal_probability`` for one party."""

    target: Literal["refusal_probability"]
    party: Id

    bounds: ClassVar[tuple[float, float]] = (0.0, 1.0)
    what: ClassVar[str] = "a probability"

    def key(self) -> tuple[str | None, ...]:
        return ("refusal_probability", self.party)


Prior = Annotated[
    HoldingPrior
    | RelayDelayPrior
    | PressurePrior
    | ReservationPrior
    | IssueWeightPrior
    | ValuePrior
    | DelayProbabilityPrior
    | RefusalProbabilityPrior,
    Field(discriminator="target"),
]
PRIOR_TARGETS = (
    "holding",
    "relay_delay_days",
    "pressure",
    "reservation",
    "issue_weight",
    "value",
    "delay_probability",
    "refusal_probability",
)
