"""Writing an episode's outputs to a folder, all or nothing.

Everything is written into a staging folder beside the target, then renamed into
place, so a failed or interrupted run never leaves a half-written folder (see
``_folders``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ..engine import Episode, LedgerRow
from ..scenario import Scenario
from ._analytics_data import NegotiationAnalytics, negotiation_analytics
from ._cells import safe_cell
from ._folders import StagedFolder
from ._json import dumps
from ._offers import Offer, offer_trace, offers_csv, write_offers_parquet
from ._report import render_report

OUTPUT_FILES = ("transcript.jsonl", "ledger.csv", "summary.json", "report.html")
# Written besides for a scenario with talks: the offer trace (``_offers``).
OFFER_FILES = ("offers.csv", "offers.parquet")


def provenance(episode: Episode) -> dict[str, Any]:
    s = episode.summary
    return {
        "scenario": s.scenario,
        "scenario_hash": s.scenario_hash,
        "seed": s.seed,
        "package_version": s.package_version,
    }


def transcript_jsonl(episode: Episode) -> str:
    """One JSON object per line: a first ``meta`` line with the provenance, then the entries."""
    lines = [dumps({"meta": provenance(episode)}, ensure_ascii=False, sort_keys=True)]
    lines += [dumps(e.to_dict(), ensure_ascii=False, sort_keys=True) for e in episode.transcript]
    return "\n".join(lines) + "\n"


def ledger_csv(episode: Episode) -> str:
    """One row per day and flow, each row naming the scenario hash, seed and version."""
    meta = provenance(episode)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*LedgerRow.FIELDS, "scenario_hash", "seed", "package_version"])
    for row in episode.ledger:
        writer.writerow(
            [
                *(safe_cell(getattr(row, f)) for f in LedgerRow.FIELDS),
                meta["scenario_hash"],
                meta["seed"],
                meta["package_version"],
            ]
        )
    return buffer.getvalue()


def summary_json(episode: Episode, analytics: NegotiationAnalytics | None = None) -> str:
    """The summary as strict JSON (``_json``); with ``analytics``, under the key
    ``analytics`` after the summary's own keys."""
    data = episode.summary.to_dict()
    if analytics is not None:
        data["analytics"] = analytics.to_dict()
    return dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_outputs(
    out_dir: str | Path,
    scenario: Scenario,
    episode: Episode,
    *,
    force: bool = False,
    analytics: str = "ours",
) -> Path:
    """Write the four outputs into ``out_dir``, all or nothing, replacing a folder of
    earlier outputs (a folder holding other files only with ``force``; see
    :class:`StagedFolder`). For a scenario with talks, ``summary.json`` also holds the
    talks' analytics by the ``analytics`` definitions (``ours`` or ``negmas``), and the
    offer trace is written as ``offers.csv`` and ``offers.parquet``."""
    offers: list[Offer] | None = None
    data: NegotiationAnalytics | None = None
    if scenario.negotiation is not None:
        offers = offer_trace(scenario, episode)
        data = negotiation_analytics(scenario, episode, definitions=analytics, offers=offers)
    with StagedFolder(out_dir, force=force) as folder:
        folder.write_text("transcript.jsonl", transcript_jsonl(episode))
        folder.write_text("ledger.csv", ledger_csv(episode))
        folder.write_text("summary.json", summary_json(episode, data))
        folder.write_text("report.html", render_report(scenario, episode))
        if offers is not None:
            folder.write_text("offers.csv", offers_csv(scenario, offers))
            write_offers_parquet(folder.path("offers.parquet"), scenario, offers)
        return folder.commit()
