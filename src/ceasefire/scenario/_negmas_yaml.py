"""NegMAS YAML domains (``Scenario.dumpas(folder, type="yml")`` of NegMAS 0.16): a domain
file (``type: DiscreteCartesianOutcomeSpace`` with its ``issues``) and two profiles
(``LinearAdditiveUtilityFunction``, or one wrapped in an ``ExpDiscountedUFun``).

Values follow NegMAS: each issue's value function (``TableFun``, ``AffineFun``,
``LinearFun``, ``IdentityFun``, ``ConstFun``) evaluated at each of the issue's values,
not normalised. An ``ExpDiscountedUFun`` with ``factor: step`` becomes ``discount: {per:
round}``, with ``factor: relative_time`` ``per: time``. NegMAS's reserved value of -inf
(what its Genius reader leaves a discounted profile: no reservation) becomes 1 below the
profile's least value, which the talks treat alike. Anything else is refused.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ._domain_text import DomainError, DomainIssue, DomainProfile, one_domain, read_text

DOMAIN_TYPES = ("DiscreteCartesianOutcomeSpace", "CartesianOutcomeSpace")
PROFILE_TYPES = ("LinearAdditiveUtilityFunction", "ExpDiscountedUFun")
FACTORS = {"step": "round", "relative_time": "time"}
VALUE_FUNS = ("TableFun", "AffineFun", "LinearFun", "IdentityFun", "ConstFun")

# The domain file, the domain's name, its issues and the two profiles.
Parsed = tuple[Path, str, list[DomainIssue], list[DomainProfile]]


def is_negmas_yaml(path: Path) -> bool:
    return path.suffix.lower() in (".yml", ".yaml")


def negmas_yaml(files: list[Path]) -> Parsed:
    """The domain and its two profiles from NegMAS YAML files."""
    data = {p: _load(p) for p in files}
    domain, profiles = one_domain(data, "issues", "NegMAS")
    spec = data[domain]
    kind = spec.get("type", DOMAIN_TYPES[0])
    if kind not in DOMAIN_TYPES:
        raise DomainError(
            f"{domain}: outcome space type {kind!r}: only a {DOMAIN_TYPES[0]} can be imported"
        )
    issues = [_issue(domain, k, i) for k, i in enumerate(_list(domain, spec, "issues"))]
    if not issues:
        raise DomainError(f"{domain}: the domain has no issues")
    name = str(spec.get("name") or domain.stem)
    return domain, name, issues, [_profile(p, data[p], issues) for p in profiles]


def _load(path: Path) -> dict[str, Any]:
    try:
        data = YAML(typ="safe").load(read_text(path))
    except YAMLError as exc:
        raise DomainError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise DomainError(f"{path}: expected a mapping (a NegMAS domain or profile)")
    return data


def _list(path: Path, spec: dict[str, Any], key: str) -> list[Any]:
    value = spec.get(key)
    if not isinstance(value, list):
        raise DomainError(f"{path}: `{key}` must be a list")
    return value


def _issue(path: Path, k: int, spec: Any) -> DomainIssue:
    if not isinstance(spec, dict):
        raise DomainError(f"{path}: issues[{k}] must be a mapping (name, type, values)")
    name = str(spec.get("name") or f"issue{k}")
    kind = spec.get("type")
    values = spec.get("values")
    where = f"{path}: issue {name!r}"
    if kind == "ContiguousIssue":
        if (
            not isinstance(values, list)
            or len(values) != 2
            or not all(type(v) is int for v in values)
            or values[0] > values[1]
        ):
            raise DomainError(f"{where}: a ContiguousIssue's `values` must be [min, max], integers")
        return DomainIssue(name, list(range(values[0], values[1] + 1)), "integer")
    if kind in ("CategoricalIssue", "DiscreteCategoricalIssue", "DiscreteOrdinalIssue"):
        if not isinstance(values, list) or not values:
            raise DomainError(f"{where}: `values` must be a non-empty list")
        if all(isinstance(v, str) and v for v in values):
            return DomainIssue(name, [str(v) for v in values], "discrete")
        if all(type(v) is int for v in values):
            return DomainIssue(name, [int(v) for v in values], "discrete")
        raise DomainError(f"{where}: values must be all text or all whole numbers")
    raise DomainError(
        f"{where}: issue type {kind!r}: only CategoricalIssue and ContiguousIssue (finite "
        "values) can be imported; a continuous issue cannot"
    )


def _profile(path: Path, spec: dict[str, Any], issues: list[DomainIssue]) -> DomainProfile:
    kind = spec.get("type")
    if kind not in PROFILE_TYPES:
        raise DomainError(
            f"{path}: utility function {kind!r}: only a LinearAdditiveUtilityFunction (or one "
            "wrapped in an ExpDiscountedUFun) can be imported; a non-linear one cannot"
        )
    reserved = spec.get("reserved_value", -math.inf)
    discount: float | None = None
    per = "round"
    inner: dict[str, Any] = spec
    if kind == "ExpDiscountedUFun":
        wrapped = spec.get("ufun")
        inner = wrapped if isinstance(wrapped, dict) else {}
        if inner.get("type") != PROFILE_TYPES[0]:
            raise DomainError(
                f"{path}: the ExpDiscountedUFun wraps {inner.get('type')!r}: only a "
                "LinearAdditiveUtilityFunction can be imported"
            )
        factor = spec.get("factor", "step")
        d = spec.get("discount")
        if factor not in FACTORS:
            raise DomainError(
                f"{path}: ExpDiscountedUFun factor {factor!r}: only `step` (per round) and "
                "`relative_time` (per unit of time) can be imported"
            )
        if d is not None and (type(d) not in (int, float) or not 0 < d <= 1):
            raise DomainError(f"{path}: ExpDiscountedUFun discount {d!r}: expected 0 < d <= 1")
        if d is not None and d < 1:
            discount, per = float(d), FACTORS[factor]
    funs = _list(path, inner, "values")
    weights = inner.get("weights")
    if weights is None:
        weights = [1.0] * len(funs)
    if not isinstance(weights, list) or len(funs) != len(issues) or len(weights) != len(issues):
        raise DomainError(
            f"{path}: {len(funs)} value functions and "
            f"{len(weights) if isinstance(weights, list) else '?'} weights for "
            f"{len(issues)} issues: give one of each per issue"
        )
    tables = {i.name: _table(path, i, f) for i, f in zip(issues, funs, strict=True)}
    w = {i.name: _real(path, x, "weight") for i, x in zip(issues, weights, strict=True)}
    if reserved == -math.inf:
        least = sum(min(w[i.name] * v for v in tables[i.name].values()) for i in issues)
        reservation = math.floor(least) - 1.0
    else:
        reservation = _real(path, reserved, "reserved_value")
    return DomainProfile(path, w, tables, reservation, discount, per)


def _table(path: Path, issue: DomainIssue, fun: Any) -> dict[str, float]:
    where = f"{path}: issue {issue.name!r}"
    kind = fun.get("type") if isinstance(fun, dict) else None
    if kind not in VALUE_FUNS:
        raise DomainError(
            f"{where}: value function {kind!r}: only {', '.join(VALUE_FUNS)} can be imported"
        )
    assert isinstance(fun, dict)
    if kind == "TableFun":
        mapping = fun.get("mapping")
        if not isinstance(mapping, dict):
            raise DomainError(f"{where}: a TableFun needs a `mapping`")
        absent = [v for v in issue.values if v not in mapping]
        if absent:
            raise DomainError(
                f"{where}: no value for " + ", ".join(map(repr, absent)) + " in the TableFun"
            )
        return {str(v): _real(path, mapping[v], "value") for v in issue.values}
    if kind == "ConstFun":
        c = _real(path, fun.get("bias", 0.0), "bias")
        return {str(v): c for v in issue.values}
    if not all(type(v) is int for v in issue.values):
        raise DomainError(f"{where}: a {kind} needs numeric values; this issue has text values")
    numbers = [int(v) for v in issue.values]
    if kind == "IdentityFun":
        return {str(x): float(x) for x in numbers}
    slope = _real(path, fun.get("slope"), "slope")
    if kind == "LinearFun":
        return {str(x): x * slope for x in numbers}
    bias = _real(path, fun.get("bias", 0.0), "bias")
    return {str(x): x * slope + bias for x in numbers}


def _real(path: Path, x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        raise DomainError(f"{path}: {what} {x!r}: expected a finite number")
    return float(x)
