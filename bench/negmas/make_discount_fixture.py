#!/usr/bin/env python3
"""Generate tests/data/negmas_discount.json: NegMAS's results on discounted Genius domains,
for tests/test_negmas_discount.py.

Development only. NegMAS is AGPL-licensed and is never a dependency of ceasefire: run this
script from a throwaway virtual environment (see bench/negmas/README.md)::

    /tmp/negmas-venv/bin/python bench/negmas/make_discount_fixture.py

The domains are tests/data/domains/camera_b, acquisition_b and amsterdam_b (Genius XML
from NegMAS's repository; their profiles carry discount factors 0.5, 0.75 and 0.5). Each
is imported with the project's own ``ceasefire import-domain --ignore-discount`` (a
subprocess of ``--ceasefire``, default ``.venv/bin/ceasefire``) and NegMAS is given
exactly the imported numbers, as in make_genius_fixture.py: one ``TableFun`` per issue, the
imported weights, a ``LinearAdditiveUtilityFunction`` with the case's reserved value.
Each side's function is then wrapped explicitly in ``ExpDiscountedUFun(ufun,
discount=d, factor=..., reserved_value=r)``: ``factor="step"`` (what NegMAS's Genius
reader makes of a profile's ``discount_factor``: u * d**step) or
``factor="relative_time"`` (Genius's u * d**t). The reserved value is given again
because ``ExpDiscountedUFun`` does not take it from the function it wraps (its default
is -inf, which is what NegMAS's Genius reader leaves: there, a discounted profile's
reservation value plays no part).

``yaml_cases``: NegMAS's own run (``Scenario.load``, its own utility functions: the Genius
reader's ``ExpDiscountedUFun`` per step, reserved value -inf) of
tests/data/domains/camera_b_yml, the NegMAS YAML that ``Scenario.dumpas(folder,
type="yml")`` wrote from CameraB, for several ``n_steps``, with every offer made: the
engine's check of ``ceasefire import-domain`` on NegMAS YAML.

Each case draws from ``random.Random(seed)``: the deadline (``n_steps``: 10, 20, 50,
100 or 200), both reserved values (uniform on [0, 0.6]), each side's discount factor
(0.5, 0.8 or 0.95, or 1: no discount, one time in eight) and the factor's variable
(``step`` in three cases of four, else ``relative_time``). Both sides are
``BoulwareTBNegotiator``, the first profile first; the result records every offer
(NegMAS's ``extended_trace``, each outcome as its index in NegMAS's enumeration) and
both the undiscounted and the discounted utilities of the agreement (at the
agreement's step). The file holds one case a line.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_genius_fixture import imported, issue_values

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = ("camera_b", "acquisition_b", "amsterdam_b")
N_STEPS = (10, 20, 50, 100, 200)
RESERVED_RANGE = (0.0, 0.6)
FACTORS = (0.5, 0.8, 0.95)
DEFAULT_SEED = 20261206
DEFAULT_CASES_PER_DOMAIN = 16
DEFAULT_OUT = ROOT / "tests" / "data" / "negmas_discount.json"
PER = {"step": "round", "relative_time": "time"}


def offers(m: Any, os_: Any) -> list[list[int]]:
    """Every offer of the run: [step, 0 (side A, the first profile) or 1, the outcome's
    index in NegMAS's enumeration of the outcomes (the issues' product, first issue
    outermost, which is the engine's order too)]."""
    index = {tuple(o): i for i, o in enumerate(os_.enumerate())}
    ids = [n.id for n in m.negotiators]
    return [[int(k), ids.index(n), index[tuple(o)]] for k, n, o in m.extended_trace]


def run_negmas(scenario: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    import attrs
    from negmas import make_issue, make_os
    from negmas.preferences import LinearAdditiveUtilityFunction
    from negmas.preferences.discounted import ExpDiscountedUFun
    from negmas.preferences.value_fun import TableFun
    from negmas.sao import BoulwareTBNegotiator, SAOMechanism

    n = scenario["negotiation"]
    issues = n["issues"]
    os_ = make_os([make_issue(issue_values(i), name=i["id"]) for i in issues], name=case["domain"])
    parties = list(n["parties"])
    assert parties[0] == n["first_mover"]
    base, ufuns = [], []
    for party, key in zip(parties, ("a", "b"), strict=True):
        terms = n["parties"][party]["issues"]
        assert list(terms) == [i["id"] for i in issues]
        reserved = case[f"reserved_{key}"]
        funs = []
        for issue in issues:
            table = terms[issue["id"]]["table"]
            funs.append(TableFun({k: float(table[str(k)]) for k in issue_values(issue)}))
        u = LinearAdditiveUtilityFunction(
            funs,
            weights=[float(terms[i["id"]]["weight"]) for i in issues],
            outcome_space=os_,
            reserved_value=reserved,
            name=party,
        )
        base.append(u)
        discount = case[f"discount_{key}"]
        if discount is None:
            ufuns.append(u)
        else:
            ufuns.append(
                ExpDiscountedUFun(
                    u,
                    discount=discount["factor"],
                    factor=discount["negmas_factor"],
                    reserved_value=reserved,
                    outcome_space=os_,
                    name=party,
                )
            )
    m = SAOMechanism(outcome_space=os_, n_steps=case["n_steps"])
    m.add(BoulwareTBNegotiator(name="A"), ufun=ufuns[0])
    m.add(BoulwareTBNegotiator(name="B"), ufun=ufuns[1])
    state = m.run()
    result: dict[str, Any] = {
        "agreement": None,
        "round": None,
        "state_step": int(state.step),
        "relative_time": float(state.relative_time),
        "offers": offers(m, os_),
        "timedout": bool(state.timedout),
        "utility_a": None,
        "utility_b": None,
        "discounted_a": None,
        "discounted_b": None,
    }
    if state.agreement is not None:
        step = int(state.step) - 1
        # The discounted utility as of the step the agreement was reached in (its
        # relative time is the one the negotiators saw then).
        at = attrs.evolve(state, step=step, relative_time=(step + 1) / (case["n_steps"] + 1))
        discounted = [
            float(u.eval_on_state(state.agreement, None, at))
            if u is not b
            else float(b(state.agreement))
            for u, b in zip(ufuns, base, strict=True)
        ]
        result.update(
            agreement=list(state.agreement),
            round=step,
            utility_a=float(base[0](state.agreement)),
            utility_b=float(base[1](state.agreement)),
            discounted_a=discounted[0],
            discounted_b=discounted[1],
        )
    return result


def run_negmas_yaml(folder: Path, n_steps: int) -> dict[str, Any]:
    """NegMAS's run of a NegMAS YAML scenario (tests/data/domains/camera_b_yml, which NegMAS
    wrote from CameraB: its Genius reader's ExpDiscountedUFun, per step, reserved value
    -inf), loaded and run by NegMAS alone."""
    import attrs
    from negmas.inout import Scenario
    from negmas.sao import BoulwareTBNegotiator, SAOMechanism

    scenario = Scenario.load(folder)
    assert scenario is not None
    ufuns = scenario.ufuns
    m = SAOMechanism(outcome_space=scenario.outcome_space, n_steps=n_steps)
    m.add(BoulwareTBNegotiator(name="A"), ufun=ufuns[0])
    m.add(BoulwareTBNegotiator(name="B"), ufun=ufuns[1])
    state = m.run()
    result: dict[str, Any] = {
        "agreement": None,
        "round": None,
        "state_step": int(state.step),
        "offers": offers(m, scenario.outcome_space),
    }
    if state.agreement is not None:
        step = int(state.step) - 1
        at = attrs.evolve(state, step=step, relative_time=(step + 1) / (n_steps + 1))
        result.update(
            agreement=list(state.agreement),
            round=step,
            utility_a=float(ufuns[0].ufun(state.agreement)),
            utility_b=float(ufuns[1].ufun(state.agreement)),
            discounted_a=float(ufuns[0].eval_on_state(state.agreement, None, at)),
            discounted_b=float(ufuns[1].eval_on_state(state.agreement, None, at)),
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
            variable = "step" if r.random() < 0.75 else "relative_time"
            for key in ("a", "b"):
                factor = 1.0 if r.random() < 0.125 else r.choice(FACTORS)
                case[f"discount_{key}"] = (
                    None
                    if factor == 1.0
                    else {"factor": factor, "per": PER[variable], "negmas_factor": variable}
                )
            case["negmas"] = run_negmas(scenario, case)
            cases.append(case)
            res = case["negmas"]
            d = [case[f"discount_{k}"] and case[f"discount_{k}"]["factor"] for k in "ab"]
            print(
                f"{case['id']}: d={d} {variable} rv A={case['reserved_a']:.3f} "
                f"B={case['reserved_b']:.3f} -> "
                + (
                    f"{tuple(res['agreement'])} at k={res['round']}"
                    if res["agreement"] is not None
                    else f"no agreement after {res['state_step']} steps"
                )
            )
    yaml_cases = []
    folder = ROOT / "tests" / "data" / "domains" / "camera_b_yml"
    for n_steps in (5, 10, 20, 50, 100, 200):
        res = run_negmas_yaml(folder, n_steps)
        yaml_cases.append({"id": f"camera_b_yml_n{n_steps}", "n_steps": n_steps, "negmas": res})
        print(f"camera_b_yml n={n_steps}: {res['agreement']} after {res['state_step']} steps")
    header: dict[str, Any] = {
        "description": "NegMAS SAOMechanism + BoulwareTBNegotiator (both sides, the first "
        "profile first) on Genius domains imported by ceasefire import-domain "
        "--ignore-discount, NegMAS given the imported tables and weights, each side's "
        "function wrapped in ExpDiscountedUFun(discount, factor, reserved_value); "
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
    }
    # One case a line.
    lines = [
        "{",
        f' "header": {json.dumps(header)},',
        ' "cases": [',
        ",\n".join(f"  {json.dumps(c)}" for c in cases),
        " ],",
        ' "yaml_cases": [',
        ",\n".join(f"  {json.dumps(c)}" for c in yaml_cases),
        " ]",
        "}",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}: {header['cases']} cases, {header['agreed']} agreed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
