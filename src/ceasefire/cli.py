"""The command line: `ceasefire check | schema | run | ensemble | compare | sensitivity`.

Bad input exits with code 2 and a message naming file, line, column and field;
no traceback. Outputs are written all or nothing.

Longer than most modules (about 800 lines): each command is its click declaration, its
options' help and the table it prints, kept beside the others so that the whole
command line reads in one file; the work itself is in the layers below.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from gettext import gettext as _
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from .engine import Episode, Summary
    from .scenario import Scenario, ScenarioError

# Only click is imported up front: `ceasefire --help` and `ceasefire check` start in a
# fraction of a second. Each command imports what it uses (the engines, the reports,
# Ray, SciPy, the monitor's SQLAlchemy store) when it runs; tests/test_cli_imports.py
# keeps it so.

EXIT_BAD_INPUT = 2

# The ensemble engine's default batch size (ceasefire.ensemble._episodes.BATCH_SIZE),
# written out so that the options' help does not import the engine; a test keeps the
# two equal.
BATCH_SIZE = 50_000


class _LazyGroup(click.Group):
    """A group whose heavy subcommands are imported when they are used.

    ``lazy`` maps a subcommand's name to ``(module, attribute, short help)``. The
    short help stands in for the subcommand in ``--help``'s list of commands (a test
    keeps it equal to the subcommand's own), so listing the commands imports nothing.
    """

    def __init__(
        self, *args: Any, lazy: dict[str, tuple[str, str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, attribute, _help = self.lazy[cmd_name]
            command = getattr(import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{module}.{attribute} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None and name in self.lazy:
                command = click.Command(name, help=self.lazy[name][2])
            if command is not None and not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _cmd in rows)
            with formatter.section(_("Commands")):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])


def _force_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--force",
        is_flag=True,
        help="replace the --out folder even if it holds files ceasefire did not write",
    )(f)


def _check_out(out: str | None, force: bool) -> None:
    """Refuse an --out folder that cannot be written, before any work (exit 2)."""
    if out is None:
        return
    from .outputs import OutputFolderError, check_output_folder

    try:
        check_output_folder(out, force=force)
    except OutputFolderError as exc:
        _fail(str(exc))


def _console(stderr: bool = False) -> Console:
    from .terminal import Terminal

    return Terminal(stderr=stderr)


def _refuse(error: ScenarioError) -> NoReturn:
    err = _console(stderr=True)
    err.print(error.render(), markup=False)
    sys.exit(EXIT_BAD_INPUT)


def _load(path: str) -> Scenario:
    from .scenario import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as error:
        _refuse(error)


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``, as click's ``version_option`` prints it (the version is looked up
    only when asked for: that reads the installed packages' metadata)."""
    if not value or ctx.resilient_parsing:
        return
    from ._version import __version__

    message = _("%(prog)s, version %(version)s")
    click.echo(message % {"prog": "ceasefire", "version": __version__}, color=ctx.color)
    ctx.exit()


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    lazy={
        "backtest": (
            "ceasefire.monitor._backtest_cli",
            "backtest_command",
            "Replay a sourced record day by day: nowcasts, baselines and their scores.",
        ),
        "monitor": (
            "ceasefire.monitor._cli",
            "monitor_group",
            "The ledger of observations: record what happened, check it against the terms.",
        ),
        "nowcast": (
            "ceasefire.monitor._cli",
            "nowcast_command",
            "Condition a scenario's priors on the ledger's record up to a date; forecast the rest.",
        ),
        "serve": (
            "ceasefire.web._cli",
            "serve_command",
            "A local web app: open scenarios, change terms, replay runs.",
        ),
    },
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help=_("Show the version and exit."),
)
def main() -> None:
    """Model, simulate and monitor mediated ceasefire-for-exchange agreements."""
    _exit_on_termination()
    # pydantic looks for plugins in every installed package's entry points when it first
    # builds a validator (about 20 ms of `check`); the command line uses none. A value the
    # user has set is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


# Signals received and not yet acted on. A handler's exception raised while a C library
# calls back into Python (numba does, while it loads the compiled kernel) is printed and
# dropped there; the signal stays here, and the next batch's progress call ends the run.
_PENDING_SIGNALS: list[int] = []


def _exit_on_termination() -> None:
    """SIGTERM and SIGHUP end the command as an exception does: staging folders are
    removed, worker processes stopped, nothing half-written left (exit 128 + signal)."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        _PENDING_SIGNALS.append(signum)
        raise SystemExit(128 + signum)

    default_hook = sys.unraisablehook

    def quiet_lost_exit(unraisable: Any) -> None:
        # The exit raised by ``stop`` inside a C callback: kept pending, not a traceback.
        if isinstance(unraisable.exc_value, SystemExit) and _PENDING_SIGNALS:
            return
        default_hook(unraisable)

    sys.unraisablehook = quiet_lost_exit

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check(files: tuple[str, ...]) -> None:
    """Validate scenario FILES (YAML or JSON); exit 2 if any is refused.

    Warnings (a clause with no effect, a default left implicit) are printed too; a file
    with warnings is still ok."""
    from .scenario import ScenarioError, check_file

    failed = False
    out = _console()
    for path in files:
        try:
            scenario, warnings = check_file(path)
        except ScenarioError as error:
            _console(stderr=True).print(error.render(), markup=False)
            failed = True
            continue
        for warning in warnings:
            out.print(f"  warning: {warning}", markup=False)
        count = len(warnings)
        said = f", {count} warning{'s' if count != 1 else ''}" if count else ""
        out.print(f"{path}: ok ({scenario.name}){said}", markup=False)
    if failed:
        sys.exit(EXIT_BAD_INPUT)


@main.command()
@click.option("--out", "out", type=click.Path(dir_okay=False), help="write to this file")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "markdown"]),
    default="json",
    show_default=True,
    help="json: the JSON Schema; markdown: the field reference of docs/scenarios.md",
)
def schema(out: str | None, fmt: str) -> None:
    """Print the JSON Schema of scenario files (or their field reference)."""
    if fmt == "markdown":
        from .scenario import field_reference

        text = field_reference()
    else:
        from .scenario import json_schema

        text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    _write_text(out, text)


def _write_text(out: str | None, text: str) -> None:
    """``text`` to stdout, or to the file ``out`` (written whole, then renamed)."""
    if out is None:
        click.echo(text, nl=False)
        return
    target = Path(out)
    folder = target.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        _fail(f"cannot write {out}: {folder} {what}; give a path in an existing folder")
    # Written beside the target, then renamed: a reader never sees half a schema.
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        staging.write_text(text, encoding="utf-8")
        staging.replace(target)
    except OSError as exc:
        staging.unlink(missing_ok=True)
        _fail(f"cannot write {out}: {exc.strerror or exc}", 1)


@main.command(name="import-domain")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out", type=click.Path(dir_okay=False), help="write to this file")
@click.option(
    "--ignore-discount",
    is_flag=True,
    help="drop the profiles' discount factors (below 1) instead of importing them as "
    "`discount: {factor, per: round}`; the file's header says so",
)
def import_domain_command(paths: tuple[str, ...], out: str | None, ignore_discount: bool) -> None:
    """Import a negotiation domain as a talks-only scenario (YAML).

    PATHS: a Genius XML domain file and its two profiles, GeniusWeb JSON files (a domain
    and two profiles), or a folder holding them. Refuses (exit 2) what a scenario cannot
    express: other than two profiles, non-linear utilities. A Genius discount factor
    becomes the negotiator's `discount` (per round, as NegMAS's Genius reader applies it)."""
    from .scenario import DomainError, ScenarioError, import_domain, loads_scenario

    try:
        text = import_domain([Path(p) for p in paths], ignore_discount=ignore_discount)
    except DomainError as exc:
        _fail(f"cannot import: {exc}")
    try:  # the file must load as it is written; anything else is a bug of the importer
        loads_scenario(text, "imported.yaml")
    except ScenarioError as error:
        _fail(f"cannot import: the domain does not make a valid scenario:\n{error.render()}")
    _write_text(out, text)


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
    help="write transcript.jsonl, ledger.csv, summary.json, report.html here (with talks, "
    "also the offer trace: offers.csv, offers.parquet)",
)
@click.option(
    "--analytics",
    "analytics",
    type=click.Choice(["ours", "negmas"]),
    default="ours",
    show_default=True,
    help="definitions of the talks' analytics in the JSON summary: ours, or NegMAS 0.16's "
    "(docs/negotiation.md)",
)
@click.option(
    "--draw",
    "draw",
    type=click.IntRange(min=0),
    default=None,
    help="run draw I of the scenario's priors (ensemble episode I of --seed) "
    "instead of the file's point values",
)
@_force_option
@click.option("--json", "as_json", is_flag=True, help="print only the summary, as JSON")
@click.option(
    "--replay",
    "as_replay",
    is_flag=True,
    help="step through the transcript day by day (Enter: next day, q: quit)",
)
def run_command(
    file: str,
    seed: int,
    draw: int | None,
    out: str | None,
    analytics: str,
    force: bool,
    as_json: bool,
    as_replay: bool,
) -> None:
    """Run one episode of the scenario in FILE and show it day by day."""
    if as_json and as_replay:
        raise click.UsageError("--json and --replay cannot be combined")
    scenario = _load(file)
    _check_out(out, force)
    from .engine import run
    from .ensemble import draw_scenario, run_draw
    from .outputs import (
        OutputFolderError,
        negotiation_analytics,
        replay,
        summary_json,
        write_outputs,
    )

    if draw is None:
        episode = run(scenario, seed=seed)
    else:
        episode = run_draw(scenario, seed, draw)
        scenario = draw_scenario(scenario, seed, draw)
    if out is not None:
        try:
            write_outputs(out, scenario, episode, force=force, analytics=analytics)
        except OutputFolderError as exc:
            _fail(str(exc))
        except OSError as exc:
            _console(stderr=True).print(f"cannot write {out}: {exc}", markup=False)
            sys.exit(1)
    if as_json:
        data = None
        if scenario.negotiation is not None:
            data = negotiation_analytics(scenario, episode, definitions=analytics)
        click.echo(summary_json(episode, data), nl=False)
        return
    console = _console()
    if as_replay:
        names = {p.id: p.name for p in scenario.parties}
        names |= {m.id: m.name for m in scenario.mediators}
        replay(
            episode,
            console,
            console.input if sys.stdin.isatty() else None,
            names=names,
            height=console.height if console.is_terminal else None,
        )
    else:
        _print_days(console, scenario, episode)
    _print_summary(console, episode, releases=not scenario.talks_only)
    if out is not None:
        console.print(f"outputs written to {out}/", markup=False)


def _print_days(console: Console, scenario: Scenario, episode: Episode) -> None:
    from .outputs import day_rows
    from .terminal import Col, fitted_table

    # A negotiation alone has no releases, pauses or side channels: only its talks.
    releases = not scenario.talks_only
    parties = [p.id for p in scenario.parties] if releases else []
    names = {p.id: p.name for p in scenario.parties}
    rows = day_rows(episode)
    if not releases:  # the days after the talks ended hold nothing
        last = max((i for i, row in enumerate(rows) if row.talks or row.notes), default=-1)
        rows = rows[: last + 1]
    talks = any(row.talks for row in rows)
    columns = [
        Col("date"),
        Col("run\nday", justify="right"),
        *([Col("mode")] if releases else []),
        *(Col(f"released by {names[p]}", wrap=True) for p in parties),
        *([Col("side channels", wrap=True, drop=1)] if releases else []),
        Col("talks (each side's value); notes" if talks else "notes", wrap=True, narrowest=16),
    ]
    cells = [
        [
            row.date,
            str(row.day),
            *([row.mode] if releases else []),
            *(row.released_text(p) for p in parties),
            *([", ".join(f"{n} {c}" for c, n in row.side_channel.items())] if releases else []),
            "; ".join([*row.talks, *row.notes]),
        ]
        for row in rows
    ]
    fitted = fitted_table(
        console.width,
        columns,
        cells,
        styles=["bold" if row.mode == "pause" else "dim" for row in rows],
        title=f"{scenario.name}: day by day",
        title_justify="left",
        caption=f"run day 1 is {rows[0].date}, the first day of the scenario's calendar"
        if rows
        else None,
        caption_justify="left",
    )
    console.print(fitted.table)
    if fitted.left_out:
        console.print(fitted.note(console.width), style="dim", markup=False)


def _print_summary(console: Console, episode: Episode, releases: bool = True) -> None:
    """The run's summary; without ``releases`` (a negotiation alone), only the talks."""
    from rich.table import Table

    from .engine import END_REASONS
    from .terminal import plural

    s = episode.summary
    table = Table(title="summary", title_justify="left", show_header=False)
    table.add_column("what", overflow="fold")
    table.add_column("value", overflow="fold")
    if releases:
        if s.agreement_kind == "exchange":
            table.add_row("pause", "none: a one-off exchange")
        else:
            table.add_row(
                "pause",
                f"{s.pause_start} to {s.pause_end}, {plural(s.pause_days, 'day')}"
                if s.pause_start
                else "none",
            )
        _release_rows(table, s)
    for deal in s.agreements:
        terms = ", ".join(f"{k}={v}" for k, v in deal["terms"].items())
        share = ", ".join(f"{p} {v:.0%}" for p, v in deal["satisfaction"].items())
        table.add_row(
            f"agreement {deal['date']}",
            f"{terms} (round {deal['round']}, "
            f"via {deal['via'].replace('_', ' ')}; satisfaction {share})",
        )
    if s.talk_rounds:
        table.add_row("talk rounds", str(s.talk_rounds))
    if releases:
        table.add_row("breaches", str(len(s.breaches)))
        table.add_row("delays", str(s.delays))
    table.add_row("end reason", f"{s.end_reason}: {END_REASONS[s.end_reason]}")
    table.add_row("end detail", s.end_detail)
    draw = f", draw {s.draw}" if s.draw is not None else ""
    table.add_row(
        "inputs", f"{s.scenario_hash}, seed {s.seed}{draw}, ceasefire {s.package_version}"
    )
    console.print(table)


def _release_rows(table: Table, s: Summary) -> None:
    """The summary's rows of what was carried out: the extensions, releases, remains,
    side channels, obligations and postponements."""
    table.add_row("extensions", ", ".join(f"+{d}" for d in s.extensions) or "none")
    if s.phases:
        table.add_row(
            "phases",
            "; ".join(f"phase {p['phase']} from {p['start']} ({p['days']} days)" for p in s.phases),
        )
    for party, counts in s.released.items():
        total = sum(counts.values())
        detail = ", ".join(f"{n} {c}" for c, n in counts.items())
        table.add_row(f"released by {party} (deal)", f"{total} ({detail})" if total else "0")
    for party, counts in s.remains.items():
        detail = ", ".join(f"{n} {c}" for c, n in counts.items())
        table.add_row(f"of which remains ({party})", f"{sum(counts.values())} ({detail})")
    side = ", ".join(f"{n} {c}" for c, n in s.side_channel_by_category.items())
    table.add_row("side channels", f"{s.side_channel_released}" + (f" ({side})" if side else ""))
    for party, owed in s.obligations.items():
        detail = ", ".join(f"{n:,} {o}" for o, n in owed.items())
        table.add_row(f"obligations of {party}", f"owed over the pause: {detail}")
    for move in s.postponed:
        table.add_row(
            "postponed",
            f"{move['party']}'s {move['what']}: due {move['due']}, made {move['made']}",
        )


# ---------------------------------------------------------------------------
# Ensembles: `ensemble`, `compare`, `sensitivity`

EXIT_INTERRUPTED = 130


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    _console(stderr=True).print(message, markup=False, soft_wrap=True)
    sys.exit(code)


def _engine_options(backend: str, address: str | None) -> dict[str, Any]:
    """Keyword arguments for the ensemble engine: none for a local run (the engine's
    default), ``backend`` and ``address`` otherwise (Ray is imported, and a missing
    ``ray`` package reported, when the run starts)."""
    if backend == "local":
        if address is not None:
            raise click.UsageError("--address needs --backend ray")
        return {}
    return {"backend": backend, "address": address}


def _backend_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--address",
        default=None,
        metavar="ADDR",
        help="address of a running Ray cluster (with --backend ray; default: a local one)",
    )(func)
    return click.option(
        "--backend",
        type=click.Choice(["local", "processes", "ray"]),
        default="local",
        show_default=True,
        help="where the episodes run: this process, a worker process per CPU, or a Ray cluster",
    )(func)


def _stop_if_signalled() -> None:
    """End the command for a termination signal whose handler's exit was lost."""
    if _PENDING_SIGNALS:
        raise SystemExit(128 + _PENDING_SIGNALS[0])


@contextmanager
def _progress(total: int, show: bool, what: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (when ``show``); yields the per-batch callback, which
    also ends the command between batches for a termination signal received."""
    if not show:
        yield lambda _k: _stop_if_signalled()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from .terminal import Terminal

    with Progress(
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Terminal(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=total)

        def advance(k: int) -> None:
            _stop_if_signalled()
            bar.advance(task, k)

        yield advance


def _show_progress(quiet: bool, n: int, batch_size: int) -> bool:
    return not quiet and n > batch_size and sys.stderr.isatty()


def _note_compiling(quiet: bool) -> None:
    """Say on a terminal that the ensemble engine is being compiled (the first ensemble
    after an install or an upgrade: about 20 to 30 minutes on a 2-core machine, then cached)."""
    from .ensemble import is_compiled

    if not quiet and sys.stderr.isatty() and not is_compiled():
        _console(stderr=True).print(
            "Compiling the ensemble engine: about 20 to 30 minutes on a small machine, "
            "once after an install or an upgrade (cached afterwards).",
            markup=False,
        )


def _run_guarded(out: str | None, work: Callable[[], Any]) -> Any:
    """Run ``work`` with the ensemble commands' error handling: bad input exits 2, a
    folder that cannot be written 1, Ctrl-C 130 (and nothing is left half-written)."""
    from .ensemble import ComparisonError, SensitivityError
    from .ensemble._backend import BackendError
    from .outputs import OutputFolderError

    try:
        return work()
    except KeyboardInterrupt:
        where = f"; {out} was not written" if out is not None else ""
        _fail(f"interrupted{where}", EXIT_INTERRUPTED)
    except (ComparisonError, SensitivityError, NotADirectoryError, OutputFolderError) as exc:
        _fail(str(exc))
    except BackendError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {out if out is not None else 'the outputs'}: {exc}", 1)


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def _interval(entry: dict[str, Any]) -> str:
    return f"{100 * entry['low']:.2f}% to {100 * entry['high']:.2f}%"


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _print_ensemble(console: Console, scenario: Scenario, data: dict[str, Any]) -> None:
    from rich.table import Table

    from .terminal import plural

    names = {p.id: p.name for p in scenario.parties}
    table = Table(
        title=f"{scenario.name}: {plural(data['n'], 'episode')}, seed {data['seed']}",
        title_justify="left",
    )
    table.add_column("quantity", overflow="fold")
    for head in ("mean", "5%", "25%", "50%", "75%", "95%"):
        table.add_column(head, justify="right", no_wrap=True)

    def row(label: str, d: dict[str, Any]) -> None:
        table.add_row(
            label, f"{d['mean']:,.2f}", *(_num(d[k]) for k in ("q05", "q25", "q50", "q75", "q95"))
        )

    row("pause days", data["pause_days"])
    row("extensions", data["extensions"])
    for party, rel in data["released"].items():
        row(f"released by {names.get(party, party)} (deal)", rel["total"])
        for category, d in rel["by_category"].items():
            row(f"  {category}", d)
    row("side-channel releases", data["side_channel_released"])
    row("delays", data["delays"])
    if "talk_rounds" in data:
        row("talk rounds", data["talk_rounds"])
    console.print(table)

    probs = Table(title="probabilities (95% Wilson intervals)", title_justify="left")
    probs.add_column("event", overflow="fold")
    probs.add_column("probability", justify="right", no_wrap=True)
    probs.add_column("95% interval", justify="right", no_wrap=True)
    probs.add_row(
        "agreement by the horizon", _pct(data["agreement"]["p"]), _interval(data["agreement"])
    )
    probs.add_row("breach", _pct(data["breach"]["p"]), _interval(data["breach"]))
    for reason, entry in data["end_reasons"].items():
        probs.add_row(f"ends: {reason}", _pct(entry["p"]), _interval(entry))
    console.print(probs)

    dates = Table(
        title="probability of an agreement by each date (where it changes)", title_justify="left"
    )
    dates.add_column("by date", no_wrap=True)
    dates.add_column("probability", justify="right", no_wrap=True)
    dates.add_column("95% interval", justify="right", no_wrap=True)
    previous = -1
    by_date = data["agreement_by_date"]
    for i, entry in enumerate(by_date):
        if entry["count"] != previous or i == len(by_date) - 1:
            dates.add_row(entry["date"], _pct(entry["p"]), _interval(entry))
            previous = entry["count"]
    console.print(dates)
    console.print(
        f"inputs: {data['scenario_hash']}, seed {data['seed']}, {plural(data['n'], 'episode')}, "
        f"ceasefire {data['package_version']}",
        markup=False,
    )


@main.command(name="ensemble")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "-n",
    "n",
    default=10_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="number of episodes (draws 0..N-1 of the scenario's priors)",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="ensemble seed (same scenario + seed + N = same outputs)",
)
@click.option(
    "--batch-size",
    default=BATCH_SIZE,
    show_default=True,
    type=click.IntRange(min=1),
    help="episodes per batch: memory is one batch; results do not depend on it",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    help="write summary.json, episodes.parquet and report.html here (all or nothing)",
)
@click.option(
    "--episodes-csv",
    is_flag=True,
    help="with --out, also write episodes.csv: one row per episode, as episodes.parquet",
)
@_force_option
@click.option("--json", "as_json", is_flag=True, help="print only summary.json")
@click.option("--quiet", is_flag=True, help="no progress bar")
@_backend_options
def ensemble_command(
    file: str,
    n: int,
    seed: int,
    batch_size: int,
    out: str | None,
    episodes_csv: bool,
    force: bool,
    as_json: bool,
    quiet: bool,
    backend: str,
    address: str | None,
) -> None:
    """Run N episodes of the scenario in FILE, each on its own draw of its priors, and
    show the distributions: quantiles of pause days and releases, the probability of an
    agreement by each date, of a breach and of each end reason."""
    scenario = _load(file)
    if episodes_csv and out is None:
        raise click.UsageError("--episodes-csv needs --out DIR")
    _check_out(out, force)
    engine = _engine_options(backend, address)
    from .ensemble import iter_ensemble
    from .outputs._ensemble_report import summary_text, write_ensemble
    from .terminal import visible

    _note_compiling(quiet or as_json)

    def work() -> dict[str, Any]:
        batches = iter_ensemble(scenario, n, seed, batch_size, **engine)
        with _progress(n, _show_progress(quiet, n, batch_size), "episodes") as advance:
            return write_ensemble(
                scenario,
                batches,
                seed=seed,
                out=out,
                progress=advance,
                force=force,
                episodes_csv=episodes_csv,
            )

    data: dict[str, Any] = _run_guarded(out, work)
    if as_json:
        click.echo(visible(summary_text(data)), nl=False)
        return
    console = _console()
    _print_ensemble(console, scenario, data)
    if out is not None:
        console.print(f"outputs written to {out}/", markup=False)


@main.command(name="compare")
@click.argument("file_a", metavar="A", type=click.Path(dir_okay=False))
@click.argument("file_b", metavar="B", type=click.Path(dir_okay=False))
@click.option(
    "-n",
    "n",
    default=10_000,
    show_default=True,
    type=click.IntRange(min=2),
    help="number of episodes of each design",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="ensemble seed, shared by both designs",
)
@click.option(
    "--batch-size",
    default=BATCH_SIZE,
    show_default=True,
    type=click.IntRange(min=1),
    help="episodes per batch (memory: two batches)",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    help="write summary.json and report.html here (all or nothing)",
)
@_force_option
@click.option("--json", "as_json", is_flag=True, help="print only the comparison, as JSON")
@click.option("--quiet", is_flag=True, help="no progress bar")
@_backend_options
def compare_command(
    file_a: str,
    file_b: str,
    n: int,
    seed: int,
    batch_size: int,
    out: str | None,
    force: bool,
    as_json: bool,
    quiet: bool,
    backend: str,
    address: str | None,
) -> None:
    """Compare two designs, A and B, on the same draws (common random numbers).

    Episode i of A and of B uses the same random streams: the j-th prior of each file
    takes the same draw (both files need the same prior targets, in the same order) and
    the same in-episode draws. For each metric: the mean under A and under B, and the
    mean paired difference B - A with a 95% paired t interval."""
    a, b = _load(file_a), _load(file_b)
    _check_out(out, force)
    engine = _engine_options(backend, address)
    from rich.table import Table

    from .ensemble import compare
    from .outputs._analysis_report import render_compare_report
    from .outputs._ensemble_report import summary_text, write_folder
    from .terminal import visible

    _note_compiling(quiet or as_json)

    def work() -> dict[str, Any]:
        with _progress(n, _show_progress(quiet, n, batch_size), "pairs") as advance:
            data = compare(a, b, n, seed, batch_size, progress=advance, **engine)
        data["a"]["file"], data["b"]["file"] = file_a, file_b
        if out is not None:
            write_folder(
                out,
                {
                    "summary.json": summary_text(data),
                    "report.html": render_compare_report(a, b, data),
                },
                force=force,
            )
        return data

    data: dict[str, Any] = _run_guarded(out, work)
    if as_json:
        click.echo(visible(summary_text(data)), nl=False)
        return
    console = _console()
    table = Table(
        title=f"B - A, {data['n']:,} paired episodes, seed {seed} (A: {file_a}, B: {file_b})",
        title_justify="left",
    )
    table.add_column("metric", overflow="fold")
    for head in ("mean A", "mean B", "B - A", "95% interval"):
        table.add_column(head, justify="right", no_wrap=True)
    for m in data["metrics"]:
        digits = 3 if m["kind"] == "probability" else 2
        interval = (
            f"{m['low']:+.{digits}f} to {m['high']:+.{digits}f}" if m["low"] is not None else "-"
        )
        table.add_row(
            m["label"],
            f"{m['a_mean']:.{digits}f}",
            f"{m['b_mean']:.{digits}f}",
            f"{m['difference']:+.{digits}f}",
            interval,
        )
    console.print(table)
    console.print(
        f"A: {file_a} ({data['a']['scenario_hash']}); B: {file_b} "
        f"({data['b']['scenario_hash']}); ceasefire {data['package_version']}",
        markup=False,
    )
    if out is not None:
        console.print(f"outputs written to {out}/", markup=False)


def _clause_ranges(clauses: tuple[str, ...]) -> dict[str, tuple[int, int] | None]:
    out: dict[str, tuple[int, int] | None] = {}
    for text in clauses:
        name, sep, span = text.partition("=")
        if not sep:
            out[name.strip()] = None
            continue
        low, colon, high = span.partition(":")
        try:
            if not colon:
                raise ValueError
            out[name.strip()] = (int(low), int(high))
        except ValueError:
            raise click.BadParameter(
                f"{text!r}: give NAME or NAME=LOW:HIGH with whole numbers, "
                "e.g. extension.per_step=5:15",
                param_hint="--clause",
            ) from None
    return out


@main.command(name="sensitivity")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "-n",
    "n",
    default=256,
    show_default=True,
    type=click.IntRange(min=2),
    help="base sample size, a power of 2 (the model runs N x (inputs + 2) times)",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="seed of the design, the bootstrap and the episodes' draws",
)
@click.option(
    "--clause",
    "clauses",
    multiple=True,
    metavar="NAME[=LOW:HIGH]",
    help="a clause to vary (repeat for several), e.g. exchange.ratios.women_children"
    "=1:5; default: initial_days, the exchange ratios and the extension rule's "
    "per_step, per_extension_limit_days and max_total_days, each ±50%",
)
@click.option("--no-clauses", is_flag=True, help="vary the priors only")
@click.option(
    "--no-dummy",
    is_flag=True,
    help="leave out the dummy input (the in-episode random stream: its indices show how much "
    "of the variance is chance within episodes)",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    help="write summary.json and report.html (tornado charts) here",
)
@_force_option
@click.option("--json", "as_json", is_flag=True, help="print only the indices, as JSON")
def sensitivity_command(
    file: str,
    n: int,
    seed: int,
    clauses: tuple[str, ...],
    no_clauses: bool,
    no_dummy: bool,
    out: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Which clause or uncertain number matters most: Sobol' indices of pause days and
    of releases, for the scenario's priors and clauses of its agreement.

    Uses scipy.stats.sobol_indices (Saltelli's design; first-order and total indices)
    with 95% bootstrap intervals; SciPy is a dependency already and well kept, so SALib
    is not needed."""
    scenario = _load(file)
    if no_clauses and clauses:
        raise click.UsageError("--clause and --no-clauses cannot be combined")
    _check_out(out, force)
    requested: dict[str, tuple[int, int] | None] | None = (
        {} if no_clauses else _clause_ranges(clauses) if clauses else None
    )
    from rich.table import Table

    from .ensemble import sobol_analysis
    from .outputs._analysis_report import index_text, render_sensitivity_report
    from .outputs._ensemble_report import summary_text, write_folder
    from .terminal import visible

    _note_compiling(as_json)

    def work() -> dict[str, Any]:
        data = sobol_analysis(scenario, n=n, seed=seed, clauses=requested, dummy=not no_dummy)
        if out is not None:
            write_folder(
                out,
                {
                    "summary.json": summary_text(data),
                    "report.html": render_sensitivity_report(scenario, data),
                },
                force=force,
            )
        return data

    data: dict[str, Any] = _run_guarded(out, work)
    if as_json:
        click.echo(visible(summary_text(data)), nl=False)
        return
    console = _console()
    for key, output in data["outputs"].items():
        table = Table(title=f"Sobol indices: {output['label']} ({key})", title_justify="left")
        table.add_column("input", overflow="fold")
        table.add_column("kind", overflow="fold")
        table.add_column("first\norder", justify="right", no_wrap=True)
        table.add_column("95% interval", justify="right", no_wrap=True)
        table.add_column("total", justify="right", no_wrap=True)
        table.add_column("95% interval", justify="right", no_wrap=True)
        for r in output["indices"]:
            table.add_row(
                r["input"],
                r["kind"],
                index_text(r["first_order"]),
                f"{index_text(r['first_low'])} to {index_text(r['first_high'])}",
                index_text(r["total_order"]),
                f"{index_text(r['total_low'])} to {index_text(r['total_high'])}",
            )
        console.print(table)
    console.print(
        f"{data['evaluations']:,} model runs ({data['engine']} engine), base sample {n}, "
        f"seed {seed}; {data['scenario_hash']}, ceasefire {data['package_version']}",
        markup=False,
    )
    if out is not None:
        console.print(f"outputs written to {out}/", markup=False)
