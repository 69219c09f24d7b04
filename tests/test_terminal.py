"""Text from scenarios and ledgers reaches the terminal as data: never read as Rich markup
or emoji codes, its control characters shown as escapes, whatever the command."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rich.table import Table

from ceasefire.terminal import Terminal, visible
from test_monitor_support import RECORD, cli, init_cli

from conftest import NOV2023

# Markup that Rich refuses ([/]), a style ([bold]), an emoji code, an OSC title sequence,
# a colour sequence and a bidirectional override.
NAME = "Truce [bold]x[/] \\e]0;owned\\a :israel:"
PARTY_A = "[/]"
PARTY_B = "side \\e[31m red \\u202e end"
RAW = ("\x1b", "\x07", "\u202e")


def _nasty_scenario(tmp_path: Path) -> Path:
    text = NOV2023.read_text(encoding="utf-8")
    text = text.replace('name: "Gaza truce, November 2023"', f'name: "{NAME}"', 1)
    text = text.replace("    name: Israel\n", f'    name: "{PARTY_A}"\n', 1)
    text = text.replace("    name: Hamas\n", f'    name: "{PARTY_B}"\n', 1)
    path = tmp_path / "nasty.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _assert_data_shown_as_is(out: str) -> None:
    for raw in RAW:
        assert raw not in out
    assert "🇮🇱" not in out


def test_visible_escapes_controls_and_keeps_text() -> None:
    assert visible("a\x1b]0;t\x07b") == "a\\x1b]0;t\\x07b"
    assert visible("x\ry\u202ez\u2066") == "x\\x0dy\\u202ez\\u2066"
    assert visible("\x85 \x7f \ud800") == "\\x85 \\x7f \\ud800"
    # Newlines, letters of any script, joiners used in names, emoji written as such.
    hebrew = "\u05e2\u05d1\u05e8\u05d9\u05ea"
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # with a zero-width non-joiner
    kept = f"line\nnext {hebrew} {persian} \U0001f642"
    assert visible(kept) == kept


def test_terminal_prints_markup_and_emoji_codes_literally() -> None:
    console = Terminal(file=io.StringIO(), width=80)
    table = Table("name")
    table.add_row("[/] :israel: \x1b[2J")
    console.print("[bold]x[/] :israel: \x1b]0;t\x07")
    console.print(table)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "[bold]x[/] :israel: \\x1b]0;t\\x07" in out
    assert "[/] :israel: \\x1b[2J" in out
    _assert_data_shown_as_is(out)


def test_run_check_and_replay_show_names_as_data(tmp_path: Path) -> None:
    path = _nasty_scenario(tmp_path)
    checked = cli("check", str(path))
    assert checked.returncode == 0, checked.stderr
    assert "Truce [bold]x[/] \\x1b]0;owned\\x07 :israel:" in checked.stdout
    run = cli("run", str(path), "--out", str(tmp_path / "run"))
    assert run.returncode == 0, run.stderr
    assert "released by [/]" in run.stdout
    assert "\\x1b[31m red \\u202e" in run.stdout
    _assert_data_shown_as_is(run.stdout + run.stderr)
    replay = cli("run", str(path), "--replay")
    assert replay.returncode == 0, replay.stderr
    _assert_data_shown_as_is(replay.stdout + replay.stderr)


def test_ensemble_shows_names_as_data(tmp_path: Path) -> None:
    path = _nasty_scenario(tmp_path)
    result = cli("ensemble", str(path), "-n", "20", "--out", str(tmp_path / "ens"))
    assert result.returncode == 0, result.stderr
    assert "Truce [bold]x[/]" in result.stdout
    _assert_data_shown_as_is(result.stdout + result.stderr)


def test_ledger_cells_and_score_keys_are_data(tmp_path: Path) -> None:
    with open(RECORD, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    record = tmp_path / "record.csv"

    def write(from_party: str) -> None:
        rows[3]["from_party"] = from_party
        with open(record, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    db = str(tmp_path / "l.sqlite")
    init_cli(db)
    # A control character never reaches the ledger from a CSV file (refused at its cell)...
    write("[/] \x1b]0;owned\x07 :israel:")
    refused = cli("monitor", "import", "--db", db, str(record))
    assert refused.returncode == 2 and "control character \\x1b" in refused.stderr
    # ... and markup and emoji codes are stored and shown as the text they are.
    write("[/] [bold]x :israel:")
    assert cli("monitor", "import", "--db", db, str(record)).returncode == 0
    listed = cli("monitor", "list", "--db", db, "--all")
    assert listed.returncode == 0, listed.stderr
    assert "[/] [bold]x :israel:" in listed.stdout
    _assert_data_shown_as_is(listed.stdout + listed.stderr)

    saved = tmp_path / "forecast.json"
    assert cli("monitor", "forecast", str(NOV2023), "--single", "--out", str(saved)).returncode == 0
    scored = cli("monitor", "score", "--db", db, str(NOV2023), "--forecast", str(saved))
    assert scored.returncode == 0, scored.stderr
    assert "released:israel:2023-11-24" in scored.stdout
    assert "released:hamas:2023-11-24" in scored.stdout
    _assert_data_shown_as_is(scored.stdout + scored.stderr)
