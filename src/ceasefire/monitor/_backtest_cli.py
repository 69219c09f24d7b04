"""``ceasefire backtest SCENARIO RECORD.csv``: replay a sourced record day by day (see
``_backtest.py``), print the scores over the days and write the report."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

import click
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ..outputs import strict_json_dumps as dumps
from ..scenario import ScenarioError, load_scenario
from ..terminal import Terminal, plural, visible
from ._backtest import METHODS, Backtest, backtest
from ._backtest_report import render_backtest
from ._csv import import_csv
from ._errors import MonitorError, StoreError
from ._export import write_atomic
from ._model import UNITS, CategoryDef
from ._nowcast import NowcastError
from ._options import ensemble_option
from ._outcomes import OutcomeBacktest, outcome_backtest
from ._store import open_store

EXIT_BAD_INPUT = 2


def _fail(message: str) -> NoReturn:
    click.echo(visible(message), err=True)
    sys.exit(EXIT_BAD_INPUT)


def _vocabulary(path: Path) -> list[CategoryDef]:
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        _fail(f"{path}: cannot read the vocabulary ({exc})")
    items = data.get("categories") if isinstance(data, dict) else None
    if not isinstance(items, list):
        _fail(f"{path}: give `categories:` as a list of {{id, unit, description}}")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "id" not in item or item.get("unit") not in UNITS:
            _fail(f"{path}: categories[{i}]: give `id` and `unit` (one of {', '.join(UNITS)})")
        out.append(
            CategoryDef(str(item["id"]), str(item["unit"]), str(item.get("description", "")))
        )
    return out


@click.command(name="backtest")
@click.argument("scenario_path", metavar="SCENARIO", type=click.Path(dir_okay=False))
@click.argument("record", metavar="RECORD.csv", type=click.Path(dir_okay=False))
@click.option(
    "--vocabulary",
    type=click.Path(dir_okay=False),
    help="the record's categories beyond the scenario's (YAML: `categories: [{id, unit}]`; "
    "default: vocabulary.yaml beside the record, if there is one)",
)
@ensemble_option(10_000, "episodes drawn over the priors, once, for every date")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option(
    "--until",
    metavar="DATE",
    help="negotiation scenarios: condition on the record up to DATE (YYYY-MM-DD; default: "
    "the end of the calendar) and score the dates after it apart, held out",
)
@click.option("--out", type=click.Path(dir_okay=False), help="write the report (HTML)")
@click.option("--json", "as_json", is_flag=True, help="print the backtest as JSON")
def backtest_command(
    scenario_path: str,
    record: str,
    vocabulary: str | None,
    n: int,
    seed: int,
    until: str | None,
    out: str | None,
    as_json: bool,
) -> None:
    """Replay a sourced record day by day: nowcasts, baselines and their scores."""
    try:
        scenario = load_scenario(scenario_path)
    except ScenarioError as exc:
        _fail(exc.render())
    if scenario.agreement is None and scenario.negotiation is None:
        _fail(
            f"{scenario_path}: the scenario has neither an agreement nor a negotiation: "
            "there is nothing to backtest"
        )
    if until is not None:
        if scenario.agreement is not None:
            _fail(
                "--until: only for a scenario with a negotiation and no agreement yet (a "
                "scenario with an agreement is conditioned on each date of its record)"
            )
        try:
            until = dt.date.fromisoformat(until).isoformat()
        except ValueError:
            _fail(f"--until: {until!r} is not a date; give it as YYYY-MM-DD, e.g. 2024-02-29")
    if not Path(record).is_file():
        _fail(f"{record}: no such file (give the record as a CSV, see docs/monitoring.md)")
    defs = [CategoryDef(c.id, "people", c.name) for c in scenario.categories]
    beside = Path(record).with_name("vocabulary.yaml")
    if vocabulary is not None:
        defs += _vocabulary(Path(vocabulary))
    elif beside.is_file():
        defs += _vocabulary(beside)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="ceasefire-backtest-") as tmp,
            open_store(str(Path(tmp) / "ledger.sqlite"), create=True) as store,
        ):
            store.add_categories(defs)
            import_csv(store, record)
            snapshot, entries = store.view()
        if scenario.agreement is None:
            outcome = outcome_backtest(scenario, entries, n=n, seed=seed, until=until)
            if out is not None:
                click.echo(
                    f"note: --out {out} not written: a negotiation scenario's backtest has "
                    "no HTML report yet (use --json)",
                    err=True,
                )
            if as_json:
                click.echo(dumps(outcome.to_dict(), indent=2, ensure_ascii=False))
            else:
                _print_outcome(outcome)
            return
        made = backtest(scenario, entries, snapshot, n=n, seed=seed)
    except MonitorError as exc:
        _fail(exc.render())
    except (StoreError, NowcastError) as exc:
        _fail(f"backtest: {exc}")
    if out is not None:
        try:
            write_atomic(out, render_backtest(made).encode("utf-8"))
        except OSError as exc:
            _fail(f"cannot write {out}: {exc}")
    if as_json:
        click.echo(dumps(made.to_dict(), indent=2, ensure_ascii=False))
        return
    _print(made, out)


def _print(made: Backtest, out: str | None) -> None:
    from rich.table import Table

    console = Terminal()

    def cell(value: float | None, digits: int = 4) -> str:
        return "n/a" if value is None else f"{value:.{digits}g}"

    table = Table(
        title=f"backtest of {made.scenario} ({made.drawn:,} episodes, seed {made.seed}): "
        "scores over the quantities still open on each date (lower is better)",
        title_justify="left",
    )
    table.add_column("date")
    table.add_column("kept", justify="right")
    table.add_column("open", justify="right")
    table.add_column("Brier: nowcast / prior / naive", justify="right")
    table.add_column("CRPS: nowcast / prior / naive", justify="right")
    for d in made.days:
        table.add_row(
            d.date,
            str(d.kept),
            str(d.open_quantities),
            " / ".join(cell(d.brier[m], 3) for m in METHODS),
            " / ".join(cell(d.crps[m], 3) for m in METHODS),
        )
    console.print(table)
    failed = [d for d in made.days if d.note]
    if failed:
        more = (
            f" (and {plural(len(failed) - 1, 'later date')} with no member)" if failed[1:] else ""
        )
        console.print(f"{failed[0].note}{more}", markup=False, soft_wrap=True)
    if out is not None:
        console.print(f"report written to {out}", markup=False)


def _print_outcome(made: OutcomeBacktest) -> None:
    console = Terminal()
    rows = made.rows
    first = next((r.date for r in rows if r.prior_p > 0.5), "none")
    console.print(
        f"backtest of {made.scenario} ({made.drawn:,} episodes, seed {made.seed}): the "
        f"record's agreement: {made.agreed_on or 'none'}; P(agreement by {rows[-1].date}) "
        f"{rows[-1].prior_p:.3f}, observed {'yes' if rows[-1].observed else 'no'}; mean "
        f"Brier score of agreement_by over {len(rows)} dates {made.prior_brier_mean:.4g}; "
        f"the first date with P(agreement) above 0.5: {first}",
        markup=False,
        soft_wrap=True,
    )
    console.print(
        f"conditioned on the record up to {made.conditioned_until}: {made.kept:,} of "
        f"{made.drawn:,} episodes match (acceptance {made.kept / made.drawn:.1%})",
        markup=False,
        soft_wrap=True,
    )
    if made.held_out:
        kept_score = (
            "n/a (no member kept)"
            if made.posterior_brier_held_out is None
            else f"{made.posterior_brier_held_out:.4g}"
        )
        console.print(
            f"held out, the {made.held_out} dates after {made.conditioned_until}: mean Brier "
            f"score of agreement_by, prior-only {made.prior_brier_held_out:.4g}, members "
            f"kept {kept_score}",
            markup=False,
            soft_wrap=True,
        )
    from rich.table import Table

    table = Table(title="priors: mean over the draws, and over the members kept")
    for column in ("prior", "drawn", "kept"):
        table.add_column(column)
    for name, (before, after) in made.priors.items():
        table.add_row(name, f"{before:.4g}", "n/a" if after is None else f"{after:.4g}")
    console.print(table)
