"""Writing an episode's outputs to a folder, all or nothing.

Everything is written into a temporary folder beside the target, then renamed
into place, so a failed or interrupted run never leaves a half-written folder.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..engine import Episode, LedgerRow
from ..scenario import Scenario
from ._cells import safe_cell
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
) -> Path:
    """Write the four outputs into ``out_dir``, replacing it whole if it exists."""
    target = Path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} exists and is not a folder")
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        contents = {
            "transcript.jsonl": transcript_jsonl(episode),
            "ledger.csv": ledger_csv(episode),
            "summary.json": summary_json(episode),
            "report.html": render_report(scenario, episode),
        }
        for name, text in contents.items():
            with open(staging / name, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _swap_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        staging.rename(target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    old.rmdir()
    target.rename(old)
    try:
        staging.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
