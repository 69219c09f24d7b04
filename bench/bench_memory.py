#!/usr/bin/env python3
"""Peak memory of `ceasefire ensemble` for 10,000 vs 1,000,000 episodes.

Each run is a fresh process (`python -m ceasefire ensemble ... --out DIR`, Parquet and
report included); its peak resident set size is read from the kernel's accounting of
that child (wait4). Memory must stay flat beyond the batch size: the ratio of the two
peaks is the figure, measured in the same run.

    python bench/bench_memory.py [--scenario FILE] [--small 10000] [--large 1000000]
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "gaza-2023-11-truce.yaml"))
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--large", type=int, default=1_000_000)
    ap.add_argument("--batch-size", type=int, default=10_000)
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.small, args.large):
            out = Path(tmp) / f"n{n}"
            cmd = [
                sys.executable,
                "-m",
                "ceasefire",
                "ensemble",
                args.scenario,
                "-n",
                str(n),
                "--seed",
                "1",
                "--batch-size",
                str(args.batch_size),
                "--quiet",
                "--out",
                str(out),
            ]
            results[n] = peak_rss_mib(cmd)
            print(
                f"n={n:>9,}: peak RSS {results[n][0]:7.1f} MiB, {results[n][1]:6.2f} s "
                f"({n / results[n][1]:,.0f} episodes/s with start-up, Parquet and report)"
            )
    ratio = results[args.large][0] / results[args.small][0]
    print(
        f"peak memory ratio {args.large:,} / {args.small:,} episodes: {ratio:.2f} "
        f"(flat beyond the batch size of {args.batch_size:,}: "
        f"{'yes' if ratio < 1.25 else 'NO'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
