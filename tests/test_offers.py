"""The offer trace: every offer at full precision, as records, offers.csv and
offers.parquet, matching the transcript, the summary and NegMAS's trace length."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ceasefire.cli import main
from ceasefire.engine import Episode, run
from ceasefire.ensemble import draw_scenario, run_draw
from ceasefire.outputs import OfferTraceError, offer_trace, offers_csv
from ceasefire.scenario import Scenario, load_scenario
from test_negmas_agreement import CASES, scenario_for

from conftest import NOV2023

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "tests" / "data" / "negmas_domain.yaml"
DECEMBER = ROOT / "scenarios" / "gaza-2023-12-proposal.yaml"


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _transcript_offers(episode: Episode) -> list[tuple[str, str, dict[str, float]]]:
    return [
        (e.kind, e.actors[0], {k: v for k, v in e.values.items() if "aspiration" not in k})
        for e in episode.transcript
        if e.kind in ("offer", "counter") or (e.kind == "mediator_text" and e.values)
    ]


@pytest.mark.parametrize("path", [BENCH, DECEMBER], ids=["bench", "december"])
def test_trace_is_the_transcripts_offers_at_full_precision(path: Path) -> None:
    scenario = load_scenario(path)
    episode = run(scenario, seed=7)
    offers = offer_trace(scenario, episode)
    assert offers
    assert [
        (o.kind, o.proposer, {p: round(v, 6) for p, v in o.utilities.items()}) for o in offers
    ] == [(k, who, values) for k, who, values in _transcript_offers(episode)]
    # full precision: the bench's values are not 6-decimal numbers (December's are whole)
    rounded = all(round(v, 6) == v for o in offers for v in o.utilities.values())
    assert rounded == (path == DECEMBER)
    accepted = [o for o in offers if o.accepted]
    # the accepted offer: made in the deal's round, on or before the deal's day
    assert [(o.terms, o.round) for o in accepted] == [
        (d["terms"], d["round"]) for d in episode.summary.agreements
    ]
    assert all(
        o.date <= d["date"] for o, d in zip(accepted, episode.summary.agreements, strict=True)
    )
    days = [o.day for o in offers]
    assert days == sorted(days)


def test_trace_has_as_many_offers_as_negmas() -> None:
    """NegMAS's extended trace (every offer, the accepted one included) is as long as
    ours on the reference cases."""
    for case in CASES:
        offers = offer_trace(scenario_for(case), run(scenario_for(case)))
        assert len(offers) == case["negmas"]["n_offers"], case["id"]
        if case["negmas"]["agreement"] is not None:
            (last,) = [o for o in offers if o.accepted]
            assert last is offers[-1]
            assert list(last.terms.values()) == case["negmas"]["agreement"]
            assert last.utilities["side_a"] == pytest.approx(case["negmas"]["utility_a"], abs=1e-12)


def test_another_runs_episode_is_refused() -> None:
    scenario = load_scenario(BENCH)
    other = run(scenario, seed=0)
    changed = scenario.model_copy(update={"name": "changed"})
    assert offer_trace(changed, other)  # the same talks: accepted
    assert scenario.negotiation is not None
    parties = dict(scenario.negotiation.parties)
    parties["side_a"] = parties["side_a"].model_copy(update={"reservation": 0.1})
    moved = scenario.model_copy(
        update={"negotiation": scenario.negotiation.model_copy(update={"parties": parties})}
    )
    with pytest.raises(OfferTraceError, match="pass the scenario the episode was run on"):
        offer_trace(moved, other)


def test_no_talks_no_trace(tmp_path: Path) -> None:
    scenario = load_scenario(NOV2023)
    assert offer_trace(scenario, run(scenario)) == []
    _cli("run", str(NOV2023), "--out", str(tmp_path / "run"))
    assert not (tmp_path / "run" / "offers.csv").exists()


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("draw", [None, 5])
def test_run_out_writes_the_trace_as_csv_and_parquet(tmp_path: Path, draw: int | None) -> None:
    out = tmp_path / "run"
    args = ["run", str(DECEMBER), "--seed", "3", "--out", str(out)]
    if draw is not None:
        args += ["--draw", str(draw)]
    _cli(*args)
    scenario: Scenario = load_scenario(DECEMBER)
    if draw is None:
        episode = run(scenario, seed=3)
    else:
        episode = run_draw(scenario, 3, draw)
        scenario = draw_scenario(scenario, 3, draw)
    offers = offer_trace(scenario, episode)
    text = (out / "offers.csv").read_text(encoding="utf-8")
    assert text == offers_csv(scenario, offers)
    rows = _read_csv(out / "offers.csv")
    assert len(rows) == len(offers)
    issues = [i.id for i in scenario.negotiation.issues] if scenario.negotiation else []
    assert list(rows[0]) == [
        "session",
        "round",
        "day",
        "date",
        "kind",
        "proposer",
        "recipient",
        "outcome",
        *(f"issue_{i}" for i in issues),
        "utility_israel",
        "utility_hamas",
        "accepted",
    ]
    for row, offer in zip(rows, offers, strict=True):
        # floats read back exactly
        assert {p: float(row[f"utility_{p}"]) for p in offer.utilities} == offer.utilities
        assert int(row["outcome"]) == offer.outcome
        assert row["accepted"] == ("true" if offer.accepted else "false")
    table = pq.read_table(out / "offers.parquet").to_pylist()
    assert len(table) == len(rows)
    for got, row in zip(table, rows, strict=True):
        assert str(got["date"]) == row["date"]
        assert got["utility_hamas"] == float(row["utility_hamas"])
        assert got["issue_first_category"] == row["issue_first_category"]
        assert got["accepted"] == (row["accepted"] == "true")
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["analytics"]["definitions"] == "ours"


def test_mediator_texts_are_in_the_trace() -> None:
    """A compromise text the mediator tables is a row of its own, from the mediator to
    both sides; vetoed, it is not accepted."""
    scenario = load_scenario(DECEMBER)
    episode = run(scenario, seed=0)
    offers = offer_trace(scenario, episode)
    texts = [o for o in offers if o.kind == "mediator_text"]
    tabled = [e for e in episode.transcript if e.kind == "mediator_text" and e.values]
    assert len(texts) == len(tabled) > 0
    assert scenario.negotiation is not None
    assert {(o.proposer, o.recipient) for o in texts} == {(scenario.negotiation.mediator, "both")}
    vetoed = [e for e in episode.transcript if e.kind == "veto"]
    assert vetoed and not any(o.accepted for o in texts)
    # a text is tabled in the round of the offers before it
    for i, o in enumerate(offers):
        if o.kind == "mediator_text" and i > 0:
            assert o.round == offers[i - 1].round
