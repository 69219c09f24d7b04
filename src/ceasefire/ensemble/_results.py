"""What an ensemble gives: per-episode arrays over the episodes (row i: draw i).

:class:`EnsembleResult` holds what every scenario's episodes give (pause and fighting
days, extensions, releases, why and when each ended, the priors drawn);
:class:`NegotiationEnsembleResult` adds the talks' results for a scenario with talks.
``episode(i)`` reads row i back with the names of a single run's summary fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..engine import END_REASONS

F64 = NDArray[np.float64]
Mask = NDArray[np.bool_]

END_CODES: tuple[str, ...] = tuple(END_REASONS)
VIA: tuple[str, ...] = ("offer", "mediator_text")
NO_PARTY = -1


class NegotiationEnsembleUnavailable(NotImplementedError):
    """Kept for compatibility: never raised (every scenario runs on the kernel)."""


# ---------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class EnsembleResult:
    """What each episode of an ensemble gave, as arrays over episodes (row i: draw i).

    ``released[:, j]`` counts releases under the deal by ``release_columns[j]`` (party,
    category); ``side_channel[:, j]`` side-channel releases of ``side_categories[j]``;
    ``extensions`` the days each extension added, in order, padded with -1;
    ``end_reason`` a code into ``END_CODES``; ``end_day``, ``pause_start_day`` and
    ``pause_end_day`` days from ``calendar_start`` (-1: none); ``ended_by`` an index into
    ``parties`` (-1: none); ``priors`` each episode's draw of every prior, in file order.
    """

    scenario: str
    scenario_hash: str
    seed: int
    calendar_start: date
    parties: tuple[str, ...]
    release_columns: tuple[tuple[str, str], ...]
    side_categories: tuple[str, ...]
    priors: F64
    pause_days: NDArray[np.int32]
    fighting_days: NDArray[np.int32]
    extensions: NDArray[np.int32]
    released: NDArray[np.int32]
    side_channel: NDArray[np.int32]
    end_reason: NDArray[np.int8]
    end_day: NDArray[np.int32]
    ended_by: NDArray[np.int8]
    pause_start_day: NDArray[np.int32]
    pause_end_day: NDArray[np.int32]
    breaches: NDArray[np.int32]
    delays: NDArray[np.int32]
    # What the tables need from the scenario: the first row's draw, the priors' names
    # (``prior_<name>`` columns) and whether each is a whole number, the date the
    # scenario's own agreement was signed (else starts), if it has one.
    first_draw: int = field(default=0, kw_only=True)
    prior_names: tuple[str, ...] = field(default=(), kw_only=True)
    prior_integer: tuple[bool, ...] = field(default=(), kw_only=True)
    agreement_signed: date | None = field(default=None, kw_only=True)

    def __len__(self) -> int:
        return int(self.pause_days.size)

    @property
    def side_channel_released(self) -> NDArray[np.int64]:
        total: NDArray[np.int64] = self.side_channel.sum(axis=1, dtype=np.int64)
        return total

    @property
    def breach(self) -> Mask:
        """Whether the episode had a breach (of a batch or of counter-releases)."""
        return self.breaches > 0

    @property
    def end_reasons(self) -> NDArray[np.str_]:
        return np.array(END_CODES)[self.end_reason]

    def agreement_days(self) -> NDArray[np.int64]:
        """Each episode's day of agreement (days from the calendar start; -1: none), as
        the single run's ``agreement_date``: the first agreement reached in the talks
        (with talks), else, for an agreement in force, its ``signed`` date (else its
        ``start``) in the episodes whose pause began. An agreement signed before the
        calendar starts counts on the first day."""
        days = np.full(len(self), -1, dtype=np.int64)
        talks = getattr(self, "first_agreement_day", None)
        if isinstance(talks, np.ndarray):
            days = talks.astype(np.int64)
        if self.agreement_signed is not None:
            signed = max(0, (self.agreement_signed - self.calendar_start).days)
            days = np.where((days < 0) & (self.pause_start_day >= 0), signed, days)
        return days

    def to_arrow(self) -> Any:
        """One row per episode, as a ``pyarrow.Table`` with named columns: ``draw``,
        pause and fighting days, ``extensions`` (a list), ``released_<party>_<category>``,
        ``side_channel``, ``end_reason``, ``end_date``, ``agreement_date``, ``ended_by``,
        breaches, delays, ``talk_rounds`` (with talks) and ``prior_<name>`` for each
        prior's draw. The columns of ``episodes.parquet``."""
        from ._tables import episode_table

        return episode_table(self)

    def to_pandas(self) -> Any:
        """:meth:`to_arrow` as a ``pandas.DataFrame`` (needs pandas:
        ``pip install 'ceasefire[pandas]'``)."""
        try:
            import pandas  # noqa: F401
        except ImportError:
            raise ImportError(
                "EnsembleResult.to_pandas() needs pandas: pip install 'ceasefire[pandas]' "
                "(to_arrow() needs nothing more)"
            ) from None
        return self.to_arrow().to_pandas()

    def _date(self, day: int) -> str | None:
        return None if day < 0 else (self.calendar_start + timedelta(days=day)).isoformat()

    def episode(self, i: int) -> dict[str, Any]:
        """Episode ``i`` with the names of a single run's summary fields."""
        released: dict[str, dict[str, int]] = {p: {} for p in self.parties}
        for j, (party, category) in enumerate(self.release_columns):
            if self.released[i, j] > 0:
                released[party][category] = int(self.released[i, j])
        side = {
            c: int(self.side_channel[i, j])
            for j, c in enumerate(self.side_categories)
            if self.side_channel[i, j] > 0
        }
        by = int(self.ended_by[i])
        return {
            "draw": i,
            "seed": self.seed,
            "scenario_hash": self.scenario_hash,
            "agreement_reached": bool(self.pause_start_day[i] >= 0),
            "pause_start": self._date(int(self.pause_start_day[i])),
            "pause_end": self._date(int(self.pause_end_day[i])),
            "pause_days": int(self.pause_days[i]),
            "fighting_days": int(self.fighting_days[i]),
            "extensions": [int(d) for d in self.extensions[i] if d >= 0],
            "released": {p: dict(sorted(c.items())) for p, c in released.items()},
            "side_channel_released": sum(side.values()),
            "side_channel_by_category": dict(sorted(side.items())),
            "breach": bool(self.breaches[i] > 0),
            "breach_count": int(self.breaches[i]),
            "delays": int(self.delays[i]),
            "end_reason": END_CODES[int(self.end_reason[i])],
            "ended_by": None if by == NO_PARTY else self.parties[by],
            "end_date": self._date(int(self.end_day[i])),
            "priors": [float(v) for v in self.priors[i]],
        }


# ---------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class NegotiationEnsembleResult(EnsembleResult):
    """An ensemble of a scenario with talks: :class:`EnsembleResult`'s columns, and the
    talks' results.

    ``agreement_day[i, j]`` (days from ``calendar_start``), ``agreement_round``,
    ``agreement_outcome`` (an index into ``outcomes``, whose values are in the order of
    ``issues``), ``agreement_via`` (an index into ``VIA``) and ``agreement_values``
    (each party's value, in the order of ``parties``) describe episode i's j-th
    agreement, padded with -1 (NaN for values); ``talk_rounds`` the rounds of talks
    played; ``signed_day`` the day of the scenario's own agreement, if it has one."""

    issues: tuple[str, ...]
    outcomes: tuple[tuple[Any, ...], ...]
    agreement_day: NDArray[np.int32]
    agreement_round: NDArray[np.int32]
    agreement_outcome: NDArray[np.int32]
    agreement_via: NDArray[np.int8]
    agreement_values: NDArray[np.float64]
    talk_rounds: NDArray[np.int32]
    signed_day: int = -1  # the scenario's own agreement: signed (or start) day, -1: none

    @property
    def agreements(self) -> NDArray[np.int64]:
        """Agreements reached in each episode."""
        count: NDArray[np.int64] = (self.agreement_day >= 0).sum(axis=1, dtype=np.int64)
        return count

    @property
    def agreed(self) -> Mask:
        """Whether the episode's talks reached an agreement."""
        return self.agreements > 0

    @property
    def first_agreement_day(self) -> NDArray[np.int32]:
        """The day of each episode's first agreement (-1: none)."""
        if self.agreement_day.shape[1] == 0:
            return np.full(len(self), -1, dtype=np.int32)
        first: NDArray[np.int32] = self.agreement_day[:, 0]
        return first

    def terms(self, outcome: int) -> dict[str, Any]:
        return dict(zip(self.issues, self.outcomes[outcome], strict=True))

    def episode(self, i: int) -> dict[str, Any]:
        out = super().episode(i)
        deals = []
        for j in range(self.agreement_day.shape[1]):
            day = int(self.agreement_day[i, j])
            if day < 0:
                break
            deals.append(
                {
                    "date": self._date(day),
                    "round": int(self.agreement_round[i, j]),
                    "via": VIA[int(self.agreement_via[i, j])],
                    "terms": self.terms(int(self.agreement_outcome[i, j])),
                    "values": {
                        p: round(float(self.agreement_values[i, j, k]), 6)
                        for k, p in enumerate(self.parties)
                    },
                }
            )
        out["agreement_reached"] = bool(self.pause_start_day[i] >= 0) or bool(deals)
        signed = self.signed_day if self.pause_start_day[i] >= 0 else -1
        out["agreement_date"] = deals[0]["date"] if deals else self._date(signed)
        out["agreements"] = deals
        out["talk_rounds"] = int(self.talk_rounds[i])
        return out
