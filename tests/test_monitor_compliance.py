"""Compliance on the November 2023 record, the compliance report, exports and forecast
scores, through the command line as a monitor uses them."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import ceasefire
from ceasefire.monitor import (
    Forecast,
    Store,
    compliance,
    import_csv,
    render_compliance,
    score_forecast,
)
from ceasefire.outputs import chart_scripts
from ceasefire.scenario import load_scenario
from test_monitor_support import RECORD, cli, init_cli, new_store

from conftest import NOV2023
from helpers import without_chart_scripts


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("ledger") / "ledger.sqlite")
    init_cli(db)
    result = cli("monitor", "import", "--db", db, str(RECORD))
    assert result.returncode == 0, result.stderr
    return db


def test_compliance_shows_the_delays_the_credited_pair_and_full_totals(ledger: str) -> None:
    result = cli("monitor", "compliance", "--db", ledger, str(NOV2023), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    days = {d["pause_day"]: d for d in report["days"]}
    assert [days[i]["deal"] for i in range(1, 8)] == [13, 13, 13, 11, 10, 10, 8]
    assert [days[i]["counter_done"] for i in range(1, 8)] == [39, 39, 39, 33, 30, 30, 30]
    assert [days[i]["due"] for i in range(1, 8)] == [13, 13, 13, 11, 10, 10, 10]
    # Day 6: 10 under the deal, 2 more released outside it and counted on day 7.
    six = days[6]
    assert (six["deal"], six["counted"], six["status"]) == (10, 10, "met")
    assert [(c["count"], c["credited_on"]) for c in six["credited_out"]] == [(2, "2023-11-30")]
    # Day 7: 8 + 2 credited = 10, the quota met.
    seven = days[7]
    assert (seven["deal"], seven["counted"], seven["status"]) == (8, 10, "met")
    assert [(c["count"], c["released_on"]) for c in seven["credited_in"]] == [(2, "2023-11-29")]
    assert all(days[i]["ratio_status"] == "kept" for i in range(1, 8))
    assert all(d["categories_kept"] for d in report["days"])
    # The delays of day 2 and day 4, with their sources.
    assert [i for i in range(1, 8) if days[i]["delays"]] == [2, 4]
    assert "several hours" in days[2]["delays"][0]["note"]
    assert "today.com" in days[2]["delays"][0]["source"]
    totals = report["totals"]
    assert (totals["counted"], totals["due"], totals["status"]) == (80, 80, "met")
    assert (totals["counter_done"], totals["counter_due"], totals["counter_status"]) == (
        240,
        240,
        "met",
    )
    assert totals["deal"] == 78 and totals["credited"] == 2 and totals["side_channel"] == 25
    assert totals["pause_days_observed"] == 7 and report["compliant"] is True
    assert report["snapshot"]["seq"] == 49


def test_compliance_table_and_html_report(ledger: str, tmp_path: Path) -> None:
    out = tmp_path / "compliance.html"
    result = cli("monitor", "compliance", "--db", ledger, str(NOV2023), "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "+2 from 2023-11-29" in text and "2 to 2023-11-30" in text
    assert "totals: Hamas 80 counted (78 deal + 2 credited) of 80 due: met" in text
    assert "Israel 240 of 240 owed (on the terms' schedule): met" in text
    assert "delay 2023-11-25 (agreement day 2" in text
    assert "delay 2023-11-27 (agreement day 4" in text
    assert "verdict: compliant" in text
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count(chart_scripts()) == 1  # the vendored chart libraries, inline
    html = without_chart_scripts(html)
    assert not re.search(r"https?://", html), "no network reference in the report"
    assert "<script" not in html and "ledger snapshot 49" in html
    # Two interactive charts, each with its static SVG inside, for readers with scripts off.
    assert html.count('<svg class="chart"') == 2
    assert html.count('class="vl-chart"') == 2
    assert "Releases by Hamas: due vs done per day" in html
    assert "Released outside the deal, counted toward this day" in html
    assert "today.com" in html  # the delay's source, shown as escaped text


def test_as_of_reads_what_was_known_then(tmp_path: Path) -> None:
    from test_monitor_support import Clock, observation

    clock = Clock("2023-11-29T20:00:00+00:00")
    db = str(tmp_path / "l.sqlite")
    with new_store(db, clock) as store:
        import_csv(store, RECORD)
        clock.set("2023-12-02T10:00:00+00:00")
        store.correct("obs-37", observation(9, day="2023-11-29"), "a later tally gives 9")
        scenario = load_scenario(NOV2023)
        then_snap, then = store.view(as_of="2023-11-30")
        now_snap, now = store.view()
    old = compliance(scenario, then, then_snap, as_of="2023-11-30")
    new = compliance(scenario, now, now_snap)
    day6 = {d.pause_day: d for d in old.days}[6], {d.pause_day: d for d in new.days}[6]
    assert (day6[0].deal, day6[1].deal) == (10, 9)
    assert day6[1].status == "short by 1" and not new.compliant and old.compliant
    assert old.snapshot.seq == 49 and new.snapshot.seq == 50
    assert "as known on 2023-11-30" in render_compliance(old)


def test_exports_name_their_snapshot_and_round_trip(ledger: str, tmp_path: Path) -> None:
    for fmt in ("csv", "json", "parquet"):
        out = tmp_path / f"ledger.{fmt}"
        result = cli("monitor", "export", "--db", ledger, "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert "ledger snapshot 49" in result.stdout
    rows = list(csv.DictReader(io.StringIO((tmp_path / "ledger.csv").read_text("utf-8"))))
    assert len(rows) == 49 and {r["snapshot_seq"] for r in rows} == {"49"}
    assert sum(int(r["count"]) for r in rows if r["flow"] == "prisoners_released") == 240
    doc = json.loads((tmp_path / "ledger.json").read_text("utf-8"))
    assert doc["snapshot"]["seq"] == 49 and len(doc["observations"]) == 49
    table = pq.read_table(tmp_path / "ledger.parquet")
    assert table.num_rows == 49
    meta = json.loads(table.schema.metadata[b"ceasefire.snapshot"])
    assert meta == doc["snapshot"]
    # The same snapshot exports the same bytes.
    again = tmp_path / "again.csv"
    assert cli("monitor", "export", "--db", ledger, "--out", str(again)).returncode == 0
    assert again.read_bytes() == (tmp_path / "ledger.csv").read_bytes()


def test_a_forecast_made_earlier_is_scored_against_the_record(ledger: str, tmp_path: Path) -> None:
    saved = tmp_path / "forecast.json"
    result = cli("monitor", "forecast", str(NOV2023), "--single", "--out", str(saved))
    assert result.returncode == 0, result.stderr
    result = cli(
        "monitor", "score", "--db", ledger, str(NOV2023), "--forecast", str(saved), "--json"
    )
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    rows = {r["quantity"]: r for r in scores["rows"]}
    assert rows["released_total:hamas"]["score"] == 0.0
    assert rows["released_total:israel"]["score"] == 0.0
    assert rows["pause_days"]["score"] == 0.0
    # The run puts the second extension on 29 Nov; it was announced early on 30 Nov.
    assert rows["extension_agreed:2023-11-29"]["score"] == 1.0
    assert rows["extension_agreed:2023-11-30"]["score"] == 1.0
    assert scores["final"] is True and scores["crps_mean"] == 0.0


def test_ensemble_samples_give_brier_and_crps(ledger: str) -> None:
    scenario = load_scenario(NOV2023)
    with Store.open(ledger) as store:
        snap, current = store.view()
    report = compliance(scenario, current, snap)
    forecast = Forecast.from_samples(
        scenario,
        events={"extension_agreed:2023-11-27": [True, True, False, True]},
        counts={"released_total:hamas": [70, 80, 90, 100]},
        seeds=[0, 1, 2, 3],
        issued_at="2023-11-23T00:00:00Z",
    )
    scores = score_forecast(forecast, report, current)
    rows = {r.quantity: r for r in scores.rows}
    assert rows["extension_agreed:2023-11-27"].score == pytest.approx((0.75 - 1) ** 2)
    # CRPS of the ensemble {70, 80, 90, 100} at 80: E|X-y| - E|X-X'|/2 = 10 - 6.25.
    assert rows["released_total:hamas"].score == pytest.approx(3.75)
    single = Forecast.from_episodes(scenario, [ceasefire.run(scenario)], issued_at="x")
    assert single.members == 1 and single.counts["pause_days"] == [7]
