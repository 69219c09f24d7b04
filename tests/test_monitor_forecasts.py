"""Ensemble forecasts over the priors and their proper scores, on the November 2023 record:
made through the command line as a monitor makes them, checked against the ensemble's
own single runs and against ``scoringrules``' estimators on the saved samples."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scoringrules as sr
import sqlalchemy as sa

from ceasefire.ensemble import run_draw, run_ensemble
from ceasefire.monitor import (
    Forecast,
    Store,
    StoreError,
    ensemble_forecast,
    ensemble_quantities,
    episode_quantities,
    reproduce,
)
from ceasefire.scenario import Scenario, content_hash, load_scenario
from test_monitor_support import RECORD, STORES, cli, fresh_db, init_cli, new_store, observation

from conftest import NOV2023

N = 500


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("ledger") / "ledger.sqlite")
    init_cli(db)
    result = cli("monitor", "import", "--db", db, str(RECORD))
    assert result.returncode == 0, result.stderr
    return db


@pytest.fixture(scope="module")
def saved(ledger: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("forecast") / "forecast.json"
    result = cli(
        "monitor", "forecast", str(NOV2023), "--ensemble", str(N), "--seed", "3",
        "--db", ledger, "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def scored(ledger: str, saved: Path) -> dict[str, Any]:
    result = cli(
        "monitor", "score", "--db", ledger, str(NOV2023), "--forecast", str(saved), "--json"
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_each_member_is_the_single_run_of_its_draw(nov2023: Scenario) -> None:
    result = run_ensemble(nov2023, 200, 11)
    events, counts = ensemble_quantities(nov2023, result)
    assert events and counts
    for i in range(len(result)):
        single_events, single_counts = episode_quantities(nov2023, run_draw(nov2023, 11, i))
        assert {k: bool(v[i]) for k, v in events.items()} == {k: single_events[k] for k in events}
        assert {k: int(v[i]) for k, v in counts.items()} == {k: single_counts[k] for k in counts}


def test_members_differ_across_the_prior(saved: Path) -> None:
    made = Forecast.load(saved)
    assert made.method == "ensemble" and made.members == N and made.seed == 3
    for name in ("released_total:hamas", "pause_days", "extensions"):
        assert len(set(made.counts[name])) > 1, name
    # Some events are uncertain: neither no member nor every member has them.
    assert any(0 < yes < N for yes in made.events.values())


def test_the_forecast_is_saved_with_its_inputs(saved: Path, ledger: str) -> None:
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["scenario_hash"] == content_hash(load_scenario(NOV2023))
    assert (data["seed"], data["members"], data["method"]) == (3, N, "ensemble")
    with Store.open(ledger) as store:
        snapshot, _ = store.view()
        (info,) = store.forecasts()
        # The same forecast, saved in the ledger: the same bytes, its inputs in its row.
        assert store.forecast_body(info.id).encode("utf-8") == saved.read_bytes()
    assert data["ledger"] == {**snapshot.to_dict(), "as_of": None}
    assert (info.seed, info.members, info.snapshot_hash) == (3, N, snapshot.chain_hash)
    for name, event in data["events"].items():
        assert event["probability"] == event["members_yes"] / N, name
    for name, samples in data["counts"].items():
        assert len(samples) == N, name


def test_the_saved_forecast_reproduces_byte_for_byte(saved: Path) -> None:
    scenario = load_scenario(NOV2023)
    again = reproduce(Forecast.load(saved), scenario)
    assert again.to_json().encode("utf-8") == saved.read_bytes()
    other = ensemble_forecast(scenario, N, 4, issued_at=again.issued_at, ledger=again.ledger)
    assert other.to_json() != again.to_json()


def test_scores_are_positive_where_the_record_was_uncertain(scored: dict[str, Any]) -> None:
    rows = {r["quantity"]: r for r in scored["rows"]}
    assert scored["final"] is True and scored["method"] == "ensemble"
    for name in ("released_total:hamas", "released_total:israel", "pause_days", "extensions"):
        assert rows[name]["score"] > 0, name
    assert scored["crps_mean"] > 0
    # Extended again: the record has two extensions.
    assert rows["extensions_at_least:2"]["observed"] == "yes"
    assert rows["extensions_at_least:3"]["observed"] == "no"
    assert rows["breach"]["observed"] == "no"
    # The end of the pause is observed: every quantity is settled, the days after it too.
    assert scored["not_scored"] == []
    assert rows["pause_holds:2023-12-03"]["observed"] == "no"


def test_a_certain_event_scores_zero(scored: dict[str, Any], saved: Path) -> None:
    made = Forecast.load(saved)
    certain = [k for k, v in made.events.items() if v == N and k.startswith("agreement_by:")]
    assert certain
    rows = {r["quantity"]: r for r in scored["rows"]}
    for name in certain:
        assert rows[name]["observed"] == "yes"
        assert rows[name]["score"] == 0.0 and rows[name]["log_score"] == 0.0


def test_scores_equal_scoringrules_on_the_saved_samples(
    scored: dict[str, Any], saved: Path
) -> None:
    made = Forecast.load(saved)
    rows = [r for r in scored["rows"]]
    assert rows
    for r in rows:
        if r["kind"] == "event":
            p = np.asarray([made.probability(r["quantity"])])
            o = np.asarray([1.0 if r["observed"] == "yes" else 0.0])
            assert r["score"] == pytest.approx(float(sr.brier_score(o, p)[0]), abs=1e-12)
            log = r["log_score"]
            expected = float(sr.log_score(o, p)[0])
            assert (log == "inf" and math.isinf(expected)) or log == pytest.approx(expected)
        else:
            samples = np.asarray(made.counts[r["quantity"]], dtype=float)
            y = float(r["observed"])
            crps = float(np.asarray(sr.crps_ensemble(np.asarray([y]), samples[None, :])).ravel()[0])
            assert r["score"] == pytest.approx(crps, rel=1e-12)
            # The PIT and the intervals from the samples' empirical distribution.
            below, at = np.mean(samples < y), np.mean(samples == y)
            assert below <= r["pit"] <= below + at
            lo, hi = np.quantile(samples, [0.05, 0.95], method="inverted_cdf")
            assert r["in_90"] == bool(lo <= y <= hi)
    counts = [r for r in rows if r["kind"] == "count"]
    assert sum(scored["pit_histogram"]) == len(counts)
    assert scored["coverage"]["90"] == pytest.approx(np.mean([r["in_90"] for r in counts]))
    assert scored["brier_mean"] == pytest.approx(
        np.mean([r["score"] for r in rows if r["kind"] == "event"])
    )


def test_the_report_shows_the_scores_and_a_pit_histogram(
    ledger: str, saved: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    result = cli(
        "monitor", "score", "--db", ledger, str(NOV2023), "--forecast", str(saved),
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "PIT histogram" in result.stdout and "mean CRPS" in result.stdout
    html = out.read_text(encoding="utf-8")
    assert '<section id="scores">' in html and "PIT histogram of the counts" in html
    assert html.count('<rect class="bar"') >= 1
    assert "released_total:hamas" in html


def test_single_runs_stay_available(ledger: str, tmp_path: Path) -> None:
    out = tmp_path / "single.json"
    result = cli(
        "monitor", "forecast", str(NOV2023), "--single", "--seed", "0", "--seed", "1",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    made = Forecast.load(out)
    assert (made.method, made.members, made.seeds, made.ledger) == ("runs", 2, [0, 1], None)
    assert reproduce(made, load_scenario(NOV2023)).to_json().encode() == out.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", "1", "--seed", "2"], "one seed"),
        (["--as-of", "2023-11-25"], "--as-of needs --db"),
        (["--ensemble", "0"], "--ensemble"),
    ],
)
def test_bad_forecast_options_are_refused(args: list[str], message: str, tmp_path: Path) -> None:
    result = cli("monitor", "forecast", str(NOV2023), *args, "--out", str(tmp_path / "f.json"))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "f.json").exists()


def test_a_broken_forecast_file_is_refused(ledger: str, saved: Path, tmp_path: Path) -> None:
    data = json.loads(saved.read_text(encoding="utf-8"))
    data["counts"]["pause_days"] = data["counts"]["pause_days"][:-1]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    result = cli("monitor", "score", "--db", ledger, str(NOV2023), "--forecast", str(broken))
    assert result.returncode == 2
    assert "pause_days" in result.stderr and "Traceback" not in result.stderr


# ------------------------------------------------------------- saved in the ledger


@pytest.fixture(params=STORES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_db(request.param, tmp_path)


def test_forecasts_are_saved_in_the_ledger_append_only(db: str, nov2023: Scenario) -> None:
    with new_store(db) as store:
        store.record([observation(10, obs_id="a")])
        snapshot, _ = store.view()
        made = ensemble_forecast(
            nov2023, 200, 5, issued_at="2023-11-24T12:00:00Z",
            ledger={**snapshot.to_dict(), "as_of": None},
        )  # fmt: skip
        first = store.record_forecast(made.to_json())
        second = store.record_forecast(made.to_json())
        assert (first.id, second.id) == (1, 2)
        assert (first.method, first.members, first.seed) == ("ensemble", 200, 5)
        assert (first.snapshot_seq, first.snapshot_hash) == (snapshot.seq, snapshot.chain_hash)
        assert store.forecasts() == [first, second]
        assert store.forecast_body(1) == made.to_json()
        assert Forecast.from_json(store.forecast_body(2)) == made
        statements = ["UPDATE forecasts SET members = 1", "DELETE FROM forecasts"]
        if store.dialect == "postgresql":
            statements.append("TRUNCATE forecasts")
        for statement in statements:
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as c:
                c.execute(sa.text(statement))
        with pytest.raises(StoreError, match=r"no forecast 3 .*forecasts 1-2"):
            store.forecast_body(3)
        assert store.verify() == []


def test_a_forecast_row_changed_past_the_triggers_is_found(
    tmp_path: Path, nov2023: Scenario
) -> None:
    path = tmp_path / "ledger.sqlite"
    with new_store(str(path)) as store:
        store.record_forecast(ensemble_forecast(nov2023, 50, 0, issued_at="x").to_json())
    con = sqlite3.connect(path)
    with con:
        con.execute("DROP TRIGGER forecasts_no_update")
        con.execute("UPDATE forecasts SET body = replace(body, '\"seed\": 0', '\"seed\": 1')")
    con.close()
    with Store.open(path) as store:
        problems = store.verify()
        assert any("forecast 1 does not match its hash" in p for p in problems)
        assert any("forecasts_no_update" in p for p in problems)
        with pytest.raises(StoreError, match="does not match its hash"):
            store.forecast_body(1)


def test_a_forecast_saved_in_the_ledger_is_scored_from_it(ledger: str, tmp_path: Path) -> None:
    copy = tmp_path / "ledger.sqlite"
    copy.write_bytes(Path(ledger).read_bytes())
    with Store.open(copy) as store:
        new = len(store.forecasts()) + 1
    result = cli(
        "monitor", "forecast", str(NOV2023), "--ensemble", "300", "--seed", "2",
        "--db", str(copy), "--as-of", "2023-11-23",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"saved in the ledger as forecast {new}" in result.stdout
    listed = cli("monitor", "forecasts", "--db", str(copy), "--json")
    assert listed.returncode == 0, listed.stderr
    row = json.loads(listed.stdout)[-1]
    assert (row["id"], row["members"], row["seed"], row["as_of"]) == (new, 300, 2, "2023-11-23")
    # Read as known on 23 November 2023: the record was imported later, so it was empty.
    assert row["snapshot_seq"] == 0
    scored = cli(
        "monitor", "score", "--db", str(copy), str(NOV2023), "--forecast-id", str(new), "--json"
    )
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["members"] == 300
    missing = cli("monitor", "score", "--db", str(copy), str(NOV2023), "--forecast-id", "99")
    assert missing.returncode == 2 and "no forecast 99" in missing.stderr
    neither = cli("monitor", "forecast", str(NOV2023))
    assert neither.returncode == 2 and "--db" in neither.stderr


def test_a_forecast_file_of_the_first_format_still_loads(tmp_path: Path) -> None:
    old = {
        "format": "ceasefire-forecast",
        "version": 1,
        "scenario": "s",
        "scenario_hash": "sha256:" + "0" * 64,
        "issued_at": "2023-11-23T00:00:00Z",
        "source": "reference engine runs",
        "seeds": [0, 1, 2, 3],
        "events": {"pause_holds:2023-11-28": [True, False, True, True]},
        "counts": {"pause_days": [7, 6, 7, 8]},
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    made = Forecast.load(path)
    assert (made.method, made.members, made.seeds) == ("runs", 4, [0, 1, 2, 3])
    assert made.probability("pause_holds:2023-11-28") == np.mean([True, False, True, True])
    assert made.counts == old["counts"]
