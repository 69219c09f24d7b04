"""Exports a spreadsheet opens never hold a cell it would run as a formula."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq

from ceasefire.outputs import safe_cell
from test_monitor_support import cli, init_cli

HEADER = "date,day,phase,flow,from_party,to_party,category,count,channel,source,source_kind,note"
NOTE = '=HYPERLINK("https://example.org/x","click")'
SOURCE = "+Wire report, 2023-11-24, https://example.org/a"
FIELDS = ["2023-11-24", "1", "p", "hostages_released", "@SUM(A1)", "Israel"]
FIELDS += ["women_children", "13", "deal", SOURCE, "media", NOTE]


def _row() -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(FIELDS)
    return buffer.getvalue()


def test_safe_cell_marks_formula_text_only() -> None:
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("-2") == "'-2" and safe_cell("@x") == "'@x" and safe_cell("\tx") == "'\tx"
    assert safe_cell(-2) == -2 and safe_cell("a=b") == "a=b" and safe_cell(None) is None


def test_csv_and_parquet_exports_hold_formulas_as_text(tmp_path: Path) -> None:
    db = str(tmp_path / "l.sqlite")
    init_cli(db)
    record = tmp_path / "record.csv"
    record.write_text(HEADER + "\n" + _row() + "\n", encoding="utf-8")
    imported = cli("monitor", "import", "--db", db, str(record))
    assert imported.returncode == 0, imported.stderr

    for name in ("ledger.csv", "ledger.parquet", "ledger.json"):
        result = cli("monitor", "export", "--db", db, "--out", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
    text = (tmp_path / "ledger.csv").read_text(encoding="utf-8")
    (row,) = list(csv.DictReader(io.StringIO(text)))
    table = pq.read_table(tmp_path / "ledger.parquet").to_pylist()
    for exported in (row, table[0]):
        assert exported["note"] == "'" + NOTE
        assert exported["source"] == "'" + SOURCE
        assert exported["from_party"] == "'@SUM(A1)"
        assert exported["to_party"] == "Israel"
    assert table[0]["count"] == 13 and row["count"] == "13"
    # JSON is for programs: it holds the text as recorded.
    (obs,) = json.loads((tmp_path / "ledger.json").read_text("utf-8"))["observations"]
    assert obs["observation"]["note"] == NOTE
