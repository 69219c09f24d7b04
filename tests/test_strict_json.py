"""Strict JSON: what the tool prints or writes as JSON parses with a strict parser (no
NaN, Infinity or -Infinity); an infinity is written as "inf" or "-inf", a NaN as null."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from ceasefire.engine import run
from ceasefire.outputs import (
    finite_json,
    strict_json_dumps,
    summary_json,
    transcript_jsonl,
    write_outputs,
)
from ceasefire.outputs._ensemble_report import summary_text
from ceasefire.scenario import load_scenario

from helpers import strict_loads

BENCH = Path(__file__).resolve().parent / "data" / "negmas_domain.yaml"


def test_the_rule() -> None:
    data = {
        "nan": math.nan,
        "inf": math.inf,
        "minus": -math.inf,
        "numpy": [np.float64(-np.inf), np.float32(np.nan), np.int64(3)],
        "tuple": (1.5, math.inf),
        "nested": {"x": [{"y": math.nan}]},
        "plain": [0.1, -2, "text", None, True],
    }
    assert strict_loads(strict_json_dumps(data)) == {
        "nan": None,
        "inf": "inf",
        "minus": "-inf",
        "numpy": ["-inf", None, 3],
        "tuple": [1.5, "inf"],
        "nested": {"x": [{"y": None}]},
        "plain": [0.1, -2, "text", None, True],
    }
    assert float(finite_json(-math.inf)) == -math.inf  # the string reads back
    assert finite_json(0.1) == 0.1


def test_the_strict_parser_refuses_bare_constants() -> None:
    import json

    with pytest.raises(ValueError, match="NaN"):
        strict_loads(json.dumps({"x": math.nan}))


def test_summary_and_transcript_with_non_finite_values_are_strict() -> None:
    """An episode whose numbers are not finite (as a NegMAS reserved value of -inf
    would make a satisfaction) is written as strict JSON by both writers."""
    episode = run(load_scenario(BENCH), seed=0)
    deal = dict(episode.summary.agreements[0])
    deal["satisfaction"] = {"side_a": math.nan, "side_b": -math.inf}
    summary = dataclasses.replace(
        episode.summary, agreements=[deal], fighting_cost={"side_a": math.inf}
    )
    entry = dataclasses.replace(episode.transcript[0], values={"side_a": math.nan})
    odd = dataclasses.replace(episode, summary=summary, transcript=[entry])
    data = strict_loads(summary_json(odd))
    assert data["agreements"][0]["satisfaction"] == {"side_a": None, "side_b": "-inf"}
    assert data["fighting_cost"] == {"side_a": "inf"}
    lines = [strict_loads(line) for line in transcript_jsonl(odd).splitlines()]
    assert lines[1]["values"] == {"side_a": None}


def test_ensemble_summary_with_non_finite_values_is_strict() -> None:
    text = summary_text({"mean": math.nan, "max": math.inf, "rows": [{"x": -math.inf}]})
    assert strict_loads(text) == {"mean": None, "max": "inf", "rows": [{"x": "-inf"}]}


def test_run_out_writes_strict_json(tmp_path: Path) -> None:
    scenario = load_scenario(BENCH)
    out = write_outputs(tmp_path / "run", scenario, run(scenario, seed=0), analytics="negmas")
    for name in ("summary.json",):
        strict_loads((out / name).read_text(encoding="utf-8"))
    for line in (out / "transcript.jsonl").read_text(encoding="utf-8").splitlines():
        strict_loads(line)
