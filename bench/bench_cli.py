#!/usr/bin/env python3
"""Start-up of the command line: `ceasefire --help` and `ceasefire check FILE`.

Each run is a fresh process (the installed `ceasefire` script, or `python -m ceasefire`
where there is none), timed from start to exit; its peak resident set size is read from
the kernel's accounting of that child (wait4). The baseline is `python -c pass`, measured
in the same run: the ratio to it is the figure that travels between machines, and each
command should take at most --limit seconds (0.3 s) of wall time. The package's
byte-code is brought up to date first, as installing it (`make venv`) leaves it: an
edited checkout would otherwise compile its changed modules in every run.

    python bench/bench_cli.py [--runs 5] [--limit 0.3] [--scenario FILE]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOV2023 = ROOT / "scenarios" / "gaza-2023-11-truce.yaml"


def ceasefire_command() -> list[str]:
    """The `ceasefire` script next to this Python (as a user runs it), else `-m`."""
    script = Path(sys.executable).with_name("ceasefire")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "ceasefire"]


def run_once(args: list[str]) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MiB) of that process alone."""
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: nothing can block
        started = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(args)} failed:\n{err.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def measure(args: list[str], runs: int) -> tuple[list[float], float]:
    """Wall seconds of ``runs`` runs (after one warm-up run) and the largest peak RSS."""
    run_once(args)
    walls, peaks = [], []
    for _ in range(runs):
        wall, peak = run_once(args)
        walls.append(wall)
        peaks.append(peak)
    return walls, max(peaks)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each command")
    ap.add_argument("--limit", type=float, default=0.3, help="seconds allowed per command")
    ap.add_argument("--scenario", type=Path, default=NOV2023)
    args = ap.parse_args()

    cli = ceasefire_command()
    compileall.compile_dir(ROOT / "src", quiet=1)
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "ceasefire --help": [*cli, "--help"],
        f"ceasefire check {args.scenario.name}": [*cli, "check", str(args.scenario)],
    }
    results = {name: measure(cmd, args.runs) for name, cmd in cases.items()}
    baseline = statistics.median(results["python -c pass"][0])

    print(f"{os.cpu_count()} CPUs, {args.runs} runs each (after a warm-up), {' '.join(cli)}")
    width = max(len(name) for name in cases)
    for name, (walls, peak) in results.items():
        median = statistics.median(walls)
        line = (
            f"{name:<{width}}  min {min(walls):.3f} s  median {median:.3f} s  "
            f"max {max(walls):.3f} s  peak RSS {peak:6.1f} MiB"
        )
        if name != "python -c pass":
            verdict = "yes" if median <= args.limit else "NO"
            line += f"  {median / baseline:5.1f}x python -c pass; within {args.limit} s: {verdict}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
