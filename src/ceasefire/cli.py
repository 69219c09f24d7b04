"""The command line: `ceasefire check | schema | run`.

Bad input exits with code 2 and a message naming file, line, column and field;
no traceback. Outputs are written all or nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .engine import END_REASONS, Episode, run
from .ensemble import draw_scenario, run_draw
from .monitor import monitor_group
from .outputs import day_rows, summary_json, write_outputs
from .outputs._replay import replay
from .scenario import Scenario, ScenarioError, json_schema, load_scenario

EXIT_BAD_INPUT = 2


def _console(stderr: bool = False) -> Console:
    console = Console(stderr=stderr, highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = max(console.width, 120)
    return console


def _refuse(error: ScenarioError) -> NoReturn:
    err = _console(stderr=True)
    err.print(error.render(), markup=False)
    sys.exit(EXIT_BAD_INPUT)


def _load(path: str) -> Scenario:
    try:
        return load_scenario(path)
    except ScenarioError as error:
        _refuse(error)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ceasefire")
def main() -> None:
    """Model, simulate and monitor mediated ceasefire-for-exchange agreements."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check(files: tuple[str, ...]) -> None:
    """Validate scenario FILES (YAML or JSON); exit 2 if any is refused."""
    failed = False
    out = _console()
    for path in files:
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            _console(stderr=True).print(error.render(), markup=False)
            failed = True
            continue
        out.print(f"{path}: ok ({scenario.name})", markup=False)
    if failed:
        sys.exit(EXIT_BAD_INPUT)


@main.command()
@click.option("--out", "out", type=click.Path(dir_okay=False), help="write to this file")
def schema(out: str | None) -> None:
    """Print the JSON Schema of scenario files."""
    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    target = Path(out)
    staging = target.with_name(f".{target.name}.tmp")
    staging.write_text(text, encoding="utf-8")
    staging.replace(target)


@main.command(name="run")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="seed of the random generator (same scenario + seed = same outputs)",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    help="write transcript.jsonl, ledger.csv, summary.json, report.html here",
)
@click.option(
    "--draw",
    "draw",
    type=click.IntRange(min=0),
    default=None,
    help="run draw I of the scenario's priors (ensemble episode I of --seed) "
    "instead of the file's point values",
)
@click.option("--json", "as_json", is_flag=True, help="print only the summary, as JSON")
@click.option(
    "--replay",
    "as_replay",
    is_flag=True,
    help="step through the transcript day by day (Enter: next day, q: quit)",
)
def run_command(
    file: str, seed: int, draw: int | None, out: str | None, as_json: bool, as_replay: bool
) -> None:
    """Run one episode of the scenario in FILE and show it day by day."""
    if as_json and as_replay:
        raise click.UsageError("--json and --replay cannot be combined")
    scenario = _load(file)
    if draw is None:
        episode = run(scenario, seed=seed)
    else:
        episode = run_draw(scenario, seed, draw)
        scenario = draw_scenario(scenario, seed, draw)
    if out is not None:
        try:
            write_outputs(out, scenario, episode)
        except OSError as exc:
            _console(stderr=True).print(f"cannot write {out}: {exc}", markup=False)
            sys.exit(1)
    if as_json:
        click.echo(summary_json(episode), nl=False)
        return
    console = _console()
    if as_replay:
        names = {p.id: p.name for p in scenario.parties}
        names |= {m.id: m.name for m in scenario.mediators}
        replay(episode, console, console.input if sys.stdin.isatty() else None, names=names)
    else:
        _print_days(console, scenario, episode)
    _print_summary(console, episode)
    if out is not None:
        console.print(f"outputs written to {out}/", markup=False)


def _print_days(console: Console, scenario: Scenario, episode: Episode) -> None:
    parties = [p.id for p in scenario.parties]
    names = {p.id: p.name for p in scenario.parties}
    table = Table(title=f"{scenario.name}: day by day", title_justify="left")
    table.add_column("date", no_wrap=True)
    table.add_column("day", justify="right")
    table.add_column("mode")
    for p in parties:
        table.add_column(f"released by {names[p]}")
    table.add_column("side channels")
    rows = day_rows(episode)
    talks = any(row.talks for row in rows)
    if talks:
        table.add_column("talks (each side's value)", min_width=44)
    table.add_column("notes")
    for row in rows:
        side = ", ".join(f"{n} {c}" for c, n in row.side_channel.items())
        style = "bold" if row.mode == "pause" else "dim"
        table.add_row(
            row.date,
            str(row.day),
            row.mode,
            *(row.released_text(p) for p in parties),
            side,
            *(["; ".join(row.talks)] if talks else []),
            "; ".join(row.notes),
            style=style,
        )
    console.print(table)


def _print_summary(console: Console, episode: Episode) -> None:
    s = episode.summary
    table = Table(title="summary", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_row(
        "pause",
        f"{s.pause_start} to {s.pause_end}, {s.pause_days} days" if s.pause_start else "none",
    )
    table.add_row("extensions", ", ".join(f"+{d}" for d in s.extensions) or "none")
    for party, counts in s.released.items():
        total = sum(counts.values())
        detail = ", ".join(f"{n} {c}" for c, n in counts.items())
        table.add_row(f"released by {party} (deal)", f"{total} ({detail})" if total else "0")
    side = ", ".join(f"{n} {c}" for c, n in s.side_channel_by_category.items())
    table.add_row("side channels", f"{s.side_channel_released}" + (f" ({side})" if side else ""))
    for deal in s.agreements:
        terms = ", ".join(f"{k}={v}" for k, v in deal["terms"].items())
        share = ", ".join(f"{p} {v:.0%}" for p, v in deal["satisfaction"].items())
        table.add_row(f"agreement {deal['date']}", f"{terms} (round {deal['round']}, "
                      f"via {deal['via'].replace('_', ' ')}; satisfaction {share})")
    if s.talk_rounds:
        table.add_row("talk rounds", str(s.talk_rounds))
    table.add_row("breaches", str(len(s.breaches)))
    table.add_row("delays", str(s.delays))
    table.add_row("end reason", f"{s.end_reason}: {END_REASONS[s.end_reason]}")
    table.add_row("end detail", s.end_detail)
    draw = f", draw {s.draw}" if s.draw is not None else ""
    table.add_row(
        "inputs", f"{s.scenario_hash}, seed {s.seed}{draw}, ceasefire {s.package_version}"
    )
    console.print(table)


main.add_command(monitor_group)
