#!/usr/bin/env python3
"""Peak memory of `ceasefire ensemble`: 10,000 vs 1,000,000 November episodes, 10,000 vs
100,000 December episodes (talks).

Each run is a fresh process (`python -m ceasefire ensemble ... --out DIR`, Parquet and
report included); its peak resident set size is read from the kernel's accounting of
that child (wait4). Memory must stay flat beyond the batch size: the ratio of the two
peaks is the figure, measured in the same run.

    python bench/bench_memory.py [--small 10000] [--large 1000000] [--large-talks 100000]
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


def peak_rss_mib(args: list[str]) -> tuple[float, float]:
    """Run a command; return (peak RSS in MiB, wall seconds) of that process alone."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(args)} failed:\n{err}")
    return usage.ru_maxrss / 1024, wall


def measure(scenario: str, small: int, large: int, batch_size: int) -> float:
    """Peak memory of ``small`` and ``large`` episodes; prints both, returns the ratio."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (small, large):
            out = Path(tmp) / f"n{n}"
            cmd = [
                sys.executable,
                "-m",
                "ceasefire",
                "ensemble",
                scenario,
                "-n",
                str(n),
                "--seed",
                "1",
                "--batch-size",
                str(batch_size),
                "--quiet",
                "--out",
                str(out),
            ]
            results[n] = peak_rss_mib(cmd)
            print(
                f"{Path(scenario).stem} n={n:>9,}: peak RSS {results[n][0]:7.1f} MiB, "
                f"{results[n][1]:6.2f} s ({n / results[n][1]:,.0f} episodes/s with start-up, "
                "Parquet and report)"
            )
    ratio = results[large][0] / results[small][0]
    print(
        f"peak memory ratio {large:,} / {small:,} episodes: {ratio:.2f} "
        f"(flat beyond the batch size of {batch_size:,}: {'yes' if ratio < 1.25 else 'NO'})"
    )
    return ratio


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--large", type=int, default=1_000_000, help="November episodes")
    ap.add_argument("--large-talks", type=int, default=100_000, help="December episodes")
    ap.add_argument("--batch-size", type=int, default=10_000)
    args = ap.parse_args()
    scenarios = ROOT / "scenarios"
    measure(str(scenarios / "gaza-2023-11-truce.yaml"), args.small, args.large, args.batch_size)
    measure(
        str(scenarios / "gaza-2023-12-proposal.yaml"),
        args.small,
        args.large_talks,
        args.batch_size,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
