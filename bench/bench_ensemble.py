"""Episodes per second: the compiled ensemble against single runs, in one run.

    .venv/bin/python bench/bench_ensemble.py [--runs 5] [--nov-n N] [--dec-n N]
        [--single-s S] [--no-compile]

For each bundled scenario (November 2023: a pause without talks; December 2023: talks
and a pause), the same draws of its priors (episode i = draw i of the seed) run two
ways: ``run_ensemble(scenario, N, seed)`` (the kernel compiled, the episodes spread over
every CPU) and ``run_draw(scenario, seed, i)`` in a loop (the same kernel run as plain
Python with its event log on, as ``ceasefire run`` does). The script checks that the two
agree on every episode the single runs cover before it prints the rates: min, median
and max of ``--runs`` timed runs each, and the ratio of the medians per episode.

The compilation's first-call cost is measured in a fresh process with an empty cache
folder (``NUMBA_CACHE_DIR``), then again in a second process that loads the cache; the
rest of the run uses that cache (ceasefire is imported only then).

Targets (issue "One source of the dynamics"): December at least 30,000 episodes/s and
1,000x the single run per episode; November 1,000,000 episodes in at most 1 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
NOV2023 = ROOT / "scenarios" / "gaza-2023-11-truce.yaml"
DEC2023 = ROOT / "scenarios" / "gaza-2023-12-proposal.yaml"
FIELDS = ("pause_days", "extensions", "released", "side_channel_released", "end_reason", "end_date")
FIRST_CALL = """
import sys, time
start = time.perf_counter()
from ceasefire.ensemble import run_ensemble
from ceasefire.scenario import load_scenario
run_ensemble(load_scenario(sys.argv[1]), 100, seed=0)
print(time.perf_counter() - start)
"""


def spread(values: list[float]) -> str:
    return (
        f"min {min(values):,.0f} / median {statistics.median(values):,.0f} / max {max(values):,.0f}"
    )


def single_runs(scenario: Any, seed: int, budget_s: float) -> tuple[list[object], float]:
    """As many single runs (episodes 0, 1, ...) as fit in ``budget_s``, at least 3."""
    from ceasefire.ensemble import run_draw

    summaries: list[object] = []
    start = time.perf_counter()
    while len(summaries) < 3 or time.perf_counter() - start < budget_s:
        summaries.append(run_draw(scenario, seed, len(summaries)).summary)
    return summaries, time.perf_counter() - start


def bench(path: Path, n: int, runs: int, seed: int, single_s: float) -> dict[str, float]:
    from ceasefire.ensemble import run_ensemble
    from ceasefire.scenario import load_scenario

    scenario = load_scenario(path)
    run_ensemble(scenario, min(n, 1_000), seed=seed)  # warm-up (loads the compiled code)
    rates: list[float] = []
    seconds: list[float] = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = run_ensemble(scenario, n, seed=seed)
        seconds.append(time.perf_counter() - start)
        rates.append(n / seconds[-1])
    assert result is not None
    summaries, single_total = single_runs(scenario, seed, single_s)
    for i, summary in enumerate(summaries):
        got = result.episode(i)
        for name in FIELDS:
            if getattr(summary, name) != got[name]:
                raise SystemExit(f"{path.name} episode {i} differs in {name}")
    single_rate = len(summaries) / single_total
    ratio = statistics.median(rates) / single_rate
    print(f"{scenario.name} ({len(scenario.priors)} priors), seed {seed}")
    print(f"  ensemble  {n:>10,} episodes, {runs} runs: {spread(rates)} episodes/s")
    print(
        f"            {spread([s * 1000 for s in seconds])} ms a run; "
        f"1,000,000 episodes at the median: {1_000_000 / statistics.median(rates):.2f} s"
    )
    print(
        f"  single    {len(summaries):>10,} episodes in {single_total:6.2f} s: "
        f"{single_rate:,.1f} episodes/s (run_draw in a loop; all agree with the ensemble)"
    )
    print(f"  ratio     {ratio:,.0f}x the single run per episode (medians)")
    return {"median": statistics.median(rates), "ratio": ratio}


def first_call(path: Path, cache: str) -> tuple[float, float]:
    """Seconds for a fresh process's first ensemble: with the empty cache folder
    ``cache``, then with what the first left there."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    times = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", FIRST_CALL, str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each ensemble")
    parser.add_argument("--nov-n", type=int, default=1_000_000, help="November episodes")
    parser.add_argument("--dec-n", type=int, default=100_000, help="December episodes")
    parser.add_argument(
        "--single-s", type=float, default=10.0, help="seconds of single runs per scenario"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-compile", action="store_true", help="skip the first-call (compilation) cost"
    )
    args = parser.parse_args()

    print(
        f"machine   {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
    )
    with tempfile.TemporaryDirectory() as cache:
        if not args.no_compile:
            cold, warm = first_call(DEC2023, cache)
            print(
                f"first call  {cold:6.1f} s with an empty cache (compiling), {warm:5.1f} s "
                f"in the next process (cache loaded); each includes 100 December episodes"
            )
            os.environ["NUMBA_CACHE_DIR"] = cache  # the rest runs on that compilation
        nov = bench(NOV2023, args.nov_n, args.runs, args.seed, args.single_s)
        dec = bench(DEC2023, args.dec_n, args.runs, args.seed, args.single_s)
    nov_s = 1_000_000 / nov["median"]
    print("targets")
    print(
        f"  December  {dec['median']:>10,.0f} episodes/s (>= 30,000: "
        f"{'met' if dec['median'] >= 30_000 else 'NOT met'}), {dec['ratio']:,.0f}x the "
        f"single run (>= 1,000: {'met' if dec['ratio'] >= 1_000 else 'NOT met'})"
    )
    print(
        f"  November  1,000,000 episodes in {nov_s:.2f} s "
        f"(<= 1 s: {'met' if nov_s <= 1.0 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
