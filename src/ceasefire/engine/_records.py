"""What an episode produces: transcript entries, ledger rows and the summary.

Plain frozen dataclasses of JSON-ready values (dates as ISO strings, counts as
ints), so every engine writes the same outputs and they serialise the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Why a pause (or an episode without one) ended. Every episode has exactly one.
END_REASONS = {
    "no_eligible_batch": "the holder offered no further eligible batch",
    "cap_reached": "the pause reached the agreement's cap on total days",
    "extension_declined": "a party valued resuming fighting above the extension offered",
    "terms_completed": "the initial period ended and the agreement has no extension rule",
    "breach": "a batch could not be made or was refused, and was not cured",
    "horizon": "the pause was still holding on the last day of the calendar",
    "no_agreement": "no agreement was in force during the calendar",
    "not_started": "the agreement's start date was not reached before the horizon",
    "agreed": "the talks reached an agreement (the scenario has no terms to execute it)",
    "talks_deadline": "a party reached its deadline in the talks without agreement",
    "talks_breakdown": "a party broke off the talks",
    "talks_no_outcomes": "no outcome on the table was feasible for both sides",
    "talks_ongoing": "talks were still going on at the horizon",
    "continuation_ended": "the phase's days were over and the pause held while talks on the "
    "next phase went on, until they ended without agreement or the clause's limit",
}

# Kinds of transcript entries, in the vocabulary of SYSTEM.md.
EVENT_KINDS = (
    "talks_open",
    "offer",
    "counter",
    "relay",
    "accept",
    "veto",
    "mediator_text",
    "timeout",
    "breakdown",
    "talks_end",
    "agreement",
    "agreement_in_force",
    "pause_start",
    "release_batch",
    "handover_verified",
    "counter_release",
    "side_channel_release",
    "side_channel_shortfall",
    "delay",
    "refusal",
    "breach_cured",
    "breach",
    "extension_offer",
    "extension_accept",
    "extension_decline",
    "extension",
    "pause_end",
    "fighting_resumed",
    "event",
    "episode_end",
    # version 2 of the scenario format
    "postponed",
    "obligation_due",
    "exchange_end",
    "phase_end",
    "phase_start",
    "pause_holds_on",
)


@dataclass(frozen=True)
class TranscriptEntry:
    """One entry of the transcript: what happened, on which day, between whom."""

    seq: int
    date: str
    day: int
    kind: str
    actors: tuple[str, ...]
    text: str
    counts: dict[str, int] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["actors"] = list(self.actors)
        return out


@dataclass(frozen=True)
class LedgerRow:
    """One row per day and flow. ``flow`` is pause_day, fighting_day, release,
    counter_release or side_channel_release; day rows have count 1 and no parties."""

    date: str
    day: int
    mode: str
    flow: str
    channel: str
    from_party: str
    to_party: str
    category: str
    count: int

    FIELDS = (
        "date",
        "day",
        "mode",
        "flow",
        "channel",
        "from_party",
        "to_party",
        "category",
        "count",
    )


@dataclass(frozen=True)
class Summary:
    """What a person asks first: how long, how many, why it ended, from which inputs."""

    scenario: str
    scenario_hash: str
    seed: int
    package_version: str
    calendar_start: str
    horizon: str
    agreement_reached: bool
    agreement_date: str | None
    pause_start: str | None
    pause_end: str | None
    pause_days: int
    fighting_days: int
    extensions: list[int]
    released: dict[str, dict[str, int]]
    side_channel_released: int
    side_channel_by_category: dict[str, int]
    breaches: list[dict[str, Any]]
    delays: int
    end_reason: str
    end_detail: str
    ended_by: str | None
    end_date: str
    agreements: list[dict[str, Any]] = field(default_factory=list)
    talk_rounds: int = 0
    fighting_cost: dict[str, float] = field(default_factory=dict)
    draw: int | None = None  # the ensemble draw this episode ran on (None: the file's values)
    # Version 2 (left out of ``to_dict`` when unset, so version-1 outputs stay as they were):
    # "exchange" for a one-off exchange without a pause; remains returned, by releasing
    # party and category (categories marked ``deceased``, also counted in ``released``);
    # postponements carried out (date due, date made, party, what).
    agreement_kind: str | None = None
    remains: dict[str, dict[str, int]] = field(default_factory=dict)
    postponed: list[dict[str, Any]] = field(default_factory=list)
    # obligations beyond captives owed over the pause, by party and obligation (units)
    obligations: dict[str, dict[str, int]] = field(default_factory=dict)
    # the phases of an agreement written in phases, as carried out (number, start, days)
    phases: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("agreement_kind", "remains", "postponed", "obligations", "phases"):
            if not out[key]:
                del out[key]
        return out

    @property
    def extension_count(self) -> int:
        return len(self.extensions)


@dataclass(frozen=True)
class Episode:
    """The three outputs of one episode."""

    summary: Summary
    transcript: list[TranscriptEntry]
    ledger: list[LedgerRow]
