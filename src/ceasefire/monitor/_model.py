"""What the ledger holds: observations with provenance, and the entries that record them.

An **observation** is a dated record of what happened (a release batch, a delay, a
dispute, a statement, ...) with counts by category between two parties, and its
provenance: the source as written (publication or body, date, link), the kind of
source and a reliability grade. Counts are aggregate integers only; where sources
differ a count carries ``low`` / ``high`` beside the best figure (as UCDP does).
There is no field for a person's name or identity, and free text (notes, source
text) is checked for nothing but length.

An **entry** is one append-only line of the ledger: an observation recorded for the
first time, a correction (a full new version that supersedes the current one) or a
retraction (the observation is withdrawn). Each entry carries a content hash and a
chain hash over every entry before it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, model_validator

# Kinds of observation. The first group are releases (people or goods changing
# hands); the CSV record of November 2023 uses hostages_released / prisoners_released.
RELEASE_KINDS = ("release", "hostages_released", "prisoners_released")
KINDS = (
    *RELEASE_KINDS,
    "aid_entry",
    "terms",
    "pause_start",
    "extension",
    "pause_end",
    "delay",
    "dispute",
    "claim",
    "statement",
    # the January 2025 record's flows (README-jan2025.md)
    "ceasefire_start",
    "phase_end",
    "aid_cumulative",
    "resolution",
    "status_report",
    "talks",
    "aid_halt",
    "hostilities_resumed",
)
DISPUTE_KINDS = ("dispute", "claim")
# Kinds that mark the start of a pause (a ceasefire), and a mediated settlement.
START_KINDS = ("pause_start", "ceasefire_start")

SOURCE_KINDS = {
    "official": "a government or party body",
    "mediator": "a mediating state or body",
    "media": "a media report or media tally with no official attribution",
    "anonymous": "an unattributed or anonymous source",
}

# Source reliability, graded as in the Admiralty (NATO) system.
RELIABILITY = {
    "A": "completely reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "reliability cannot be judged",
}
DEFAULT_RELIABILITY: Literal["F"] = "F"

# What a category counts. Only counts of the same unit may be added together.
UNITS = {
    "people": "people (aggregate count)",
    "trucks": "vehicles or loads of goods",
    "days": "days",
    "agreed_number": "a number stated in the terms",
    "none": "no quantity (an event; the count is 0)",
}

# Categories every ledger knows besides those declared (a scenario's, or by hand).
BUILTIN_CATEGORIES: dict[str, tuple[str, str]] = {
    "event": ("none", "an event with no quantity (a delay, the end of a pause)"),
    "stated_reason": ("none", "a party's stated reason or position"),
    "pause_days": ("days", "days of pause (started, extended or agreed)"),
    "aid_trucks": ("trucks", "aid trucks entering"),
}

ENTRY_ACTIONS = ("record", "correct", "retract")

MAX_TEXT = 4000
CATEGORY_ID = r"^[a-z][a-z0-9_]*$"
OBS_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
_LINK = re.compile(r"https?://[^\s;,<>\"']+", re.IGNORECASE)
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")

Count = Annotated[int, Strict(), Field(ge=0, le=10_000_000)]
CategoryId = Annotated[str, StringConstraints(pattern=CATEGORY_ID, max_length=64)]
ObsId = Annotated[str, StringConstraints(pattern=OBS_ID)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
Label = Annotated[str, StringConstraints(max_length=200)]
Kind = Literal[
    "release",
    "hostages_released",
    "prisoners_released",
    "aid_entry",
    "terms",
    "pause_start",
    "extension",
    "pause_end",
    "delay",
    "dispute",
    "claim",
    "statement",
    "ceasefire_start",
    "phase_end",
    "aid_cumulative",
    "resolution",
    "status_report",
    "talks",
    "aid_halt",
    "hostilities_resumed",
]
SourceKind = Literal["official", "mediator", "media", "anonymous"]
Grade = Literal["A", "B", "C", "D", "E", "F"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountValue(_Model):
    """A count in one category: the best figure, and a range where sources differ."""

    category: CategoryId
    count: Count = Field(description="best figure (integer >= 0)")
    low: Count | None = Field(default=None, description="lowest figure given by a source")
    high: Count | None = Field(default=None, description="highest figure given by a source")

    @model_validator(mode="after")
    def _ordered(self) -> CountValue:
        if self.low is not None and self.low > self.count:
            raise ValueError(f"low {self.low} is above the best count {self.count}")
        if self.high is not None and self.high < self.count:
            raise ValueError(f"high {self.high} is below the best count {self.count}")
        return self


class Source(_Model):
    """Where an observation comes from."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)] = Field(
        description="the source as written: publication or body, date, link"
    )
    published: dt.date | None = Field(default=None, description="date of the source")
    links: list[Annotated[str, StringConstraints(max_length=2000)]] = Field(
        default_factory=list, max_length=50, description="links named in the source"
    )
    kind: SourceKind
    reliability: Grade = Field(
        default=DEFAULT_RELIABILITY, description="A (completely reliable) to F (cannot be judged)"
    )

    @classmethod
    def from_text(
        cls,
        text: str,
        kind: str,
        reliability: str | None = None,
        published: dt.date | None = None,
        links: list[str] | None = None,
    ) -> Source:
        """A source from its text; links and the date are read from the text unless given."""
        if links is None:
            links = [m.rstrip(").") for m in _LINK.findall(text)]
        if published is None:
            for found in _DATE.findall(text):
                try:
                    published = dt.date.fromisoformat(found)
                except ValueError:
                    continue
                break
        return cls.model_validate(
            {
                "text": text,
                "kind": kind,
                "reliability": reliability or DEFAULT_RELIABILITY,
                "published": published,
                "links": links,
            }
        )


class Observation(_Model):
    """A dated record of what happened, with counts and provenance."""

    id: ObsId | None = Field(
        default=None, description="the observation's id (given, or assigned when recorded)"
    )
    date: dt.date = Field(
        description="the calendar date it happened (or the truce day it belongs to)"
    )
    kind: Kind
    from_party: Label = Field(default="", description="who releases, grants or announces")
    to_party: Label = Field(default="", description="who receives (blank where none)")
    channel: Annotated[str, StringConstraints(max_length=64)] = Field(
        default="", description="deal, side_channel, side_channel_credited_to_deal, ..."
    )
    counts: list[CountValue] = Field(default_factory=list, max_length=100)
    credited_on: dt.date | None = Field(
        default=None,
        description="for a release outside the deal counted toward the deal's quota: "
        "the date whose quota it counts toward",
    )
    day: Annotated[int, Strict(), Field(ge=0, le=100_000)] | None = None
    phase: Annotated[str, StringConstraints(max_length=64)] | None = None
    note: Text = ""
    source: Source

    @model_validator(mode="after")
    def _distinct_categories(self) -> Observation:
        seen = [c.category for c in self.counts]
        dupes = sorted({c for c in seen if seen.count(c) > 1})
        if dupes:
            raise ValueError(f"category {dupes[0]!r} is counted twice; give one count per category")
        return self

    def payload(self) -> dict[str, Any]:
        """The observation as canonical JSON-ready data (without its id)."""
        data = self.model_dump(mode="json", exclude={"id"})
        return dict(sorted(data.items()))

    def total(self) -> int:
        return sum(c.count for c in self.counts)


@dataclass(frozen=True)
class CategoryDef:
    """A category the ledger accepts, and what its counts mean."""

    id: str
    unit: str
    description: str = ""


@dataclass(frozen=True)
class Entry:
    """One append-only entry of the ledger."""

    seq: int
    obs_id: str
    action: str
    supersedes: int | None
    batch: int
    recorded_at: str
    reason: str
    observation: Observation | None
    content_hash: str
    chain_hash: str

    @property
    def retracted(self) -> bool:
        return self.action == "retract"

    def content(self) -> dict[str, Any]:
        return entry_content(
            seq=self.seq,
            obs_id=self.obs_id,
            action=self.action,
            supersedes=self.supersedes,
            batch=self.batch,
            recorded_at=self.recorded_at,
            reason=self.reason,
            observation=self.observation,
        )

    def to_dict(self) -> dict[str, Any]:
        out = self.content()
        out["content_hash"] = self.content_hash
        out["chain_hash"] = self.chain_hash
        return out


@dataclass(frozen=True)
class Snapshot:
    """A point of the ledger: the last entry included and the chain hash up to it."""

    seq: int
    chain_hash: str
    recorded_at: str | None

    def label(self) -> str:
        return f"ledger snapshot {self.seq} ({self.chain_hash})"

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "chain_hash": self.chain_hash, "recorded_at": self.recorded_at}


GENESIS = "sha256:" + hashlib.sha256(b"ceasefire ledger").hexdigest()


def entry_content(
    *,
    seq: int,
    obs_id: str,
    action: str,
    supersedes: int | None,
    batch: int,
    recorded_at: str,
    reason: str,
    observation: Observation | None,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "obs_id": obs_id,
        "action": action,
        "supersedes": supersedes,
        "batch": batch,
        "recorded_at": recorded_at,
        "reason": reason,
        "observation": observation.payload() if observation is not None else None,
    }


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(content: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical(content)).hexdigest()


def observation_key(observation: Observation) -> str:
    """What an observation says, as a hash: its content without its id. Two rows with
    the same key record the same thing (see ``Store.record_new``)."""
    return content_hash(observation.payload())


def chain_hash(previous: str, content: str) -> str:
    return "sha256:" + hashlib.sha256(f"{previous}\n{content}".encode()).hexdigest()


# ----------------------------------------------------------------------- seals
#
# Every write (a batch: an import, an addition, a correction, a retraction, categories
# declared) ends with a seal: the batch's row, the last entry and its chain hash after
# the batch, and a digest of every category declared, chained to the previous seal. The
# entry chain covers the entries; the seal chain covers the batches and the categories
# and ties them to the entries. An anchor (the last entry and its chain hash, the last
# batch and its seal hash) kept outside the database proves later that nothing up to it
# was removed or rewritten, even by someone who can rewrite the database and knows the
# hash formulas.

SEAL_GENESIS = "sha256:" + hashlib.sha256(b"ceasefire ledger seals").hexdigest()
_HASH = r"sha256:[0-9a-f]{64}"
_ANCHOR = re.compile(rf"\b(\d{{1,18}}):({_HASH})(?:/(\d{{1,18}}):({_HASH}))?")
_SNAPSHOT = re.compile(rf"ledger snapshot (\d{{1,18}}) \(({_HASH})\)")


def categories_digest(rows: list[tuple[str, str, str, str]]) -> str:
    """The digest of the declared categories: (id, unit, description, added_at) each."""
    return content_hash({"categories": [list(r) for r in sorted(rows)]})


def seal_content(
    *,
    batch: dict[str, Any],
    head_seq: int,
    head_hash: str,
    categories: int,
    categories_hash: str,
) -> dict[str, Any]:
    """What a seal hashes: the batch's row, the entry chain after it, the categories."""
    return {
        "batch": {
            k: batch[k]
            for k in (
                "id",
                "recorded_at",
                "origin",
                "description",
                "file_name",
                "file_sha256",
                "entries",
            )
        },
        "head_seq": head_seq,
        "head_hash": head_hash,
        "categories": categories,
        "categories_hash": categories_hash,
    }


@dataclass(frozen=True)
class Anchor:
    """A point of the ledger to keep outside it: the last entry and its chain hash, and
    (where known) the last batch and its seal hash. Written ``SEQ:HASH/BATCH:HASH``."""

    seq: int
    chain_hash: str
    batch: int | None = None
    seal_hash: str | None = None

    def text(self) -> str:
        head = f"{self.seq}:{self.chain_hash}"
        return head if self.batch is None else f"{head}/{self.batch}:{self.seal_hash}"

    @classmethod
    def find(cls, text: str) -> Anchor | None:
        """The first anchor written in ``text`` (``SEQ:HASH[/BATCH:HASH]``), or else the
        first snapshot as the monitor prints it (``ledger snapshot SEQ (HASH)``)."""
        found = _ANCHOR.search(text)
        if found is not None:
            batch = int(found[3]) if found[3] else None
            return cls(int(found[1]), found[2], batch, found[4])
        snap = _SNAPSHOT.search(text)
        if snap is not None:
            return cls(int(snap[1]), snap[2])
        return None
