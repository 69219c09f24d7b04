"""Outputs of an episode: transcript, ledger, summary and the offline HTML report."""

from ._cells import safe_cell
from ._files import (
    OUTPUT_FILES,
    ledger_csv,
    provenance,
    summary_json,
    transcript_jsonl,
    write_outputs,
)
from ._folders import OutputFolderError, check_output_folder
from ._replay import replay
from ._report import render_report
from ._tables import day_rows

__all__ = [
    "OUTPUT_FILES",
    "OutputFolderError",
    "check_output_folder",
    "day_rows",
    "ledger_csv",
    "provenance",
    "render_report",
    "replay",
    "safe_cell",
    "summary_json",
    "transcript_jsonl",
    "write_outputs",
]
