"""What every domain importer shares: the parsed issues and profiles, the error, and the
scenario file (YAML text) written from them (``scenario_text``)."""

from __future__ import annotations

import json
import re
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
class DomainIssue:
    name: str
    values: list[str] | list[int]
    kind: str  # "discrete" or "integer"


@dataclass
class DomainProfile:
    path: Path
    weights: dict[str, float]
    tables: dict[str, dict[str, float]]
    reservation: float
    discount: float | None = None
    discount_per: str = "round"  # "round" or "time"
    notes: list[str] = field(default_factory=list)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DomainError(f"{path}: cannot be read as UTF-8 text ({exc})") from None


def two(profiles: list[Any]) -> None:
    if len(profiles) != 2:
        names = ", ".join(str(p) for p in profiles) or "none"
        raise DomainError(
            f"found {len(profiles)} profile(s) ({names}): the talks are between two parties; "
            "give the domain with exactly two profiles (a domain for more than two parties "
            "cannot be imported)"
        )


def one_domain(data: dict[Path, Any], key: str, kind: str) -> tuple[Path, list[Path]]:
    """The one domain file among ``data``'s files (the one holding ``key``) and the two
    profiles (the others, in the order given); ``kind`` names the format in errors."""
    domains = [p for p, d in data.items() if key in d]
    profiles = [p for p in data if p not in domains]
    if len(domains) != 1:
        raise DomainError(
            f"found {len(domains)} {kind} domain files ({', '.join(map(str, domains)) or 'none'}"
            f"): give exactly one domain file (with `{key}`) and two profiles"
        )
    two(profiles)
    return domains[0], profiles


def finite(path: Path, x: Any) -> float:
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


def scenario_text(
    domain: str,
    issues: list[DomainIssue],
    profiles: list[DomainProfile],
    fmt: str,
    files: list[Path],
    discounted: list[DomainProfile],
    ignore_discount: bool,
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
        if fmt == "GeniusWeb JSON"
        else "each issue's value function (TableFun, AffineFun, LinearFun, IdentityFun, "
        "ConstFun) evaluated at each of its values, as NegMAS computes it (no normalising), as "
        "`table` value functions; weights and reserved values as written (a reserved value of "
        "-inf, no reservation, as a whole number below the profile's least value)"
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
            if ignore_discount
            else f"# Discounted: {_comment(p.path.name)} has discount_factor {p.discount:g}: "
            "its `discount` is per round (u * factor**round, as NegMAS's Genius reader "
            "applies it; `per: time` is Genius's u * factor**t, t the relative time)."
            if fmt != "NegMAS YAML"
            else f"# Discounted: {_comment(p.path.name)} is an ExpDiscountedUFun, discount "
            f"{p.discount:g} per {'step' if p.discount_per == 'round' else 'relative_time'}: "
            f"its `discount` is per {p.discount_per}."
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
        ]
        if p in discounted and not ignore_discount:
            lines.append(f"      discount: {{factor: {p.discount!r}, per: {p.discount_per}}}")
        lines += ["      issues:"]
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
