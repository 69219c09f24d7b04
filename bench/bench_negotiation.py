"""Negotiation steps per second: the ensemble engine against NegMAS and the NumPy bound.

    .venv/bin/python bench/bench_negotiation.py [--n N] [--repeats R] [--negmas-n M]
        [--negmas-python PATH] [--peers DIR]

One negotiation step is one SAO round of one running negotiation (NegMAS's
``state.step``; ``summary.talk_rounds`` here). All three run the domain of
``shared/peers/negmas_bench.py`` (``tests/data/negmas_domain.yaml``: three issues, 770
outcomes, two Boulware sides, 100 rounds, no mediator):

- **ours**: ``run_ensemble`` on that scenario with both reserved values drawn from
  U(0.15, 0.55) (priors on ``reservation``), N episodes in one batch, timed whole
  (drawing the priors, building the tables, the calendar, the results);
- **the NumPy lock-step bound**: ``run_lockstep`` of ``shared/peers/numpy_bound.py``
  (imported from ``../shared/peers`` next to the repository, or ``--peers``) on the same
  reserved values, timed as that script times it;
- **NegMAS**: ``shared/peers/negmas_bench.py --n M`` run by a Python that has NegMAS
  0.16.0 (``.bench-venv/bin/python``, which ``make bench`` creates; NegMAS is AGPL and
  a development tool only), its last line ``negotiation-steps/s: N`` read back. NegMAS
  runs the file's fixed reserved values (0.35 / 0.30), one negotiation at a time.

Ours and the bound run alternately, R runs each, so that both see the same load; the
script prints min, median and max of each and the ratio of the medians. It also checks
that our agreements and rounds equal the bound's on the first 1,000 reserved values, and
that both count the same steps. Targets: at least 1000x NegMAS and at least 2x the bound
(a compiled per-episode loop stops when each negotiation ends; lock-step cannot).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ceasefire.ensemble import run_ensemble
from ceasefire.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "tests" / "data" / "negmas_domain.yaml"
PEERS = ROOT.parent / "shared" / "peers"
BENCH_PYTHON = ROOT / ".bench-venv" / "bin" / "python"
RESERVED = (0.15, 0.55)  # numpy_bound.RESERVED_RANGE
STEPS = 100  # the scenario's deadline_days (n_steps)
NEGMAS_TARGET = 1000.0
BOUND_TARGET = 2.0


def scenario() -> Scenario:
    """The bench domain with both reserved values drawn from U(0.15, 0.55)."""
    data = load_scenario(DOMAIN).model_dump()
    data["priors"] = [
        {
            "target": "reservation",
            "party": party,
            "distribution": {"kind": "uniform", "low": RESERVED[0], "high": RESERVED[1]},
            "assumption": "the reserved values of shared/peers/numpy_bound.py",
        }
        for party in ("side_a", "side_b")
    ]
    return Scenario.model_validate(data)


def spread(steps: int, seconds: list[float]) -> str:
    """min / median / max steps per second of the timed runs."""
    rates = sorted(steps / s for s in seconds)
    return f"min {rates[0]:,.0f} / median {statistics.median(rates):,.0f} / max {rates[-1]:,.0f}"


def load_bound(peers: Path) -> ModuleType | None:
    path = peers / "numpy_bound.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("numpy_bound", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_negmas(python: Path, peers: Path, n: int) -> tuple[float | None, str]:
    """NegMAS's steps/s from ``negmas_bench.py``, or None and why not."""
    script = peers / "negmas_bench.py"
    if not script.exists():
        return None, f"{script} not found"
    if not python.exists():
        return None, f"{python} not found (`make bench` creates .bench-venv with NegMAS)"
    try:
        done = subprocess.run(
            [str(python), str(script), "--n", str(n)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, "negmas_bench.py ran past 15 minutes"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not lines[-1].startswith("negotiation-steps/s:"):
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, f"negmas_bench.py failed (exit {done.returncode}): {tail[0]}"
    detail = next((line.strip() for line in lines if line.startswith("(b)")), "")
    return float(lines[-1].split(":", 1)[1]), detail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="negotiations (episodes)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--negmas-n", type=int, default=200, help="negotiations for NegMAS")
    parser.add_argument("--negmas-python", type=Path, default=BENCH_PYTHON)
    parser.add_argument("--peers", type=Path, default=PEERS, help="shared/peers folder")
    parser.add_argument("--no-negmas", action="store_true", help="skip the NegMAS run")
    args = parser.parse_args()

    s = scenario()
    print(
        f"machine    {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
    )
    print(
        f"domain     {DOMAIN.relative_to(ROOT)}: 770 outcomes, {STEPS} rounds, "
        f"reserved values U{RESERVED}, {args.n:,} negotiations, {args.repeats} runs each"
    )

    bound = load_bound(args.peers)
    if bound is None:
        print(f"bound      skipped: {args.peers / 'numpy_bound.py'} not found")
    run_ensemble(s, min(args.n, 1_000), seed=args.seed)  # warm-up

    ours_times: list[float] = []
    bound_times: list[float] = []
    result: Any = None
    bound_steps = 0
    sides: tuple[Any, Any] | None = None
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = run_ensemble(s, args.n, seed=args.seed, batch_size=max(args.n, 1))
        ours_times.append(time.perf_counter() - start)
        if bound is None:
            continue
        if sides is None:
            grid = bound.outcome_grid(14)
            fa, fb = bound.value_functions(14)
            ua = bound.utilities(grid, fa, bound.WEIGHTS_A)
            ub = bound.utilities(grid, fb, bound.WEIGHTS_B)
            sides = (bound.Side(ua, ub, 4.0), bound.Side(ub, ua, 4.0))
            rv = (result.priors[:, 0].copy(), result.priors[:, 1].copy())
            bound.run_lockstep(*sides, rv[0][:1000], rv[1][:1000], STEPS)  # warm-up
        start = time.perf_counter()
        agreement, round_of, bound_steps = bound.run_lockstep(*sides, *rv, STEPS)
        bound_times.append(time.perf_counter() - start)

    steps = int(result.talk_rounds.sum())
    ours = steps / statistics.median(ours_times)
    print(
        f"ours       {ours:>14,.0f} steps/s median ({spread(steps, ours_times)}; "
        f"{steps:,} steps, {result.agreed.mean():.1%} agree)"
    )
    ok = True
    if bound is not None:
        rate = bound_steps / statistics.median(bound_times)
        print(
            f"bound      {rate:>14,.0f} steps/s median ({spread(bound_steps, bound_times)}; "
            f"{bound_steps:,} steps)"
        )
        first = min(1_000, args.n)
        ours_deal = np.where(result.agreed[:first], result.agreement_outcome[:first, 0], -1)
        ours_round = np.where(result.agreed[:first], result.agreement_round[:first, 0], -1)
        same = (ours_deal == agreement[:first]) & (ours_round == round_of[:first])
        print(
            f"check      agreements and rounds equal the bound's on {int(same.sum())}/{first} "
            f"reserved values; steps counted {'equal' if steps == bound_steps else 'DIFFER'}"
        )
        ok = ok and bool(same.all()) and steps == bound_steps
        met = ours / rate >= BOUND_TARGET
        print(
            f"ratio      ours/bound {ours / rate:.2f} (medians) "
            f"(target >= {BOUND_TARGET}: {'met' if met else 'NOT met'})"
        )
    if args.no_negmas:
        print("negmas     skipped (--no-negmas)")
    else:
        negmas, detail = run_negmas(args.negmas_python, args.peers, args.negmas_n)
        if negmas is None:
            print(f"negmas     skipped: {detail}")
        else:
            print(f"negmas     {negmas:>14,.0f} steps/s ({detail.removeprefix('(b) ')})")
            met = ours / negmas >= NEGMAS_TARGET
            print(
                f"ratio      ours/NegMAS {ours / negmas:,.0f} "
                f"(target >= {NEGMAS_TARGET:,.0f}: {'met' if met else 'NOT met'})"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
