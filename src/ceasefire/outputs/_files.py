"""Writing an episode's outputs to a folder, all or nothing.

Everything is written into a staging folder beside the target, then renamed into
place, so a failed or interrupted run never leaves a half-written folder (see
``_folders``).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..engine import Episode, LedgerRow
from ..scenario import Scenario
from ._cells import safe_cell
from ._folders import StagedFolder
from ._report import render_report

OUTPUT_FILES = ("transcript.jsonl", "ledger.csv", "summary.json", "report.html")


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
    lines = [json.dumps({"meta": provenance(episode)}, ensure_ascii=False, sort_keys=True)]
    lines += [
        json.dumps(e.to_dict(), ensure_ascii=False, sort_keys=True) for e in episode.transcript
    ]
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


def summary_json(episode: Episode) -> str:
    return json.dumps(episode.summary.to_dict(), indent=2, ensure_ascii=False) + "\n"


def write_outputs(
    out_dir: str | Path,
    scenario: Scenario,
    episode: Episode,
    *,
    force: bool = False,
) -> Path:
    """Write the four outputs into ``out_dir``, all or nothing, replacing a folder of
    earlier outputs (a folder holding other files only with ``force``; see
    :class:`StagedFolder`)."""
    with StagedFolder(out_dir, force=force) as folder:
        folder.write_text("transcript.jsonl", transcript_jsonl(episode))
        folder.write_text("ledger.csv", ledger_csv(episode))
        folder.write_text("summary.json", summary_json(episode))
        folder.write_text("report.html", render_report(scenario, episode))
        return folder.commit()
