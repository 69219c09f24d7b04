"""The command line as a user runs it: tables, files, JSON, schema, all-or-nothing output."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import ceasefire
from ceasefire.scenario import content_hash, load_scenario

from conftest import NOV2023, ROOT


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "ceasefire", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def test_run_prints_days_and_summary_and_writes_four_files(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cli("run", str(NOV2023), "--seed", "7", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "day by day" in result.stdout and "2023-11-30" in result.stdout
    assert "no_eligible_batch" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "ledger.csv",
        "report.html",
        "summary.json",
        "transcript.jsonl",
    ]
    digest = content_hash(load_scenario(NOV2023))

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario_hash"] == digest and summary["seed"] == 7
    assert summary["package_version"] == ceasefire.__version__

    lines = (out / "transcript.jsonl").read_text(encoding="utf-8").splitlines()
    meta = json.loads(lines[0])["meta"]
    assert meta["scenario_hash"] == digest and meta["seed"] == 7
    entries = [json.loads(line) for line in lines[1:]]
    assert entries[-1]["kind"] == "episode_end"
    assert {"seq", "date", "day", "kind", "actors", "text", "counts", "values"} <= set(entries[0])

    with open(out / "ledger.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["scenario_hash"] for r in rows} == {digest}
    assert {r["seed"] for r in rows} == {"7"}
    released = sum(int(r["count"]) for r in rows if r["flow"] == "release")
    assert released == 80

    report = (out / "report.html").read_text(encoding="utf-8")
    assert digest in report


def test_json_prints_only_the_summary_with_the_documented_keys() -> None:
    result = cli("run", str(NOV2023), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["pause_days"] == 7
    assert summary["extensions"] == [2, 1]
    assert summary["released"]["hamas"] == {"women_children": 80}
    assert sum(summary["released"]["israel"].values()) == 240
    assert summary["side_channel_released"] == 25
    assert summary["end_reason"] == "no_eligible_batch"


def test_rerun_into_the_same_folder_replaces_it_whole(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert cli("run", str(NOV2023), "--out", str(out), "--seed", "1").returncode == 0
    # An ensemble's file left from an earlier run into the folder goes with the rest.
    (out / "episodes.parquet").write_text("old", encoding="utf-8")
    assert cli("run", str(NOV2023), "--out", str(out), "--seed", "2").returncode == 0
    assert not (out / "episodes.parquet").exists()
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_unwritable_output_fails_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = cli("run", str(NOV2023), "--out", str(blocker / "sub"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "cannot write" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_same_seed_same_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert cli("run", str(NOV2023), "--out", str(tmp_path / name)).returncode == 0
    for f in ("transcript.jsonl", "ledger.csv", "summary.json", "report.html"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_schema_is_published_and_current(tmp_path: Path) -> None:
    result = cli("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["title"].startswith("ceasefire scenario")
    assert {"version", "calendar", "parties", "agreement", "values"} <= set(schema["properties"])
    committed = (ROOT / "schema" / "scenario.schema.json").read_text(encoding="utf-8")
    assert committed == result.stdout, "run `ceasefire schema --out schema/scenario.schema.json`"


def test_bad_usage_exits_2() -> None:
    assert cli("run").returncode == 2
    assert cli("run", str(NOV2023), "--seed", "-1").returncode == 2
