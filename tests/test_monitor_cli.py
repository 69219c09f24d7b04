"""`ceasefire monitor add | correct | retract | list | show | verify` as a monitor uses them."""

from __future__ import annotations

import json
from pathlib import Path

from test_monitor_support import cli, init_cli


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
    assert "obs-2" in table.stdout and "1 observations" in table.stdout
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
