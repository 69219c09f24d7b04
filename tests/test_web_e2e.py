"""`ceasefire serve` in a real browser: Playwright drives Debian's Chromium, headless.

The app runs in this process (uvicorn on a free loopback port, in a thread). These tests
fail, never skip, when the browser cannot start: `make browser` (part of `make test`)
installs it where it is missing.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from click.testing import CliRunner
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, expect

from ceasefire.cli import main
from ceasefire.engine import run
from ceasefire.monitor import compliance, open_store
from ceasefire.scenario import load_scenario
from ceasefire.web import ServeConfig, create_app

from conftest import NOV2023

# A page waits this long for what the app computes: a fresh server's first ensemble, with
# the monitoring page's forecast (an ensemble too) running beside it on a busy machine,
# can take longer than Playwright's default of 5 s.
expect.set_options(timeout=30_000)

SCENARIO = "/s/bundled/gaza-2023-11-truce.yaml"
RATIO = ("agreement", "exchange", "ratios", "women_children")
RATIO_LABEL = "ratio: released by Israel per women_children"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    result = CliRunner().invoke(
        main, ["monitor", "init", "--db", str(db), "--scenario", str(NOV2023)]
    )
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture(scope="module")
def app_url(ledger: Path) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(ServeConfig(db=ledger)), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start in 30 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    sock.close()


class Watched:
    """A page whose console errors, script errors and requests are recorded."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"console {message.type}: {message.text}")

    def _request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme != "data" and f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.outside.append(request.url)


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page(), app_url)
    yield watched
    context.close()
    assert watched.errors == []
    assert watched.outside == []


def test_changing_the_ratio_from_3_to_1_shortens_the_pause(page: Watched, app_url: str) -> None:
    file_pause = run(load_scenario(NOV2023), seed=0).summary.pause_days
    edited_pause = run(load_scenario(NOV2023, {RATIO: 1}), seed=0).summary.pause_days
    assert edited_pause < file_pause
    p = page.page
    p.goto(app_url + "/")
    p.get_by_role("link", name="Gaza truce, November 2023").click()
    pause = p.get_by_test_id("pause-days")
    expect(pause).to_have_text(str(file_pause))
    ratio = p.get_by_label(RATIO_LABEL)
    expect(ratio).to_have_value("3")
    ratio.fill("1")
    ratio.press("Tab")  # a change event: htmx posts the form
    expect(pause).to_have_text(str(edited_pause))
    expect(p.locator(".changes")).to_contain_text(f"{RATIO_LABEL}: 3 → 1")
    expect(p.get_by_test_id("ensemble-pause")).to_be_visible()
    assert "agreement.exchange.ratios.women_children=1" in p.url  # the design's address


def test_a_refused_value_shows_its_line_and_column(page: Watched, app_url: str) -> None:
    p = page.page
    p.goto(app_url + SCENARIO)
    ratio = p.get_by_label(RATIO_LABEL)
    ratio.fill("-1")
    ratio.press("Enter")  # the form is submitted from the keyboard
    alert = p.get_by_role("alert")
    expect(alert).to_contain_text("gaza-2023-11-truce.yaml:")
    expect(alert).to_contain_text("agreement.exchange.ratios.women_children")
    expect(p.get_by_test_id("pause-days")).to_have_count(0)


def test_replay_to_day_5_and_step_with_the_keyboard(page: Watched, app_url: str) -> None:
    episode = run(load_scenario(NOV2023), seed=0)
    p = page.page
    p.goto(app_url + SCENARIO)
    p.get_by_role("link", name="Replay this design day by day").click()
    day = p.get_by_label("Day", exact=True)
    day.fill("5")
    day.press("Enter")
    heading = p.locator("#day-heading")
    expect(heading).to_contain_text("Day 5 of")
    for entry in (e for e in episode.transcript if e.day == 5):
        expect(p.locator(".entry .text", has_text=entry.text).first).to_be_visible()
    p.locator("body").press("ArrowRight")
    expect(heading).to_contain_text("Day 6 of")
    p.locator("body").press("ArrowLeft")
    p.locator("body").press("ArrowLeft")
    expect(heading).to_contain_text("Day 4 of")


def test_every_page_loads_cleanly_at_1280_and_400_pixels(browser: Browser, app_url: str) -> None:
    """No console error, no request to any host but the app's, no sideways scrolling of
    the page on a narrow screen (wide tables scroll inside their own box)."""
    for width in (1280, 400):
        context = browser.new_context(viewport={"width": width, "height": 900})
        watched = Watched(context.new_page(), app_url)
        p = watched.page
        p.goto(app_url + "/")
        links = p.locator("ul.files a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert links
        urls = ["/"]
        for link in links:
            urls += [link, f"{link}/replay?day=1", f"{link}/replay?day=5", f"{link}/monitor"]
        for url in urls:
            p.goto(app_url + url)
            p.wait_for_load_state("networkidle")
            overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{url} scrolls sideways at {width} px"
        context.close()
        assert watched.errors == []
        assert watched.outside == []


def test_an_added_observation_changes_compliance(page: Watched, app_url: str, ledger: Path) -> None:
    day = "2023-11-24"
    p = page.page
    p.goto(app_url + SCENARIO)
    p.get_by_role("link", name="Monitoring: the ledger against these terms").click()
    cell = p.get_by_test_id(f"counted-{day}")
    before = cell.inner_text()
    form = p.locator("form", has=p.get_by_role("heading", name="Add an observation"))
    form.get_by_label("date", exact=True).fill(day)
    form.get_by_label("kind", exact=True).select_option("hostages_released")
    form.get_by_label("from (party)").fill("Hamas")
    form.get_by_label("to (party)").fill("Israel")
    form.get_by_label("category", exact=True).select_option("women_children")
    form.get_by_label("count", exact=True).fill("13")
    form.get_by_label("source (publication or body, date, link)").fill("Desk note, 2023-11-24")
    form.get_by_label("source kind", exact=True).select_option("mediator")
    form.get_by_role("button", name="Record").click()
    expect(p.get_by_role("status").filter(has_text="Recorded")).to_contain_text("Recorded (add")
    with open_store(ledger) as store:
        snapshot, current = store.view()
    report = compliance(load_scenario(NOV2023), current, snapshot)
    (done,) = [d.counted for d in report.days if d.date == day]
    expect(cell).to_have_text(str(done))
    assert str(done) != before


def test_the_pause_days_chart_is_drawn_from_the_app_itself(page: Watched, app_url: str) -> None:
    """The ensemble's pause days as an interactive chart (the vendored Vega-Lite, served
    by the app: no other host, no inline style or eval that the page's policy refuses),
    redrawn after an edit; the legend picks one design."""
    p = page.page
    p.goto(app_url + SCENARIO)
    chart = p.locator("#chart-pause[data-drawn]")
    expect(chart.locator("svg.marks")).to_have_count(1)
    assert p.locator("#chart-pause").get_attribute("data-error") is None
    faded = "#chart-pause .mark-rect path[opacity='0.15']"
    assert p.locator(faded).count() == 0
    p.locator("#chart-pause .role-legend-symbol path").first.click()
    p.wait_for_function(f'document.querySelectorAll("{faded}").length > 0')
    ratio = p.get_by_label(RATIO_LABEL)
    ratio.fill("1")
    ratio.press("Tab")
    expect(p.locator(".changes")).to_contain_text(f"{RATIO_LABEL}: 3 → 1")
    expect(p.locator("#chart-pause[data-drawn] svg.marks")).to_have_count(1)
    spec = json.loads(p.locator("#chart-pause").get_attribute("data-spec") or "{}")
    designs = {r["design"] for r in spec["data"]["values"]}
    assert designs == {"as in the file", "this design"}
