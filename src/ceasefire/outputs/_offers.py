"""The offer trace of an episode's talks: every offer, counter-offer and mediator text, with
both sides' values at full precision, as records and as a table (CSV and Parquet).

The transcript shows the offers as text, with values rounded to 6 decimals. The trace
reads them from the engine's event log instead: the episode is run again, as
:func:`ceasefire.engine.run` runs it (the same scenario, seed and, for an ensemble draw,
the draw's stream; the run is deterministic), and its offer records are read at full
precision. The trace is then checked against the episode's transcript (the same offers,
by the same sides, with the same rounded values), so a trace never belongs to another
run.

Columns (one row per offer, in the order they were made; ``docs/negotiation.md``):
``session`` (0 for the first talks, 1 after a restart, ...), ``round`` (0-based k, as in
``summary.agreements``), ``day`` (1-based, as in the transcript and the ledger), ``date``,
``kind`` (``offer``: a side's opening offer; ``counter``: an offer answering the other
side's; ``mediator_text``: the mediator's compromise text), ``proposer``, ``recipient``
(``both`` for a text), ``outcome`` (the index of the outcome among all the outcomes of the
issues, first issue outermost: NegMAS's enumeration order), ``issue_<id>`` for each issue,
``utility_<party>`` for each party (the scenario's order), and ``accepted`` (whether the
offer or text became the agreement).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# The event log's format is the engine's; it has no public reader of full-precision
# offers (the transcript rounds them), so the trace reads the log with its constants.
from ..engine import Episode, build_plan, point_params, run_logged, slots
from ..engine import event_log as log
from ..ensemble import EPISODE_STREAM, episode_generator
from ..scenario import Scenario
from ._cells import safe_cell

OFFER_KINDS = ("offer", "counter", "mediator_text")
FIXED_COLUMNS = (
    "session",
    "round",
    "day",
    "date",
    "kind",
    "proposer",
    "recipient",
    "outcome",
)
BOTH = "both"


class OfferTraceError(ValueError):
    """The episode is not the run of this scenario (its offers differ from the rerun's)."""


@dataclass(frozen=True)
class Offer:
    """One offer of the talks (see the module for the fields)."""

    session: int
    round: int
    day: int
    date: str
    kind: str
    proposer: str
    recipient: str
    outcome: int
    terms: dict[str, Any]
    utilities: dict[str, float]
    accepted: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "round": self.round,
            "day": self.day,
            "date": self.date,
            "kind": self.kind,
            "proposer": self.proposer,
            "recipient": self.recipient,
            "outcome": self.outcome,
            "terms": dict(self.terms),
            "utilities": dict(self.utilities),
            "accepted": self.accepted,
        }


def _stream(scenario: Scenario, episode: Episode) -> np.ndarray[Any, Any]:
    """The kernel's random state for the episode (as ``engine.run`` and ``run_draw``)."""
    summary = episode.summary
    bits: np.random.BitGenerator = np.random.PCG64(np.random.SeedSequence(summary.seed))
    if summary.draw is not None:
        bits = episode_generator(summary.seed, summary.draw, EPISODE_STREAM).bit_generator
    pcg = bits.state["state"]
    s, inc, mask = int(pcg["state"]), int(pcg["inc"]), (1 << 64) - 1
    return np.array([s >> 64, s & mask, inc >> 64, inc & mask], dtype=np.uint64)


def offer_trace(scenario: Scenario, episode: Episode) -> list[Offer]:
    """Every offer of ``episode``'s talks at full precision (``[]`` without talks).

    ``episode`` is ``engine.run(scenario, seed)`` or, for an ensemble draw,
    ``run_draw(file_scenario, seed, index)`` with ``scenario`` the drawn scenario (as
    ``ceasefire run --draw`` writes it). Raises :class:`OfferTraceError` if the episode's
    transcript does not show the same offers."""
    n = scenario.negotiation
    if n is None:
        return []
    plan = build_plan(scenario)
    st = run_logged(plan, point_params(plan), _stream(scenario, episode))
    first = n.first_mover
    second = next(p.id for p in scenario.parties if p.id != first)
    parties = [p.id for p in scenario.parties]
    start = scenario.calendar.start
    offers: list[Offer] = []
    last: dict[str, int] = {}  # each side's latest offer in the session (its row)
    session, round_, text_answers = -1, 0, 0

    def add(row: Any, kind: str, proposer: str, recipient: str, outcome: int, f: Any) -> None:
        day = int(row[log.DAY])
        values = {first: float(f[0]), second: float(f[1])}
        offers.append(
            Offer(
                session=session,
                round=round_,
                day=day + 1,
                date=(start + timedelta(days=day)).isoformat(),
                kind=kind,
                proposer=proposer,
                recipient=recipient,
                outcome=outcome,
                terms=dict(zip(plan.issues, plan.outcomes[outcome], strict=True)),
                utilities={p: values[p] for p in parties},
                accepted=False,
            )
        )

    def accept(index: int) -> None:
        offers[index] = _accepted(offers[index])

    for r in range(int(st.si[slots.S_LOG_N])):
        row, f = st.log_i[r], st.log_f[r]
        kind = int(row[log.KIND])
        a = row[2 : 2 + log.INTS]
        if kind == log.TALKS_OPEN:
            session, round_ = session + 1, 0
            last.clear()
        elif kind == log.OFFER:
            me, other = plan.parties[int(a[0])], plan.parties[int(a[1])]
            round_ = int(a[3])
            add(row, "counter" if a[4] else "offer", me, other, int(a[2]), f)
            last[me] = len(offers) - 1
        elif kind == log.ACCEPT_OFFER:
            other = plan.parties[int(a[1])]
            accept(last[other])
        elif kind == log.TEXT and a[0] >= 0:
            add(row, "mediator_text", n.mediator or "", BOTH, int(a[0]), f)
            text_answers = 0
        elif kind == log.TEXT_ANSWER:
            text_answers += int(a[1])
            if text_answers == 2:
                accept(len(offers) - 1)
    _check(offers, episode)
    return offers


def _accepted(offer: Offer) -> Offer:
    return Offer(**{**offer.__dict__, "accepted": True})


def _check(offers: list[Offer], episode: Episode) -> None:
    """The trace shows the transcript's offers (kinds, sides, rounded values)."""
    shown = [
        (e.kind, e.actors[0], {k: v for k, v in e.values.items() if not k.endswith("_aspiration")})
        for e in episode.transcript
        if e.kind in ("offer", "counter") or (e.kind == "mediator_text" and len(e.actors) > 1)
    ]
    made = [
        (
            o.kind,
            o.proposer,
            {p: round(v, 6) + 0.0 for p, v in o.utilities.items()},
        )
        for o in offers
    ]
    if shown != made:
        raise OfferTraceError(
            "the episode's transcript does not show the offers of this scenario's run "
            f"with seed {episode.summary.seed}"
            + ("" if episode.summary.draw is None else f", draw {episode.summary.draw}")
            + ": pass the scenario the episode was run on"
        )


def offer_columns(scenario: Scenario) -> list[str]:
    """The trace table's column names (see the module)."""
    n = scenario.negotiation
    issues = [i.id for i in n.issues] if n is not None else []
    return [
        *FIXED_COLUMNS,
        *(f"issue_{i}" for i in issues),
        *(f"utility_{p.id}" for p in scenario.parties),
        "accepted",
    ]


def _row(offer: Offer) -> list[Any]:
    return [
        offer.session,
        offer.round,
        offer.day,
        offer.date,
        offer.kind,
        offer.proposer,
        offer.recipient,
        offer.outcome,
        *offer.terms.values(),
        *offer.utilities.values(),
        offer.accepted,
    ]


def offers_csv(scenario: Scenario, offers: list[Offer]) -> str:
    """The trace as CSV: floats as ``repr`` (they read back exactly), ``true``/``false``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(offer_columns(scenario))
    for offer in offers:
        cells = _row(offer)
        writer.writerow(
            [
                ("true" if c else "false")
                if isinstance(c, bool)
                else repr(c)
                if isinstance(c, float)
                else safe_cell(c)
                for c in cells
            ]
        )
    return buffer.getvalue()


def offers_table(scenario: Scenario, offers: list[Offer]) -> pa.Table:
    """The trace as an Arrow table (the Parquet file's): whole numbers int64, values
    float64, ``date`` a date, ``accepted`` a boolean."""
    names = offer_columns(scenario)
    rows = [_row(o) for o in offers]
    n = scenario.negotiation
    columns: dict[str, pa.Array] = {}
    for j, name in enumerate(names):
        cells = [r[j] for r in rows]
        if name == "date":
            columns[name] = pa.array([date.fromisoformat(c) for c in cells], type=pa.date32())
        elif name in ("session", "round", "day", "outcome"):
            columns[name] = pa.array(cells, type=pa.int64())
        elif name.startswith("utility_"):
            columns[name] = pa.array(cells, type=pa.float64())
        elif name == "accepted":
            columns[name] = pa.array(cells, type=pa.bool_())
        elif name.startswith("issue_") and n is not None:
            issue = next(i for i in n.issues if f"issue_{i.id}" == name)
            text = issue.is_text()
            columns[name] = pa.array(
                [safe_cell(c) for c in cells] if text else cells,
                type=pa.string() if text else pa.int64(),
            )
        else:
            columns[name] = pa.array([safe_cell(c) for c in cells], type=pa.string())
    return pa.table(columns)


def write_offers_parquet(path: str | Path, scenario: Scenario, offers: list[Offer]) -> None:
    pq.write_table(offers_table(scenario, offers), path, compression="zstd")
