"""`ceasefire serve --db LEDGER`: the monitoring page through Starlette's TestClient.

What the page shows is compared with `ceasefire.monitor.compliance` on the same ledger.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from markupsafe import escape
from starlette.testclient import TestClient

from ceasefire.cli import main
from ceasefire.monitor import compliance, ensemble_forecast, open_store, score_forecast
from ceasefire.scenario import load_scenario
from ceasefire.web import ServeConfig, create_app

from conftest import NOV2023

MONITOR = "/s/bundled/gaza-2023-11-truce.yaml/monitor"
DAY = "2023-11-24"
RELEASE = {
    "date": DAY,
    "kind": "hostages_released",
    "from_party": "Hamas",
    "to_party": "Israel",
    "channel": "deal",
    "category": "women_children",
    "count": "13",
    "source_text": "Test desk note, 2023-11-24",
    "source_kind": "official",
    "reliability": "B",
}


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    db = tmp_path / "ledger.sqlite"
    result = CliRunner().invoke(
        main, ["monitor", "init", "--db", str(db), "--scenario", str(NOV2023)]
    )
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def client(ledger: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ServeConfig(db=ledger)), base_url="http://127.0.0.1") as c:
        yield c


def escaped(text: str) -> str:
    """Text as the pages show it (Jinja2's autoescaping)."""
    return str(escape(text))


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def counted(page: str, date: str) -> str:
    match = re.search(rf'data-testid="counted-{date}">(\d+)<', page)
    assert match is not None
    return match.group(1)


def expected(db: Path, date: str) -> int:
    with open_store(db) as store:
        snapshot, current = store.view()
    report = compliance(load_scenario(NOV2023), current, snapshot)
    (day,) = [d for d in report.days if d.date == date]
    return day.counted


def post(client: TestClient, action: str, form: dict[str, str]) -> str:
    token = csrf_of(client.get(MONITOR).text)
    response = client.post(f"{MONITOR}/{action}", data={"csrf_token": token, **form})
    assert response.status_code == 200, response.text  # after the redirect
    assert "Recorded (" in response.text
    return response.text


def test_add_correct_retract_and_see_compliance_follow(client: TestClient, ledger: Path) -> None:
    before = client.get(MONITOR).text
    assert counted(before, DAY) == str(expected(ledger, DAY))
    page = post(client, "add", RELEASE)
    assert counted(page, DAY) == str(expected(ledger, DAY)) != counted(before, DAY)
    with open_store(ledger) as store:
        (entry,) = store.view()[1]
    assert entry.observation is not None and entry.observation.source.reliability == "B"

    page = post(client, "correct", {"obs_id": entry.obs_id, "count": "10", "reason": "re-count"})
    assert counted(page, DAY) == str(expected(ledger, DAY))
    assert "(corrects " in page and "re-count" in page
    page = post(client, "retract", {"obs_id": entry.obs_id, "reason": "wrong day"})
    assert counted(page, DAY) == str(expected(ledger, DAY)) == counted(before, DAY)
    with open_store(ledger) as store:
        history = store.history(entry.obs_id)  # nothing overwritten
    assert [e.action for e in history] == ["record", "correct", "retract"]
    assert history[0].observation is not None and history[0].observation.counts[0].count == 13


def test_the_ledger_as_known_on_an_earlier_date(client: TestClient) -> None:
    post(client, "add", RELEASE)
    assert "No observations known on that date" not in client.get(MONITOR).text
    yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    earlier = client.get(MONITOR, params={"as_of": yesterday}).text
    assert "No observations known on that date" in earlier
    assert f"as known on {yesterday}" in earlier
    bad = client.get(MONITOR, params={"as_of": "2023-13-45"}).text
    assert "not a date" in bad


def test_refused_forms_say_which_field(client: TestClient, ledger: Path) -> None:
    token = csrf_of(client.get(MONITOR).text)
    response = client.post(f"{MONITOR}/add", data={"csrf_token": token, **RELEASE, "count": "-3"})
    assert response.status_code == 400
    assert "Not recorded (add)" in response.text and "counts.0.count" in response.text
    assert 'value="-3"' in response.text  # the form keeps what was typed
    response = client.post(f"{MONITOR}/correct", data={"csrf_token": token, "obs_id": "obs-1"})
    assert response.status_code == 400 and "give the reason" in response.text
    response = client.post(
        f"{MONITOR}/retract", data={"csrf_token": token, "obs_id": "nope", "reason": "x"}
    )
    assert response.status_code == 400
    assert escaped("no observation 'nope'") in response.text
    with open_store(ledger) as store:
        assert store.entries() == []


def test_monitor_forms_need_the_csrf_token_and_the_ledger(client: TestClient) -> None:
    assert client.post(f"{MONITOR}/add", data=RELEASE).status_code == 403
    assert client.post(f"{MONITOR}/delete", data=RELEASE).status_code in (403, 404)
    with TestClient(create_app(ServeConfig()), base_url="http://127.0.0.1") as no_db:
        assert no_db.get(MONITOR).status_code == 404
        assert "without a ledger" in no_db.get(MONITOR).text


def test_text_in_the_ledger_is_escaped(client: TestClient) -> None:
    post(client, "add", {**RELEASE, "source_text": "<img src=x onerror=alert(1)> desk"})
    page = client.get(MONITOR).text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt; desk" in page


def test_the_forecast_is_scored_against_the_observations(client: TestClient, ledger: Path) -> None:
    post(client, "add", RELEASE)
    page = client.get(f"{MONITOR}/forecast", headers={"HX-Request": "true"}).text
    nov = load_scenario(NOV2023)
    with open_store(ledger) as store:
        snapshot, current = store.view()
    made = ensemble_forecast(nov, 1000, 0, issued_at="2023-12-31T00:00:00.000000Z")
    scores = score_forecast(made, compliance(nov, current, snapshot), current)
    assert scores.rows and scores.members == 1000
    assert "an ensemble of 1,000 episodes over its priors" in page
    for r in scores.rows:
        row = (
            f'<th scope="row">{escaped(r.quantity.replace("_", " ").replace(":", " · "))}</th>'
            f"<td>{r.kind}</td>"
            f"<td>{escaped(r.forecast)}</td><td>{escaped(r.observed)}</td><td>{r.score}</td>"
        )
        assert row in page
    brier = "(no events)" if scores.brier_mean is None else scores.brier_mean
    crps = "(no counts)" if scores.crps_mean is None else scores.crps_mean
    assert f"Mean Brier score {brier}; mean CRPS {crps}." in page
    full = client.get(f"{MONITOR}/forecast").text  # without htmx: a whole page
    assert full.startswith("<!doctype html>") and "Forecast against the observations" in full


def test_the_compliance_charts_follow_the_ledger(client: TestClient, ledger: Path) -> None:
    """The due-vs-done charts of the compliance report, drawn by the app's own scripts
    (the static SVG inside each as the fallback), carry the day's counts from the ledger."""
    page = post(client, "add", RELEASE)
    assert '<script src="/static/charts.js" defer></script>' in page
    specs = {
        m[1]: json.loads(html.unescape(m[2]))
        for m in re.finditer(
            r'<div id="(chart-[a-z]+)" class="vl-chart" data-spec="([^"]*)">', page
        )
    }
    assert set(specs) == {"chart-due", "chart-counter"}
    done = sum(
        r["count"]
        for r in specs["chart-due"]["data"]["values"]
        if r["date"] == DAY and r["pair"] == "done"
    )
    assert done == expected(ledger, DAY)
    assert page.count('class="vl-chart"') == 2 and "<svg" in page
