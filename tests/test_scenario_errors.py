"""Bad scenario files are refused with file, line, column, field and a fix; exit 2 from
the CLI, no traceback, nothing written."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ceasefire.scenario import ScenarioError, load_scenario

from conftest import NOV2023

BASE = NOV2023.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


def replace_once(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_bundled_scenario_loads() -> None:
    assert load_scenario(NOV2023).name


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\nname: [unclosed\ncalendar: {}\n")
    problem = refused(path).problems[0]
    assert problem.file == str(path)
    assert problem.line is not None and problem.line >= 2
    assert problem.column is not None
    assert "not valid YAML" in problem.message


def test_unknown_field_suggests_the_right_one(tmp_path: Path) -> None:
    text = replace_once("  initial_days: 4\n", "  inital_days: 4\n")
    problems = refused(write(tmp_path, text)).problems
    unknown = next(p for p in problems if "unknown field" in p.message)
    assert unknown.field == "agreement.inital_days"
    assert "did you mean 'initial_days'" in unknown.message
    assert unknown.line == line_of(text, "inital_days:") and unknown.column == 3


def test_wrong_type(tmp_path: Path) -> None:
    text = replace_once("  initial_days: 4\n", "  initial_days: four\n")
    problems = refused(write(tmp_path, text)).problems
    p = next(p for p in problems if p.field == "agreement.initial_days")
    assert "whole number" in p.message or "integer" in p.message
    assert p.line == line_of(text, "initial_days: four")


def test_fractional_count_is_refused(tmp_path: Path) -> None:
    text = replace_once("    total: 50\n", "    total: 50.5\n")
    p = next(
        p for p in refused(write(tmp_path, text)).problems if p.field == "agreement.batches.total"
    )
    assert "whole number" in p.message


def test_negative_count(tmp_path: Path) -> None:
    text = replace_once("    count: 80\n", "    count: -80\n")
    p = refused(write(tmp_path, text)).problems[0]
    assert p.field == "holdings[0].count"
    assert "greater than or equal to 0" in p.message
    assert p.line == line_of(text, "count: -80")


def test_ratio_on_an_undeclared_category(tmp_path: Path) -> None:
    text = replace_once("      women_children: 3\n", "      women_childern: 3\n")
    problems = refused(write(tmp_path, text)).problems
    p = next(p for p in problems if p.field == "agreement.exchange.ratios.women_childern")
    assert "unknown category 'women_childern'" in p.message
    assert "did you mean 'women_children'" in p.message
    assert p.line == line_of(text, "women_childern: 3")


def test_custody_naming_an_undeclared_party(tmp_path: Path) -> None:
    text = replace_once("    custody: other_groups\n", "    custody: elsewhere\n")
    p = refused(write(tmp_path, text)).problems[0]
    assert p.field == "holdings[1].custody"
    assert "unknown party or group 'elsewhere'" in p.message
    assert p.line == line_of(text, "custody: elsewhere")


def test_dates_outside_the_calendar(tmp_path: Path) -> None:
    text = replace_once("  start: 2023-11-24\n", "  start: 2024-01-15\n")
    p = refused(write(tmp_path, text)).problems[0]
    assert p.field == "agreement.start"
    assert "outside the calendar (2023-11-22 to 2023-12-07)" in p.message


def test_horizon_before_start(tmp_path: Path) -> None:
    text = replace_once("  horizon: 2023-12-07", "  horizon: 2023-11-01")
    p = refused(write(tmp_path, text)).problems[0]
    assert p.field == "calendar" and "before start" in p.message


def test_empty_file(tmp_path: Path) -> None:
    p = refused(write(tmp_path, "")).problems[0]
    assert "the file is empty" in p.message and "version: 2" in p.message


def test_comment_only_file_is_empty(tmp_path: Path) -> None:
    assert "empty" in refused(write(tmp_path, "# nothing\n")).problems[0].message


def test_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    p = refused(write(tmp_path, "- version\n- 1\n")).problems[0]
    assert "holds a list" in p.message and "mapping" in p.message


def test_huge_file_is_refused_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("version: 1\n" + "# padding\n" * 400_000, encoding="utf-8")
    started = time.perf_counter()
    p = refused(path).problems[0]
    assert time.perf_counter() - started < 5
    assert "bytes" in p.message and "limited" in p.message


def test_duplicate_keys(tmp_path: Path) -> None:
    text = replace_once("  initial_days: 4\n", "  initial_days: 4\n  initial_days: 5\n")
    p = refused(write(tmp_path, text)).problems[0]
    assert "duplicate key 'initial_days'" in p.message
    assert f"first given at line {line_of(text, 'initial_days: 4')}" in p.message
    assert p.line == line_of(text, "initial_days: 5")


def test_extension_rule_with_a_zero_step(tmp_path: Path) -> None:
    text = replace_once("    per_step: 10\n", "    per_step: 0\n")
    p = refused(write(tmp_path, text)).problems[0]
    assert p.field == "agreement.extension.per_step"
    assert "greater than 0" in p.message
    text = replace_once("    step_days: 1\n", "    step_days: 0\n")
    assert refused(write(tmp_path, text)).problems[0].field == "agreement.extension.step_days"


def test_missing_required_field(tmp_path: Path) -> None:
    text = replace_once("  units: >\n", "  unit: >\n")
    problems = refused(write(tmp_path, text)).problems
    fields = {p.field for p in problems}
    assert "values.units" in fields and "values.unit" in fields
    missing = next(p for p in problems if p.field == "values.units")
    assert "required field 'units' is missing" in missing.message


def test_python_tags_are_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    text = f"version: 1\nname: !!python/object/apply:os.system ['touch {marker}']\n"
    p = refused(write(tmp_path, text)).problems[0]
    assert "tag" in p.message and "not accepted" in p.message
    assert not marker.exists()


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["version: 1", 'a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    started = time.perf_counter()
    p = refused(write(tmp_path, "\n".join(lines) + "\n")).problems[0]
    assert time.perf_counter() - started < 2
    assert "aliases" in p.message


def test_unsupported_version(tmp_path: Path) -> None:
    text = replace_once("version: 1\n", "version: 7\n")
    p = refused(write(tmp_path, text)).problems[0]
    assert p.field == "version" and "reads versions 1 and 2" in p.message


def test_unknown_event_kind(tmp_path: Path) -> None:
    text = replace_once(
        "  - kind: delay\n    date: 2023-11-25\n", "  - kind: earthquake\n    date: 2023-11-25\n"
    )
    p = refused(write(tmp_path, text)).problems[0]
    assert p.field.startswith("events[0]")
    assert "holdings, custody, value, delay" in p.message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("version: 1\nname: caf\xe9\n".encode("latin-1"))
    assert "UTF-8" in refused(path).problems[0].message


def test_json_is_accepted_and_checked_with_positions(tmp_path: Path) -> None:
    import json

    from ceasefire.scenario import content_hash

    data = load_scenario(NOV2023).model_dump(mode="json")
    good = write(tmp_path, json.dumps(data, indent=2), "good.json")
    assert content_hash(load_scenario(good)) == content_hash(load_scenario(NOV2023))
    data["agreement"]["initial_days"] = -1
    text = json.dumps(data, indent=2)
    p = refused(write(tmp_path, text, "bad.json")).problems[0]
    assert p.field == "agreement.initial_days" and p.line == line_of(text, '"initial_days": -1')


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in refused(tmp_path / "nope.yaml").problems[0].message


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ceasefire", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_refuses_with_exit_code_2_and_no_traceback(tmp_path: Path) -> None:
    text = replace_once("    count: 80\n", "    count: -80\n")
    bad = write(tmp_path, text)
    out = tmp_path / "out"
    for args in (["check", str(bad)], ["run", str(bad), "--out", str(out)]):
        result = run_cli(*args)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert f"{bad}:{line_of(text, 'count: -80')}:" in result.stderr
        assert "holdings[0].count" in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_cli_check_accepts_the_bundled_scenario() -> None:
    result = run_cli("check", str(NOV2023))
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


DEC = (NOV2023.parent / "gaza-2023-12-proposal.yaml").read_text(encoding="utf-8")


def replace_dec(old: str, new: str) -> str:
    assert DEC.count(old) == 1, old
    return DEC.replace(old, new)


def test_negotiation_value_on_an_undeclared_issue(tmp_path: Path) -> None:
    text = replace_dec(
        "      curve: {kind: boulware, exponent: 3}\n",
        "      curve: {kind: boulware, exponent: 3}\n      issues: {pause_dayz: {slope: 1.0}}\n",
    )
    p = refused(write(tmp_path, text)).problems[0]
    assert p.field == "negotiation.parties.hamas.issues.pause_dayz"
    assert "did you mean 'pause_days'" in p.message
    assert p.line == line_of(text, "pause_dayz")


def test_curve_exponent_that_contradicts_its_kind(tmp_path: Path) -> None:
    text = replace_dec("{kind: boulware, exponent: 3}", "{kind: boulware, exponent: 0.5}")
    p = refused(write(tmp_path, text)).problems[0]
    assert p.field == "negotiation.parties.hamas.curve"
    assert "boulware e > 1" in p.message


def test_issue_without_a_domain(tmp_path: Path) -> None:
    text = replace_dec("      min: 3\n      max: 14\n", "      min: 14\n      max: 3\n")
    p = refused(write(tmp_path, text)).problems[0]
    assert p.field == "negotiation.issues[0]" and "min <= max" in p.message


def test_schema_out_into_a_missing_folder_exits_2(tmp_path: Path) -> None:
    """Issue 13, item 10: a FileNotFoundError traceback (exit 1)."""
    target = tmp_path / "missing" / "scenario.schema.json"
    result = run_cli("schema", "--out", str(target))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{target.parent} does not exist" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_schema_out_writes_the_schema_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "scenario.schema.json"
    target.write_text("old", encoding="utf-8")
    assert run_cli("schema", "--out", str(target)).returncode == 0
    assert target.read_text(encoding="utf-8") == run_cli("schema").stdout
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize(
    ("written", "said"),
    [('"1"', "text"), ("'1'", "text"), ("true", "yes/no"), ("1.0", "decimal"), ("1e0", "decimal")],
)
def test_version_is_the_whole_number_1(tmp_path: Path, written: str, said: str) -> None:
    """Issue 13, item 15: `true` and `1.0` were accepted, `"1"` refused as "version '1'
    is not supported by this release; it reads version 1"."""
    text = replace_once("version: 1\n", f"version: {written}\n")
    problems = refused(write(tmp_path, text)).problems
    p = next(p for p in problems if p.field == "version")
    assert said in p.message and "`version: 2`" in p.message
    assert "not supported" not in p.message
    assert (p.line, p.column) == (line_of(text, "version:"), 1)


@pytest.mark.parametrize("depth", [40, 1_000, 100_000])
def test_deep_nesting_names_the_first_node_too_deep(tmp_path: Path, depth: int) -> None:
    """Issue 13, item 15: past Python's recursion limit the refusal had no line:column."""
    text = "version: 1\nname: x\nx: " + "[" * depth + "]" * depth + "\n"
    p = refused(write(tmp_path, text)).problems[0]
    assert "nested deeper than 32 levels" in p.message
    # The value of x: is at level 1, so the 33rd '[' opens level 33.
    assert (p.line, p.column) == (3, len("x: ") + 33)


def test_deep_block_nesting_names_the_first_node_too_deep(tmp_path: Path) -> None:
    lines = ["version: 1", "name: x"] + ["  " * i + f"k{i}:" for i in range(200)]
    text = "\n".join(lines) + " 1\n"
    p = refused(write(tmp_path, text)).problems[0]
    assert "nested deeper than 32 levels" in p.message
    # The value of k0: (the mapping of k1) is at level 1, the value of k32 at level 33.
    assert (p.line, p.column) == (3 + 33, 2 * 33 + 1)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no BOM", "BOM"])
def test_not_utf8_names_line_and_column_of_the_first_bad_byte(tmp_path: Path, bom: bytes) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(bom + "version: 1\nname: caf\xe9 ol\xe9\n".encode("latin-1"))
    p = refused(path).problems[0]
    assert "UTF-8" in p.message
    assert (p.line, p.column) == (2, len("name: caf") + 1)
    path.write_bytes(bom + "n\xe9: 1\n".encode("latin-1"))
    assert (refused(path).problems[0].line, refused(path).problems[0].column) == (1, 2)


FEATURES = NOV2023.parent.parent / "tests" / "data" / "ensemble_features.yaml"
PAUSE_DAY_PRIOR = "{kind: truncated_normal, mean: 4, sd: 3, low: -4}"


@pytest.mark.parametrize(
    "distribution",
    [
        "{kind: truncated_normal, mean: 4, sd: 9223372036854775807, low: -4}",
        "{kind: truncated_normal, mean: 4, sd: 1e11, high: 5}",
        "{kind: uniform, low: -1e300, high: 1e300}",
        "{kind: beta, a: 2, b: 2, low: 0, high: 1e13}",
        "{kind: categorical, values: [1.0, 1e15]}",
    ],
)
def test_a_value_prior_that_can_draw_past_the_value_limit_is_refused(
    tmp_path: Path, distribution: str
) -> None:
    """Found by tests/test_fuzz: `check` accepted these, then `run --draw` and `ensemble`
    crashed with a pydantic ValidationError (a drawn value over 1e12)."""
    text = FEATURES.read_text(encoding="utf-8")
    assert text.count(PAUSE_DAY_PRIOR) == 1
    text = text.replace(PAUSE_DAY_PRIOR, distribution)
    p = refused(write(tmp_path, text)).problems[0]
    assert p.field.startswith("priors[") and p.field.endswith("].distribution")
    assert (
        "draws can fall outside -1,000,000,000,000..1,000,000,000,000, the range of a value"
        in p.message
    )
    assert p.line == line_of(text, distribution)


def test_an_open_truncated_normal_draws_finite_numbers() -> None:
    """The lowest uniform (0.0) gave -inf on a truncated normal open below; the highest
    one a double can hold stays finite too. Every draw lies in the support `check` bounds."""
    import numpy as np

    from ceasefire.ensemble._draws import quantile
    from ceasefire.scenario import TruncatedNormal

    extremes = np.array([0.0, 2.0**-53, 0.5, 1.0 - 2.0**-53])
    for low, high in ((None, None), (-4.0, None), (None, 5.0), (3.0, None)):
        dist = TruncatedNormal(kind="truncated_normal", mean=4.0, sd=3.0, low=low, high=high)
        bottom, top = dist.support()
        assert np.isfinite([bottom, top]).all()
        drawn = quantile(dist, extremes)
        assert np.isfinite(drawn).all() and (drawn >= bottom).all() and (drawn <= top).all()


def test_changes_replace_values_and_problems_point_at_the_replaced_value() -> None:
    """``load_scenario(path, changes)``: an edit made in a form (ceasefire serve)."""
    ratio = ("agreement", "exchange", "ratios", "women_children")
    changed = load_scenario(NOV2023, {ratio: 1, ("holdings", 0, "count"): 90})
    assert changed.agreement is not None
    assert changed.agreement.exchange.ratios["women_children"] == 1
    assert changed.holdings[0].count == 90
    text = NOV2023.read_text(encoding="utf-8").splitlines()
    with pytest.raises(ScenarioError) as refused:
        load_scenario(NOV2023, {ratio: -1})
    (problem,) = refused.value.problems
    assert problem.field == "agreement.exchange.ratios.women_children"
    assert problem.line is not None and problem.column is not None
    assert text[problem.line - 1][problem.column - 1 :].startswith("women_children: 3")
    with pytest.raises(ScenarioError, match=r"holdings\[99\]\.count: no such field"):
        load_scenario(NOV2023, {("holdings", 99, "count"): 1})
