#!/usr/bin/env python3
"""Generate tests/data/negmas_analytics.json: NegMAS's bargaining analytics on the domains
of tests/data/negmas_reference.json, for tests/test_analytics_data.py to check
``negotiation_analytics(..., definitions="negmas")`` against.

Development only. NegMAS is AGPL-licensed and is never a dependency of ceasefire: run this
script from a throwaway virtual environment (see bench/negmas/README.md)::

    python3 -m venv /tmp/negmas-venv
    /tmp/negmas-venv/bin/pip install negmas==0.16.0 numpy
    /tmp/negmas-venv/bin/python bench/negmas/make_analytics_fixture.py

For every case of the reference fixture (its issues, weights, value functions and
reserved values, exactly as given to NegMAS there), and for variants of its first cases
with other reserved values (below every outcome, near the top, above every outcome for
one side), this calls NegMAS's ``calc_scenario_stats`` on the two linear additive
utility functions and stores what it returns: the Pareto frontier, the Nash, Kalai,
Kalai-Smorodinsky and maximum-welfare points (outcomes, as lists in issue order, with
their index in the outcome space's enumeration, and their utilities), the utility
ranges and the opposition level (``"inf"`` for an infinite one, as the tool writes it).

This file uses NegMAS only through its public API; it contains no NegMAS code.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "data" / "negmas_reference.json"
DEFAULT_OUT = ROOT / "tests" / "data" / "negmas_analytics.json"

# Reserved values of the variants (side a, side b), each applied to the first cases.
VARIANTS = ((-0.5, -0.5), (0.9, 0.9), (1.5, 0.2), (0.0, 0.0))
VARIANT_CASES = 3


def _number(x: float) -> float | str:
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def analytics(case: dict[str, Any]) -> dict[str, Any]:
    from negmas import make_issue, make_os
    from negmas.preferences import LinearAdditiveUtilityFunction
    from negmas.preferences.ops import calc_scenario_stats
    from negmas.preferences.value_fun import AffineFun

    issues = [make_issue((i["min"], i["max"]), name=i["id"]) for i in case["issues"]]
    os_ = make_os(issues, name="ceasefire_exchange")
    ufuns = [
        LinearAdditiveUtilityFunction(
            [AffineFun(f["slope"], f["bias"]) for f in case[f"value_functions_{side}"]],
            weights=list(case[f"weights_{side}"]),
            outcome_space=os_,
            reserved_value=case[f"reserved_{side}"],
            name=side.upper(),
        )
        for side in ("a", "b")
    ]
    outcomes = list(os_.enumerate())
    index = {tuple(o): i for i, o in enumerate(outcomes)}
    stats = calc_scenario_stats(ufuns)

    def points(found: list[Any], utils: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "outcome": index[tuple(o)],
                "terms": [int(x) for x in o],
                "utilities": [float(u) for u in us],
            }
            for o, us in zip(found, utils, strict=True)
        ]

    return {
        "ranges": [[float(lo), float(hi)] for lo, hi in stats.utility_ranges],
        "frontier": points(list(stats.pareto_outcomes), list(stats.pareto_utils)),
        "nash": points(list(stats.nash_outcomes), list(stats.nash_utils)),
        "kalai": points(list(stats.kalai_outcomes), list(stats.kalai_utils)),
        "kalai_smorodinsky": points(list(stats.ks_outcomes), list(stats.ks_utils)),
        "max_welfare": points(list(stats.max_welfare_outcomes), list(stats.max_welfare_utils)),
        "opposition": _number(float(stats.opposition)),
        "n_outcomes": len(outcomes),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()

    import negmas
    import numpy

    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    inputs = (
        "id",
        "issues",
        "weights_a",
        "weights_b",
        "reserved_a",
        "reserved_b",
        "value_functions_a",
        "value_functions_b",
    )
    cases = [{k: c[k] for k in inputs} for c in reference["cases"]]
    for ra, rb in VARIANTS:
        for c in reference["cases"][:VARIANT_CASES]:
            cases.append(
                {k: c[k] for k in inputs}
                | {"id": f"{c['id']}_rv{ra:g}_{rb:g}", "reserved_a": ra, "reserved_b": rb}
            )
    for case in cases:
        case["negmas"] = analytics(case)
        res = case["negmas"]
        print(
            f"{case['id']}: frontier {len(res['frontier'])}, "
            f"nash {[p['outcome'] for p in res['nash']]}, opposition {res['opposition']}"
        )
    header = {
        "description": "NegMAS calc_scenario_stats on the domains of negmas_reference.json "
        "(and variants with other reserved values)",
        "negmas_version": negmas.__version__,
        "numpy_version": numpy.__version__,
        "python_version": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "command": shlex.join([sys.executable, *sys.argv]),
        "cases": len(cases),
    }
    # One case a line: the file stays small and a change shows case by case in a diff.
    lines = ",\n".join(json.dumps(c, allow_nan=False) for c in cases)
    text = f'{{"header": {json.dumps(header, indent=1)},\n"cases": [\n{lines}\n]}}\n'
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: {len(cases)} cases", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
