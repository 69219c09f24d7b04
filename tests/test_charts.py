"""The reports' interactive charts: the Vega-Lite specs (fast), and the reports drawn in
headless Chromium with the network off (fails, never skips, when the browser cannot start).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, ConsoleMessage, Request

from ceasefire.cli import main
from ceasefire.engine import run
from ceasefire.outputs._charts import VENDORED, chart_scripts, histogram
from ceasefire.outputs._ensemble_report import _histogram_figures, render_ensemble_report
from ceasefire.outputs._report import render_report
from ceasefire.scenario import Scenario, load_scenario

from conftest import ROOT

JAN2025 = ROOT / "scenarios" / "gaza-2025-01-phase1.yaml"
NOV2023 = ROOT / "scenarios" / "gaza-2023-11-truce.yaml"
GOLDEN_ENSEMBLE = ROOT / "tests" / "golden" / "gaza-2023-11-truce" / "ensemble-n200-seed3"
SPEC = re.compile(r'<div id="([^"]+)" class="vl-chart" data-spec="([^"]*)"')


def specs(page: str) -> dict[str, dict[str, Any]]:
    return {m[1]: json.loads(html.unescape(m[2])) for m in SPEC.finditer(page)}


@pytest.fixture(scope="module")
def jan2025() -> Scenario:
    return load_scenario(JAN2025)


@pytest.fixture(scope="module")
def run_report(jan2025: Scenario) -> str:
    return render_report(jan2025, run(jan2025, seed=0))


@pytest.fixture(scope="module")
def nov2023() -> Scenario:
    return load_scenario(NOV2023)


@pytest.fixture(scope="module")
def ensemble_summary() -> dict[str, Any]:
    return dict(json.loads((GOLDEN_ENSEMBLE / "summary.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def ensemble_report(nov2023: Scenario, ensemble_summary: dict[str, Any]) -> str:
    return render_ensemble_report(nov2023, ensemble_summary)


def test_releases_one_panel_per_party(jan2025: Scenario, run_report: str) -> None:
    spec = specs(run_report)["chart-releases"]
    assert spec["facet"]["row"]["field"] == "party"
    assert spec["resolve"]["scale"]["y"] == "independent"
    rows = spec["data"]["values"]
    releasing = {r["party"] for r in rows}
    assert releasing == {p.name for p in jan2025.parties}
    # The small party's counts get an axis of their own: its largest day is far below
    # the other's, which a shared axis would draw as slivers.
    per_day: dict[tuple[str, str], int] = {}
    for r in rows:
        per_day[(r["party"], r["date"])] = per_day.get((r["party"], r["date"]), 0) + r["count"]
    peaks = sorted(max(n for (p, _), n in per_day.items() if p == party) for party in releasing)
    assert peaks[0] * 20 < peaks[1]
    # The static SVG stays inside the container, for readers with scripts off.
    assert re.search(r'class="vl-chart"[^>]*><svg class="chart"', run_report)


def test_histogram_log_option_and_tail(ensemble_report: str) -> None:
    found = specs(ensemble_report)
    assert found
    for ident in found:
        m = re.search(
            rf'id="{ident}" class="vl-chart" data-spec="[^"]*" data-spec-log="([^"]*)"',
            ensemble_report,
        )
        assert m, ident
        log = json.loads(html.unescape(m[1]))
        assert log["layer"][0]["encoding"]["y"]["scale"]["type"] == "symlog"
        assert found[ident]["layer"][0]["encoding"]["y"]["scale"]["type"] == "linear"
        assert f'data-for="{ident}"' in ensemble_report
        rule = found[ident]["layer"][1]
        assert rule["mark"]["type"] == "rule" and rule["data"]["values"][0]["tail"] is not None


def test_one_histogram_per_distinct_distribution(
    nov2023: Scenario, ensemble_summary: dict[str, Any]
) -> None:
    quantities = [ensemble_summary["pause_days"]]
    for rel in ensemble_summary["released"].values():
        quantities.append(rel["total"])
        quantities.extend(rel["by_category"].values())
    distinct = {json.dumps(q["histogram"], sort_keys=True) for q in quantities}
    assert len(distinct) < len(quantities), "the fixture should repeat a distribution"
    figures = _histogram_figures(nov2023, ensemble_summary)
    assert len(figures) == len(distinct)
    assert any("drawn once" in f for f in figures)


def test_one_colour_per_category_and_party_across_reports(
    nov2023: Scenario, ensemble_summary: dict[str, Any]
) -> None:
    run_spec = specs(render_report(nov2023, run(nov2023, seed=0)))["chart-releases"]
    scale = run_spec["spec"]["encoding"]["color"]["scale"]
    by_name = dict(zip(scale["domain"], scale["range"], strict=True))
    assert len(set(scale["range"])) == len(scale["range"])
    ens = specs(render_ensemble_report(nov2023, ensemble_summary))
    seen = 0
    for spec in ens.values():
        title = spec["title"]["text"]
        colour = spec["layer"][0]["mark"]["color"]
        for name, expected in by_name.items():
            if title.endswith(f": {name}"):
                assert colour == expected, title
                seen += 1
    assert seen > 0


def test_histogram_spec_is_stable() -> None:
    a = histogram({1: 3, 3: 1}, title="t", x_label="x", colour="#000000", tail=3.0)
    b = histogram({3: 1, 1: 3}, title="t", x_label="x", colour="#000000", tail=3.0)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_scripts_are_the_vendored_files() -> None:
    block = chart_scripts()
    vendor = ROOT / "src" / "ceasefire" / "outputs" / "vendor"
    for name in VENDORED:
        text = (vendor / name).read_text(encoding="utf-8")
        assert text.split("//# sourceMappingURL=")[0].strip() in block
        assert (vendor / name.replace(".min.js", ".LICENSE")).is_file()
    assert "sourceMappingURL" not in block and "</script" not in block[:-9]


# ---------------------------------------------------------------------------
# In Chromium, offline


def _load(browser: Browser, path: Path, width: int = 1280) -> tuple[Any, list[str], list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 900}, offline=True)
    page = context.new_page()
    problems: list[str] = []
    requests: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type in ("error", "warning"):
            problems.append(f"{msg.type}: {msg.text}")

    def on_request(req: Request) -> None:
        if not req.url.startswith("file:"):
            requests.append(req.url)

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", on_request)
    page.goto(path.as_uri())
    n = page.locator("div.vl-chart").count()
    page.wait_for_function(f"document.querySelectorAll('div.vl-chart[data-drawn]').length == {n}")
    return page, problems, requests


def _check_drawn(page: Any, problems: list[str], requests: list[str]) -> None:
    charts = page.locator("div.vl-chart")
    assert charts.count() > 0
    for i in range(charts.count()):
        assert charts.nth(i).get_attribute("data-error") is None
        assert charts.nth(i).locator(".vega-embed svg.marks").count() == 1
    assert problems == [] and requests == []


def test_run_report_in_chromium(browser: Browser, run_report: str, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(run_report, encoding="utf-8")
    page, problems, requests = _load(browser, path)
    _check_drawn(page, problems, requests)
    faded = "#chart-releases .mark-rect path[opacity='0.15']"
    assert page.locator(faded).count() == 0
    page.locator("#chart-releases .role-legend-symbol path").first.click()
    page.wait_for_function(f'document.querySelectorAll("{faded}").length > 0')
    page.context.close()


def test_ensemble_report_in_chromium(
    browser: Browser, ensemble_report: str, tmp_path: Path
) -> None:
    path = tmp_path / "report.html"
    path.write_text(ensemble_report, encoding="utf-8")
    page, problems, requests = _load(browser, path)
    _check_drawn(page, problems, requests)
    first = page.locator("div.vl-chart").first
    ident = first.get_attribute("id")
    page.locator(f'input.vl-log[data-for="{ident}"]').check()
    page.wait_for_function(
        f"document.getElementById('{ident}').getAttribute('data-drawn') == 'data-spec-log'"
    )
    assert first.locator(".vega-embed svg.marks").count() == 1
    assert problems == [] and requests == []
    page.context.close()


def test_compliance_report_fits_the_page(browser: Browser, tmp_path: Path) -> None:
    """The day-by-day table (16 columns) fits a 1280 px window: the page never scrolls
    sideways."""
    db = tmp_path / "ledger.sqlite"
    out = tmp_path / "compliance.html"
    runner = CliRunner()
    for args in (
        [
            "monitor",
            "init",
            "--db",
            str(db),
            "--scenario",
            str(NOV2023),
            "--vocabulary",
            str(ROOT / "examples/nov2023/vocabulary.yaml"),
        ],
        ["monitor", "import", "--db", str(db), str(ROOT / "examples/nov2023/nov2023-truce.csv")],
        ["monitor", "compliance", "--db", str(db), str(NOV2023), "--out", str(out)],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    page = context.new_page()
    page.goto(out.as_uri())
    assert page.locator("#days table tbody tr").count() > 5
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    context.close()


# ---------------------------------------------------------------------------
# Every kind of report, in Chromium, offline, at 1280 px and on a narrow screen


@pytest.fixture(scope="module")
def every_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One report of each kind, written by the commands as a user runs them."""
    tmp = tmp_path_factory.mktemp("reports")
    ratio1 = tmp / "ratio1.yaml"
    text = NOV2023.read_text(encoding="utf-8")
    assert text.count("women_children: 3\n") == 1
    ratio1.write_text(text.replace("women_children: 3\n", "women_children: 1\n"), "utf-8")
    db = str(tmp / "ledger.sqlite")
    record = str(ROOT / "examples/nov2023/nov2023-truce.csv")
    vocabulary = str(ROOT / "examples/nov2023/vocabulary.yaml")
    runner = CliRunner()
    for args in (
        ["run", str(JAN2025), "--out", str(tmp / "run")],
        ["ensemble", str(NOV2023), "-n", "500", "--out", str(tmp / "ensemble")],
        ["compare", str(NOV2023), str(ratio1), "-n", "500", "--out", str(tmp / "compare")],
        ["sensitivity", str(NOV2023), "-n", "16", "--out", str(tmp / "sensitivity")],
        ["monitor", "init", "--db", db, "--scenario", str(NOV2023), "--vocabulary", vocabulary],
        ["monitor", "import", "--db", db, record],
        ["monitor", "compliance", "--db", db, str(NOV2023), "--out", str(tmp / "compliance.html")],
        ["monitor", "forecast", str(NOV2023), "--ensemble", "300", "--db", db],
        ["monitor", "score", "--db", db, str(NOV2023), "--forecast-id", "1",
         "--out", str(tmp / "scores.html")],
        ["backtest", str(NOV2023), record, "--ensemble", "300", "--vocabulary", vocabulary,
         "--out", str(tmp / "backtest.html")],
    ):  # fmt: skip
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
    return {
        "run": tmp / "run" / "report.html",
        "ensemble": tmp / "ensemble" / "report.html",
        "compare": tmp / "compare" / "report.html",
        "sensitivity": tmp / "sensitivity" / "report.html",
        "compliance": tmp / "compliance.html",
        "scores": tmp / "scores.html",
        "backtest": tmp / "backtest.html",
    }


@pytest.mark.parametrize("width", [1280, 400])
def test_every_report_draws_offline_and_fits(
    browser: Browser, every_report: dict[str, Path], width: int
) -> None:
    """Each kind of report draws every chart with no console error and no request, and
    the page never scrolls sideways (wide tables and charts scroll in their own box)."""
    for kind, path in every_report.items():
        page, problems, requests = _load(browser, path, width)
        _check_drawn(page, problems, requests)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the {kind} report scrolls sideways at {width} px"
        page.context.close()


def test_the_static_charts_stay_without_scripts(
    browser: Browser, every_report: dict[str, Path]
) -> None:
    for kind, path in every_report.items():
        context = browser.new_context(java_script_enabled=False, offline=True)
        page = context.new_page()
        page.goto(path.as_uri())
        charts = page.locator("div.vl-chart")
        assert charts.count() > 0, kind
        assert page.locator("div.vl-chart > svg.chart").count() == charts.count(), kind
        context.close()


def test_the_legend_picks_a_series_in_the_compliance_chart(
    browser: Browser, every_report: dict[str, Path]
) -> None:
    page, problems, requests = _load(browser, every_report["compliance"])
    faded = "#chart-due .mark-rect path[opacity='0.15']"
    assert page.locator(faded).count() == 0
    page.locator("#chart-due .role-legend-symbol path").first.click()
    page.wait_for_function(f'document.querySelectorAll("{faded}").length > 0')
    assert problems == [] and requests == []
    page.context.close()


def test_a_party_has_one_colour_in_the_ensemble_compliance_and_compare_reports(
    nov2023: Scenario, ensemble_summary: dict[str, Any], every_report: dict[str, Path]
) -> None:
    ens = specs(render_ensemble_report(nov2023, ensemble_summary))
    colour = {
        spec["title"]["text"].removeprefix("Released by "): spec["layer"][0]["mark"]["color"]
        for spec in ens.values()
        if spec["title"]["text"].startswith("Released by ") and ":" not in spec["title"]["text"]
    }
    # (a party's total may share its chart with a category whose histogram is the same)
    assert colour and set(colour) <= {p.name for p in nov2023.parties}
    page = every_report["compliance"].read_text(encoding="utf-8")
    found = specs(page)
    deals = {}
    for ident, party in (("chart-due", "Hamas"), ("chart-counter", "Israel")):
        scale = found[ident]["encoding"]["color"]["scale"]
        deals[party] = dict(zip(scale["domain"], scale["range"], strict=True))[
            "Released under the deal"
        ]
    assert len(set(deals.values())) == 2
    for party, seen in colour.items():
        assert deals[party] == seen, party
    # The compare report keeps units apart: one chart per unit, each with its own axis.
    compare = specs(every_report["compare"].read_text(encoding="utf-8"))
    assert set(compare) == {"diff-days", "diff-extensions", "diff-people", "diff-probability"}
    titles = {k: s["layer"][0]["encoding"]["x"]["title"] for k, s in compare.items()}
    assert titles["diff-people"] == "B - A (people)" and titles["diff-days"] == "B - A (days)"


def test_due_done_bars_stay_below_the_top_of_the_frame(every_report: dict[str, Path]) -> None:
    """Each stacked pair of the compliance charts (due or owed, done) ends below the top of
    its scale: a bar that reaches the frame looks cut off."""
    page = every_report["compliance"].read_text(encoding="utf-8")
    found = {k: v for k, v in specs(page).items() if k.startswith("chart-due")}
    found |= {k: v for k, v in specs(page).items() if k.startswith("chart-counter")}
    assert found, "no due-vs-done chart in the compliance report"
    for name, spec in found.items():
        totals: dict[tuple[str, str], float] = {}
        for row in spec["data"]["values"]:
            key = (row["date"], row["pair"])
            totals[key] = totals.get(key, 0.0) + row["count"]
        top = spec["encoding"]["y"]["scale"]["domainMax"]
        assert max(totals.values()) < top, (name, max(totals.values()), top)
