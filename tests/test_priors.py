"""Priors in the scenario file: validated like everything else, drawn reproducibly, and
used only for draws (a plain run keeps the file's point values)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import ceasefire
from ceasefire.engine import run
from ceasefire.ensemble import (
    draw_scenario,
    episode_generator,
    prior_values,
    quantile,
    run_draw,
    with_values,
)
from ceasefire.scenario import (
    Beta,
    Categorical,
    DiscreteUniform,
    HoldingPrior,
    Poisson,
    Scenario,
    ScenarioError,
    TruncatedNormal,
    Uniform,
    content_hash,
    load_scenario,
)

from conftest import NOV2023, ROOT
from helpers import with_agreement

DECEMBER = ROOT / "scenarios" / "gaza-2023-12-proposal.yaml"
NEGMAS = ROOT / "tests" / "data" / "negmas_domain.yaml"
BASE = NOV2023.read_text(encoding="utf-8")
BASE = BASE[: BASE.index("\n# Priors:")]  # the November scenario without its priors


# -- the bundled scenarios ------------------------------------------------------------------


def test_bundled_scenarios_carry_priors_with_their_reasoning(nov2023: Scenario) -> None:
    december = load_scenario(DECEMBER)
    for s in (nov2023, december):
        assert s.priors
        for prior in s.priors:
            assert prior.assumption and len(prior.assumption) > 80
    pool = nov2023.priors[0]
    assert isinstance(pool, HoldingPrior)
    assert (pool.holder, pool.category, pool.custody) == ("hamas", "women_children", "hamas")
    assert {p.target for p in december.priors} == {
        "holding",
        "pressure",
        "reservation",
        "relay_delay_days",
    }


def test_a_plain_run_uses_the_point_values(nov2023: Scenario) -> None:
    without = nov2023.model_copy(update={"priors": []})
    with_priors, plain = run(nov2023, seed=3), run(without, seed=3)
    assert with_priors.transcript == plain.transcript and with_priors.ledger == plain.ledger
    s = with_priors.summary
    assert (s.pause_days, s.extensions, s.draw) == (7, [2, 1], None)
    assert s.released["hamas"] == {"women_children": 80}


def test_the_pool_prior_is_centred_on_the_point_value(nov2023: Scenario) -> None:
    pools = [int(prior_values(nov2023, 0, i)[0]) for i in range(2000)]
    assert min(pools) >= 50 and max(pools) <= 100
    assert abs(np.mean(pools) - 80) < 1.0


# -- validation -----------------------------------------------------------------------------


def with_priors(text: str, base: str = BASE) -> str:
    return base + "\npriors:\n" + text


def refused(tmp_path: Path, text: str) -> list[ceasefire.Problem]:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def line_of(text: str, needle: str) -> int:
    return max(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


POOL = """  - target: holding
    holder: hamas
    category: women_children
    custody: hamas
    distribution: {kind: poisson, mean: 80}
    assumption: a test
"""

CASES = [
    # (what to replace in POOL, with what, field, words in the message, line needle)
    ("target: holding", "target: holdng", "priors[0].target", "did you mean 'holding'", "holdng"),
    ("  - target: holding\n    holder", "  - holder", "priors[0]", "'target' is missing", None),
    ("kind: poisson", "kind: poison", "priors[0].distribution.kind", "'poisson'", "poison"),
    (
        "category: women_children",
        "category: women_childern",
        "priors[0].category",
        "did you mean 'women_children'",
        "women_childern",
    ),
    ("holder: hamas", "holdr: hamas", "priors[0].holdr", "did you mean 'holder'", "holdr"),
    ("mean: 80}", "means: 80}", "priors[0].distribution.means", "'mean'", "means"),
    ("mean: 80}", "mean: -3}", "priors[0].distribution.mean", "greater than 0", "mean: -3"),
    (
        "custody: hamas",
        "custody: israel",
        "priors[0]",
        "no holding of women_children held by hamas in the custody of israel",
        None,
    ),
    (
        "{kind: poisson, mean: 80}",
        "{kind: uniform, low: 50, high: 100}",
        "priors[0].distribution.kind",
        "a holding's count is a whole number",
        "kind: uniform",
    ),
    (
        "{kind: poisson, mean: 80}",
        "{kind: categorical, values: [70, 80.5]}",
        "priors[0].distribution.values",
        "whole number",
        "80.5",
    ),
    (
        "{kind: poisson, mean: 80}",
        "{kind: discrete_uniform, low: -5, high: 10}",
        "priors[0].distribution",
        "outside 0..10,000,000",
        "discrete_uniform",
    ),
    (
        "{kind: poisson, mean: 80}",
        "{kind: categorical, values: [70, 80], weights: [1]}",
        "priors[0].distribution",
        "1 weights for 2 values",
        "categorical",
    ),
    ("    assumption: a test\n", "", "priors[0]", "needs an `assumption`", None),
]


@pytest.mark.parametrize("old, new, field, words, needle", CASES)
def test_a_bad_prior_is_refused_with_its_place(
    tmp_path: Path, old: str, new: str, field: str, words: str, needle: str | None
) -> None:
    assert POOL.count(old) == 1
    text = with_priors(POOL.replace(old, new))
    problems = refused(tmp_path, text)
    found = [p for p in problems if p.field == field]
    assert found, [str(p) for p in problems]
    assert words in found[0].message, found[0].message
    expected = line_of(text, needle) if needle else line_of(text, "priors:") + 1
    assert found[0].line == expected and found[0].column is not None


def test_target_specific_checks(tmp_path: Path) -> None:
    text = with_priors(
        POOL
        + POOL.replace("kind: poisson, mean: 80", "kind: poisson, mean: 70")
        + """  - target: pressure
    party: hamass
    distribution: {kind: uniform, low: 0, high: 4}
    assumption: a test
  - target: delay_probability
    distribution: {kind: truncated_normal, mean: 0.2, sd: 0.1}
    assumption: a test
  - target: value
    party: israel
    term: pause_day
    category: women_children
    distribution: {kind: poisson, mean: 3}
    source: a test
  - target: value
    party: israel
    term: receive
    distribution: {kind: uniform, low: 5, high: 15}
    source: a test
  - target: relay_delay_days
    mediator: qatr
    distribution: {kind: beta, a: 2, b: 2, low: 0, high: 3}
    assumption: a test
"""
    )
    problems = {(p.field, p.message) for p in refused(tmp_path, text)}

    def has(field: str, words: str) -> bool:
        return any(f == field and words in m for f, m in problems)

    assert has("priors[1]", "priors[0] already has this target")
    assert has("priors[2].party", "did you mean 'hamas'")
    assert has("priors[2]", "a pressure prior needs `negotiation`")
    assert has("priors[3].distribution", "outside 0..1, the range of a probability")
    assert has("priors[4].category", "'pause_day' value prior takes no `category`")
    assert has("priors[4].distribution.kind", "poisson draws whole numbers")
    assert has("priors[5]", "'receive' value prior needs a `category`")
    assert has("priors[6].mediator", "did you mean 'qatar'")
    assert has("priors[6].distribution.kind", "a relay delay in days is a whole number")


def test_negotiation_targets_are_checked_against_the_talks(tmp_path: Path) -> None:
    base = NEGMAS.read_text(encoding="utf-8")
    text = with_priors(
        """  - target: issue_weight
    party: side_a
    issue: pause_dayz
    distribution: {kind: uniform, low: 0.3, high: 0.5}
    assumption: a test
  - target: refusal_probability
    party: side_a
    distribution: {kind: beta, a: 1, b: 9}
    assumption: a test
""",
        base,
    )
    problems = {(p.field, p.message) for p in refused(tmp_path, text)}
    assert any(
        f == "priors[0].issue"
        and "no value function for issue 'pause_dayz'" in m
        and "did you mean 'pause_days'" in m
        for f, m in problems
    )
    assert any(f == "priors[1]" and "needs `agreement`" in m for f, m in problems)


def test_a_category_listed_twice_is_refused(tmp_path: Path) -> None:
    old = "    categories: [prisoners_women, prisoners_minors]\n"
    assert BASE.count(old) == 1
    text = BASE.replace(
        old, "    categories: [prisoners_women, prisoners_minors, prisoners_women]\n"
    )
    problems = refused(tmp_path, text)
    assert any(
        p.field == "agreement.exchange.categories[2]" and "listed twice" in p.message
        for p in problems
    )


def test_json_schema_describes_priors() -> None:
    schema = ceasefire.json_schema()
    assert "priors" in schema["properties"]
    assert "HoldingPrior" in schema["$defs"] and "TruncatedNormal" in schema["$defs"]


# -- quantile functions ---------------------------------------------------------------------


U = np.random.default_rng(12345).random(40_000)


def test_poisson_quantiles() -> None:
    draws = quantile(Poisson(kind="poisson", mean=12.5), U)
    assert draws.dtype == np.int64
    assert abs(draws.mean() - 12.5) < 0.1 and abs(draws.var() - 12.5) < 0.5
    assert np.array_equal(draws, stats.poisson.ppf(U, 12.5).astype(np.int64))
    clipped = quantile(Poisson(kind="poisson", mean=12.5, min=10, max=14), U)
    assert clipped.min() == 10 and clipped.max() == 14
    far = quantile(Poisson(kind="poisson", mean=1.0, min=500), U[:10])
    assert (far == 500).all()


def test_discrete_uniform_quantiles() -> None:
    draws = quantile(DiscreteUniform(kind="discrete_uniform", low=-2, high=3), U)
    counts = np.bincount(draws + 2)
    assert counts.size == 6 and counts.min() > 6000
    edges = np.array([0.0, np.nextafter(1.0, 0.0)])
    assert quantile(DiscreteUniform(kind="discrete_uniform", low=4, high=6), edges).tolist() == [
        4,
        6,
    ]


def test_categorical_quantiles() -> None:
    dist = Categorical(kind="categorical", values=[1, 2, 3, 4], weights=[1, 0, 3, 0])
    draws = quantile(dist, U)
    assert set(draws.tolist()) == {1, 3} and draws.dtype == np.int64
    assert abs((draws == 3).mean() - 0.75) < 0.01
    assert quantile(dist, np.array([np.nextafter(1.0, 0.0)])).tolist() == [3]
    real = quantile(Categorical(kind="categorical", values=[0.5, 2]), U)
    assert real.dtype == np.float64 and set(real.tolist()) == {0.5, 2.0}


def test_continuous_quantiles() -> None:
    uniform = quantile(Uniform(kind="uniform", low=-1, high=3), U)
    assert uniform.min() >= -1 and uniform.max() < 3 and abs(uniform.mean() - 1) < 0.02
    tn = TruncatedNormal(kind="truncated_normal", mean=4, sd=1.5, low=0, high=10)
    draws = quantile(tn, U)
    expected = stats.truncnorm.mean((0 - 4) / 1.5, (10 - 4) / 1.5, loc=4, scale=1.5)
    assert draws.min() >= 0 and draws.max() <= 10 and abs(draws.mean() - expected) < 0.02
    tail = quantile(TruncatedNormal(kind="truncated_normal", mean=0, sd=1, low=5, high=8), U)
    assert np.isfinite(tail).all() and tail.min() >= 5 and tail.max() <= 8
    assert abs(tail.mean() - stats.truncnorm.mean(5, 8)) < 0.01
    assert len(set(tail.tolist())) > 39_000  # precise in the tail, not stuck at one value
    beta = quantile(Beta(kind="beta", a=3, b=6, low=0, high=2), U)
    assert beta.min() >= 0 and beta.max() <= 2 and abs(beta.mean() - 2 * 3 / 9) < 0.01


def test_a_truncated_normal_far_in_the_tail_is_refused() -> None:
    with pytest.raises(ValueError, match="almost none of the normal's probability"):
        TruncatedNormal(kind="truncated_normal", mean=0, sd=1, low=40, high=41)


# -- draws ----------------------------------------------------------------------------------


def test_a_draw_replaces_every_target_and_nothing_else(nov2023: Scenario) -> None:
    u = episode_generator(2023, 5, 0).random(len(nov2023.priors))
    values = prior_values(nov2023, 2023, 5)
    assert values[0] == int(quantile(nov2023.priors[0].distribution, u[:1])[0])
    drawn = draw_scenario(nov2023, 2023, 5)
    pool = next(
        h for h in drawn.holdings if h.custody == "hamas" and h.category == "women_children"
    )
    assert pool.count == values[0] and type(pool.count) is int
    assert drawn.agreement is not None and drawn.agreement.delay_probability == values[1]
    assert (
        drawn.model_copy(update={"holdings": nov2023.holdings, "agreement": nov2023.agreement})
        == nov2023
    )
    assert draw_scenario(nov2023, 2023, 5) == drawn
    assert prior_values(nov2023, 2023, 6) != values
    assert prior_values(nov2023, 2024, 5) != values


def test_negotiation_targets_are_drawn() -> None:
    december = load_scenario(DECEMBER)
    values = prior_values(december, 1, 0)
    drawn = with_values(december, values)
    assert drawn.negotiation is not None
    assert drawn.negotiation.parties["israel"].pressure == values[2]
    assert drawn.negotiation.parties["hamas"].reservation == values[5]
    assert drawn.mediators[0].relay_delay_days == values[6] in (1, 2)
    negmas = load_scenario(NEGMAS)
    text = with_priors(
        """  - target: issue_weight
    party: side_b
    issue: pause_days
    distribution: {kind: uniform, low: 0.3, high: 0.5}
    assumption: a test
""",
        NEGMAS.read_text(encoding="utf-8"),
    )
    weighted = ceasefire.scenario.loads_scenario(text)
    assert weighted.priors and negmas.negotiation is not None
    w = draw_scenario(weighted, 3, 4).negotiation
    assert w is not None and 0.3 <= w.parties["side_b"].issues["pause_days"].weight < 0.5


def test_run_draw_is_the_reference_engine_on_the_draw(nov2023: Scenario) -> None:
    s = with_agreement(nov2023, refusal_probability={"hamas": 0.3}, cure_attempts=1)
    for i in range(20):
        episode = run_draw(s, 11, i)
        direct = run(draw_scenario(s, 11, i), seed=11, rng=episode_generator(11, i, 1))
        assert episode.transcript == direct.transcript and episode.ledger == direct.ledger
        assert episode.summary.draw == i and episode.summary.seed == 11
        assert episode.summary.scenario_hash == content_hash(s)


def test_a_december_draw_runs_with_its_talks() -> None:
    december = load_scenario(DECEMBER)
    episode = run_draw(december, 0, 2)
    assert episode.summary.draw == 2 and episode.summary.talk_rounds > 0


def test_run_without_a_generator_is_unchanged(nov2023: Scenario) -> None:
    s = with_agreement(nov2023, delay_probability=0.5, refusal_probability={"hamas": 0.1})
    rng = np.random.default_rng(np.random.SeedSequence(8))
    assert run(s, seed=8) == run(s, seed=8, rng=rng)


def test_cli_runs_a_draw() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ceasefire",
            "run",
            str(NOV2023),
            "--seed",
            "4",
            "--draw",
            "9",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    expected = run_draw(load_scenario(NOV2023), 4, 9).summary.to_dict()
    assert summary == json.loads(json.dumps(expected))
    assert summary["draw"] == 9


def test_the_beta_quantile_matches_scipys_inverse_to_rounding() -> None:
    from scipy import special

    from ceasefire.ensemble._draws import _beta_quantile

    u = np.random.default_rng(7).random(100_000)
    for a, b in ((3.0, 6.0), (1.0, 1.0), (2.0, 2.0), (1.0, 9.0), (30.0, 5.0), (0.5, 2.0)):
        fast = _beta_quantile(a, b, u)
        assert np.abs(fast - special.betaincinv(a, b, u)).max() < 1e-12, (a, b)
        # One value alone gives the same draw as inside a large array.
        assert _beta_quantile(a, b, u[:1])[0] == fast[0]


def test_the_beta_grid_is_read_as_numpys_interp_reads_it_bit_for_bit() -> None:
    # The grid's interval of u is found by arithmetic, not by a search: the same
    # numbers as np.interp, at random points, at every grid point and either side of it.
    from ceasefire.ensemble._draws import _beta_table, _on_grid

    rng = np.random.default_rng(11)
    for a, b in ((3.0, 6.0), (1.0, 1.0), (2.0, 2.0), (1.0, 9.0), (30.0, 5.0)):
        grid, table, slope = _beta_table(a, b)
        inner = grid[:-1]
        u = np.concatenate(
            [rng.random(200_000), inner, np.nextafter(inner, 1.0), np.nextafter(grid[1:], 0.0)]
        )
        expected = np.interp(u, grid, table)
        assert np.array_equal(
            _on_grid(u, grid, table, slope).view(np.int64), expected.view(np.int64)
        )
    # Outside [0, 1) (a design of experiments may give 1.0): np.interp itself.
    grid, table, slope = _beta_table(3.0, 6.0)
    edge = np.array([0.0, 1.0, 0.5])
    assert np.array_equal(_on_grid(edge, grid, table, slope), np.interp(edge, grid, table))
