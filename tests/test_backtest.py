"""Backtests on the November 2023 record: each day's nowcast is the one `nowcast` makes
from the record as it stood, the baselines follow their definitions, and the command
writes a report that is the same for the same inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ceasefire.monitor import (
    Backtest,
    Store,
    backtest,
    compliance,
    ensemble_forecast,
    import_csv,
    nowcast,
)
from ceasefire.monitor._backtest import FAN, METHODS, naive_forecast, record_dates
from ceasefire.monitor._nowcast import dated_until
from ceasefire.scenario import Scenario
from test_monitor_support import RECORD, VOCABULARY, cli, nov2023_categories

from conftest import NOV2023

N = 1000


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[Any]]:
    db = str(tmp_path_factory.mktemp("ledger") / "ledger.sqlite")
    with Store.open(db, create=True) as store:
        store.add_categories(nov2023_categories())
        import_csv(store, RECORD)
        snapshot, entries = store.view()
    return snapshot, entries


@pytest.fixture(scope="module")
def made(record: tuple[Any, list[Any]], nov2023: Scenario) -> Backtest:
    snapshot, entries = record
    return backtest(nov2023, entries, snapshot, n=N, seed=3)


def test_every_date_of_the_record_is_replayed(made: Backtest, record: Any) -> None:
    dates = [d.date for d in made.days]
    assert dates == record_dates(record[1])
    assert dates[0] == "2023-11-22" and dates[-1] == "2023-12-01" and len(dates) == 10
    assert made.realised["released_total:hamas"] == 80
    assert made.realised["extensions"] == 2


def test_each_day_is_the_nowcast_of_the_record_as_it_stood(
    made: Backtest, record: Any, nov2023: Scenario
) -> None:
    snapshot, entries = record
    for day in made.days[4:]:  # 26 Nov onwards: before and after each extension
        seen = dated_until(entries, day.date)
        report = compliance(nov2023, seen, snapshot)
        alone = nowcast(
            nov2023, report, seen, n=N, seed=3, date=day.date, issued_at=day.date
        ).forecast
        assert day.kept == alone.members, day.date
        for name, fan in day.fans.items():
            arr = np.asarray(alone.counts[name])
            assert fan == [float(np.quantile(arr, q, method="inverted_cdf")) for q in FAN]
    # More is known as the days pass: fewer members fit, and the fan narrows to the outcome.
    kept = [d.kept for d in made.days]
    assert kept == sorted(kept, reverse=True) and kept[-1] < kept[0] == N
    last = made.days[-1].fans["released_total:hamas"]
    assert last == [80.0] * len(FAN)


def test_scores_are_over_the_quantities_still_open(made: Backtest) -> None:
    first, second_ext, last = made.days[0], made.days[8], made.days[-1]
    # Nothing conditioned yet: the nowcast is the prior.
    assert first.kept == N
    assert first.brier["nowcast"] == first.brier["prior"]
    assert first.crps["nowcast"] == first.crps["prior"]
    # On 30 November the second extension is on the record: conditioning on it beats
    # the prior on what is still open.
    assert second_ext.open_quantities < first.open_quantities
    for score in (second_ext.brier, second_ext.crps):
        assert score["nowcast"] is not None and score["prior"] is not None
        assert score["nowcast"] < score["prior"]
    # When the end is observed nothing is open.
    assert last.open_quantities == 0 and all(v is None for v in last.brier.values())
    focus = first.focus_events["extensions_at_least:2"]
    assert set(focus) == {f"{m}_{k}" for m in METHODS for k in ("p", "brier")}
    assert focus["prior_brier"] == pytest.approx((focus["prior_p"] - 1) ** 2)


def test_the_naive_forecast_carries_out_what_was_agreed(
    made: Backtest, record: Any, nov2023: Scenario
) -> None:
    snapshot, entries = record
    prior = ensemble_forecast(nov2023, 10, 0, issued_at="x")
    for date, extensions in (("2023-11-24", 0), ("2023-11-28", 1), ("2023-11-30", 2)):
        naive = naive_forecast(nov2023, prior, entries, snapshot, date)
        report = compliance(nov2023, dated_until(entries, date), snapshot)
        assert naive.members == 1 and naive.method == "naive"
        assert naive.counts["extensions"] == [extensions]
        assert naive.counts["pause_days"] == [report.totals.pause_days_observed]
        assert naive.events[f"extensions_at_least:{extensions + 1}"] == 0
    # On the last day the record settles everything: the naive forecast is the record.
    naive = naive_forecast(nov2023, prior, entries, snapshot, "2023-12-01")
    assert naive.counts["released_total:hamas"] == [made.realised["released_total:hamas"]]
    assert naive.counts["pause_days"] == [made.realised["pause_days"]]


def test_the_command_writes_the_same_report_for_the_same_inputs(tmp_path: Path) -> None:
    args = ["backtest", str(NOV2023), str(RECORD), "--ensemble", "300", "--seed", "1"]
    one = cli(*args, "--json")
    two = cli(*args, "--json")
    assert one.returncode == 0, one.stderr
    assert one.stdout == two.stdout
    data = json.loads(one.stdout)
    assert data["drawn"] == 300 and len(data["days"]) == 10
    out = tmp_path / "backtest.html"
    shown = cli(*args, "--vocabulary", str(VOCABULARY), "--out", str(out))
    assert shown.returncode == 0, shown.stderr
    assert "2023-11-30" in shown.stdout and "report written" in shown.stdout
    html = out.read_text(encoding="utf-8")
    # Four fan charts (totals of both parties, pause days, extensions): each an interactive
    # chart with its static SVG inside, for readers with scripts off.
    assert html.count('<svg class="chart"') == 4
    assert html.count('class="vl-chart"') == 4
    assert "realised: 80" in html


def test_bad_input_is_refused_with_a_message(tmp_path: Path) -> None:
    missing = cli("backtest", str(NOV2023), str(tmp_path / "none.csv"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert "Traceback" not in missing.stderr
    vocab = tmp_path / "vocabulary.yaml"
    vocab.write_text("categories: [{id: x}]\n", encoding="utf-8")
    bad = cli("backtest", str(NOV2023), str(RECORD), "--vocabulary", str(vocab))
    assert bad.returncode == 2 and "categories[0]" in bad.stderr
    assert "Traceback" not in bad.stderr


AFTER = NOV2023.parents[1] / "examples" / "dec2023-after" / "dec2023-after.csv"
DEC2023 = NOV2023.parent / "gaza-2023-12-proposal.yaml"


def test_a_negotiation_scenario_is_scored_on_its_agreement_date(tmp_path: Path) -> None:
    from ceasefire.ensemble import run_ensemble
    from ceasefire.scenario import load_scenario

    result = cli("backtest", str(DEC2023), str(AFTER), "--ensemble", "400", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["agreed_on"] == "2025-01-15"  # the record: no agreement in the calendar
    rows = data["rows"]
    assert rows[0]["date"] == "2023-12-01" and rows[-1]["date"] == "2024-02-29"
    assert not any(r["observed"] for r in rows)
    # The forecast of each date is the share of the ensemble agreed by then; the members
    # kept are those that agree on no date of the calendar.
    agreed = run_ensemble(load_scenario(DEC2023), 400, 0).agreement_days()
    horizon = len(rows) - 1
    assert rows[-1]["prior_p"] == pytest.approx(float(((agreed >= 0) & (agreed <= horizon)).mean()))
    assert data["kept"] == int(((agreed < 0) | (agreed > horizon)).sum())
    assert all(r["prior_brier"] == pytest.approx(r["prior_p"] ** 2) for r in rows)
    assert all(r["posterior_p"] == 0 for r in rows)
