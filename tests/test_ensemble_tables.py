"""An ensemble as a table: named columns in Arrow and pandas, and episodes.csv."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ceasefire.ensemble import iter_ensemble, run_ensemble
from ceasefire.scenario import Scenario, load_scenario
from test_cli import cli

from conftest import NOV2023, ROOT

DEC2023 = ROOT / "scenarios" / "gaza-2023-12-proposal.yaml"


def test_to_arrow_and_to_pandas_name_every_column(nov2023: Scenario) -> None:
    result = run_ensemble(nov2023, 50, seed=3)
    table = result.to_arrow()
    assert table.num_rows == 50
    names = table.column_names
    assert names[:4] == ["draw", "pause_days", "fighting_days", "extensions"]
    assert {"end_reason", "end_date", "agreement_date", "ended_by"} <= set(names)
    priors = [n for n in names if n.startswith("prior_")]
    assert len(priors) == len(nov2023.priors) == result.priors.shape[1]
    frame = result.to_pandas()
    assert list(frame.columns) == names
    for i in (0, 17, 49):
        episode = result.episode(i)
        row = frame.iloc[i]
        assert row["draw"] == i and row["pause_days"] == episode["pause_days"]
        assert row["end_reason"] == episode["end_reason"]
        assert list(row["extensions"]) == episode["extensions"]
        assert [float(row[p]) for p in priors] == episode["priors"]


def test_batches_number_their_rows_by_draw() -> None:
    scenario = load_scenario(DEC2023)
    whole = run_ensemble(scenario, 30, seed=1).to_arrow()
    parts = [b.to_arrow() for b in iter_ensemble(scenario, 30, 1, 7)]
    assert [p.column("draw")[0].as_py() for p in parts] == [0, 7, 14, 21, 28]
    assert sum(p.num_rows for p in parts) == 30
    assert "talk_rounds" in whole.column_names
    assert pa.concat_tables(parts).equals(whole)


def test_episodes_csv_holds_the_parquet_rows(tmp_path: Path) -> None:
    out = tmp_path / "ens"
    result = cli("ensemble", str(NOV2023), "-n", "40", "--out", str(out), "--episodes-csv")
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out / "episodes.parquet").to_pylist()
    with open(out / "episodes.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(table) == 40
    for parquet, text in zip(table, rows, strict=True):
        assert text["draw"] == str(parquet["draw"])
        assert text["end_reason"] == parquet["end_reason"]
        assert text["extensions"] == ";".join(str(d) for d in parquet["extensions"])
    refused = cli("ensemble", str(NOV2023), "-n", "5", "--episodes-csv")
    assert refused.returncode == 2 and "needs --out" in refused.stderr
