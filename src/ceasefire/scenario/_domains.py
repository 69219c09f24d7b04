"""Negotiation domains from other tools, as talks-only scenario files.

``import_domain(paths)`` reads a Genius XML domain with two profiles, or a GeniusWeb JSON
domain with two profiles, and returns the text of a scenario file (YAML) whose
``negotiation`` holds the domain's issues and each profile as a negotiator. Issue value
labels stay text. What a scenario cannot express is refused with a ``DomainError`` that
names the file and the element, never approximated: more or fewer than two profiles,
non-linear or non-additive utilities and continuous issues. A Genius profile's
``discount_factor`` d (0 < d < 1) becomes the negotiator's ``discount: {factor: d, per:
round}``, as NegMAS's Genius reader applies it (u * d**round; edit ``per: time`` for
Genius's own u * d**t); ``ignore_discount`` drops it instead. (GeniusWeb profiles have no
discount factor.)

Values follow the format's owner. Genius: a discrete value's evaluation divided by the
largest evaluation of its issue; an integer issue's ``slope * (x - lowerbound) + offset``
clipped to [0, 1] (both as Genius's ``EvaluatorDiscrete``/``EvaluatorInteger`` compute
them); weights and the reservation value as written. GeniusWeb: value utilities, weights
as written, the reservation value is the profile's utility of its reservation bid.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ._domain_text import (
    MAX_BYTES,
    DomainError,
    DomainIssue,
    DomainProfile,
    finite,
    one_domain,
    read_text,
    scenario_text,
    two,
)
from ._negmas_yaml import is_negmas_yaml, negmas_yaml

# The domain file, the domain's name, its issues and the two profiles.
_Parsed = tuple[Path, str, list[DomainIssue], list[DomainProfile]]


def import_domain(paths: list[Path], *, ignore_discount: bool = False) -> str:
    """The scenario file (YAML text) for a domain and two profiles, or a folder of them."""
    files, scanned = _files(paths)
    xml = [p for p in files if p.suffix.lower() == ".xml"]
    jsn = [p for p in files if p.suffix.lower() == ".json"]
    yml = [p for p in files if is_negmas_yaml(p)]
    if sum(map(bool, (xml, jsn, yml))) > 1:
        raise DomainError(
            "give Genius XML files, GeniusWeb JSON files or NegMAS YAML files, not a mix: "
            + ", ".join(str(p) for p in files)
        )
    if yml:
        source, domain_name, issues, profiles, fmt = *negmas_yaml(yml), "NegMAS YAML"
    elif xml:
        source, domain_name, issues, profiles, fmt = *_genius(xml, scanned), "Genius XML"
    elif jsn:
        source, domain_name, issues, profiles, fmt = *_geniusweb(jsn), "GeniusWeb JSON"
    else:
        raise DomainError(
            "no domain files among "
            + ", ".join(str(p) for p in paths)
            + ": give a Genius XML domain and its two profiles (.xml), GeniusWeb JSON "
            "files (.json), NegMAS YAML files (.yml), or a folder holding them"
        )
    discounted = [p for p in profiles if p.discount is not None and 0 < p.discount < 1]
    used = [source, *(p.path for p in profiles)]
    return scenario_text(domain_name, issues, profiles, fmt, used, discounted, ignore_discount)


def _files(paths: list[Path]) -> tuple[list[Path], set[Path]]:
    """The files named, and those found in the folders named (``scanned``)."""
    out: list[Path] = []
    scanned: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and p.suffix.lower() in (".xml", ".json", ".yml", ".yaml")
            )
            out += found
            scanned.update(found)
        elif path.is_file():
            out.append(path)
        else:
            raise DomainError(f"{path}: no such file or folder")
    for p in out:
        if p.stat().st_size > MAX_BYTES:
            raise DomainError(f"{p}: larger than {MAX_BYTES:,} bytes; not a domain file")
    return out, scanned


# --------------------------------------------------------------------------- Genius XML


def _xml(path: Path) -> ET.Element:
    try:
        return ET.fromstring(read_text(path))
    except ET.ParseError as exc:
        raise DomainError(f"{path}: not well-formed XML ({exc})") from None


def _objective(root: ET.Element) -> ET.Element:
    space = root if root.tag == "utility_space" else root.find("utility_space")
    objective = space.find("objective") if space is not None else None
    return objective if objective is not None else (space if space is not None else root)


def _is_profile(root: ET.Element) -> bool:
    if root.tag != "utility_space":
        return False
    return any(
        e.tag in ("weight", "reservation", "discount_factor", "evaluator", "utility", "ufun")
        or "evaluation" in e.attrib
        for e in root.iter()
    )


def _genius(files: list[Path], scanned: set[Path]) -> _Parsed:
    roots: dict[Path, ET.Element] = {}
    for p in files:
        try:
            root = _xml(p)
        except DomainError:
            if p in scanned:  # beside the domain in its folder (NegMAS's pareto.xml, ...)
                continue
            raise
        if root.tag in ("negotiation_template", "utility_space") or p not in scanned:
            roots[p] = root
    domains = [p for p, r in roots.items() if not _is_profile(r)]
    profiles = [p for p, r in roots.items() if _is_profile(r)]
    if len(domains) != 1:
        raise DomainError(
            f"found {len(domains)} Genius domain files ({', '.join(map(str, domains)) or 'none'}); "
            "give exactly one domain file (its issues and values) with two profiles"
        )
    two(profiles)
    domain = domains[0]
    objective = _objective(roots[domain])
    issues = [_genius_issue(domain, e) for e in _issue_elements(domain, objective)]
    if not issues:
        raise DomainError(f"{domain}: the domain has no <issue> elements")
    name = objective.get("name") or domain.stem
    return domain, name, issues, [_genius_profile(p, roots[p], issues) for p in profiles]


def _issue_elements(path: Path, objective: ET.Element) -> list[ET.Element]:
    for nested in objective.findall("objective"):
        raise DomainError(
            f"{path}: nested objective {nested.get('name')!r}: only a flat list of issues "
            "(linear additive utilities) can be imported"
        )
    return objective.findall("issue")


def _genius_issue(path: Path, e: ET.Element) -> DomainIssue:
    name = e.get("name") or ""
    kind = e.get("type") or e.get("vtype") or "discrete"
    where = f"{path}: issue {name!r}"
    if kind == "discrete":
        labels = [item.get("value") for item in e.findall("item")]
        if not labels or any(v is None or v == "" for v in labels):
            raise DomainError(f"{where}: a discrete issue needs <item value=...> elements")
        return DomainIssue(name, [str(v) for v in labels], "discrete")
    if kind == "integer":
        bounds = e.find("range")
        source = bounds if bounds is not None else e
        try:
            low, high = int(source.get("lowerbound", "")), int(source.get("upperbound", ""))
        except ValueError:
            raise DomainError(
                f"{where}: an integer issue needs whole-number lowerbound and upperbound"
            ) from None
        if high < low or high - low >= 100_000:
            raise DomainError(f"{where}: bounds {low}..{high} are not a usable finite domain")
        return DomainIssue(name, list(range(low, high + 1)), "integer")
    raise DomainError(
        f"{where}: a {kind} issue (continuous values) cannot be imported: the talks need "
        "finite domains (discrete or integer issues)"
    )


def _genius_profile(path: Path, root: ET.Element, issues: list[DomainIssue]) -> DomainProfile:
    objective = _objective(root)
    by_index: dict[str, str] = {}
    tables: dict[str, dict[str, float]] = {}
    known = {i.name: i for i in issues}
    for e in objective:
        if e.tag in ("utility_function", "utility"):
            raise DomainError(
                f"{path}: <{e.tag}>: a non-linear (hyper-rectangle) utility cannot be "
                "imported; only linear additive utilities (weights and evaluators) can"
            )
        if e.tag == "objective":
            _issue_elements(path, objective)
    for e in objective.findall("issue"):
        name = e.get("name") or ""
        if name not in known:
            raise DomainError(
                f"{path}: issue {name!r} is not in the domain; its issues: " + ", ".join(known)
            )
        by_index[e.get("index") or ""] = name
        tables[name] = _genius_values(path, e, known[name])
    weights: dict[str, float] = {}
    for w in objective.findall("weight"):
        index = w.get("index") or ""
        if index not in by_index:
            raise DomainError(
                f"{path}: <weight index={index!r}> names no issue of the profile: a weight "
                "outside the issues (a constant term) cannot be imported"
            )
        weights[by_index[index]] = _number(path, w, "value")
    missing = [i.name for i in issues if i.name not in tables]
    if missing:
        raise DomainError(f"{path}: no evaluations for issue(s) {', '.join(map(repr, missing))}")
    reservation, discount = 0.0, None
    for e in root:
        if e.tag == "reservation":
            reservation = _number(path, e, "value")
        elif e.tag == "discount_factor":
            discount = _number(path, e, "value")
    return DomainProfile(
        path, {i.name: weights.get(i.name, 1.0) for i in issues}, tables, reservation, discount
    )


def _genius_values(path: Path, e: ET.Element, issue: DomainIssue) -> dict[str, float]:
    where = f"{path}: issue {issue.name!r}"
    if issue.kind == "discrete":
        raw: dict[str, float] = {}
        for item in e.findall("item"):
            value = item.get("value") or ""
            if value not in issue.values:
                raise DomainError(f"{where}: value {value!r} is not in the domain")
            raw[value] = _number(path, item, "evaluation")
        if set(raw) != set(issue.values):
            absent = [v for v in issue.values if v not in raw]
            raise DomainError(f"{where}: no evaluation for value(s) {', '.join(map(repr, absent))}")
        top = max(raw.values())
        return {str(v): (raw[str(v)] / top if top >= 1e-5 else 0.0) for v in issue.values}
    evaluator = e.find("evaluator")
    ftype = evaluator.get("ftype") if evaluator is not None else None
    if evaluator is None or ftype != "linear":
        raise DomainError(
            f"{where}: evaluator {ftype or '(none)'}: only a linear evaluator (slope, offset) "
            "of an integer issue can be imported; a non-linear one cannot"
        )
    slope = _number(path, evaluator, "slope")
    offset = _number(path, evaluator, "offset")
    low = int(issue.values[0])
    return {str(x): min(1.0, max(0.0, slope * (int(x) - low) + offset)) for x in issue.values}


def _number(path: Path, e: ET.Element, attribute: str) -> float:
    text = e.get(attribute)
    try:
        x = float(text or "")
    except ValueError:
        x = float("nan")
    if x != x or x in (float("inf"), float("-inf")):
        raise DomainError(f"{path}: <{e.tag}> {attribute}={text!r}: expected a finite number")
    return x


# ------------------------------------------------------------------------ GeniusWeb JSON


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise DomainError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise DomainError(f"{path}: expected a JSON object (a GeniusWeb domain or profile)")
    return data


def _geniusweb(files: list[Path]) -> _Parsed:
    data = {p: _json(p) for p in files}
    domain, profiles = one_domain(data, "issuesValues", "GeniusWeb")
    issues: list[DomainIssue] = []
    for name, spec in dict(data[domain]["issuesValues"]).items():
        values = spec.get("values") if isinstance(spec, dict) else None
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v for v in values)
        ):
            raise DomainError(
                f"{domain}: issue {name!r}: only discrete issues with text values can be "
                "imported from GeniusWeb (a number range cannot yet)"
            )
        issues.append(DomainIssue(str(name), [str(v) for v in values], "discrete"))
    if not issues:
        raise DomainError(f"{domain}: the domain has no issues")
    name = str(data[domain].get("name") or domain.stem)
    return domain, name, issues, [_geniusweb_profile(p, data[p], issues) for p in profiles]


def _geniusweb_profile(
    path: Path, data: dict[str, Any], issues: list[DomainIssue]
) -> DomainProfile:
    kinds = list(data)
    if kinds != ["LinearAdditiveUtilitySpace"]:
        raise DomainError(
            f"{path}: profile {', '.join(kinds) or '(empty)'}: only a "
            "LinearAdditiveUtilitySpace can be imported; a non-additive or non-linear "
            "profile cannot"
        )
    space = data["LinearAdditiveUtilitySpace"]
    utilities = space.get("issueUtilities") or {}
    weights = space.get("issueWeights") or {}
    tables: dict[str, dict[str, float]] = {}
    for issue in issues:
        spec = utilities.get(issue.name)
        table = (
            spec.get("discreteutils", {}).get("valueUtilities") if isinstance(spec, dict) else None
        )
        if not isinstance(table, dict):
            raise DomainError(
                f"{path}: issue {issue.name!r}: expected `discreteutils` with "
                "`valueUtilities` (other value utilities cannot be imported)"
            )
        absent = [v for v in issue.values if v not in table]
        if absent:
            raise DomainError(
                f"{path}: issue {issue.name!r}: no utility for value(s) "
                + ", ".join(map(repr, absent))
            )
        tables[issue.name] = {str(v): finite(path, table[v]) for v in issue.values}
    w = {i.name: finite(path, weights.get(i.name, 0.0)) for i in issues}
    reservation = 0.0
    bid = (space.get("reservationBid") or {}).get("issuevalues")
    if isinstance(bid, dict):
        reservation = sum(w[n] * tables[n].get(str(v), 0.0) for n, v in bid.items() if n in tables)
    return DomainProfile(path, w, tables, reservation)
