#!/usr/bin/env python3
"""Peak memory and speed of `ceasefire monitor import`: 20,000 vs 200,000 rows.

Each import is a fresh process (`python -m ceasefire monitor import --db FILE CSV` on
a new SQLite ledger); its peak resident set size is read from the kernel's accounting
of that child (wait4). An import streams its file, so memory must stay flat in the
number of rows: the ratio of the two peaks is the figure, measured in the same run.

    python bench/bench_import.py [--small 20000] [--large 200000] [--note-bytes 100]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "gaza-2023-11-truce.yaml"
VOCABULARY = ROOT / "examples" / "nov2023" / "vocabulary.yaml"
HEADER = "date,day,phase,flow,from_party,to_party,category,count,channel,source,source_kind,note,id"


def peak_rss_mib(args: list[str]) -> tuple[float, float]:
    """Run a command; return (peak RSS in MiB, wall seconds) of that process alone."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(args)} failed:\n{err}")
    return usage.ru_maxrss / 1024, seconds


def write_csv(path: Path, rows: int, note_bytes: int) -> None:
    pad = "x" * note_bytes
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        for i in range(rows):
            out.write(
                f"2023-11-24,1,initial_4_days,hostages_released,Hamas,Israel,women_children,"
                f'{i % 20},deal,"Example wire report, 2023-11-24, https://example.org/{i}",'
                f"media,row {i} {pad},bulk-{i}\n"
            )


def measure(rows: int, note_bytes: int, folder: Path) -> tuple[float, float, float]:
    """(peak MiB, seconds, file MB) of importing ``rows`` rows into a new ledger."""
    csv_path = folder / f"rows-{rows}.csv"
    write_csv(csv_path, rows, note_bytes)
    db = folder / f"ledger-{rows}.sqlite"
    init = [sys.executable, "-m", "ceasefire", "monitor", "init", "--db", str(db)]
    subprocess.run(
        [*init, "--scenario", str(SCENARIO), "--vocabulary", str(VOCABULARY)],
        check=True,
        capture_output=True,
    )
    peak, seconds = peak_rss_mib(
        [sys.executable, "-m", "ceasefire", "monitor", "import", "--db", str(db), str(csv_path)]
    )
    return peak, seconds, csv_path.stat().st_size / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--note-bytes", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        results = {}
        for rows in (args.small, args.large):
            peak, seconds, size = measure(rows, args.note_bytes, Path(tmp))
            results[rows] = peak
            print(
                f"{rows:>9,} rows ({size:6.1f} MB): peak {peak:7.1f} MiB, {seconds:6.1f} s, "
                f"{rows / seconds:8,.0f} rows/s"
            )
    ratio = results[args.large] / results[args.small]
    print(f"peak ratio {args.large:,} / {args.small:,} rows: {ratio:.2f} (flat is about 1)")


if __name__ == "__main__":
    main()
