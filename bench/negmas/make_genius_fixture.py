#!/usr/bin/env python3
"""Generate tests/data/negmas_genius_ties.json: NegMAS's results on Genius domains whose
sides value many outcomes exactly equally, for tests/test_negmas_genius.py.

Development only. NegMAS is AGPL-licensed and is never a dependency of ceasefire: run this
script from a throwaway virtual environment (see bench/negmas/README.md)::

    /tmp/negmas-venv/bin/python bench/negmas/make_genius_fixture.py

The domains are tests/data/domains/amsterdam_b, camera_b and integer_domain (Genius XML
from NegMAS's repository). Each is imported with the project's own ``ceasefire
import-domain --ignore-discount`` (run as a subprocess, from ``--ceasefire``, default
``.venv/bin/ceasefire``), and NegMAS is given exactly the imported numbers: one
``TableFun`` per issue with the imported table, the imported weights, in the imported
issue order, as a ``LinearAdditiveUtilityFunction``. (NegMAS's own Genius reader keeps
the raw evaluations, not Genius's normalised values, so its utilities differ from the
imported ones; the tie order is compared on the same numbers.) Each case draws the
domain's deadline (``n_steps``) and both reservation values from
``random.Random(seed)``; both sides are ``BoulwareTBNegotiator``, the first profile first.

This file uses NegMAS only through its public API; it contains no NegMAS code.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import random
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = ("amsterdam_b", "camera_b", "integer_domain")
N_STEPS = (10, 20, 50, 100, 200)
RESERVED_RANGE = (0.0, 0.6)
DEFAULT_SEED = 20261205
DEFAULT_CASES_PER_DOMAIN = 16
DEFAULT_OUT = ROOT / "tests" / "data" / "negmas_genius_ties.json"


def imported(ceasefire: Path, domain: str) -> dict[str, Any]:
    """The scenario ``ceasefire import-domain --ignore-discount`` makes of the domain."""
    import yaml

    folder = ROOT / "tests" / "data" / "domains" / domain
    text = subprocess.run(
        [str(ceasefire), "import-domain", "--ignore-discount", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def issue_values(issue: dict[str, Any]) -> list[Any]:
    if "values" in issue:
        return list(issue["values"])
    return list(range(issue["min"], issue["max"] + 1))


def run_negmas(scenario: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    from negmas import make_issue, make_os
    from negmas.preferences import LinearAdditiveUtilityFunction
    from negmas.preferences.value_fun import TableFun
    from negmas.sao import BoulwareTBNegotiator, SAOMechanism

    n = scenario["negotiation"]
    issues = n["issues"]
    os_ = make_os([make_issue(issue_values(i), name=i["id"]) for i in issues], name=case["domain"])
    parties = list(n["parties"])
    assert parties[0] == n["first_mover"]
    ufuns = []
    for party, reserved in zip(parties, (case["reserved_a"], case["reserved_b"]), strict=True):
        terms = n["parties"][party]["issues"]
        assert list(terms) == [i["id"] for i in issues]
        funs = []
        for issue in issues:
            table = terms[issue["id"]]["table"]
            keys = issue_values(issue)
            funs.append(TableFun({k: float(table[str(k)]) for k in keys}))
        ufuns.append(
            LinearAdditiveUtilityFunction(
                funs,
                weights=[float(terms[i["id"]]["weight"]) for i in issues],
                outcome_space=os_,
                reserved_value=reserved,
                name=party,
            )
        )
    m = SAOMechanism(outcome_space=os_, n_steps=case["n_steps"])
    m.add(BoulwareTBNegotiator(name="A"), ufun=ufuns[0])
    m.add(BoulwareTBNegotiator(name="B"), ufun=ufuns[1])
    state = m.run()
    outcomes = list(os_.enumerate())
    distinct = [len({float(u(o)) for o in outcomes}) for u in ufuns]
    result: dict[str, Any] = {
        "agreement": None,
        "round": None,
        "state_step": int(state.step),
        "timedout": bool(state.timedout),
        "utility_a": None,
        "utility_b": None,
        "n_outcomes": len(outcomes),
        "distinct_values": distinct,
        "exact_ties": any(d < len(outcomes) for d in distinct),
    }
    if state.agreement is not None:
        result.update(
            agreement=list(state.agreement),
            round=int(state.step) - 1,
            utility_a=float(ufuns[0](state.agreement)),
            utility_b=float(ufuns[1](state.agreement)),
        )
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=DEFAULT_CASES_PER_DOMAIN, help="per domain")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--ceasefire", type=Path, default=ROOT / ".venv" / "bin" / "ceasefire")
    args = ap.parse_args()

    import negmas
    import numpy

    r = random.Random(args.seed)
    cases = []
    for domain in DOMAINS:
        scenario = imported(args.ceasefire, domain)
        for index in range(args.cases):
            n_steps = r.choice(N_STEPS)
            case: dict[str, Any] = {
                "id": f"{domain}_{index:02d}_n{n_steps}",
                "domain": domain,
                "n_steps": n_steps,
                "reserved_a": r.uniform(*RESERVED_RANGE),
                "reserved_b": r.uniform(*RESERVED_RANGE),
                "negotiators": {"a": "BoulwareTBNegotiator", "b": "BoulwareTBNegotiator"},
                "tie_break": "negmas",
            }
            case["negmas"] = run_negmas(scenario, case)
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
    header: dict[str, Any] = {
        "description": "NegMAS SAOMechanism + BoulwareTBNegotiator (both sides, the first "
        "profile first) on Genius domains imported by ceasefire import-domain "
        "--ignore-discount, NegMAS given the imported tables and weights; "
        "round = state.step - 1",
        "negmas_version": negmas.__version__,
        "numpy_version": numpy.__version__,
        "python_version": platform.python_version(),
        "machine": platform.machine(),
        "date": datetime.date.today().isoformat(),
        "command": shlex.join([sys.executable, *sys.argv]),
        "seed": args.seed,
        "cases": len(cases),
        "agreed": sum(c["negmas"]["agreement"] is not None for c in cases),
        "exact_ties": sum(c["negmas"]["exact_ties"] for c in cases),
    }
    args.out.write_text(json.dumps({"header": header, "cases": cases}, indent=1) + "\n")
    print(f"wrote {args.out}: {header['cases']} cases, {header['agreed']} agreed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
