"""The HTML report: complete, offline, escaped, deterministic, and its chart matches the ledger."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pydantic import BaseModel

from ceasefire.engine import Episode, run
from ceasefire.outputs._report import render_report
from ceasefire.scenario import Party, Scenario, load_scenario

from helpers import without_chart_scripts

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "gaza-2023-11-truce.yaml"
RELEASE_FLOWS = {"release", "counter_release", "side_channel_release"}
FORBIDDEN = ("http://", "https://", "//cdn", "<script src", "<link", "@import", "url(")
PAYLOAD = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def episode(scenario: Scenario) -> Episode:
    return run(scenario, seed=0)


@pytest.fixture(scope="module")
def report(scenario: Scenario, episode: Episode) -> str:
    return render_report(scenario, episode)


# Tags that the parser should not expect to be closed (SVG shapes may be, or not).
VOID = frozenset({"meta", "br", "wbr", "rect", "line", "path", "circle", "img", "hr", "input"})


class _Tags(HTMLParser):
    """Collects start tags (with attributes) and checks that non-void tags balance."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>, open: {self.stack[-3:]}")
            return
        self.stack.pop()


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def test_complete_html_document(report: str) -> None:
    assert report.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert report.rstrip().endswith("</html>")
    for part in (
        "<head>",
        '<meta charset="utf-8">',
        "<title>",
        "<style>",
        "</head>",
        "<body>",
        "</body>",
    ):
        assert part in report
    tags = _parse(report)
    assert tags.errors == []
    assert tags.stack == []
    assert [t for t, _ in tags.starts].count("svg") == 1


def test_no_network_reference(report: str) -> None:
    report = without_chart_scripts(report)
    for bad in FORBIDDEN:
        assert bad not in report
        assert bad not in report.lower()
    assert "xmlns" not in report
    assert "<script" not in report.lower()


def test_sources_with_addresses_are_shown_as_text(scenario: Scenario, report: str) -> None:
    # The bundled scenario's sources carry web addresses: they are listed but not linked.
    assert scenario.agreement is not None and scenario.agreement.source is not None
    assert "https://" in scenario.agreement.source
    assert "Sources and assumptions" in report
    assert "https&#58;" not in report  # the scheme stays readable ...
    assert "https:&#47;&#47;www.ynetnews.com" in report  # ... the slashes are references


def test_one_bar_per_day_party_category(episode: Episode, report: str) -> None:
    expected: dict[tuple[str, str, str], int] = {}
    for row in episode.ledger:
        if row.flow in RELEASE_FLOWS:
            key = (row.date, row.from_party, row.category)
            expected[key] = expected.get(key, 0) + row.count
    nonzero = {k: n for k, n in expected.items() if n > 0}
    assert nonzero, "the bundled scenario releases captives"

    bars = [a for t, a in _parse(report).starts if t == "rect" and a.get("class") == "bar"]
    assert len(bars) == len(nonzero)
    # Each bar has a tooltip naming its date and count.
    titles = re.findall(r'<rect class="bar"[^>]*><title>([^<]*)</title></rect>', report)
    assert len(titles) == len(nonzero)
    for (day, _party, category), count in nonzero.items():
        assert any(t.startswith(day) and f"({category}): {count}" in t for t in titles)


def test_pause_and_fighting_bands(episode: Episode, report: str) -> None:
    modes = {row.flow for row in episode.ledger}
    assert {"pause_day", "fighting_day"} <= modes
    rects = [a for t, a in _parse(report).starts if t == "rect"]
    classes = [a.get("class") or "" for a in rects]
    assert "band band-pause" in classes
    assert "band band-fighting" in classes
    # One legend swatch per mode.
    assert sum("band-swatch-pause" in c for c in classes) == 1
    assert sum("band-swatch-fighting" in c for c in classes) == 1
    assert "Pause day" in report and "Fighting day" in report


def test_provenance_line(episode: Episode, report: str) -> None:
    summary = episode.summary
    header = report[report.index("<header>") : report.index("</header>")]
    assert summary.scenario_hash in header
    assert f"seed <code>{summary.seed}</code>" in header
    assert summary.package_version in header


def test_sections_present(scenario: Scenario, episode: Episode, report: str) -> None:
    for section in ("summary", "chart", "days", "transcript", "scenario", "values", "sources"):
        assert f'<section id="{section}">' in report
    assert episode.summary.end_reason in report.replace("_<wbr>", "_")
    # Every transcript entry is a row.
    transcript = report[report.index('<section id="transcript">') :]
    transcript = transcript[: transcript.index("</section>")]
    assert transcript.count("<tr>") == len(episode.transcript) + 1  # plus the header row
    # The value model's units are stated.
    assert "utility points of each party" in report


def test_every_source_and_assumption_listed(scenario: Scenario, report: str) -> None:
    sources = report[report.index('<section id="sources">') :]
    sources = sources[: sources.index("</section>")]
    rows = sources.count("<tr>") - 1
    texts: list[str] = []

    def walk(obj: object) -> None:
        if isinstance(obj, BaseModel):
            for kind in ("source", "assumption"):
                value = getattr(obj, kind, None)
                if value is not None:
                    texts.append(value)
            for name in type(obj).model_fields:
                walk(getattr(obj, name))
        elif isinstance(obj, list | tuple):
            for item in obj:
                walk(item)
        elif isinstance(obj, dict):
            for item in obj.values():
                walk(item)

    walk(scenario)
    assert texts
    assert rows == len(texts)
    assert "<code>values.<wbr>parties.<wbr>israel</code>" in sources
    assert "<code>agreement.<wbr>batches</code>" in sources


def test_scenario_text_is_escaped(scenario: Scenario) -> None:
    parties = [
        scenario.parties[0],
        Party(id=scenario.parties[1].id, name=PAYLOAD, description='"quoted" & <b>bold</b>'),
    ]
    hostile = scenario.model_copy(update={"name": PAYLOAD, "parties": parties})
    html = render_report(hostile, run(hostile, seed=0))
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html
    assert "&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;&#47;b&gt;" not in html  # one '/' only
    assert "&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script" not in without_chart_scripts(html).lower()
    tags = _parse(html)
    assert tags.errors == []


def test_deterministic(scenario: Scenario, episode: Episode, report: str) -> None:
    assert render_report(scenario, episode) == report
    assert render_report(scenario, run(scenario, seed=0)) == report
