"""`ceasefire monitor add | correct | retract | list | show | verify` as a monitor uses them."""

from __future__ import annotations

import json
from pathlib import Path

from ceasefire.monitor import Observation, Source, compliance, render_compliance
from ceasefire.scenario import load_scenario
from test_monitor_support import RECORD, cli, init_cli, new_store

from conftest import NOV2023


def test_add_correct_retract_list_and_show(tmp_path: Path) -> None:
    db = str(tmp_path / "l.sqlite")
    init_cli(db)
    added = cli(
        "monitor",
        "add",
        "--db",
        db,
        "--id",
        "d2-release",
        "--date",
        "2023-11-25",
        "--kind",
        "hostages_released",
        "--from",
        "Hamas",
        "--to",
        "Israel",
        "--channel",
        "deal",
        "--category",
        "women_children",
        "--count",
        "13",
        "--low",
        "13",
        "--high",
        "14",
        "--source",
        "Wire report, 2023-11-26, https://example.org/a",
        "--source-kind",
        "media",
        "--reliability",
        "B",
        "--note",
        "13 (IDF); 14 expected earlier",
    )
    assert added.returncode == 0, added.stderr
    assert "recorded d2-release as entry 1" in added.stdout
    obs = tmp_path / "delay.yaml"
    obs.write_text(
        "date: 2023-11-25\nkind: delay\nfrom_party: Hamas\ncounts:\n"
        "  - {category: event, count: 0}\nnote: held up for several hours\n"
        "source: {text: 'NBC via TODAY, 2023-11-25', kind: media}\n",
        encoding="utf-8",
    )
    assert cli("monitor", "add", "--db", db, "--file", str(obs)).returncode == 0
    fixed = cli(
        "monitor",
        "correct",
        "d2-release",
        "--db",
        db,
        "--count",
        "12",
        "--reason",
        "official recount",
        "--expect-entry",
        "1",
    )
    assert fixed.returncode == 0, fixed.stderr
    assert "entry 3 supersedes entry 1" in fixed.stdout
    stale = cli(
        "monitor",
        "correct",
        "d2-release",
        "--db",
        db,
        "--count",
        "11",
        "--reason",
        "x",
        "--expect-entry",
        "1",
    )
    assert stale.returncode == 2 and "someone recorded a change since" in stale.stderr

    listed = json.loads(cli("monitor", "list", "--db", db, "--json").stdout)
    counts = {e["obs_id"]: e["observation"]["counts"][0]["count"] for e in listed["entries"]}
    assert counts == {"d2-release": 12, "obs-2": 0}
    assert listed["snapshot"]["seq"] == 3

    assert cli("monitor", "retract", "d2-release", "--db", db, "--reason", "dup").returncode == 0
    listed = json.loads(cli("monitor", "list", "--db", db, "--json").stdout)
    assert [e["obs_id"] for e in listed["entries"]] == ["obs-2"]
    full = json.loads(cli("monitor", "list", "--db", db, "--all", "--json").stdout)
    assert [e["action"] for e in full["entries"]] == ["record", "record", "correct", "retract"]
    upto = json.loads(cli("monitor", "list", "--db", db, "--upto", "2", "--json").stdout)
    first = {e["obs_id"]: e for e in upto["entries"]}["d2-release"]
    assert first["observation"]["counts"][0] == {
        "category": "women_children",
        "count": 13,
        "low": 13,
        "high": 14,
    }
    shown = cli("monitor", "show", "d2-release", "--db", db)
    assert "entry 3 (correct of entry 1)" in shown.stdout and "official recount" in shown.stdout
    table = cli("monitor", "list", "--db", db)
    assert "obs-2" in table.stdout and "1 observation\n" in table.stdout
    verified = cli("monitor", "verify", "--db", db)
    assert verified.returncode == 0 and "ledger snapshot 4" in verified.stdout


def test_bad_input_exits_2_with_a_message_and_no_traceback(tmp_path: Path) -> None:
    db = str(tmp_path / "l.sqlite")
    missing = cli("monitor", "list", "--db", db)
    assert missing.returncode == 2 and "monitor init" in missing.stderr
    assert not Path(db).exists()
    init_cli(db)
    cases = [
        (
            [
                "add",
                "--db",
                db,
                "--date",
                "2023-11-25",
                "--kind",
                "delay",
                "--source",
                "x",
                "--source-kind",
                "media",
                "--category",
                "event",
                "--count",
                "-1",
            ],
            "greater than or equal to 0",
        ),
        (
            [
                "add",
                "--db",
                db,
                "--date",
                "2023-11-25",
                "--kind",
                "delay",
                "--source-kind",
                "media",
            ],
            "source.text",
        ),
        (["list", "--db", db, "--as-of", "yesterday"], "is not a date or a timestamp"),
        (["correct", "nope", "--db", db, "--reason", "x"], "no observation 'nope'"),
        (["export", "--db", db, "--out", str(tmp_path / "x.txt")], "cannot tell the format"),
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("date: 2023-11-25\nkind: delay\nsource: {text: x, kind: rumour}\n", "utf-8")
    cases.append((["add", "--db", db, "--file", str(bad)], "bad.yaml:3:"))
    for args, expected in cases:
        result = cli("monitor", *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert expected in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert json.loads(cli("monitor", "list", "--db", db, "--json").stdout)["entries"] == []


def _imported(tmp_path: Path) -> str:
    db = str(tmp_path / "l.sqlite")
    init_cli(db)
    assert cli("monitor", "import", "--db", db, str(RECORD)).returncode == 0
    return db


def test_as_of_that_leaves_nothing_hints_at_to(tmp_path: Path) -> None:
    """--as-of is when entries were recorded: the README's `--as-of 2023-11-28` on a
    ledger recorded today finds nothing, and says that --to is the event-date filter."""
    db = _imported(tmp_path)
    as_of = cli("monitor", "list", "--db", db, "--as-of", "2023-11-28")
    assert as_of.returncode == 0, as_of.stderr
    assert "0 observations" in as_of.stdout
    hint = " ".join(as_of.stdout.split())
    assert "--as-of 2023-11-28 reads the ledger as it was recorded by then" in hint
    to = json.loads(cli("monitor", "list", "--db", db, "--to", "2023-11-28", "--json").stdout)
    n = len(to["entries"])
    assert n > 0 and all(e["observation"]["date"] <= "2023-11-28" for e in to["entries"])
    assert f"{n} observations are dated on or before 2023-11-28: use --to 2023-11-28" in hint
    # A date filter that matches nothing at any time gives no hint.
    none = cli("monitor", "list", "--db", db, "--as-of", "2023-11-28", "--to", "2020-01-01")
    assert none.returncode == 0 and "hint" not in none.stdout


def test_correct_warns_nothing_and_refuses_another_id(tmp_path: Path) -> None:
    db = _imported(tmp_path)
    fixed = cli("monitor", "correct", "obs-8", "--db", db, "--count", "12", "--reason", "recount")
    assert fixed.returncode == 0, fixed.stderr
    assert "Warning" not in fixed.stderr and fixed.stderr == ""
    assert "corrected obs-8" in fixed.stdout
    same = cli(
        "monitor",
        "correct",
        "obs-8",
        "--id",
        "obs-8",
        "--db",
        db,
        "--count",
        "13",
        "--reason",
        "back",
    )
    assert same.returncode == 0 and same.stderr == ""
    other = cli(
        "monitor",
        "correct",
        "obs-8",
        "--id",
        "obs-99",
        "--db",
        db,
        "--count",
        "11",
        "--reason",
        "x",
    )
    assert other.returncode == 2 and "Traceback" not in other.stderr
    assert "--id 'obs-99': a correction keeps the id" in other.stderr
    assert "retract obs-8" in other.stderr
    listed = json.loads(cli("monitor", "list", "--db", db, "--json").stdout)
    ids = {e["obs_id"]: e for e in listed["entries"]}
    assert "obs-99" not in ids and ids["obs-8"]["observation"]["counts"][0]["count"] == 13


def test_show_prints_the_note(tmp_path: Path) -> None:
    db = _imported(tmp_path)
    shown = cli("monitor", "show", "obs-14", "--db", db)
    assert shown.returncode == 0, shown.stderr
    flat = " ".join(shown.stdout.split())
    assert "note: Handover held up for several hours." in flat


def _release(obs_id: str, source: str, target: str, counts: dict[str, int]) -> Observation:
    return Observation.model_validate(
        {
            "id": obs_id,
            "date": "2023-11-24",
            "kind": "hostages_released" if source == "Hamas" else "prisoners_released",
            "from_party": source,
            "to_party": target,
            "channel": "deal",
            "counts": [{"category": c, "count": n} for c, n in counts.items()],
            "source": Source.from_text("Example report, 2023-11-24", "media", "C"),
        }
    )


def test_compliance_row_states_one_basis(tmp_path: Path) -> None:
    """Hamas releases 3 of the 13 due; Israel releases 9, the ratio's 3 per hostage.
    Israel's statements in the row (owed, status, ratio) share one basis: the releases
    made, said as such; before, the row read 'short by 30' beside 'kept'."""
    db = str(tmp_path / "l.sqlite")
    with new_store(db) as store:
        store.record(
            [
                _release("h1", "Hamas", "Israel", {"women_children": 3}),
                _release("i1", "Israel", "Hamas", {"prisoners_women": 3, "prisoners_minors": 6}),
            ],
            origin="add",
            description="a short day",
        )
        snap, current = store.view()
    report = compliance(load_scenario(NOV2023), current, snap)
    day = next(d for d in report.days if d.date == "2023-11-24")
    assert (day.due, day.counted, day.status) == (13, 3, "short by 10")
    assert (day.counter_due, day.counter_owed, day.counter_done) == (39, 9, 9)
    assert day.basis == "releases made"
    assert (day.counter_status, day.ratio_status) == ("met", "kept")
    assert any("the terms schedule 39 counter-releases for 13" in n for n in day.notes)
    table = cli("monitor", "compliance", "--db", db, str(NOV2023))
    assert table.returncode == 0, table.stderr
    assert "9*" in table.stdout and "short by 30" not in table.stdout
    html = render_compliance(report)
    assert "owed on" in html and "the terms&#x27; ratio to the releases made" in html
    assert "agreement day" in html


def test_run_and_compliance_name_their_day_numbering(tmp_path: Path) -> None:
    run = cli("run", str(NOV2023), "--out", str(tmp_path / "run"))
    assert run.returncode == 0, run.stderr
    flat = " ".join(run.stdout.split())
    assert "run day 1 is 2023-11-22" in flat
    assert "Run day" in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    db = _imported(tmp_path)
    checked = cli("monitor", "compliance", "--db", db, str(NOV2023))
    assert "agreement day 1 is 2023-11-24" in " ".join(checked.stdout.split())
