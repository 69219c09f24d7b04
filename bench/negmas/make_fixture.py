#!/usr/bin/env python3
"""Generate tests/data/negmas_reference.json: NegMAS's results on random variants of the
bench domain, for tests/test_negmas_agreement.py to check the engine against.

Development only. NegMAS is AGPL-licensed and is never a dependency of ceasefire: run this
script from a throwaway virtual environment (see bench/negmas/README.md)::

    python3 -m venv /tmp/negmas-venv
    /tmp/negmas-venv/bin/pip install negmas==0.16.0 numpy
    /tmp/negmas-venv/bin/python bench/negmas/make_fixture.py

The domain is that of shared/peers/negmas_bench.py: three integer issues

    pause_days                 1..pause_max   (pause_max 14 or 30)
    hostages_released_per_day  5..15
    prisoners_per_hostage      1..5

and two linear additive utilities with affine value functions normalised to [0, 1]
(side A wants a short pause, many releases per day and a low ratio; side B the opposite).
Each case draws pause_max, n_steps, both sides' weights (random, normalised) and reserved
values from ``random.Random(seed)``; both sides are ``BoulwareTBNegotiator``; A is added
first (so offers first) to an ``SAOMechanism`` with the case's ``n_steps``. The fixture
records the inputs exactly as they were given to NegMAS and NegMAS's result: the agreement
(or null), the 0-based round k = state.step - 1 in which it was reached (or null), both
utilities of the agreement, and who made the accepted offer.

With ``--tie-prone`` the weights are multiples of 0.05 (three positive integers summing
to 20, divided by 20), so that each side values many outcomes exactly equally and NegMAS's
choice among them matters; the cases are marked ``tie_break: negmas`` and written by
default to tests/data/negmas_ties.json (tests/test_negmas_agreement.py runs them with
``negotiation.tie_break: negmas``)::

    /tmp/negmas-venv/bin/python bench/negmas/make_fixture.py --tie-prone

NegMAS's tie order is that of numpy's default ``argsort`` (its presorting inverter), so
the tie-prone fixture also records numpy's version; the test runs the engine with the
numpy of the project's environment.

This file uses NegMAS only through its public API; it contains no NegMAS code.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import random
import shlex
import sys
from pathlib import Path
from typing import Any

PAUSE_MIN = 1
RELEASES_MIN, RELEASES_MAX = 5, 15
RATIO_MIN, RATIO_MAX = 1, 5
ISSUE_NAMES = ("pause_days", "hostages_released_per_day", "prisoners_per_hostage")

PAUSE_MAXES = (14, 30)
N_STEPS = (10, 20, 50, 100, 200)
RESERVED_RANGE = (0.0, 0.6)
DEFAULT_SEED = 20261124
DEFAULT_CASES = 72

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "tests" / "data" / "negmas_reference.json"
TIES_SEED = 20261204
TIES_CASES = 48
TIES_OUT = ROOT / "tests" / "data" / "negmas_ties.json"

Affine = tuple[float, float]  # (slope, bias): v(x) = slope * x + bias


def value_functions(pause_max: int) -> tuple[list[Affine], list[Affine]]:
    """Per-issue (slope, bias) for A and for B, each value in [0, 1] over the issue's range."""
    dp = pause_max - PAUSE_MIN
    dh = RELEASES_MAX - RELEASES_MIN
    dr = RATIO_MAX - RATIO_MIN
    a = [(-1.0 / dp, pause_max / dp), (1.0 / dh, -RELEASES_MIN / dh), (-1.0 / dr, RATIO_MAX / dr)]
    b = [(1.0 / dp, -PAUSE_MIN / dp), (-1.0 / dh, RELEASES_MAX / dh), (1.0 / dr, -RATIO_MIN / dr)]
    return a, b


def random_weights(r: random.Random) -> list[float]:
    """Three positive weights summing to one (not multiples of a round step: no exact ties)."""
    raw = [r.random() + 0.05 for _ in range(3)]
    total = sum(raw)
    return [w / total for w in raw]


def tie_prone_weights(r: random.Random) -> list[float]:
    """Three positive multiples of 0.05 summing to one (many exact ties)."""
    while True:
        a, b = r.randint(1, 18), r.randint(1, 18)
        if a + b < 20:
            return [a / 20, b / 20, (20 - a - b) / 20]


def draw_case(r: random.Random, index: int, tie_prone: bool = False) -> dict[str, Any]:
    pause_max = r.choice(PAUSE_MAXES)
    n_steps = r.choice(N_STEPS)
    weigh = tie_prone_weights if tie_prone else random_weights
    weights_a = weigh(r)
    weights_b = weigh(r)
    reserved_a = r.uniform(*RESERVED_RANGE)
    reserved_b = r.uniform(*RESERVED_RANGE)
    fa, fb = value_functions(pause_max)
    return {
        "id": f"{'ties' if tie_prone else 'case'}{index:03d}_p{pause_max}_n{n_steps}",
        "pause_max": pause_max,
        "n_steps": n_steps,
        "issues": [
            {"id": ISSUE_NAMES[0], "min": PAUSE_MIN, "max": pause_max},
            {"id": ISSUE_NAMES[1], "min": RELEASES_MIN, "max": RELEASES_MAX},
            {"id": ISSUE_NAMES[2], "min": RATIO_MIN, "max": RATIO_MAX},
        ],
        "weights_a": weights_a,
        "weights_b": weights_b,
        "reserved_a": reserved_a,
        "reserved_b": reserved_b,
        "value_functions_a": [{"slope": s, "bias": b} for s, b in fa],
        "value_functions_b": [{"slope": s, "bias": b} for s, b in fb],
        "negotiators": {"a": "BoulwareTBNegotiator", "b": "BoulwareTBNegotiator"},
        "first_mover": "a",
        "tie_break": "negmas" if tie_prone else "other_side",
    }


def run_negmas(case: dict[str, Any]) -> dict[str, Any]:
    from negmas import make_issue, make_os
    from negmas.preferences import LinearAdditiveUtilityFunction
    from negmas.preferences.value_fun import AffineFun
    from negmas.sao import BoulwareTBNegotiator, SAOMechanism

    issues = [make_issue((i["min"], i["max"]), name=i["id"]) for i in case["issues"]]
    os_ = make_os(issues, name="ceasefire_exchange")
    ufuns = {}
    for side in ("a", "b"):
        ufuns[side] = LinearAdditiveUtilityFunction(
            [AffineFun(f["slope"], f["bias"]) for f in case[f"value_functions_{side}"]],
            weights=list(case[f"weights_{side}"]),
            outcome_space=os_,
            reserved_value=case[f"reserved_{side}"],
            name=side.upper(),
        )
    m = SAOMechanism(outcome_space=os_, n_steps=case["n_steps"])
    m.add(BoulwareTBNegotiator(name="A"), ufun=ufuns["a"])
    m.add(BoulwareTBNegotiator(name="B"), ufun=ufuns["b"])
    state = m.run()

    outcomes = list(os_.enumerate())
    distinct = {side: len({float(ufuns[side](o)) for o in outcomes}) for side in ("a", "b")}
    result: dict[str, Any] = {
        "agreement": None,
        "round": None,
        "state_step": int(state.step),
        "timedout": bool(state.timedout),
        "broken": bool(state.broken),
        "utility_a": None,
        "utility_b": None,
        "proposer": None,
        "n_offers": len(m.extended_trace),
        "n_outcomes": len(outcomes),
        "exact_ties": any(n < len(outcomes) for n in distinct.values()),
    }
    if state.agreement is not None:
        agreement = [int(x) for x in state.agreement]
        _, last_id, _ = m.extended_trace[-1]
        result.update(
            agreement=agreement,
            round=int(state.step) - 1,
            utility_a=float(ufuns["a"](state.agreement)),
            utility_b=float(ufuns["b"](state.agreement)),
            proposer="a" if last_id == m.negotiators[0].id else "b",
        )
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=None)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--tie-prone",
        action="store_true",
        help="weights that are multiples of 0.05 (exact ties); cases use tie_break: negmas",
    )
    args = ap.parse_args()
    if args.cases is None:
        args.cases = TIES_CASES if args.tie_prone else DEFAULT_CASES
    if args.seed is None:
        args.seed = TIES_SEED if args.tie_prone else DEFAULT_SEED
    if args.out is None:
        args.out = TIES_OUT if args.tie_prone else DEFAULT_OUT

    import negmas
    import numpy

    r = random.Random(args.seed)
    cases = []
    for index in range(args.cases):
        case = draw_case(r, index, args.tie_prone)
        case["negmas"] = run_negmas(case)
        cases.append(case)
        res = case["negmas"]
        print(
            f"{case['id']}: rv A={case['reserved_a']:.3f} B={case['reserved_b']:.3f} -> "
            + (
                f"{tuple(res['agreement'])} at k={res['round']}"
                if res["agreement"] is not None
                else f"no agreement after {res['state_step']} steps"
            )
        )

    command = shlex.join([sys.executable, *sys.argv])
    header: dict[str, Any] = {
        "description": "NegMAS SAOMechanism + BoulwareTBNegotiator (both sides) on random "
        + ("tie-prone " if args.tie_prone else "")
        + "variants of the shared/peers/negmas_bench.py domain; round = state.step - 1",
        "negmas_version": negmas.__version__,
        "numpy_version": numpy.__version__,
        "python_version": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "command": command,
        "seed": args.seed,
        "cases": len(cases),
        "agreed": sum(c["negmas"]["agreement"] is not None for c in cases),
        "exact_ties": sum(c["negmas"]["exact_ties"] for c in cases),
    }
    fixture = {"header": header, "cases": cases}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(fixture, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {header['cases']} cases, {header['agreed']} agreed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
