"""Text-valued issues, and `ceasefire import-domain` (Genius XML, GeniusWeb JSON).

The expected values are read from the domain files themselves (Genius's evaluation over
the issue's largest, GeniusWeb's value utilities), never written out by hand.
"""

from __future__ import annotations

import html
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from ceasefire.engine import run
from ceasefire.scenario import (
    DomainError,
    Scenario,
    ScenarioError,
    import_domain,
    load_scenario,
    loads_scenario,
)
from test_cli import cli
from test_ensemble_negotiation import changed, differences, uniform_reservations

from conftest import ROOT

DOMAINS = ROOT / "tests" / "data" / "domains"
LAPTOP = DOMAINS / "laptop"

TEXT = """\
version: 1
name: Text issue
calendar: {start: 2024-01-01, horizon: 2024-03-30}
parties:
  - {id: side_a, name: Side A}
  - {id: side_b, name: Side B}
categories:
  - {id: captives, name: Captives}
negotiation:
  start: 2024-01-01
  first_mover: side_a
  restart_after_days: null
  issues:
    - {id: brand, kind: other, values: [brand_a, "Brand <b>B</b>", "19'' LCD, matte"]}
    - {id: pause_days, kind: pause_days, min: 1, max: 5}
  parties:
    side_a:
      reservation: 0.2
      deadline_days: 20
      issues:
        brand: {weight: 0.5, table: {brand_a: 1.0, "Brand <b>B</b>": 0.5, "19'' LCD, matte": 0.0}}
        pause_days: {weight: 0.5, slope: -0.25, bias: 1.25}
    side_b:
      reservation: 0.2
      deadline_days: 20
      issues:
        brand: {weight: 0.6, table: {brand_a: 0.0, "Brand <b>B</b>": 0.3, "19'' LCD, matte": 1.0}}
        pause_days: {weight: 0.4, slope: 0.25, bias: -0.25}
values:
  units: normalised utility
  parties: {side_a: {}, side_b: {}}
"""
LABELS = ["brand_a", "Brand <b>B</b>", "19'' LCD, matte"]


def refused(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        loads_scenario(text, "t.yaml")
    return caught.value.render()


# -- text-valued issues ---------------------------------------------------------------------


def test_text_values_run_and_show_as_text(tmp_path: Path) -> None:
    s = loads_scenario(TEXT, "t.yaml")
    assert s.negotiation is not None and s.negotiation.issues[0].is_text()
    episode = run(s, seed=0)
    (deal,) = episode.summary.agreements
    assert deal["terms"]["brand"] in LABELS
    # The deal's values are the tables' values of its text (and the slope of its days).
    n = s.negotiation
    for party, terms in n.parties.items():
        brand, days = terms.issues["brand"], terms.issues["pause_days"]
        assert brand.table is not None and days.slope is not None
        expected = brand.weight * brand.table[deal["terms"]["brand"]] + days.weight * (
            days.slope * deal["terms"]["pause_days"] + days.bias
        )
        assert deal["values"][party] == pytest.approx(expected, abs=1e-6)
    path = tmp_path / "t.yaml"
    path.write_text(TEXT, encoding="utf-8")
    result = cli("run", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["agreements"][0]["terms"] == deal["terms"]
    out = tmp_path / "out"
    assert cli("run", str(path), "--out", str(out)).returncode == 0
    offers = pq.read_table(out / "offers.parquet")
    assert str(offers.schema.field("issue_brand").type) == "string"
    assert set(offers.column("issue_brand").to_pylist()) <= set(LABELS)
    transcript = [json.loads(line) for line in (out / "transcript.jsonl").open()]
    assert any(deal["terms"]["brand"] in json.dumps(t, ensure_ascii=False) for t in transcript)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert html.escape(deal["terms"]["brand"]) in report
    assert html.escape("Brand <b>B</b>") in report  # text from the scenario is data: escaped
    assert "<b>B</b>" not in report


def test_an_ensemble_of_text_valued_talks_equals_its_single_runs() -> None:
    s = changed(loads_scenario(TEXT, "t.yaml"), uniform_reservations)
    found, result = differences(s, 200, seed=3)
    assert found == []
    brands = {result.terms(int(o))["brand"] for o in result.agreement_outcome[:, 0] if o >= 0}
    assert brands and brands <= set(LABELS)


def test_a_slope_on_text_is_refused_at_its_line_with_a_table_suggested() -> None:
    old = next(t for t in TEXT.splitlines() if "brand: {weight: 0.5," in t)
    text = TEXT.replace(old, "        brand: {weight: 0.5, slope: 1.0}")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "slope: 1.0" in t)
    message = refused(text)
    assert f"t.yaml:{line}:" in message
    assert "takes text values" in message and "`table`" in message


def test_table_keys_must_be_values_of_the_issue() -> None:
    message = refused(TEXT.replace("{brand_a: 0.0,", "{brand_b: 0.0,"))
    assert "'brand_b' is not a value of issue 'brand'" in message
    assert "did you mean 'brand_a'" in message


def test_text_only_where_numbers_are_not_needed_and_each_value_once() -> None:
    days = "{id: pause_days, kind: pause_days, min: 1, max: 5}"
    message = refused(TEXT.replace(days, "{id: pause_days, kind: pause_days, values: [a, b]}"))
    assert "pause_days takes whole numbers" in message
    message = refused(TEXT.replace("values: [brand_a,", "values: [brand_a, brand_a,"))
    assert "'brand_a' is listed twice" in message
    for values in ("[1, brand_a]", "[1.5, 2.5]", "[true, false]"):
        message = refused(TEXT.replace("values: [brand_a,", f"values: {values[:-1]},"))
        assert "all whole numbers or all text; quote a value" in message
        assert "t.yaml:14:" in message and message.count("t.yaml:") >= 1


# -- import-domain --------------------------------------------------------------------------


def genius_tables(profile: Path) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Weights and value tables by issue name, as Genius reads a profile."""
    root = ET.parse(profile).getroot()
    names = {e.get("index"): e.get("name") for e in root.iter("issue")}
    weights = {str(names[w.get("index")]): float(w.get("value", "")) for w in root.iter("weight")}
    tables = {}
    for e in root.iter("issue"):
        raw = {str(i.get("value")): float(i.get("evaluation", "")) for i in e.iter("item")}
        tables[str(e.get("name"))] = {k: v / max(raw.values()) for k, v in raw.items()}
    return weights, tables


def imported(*paths: Path, **options: Any) -> Scenario:
    return loads_scenario(import_domain(list(paths), **options), "imported.yaml")


def test_a_genius_domain_imports_with_its_weights_tables_and_labels(tmp_path: Path) -> None:
    s = imported(LAPTOP)
    n = s.negotiation
    assert n is not None and n.template is None
    domain = ET.parse(LAPTOP / "Laptop-C-domain.xml").getroot()
    issues = [
        (e.get("name"), [i.get("value") for i in e.iter("item")]) for e in domain.iter("issue")
    ]
    assert [i.domain() for i in n.issues] == [values for _, values in issues]
    ids = [i.id for i in n.issues]
    for party, profile in zip(n.parties.values(), sorted(LAPTOP.glob("*prof*.xml")), strict=True):
        weights, tables = genius_tables(profile)
        for ident, (name, _values) in zip(ids, issues, strict=True):
            f = party.issues[ident]
            assert f.weight == weights[str(name)] and f.table == tables[str(name)]
        assert party.reservation == float(
            ET.parse(profile).getroot().find("reservation").get("value")
        )  # type: ignore[union-attr]
    # Same input, same bytes; a folder or its files name the same import.
    files = sorted(LAPTOP.glob("*.xml"))
    assert import_domain([LAPTOP]) == import_domain([LAPTOP])
    assert (
        import_domain(files).split("version: 1")[1]
        == import_domain([LAPTOP]).split("version: 1")[1]
    )
    # The written file checks and runs, with the labels in the terms.
    out = tmp_path / "laptop.yaml"
    assert cli("import-domain", str(LAPTOP), "--out", str(out)).returncode == 0
    assert cli("check", str(out)).returncode == 0
    result = cli("run", str(out), "--json")
    assert result.returncode == 0, result.stderr
    (deal,) = json.loads(result.stdout)["agreements"]
    assert [deal["terms"][i] for i in ids] in [list(o) for o in _product(n.issues)]


def _product(issues: Any) -> list[tuple[Any, ...]]:
    import itertools

    return list(itertools.product(*[i.domain() for i in issues]))


def test_a_geniusweb_domain_imports_with_the_reservation_bid_as_reservation() -> None:
    folder = DOMAINS / "party_geniusweb"
    s = imported(folder)
    assert s.negotiation is not None
    for party, name in zip(s.negotiation.parties.values(), ("party1", "party2"), strict=True):
        space = json.loads((folder / f"{name}.json").read_text())["LinearAdditiveUtilitySpace"]
        bid = space["reservationBid"]["issuevalues"]
        utilities = space["issueUtilities"]
        expected = sum(
            space["issueWeights"][i] * utilities[i]["discreteutils"]["valueUtilities"][v]
            for i, v in bid.items()
        )
        assert party.reservation == pytest.approx(expected, abs=1e-12)
        tables = [f.table for f in party.issues.values()]
        assert tables == [u["discreteutils"]["valueUtilities"] for u in utilities.values()]
    assert run(s, seed=0).summary.end_reason in ("agreed", "talks_deadline")


def test_discount_factors_are_imported_per_round_or_dropped_and_stated() -> None:
    folder = DOMAINS / "acquisition_b"
    result = cli("import-domain", str(folder))
    assert result.returncode == 0, result.stderr
    s = loads_scenario(result.stdout, "imported.yaml")
    assert s.negotiation is not None
    discounts = [p.discount for p in s.negotiation.parties.values()]
    assert [(d.factor, d.per) for d in discounts if d is not None] == [(0.75, "round")] * 2
    assert "# Discounted: Acquisition-B-prof1.xml has discount_factor 0.75" in result.stdout
    text = import_domain([folder], ignore_discount=True)
    assert "# Discounting ignored (--ignore-discount)" in text
    s = loads_scenario(text, "imported.yaml")
    assert s.negotiation is not None
    assert all(p.discount is None for p in s.negotiation.parties.values())
    labels = [v for i in s.negotiation.issues for v in i.domain()]
    assert "BI-Tech founders get 5% + jobs " in labels  # the label as written, space and all
    # A discount factor of 0 (IntegerDomain's), as 1, is Genius's "no discount".
    plain = loads_scenario(import_domain([DOMAINS / "integer_domain"]), "imported.yaml")
    assert plain.negotiation is not None
    assert all(p.discount is None for p in plain.negotiation.parties.values())


def test_non_linear_profiles_are_refused_where_they_are() -> None:
    result = cli("import-domain", str(DOMAINS / "ten_issues"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "profile-1.xml" in result.stderr and "non-linear" in result.stderr


def test_other_than_two_profiles_is_refused(tmp_path: Path) -> None:
    for f in LAPTOP.glob("*.xml"):
        shutil.copy(f, tmp_path / f.name)
    shutil.copy(LAPTOP / "Laptop-C-prof1.xml", tmp_path / "Laptop-C-prof3.xml")
    with pytest.raises(DomainError, match=r"found 3 profile\(s\).*two parties"):
        import_domain([tmp_path])
    result = cli(
        "import-domain", str(LAPTOP / "Laptop-C-domain.xml"), str(LAPTOP / "Laptop-C-prof1.xml")
    )
    assert result.returncode == 2 and "found 1 profile(s)" in result.stderr


def _genius(tmp_path: Path, issue: str, evaluation: str) -> list[Path]:
    domain = tmp_path / "d.xml"
    domain.write_text(f"<negotiation_template><utility_space><objective name='x'>{issue}"
                      "</objective></utility_space></negotiation_template>")  # fmt: skip
    paths = [domain]
    for k in (1, 2):
        p = tmp_path / f"p{k}.xml"
        p.write_text(f"<utility_space><objective>{evaluation}<weight index='1' value='1.0'/>"
                     "</objective><reservation value='0.1'/></utility_space>")  # fmt: skip
        paths.append(p)
    return paths


def test_integer_issues_take_genius_clipped_linear_evaluators(tmp_path: Path) -> None:
    issue = "<issue index='1' name='Units' type='integer' lowerbound='2' upperbound='6'/>"
    evaluator = (
        "<issue index='1' name='Units' type='integer' lowerbound='2' upperbound='6'>"
        "<evaluator ftype='linear' slope='0.4' offset='-0.2'/></issue>"
    )
    s = imported(*_genius(tmp_path, issue, evaluator))
    assert s.negotiation is not None
    (units,) = s.negotiation.issues
    assert units.domain() == list(range(2, 7))
    table = s.negotiation.parties["p1"].issues["units"].table
    assert table == {str(x): min(1.0, max(0.0, 0.4 * (x - 2) - 0.2)) for x in range(2, 7)}
    quadratic = evaluator.replace("linear", "quadratic")
    with pytest.raises(DomainError, match="only a linear evaluator"):
        import_domain(_genius(tmp_path, issue, quadratic))
    real = issue.replace("integer", "real")
    with pytest.raises(DomainError, match="finite domains"):
        import_domain(_genius(tmp_path, real, evaluator))


def test_unreadable_input_is_refused_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "d.xml").write_text("<negotiation_template><oops")
    result = cli("import-domain", str(tmp_path / "d.xml"))
    assert result.returncode == 2 and "not well-formed XML" in result.stderr
    result = cli("import-domain", str(tmp_path / "missing"))
    assert result.returncode == 2 and "no such file or folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_laptop_fixture_file_matches_load_scenario(tmp_path: Path) -> None:
    out = tmp_path / "x.yaml"
    out.write_text(import_domain([LAPTOP]), encoding="utf-8")
    assert load_scenario(out) == imported(LAPTOP)


def test_text_that_looks_like_markup_prints_as_written(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(TEXT.replace("19'' LCD, matte", "[red]x[/red]"), encoding="utf-8")
    deal = run(load_scenario(path), seed=0).summary.agreements[0]["terms"]["brand"]
    result = cli("run", str(path))
    assert result.returncode == 0, result.stderr
    assert f"brand={deal}" in result.stdout


def test_a_folder_s_other_files_are_left_alone_but_named_files_are_not(tmp_path: Path) -> None:
    for f in LAPTOP.glob("*.xml"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "pareto.xml").write_text("0.5, 1.0\n")  # NegMAS's, not XML
    (tmp_path / "notes.txt").write_text("not a domain")
    text = import_domain([tmp_path])
    assert "pareto.xml" not in text and "notes.txt" not in text
    assert text.split("version: 1")[1] == import_domain([LAPTOP]).split("version: 1")[1]
    with pytest.raises(DomainError, match=r"pareto\.xml: not well-formed XML"):
        import_domain([*sorted(LAPTOP.glob("*.xml")), tmp_path / "pareto.xml"])


def test_a_negmas_yaml_domain_is_imported_as_negmas_values_it() -> None:
    """tests/data/domains/camera_b_yml: NegMAS's ``Scenario.dumpas(type="yml")`` of CameraB
    (as its Genius reader loads it: raw evaluations, ExpDiscountedUFun per step, reserved
    value -inf)."""
    from ruamel.yaml import YAML

    folder = DOMAINS / "camera_b_yml"
    result = cli("import-domain", str(folder))
    assert result.returncode == 0, result.stderr
    assert "from a NegMAS YAML domain" in result.stdout
    s = loads_scenario(result.stdout, "imported.yaml")
    assert s.negotiation is not None
    for party, name in zip(s.negotiation.parties.values(), ("prof1", "prof2"), strict=True):
        written = YAML(typ="safe").load((folder / f"Camera-B-{name}.yml").read_text("utf-8"))
        assert written["type"] == "ExpDiscountedUFun" and written["reserved_value"] == -float("inf")
        assert party.discount is not None
        assert (party.discount.factor, party.discount.per) == (written["discount"], "round")
        inner = written["ufun"]
        assert [f.weight for f in party.issues.values()] == inner["weights"]
        tables = [f.table for f in party.issues.values()]
        assert tables == [{str(k): v for k, v in f["mapping"].items()} for f in inner["values"]]
        least = sum(min(t.values()) * w for t, w in zip(tables, inner["weights"], strict=True))
        assert party.reservation < least  # no reservation, as NegMAS's -inf
    ignored = loads_scenario(import_domain([folder], ignore_discount=True), "imported.yaml")
    assert ignored.negotiation is not None
    assert all(p.discount is None for p in ignored.negotiation.parties.values())


@pytest.mark.parametrize(
    ("file", "old", "new", "words"),
    [
        (
            "Camera-B-prof1.yml",
            "type: ExpDiscountedUFun",
            "type: HyperRectangleUtilityFunction",
            "non-linear",
        ),
        ("Camera-B-prof1.yml", "factor: step", "factor: real_time", "real_time"),
        ("Camera-B-prof1.yml", "type: TableFun", "type: LambdaFun", "LambdaFun"),
        ("Camera-B-domain.yml", "type: CategoricalIssue", "type: ContinuousIssue", "continuous"),
    ],
)
def test_what_a_negmas_yaml_domain_cannot_express_is_refused(
    tmp_path: Path, file: str, old: str, new: str, words: str
) -> None:
    folder = tmp_path / "camera_b_yml"
    shutil.copytree(DOMAINS / "camera_b_yml", folder)
    text = (folder / file).read_text("utf-8")
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1), "utf-8")
    result = cli("import-domain", str(folder))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert file in result.stderr and words in result.stderr
