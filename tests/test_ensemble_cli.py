"""`ceasefire ensemble`: streamed batches, exact distributions, Parquet rows, an offline
report, and nothing half-written when a run is interrupted."""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import ceasefire
from ceasefire.ensemble import (
    END_CODES,
    EnsembleSummary,
    iter_ensemble,
    run_ensemble,
)
from ceasefire.outputs._ensemble_report import write_ensemble
from ceasefire.scenario import Scenario, content_hash

from conftest import NOV2023, ROOT
from helpers import with_agreement, without_chart_scripts

DECEMBER = ROOT / "scenarios" / "gaza-2023-12-proposal.yaml"
FORBIDDEN = ("http://", "https://", "<script", "<link", "url(", "@import")
SUMMARY_KEYS = {
    "scenario",
    "scenario_hash",
    "seed",
    "n",
    "package_version",
    "mode",
    "calendar",
    "priors",
    "quantiles",
    "interval",
    "pause_days",
    "fighting_days",
    "extensions",
    "delays",
    "released",
    "side_channel_released",
    "agreement",
    "agreement_by_date",
    "breach",
    "end_reasons",
    "ended_by",
}
QUANTILE_KEYS = ("q05", "q25", "q50", "q75", "q95")
QS = (0.05, 0.25, 0.5, 0.75, 0.95)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "ceasefire", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


class _Balanced(HTMLParser):
    VOID = frozenset({"meta", "br", "wbr", "rect", "line", "path", "circle", "hr", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>")
        else:
            self.stack.pop()


def assert_offline_html(text: str) -> None:
    assert text.startswith('<!DOCTYPE html>\n<html lang="en">')
    text = without_chart_scripts(text)
    for bad in FORBIDDEN:
        assert bad not in text.lower(), bad
    parser = _Balanced()
    parser.feed(text)
    parser.close()
    assert parser.errors == [] and parser.stack == []


# -- the command ------------------------------------------------------------------------


def test_ensemble_writes_summary_parquet_and_report(tmp_path: Path, nov2023: Scenario) -> None:
    out = tmp_path / "ens"
    n = 2_000
    result = cli(
        "ensemble",
        str(NOV2023),
        "-n",
        str(n),
        "--seed",
        "4",
        "--batch-size",
        "300",
        "--out",
        str(out),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "episodes.parquet",
        "report.html",
        "summary.json",
    ]
    # --json prints exactly summary.json
    text = (out / "summary.json").read_text(encoding="utf-8")
    assert result.stdout == text
    summary = json.loads(text)
    assert set(summary) == SUMMARY_KEYS
    assert summary["n"] == n and summary["seed"] == 4
    assert summary["scenario_hash"] == content_hash(nov2023)
    assert summary["package_version"] == ceasefire.__version__
    assert summary["priors"] == ["holding_hamas_women_children_hamas", "delay_probability"]
    assert set(summary["pause_days"]) >= {"mean", *QUANTILE_KEYS, "histogram"}
    assert set(summary["released"]) == {"israel", "hamas"}
    assert summary["end_reasons"]["no_eligible_batch"]["p"] == 1.0

    table = pq.read_table(out / "episodes.parquet")
    assert table.num_rows == n
    assert pq.ParquetFile(out / "episodes.parquet").metadata.num_row_groups == 7  # 300 a batch
    columns = set(table.column_names)
    assert {
        "draw",
        "pause_days",
        "extensions",
        "released_hamas_women_children",
        "released_israel_prisoners_women",
        "released_israel_prisoners_minors",
        "side_channel",
        "end_reason",
        "end_date",
        "agreement_date",
        "ended_by",
        "breach",
        "prior_holding_hamas_women_children_hamas",
        "prior_delay_probability",
    } <= columns
    full = run_ensemble(nov2023, n, seed=4)
    assert table["draw"].to_pylist() == list(range(n))
    assert table["pause_days"].to_numpy().tolist() == full.pause_days.tolist()
    assert (
        table["released_hamas_women_children"].to_numpy().tolist() == full.released[:, 0].tolist()
    )
    assert (
        table["prior_holding_hamas_women_children_hamas"].to_numpy().tolist()
        == full.priors[:, 0].astype(int).tolist()
    )
    for i in (0, 1, 999, n - 1):
        row = table.slice(i, 1).to_pylist()[0]
        ep = full.episode(i)
        assert row["extensions"] == ep["extensions"]
        assert row["end_reason"] == ep["end_reason"]
        assert row["end_date"].isoformat() == ep["end_date"]
        assert row["ended_by"] == ep["ended_by"]
        assert row["agreement_date"].isoformat() == "2023-11-22"  # the date it was signed
        assert row["breach"] == ep["breach"]

    assert_offline_html((out / "report.html").read_text(encoding="utf-8"))


def test_printed_tables(tmp_path: Path) -> None:
    result = cli("ensemble", str(NOV2023), "-n", "500", "--quiet")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for part in (
        "pause days",
        "released by Israel (deal)",
        "prisoners_minors",
        "5%",
        "95%",
        "mean",
        "agreement by the horizon",
        "breach",
        "ends: no_eligible_batch",
        "95% interval",
        "2023-11-22",
    ):
        assert part in out, part
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_summary_does_not_depend_on_the_batch_size(tmp_path: Path) -> None:
    runs = {}
    for size in ("7", "1000"):
        out = tmp_path / f"b{size}"
        result = cli(
            "ensemble",
            str(NOV2023),
            "-n",
            "1000",
            "--seed",
            "11",
            "--batch-size",
            size,
            "--out",
            str(out),
        )
        assert result.returncode == 0, result.stderr
        runs[size] = out
    for name in ("summary.json", "report.html"):
        assert (runs["7"] / name).read_bytes() == (runs["1000"] / name).read_bytes(), name
    small = pq.read_table(runs["7"] / "episodes.parquet")
    large = pq.read_table(runs["1000"] / "episodes.parquet")
    assert small.equals(large)


# -- streaming and exact quantiles ----------------------------------------------------------


def test_batches_concatenate_to_run_ensemble(nov2023: Scenario) -> None:
    scenario = with_agreement(nov2023, refusal_probability={"hamas": 0.05}, cure_attempts=1)
    full = run_ensemble(scenario, 1_001, seed=9)
    batches = list(iter_ensemble(scenario, 1_001, seed=9, batch_size=128))
    assert [len(b) for b in batches] == [128] * 7 + [105]
    for name in (
        "pause_days",
        "extensions",
        "released",
        "side_channel",
        "end_reason",
        "end_day",
        "ended_by",
        "breaches",
        "delays",
        "priors",
    ):
        joined = np.concatenate([getattr(b, name) for b in batches])
        assert np.array_equal(joined, getattr(full, name)), name
        assert joined.dtype == getattr(full, name).dtype, name


def test_quantiles_and_probabilities_equal_numpy_on_the_whole_ensemble(
    nov2023: Scenario,
) -> None:
    scenario = with_agreement(nov2023, refusal_probability={"hamas": 0.03, "israel": 0.02})
    n = 3_001
    full = run_ensemble(scenario, n, seed=5)
    acc = EnsembleSummary(scenario, seed=5)
    for batch in iter_ensemble(scenario, n, seed=5, batch_size=97):
        acc.add(batch)
    s = acc.to_dict()

    def check(d: dict[str, float], values: np.ndarray) -> None:
        expected = np.quantile(values, QS)
        assert [d[k] for k in QUANTILE_KEYS] == expected.tolist()
        assert d["mean"] == float(np.mean(values))
        assert d["min"] == values.min() and d["max"] == values.max()

    check(s["pause_days"], full.pause_days)
    check(s["delays"], full.delays)
    check(s["side_channel_released"], full.side_channel_released)
    for j, (party, category) in enumerate(full.release_columns):
        check(s["released"][party]["by_category"][category], full.released[:, j])
    for party in full.parties:
        cols = [j for j, (p, _c) in enumerate(full.release_columns) if p == party]
        check(s["released"][party]["total"], full.released[:, cols].sum(axis=1))
    # Quantiles that fall between two order statistics interpolate as NumPy does.
    odd = EnsembleSummary(scenario, seed=5)
    for batch in iter_ensemble(scenario, 10, seed=5, batch_size=3):
        odd.add(batch)
    check(odd.to_dict()["pause_days"], run_ensemble(scenario, 10, seed=5).pause_days)

    reasons = full.end_reasons.tolist()
    for reason, entry in s["end_reasons"].items():
        assert entry["count"] == reasons.count(reason)
        assert entry["low"] <= entry["p"] <= entry["high"]
    assert sum(e["count"] for e in s["end_reasons"].values()) == n
    assert set(s["end_reasons"]) <= set(END_CODES)
    assert s["breach"]["count"] == int((full.breaches > 0).sum()) > 0
    assert s["agreement_by_date"][-1]["count"] == int((full.pause_start_day >= 0).sum())


# -- nothing half-written ---------------------------------------------------------------


def _leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def test_interrupt_from_the_progress_callback_leaves_nothing(
    tmp_path: Path, nov2023: Scenario
) -> None:
    target = tmp_path / "ens"
    target.mkdir()
    (target / "summary.json").write_text("from an earlier run", encoding="utf-8")
    seen: list[int] = []

    def progress(k: int) -> None:
        seen.append(k)
        if len(seen) == 3:  # after three batches are in the staging folder
            assert _leftovers(tmp_path, "ens"), "the batches are written as they come"
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_ensemble(
            nov2023,
            iter_ensemble(nov2023, 1_000, seed=0, batch_size=100),
            seed=0,
            out=target,
            progress=progress,
        )
    assert seen == [100, 100, 100]
    assert sorted(p.name for p in target.iterdir()) == ["summary.json"]
    assert _leftovers(tmp_path, "ens") == []


def _sigint_by_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sigint_exits_130_and_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "ens"
    target.mkdir()
    (target / "summary.json").write_text("from an earlier run", encoding="utf-8")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ceasefire",
            "ensemble",
            str(NOV2023),
            "-n",
            "20000000",
            "--batch-size",
            "20000",
            "--out",
            str(target),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A suite started in the background by a shell without job control inherits
        # SIGINT ignored, and so would the command; Ctrl-C in a terminal is not ignored.
        preexec_fn=_sigint_by_default,
    )
    try:
        deadline = time.monotonic() + 120
        staged: list[str] = []
        while time.monotonic() < deadline and proc.poll() is None:
            staged = glob.glob(str(tmp_path / ".ens.*" / "episodes.parquet"))
            if staged and os.path.getsize(staged[0]) > 0:
                break
            time.sleep(0.05)
        assert staged, "the run started writing"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert sorted(p.name for p in target.iterdir()) == ["summary.json"]
    assert _leftovers(tmp_path, "ens") == []


# -- bad input ----------------------------------------------------------------------------


def test_bad_input_exits_2_without_a_traceback(tmp_path: Path) -> None:
    missing = cli("ensemble", str(tmp_path / "nope.yaml"), "-n", "10")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    zero = cli("ensemble", str(NOV2023), "-n", "0")
    assert zero.returncode == 2 and "Traceback" not in zero.stderr
    address = cli("ensemble", str(NOV2023), "-n", "10", "--address", "127.0.0.1:6379")
    assert address.returncode == 2 and "--backend ray" in address.stderr
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    not_a_folder = cli("ensemble", str(NOV2023), "-n", "10", "--out", str(a_file))
    assert not_a_folder.returncode == 2 and "Traceback" not in not_a_folder.stderr
    assert a_file.read_text(encoding="utf-8") == "x"


def test_a_scenario_with_talks(tmp_path: Path) -> None:
    """Until negotiation-mode ensembles exist, a clear refusal (exit 2); then, a summary."""
    out = tmp_path / "dec"
    result = cli("ensemble", str(DECEMBER), "-n", "20", "--out", str(out), "--json")
    assert "Traceback" not in result.stderr
    if result.returncode == 2:
        assert "negotiation" in result.stderr
        assert not out.exists()
    else:
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["mode"] == "negotiation"
