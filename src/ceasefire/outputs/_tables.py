"""The day-by-day view of an episode: one row per calendar day, for tables."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engine import Episode


@dataclass
class DayRow:
    date: str
    day: int
    mode: str
    released: dict[str, dict[str, int]] = field(default_factory=dict)
    side_channel: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    talks: list[str] = field(default_factory=list)

    def released_text(self, party: str) -> str:
        counts = self.released.get(party, {})
        return ", ".join(f"{n} {c}" for c, n in counts.items()) if counts else ""


_TALK_KINDS = {
    "talks_open",
    "offer",
    "counter",
    "accept",
    "veto",
    "mediator_text",
    "timeout",
    "breakdown",
    "talks_end",
    "agreement",
}
# Phases: the transcript's own first clause, which names the phase.
_PHASE_KINDS = {"pause_holds_on", "phase_end", "phase_start"}
_NOTE_KINDS = {
    "extension",
    "breach",
    "delay",
    "pause_end",
    "refusal",
    "breach_cured",
    "extension_decline",
    "event",
    "side_channel_shortfall",
    "postponed",
    "obligation_due",
    "exchange_end",
}


def day_rows(episode: Episode) -> list[DayRow]:
    """Fold the ledger and the notable transcript entries into one row per day."""
    rows: dict[str, DayRow] = {}
    parties = set(episode.summary.released)
    for r in episode.ledger:
        row = rows.setdefault(r.date, DayRow(r.date, r.day, r.mode))
        if r.flow in ("release", "counter_release"):
            party = row.released.setdefault(r.from_party, {})
            party[r.category] = party.get(r.category, 0) + r.count
        elif r.flow == "side_channel_release":
            row.side_channel[r.category] = row.side_channel.get(r.category, 0) + r.count
    for e in episode.transcript:
        if e.kind in _TALK_KINDS and e.date in rows:
            values = ", ".join(f"{k} {v:.4g}" for k, v in e.values.items() if k in parties)
            who = e.actors[0] if e.actors else ""
            if e.kind in ("offer", "counter") and len(e.actors) > 1:
                who = f"{who} to {e.actors[1]}"
            rows[e.date].talks.append(
                f"{e.kind.replace('_', ' ')} {who}".strip() + (f" ({values})" if values else "")
            )
        if e.kind in _PHASE_KINDS and e.date in rows:  # "phase 2 begins", "phase 1 ends"
            first = e.text.split(";")[0].split(":")[0].split(" (")[0]
            held = ", pause holds on" if e.kind == "pause_holds_on" else ""
            rows[e.date].notes.append(first + held)
        elif e.kind in _NOTE_KINDS and e.date in rows:
            rows[e.date].notes.append(
                e.kind.replace("_", " ")
                + (f" +{e.counts['days']}d" if e.kind == "extension" else "")
            )
    return list(rows.values())
