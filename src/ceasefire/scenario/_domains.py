"""Negotiation domains from other tools, as talks-only scenario files.

``import_domain(paths)`` reads a Genius XML domain with two profiles, or a GeniusWeb JSON
domain with two profiles, and returns the text of a scenario file (YAML) whose
``negotiation`` holds the domain's issues and each profile as a negotiator. Issue value
labels stay text. What a scenario cannot express is refused with a ``DomainError`` that
names the file and the element, never approximated: more or fewer than two profiles,
non-linear or non-additive utilities, continuous issues, and (until the engine does
them) discount factors below 1.

Values follow the format's owner. Genius: a discrete value's evaluation divided by the
largest evaluation of its issue; an integer issue's ``slope * (x - lowerbound) + offset``
clipped to [0, 1] (both as Genius's ``EvaluatorDiscrete``/``EvaluatorInteger`` compute
them); weights and the reservation value as written. GeniusWeb: value utilities, weights
as written, the reservation value is the profile's utility of its reservation bid.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

MAX_BYTES = 10_000_000  # a domain or profile file larger than this is refused

#: Defaults of the imported talks; the header says so and the user may edit them.
DEADLINE_DAYS = 100
START = date(2024, 1, 1)


class DomainError(Exception):
    """A domain that cannot be imported: what, where, and what would be right."""


@dataclass
class _Issue:
    name: str
    values: list[str] | list[int]
    kind: str  # "discrete" or "integer"


@dataclass
class _Profile:
    path: Path
    weights: dict[str, float]
    tables: dict[str, dict[str, float]]
    reservation: float
    discount: float | None = None
    notes: list[str] = field(default_factory=list)


# The domain file, the domain's name, its issues and the two profiles.
_Parsed = tuple[Path, str, list[_Issue], list[_Profile]]


def import_domain(paths: list[Path], *, ignore_discount: bool = False) -> str:
    """The scenario file (YAML text) for a domain and two profiles, or a folder of them."""
    files, scanned = _files(paths)
    xml = [p for p in files if p.suffix.lower() == ".xml"]
    jsn = [p for p in files if p.suffix.lower() == ".json"]
    if xml and jsn:
        raise DomainError(
            "give Genius XML files or GeniusWeb JSON files, not both: "
            + ", ".join(str(p) for p in files)
        )
    if xml:
        source, domain_name, issues, profiles, fmt = *_genius(xml, scanned), "Genius XML"
    elif jsn:
        source, domain_name, issues, profiles, fmt = *_geniusweb(jsn), "GeniusWeb JSON"
    else:
        raise DomainError(
            "no domain files among "
            + ", ".join(str(p) for p in paths)
            + ": give a Genius XML domain and its two profiles (.xml), GeniusWeb JSON "
            "files (.json), or a folder holding them"
        )
    discounted = [p for p in profiles if p.discount is not None and 0 < p.discount < 1]
    if discounted and not ignore_discount:
        p = discounted[0]
        raise DomainError(
            f"{p.path}: discount_factor {p.discount:g}: discounting is not supported yet; "
            "pass --ignore-discount to import the domain without it"
        )
    used = [source, *(p.path for p in profiles)]
    return _scenario_text(domain_name, issues, profiles, fmt, used, discounted)


def _files(paths: list[Path]) -> tuple[list[Path], set[Path]]:
    """The files named, and those found in the folders named (``scanned``)."""
    out: list[Path] = []
    scanned: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".xml", ".json")
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


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DomainError(f"{path}: cannot be read as UTF-8 text ({exc})") from None


# --------------------------------------------------------------------------- Genius XML


def _xml(path: Path) -> ET.Element:
    try:
        return ET.fromstring(_read(path))
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
    _two(profiles)
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


def _genius_issue(path: Path, e: ET.Element) -> _Issue:
    name = e.get("name") or ""
    kind = e.get("type") or e.get("vtype") or "discrete"
    where = f"{path}: issue {name!r}"
    if kind == "discrete":
        labels = [item.get("value") for item in e.findall("item")]
        if not labels or any(v is None or v == "" for v in labels):
            raise DomainError(f"{where}: a discrete issue needs <item value=...> elements")
        return _Issue(name, [str(v) for v in labels], "discrete")
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
        return _Issue(name, list(range(low, high + 1)), "integer")
    raise DomainError(
        f"{where}: a {kind} issue (continuous values) cannot be imported: the talks need "
        "finite domains (discrete or integer issues)"
    )


def _genius_profile(path: Path, root: ET.Element, issues: list[_Issue]) -> _Profile:
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
    return _Profile(
        path, {i.name: weights.get(i.name, 1.0) for i in issues}, tables, reservation, discount
    )


def _genius_values(path: Path, e: ET.Element, issue: _Issue) -> dict[str, float]:
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


def _two(profiles: list[Any]) -> None:
    if len(profiles) != 2:
        names = ", ".join(str(p) for p in profiles) or "none"
        raise DomainError(
            f"found {len(profiles)} profile(s) ({names}): the talks are between two parties; "
            "give the domain with exactly two profiles (a domain for more than two parties "
            "cannot be imported)"
        )


# ------------------------------------------------------------------------ GeniusWeb JSON


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_read(path))
    except json.JSONDecodeError as exc:
        raise DomainError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise DomainError(f"{path}: expected a JSON object (a GeniusWeb domain or profile)")
    return data


def _geniusweb(files: list[Path]) -> _Parsed:
    data = {p: _json(p) for p in files}
    domains = [p for p, d in data.items() if "issuesValues" in d]
    profiles = [p for p in files if p not in domains]
    if len(domains) != 1:
        raise DomainError(
            f"found {len(domains)} GeniusWeb domain files ({', '.join(map(str, domains)) or 'none'}"
            "): give exactly one domain file (with `issuesValues`) and two profiles"
        )
    _two(profiles)
    domain = domains[0]
    issues: list[_Issue] = []
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
        issues.append(_Issue(str(name), [str(v) for v in values], "discrete"))
    if not issues:
        raise DomainError(f"{domain}: the domain has no issues")
    name = str(data[domain].get("name") or domain.stem)
    return domain, name, issues, [_geniusweb_profile(p, data[p], issues) for p in profiles]


def _geniusweb_profile(path: Path, data: dict[str, Any], issues: list[_Issue]) -> _Profile:
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
        tables[issue.name] = {str(v): _finite(path, table[v]) for v in issue.values}
    w = {i.name: _finite(path, weights.get(i.name, 0.0)) for i in issues}
    reservation = 0.0
    bid = (space.get("reservationBid") or {}).get("issuevalues")
    if isinstance(bid, dict):
        reservation = sum(w[n] * tables[n].get(str(v), 0.0) for n, v in bid.items() if n in tables)
    return _Profile(path, w, tables, reservation)


def _finite(path: Path, x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float) or x != x or abs(x) == float("inf"):
        raise DomainError(f"{path}: {x!r}: expected a finite number")
    return float(x)


# ------------------------------------------------------------------------------ output


def _slug(text: str, taken: set[str], prefix: str) -> str:
    ident = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:56] or prefix
    if not ident[0].isalpha():
        ident = f"{prefix}_{ident}"
    base, k = ident, 2
    while ident in taken:
        ident, k = f"{base}_{k}", k + 1
    taken.add(ident)
    return ident


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's quoting is YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]", "?", text)


def _scenario_text(
    domain: str,
    issues: list[_Issue],
    profiles: list[_Profile],
    fmt: str,
    files: list[Path],
    discounted: list[_Profile],
) -> str:
    ids: set[str] = set()
    issue_ids = {i.name: _slug(i.name, ids, "issue") for i in issues}
    pids: set[str] = set()
    party_ids = [_slug(p.path.stem, pids, "party") for p in profiles]
    horizon = START + timedelta(days=DEADLINE_DAYS)
    mapped = (
        "each discrete value's evaluation divided by the issue's largest evaluation, and "
        "each integer value's slope * (x - lowerbound) + offset clipped to [0, 1] (as Genius "
        "computes them), as `table` value functions; weights and reservation values as written"
        if fmt == "Genius XML"
        else "each issue's value utilities as `table` value functions; weights as written; "
        "each reservation value is the profile's utility of its reservation bid (0 without one)"
    )
    lines = [
        f"# Imported by `ceasefire import-domain` from a {fmt} domain:",
        *(f"#   {_comment(str(p))}" for p in files),
        f"# Mapped: {mapped}.",
        "# Issue ids (the file's names): "
        + "; ".join(f"{issue_ids[i.name]} = {_comment(i.name)}" for i in issues),
        "# Parties (profiles): "
        + "; ".join(
            f"{pid} = {_comment(p.path.name)}" for pid, p in zip(party_ids, profiles, strict=True)
        ),
        f"# Defaults to edit: talks start {START}, deadline_days {DEADLINE_DAYS} for both sides "
        "(one round a day, no mediator), Boulware curves, the first profile moves first,",
        "# no new talks after a failure; the horizon is the deadline.",
    ]
    for p in discounted:
        lines.append(
            f"# Discounting ignored (--ignore-discount): {_comment(p.path.name)} has "
            f"discount_factor {p.discount:g}, which this file does not apply."
        )
    lines += [
        "version: 1",
        f"name: {_q(domain[:180] + ' (imported)')}",
        f"calendar: {{start: {START}, horizon: {horizon}}}",
        "parties:",
        *(
            f"  - {{id: {pid}, name: {_q(p.path.stem[:200])}}}"
            for pid, p in zip(party_ids, profiles, strict=True)
        ),
        "categories:",
        "  - {id: items, name: Items (unused by talks-only scenarios)}",
        "negotiation:",
        f"  start: {START}",
        f"  first_mover: {party_ids[0]}",
        "  restart_after_days: null",
        "  issues:",
    ]
    for i in issues:
        values = ", ".join(_q(v) if isinstance(v, str) else str(v) for v in i.values)
        domain = f"min: {i.values[0]}, max: {i.values[-1]}"
        if i.kind != "integer":
            domain = f"values: [{values}]"
        lines.append(f"    - {{id: {issue_ids[i.name]}, kind: other, {domain}}}")
    lines.append("  parties:")
    for pid, p in zip(party_ids, profiles, strict=True):
        lines += [
            f"    {pid}:",
            f"      reservation: {p.reservation!r}",
            f"      deadline_days: {DEADLINE_DAYS}",
            "      curve: {kind: boulware}",
            "      issues:",
        ]
        for i in issues:
            table = ", ".join(f"{_q(k)}: {v!r}" for k, v in p.tables[i.name].items())
            weight = p.weights[i.name]
            lines.append(f"        {issue_ids[i.name]}: {{weight: {weight!r}, table: {{{table}}}}}")
    lines += [
        "values:",
        "  units: utility (each profile's linear additive utility)",
        "  parties: {" + ", ".join(f"{pid}: {{}}" for pid in party_ids) + "}",
    ]
    return "\n".join(lines) + "\n"
