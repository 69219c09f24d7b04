"""The scenario files the app may read, and the terms of a scenario its form may change.

Only the folders the app was started with are reachable: the bundled ``scenarios/``
folder and each ``--scenarios DIR``. A scenario is named in URLs by its folder's key and
its file name; a name is looked up in the folder's own listing (never joined to a path
as given), so that ``..``, slashes, links out of the folder and hidden files are not
reachable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ceasefire.scenario import Scenario

SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILES = 500
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_KEY = re.compile(r"^[a-z0-9-]{1,40}$")

Loc = tuple[str | int, ...]


def bundled_folder() -> Path | None:
    """The bundled scenarios: ``ceasefire/scenarios`` in an installed wheel, else the
    source checkout's ``scenarios/`` folder (an editable install)."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "scenarios", package.parent.parent / "scenarios"):
        if candidate.is_dir():
            return candidate
    return None


@dataclass(frozen=True)
class Folder:
    key: str
    label: str
    path: Path


class Library:
    """The reachable scenario folders, by key (``bundled``, ``dir-1``, ``dir-2``...)."""

    def __init__(self, bundled: Path | None, extra: Sequence[Path]) -> None:
        folders: list[Folder] = []
        if bundled is not None:
            folders.append(Folder("bundled", "Bundled scenarios", bundled.resolve()))
        for i, path in enumerate(extra, start=1):
            folders.append(Folder(f"dir-{i}", str(path), path.resolve()))
        self.folders = {f.key: f for f in folders}

    def files(self, folder: Folder) -> list[str]:
        """The scenario files directly in ``folder`` (sorted; links and hidden files left
        out)."""
        try:
            entries = sorted(folder.path.iterdir())[:MAX_FILES]
        except OSError:
            return []
        return [
            p.name
            for p in entries
            if p.suffix.lower() in SUFFIXES
            and _NAME.match(p.name)
            and not p.is_symlink()
            and p.is_file()
        ]

    def resolve(self, key: str, name: str) -> Path | None:
        """The file ``name`` of folder ``key``, or None when it is not reachable."""
        folder = self.folders.get(key) if _KEY.match(key) else None
        if folder is None or not _NAME.match(name) or name not in self.files(folder):
            return None
        path = (folder.path / name).resolve()
        return path if path.parent == folder.path else None


@dataclass(frozen=True)
class Term:
    """One number of a scenario that the form offers to change."""

    loc: Loc
    group: str
    label: str
    value: int | float
    integer: bool

    @property
    def field(self) -> str:
        """The form field's name: ``t.`` and the dotted field path."""
        return "t." + ".".join(str(part) for part in self.loc)

    @property
    def path(self) -> str:
        out = ""
        for part in self.loc:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out


def _number_terms(
    loc: Loc, group: str, prefix: str, model: object, names: Sequence[str]
) -> list[Term]:
    out = []
    for name in names:
        value = getattr(model, name, None)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        label = f"{prefix}{name.replace('_', ' ')}"
        out.append(Term((*loc, name), group, label, value, isinstance(value, int)))
    return out


def scenario_terms(scenario: Scenario) -> list[Term]:
    """The terms offered for change: the agreement's days, batches, exchange ratios and
    extension rule; each holding's count; each prior's parameters."""
    names = {p.id: p.name for p in scenario.parties}
    terms: list[Term] = []
    agreement = scenario.agreement
    if agreement is not None:
        terms += _number_terms(("agreement",), "Agreement", "", agreement, ["initial_days"])
        releaser = names.get(agreement.batches.releaser, agreement.batches.releaser)
        terms += _number_terms(
            ("agreement", "batches"),
            "Agreement",
            f"batches by {releaser}: ",
            agreement.batches,
            ["total"],
        )
        other = names.get(agreement.exchange.releaser, agreement.exchange.releaser)
        for category, ratio in agreement.exchange.ratios.items():
            terms.append(
                Term(
                    ("agreement", "exchange", "ratios", category),
                    "Agreement",
                    f"ratio: released by {other} per {category}",
                    ratio,
                    True,
                )
            )
        if agreement.extension is not None:
            terms += _number_terms(
                ("agreement", "extension"),
                "Extension",
                "",
                agreement.extension,
                ["step_days", "per_step", "per_extension_limit_days", "max_total_days"],
            )
    for i, h in enumerate(scenario.holdings):
        holder = names.get(h.holder, h.holder)
        label = f"{holder} holds {h.category}" + (
            f" ({h.custody})" if h.custody != h.holder else ""
        )
        terms.append(Term(("holdings", i, "count"), "Holdings", label, h.count, True))
    for i, prior in enumerate(scenario.priors):
        dist = prior.distribution
        params = [n for n in type(dist).model_fields if n != "kind"]
        terms += _number_terms(
            ("priors", i, "distribution"),
            "Priors",
            f"prior {i + 1} ({prior.target}, {dist.kind}): ",
            dist,
            params,
        )
    return terms


def parse_number(text: str) -> int | float | str:
    """A form value as the file would hold it: a whole number, else a real number, else
    the text itself (which the scenario's validation then refuses, at its place)."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def changes_from(
    form: Mapping[str, str], terms: Sequence[Term], prefix: str = "t."
) -> dict[Loc, int | float | str]:
    """The terms whose form value differs from the file's (only offered terms count).
    ``prefix``: ``t.`` for the design being edited, ``a.`` for a pinned design."""
    changes: dict[Loc, int | float | str] = {}
    for term in terms:
        raw = form.get(prefix + term.field[2:])
        if raw is None or len(raw) > 40:
            continue
        value = parse_number(raw)
        if not (isinstance(value, int | float) and value == term.value):
            changes[term.loc] = value
    return changes
