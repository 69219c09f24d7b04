"""Which clause or uncertain number matters most: Sobol' indices of a scenario.

The inputs are the scenario's priors (each one dimension: a uniform ``u`` mapped through
the prior's quantile function, as an ensemble draws it), clauses of the agreement in
force varied over whole-number ranges (by default ±50% of the file's value, rounded
outwards; a range is given as ``NAME=LOW:HIGH``), and by default a dummy input: the
in-episode random stream (see Noise below).

The design is Saltelli's: two quasi-random (scrambled Sobol') matrices A and B of
``n`` rows and the d matrices AB_j (A with column j from B), ``n (d + 2)`` model runs in
all. The indices are ``scipy.stats.sobol_indices`` (the Saltelli 2010 first-order and
Jansen total-order estimators): first order, the share of an output's variance an input
explains alone; total, its share with all its interactions. Intervals are 95% percentile
bootstrap intervals over the design's rows (``scipy.stats.bootstrap``, seeded).
SciPy's implementation is used rather than SALib's: SciPy is already a dependency, well
kept, and gives the same estimators.

Noise. Each design row runs with an in-episode random stream of the seed (delays,
refusals, cures, talks). Without the dummy, row ``i`` of A, B and every AB_j runs on
stream ``i``. With the dummy, the stream is the dummy's value: row ``i`` of A runs on
stream ``i``, of B on stream ``n + i``, and of AB_j on the stream of the matrix its dummy
column came from (A's, but B's in the dummy's own AB). The dummy thus enters the model's
draws exactly as chance within an episode does, and its indices are the share of the
output's variance that chance accounts for: 0 where, for that output, every draw inside
an episode is without effect (then no index has noise from the draws). Each index also
carries the bootstrap's standard error (``first_se``, ``total_se``), its own noise
estimate, and each output its ``noise_floor``: the upper end of the dummy's total-index
interval, below which an input cannot be told apart from chance.

Outputs: pause days and the total released under the deal by each party. The design
runs on the ensemble's compiled kernel, one batch per distinct setting of the clauses
(rows that differ only in priors run together), for scenarios with talks and without.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._version import __version__
from ..engine import run as run_episode
from ..scenario import Scenario, content_hash
from ._draws import quantile, with_values
from ._episodes import Batches
from ._streams import EPISODE_STREAM, episode_generator
from ._summaries import prior_name

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

DEFAULT_N = 256
DEFAULT_SPREAD = 0.5
N_RESAMPLES = 999

METHOD = (
    "Sobol' indices from scipy.stats.sobol_indices (Saltelli 2010 first-order and Jansen "
    "total-order estimators) on a scrambled Sobol' design of n (d + 2) model runs; 95% "
    "percentile bootstrap intervals over the design's rows. First order: the share of the "
    "output's variance an input explains alone; total: with its interactions. Priors vary "
    "over their distributions, clauses uniformly over whole numbers in their ranges. The dummy "
    "input is the in-episode random stream (delays, refusals, cures, talks): its indices are "
    "the share of the variance due to chance within episodes, and the upper end of its "
    "total-index interval is the noise floor. Each index's bootstrap standard error is its "
    "noise estimate."
)

DUMMY_RANGE = "the in-episode random stream (chance within an episode)"


class SensitivityError(ValueError):
    """The analysis cannot run as asked (an unknown clause, a bad range, a bad n)."""


# ---------------------------------------------------------------------------
# Clauses


@dataclass(frozen=True)
class Clause:
    """A whole-number clause of the agreement, varied uniformly over ``low..high``."""

    name: str
    low: int
    high: int

    def values(self, u: F64) -> I64:
        span = self.high - self.low + 1
        k = np.minimum(np.floor(u * span).astype(np.int64), span - 1)
        return self.low + k


def clause_values(scenario: Scenario) -> dict[str, tuple[int, int]]:
    """The clauses that can be varied: name -> (the file's value, the smallest allowed)."""
    a = scenario.agreement
    if a is None:
        return {}
    out: dict[str, tuple[int, int]] = {}
    if a.batches.daily is None:
        out["initial_days"] = (a.initial_days, 1)
    if a.batches.total is not None:
        out["batches.total"] = (a.batches.total, 0)
    for category, ratio in a.exchange.ratios.items():
        out[f"exchange.ratios.{category}"] = (ratio, 0)
    rule = a.extension
    if rule is not None:
        out["extension.per_step"] = (rule.per_step, 1)
        out["extension.step_days"] = (rule.step_days, 1)
        if rule.per_extension_limit_days is not None:
            out["extension.per_extension_limit_days"] = (rule.per_extension_limit_days, 1)
        if rule.max_total_days is not None:
            out["extension.max_total_days"] = (rule.max_total_days, 1)
    out["cure_attempts"] = (a.cure_attempts, 0)
    return out


def default_clauses(scenario: Scenario) -> list[str]:
    """The clauses varied when none are named: the initial days, the exchange ratios, and
    the extension rule's step, per-extension limit and cap."""
    return [
        name
        for name in clause_values(scenario)
        if name == "initial_days"
        or name.startswith("exchange.ratios.")
        or name
        in ("extension.per_step", "extension.per_extension_limit_days", "extension.max_total_days")
    ]


def default_range(value: int, minimum: int, spread: float = DEFAULT_SPREAD) -> tuple[int, int]:
    """±``spread`` of ``value``, rounded outwards to whole numbers, at least ``minimum``."""
    low = max(minimum, math.floor(value * (1 - spread)))
    high = max(math.ceil(value * (1 + spread)), low + 1)
    return low, high


def make_clauses(
    scenario: Scenario, requested: Mapping[str, tuple[int, int] | None] | None
) -> list[Clause]:
    """The clauses to vary: ``requested`` (name -> range, or None for the default range);
    None: :func:`default_clauses`. Names may start with ``agreement.``."""
    known = clause_values(scenario)
    if requested is None:
        requested = dict.fromkeys(default_clauses(scenario))
    out: list[Clause] = []
    for raw, given in requested.items():
        name = raw.removeprefix("agreement.")
        if name not in known:
            listed = ", ".join(known) or "none (the scenario has no agreement in force)"
            raise SensitivityError(f"unknown clause {raw!r}; clauses of this scenario: {listed}")
        value, minimum = known[name]
        low, high = given if given is not None else default_range(value, minimum)
        if low < minimum or high < low:
            raise SensitivityError(
                f"clause {name}: range {low}:{high} must satisfy {minimum} <= LOW <= HIGH"
            )
        out.append(Clause(name, low, high))
    return out


def with_clauses(scenario: Scenario, settings: Mapping[str, int]) -> Scenario:
    """The scenario with each named clause set (names as in :func:`clause_values`)."""
    if not settings:
        return scenario
    a = scenario.agreement
    assert a is not None
    top: dict[str, Any] = {}
    batches: dict[str, Any] = {}
    ratios = dict(a.exchange.ratios)
    extension: dict[str, Any] = {}
    for name, value in settings.items():
        if name.startswith("exchange.ratios."):
            ratios[name.removeprefix("exchange.ratios.")] = int(value)
        elif name.startswith("extension."):
            extension[name.removeprefix("extension.")] = int(value)
        elif name.startswith("batches."):
            batches[name.removeprefix("batches.")] = int(value)
        else:
            top[name] = int(value)
    update = dict(top)
    if batches:
        update["batches"] = a.batches.model_copy(update=batches)
    if ratios != a.exchange.ratios:
        update["exchange"] = a.exchange.model_copy(update={"ratios": ratios})
    if extension:
        assert a.extension is not None
        update["extension"] = a.extension.model_copy(update=extension)
    return scenario.model_copy(update={"agreement": a.model_copy(update=update)})


# ---------------------------------------------------------------------------
# Inputs and the model


@dataclass(frozen=True)
class Input:
    name: str
    kind: str  # prior | clause | dummy
    range: str


def _distribution_text(scenario: Scenario, j: int) -> str:
    dist = scenario.priors[j].distribution.model_dump(exclude_none=True)
    kind = dist.pop("kind", "")
    params = ", ".join(f"{k} {v}" for k, v in dist.items())
    return f"{kind} ({params})"


def outputs_of(scenario: Scenario) -> dict[str, str]:
    """The outputs analysed: key -> label."""
    out = {"pause_days": "pause days"}
    for p in scenario.parties:
        out[f"released_{p.id}"] = f"released by {p.name} (deal)"
    return out


def _evaluate(
    scenario: Scenario,
    clauses: list[Clause],
    u_priors: F64,
    u_clauses: F64,
    episodes: NDArray[np.uint64],
    seed: int,
    reference: bool = False,
) -> F64:
    """The outputs (rows: :func:`outputs_of`) at each design point (columns): on the
    compiled ensemble kernel, or with ``reference`` as single runs (the same kernel,
    uncompiled, with its log), a check that both give the same."""
    keys = list(outputs_of(scenario))
    parties = [p.id for p in scenario.parties]
    n = episodes.size
    out = np.zeros((len(keys), n))
    settings = np.zeros((n, len(clauses)), dtype=np.int64)
    for j, clause in enumerate(clauses):
        settings[:, j] = clause.values(u_clauses[:, j])
    groups, inverse = (
        np.unique(settings, axis=0, return_inverse=True)
        if clauses
        else (np.zeros((1, 0), dtype=np.int64), np.zeros(n, dtype=np.int64))
    )
    inverse = inverse.reshape(-1)
    for g, combo in enumerate(groups):
        rows = np.flatnonzero(inverse == g)
        varied = with_clauses(
            scenario, {c.name: int(v) for c, v in zip(clauses, combo, strict=True)}
        )
        if not reference:
            batches = Batches(varied)
            res = batches.run(seed, episodes[rows], uniforms=u_priors[rows])
            out[0, rows] = res["pause_days"]
            for k, party in enumerate(parties):
                cols = [j for j, (p, _c) in enumerate(batches.release_columns) if p == party]
                if cols:
                    out[1 + k, rows] = res["released"][:, cols].sum(axis=1)
            continue
        for row in rows:
            values = [
                quantile(p.distribution, u_priors[row, j : j + 1])[0]
                for j, p in enumerate(varied.priors)
            ]
            drawn = with_values(varied, [float(v) for v in values])
            rng = episode_generator(seed, int(episodes[row]), EPISODE_STREAM)
            summary = run_episode(drawn, seed=seed, rng=rng).summary
            out[0, row] = summary.pause_days
            for k, party in enumerate(parties):
                out[1 + k, row] = sum(summary.released.get(party, {}).values())
    return out


def _interval(low: float, high: float, point: float) -> tuple[float, float]:
    if math.isfinite(low) and math.isfinite(high):
        return float(low), float(high)
    return point, point  # a degenerate bootstrap (e.g. an output that never varies)


def sobol_analysis(
    scenario: Scenario,
    n: int = DEFAULT_N,
    seed: int = 0,
    clauses: Mapping[str, tuple[int, int] | None] | None = None,
    dummy: bool = True,
    n_resamples: int = N_RESAMPLES,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Sobol' indices of the scenario's outputs for its priors and clauses (see the
    module). ``n`` is the base sample size, a power of 2; ``clauses`` maps a clause name to
    its range (None: ±50%); ``clauses=None`` varies :func:`default_clauses`, ``{}`` none."""
    from scipy import stats  # imported here: it takes a while, and only this needs it
    from scipy.stats import qmc

    if n < 2 or n & (n - 1):
        raise SensitivityError(f"n must be a power of 2 (at least 2), not {n}")
    if seed < 0:
        raise SensitivityError("the seed must be >= 0")
    varied = make_clauses(scenario, clauses)
    k = len(scenario.priors)
    inputs = [
        Input(prior_name(p.key()), "prior", _distribution_text(scenario, j))
        for j, p in enumerate(scenario.priors)
    ]
    inputs += [Input(c.name, "clause", f"whole numbers {c.low} to {c.high}") for c in varied]
    if dummy:
        inputs.append(Input("dummy", "dummy", DUMMY_RANGE))
    d = len(inputs)
    if d == 0:
        raise SensitivityError(
            "nothing to vary: the scenario has no priors and no clauses were selected"
        )
    rng = np.random.default_rng(seed)
    sample = qmc.Sobol(d=2 * d, scramble=True, rng=rng, bits=64).random(n).T
    a_mat, b_mat = sample.reshape(2, d, n)
    ab = np.tile(a_mat, (d, 1, 1))
    ab[np.arange(d), np.arange(d)] = b_mat
    # All n (d + 2) runs at once: A, B, then AB_0 .. AB_{d-1}; row i of each runs on
    # stream i, or, with the dummy (the last input), on the stream its dummy value names:
    # n + i where the dummy column is B's (B itself and the dummy's own AB).
    design = np.concatenate([a_mat, b_mat, *ab], axis=1)
    episodes = np.tile(np.arange(n, dtype=np.uint64), d + 2)
    if dummy:
        episodes[n : 2 * n] += np.uint64(n)
        episodes[(d + 1) * n :] += np.uint64(n)
    values = _evaluate(
        scenario, varied, design[:k].T, design[k : k + len(varied)].T, episodes, seed
    )
    if progress is not None:
        progress(design.shape[1])
    f_a, f_b = values[:, :n], values[:, n : 2 * n]
    f_ab = values[:, 2 * n :].reshape(-1, d, n).transpose(1, 0, 2)
    result = stats.sobol_indices(func={"f_A": f_a, "f_B": f_b, "f_AB": f_ab}, n=n)

    def statistic(idx: NDArray[np.intp]) -> F64:
        idx = np.asarray(idx, dtype=np.intp)
        r = stats.sobol_indices(
            func={"f_A": f_a[:, idx], "f_B": f_b[:, idx], "f_AB": f_ab[..., idx]}, n=idx.size
        )
        return np.stack([r.first_order, r.total_order])

    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        boot = stats.bootstrap(
            (np.arange(n),),
            statistic,
            n_resamples=n_resamples,
            vectorized=False,
            method="percentile",
            rng=np.random.default_rng([seed, 1]),
        )
    low, high = boot.confidence_interval.low, boot.confidence_interval.high
    se = np.nan_to_num(boot.standard_error, nan=0.0, posinf=0.0, neginf=0.0)
    outputs: dict[str, Any] = {}
    for s, (key, label) in enumerate(outputs_of(scenario).items()):
        rows: list[dict[str, Any]] = []
        for j, inp in enumerate(inputs):
            first = float(result.first_order[s, j])
            total = float(result.total_order[s, j])
            f_lo, f_hi = _interval(low[0, s, j], high[0, s, j], first)
            t_lo, t_hi = _interval(low[1, s, j], high[1, s, j], total)
            rows.append(
                {
                    "input": inp.name,
                    "kind": inp.kind,
                    "first_order": first,
                    "first_low": f_lo,
                    "first_high": f_hi,
                    "total_order": total,
                    "total_low": t_lo,
                    "total_high": t_hi,
                    "first_se": float(se[0, s, j]),
                    "total_se": float(se[1, s, j]),
                }
            )
        rows.sort(key=lambda r: (-r["total_order"], -r["first_order"], r["input"]))
        both = np.concatenate([f_a[s], f_b[s]])
        outputs[key] = {
            "label": label,
            "mean": float(both.mean()),
            "variance": float(both.var()),
            "noise_floor": next((r["total_high"] for r in rows if r["kind"] == "dummy"), None),
            "indices": rows,
        }
    return {
        "scenario": scenario.name,
        "scenario_hash": content_hash(scenario),
        "seed": seed,
        "n": n,
        "evaluations": int(design.shape[1]),
        "package_version": __version__,
        "engine": "compiled",
        "method": METHOD,
        "inputs": [{"name": i.name, "kind": i.kind, "range": i.range} for i in inputs],
        "outputs": outputs,
    }
