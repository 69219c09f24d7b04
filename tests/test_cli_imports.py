"""The command line starts fast: `--help` and `check` import only what they use.

Each test runs the command in a fresh process and reads back the modules it imported,
so that an eager import (of the engines, the reports, Ray, SciPy, the monitor's store)
cannot slip back into `ceasefire.cli` or `ceasefire/__init__.py` unnoticed. Timing is
left to bench/bench_cli.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import click
from click.testing import CliRunner

import ceasefire
from ceasefire import cli

from conftest import NOV2023

# Imported by neither `--help` nor `check`.
HEAVY = (
    "alembic",
    "altair",
    "jinja2",
    "numba",
    "numpy",
    "psycopg",
    "pyarrow",
    "ray",
    "scipy",
    "scoringrules",
    "sqlalchemy",
    "starlette",
    "uvicorn",
    "ceasefire.engine",
    "ceasefire.ensemble",
    "ceasefire.monitor",
    "ceasefire.outputs",
    "ceasefire.web._app",
)

PROBE = """
import json, sys
from ceasefire.cli import main
try:
    main(sys.argv[1:], prog_name="ceasefire")
except SystemExit as exit:
    code = exit.code
print("\\n" + json.dumps([code, sorted(sys.modules)]))
"""


def imported_by(*args: str) -> tuple[object, set[str]]:
    """Run ``ceasefire ARGS`` in a fresh process: its exit code and imported modules."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    code, modules = json.loads(result.stdout.splitlines()[-1])
    return code, set(modules)


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_help_imports_nothing_heavy() -> None:
    code, modules = imported_by("--help")
    assert code == 0
    assert heavy(modules) == []
    assert not {"pydantic", "rich", "ruamel", "ceasefire.scenario"} & modules
    assert "importlib.metadata" not in modules  # the version is read for --version only


def test_check_imports_the_scenario_layer_only() -> None:
    code, modules = imported_by("check", str(NOV2023))
    assert code == 0
    assert "ceasefire.scenario" in modules
    assert heavy(modules) == []


def test_the_monitor_group_is_loaded_when_used() -> None:
    code, modules = imported_by("monitor", "--help")
    assert code == 0
    assert "ceasefire.monitor._cli" in modules


def test_the_serve_command_is_loaded_when_used_and_its_help_is_light() -> None:
    code, modules = imported_by("serve", "--help")
    assert code == 0
    assert "ceasefire.web._cli" in modules
    assert heavy(modules) == []
    _code, modules = imported_by("--help")
    assert not any(m == "ceasefire.web" or m.startswith("ceasefire.web.") for m in modules)


def test_the_stand_ins_match_what_they_stand_for() -> None:
    """The lazy group's short help and the written-out batch size equal the real ones."""
    from ceasefire.ensemble._episodes import BATCH_SIZE
    from ceasefire.monitor._backtest_cli import backtest_command
    from ceasefire.monitor._cli import monitor_group
    from ceasefire.web._cli import serve_command

    assert cli.BATCH_SIZE == BATCH_SIZE
    assert isinstance(cli.main, cli._LazyGroup)
    for name, (module, attribute, short_help) in cli.main.lazy.items():
        command = getattr(sys.modules[module], attribute)
        assert isinstance(command, click.Command)
        assert command.name == name
        assert command.short_help is None and command.help == short_help
    assert cli.main.lazy["monitor"][:2] == ("ceasefire.monitor._cli", "monitor_group")
    assert monitor_group.help == cli.main.lazy["monitor"][2]
    assert cli.main.lazy["serve"][:2] == ("ceasefire.web._cli", "serve_command")
    assert serve_command.help == cli.main.lazy["serve"][2]
    assert backtest_command.help == cli.main.lazy["backtest"][2]


def test_the_list_of_commands_is_the_same_once_loaded() -> None:
    runner = CliRunner()
    before = runner.invoke(cli.main, ["--help"], terminal_width=60).output
    assert cli.main.get_command(click.Context(cli.main), "monitor") is not None
    after = runner.invoke(cli.main, ["--help"], terminal_width=60).output
    assert "monitor" in cli.main.commands
    assert before == after and "  monitor " in after


def test_version_and_public_names() -> None:
    result = CliRunner().invoke(cli.main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"ceasefire, version {ceasefire.__version__}\n"
    assert set(ceasefire.__all__) <= set(dir(ceasefire))
    from ceasefire import Scenario, render_report

    assert Scenario is ceasefire.scenario.Scenario
    assert render_report is ceasefire.outputs.render_report
