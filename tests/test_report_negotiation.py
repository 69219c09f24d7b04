"""The report's negotiation view: offers over time, the outcome plane with the analytics
points, the analytics table; only when the transcript holds offers; offline and escaped."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ceasefire.engine import Episode, bargaining_analytics, run
from ceasefire.outputs._report import MAX_OUTCOME_DOTS, _outcome_dots, render_report
from ceasefire.outputs._svg import linear_ticks
from ceasefire.scenario import Party, Scenario, load_scenario
from test_report import FORBIDDEN, PAYLOAD, _parse

from conftest import NOV2023
from helpers import without_chart_scripts

BENCH = Path(__file__).parent / "data" / "negmas_domain.yaml"


@pytest.fixture(scope="module")
def bench() -> Scenario:
    return load_scenario(BENCH)


@pytest.fixture(scope="module")
def episode(bench: Scenario) -> Episode:
    return run(bench, seed=0)


@pytest.fixture(scope="module")
def report(bench: Scenario, episode: Episode) -> str:
    return render_report(bench, episode)


def _section(report: str) -> str:
    start = report.index('<section id="negotiation">')
    return report[start : report.index("</section>", start)]


def _marks(html: str, cls: str) -> list[dict[str, str | None]]:
    """Elements whose classes include ``cls`` ("mark" elements only, unless cls is other)."""
    found = []
    for _tag, attrs in _parse(html).starts:
        classes = (attrs.get("class") or "").split()
        if cls in classes and ("mark" in classes or cls in ("frontier", "guide")):
            found.append(attrs)
    return found


def test_section_present_and_well_formed(report: str) -> None:
    assert '<section id="negotiation">' in report
    assert '<a href="#negotiation">Negotiation</a>' in report
    tags = _parse(report)
    assert tags.errors == [] and tags.stack == []
    # The releases chart, the offers over time and the outcome plane.
    assert [t for t, _ in tags.starts].count("svg") == 3
    report = without_chart_scripts(report)
    for bad in FORBIDDEN:
        assert bad not in report.lower()
    assert "xmlns" not in report and "<script" not in report.lower()


def test_one_marker_per_offer(episode: Episode, report: str) -> None:
    section = _section(report)
    offers = [e for e in episode.transcript if e.kind in ("offer", "counter")]
    assert len(offers) > 10
    markers = _marks(section, "offer")
    assert len(markers) == len(offers)
    for party in ("side_a", "side_b"):
        made = [e for e in offers if e.actors[0] == party]
        assert len(_marks(section, f"offer-{party}")) == len(made)
        # The line chart: one point per offer on the solid and on the dashed line.
        assert len(_marks(section, f"offer-own-{party}")) == len(made)
        assert len(_marks(section, f"offer-other-{party}")) == len(made)
    # Each offer's tooltip names its day.
    titles = re.findall(r'class="mark offer offer-side_a"[^>]*><title>([^<]*)</title>', section)
    assert titles and all(t.startswith("Day ") for t in titles)


def test_analytics_points_and_agreement_drawn(
    bench: Scenario, episode: Episode, report: str
) -> None:
    section = _section(report)
    analytics = bargaining_analytics(bench)
    nash = analytics.nash
    assert nash is not None
    drawn = _marks(section, "point-nash")
    assert len(drawn) == 1
    assert "Nash point: pause_days=7, hostages_released_per_day=15" in section
    assert len(_marks(section, "point-kalai-smorodinsky")) == 1
    assert len(_marks(section, "point-max-welfare")) == 1
    assert len(_marks(section, "agreement")) == len(episode.summary.agreements) == 1
    assert len(_marks(section, "frontier")) == 1  # the frontier's line
    # Reservation lines: one for each side in each chart.
    assert len(_marks(section, "guide")) >= 4
    # Every distinct outcome is a background dot (770 outcomes, fewer distinct pairs).
    dots = re.search(r'<path class="dots outcome" d="([^"]*)"', section)
    assert dots is not None
    assert dots.group(1).count("M") == len(_outcome_dots(analytics)) <= 770
    # The analytics table: the three points, the agreement and its satisfaction.
    sat = episode.summary.agreements[0]["satisfaction"]
    for label in (
        "Nash point",
        "Kalai-Smorodinsky point",
        "Maximum-welfare point",
        "Agreement, 2024-04-02 (offer)",
        "Opposition",
        "Pareto-optimal outcomes",
    ):
        assert label in section
    assert f"{sat['side_a']:.3f}" in section and f"{sat['side_b']:.3f}" in section


def test_absent_without_talks() -> None:
    scenario = load_scenario(NOV2023)
    html = render_report(scenario, run(scenario, seed=0))
    assert 'id="negotiation"' not in html
    assert "#negotiation" not in html
    assert [t for t, _ in _parse(html).starts].count("svg") == 1


def test_deterministic(bench: Scenario, episode: Episode, report: str) -> None:
    assert render_report(bench, run(bench, seed=0)) == report


def test_names_are_escaped(bench: Scenario) -> None:
    parties = [bench.parties[0], Party(id="side_b", name=PAYLOAD)]
    hostile = bench.model_copy(update={"parties": parties})
    html = render_report(hostile, run(hostile, seed=0))
    section = _section(html)
    assert "Offers of &lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert "<script" not in without_chart_scripts(html).lower()
    assert _parse(html).errors == []


def test_outcome_dots_are_capped_and_fixed(bench: Scenario) -> None:
    n = bench.negotiation
    assert n is not None
    wide = [
        i.model_copy(update={"max": 120})
        if i.id == "pause_days"
        else i.model_copy(update={"max": 70})
        if i.id == "hostages_released_per_day"
        else i
        for i in n.issues
    ]
    big = bench.model_copy(update={"negotiation": n.model_copy(update={"issues": wide})})
    analytics = bargaining_analytics(big)
    assert analytics.outcome_count == 120 * 66 * 5
    dots = _outcome_dots(analytics)
    assert len(dots) == MAX_OUTCOME_DOTS
    assert dots == _outcome_dots(bargaining_analytics(big))
    assert len(set(dots)) == len(dots)
    va = analytics.table.values["side_a"]
    assert min(x for x, _ in dots) >= float(va.min()) - 1e-9


def test_ticks_cover_the_range() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        lo, hi = sorted(float(v) for v in rng.normal(0, 10.0 ** rng.integers(-3, 4), 2))
        ticks = linear_ticks(lo, hi)
        assert ticks[0] <= lo and ticks[-1] >= hi
        assert 2 <= len(ticks) <= 12
        steps = np.diff(ticks)
        assert np.allclose(steps, steps[0])


def test_one_line_per_session_of_talks() -> None:
    path = Path(__file__).resolve().parents[1] / "scenarios" / "gaza-2023-12-proposal.yaml"
    if not path.exists():
        pytest.skip("the December 2023 scenario is not there")
    scenario = load_scenario(path)
    episode = run(scenario, seed=0)
    section = _section(render_report(scenario, episode))
    per_session: dict[int, int] = {}
    for e in episode.transcript:
        if e.kind in ("offer", "counter") and e.actors[0] == scenario.parties[0].id:
            number = sum(1 for x in episode.transcript[: e.seq] if x.kind == "talks_open")
            per_session[number] = per_session.get(number, 0) + 1
    lines = re.findall(rf'<path class="line offer-own offer-own-{scenario.parties[0].id}"', section)
    # A line joins two offers or more (one offer is a marker only).
    assert len(lines) == sum(1 for k in per_session.values() if k > 1) >= 1
    offers = [e for e in episode.transcript if e.kind in ("offer", "counter")]
    assert len(_marks(section, "offer")) == len(offers)
