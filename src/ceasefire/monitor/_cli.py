"""`ceasefire monitor ...`: the ledger of observations from the command line.

The group is defined here and attached to the top-level command in ``cli.py``. Bad
input exits with code 2 and a message naming file, line, column and field; a store
that cannot be used (unreachable, busy) exits with 1; no traceback either way.

Longer than most modules (about 900 lines): one click command per ledger operation
(import, add, correct, retract, list, verify, compliance, forecast, forecasts, score,
export),
each its options, its checks and what it prints; the work is in the monitor's modules.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import numpy as np
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from ..engine import run as run_episode
from ..outputs import strict_json_dumps as dumps
from ..scenario import Problem, Scenario, ScenarioError, load_scenario
from ..terminal import Col, Terminal, fitted_table, plural, visible
from ._compliance import TERMS_BASIS, ComplianceReport, compliance
from ._csv import import_csv
from ._errors import MonitorError, StoreError
from ._export import FORMATS, export, read_anchor, write_atomic
from ._forecasts import ensemble_forecast
from ._model import KINDS, RELIABILITY, SOURCE_KINDS, UNITS, CategoryDef, Entry, Observation
from ._nowcast import Nowcast, NowcastError, dated_until, nowcast
from ._options import ensemble_option
from ._report import render_compliance
from ._scores import Forecast, Scores, score_forecast
from ._store import DEFAULT_DB, Store, parse_as_of, stamp, utc_now

EXIT_BAD_INPUT = 2
EXIT_STORE = 1
F = TypeVar("F", bound=Callable[..., Any])


def _console(stderr: bool = False) -> Console:
    return Terminal(stderr=stderr)


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    click.echo(visible(message), err=True)
    sys.exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn refusals into messages for people and exit codes (no traceback)."""
    try:
        yield
    except MonitorError as exc:
        _fail(exc.render())
    except ScenarioError as exc:
        _fail(exc.render())
    except StoreError as exc:
        _fail(f"ledger: {exc}", EXIT_BAD_INPUT if exc.bad_input else EXIT_STORE)
    except OSError as exc:
        _fail(f"cannot write: {exc}", EXIT_STORE)


def _db_option(func: F) -> F:
    return click.option(
        "--db",
        default=DEFAULT_DB,
        show_default=True,
        envvar="CEASEFIRE_DB",
        help="the ledger: a SQLite file path, or postgresql://USER@HOST/DBNAME for a team "
        "(also from CEASEFIRE_DB)",
    )(func)


def _as_of_option(func: F) -> F:
    return click.option(
        "--as-of",
        "as_of",
        metavar="DATE",
        help="read the ledger as known at DATE (YYYY-MM-DD: the end of that day, UTC) "
        "or at an ISO 8601 timestamp",
    )(func)


def _open(db: str, create: bool = False) -> Store:
    return Store.open(db, create=create)


def _as_of(text: str | None) -> dt.date | dt.datetime | None:
    if text is None:
        return None
    try:
        return parse_as_of(text)
    except ValueError as exc:
        _fail(f"--as-of: {exc}")


def _load(path: str) -> Scenario:
    return load_scenario(path)


@click.group(name="monitor")
def monitor_group() -> None:
    """The ledger of observations: record what happened, check it against the terms."""


# ----------------------------------------------------------------------- init


@monitor_group.command()
@_db_option
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(dir_okay=False),
    help="declare the categories of this scenario (counts of people)",
)
@click.option(
    "--category",
    "extra",
    multiple=True,
    metavar="ID:UNIT[:DESCRIPTION]",
    help=f"declare a category; UNIT is one of {', '.join(UNITS)} (repeatable)",
)
@click.option(
    "--vocabulary",
    type=click.Path(dir_okay=False),
    help="a YAML or JSON file: `categories: [{id, unit, description}, ...]`",
)
def init(
    db: str, scenario_path: str | None, extra: tuple[str, ...], vocabulary: str | None
) -> None:
    """Create the ledger (or upgrade its schema) and declare categories.

    Running it again on an existing ledger adds new categories and changes nothing else.
    """
    with _errors():
        defs: list[CategoryDef] = []
        if scenario_path is not None:
            scenario = _load(scenario_path)
            defs += [CategoryDef(c.id, "people", c.name) for c in scenario.categories]
        if vocabulary is not None:
            defs += _vocabulary(vocabulary)
        for item in extra:
            parts = item.split(":", 2)
            if len(parts) < 2:
                _fail(
                    f"--category {item!r}: write it as ID:UNIT[:DESCRIPTION], "
                    "e.g. aid_trucks:trucks"
                )
            defs.append(CategoryDef(parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
        _check_ids(defs)
        with _open(db, create=True) as store:
            added = store.add_categories(defs)
            known = store.categories()
            snap = store.snapshot()
            where = store.describe()
            revision = store.schema_revision()
    out = _console()
    out.print(f"ledger ready: {where} (schema {revision})", markup=False)
    out.print(
        f"categories: {len(known)} ({len(added)} added"
        + (f": {', '.join(added)}" if added else "")
        + ")",
        markup=False,
    )
    out.print(f"{snap.label()}", markup=False)


def _vocabulary(path: str) -> list[CategoryDef]:
    from ..scenario._loader import parse_document

    text = Path(path).read_text(encoding="utf-8") if Path(path).is_file() else None
    if text is None:
        raise MonitorError("vocabulary", [Problem(path, None, None, "", "no such file")])
    if not text.strip():
        raise MonitorError("vocabulary", [Problem(path, None, None, "", "the file is empty")])
    data, positions = parse_document(text, path)
    items = data.get("categories")
    if not isinstance(items, list):
        raise MonitorError(
            "vocabulary",
            [Problem(path, 1, 1, "categories", "give `categories:` as a list of {id, unit}")],
        )
    out: list[CategoryDef] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        line, col = positions.get(("categories", i), (None, None))
        if not isinstance(item, dict) or not {"id", "unit"} <= set(item):
            problems.append(
                Problem(path, line, col, f"categories[{i}]", "give `id` and `unit` for each")
            )
            continue
        out.append(
            CategoryDef(str(item["id"]), str(item["unit"]), str(item.get("description", "")))
        )
        if item["unit"] not in UNITS:
            problems.append(
                Problem(
                    path,
                    line,
                    col,
                    f"categories[{i}].unit",
                    f"unknown unit {item['unit']!r}; use one of {', '.join(UNITS)}",
                )
            )
    if problems:
        raise MonitorError("vocabulary", problems)
    return out


def _check_ids(defs: list[CategoryDef]) -> None:
    import re

    from ._model import CATEGORY_ID

    bad = [d.id for d in defs if not re.match(CATEGORY_ID, d.id) or len(d.id) > 64]
    if bad:
        raise MonitorError(
            "categories",
            [
                Problem(
                    "",
                    None,
                    None,
                    "",
                    f"category id {b!r}: use lower case letters, digits and "
                    "underscores, starting with a letter",
                )
                for b in bad
            ],
        )


# ------------------------------------------------------------------ add / correct


def _observation_options(func: F) -> F:
    options = [
        click.option(
            "--file",
            "file",
            type=click.Path(dir_okay=False),
            help="read the observation from a YAML or JSON file",
        ),
        click.option(
            "--id", "new_id", help="the observation's id (default: obs-<entry>; `correct` keeps it)"
        ),
        click.option("--date", help="when it happened (YYYY-MM-DD)"),
        click.option("--kind", type=click.Choice(KINDS), help="what happened"),
        click.option("--from", "from_party", help="who releases, grants or announces"),
        click.option("--to", "to_party", help="who receives"),
        click.option("--channel", help="deal, side_channel, ..."),
        click.option("--category", help="the category counted"),
        click.option("--count", type=int, help="the best count (integer >= 0)"),
        click.option("--low", type=int, help="lowest count given by a source"),
        click.option("--high", type=int, help="highest count given by a source"),
        click.option(
            "--credited-on",
            "credited_on",
            help="date whose deal quota a side-channel release counts toward",
        ),
        click.option("--day", type=int, help="the truce day it belongs to"),
        click.option("--phase", help="the phase of the agreement"),
        click.option("--note", help="what the sources say, disagreements, uncertainty"),
        click.option("--source", "source_text", help="publication or body, date, link"),
        click.option("--source-date", "source_date", help="date of the source (YYYY-MM-DD)"),
        click.option("--source-link", "source_links", multiple=True, help="a link (repeatable)"),
        click.option("--source-kind", "source_kind", type=click.Choice(tuple(SOURCE_KINDS))),
        click.option(
            "--reliability",
            type=click.Choice(tuple(RELIABILITY)),
            help="A (completely reliable) to F (cannot be judged)",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _from_file(path: str) -> dict[str, Any]:
    from ..scenario._loader import parse_document

    file = Path(path)
    if not file.is_file():
        raise MonitorError("observation", [Problem(path, None, None, "", "no such file")])
    if file.stat().st_size > 1024 * 1024:
        raise MonitorError("observation", [Problem(path, None, None, "", "larger than 1 MiB")])
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MonitorError(
            "observation", [Problem(path, None, None, "", "not UTF-8 text; save it as UTF-8")]
        ) from None
    if not text.strip():
        raise MonitorError("observation", [Problem(path, None, None, "", "the file is empty")])
    try:
        data, positions = parse_document(text, path)
    except ScenarioError as exc:
        raise MonitorError(
            "observation",
            [
                Problem(p.file, p.line, p.column, p.field, p.message.split("; a scenario")[0])
                for p in exc.problems
            ],
        ) from None
    if not isinstance(data, dict):
        raise MonitorError(
            "observation", [Problem(path, 1, 1, "", "the file must hold one mapping of fields")]
        )
    out: dict[str, Any] = dict(data)
    out["_positions"] = positions
    return out


def _validate(data: dict[str, Any], where: str) -> Observation:
    positions = data.pop("_positions", {})
    source = data.get("source")
    if isinstance(source, dict) and "text" in source and "links" not in source:
        from ._model import Source

        with suppress(ValidationError):
            data["source"] = Source.from_text(
                str(source["text"]),
                str(source.get("kind", "")),
                source.get("reliability"),
                published=_maybe_date(source.get("published")),
            )
    try:
        return Observation.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            line = col = None
            for end in range(len(loc), -1, -1):
                if loc[:end] in positions:
                    line, col = positions[loc[:end]]
                    break
            given = error.get("input")
            shown = "" if isinstance(given, dict | list) else f" (got {given!r:.60})"
            field = ".".join(str(p) for p in loc)
            problems.append(Problem(where, line, col, field, f"{error['msg']}{shown}"))
        raise MonitorError("observation", problems) from None


def _maybe_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _flags(kw: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The observation data in ``base`` with the flags given in ``kw`` applied."""
    data = dict(base)
    for flag, key in (
        ("new_id", "id"),
        ("date", "date"),
        ("kind", "kind"),
        ("from_party", "from_party"),
        ("to_party", "to_party"),
        ("channel", "channel"),
        ("credited_on", "credited_on"),
        ("day", "day"),
        ("phase", "phase"),
        ("note", "note"),
    ):
        if kw.get(flag) is not None:
            data[key] = kw[flag]
    counts = [dict(c) for c in data.get("counts", [])]
    if kw.get("category") is not None or kw.get("count") is not None:
        if kw.get("category") is None and len(counts) != 1:
            _fail("--count: give --category too (the observation has several counts)")
        current = counts[0] if len(counts) == 1 else {}
        counts = [
            {
                "category": kw.get("category") or current.get("category"),
                "count": kw["count"] if kw.get("count") is not None else current.get("count"),
                "low": kw.get("low"),
                "high": kw.get("high"),
            }
        ]
    elif (kw.get("low") is not None or kw.get("high") is not None) and len(counts) == 1:
        counts[0]["low"] = kw.get("low", counts[0].get("low"))
        counts[0]["high"] = kw.get("high", counts[0].get("high"))
    data["counts"] = counts
    source = dict(data.get("source") or {})
    if kw.get("source_text") is not None:
        source = {
            "text": kw["source_text"],
            "kind": source.get("kind"),
            "reliability": source.get("reliability"),
        }
    for flag, key in (
        ("source_kind", "kind"),
        ("reliability", "reliability"),
        ("source_date", "published"),
    ):
        if kw.get(flag) is not None:
            source[key] = kw[flag]
    if kw.get("source_links"):
        source["links"] = list(kw["source_links"])
    if source:
        source = {k: v for k, v in source.items() if v is not None}
        data["source"] = source
    return data


@monitor_group.command()
@_db_option
@_observation_options
def add(db: str, file: str | None, **kw: Any) -> None:
    """Record one observation, from flags or from a YAML/JSON file."""
    with _errors():
        data = _from_file(file) if file is not None else {}
        positions = data.pop("_positions", {})
        data = _flags(kw, data)
        data["_positions"] = positions
        observation = _validate(data, file or "command line")
        with _open(db) as store:
            entry = store.record([observation], origin="add", description="added from the CLI")[0]
            snap = store.snapshot()
    out = _console()
    out.print(f"recorded {entry.obs_id} as entry {entry.seq} ({entry.content_hash})", markup=False)
    out.print(snap.label(), markup=False)


@monitor_group.command()
@_db_option
@click.argument("obs_id", metavar="ID")
@click.option("--reason", required=True, help="why the observation is corrected")
@click.option(
    "--expect-entry",
    "expect",
    type=int,
    help="refuse if the current version is not this entry (someone changed it since)",
)
@_observation_options
def correct(
    db: str, obs_id: str, reason: str, expect: int | None, file: str | None, **kw: Any
) -> None:
    """Record a correction of observation ID: a new version that supersedes the current one.

    Fields not given keep their current value. Nothing is overwritten: `show ID` lists
    every version, and `list --as-of` reads the ledger as known at any earlier time.
    """
    if kw.get("new_id") not in (None, obs_id):
        _fail(
            f"--id {kw['new_id']!r}: a correction keeps the id of the observation it corrects "
            f"({obs_id!r}); to record it under another id, retract {obs_id} and add it anew"
        )
    with _errors(), _open(db) as store:
        history = store.history(obs_id)
        head = history[-1]
        if file is not None:
            data = _from_file(file)
            if data.get("id") not in (None, obs_id):
                _fail(
                    f"{file}: id {data['id']!r}: a correction keeps the id of the observation "
                    f"it corrects ({obs_id!r}); leave `id` out or give {obs_id!r}"
                )
        elif head.observation is not None:
            data = head.observation.model_dump(mode="json")
        else:
            data = {}
        positions = data.pop("_positions", {})
        data = _flags(kw, data)
        data["id"] = obs_id
        data["_positions"] = positions
        observation = _validate(data, file or "command line")
        entry = store.correct(obs_id, observation, reason, expect=expect)
        snap = store.snapshot()
    out = _console()
    out.print(
        f"corrected {obs_id}: entry {entry.seq} supersedes entry {entry.supersedes} "
        f"({entry.content_hash})",
        markup=False,
    )
    out.print(snap.label(), markup=False)


@monitor_group.command()
@_db_option
@click.argument("obs_id", metavar="ID")
@click.option("--reason", required=True, help="why the observation is withdrawn")
@click.option(
    "--expect-entry", "expect", type=int, help="refuse if the current version is not this entry"
)
def retract(db: str, obs_id: str, reason: str, expect: int | None) -> None:
    """Withdraw observation ID (recorded as an entry; its history stays)."""
    with _errors(), _open(db) as store:
        entry = store.retract(obs_id, reason, expect=expect)
        snap = store.snapshot()
    _console().print(
        f"retracted {obs_id}: entry {entry.seq} supersedes entry {entry.supersedes}", markup=False
    )
    _console().print(snap.label(), markup=False)


# ------------------------------------------------------------------------ import


@monitor_group.command(name="import")
@_db_option
@click.option(
    "--allow-duplicates",
    is_flag=True,
    help="record every row as it is, even rows that repeat another row or an "
    "observation the ledger holds (by default those are refused or skipped)",
)
@click.argument("file", type=click.Path(dir_okay=False))
def import_command(db: str, allow_duplicates: bool, file: str) -> None:
    """Import observations from a CSV FILE: every row is checked first; all or nothing.

    Importing is idempotent: rows the ledger already holds (the same content, recorded
    before) are skipped, so a file imported twice, or a longer version of a file
    imported before, records each observation once."""
    with _errors(), _open(db) as store:
        result = import_csv(store, file, allow_duplicates=allow_duplicates)
    out = _console()
    made = len(result.entries)
    out.print(
        f"imported {plural(made, 'observation')} from {file} ({result.file_sha256}) "
        f"in {result.seconds:.2f} s",
        markup=False,
    )
    if result.held:
        one_entry = result.held_entries[0][0] == result.held_entries[-1][1]
        out.print(
            f"skipped {plural(result.held, 'row')} the ledger already holds: "
            f"{'line' if result.held == 1 else 'lines'} "
            f"{_spans(result.held_lines)} of the file, "
            f"{'entry' if one_entry else 'entries'} {_spans(result.held_entries)} of the ledger",
            markup=False,
        )
    if made:
        first, last = result.entries[0], result.entries[-1]
        span = f"entry {first}" if first == last else f"entries {first} to {last}"
        out.print(f"{span}; {result.after.label()}", markup=False)
    else:
        out.print(f"nothing written; {result.after.label()}", markup=False)


def _spans(runs: list[tuple[int, int]]) -> str:
    """``1-3, 7, 9-10`` for [(1, 3), (7, 7), (9, 10)]."""
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


# -------------------------------------------------------------------------- reads


def _counts_text(entry: Entry) -> str:
    o = entry.observation
    if o is None:
        return ""
    parts = []
    for c in o.counts:
        text = f"{c.count} {c.category}"
        if c.low is not None or c.high is not None:
            text += f" ({c.low if c.low is not None else c.count}-"
            text += f"{c.high if c.high is not None else c.count})"
        parts.append(text)
    return ", ".join(parts)


@monitor_group.command(name="list")
@_db_option
@_as_of_option
@click.option("--upto", type=int, metavar="ENTRY", help="read the ledger up to this entry")
@click.option("--from", "date_from", help="observations on or after this date (YYYY-MM-DD)")
@click.option("--to", "date_to", help="observations on or before this date (YYYY-MM-DD)")
@click.option(
    "--all",
    "full",
    is_flag=True,
    help="every entry of the log (superseded versions and retractions too)",
)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def list_command(
    db: str,
    as_of: str | None,
    upto: int | None,
    date_from: str | None,
    date_to: str | None,
    full: bool,
    as_json: bool,
) -> None:
    """List the observations as known now, or as known at --as-of."""
    when = _as_of(as_of)
    about = (_date_opt("--from", date_from), _date_opt("--to", date_to))
    with _errors(), _open(db) as store:
        if full:
            entries = store.entries(as_of=when, upto=upto)
            snap = store.snapshot(as_of=when, upto=upto)
        else:
            snap, entries = store.view(as_of=when, upto=upto, about=about)
    if as_json:
        click.echo(
            dumps(
                {
                    "snapshot": snap.to_dict(),
                    "as_of": as_of,
                    "entries": [e.to_dict() for e in entries],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    rows: list[list[str]] = []
    for e in entries:
        o = e.observation
        recorded = e.recorded_at.replace("T", " ")[:16]
        if o is None:
            rows.append([e.obs_id, str(e.seq), "", "retraction", "", "", "", e.reason, recorded])
            continue
        parties = " > ".join(p for p in (o.from_party, o.to_party) if p)
        label = e.obs_id + ("" if e.action == "record" else f" ({e.action}ed)")
        rows.append(
            [
                label,
                str(e.seq),
                o.date.isoformat(),
                o.kind,
                parties,
                o.channel,
                _counts_text(e),
                f"{o.source.kind} {o.source.reliability}",
                recorded,
            ]
        )
    console = _console()
    fitted = fitted_table(
        console.width,
        [
            Col("id", wrap=True, narrowest=8),
            Col("entry", justify="right"),
            Col("date"),
            Col("kind", wrap=True, narrowest=8),
            Col("parties", wrap=True, narrowest=8),
            Col("channel", wrap=True, narrowest=8),
            Col("counts", wrap=True, narrowest=8),
            Col("source", wrap=True, narrowest=8, drop=2),
            Col("recorded (UTC)", wrap=False, drop=1),
        ],
        rows,
        title=f"{'log' if full else 'observations'}: {snap.label()}"
        + (f", as known at {as_of}" if as_of else ""),
        title_justify="left",
    )
    console.print(fitted.table)
    if fitted.left_out:
        console.print(fitted.note(console.width), style="dim", markup=False)
    console.print(
        plural(len(entries), "entry", "entries") if full else plural(len(entries), "observation"),
        markup=False,
    )
    if when is not None and not entries:
        _as_of_hint(console, db, as_of or "", when, upto, about, full)


def _as_of_hint(
    console: Console,
    db: str,
    as_of: str,
    when: dt.date | dt.datetime,
    upto: int | None,
    about: tuple[dt.date | None, dt.date | None],
    full: bool,
) -> None:
    """When --as-of leaves nothing, say what it means and what --to would find."""
    day = when.date() if isinstance(when, dt.datetime) else when
    to = about[1] if about[1] is not None and about[1] < day else day
    with _errors(), _open(db) as store:
        if full:
            found = [
                e
                for e in store.entries(upto=upto)
                if e.observation is not None
                and (about[0] is None or e.observation.date >= about[0])
                and e.observation.date <= to
            ]
        else:
            _snap, found = store.view(upto=upto, about=(about[0], to))
    if found:
        first = min(e.recorded_at for e in found)[:10]
        console.print(
            f"hint: --as-of {as_of} reads the ledger as it was recorded by then, and these "
            f"entries were recorded from {first} on; {plural(len(found), 'observation')} "
            f"{'is' if len(found) == 1 else 'are'} dated on or before {to}: "
            f"use --to {to} to list observations by the date they happened",
            markup=False,
        )


def _date_opt(flag: str, text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        _fail(f"{flag}: {text!r} is not a date; write it as YYYY-MM-DD")


@monitor_group.command()
@_db_option
@click.argument("obs_id", metavar="ID")
def show(db: str, obs_id: str) -> None:
    """Show every version of observation ID: records, corrections, retractions."""
    with _errors(), _open(db) as store:
        history = store.history(obs_id)
    out = _console()
    for e in history:
        o = e.observation
        head = f"entry {e.seq} ({e.action}"
        head += f" of entry {e.supersedes})" if e.supersedes else ")"
        out.print(f"{head}, recorded {e.recorded_at}, {e.content_hash}", markup=False)
        if e.reason:
            out.print(f"  reason: {e.reason}", markup=False)
        if o is not None:
            out.print(
                f"  {o.date} {o.kind} {o.from_party} > {o.to_party} [{o.channel}]: "
                f"{_counts_text(e)}",
                markup=False,
            )
            more = [
                f"counted toward {o.credited_on}" if o.credited_on else "",
                f"day {o.day} (as recorded)" if o.day is not None else "",
                f"phase {o.phase}" if o.phase else "",
            ]
            if any(more):
                out.print("  " + "; ".join(m for m in more if m), markup=False)
            if o.note:
                out.print(f"  note: {o.note}", markup=False)
            out.print(
                f"  source ({o.source.kind}, grade {o.source.reliability}): {o.source.text}",
                markup=False,
            )


@monitor_group.command(name="export")
@_db_option
@_as_of_option
@click.option("--upto", type=int, metavar="ENTRY", help="export the ledger up to this entry")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="csv, json or parquet (default: from the file name)",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="the file to write (written whole, or not at all)",
)
@click.option(
    "--all", "full", is_flag=True, help="every entry of the log, not just the current observations"
)
def export_command(
    db: str, as_of: str | None, upto: int | None, fmt: str | None, out: str, full: bool
) -> None:
    """Export the observations (or the whole log) as CSV, JSON or Parquet."""
    if fmt is None:
        suffix = Path(out).suffix.lower().lstrip(".")
        if suffix not in FORMATS:
            _fail(
                f"--format: cannot tell the format from {out!r}; give --format "
                f"({', '.join(FORMATS)})"
            )
        fmt = suffix
    when = _as_of(as_of)
    with _errors(), _open(db) as store:
        if full:
            entries = store.entries(as_of=when, upto=upto)
            snap = store.snapshot(as_of=when, upto=upto)
        else:
            snap, entries = store.view(as_of=when, upto=upto)
        anchor = store.anchor(as_of=when, upto=upto)
        data = export(entries, snap, fmt, as_of=as_of, full=full, anchor=anchor)
        write_atomic(out, data)
    n = len(entries)
    count = plural(n, "entry", "entries") if full else plural(n, "observation")
    _console().print(
        f"exported {count} to {out} from {snap.label()}",
        markup=False,
    )


@monitor_group.command()
@_db_option
@click.option(
    "--against",
    "against",
    metavar="ANCHOR",
    help="also check that nothing up to this anchor was removed or rewritten: the "
    "`anchor:` a previous verify printed (SEQ:HASH/BATCH:HASH), or a file holding it "
    "(saved verify output, or an export: JSON, CSV or Parquet)",
)
def verify(db: str, against: str | None) -> None:
    """Recompute every entry's hash, the chain and the seals of batches and categories;
    exit 1 if anything does not match. Prints the anchor to keep outside the ledger."""
    with _errors():
        anchor = read_anchor(against) if against is not None else None
        with _open(db) as store:
            problems = store.verify()
            if anchor is not None:
                problems += store.verify_against(anchor)
            snap = store.snapshot()
            now = store.anchor() if not problems else None
    if problems:
        _fail("ledger verification failed:\n" + "\n".join(f"  {p}" for p in problems), 1)
    # Hashes are never broken across lines (soft wrap): saved output is an anchor file.
    out = _console()
    out.print(f"ledger verified: {snap.label()}", markup=False, soft_wrap=True)
    if anchor is not None:
        out.print(f"matches the anchor {anchor.text()}", markup=False, soft_wrap=True)
    if now is not None:
        out.print(
            "keep this anchor outside the ledger, and `monitor verify --against` it later:",
            markup=False,
        )
        out.print(f"anchor: {now.text()}", markup=False, soft_wrap=True)


# -------------------------------------------------------------------- compliance


def _compliance(
    db: str, scenario_path: str, as_of: str | None, seed: int
) -> tuple[ComplianceReport, list[Entry]]:
    when = _as_of(as_of)
    scenario = _load(scenario_path)
    if scenario.agreement is None:
        _fail(f"{scenario_path}: the scenario has no agreement to check the observations against")
    with _open(db) as store:
        snap, current = store.view(as_of=when)
    return compliance(scenario, current, snap, as_of=as_of, seed=seed), current


@monitor_group.command(name="compliance")
@_db_option
@click.argument("scenario_path", metavar="SCENARIO", type=click.Path(dir_okay=False))
@_as_of_option
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="seed of the engine run that carries out the terms",
)
@click.option(
    "--out", "out", type=click.Path(dir_okay=False), help="write the HTML compliance report here"
)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def compliance_command(
    db: str, scenario_path: str, as_of: str | None, seed: int, out: str | None, as_json: bool
) -> None:
    """Set the observations against the terms of SCENARIO's agreement, day by day."""
    with _errors():
        report, _ = _compliance(db, scenario_path, as_of, seed)
        if out is not None:
            write_atomic(out, render_compliance(report).encode("utf-8"))
    if as_json:
        click.echo(dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    _print_compliance(report)
    if out is not None:
        _console().print(f"report written to {out}", markup=False)


def _print_compliance(report: ComplianceReport) -> None:
    names = report.parties
    holder = names.get(report.holder, report.holder)
    counter = names.get(report.counter_party, report.counter_party)
    rows: list[list[str]] = []
    for d in report.days:
        credited = []
        if d.credited_in_total:
            credited.append(
                f"+{d.credited_in_total} from " + ", ".join(c.released_on for c in d.credited_in)
            )
        if d.credited_out_total:
            credited.append(
                f"{d.credited_out_total} to " + ", ".join(c.credited_on for c in d.credited_out)
            )
        ratio = "" if d.ratio_observed is None else f"{d.ratio_observed:g} "
        marker = "" if d.basis == TERMS_BASIS else "*"
        rows.append(
            [
                d.date,
                "" if d.pause_day is None else str(d.pause_day),
                str(d.due),
                str(d.deal),
                "; ".join(credited),
                str(d.counted),
                d.status,
                f"{d.counter_owed}{marker}",
                str(d.counter_done),
                d.counter_status,
                ratio + d.ratio_status,
                "kept" if d.categories_kept else "NOT kept",
                str(len(d.delays)),
                str(len(d.disputes)),
            ]
        )
    console = _console()
    fitted = fitted_table(
        console.width,
        [
            Col("date"),
            Col("agreement\nday", justify="right"),
            Col(f"{holder}\ndue", justify="right"),
            Col("deal", justify="right", drop=3),
            Col("credited", wrap=True, drop=4),
            Col(f"{holder}\ndone", justify="right"),
            Col("status", wrap=True),
            Col(f"{counter}\nowed", justify="right"),
            Col(f"{counter}\ndone", justify="right"),
            Col("status", wrap=True),
            Col("ratio", wrap=True, drop=1),
            Col("categories", wrap=True, drop=1),
            Col("delays", justify="right", drop=2),
            Col("disputes", justify="right", drop=2),
        ],
        rows,
        title=f"compliance: {report.scenario} ({report.snapshot.label()})",
        title_justify="left",
        caption=f"agreement day 1 is {report.agreement_start}, the agreement's first day. "
        f"{counter} owed: what the terms' schedule gives for the day; * where "
        f"{holder}'s releases differ from it: the terms' ratio to the releases made.",
        caption_justify="left",
    )
    console.print(fitted.table)
    if fitted.left_out:
        console.print(fitted.note(console.width), style="dim", markup=False)
    t = report.totals
    console.print(
        f"totals: {holder} {t.counted} counted ({t.deal} deal + {t.credited} credited) of "
        f"{t.due} due: {t.status}; {counter} {t.counter_done} of {t.counter_owed} owed "
        f"(on the terms' {'schedule' if t.basis == TERMS_BASIS else 'ratio to the releases made'}"
        f"): {t.counter_status}; ratio "
        + (f"{t.ratio_observed:g}" if t.ratio_observed is not None else "n/a")
        + f" {t.ratio_status}",
        markup=False,
    )
    console.print(
        "extensions observed: "
        + (", ".join(f"+{n} on {d}" for d, n in t.extensions_observed) or "none")
        + "; under the terms (engine): "
        + (", ".join(f"+{n} on {d}" for d, n in t.extensions_due) or "none"),
        markup=False,
    )
    for d in report.days:
        for c in d.delays:
            console.print(
                f"delay {c.date} ({_agreement_day(d.pause_day)}, {c.obs_id}): {c.note}",
                markup=False,
            )
        for note in d.notes:
            console.print(f"{d.date} ({_agreement_day(d.pause_day)}): {note}", markup=False)
    for u in report.unmatched:
        console.print(f"left out: {u}", markup=False)
    for ob in report.obligations:
        owner = report.parties.get(ob.party, ob.party)
        if ob.per_day is not None:
            line = (
                f"obligation {ob.id} ({owner}, {ob.per_day:,} a day of the pause): "
                f"{len(ob.days)} of {ob.pause_days} pause days observed; "
                f"{ob.observed:,} observed of {ob.owed:,} owed on those days: {ob.status}"
            )
            short = [f"{d} ({n:,} of {owed:,})" for d, owed, n, _ in ob.days if n < owed]
            if short:
                line += "; short on " + ", ".join(short)
        else:
            line = f"obligation {ob.id} ({owner}, by {ob.by}): {ob.status}"
        console.print(line, markup=False)
    for lt in report.late:
        console.print(
            f"late: {lt.count} counter-releases owed on {lt.due_on}, made on {lt.made_on} "
            f"({lt.days} days late)",
            markup=False,
        )
    console.print(f"verdict: {'compliant' if report.compliant else 'not compliant'}", markup=False)


def _agreement_day(day: int | None) -> str:
    return "before the agreement" if day is None else f"agreement day {day}"


# ------------------------------------------------------------------------ scores


@monitor_group.command()
@click.argument("scenario_path", metavar="SCENARIO", type=click.Path(dir_okay=False))
@ensemble_option(
    1000, "episodes of the ensemble over the scenario's priors (the forecast's members)"
)
@click.option(
    "--seed",
    "seeds",
    multiple=True,
    type=click.IntRange(min=0),
    help="the ensemble's seed (default 0); with --single, the seed of a run "
    "(repeatable: one member per seed)",
)
@click.option(
    "--single",
    is_flag=True,
    help="single runs of the point values instead of the ensemble (ignores the priors)",
)
@click.option(
    "--db",
    "db",
    envvar="CEASEFIRE_DB",
    help="the ledger the forecast is issued against: the forecast is saved in it, with "
    "the ledger's snapshot (at --as-of) (also from CEASEFIRE_DB)",
)
@_as_of_option
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="the forecast file to write (JSON); needed without --db",
)
def forecast(
    scenario_path: str,
    n: int,
    seeds: tuple[int, ...],
    single: bool,
    db: str | None,
    as_of: str | None,
    out: str | None,
) -> None:
    """Make a forecast from SCENARIO and save it, dated, with its inputs, to be scored later.

    By default the forecast is an ensemble of --ensemble episodes over the scenario's
    priors; --single makes it from single runs of the point values."""
    if not single and len(seeds) > 1:
        _fail("--seed: an ensemble forecast takes one seed (several seeds need --single)")
    if db is None and out is None:
        _fail("give --db (save the forecast in the ledger), --out FILE, or both")
    with _errors():
        scenario = _load(scenario_path)
        if scenario.agreement is None:
            _fail(f"{scenario_path}: the scenario has no agreement: there is nothing to forecast")
        ledger = None
        if db is not None:
            with _open(db) as store:
                snap, _ = store.view(as_of=_as_of(as_of))
            ledger = {**snap.to_dict(), "as_of": as_of}
        elif as_of is not None:
            _fail("--as-of needs --db (the ledger to read as of that date)")
        issued = stamp(utc_now())
        if single:
            episodes = [run_episode(scenario, seed=s) for s in (list(seeds) or [0])]
            made = Forecast.from_episodes(scenario, episodes, issued_at=issued)
            made = made.with_ledger(ledger)
        else:
            made = ensemble_forecast(
                scenario, n, seeds[0] if seeds else 0, issued_at=issued, ledger=ledger
            )
        body = made.to_json()
        saved = []
        if out is not None:
            write_atomic(out, body.encode("utf-8"))
            saved.append(f"written to {out}")
        if db is not None:
            with _open(db) as store:
                info = store.record_forecast(body)
            saved.append(f"saved in the ledger as forecast {info.id}")
    _console().print(
        f"forecast of {plural(len(made.events), 'event')} and "
        f"{plural(len(made.counts), 'count')} ({made.source}, "
        f"{plural(made.members, 'member')}) " + " and ".join(saved),
        markup=False,
    )


@monitor_group.command(name="forecasts")
@_db_option
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def forecasts_command(db: str, as_json: bool) -> None:
    """List the forecasts saved in the ledger (`monitor score --forecast-id N` scores one)."""
    with _errors(), _open(db) as store:
        saved = store.forecasts()
    if as_json:
        click.echo(dumps([asdict(f) for f in saved], indent=2, ensure_ascii=False))
        return
    table = Table(title=f"forecasts in the ledger: {len(saved)}", title_justify="left")
    for column in ("id", "issued", "scenario", "method", "members", "seed", "ledger snapshot"):
        table.add_column(column)
    for f in saved:
        snapshot = "" if f.snapshot_seq is None else f"entry {f.snapshot_seq}"
        if f.as_of:
            snapshot += f" (as of {f.as_of})"
        table.add_row(
            str(f.id),
            f.issued_at,
            f.scenario,
            f.method,
            str(f.members),
            "" if f.seed is None else str(f.seed),
            snapshot,
        )
    _console().print(table)


@monitor_group.command()
@_db_option
@click.argument("scenario_path", metavar="SCENARIO", type=click.Path(dir_okay=False))
@click.option(
    "--forecast",
    "forecast_path",
    type=click.Path(dir_okay=False),
    help="a forecast saved by `monitor forecast` (default: one run made now)",
)
@click.option(
    "--forecast-id",
    "forecast_id",
    type=click.IntRange(min=1),
    help="a forecast saved in the ledger by `monitor forecast --db` (see `monitor forecasts`)",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="seed of the run when no --forecast is given",
)
@_as_of_option
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="write the HTML monitor report (compliance and the forecast's scores) here",
)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def score(
    db: str,
    scenario_path: str,
    forecast_path: str | None,
    forecast_id: int | None,
    seed: int,
    as_of: str | None,
    out: str | None,
    as_json: bool,
) -> None:
    """Score a forecast against the observations: Brier and log scores for events; CRPS,
    50% and 90% interval coverage and PIT for counts."""
    with _errors():
        report, current = _compliance(db, scenario_path, as_of, 0)
        scenario = _load(scenario_path)
        if forecast_path is not None and forecast_id is not None:
            _fail("give --forecast FILE or --forecast-id N, not both")
        if forecast_path is not None:
            try:
                made = Forecast.load(forecast_path)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                _fail(f"{forecast_path}: not a usable forecast ({exc})")
        elif forecast_id is not None:
            with _open(db) as store:
                body = store.forecast_body(forecast_id)
            try:
                made = Forecast.from_json(body, f"forecast {forecast_id}")
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                _fail(f"forecast {forecast_id} in the ledger: not a usable forecast ({exc})")
        else:
            made = Forecast.from_episodes(
                scenario, [run_episode(scenario, seed=seed)], issued_at=stamp(utc_now())
            )
        if made.scenario_hash != report.scenario_hash:
            _console(stderr=True).print(
                f"note: the forecast was made from another version of the scenario "
                f"({made.scenario_hash})",
                markup=False,
            )
        scores = score_forecast(made, report, current)
        if out is not None:
            write_atomic(out, render_compliance(report, scores).encode("utf-8"))
    if as_json:
        click.echo(dumps(scores.to_dict(), indent=2, ensure_ascii=False))
        return
    _print_scores(scores)
    if out is not None:
        _console().print(f"report written to {out}", markup=False)


def _print_scores(scores: Scores) -> None:
    def flag(value: bool | None) -> str:
        return "" if value is None else ("in" if value else "out")

    rows = [
        [
            r.quantity,
            r.forecast,
            r.observed,
            f"{r.score:.4g}",
            "" if r.log_score is None else f"{r.log_score:.4g}",
            "" if r.pit is None else f"{r.pit:.3f}",
            flag(r.in_50),
            flag(r.in_90),
        ]
        for r in scores.rows
    ]
    console = _console()
    fitted = fitted_table(
        console.width,
        [
            Col("quantity", wrap=True, narrowest=10),
            Col("forecast", wrap=True, narrowest=8),
            Col("observed", justify="right"),
            Col("Brier/CRPS", justify="right"),
            Col("log", justify="right", drop=1),
            Col("PIT", justify="right", drop=2),
            Col("50%", drop=3),
            Col("90%", drop=3),
        ],
        rows,
        title=f"forecast scores: {scores.scenario} (issued {scores.forecast_issued_at}, "
        f"{scores.method}, {plural(scores.members, 'member')})",
        title_justify="left",
    )
    console.print(fitted.table)
    if fitted.left_out:
        console.print(fitted.note(console.width), style="dim", markup=False)

    def shown(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.4g}"

    cover = ", ".join(f"{k}% interval {shown(v)}" for k, v in scores.coverage.items())
    console.print(
        f"events: mean Brier score {shown(scores.brier_mean)}, mean log score "
        f"{shown(scores.log_mean)}; counts: mean CRPS {shown(scores.crps_mean)} (lower is "
        f"better); coverage {cover}; record covers up to {scores.covered_until}"
        + ("" if scores.final else "; totals not scored until the end of the pause is observed"),
        markup=False,
    )
    if scores.pit_histogram:
        bins = len(scores.pit_histogram)
        bars = "  ".join(
            f"{i / bins:.1f}-{(i + 1) / bins:.1f}: {'#' * c or '.'}"
            for i, c in enumerate(scores.pit_histogram)
        )
        console.print(f"PIT histogram of the counts: {bars}", markup=False, soft_wrap=True)


# ----------------------------------------------------------------------- nowcast


@click.command(name="nowcast")
@_db_option
@click.argument("scenario_path", metavar="SCENARIO", type=click.Path(dir_okay=False))
@click.option(
    "--as-of",
    "date",
    required=True,
    metavar="DATE",
    help="the date (YYYY-MM-DD): the priors are conditioned on the observations dated on "
    "or before it",
)
@click.option(
    "--recorded-by",
    "recorded_by",
    metavar="DATE",
    help="read the ledger as recorded by then (YYYY-MM-DD or an ISO 8601 timestamp; "
    "default: everything recorded)",
)
@ensemble_option(10_000, "episodes drawn over the priors before matching")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--out", "out", type=click.Path(dir_okay=False), help="write the nowcast (JSON)")
@click.option("--save", is_flag=True, help="save the nowcast in the ledger, as a forecast")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def nowcast_command(
    db: str,
    scenario_path: str,
    date: str,
    recorded_by: str | None,
    n: int,
    seed: int,
    out: str | None,
    save: bool,
    as_json: bool,
) -> None:
    """Condition a scenario's priors on the ledger's record up to a date; forecast the rest."""
    try:
        day = dt.date.fromisoformat(date).isoformat()
    except ValueError:
        _fail(f"--as-of: {date!r} is not a date (YYYY-MM-DD)")
    with _errors():
        scenario = _load(scenario_path)
        if scenario.agreement is None:
            _fail(f"{scenario_path}: the scenario has no agreement: there is nothing to nowcast")
        with _open(db) as store:
            snap, current = store.view(as_of=_as_of(recorded_by) if recorded_by else None)
        record = dated_until(current, day)
        report = compliance(scenario, record, snap, as_of=recorded_by)
        ledger = {**snap.to_dict(), "as_of": recorded_by}
        try:
            made = nowcast(
                scenario, report, record, n=n, seed=seed, date=day,
                issued_at=stamp(utc_now()), ledger=ledger,
            )  # fmt: skip
        except NowcastError as exc:
            _fail(f"nowcast: {exc}")
        body = made.forecast.to_json()
        if out is not None:
            write_atomic(out, body.encode("utf-8"))
        saved = None
        if save:
            with _open(db) as store:
                saved = store.record_forecast(body).id
    if as_json:
        click.echo(body, nl=False)
        return
    _print_nowcast(made, day, len(record))
    console = _console()
    if out is not None:
        console.print(f"nowcast written to {out}", markup=False)
    if saved is not None:
        console.print(f"saved in the ledger as forecast {saved}", markup=False)


def _print_nowcast(made: Nowcast, day: str, observations: int) -> None:
    console = _console()
    f = made.forecast
    console.print(
        f"nowcast of {f.scenario} on {day}: {plural(observations, 'observation')} dated up to "
        f"then settle {plural(len(made.matched), 'quantity', 'quantities')}; "
        f"{made.kept:,} of {made.drawn:,} episodes match them exactly "
        f"(acceptance {made.kept / made.drawn:.1%}; effective sample size {made.ess:,.0f})",
        markup=False,
        soft_wrap=True,
    )
    if made.kept < 100:
        console.print(
            f"note: only {made.kept} members: the nowcast's probabilities are coarse "
            "(more with --ensemble)",
            markup=False,
        )
    priors = Table(
        title="priors: mean over the draws, and over the members kept", title_justify="left"
    )
    for column in ("prior", "drawn", "kept"):
        priors.add_column(column)
    for name, (before, after) in made.priors.items():
        priors.add_row(name, f"{before:.4g}", f"{after:.4g}")
    if made.priors:
        console.print(priors)
    table = Table(title="still to come", title_justify="left")
    for column in ("quantity", "nowcast"):
        table.add_column(column)
    for name, yes in f.events.items():
        if name not in made.matched and 0 < yes < f.members:
            table.add_row(name, f"p={f.probability(name):.3f}")
    for name, values in f.counts.items():
        if name not in made.matched:
            arr = np.asarray(values)
            lo, hi = (np.quantile(arr, q, method="inverted_cdf") for q in (0.05, 0.95))
            table.add_row(name, f"median {np.median(arr):g} [90%: {lo:g}-{hi:g}]")
    if table.row_count:
        console.print(table)
    else:
        console.print("still to come: nothing (the record settles every quantity)", markup=False)
