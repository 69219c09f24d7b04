"""Episodes per second: the ensemble engine against the reference engine, in one run.

    .venv/bin/python bench/bench_ensemble.py [--n N] [--reference N] [--scenario FILE]

Both engines run the same draws of the scenario's priors (episode i = draw i of the
seed): the ensemble engine ``run_ensemble(scenario, N, seed)``, the reference engine
``run_draw(scenario, seed, i)`` in a loop over its first episodes. The script also
checks that the two agree on those episodes before it prints the rates.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from ceasefire.ensemble import run_draw, run_ensemble
from ceasefire.ensemble._execution import BATCH_SIZE
from ceasefire.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
NOV2023 = ROOT / "scenarios" / "gaza-2023-11-truce.yaml"
FIELDS = ("pause_days", "extensions", "released", "side_channel_released", "end_reason", "end_date")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="ensemble episodes")
    parser.add_argument(
        "--reference", type=int, default=2_000, help="episodes for the reference engine"
    )
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenario", type=Path, default=NOV2023)
    args = parser.parse_args()

    scenario = load_scenario(args.scenario)
    run_ensemble(scenario, min(args.n, 1_000), seed=args.seed)  # warm-up

    start = time.perf_counter()
    result = run_ensemble(scenario, args.n, seed=args.seed, batch_size=args.batch_size)
    ensemble_s = time.perf_counter() - start

    start = time.perf_counter()
    spread = run_ensemble(
        scenario, args.n, seed=args.seed, batch_size=args.batch_size, backend="processes"
    )
    processes_s = time.perf_counter() - start
    if not np.array_equal(spread.released, result.released):
        raise SystemExit("the processes backend disagrees with the local one")

    count = min(args.reference, args.n)
    start = time.perf_counter()
    summaries = [run_draw(scenario, args.seed, i).summary for i in range(count)]
    reference_s = time.perf_counter() - start

    for i, summary in enumerate(summaries):
        got = result.episode(i)
        for name in FIELDS:
            if getattr(summary, name) != got[name]:
                raise SystemExit(f"episode {i} differs in {name}: the engines disagree")

    ensemble_rate = args.n / ensemble_s
    reference_rate = count / reference_s
    reasons, counts = np.unique(result.end_reasons, return_counts=True)
    print(f"scenario   {scenario.name} ({len(scenario.priors)} priors), seed {args.seed}")
    print(
        f"machine    {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
    )
    print(
        f"ensemble   {args.n:>10,} episodes in {ensemble_s:7.2f} s: "
        f"{ensemble_rate:>12,.0f} episodes/s (batch size {args.batch_size:,})"
    )
    print(
        f"reference  {count:>10,} episodes in {reference_s:7.2f} s: "
        f"{reference_rate:>12,.0f} episodes/s (run_draw in a loop)"
    )
    processes_rate = args.n / processes_s
    print(
        f"processes  {args.n:>10,} episodes in {processes_s:7.2f} s: "
        f"{processes_rate:>12,.0f} episodes/s (--backend processes, {os.cpu_count()} CPUs)"
    )
    print(
        f"ratio      {ensemble_rate / reference_rate:,.0f}x one process, "
        f"{processes_rate / reference_rate:,.0f}x all CPUs, per episode "
        f"(the first {count:,} episodes agree); target 1,000x: "
        f"{'met' if processes_rate / reference_rate >= 1000 else 'NOT met'}"
    )
    best = min(ensemble_s, processes_s) * 1_000_000 / args.n
    print(
        f"1,000,000 episodes would take {best:.2f} s (target 10 s: "
        f"{'met' if best <= 10 else 'NOT met'})"
    )
    print(
        "end reasons "
        + ", ".join(f"{r} {c / args.n:.1%}" for r, c in zip(reasons, counts, strict=True))
    )
    print(
        f"pause days mean {result.pause_days.mean():.2f}, "
        f"released by the holder mean {result.released[:, 0].mean():.1f}"
    )


if __name__ == "__main__":
    main()
