"""Loading a scenario file: safe YAML (or JSON) to validated models, with positions.

The file is composed into YAML nodes (nothing is constructed or executed), then
turned into plain Python data by hand so that every field path keeps its line and
column. Only the core schema's tags are accepted; anchors/aliases, merge keys and
duplicate keys are refused, as are files over ``MAX_BYTES`` or nested deeper than
``MAX_DEPTH``.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ._errors import Problem, ScenarioError
from ._models import SCHEMA_VERSION, VERSIONS, Scenario
from ._priors import DISTRIBUTION_KINDS, PRIOR_TARGETS
from ._references import check_references
from ._warnings import scenario_warnings

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 32
MAX_NODES = 200_000

Loc = tuple[str | int, ...]
Positions = dict[Loc, tuple[int, int]]

_CORE = "tag:yaml.org,2002:"
_TAGS = ("holdings", "custody", "value", "delay", "pressure")
_SCALAR_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp")}


class _Refused(Exception):
    def __init__(self, node: Node | None, message: str, mark: Any = None) -> None:
        self.node = node
        self.message = message
        self.mark = mark if mark is not None or node is None else node.start_mark


class _Composer(Composer):
    """ruamel's composer, refusing a node nested deeper than ``MAX_DEPTH`` levels where it
    starts: the composer recurses once per level, and Python's recursion limit would
    otherwise stop it with no position."""

    _level = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        # Levels as _Builder counts them: the root at 0 (one call per level, the root's
        # included); a mapping's key (index None) is at its value's level, so the value
        # is the node refused.
        self._level += 1
        try:
            if self._level > MAX_DEPTH + 1 and (parent is None or index is not None):
                mark = self.parser.peek_event().start_mark
                raise _Refused(None, f"nested deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._level -= 1


class _Builder:
    """Turns a composed YAML node tree into Python data, recording positions."""

    def __init__(self, yaml: YAML) -> None:
        self._constructor = yaml.constructor
        self.positions: Positions = {}
        self._seen: set[int] = set()

    def build(self, node: Node, loc: Loc = ()) -> Any:
        if len(loc) > MAX_DEPTH:
            raise _Refused(node, f"nested deeper than {MAX_DEPTH} levels")
        if id(node) in self._seen:
            raise _Refused(node, "anchors and aliases (&name / *name) are not accepted")
        self._seen.add(id(node))
        if len(self._seen) > MAX_NODES:
            raise _Refused(node, f"more than {MAX_NODES} values; split the scenario")
        self.positions[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, SequenceNode):
            if node.tag != _CORE + "seq":
                raise _Refused(node, f"tag {node.tag!r} is not accepted; write a plain list")
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        if node.tag not in _SCALAR_TAGS:
            raise _Refused(
                node,
                f"tag {node.tag!r} is not accepted; only plain strings, numbers, "
                "booleans, null and dates are",
            )
        try:
            return self._constructor.construct_object(node)
        except ValueError as e:  # a date that does not exist, such as 2025-02-30
            if node.tag == _CORE + "timestamp":
                raise _Refused(
                    node,
                    f"{node.value} is not a date that exists ({e}); write a real "
                    "calendar date as YYYY-MM-DD",
                ) from None
            raise _Refused(node, f"{node.value!r} cannot be read: {e}") from None

    def _mapping(self, node: MappingNode, loc: Loc) -> dict[str, Any]:
        if node.tag != _CORE + "map":
            raise _Refused(node, f"tag {node.tag!r} is not accepted; write a plain mapping")
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _CORE + "merge":
                raise _Refused(key_node, "merge keys (<<) are not accepted; write fields out")
            if not isinstance(key_node, ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                raise _Refused(key_node, "a mapping key must be a plain string")
            key = str(self._constructor.construct_object(key_node))
            if key in out:
                first = self.positions[(*loc, key)]
                raise _Refused(
                    key_node,
                    f"duplicate key {key!r} (first given at line {first[0]}); give each key once",
                )
            self.positions[(*loc, key)] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            out[key] = self.build(value_node, (*loc, key))
            # A key's position is where the key is written; keep it (build() set the value's).
            self.positions[(*loc, key)] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
        return out


def _read_text(path: Path) -> str:
    def refuse(message: str) -> ScenarioError:
        return ScenarioError([Problem(str(path), None, None, "", message)])

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise refuse("no such file; check the path") from None
    except OSError as exc:
        raise refuse(f"cannot read the file: {exc.strerror}") from None
    if not path.is_file():
        raise refuse("not a file; give the path of a .yaml or .json scenario")
    if size > MAX_BYTES:
        raise refuse(f"the file is {size:,} bytes; scenarios are limited to {MAX_BYTES:,} bytes")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise refuse(f"cannot read the file: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Line and column (in characters, as YAML counts them) of the first bad byte;
        # everything before it decodes. The decoder counts bytes after the BOM.
        body = raw.removeprefix(codecs.BOM_UTF8)
        start = body.rfind(b"\n", 0, exc.start) + 1
        column = len(body[start : exc.start].decode("utf-8")) + 1
        line = body.count(b"\n", 0, exc.start) + 1
        offset = exc.start + len(raw) - len(body)
        raise ScenarioError(
            [
                Problem(
                    str(path),
                    line,
                    column,
                    "",
                    f"not UTF-8 text (byte {offset} cannot be decoded: "
                    f"0x{raw[offset]:02x}); save the file as UTF-8",
                )
            ]
        ) from None


def _problem(filename: str, refused: _Refused) -> Problem:
    mark = refused.mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    return Problem(filename, line, col, "", refused.message)


def parse_document(text: str, filename: str) -> tuple[Any, Positions]:
    """Parse YAML or JSON text into plain data and the position of every field path."""
    yaml = YAML(typ="safe", pure=True)
    yaml.Composer = _Composer
    try:
        root = yaml.compose(text)
    except _Refused as exc:
        raise ScenarioError([_problem(filename, exc)]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        what = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise ScenarioError(
            [Problem(filename, line, col, "", f"not valid YAML or JSON: {what}")]
        ) from None
    except YAMLError as exc:
        raise ScenarioError(
            [Problem(filename, None, None, "", f"not valid YAML or JSON: {exc}")]
        ) from None
    except RecursionError:
        raise ScenarioError(
            [Problem(filename, None, None, "", f"nested deeper than {MAX_DEPTH} levels")]
        ) from None
    if root is None:
        raise ScenarioError(
            [
                Problem(
                    filename,
                    None,
                    None,
                    "",
                    "the file is empty; a scenario is a mapping that starts with "
                    f"`version: {SCHEMA_VERSION}` (see `ceasefire schema`)",
                )
            ]
        )
    builder = _Builder(yaml)
    try:
        data = builder.build(root)
    except _Refused as exc:
        raise ScenarioError([_problem(filename, exc)]) from None
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({data!r:.40})"
        raise ScenarioError(
            [
                Problem(
                    filename,
                    1,
                    1,
                    "",
                    f"the file holds {kind}; a scenario is a mapping of fields "
                    f"(version, name, calendar, ...)",
                )
            ]
        )
    return data, builder.positions


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _position(positions: Positions, loc: Loc) -> tuple[int | None, int | None]:
    for end in range(len(loc), -1, -1):
        if loc[:end] in positions:
            return positions[loc[:end]]
    return None, None


def _model_at(loc: Loc, data: Any) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``loc`` (for did-you-mean)."""
    current: Any = Scenario
    value = data
    for part in loc:
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif origin in (list, dict):
            current = typing.get_args(current)[-1]
        else:
            return None
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            value = None
        current = _resolve(current, value)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _resolve(annotation: Any, value: Any) -> Any:
    """Strip Optional/Annotated; pick a union member by its `kind` or `target` literal."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(models) == 1:
            return models[0]
        for tag in ("kind", "target"):
            given = value.get(tag) if isinstance(value, dict) else None
            for model in models:
                field = model.model_fields.get(tag)
                if field is not None and given in typing.get_args(field.annotation):
                    return model
        return args[0] if len(args) == 1 else annotation
    return annotation


def _describe(error: dict[str, Any], data: Any) -> tuple[Loc, str]:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    # A tagged union adds the tag to the path (events[0].holdings.count,
    # priors[0].holding.distribution.poisson.mean): drop it.
    if len(loc) >= 3 and loc[0] == "events" and isinstance(loc[1], int) and loc[2] in _TAGS:
        loc = (*loc[:2], *loc[3:])
    if len(loc) >= 3 and loc[0] == "priors" and isinstance(loc[1], int):
        if loc[2] in PRIOR_TARGETS:
            loc = (*loc[:2], *loc[3:])
        if len(loc) >= 4 and loc[2] == "distribution" and loc[3] in DISTRIBUTION_KINDS:
            loc = (*loc[:3], *loc[4:])
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1], data)
        name = str(loc[-1])
        allowed = sorted(model.model_fields) if model is not None else []
        message = f"unknown field {name!r}"
        close = difflib.get_close_matches(name, allowed, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        if allowed:
            message += f"; allowed fields here: {', '.join(allowed)}"
        return loc, message
    if kind == "missing":
        return loc, f"required field {str(loc[-1])!r} is missing"
    given = error.get("input")
    shown = "" if isinstance(given, dict | list) else f" (got {given!r:.60})"
    message = str(error["msg"])
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _tag_problem(loc, kind, given)
    if kind == "value_error" and message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if kind.startswith("int") and isinstance(given, float | str):
        message = "must be a whole number (counts are integers)"
    return loc, f"{message[0].lower()}{message[1:]}{shown}"


def _tag_problem(loc: Loc, kind: str, given: Any) -> tuple[Loc, str]:
    """A missing or unknown tag of a tagged union (an event's kind, a prior's target, a
    distribution's kind), reported at the tag itself when it is given."""
    allowed: tuple[str, ...]
    if loc and loc[0] == "priors" and len(loc) == 2:
        what, tag, allowed = "prior target", "target", PRIOR_TARGETS
    elif loc and loc[-1] == "distribution":
        what, tag, allowed = "distribution kind", "kind", DISTRIBUTION_KINDS
    else:
        what, tag, allowed = "event kind", "kind", _TAGS
    if kind == "union_tag_not_found":
        return loc, f"required field {tag!r} is missing; use one of: {', '.join(allowed)}"
    tagged = given.get(tag) if isinstance(given, dict) else None
    message = f"unknown {what} (got {tagged!r:.60}); use one of: {', '.join(allowed)}"
    if what == "prior target" and tagged in ("discount", "discount_factor"):
        return (*loc, tag), (
            "a discount factor takes no prior: every episode of an ensemble uses the one "
            "written at negotiation.parties.<party>.discount (to compare factors, run an "
            f"ensemble per factor); prior targets are: {', '.join(allowed)}"
        )
    close = difflib.get_close_matches(str(tagged), allowed, n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    return (*loc, tag), message


def validate(data: Any, positions: Positions, filename: str) -> Scenario:
    """Validate parsed data against the models and the cross-references."""
    version = data.get("version") if isinstance(data, dict) else None
    if type(version) is int and version not in VERSIONS:  # other types: the model says
        line, col = _position(positions, ("version",))
        raise ScenarioError(
            [
                Problem(
                    filename,
                    line,
                    col,
                    "version",
                    f"version {version} is not supported by this release; "
                    f"it reads versions {', '.join(map(str, VERSIONS[:-1]))} and {VERSIONS[-1]}",
                )
            ]
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc, message = _describe(dict(error), data)
            line, col = _position(positions, loc)
            problems.append(Problem(filename, line, col, _dotted(loc), message))
        raise ScenarioError(problems) from None
    found = check_references(scenario)
    if found:
        problems = []
        for loc, message in found:
            line, col = _position(positions, loc)
            problems.append(Problem(filename, line, col, _dotted(loc), message))
        raise ScenarioError(problems)
    return scenario


Changes = Mapping[Loc, Any]


def _apply(data: dict[str, Any], changes: Changes, positions: Positions, filename: str) -> None:
    """Replace the value at each field path of ``changes`` (an edit made in a form): a
    problem with a new value is then reported at the place of the value it replaces."""
    for loc, value in changes.items():
        parent: Any = data
        for part in loc[:-1]:
            ok = (isinstance(parent, dict) and part in parent) or (
                isinstance(parent, list) and isinstance(part, int) and 0 <= part < len(parent)
            )
            if not ok:
                line, col = _position(positions, loc)
                raise ScenarioError(
                    [Problem(filename, line, col, _dotted(loc), "no such field in the file")]
                )
            parent = parent[part]
        if not isinstance(parent, dict) or not isinstance(loc[-1], str):
            line, col = _position(positions, loc)
            raise ScenarioError(
                [Problem(filename, line, col, _dotted(loc), "not a field that can be changed")]
            )
        parent[loc[-1]] = value


def check_file(path: str | Path) -> tuple[Scenario, list[Problem]]:
    """Load ``path`` as :func:`load_scenario` does, and return its warnings too (what
    may be intended but probably is not; ``_warnings``), each at its line and column."""
    path = Path(path)
    data, positions = parse_document(_read_text(path), str(path))
    scenario = validate(data, positions, str(path))
    warnings = []
    for loc, message in scenario_warnings(scenario):
        line, col = _position(positions, loc)
        warnings.append(Problem(str(path), line, col, _dotted(loc), message))
    return scenario, warnings


def load_scenario(path: str | Path, changes: Changes | None = None) -> Scenario:
    """Load, validate and return the scenario in ``path`` (YAML or JSON).

    ``changes`` maps field paths (``("agreement", "exchange", "ratios", "cat")``,
    ``("holdings", 0, "count")``) to values that replace the file's before validation.

    Raises :class:`ScenarioError` listing every problem, each with file, line,
    column and field path.
    """
    path = Path(path)
    return loads_scenario(_read_text(path), str(path), changes)


def loads_scenario(
    text: str, filename: str = "<string>", changes: Changes | None = None
) -> Scenario:
    """Like :func:`load_scenario`, from text already in memory."""
    data, positions = parse_document(text, filename)
    if changes:
        _apply(data, changes, positions, filename)
    return validate(data, positions, filename)


def content_hash(scenario: Scenario) -> str:
    """SHA-256 of the scenario's canonical JSON: the same content gives the same hash,
    whatever the file's format, key order or comments."""
    canonical = json.dumps(
        _without_unset_v2(scenario.model_dump(mode="json")),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _without_unset_v2(data: dict[str, Any]) -> dict[str, Any]:
    """The dump without the version-2 fields (and later optional fields, such as the
    talks' ``tie_break`` and a negotiator's ``discount``) left at their defaults, so that
    a file's hash does not change with a release that adds them (a version-1 file keeps
    its hash)."""
    for category in data.get("categories", []):
        if category.get("deceased") is False:
            del category["deceased"]
    a = data.get("agreement")
    if a is not None:
        if a.get("kind") == "pause":
            del a["kind"]
        if a["batches"].get("dated", 0) is None:
            del a["batches"]["dated"]
        for key in ("terms", "dated"):
            if not a["exchange"].get(key, True):
                del a["exchange"][key]
        if not a.get("obligations", True):
            del a["obligations"]
        if a.get("continuation", 0) is None:
            del a["continuation"]
        if not a.get("phases", True):
            del a["phases"]
        if a.get("extension") and a["extension"].get("proposer", 0) is None:
            del a["extension"]["proposer"]
    for event in data.get("events", []):
        if event.get("until", 0) is None:
            del event["until"]
    negotiation = data.get("negotiation") or {}
    if negotiation.get("during_pause") is False:
        del negotiation["during_pause"]
    if negotiation.get("tie_break") == "other_side":
        del negotiation["tie_break"]
    for terms in (negotiation.get("parties") or {}).values():
        if terms.get("discount", 0) is None:
            del terms["discount"]
    template = negotiation.get("template") or {}
    if template.get("extension") and template["extension"].get("proposer", 0) is None:
        del template["extension"]["proposer"]
    return data


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of scenario files."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"ceasefire scenario, version {SCHEMA_VERSION}"
    return schema
