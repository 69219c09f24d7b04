"""The ensemble engine agrees with single runs, episode for episode.

Episode i of ``run_ensemble(scenario, n, seed)`` must be ``run_draw(scenario, seed, i)``:
the same draw of the priors, the same in-episode draws (delays, refusals, cures), the
same pause, extensions, releases, side channels, breaches and ending.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from ceasefire.engine import SEED_WORK, Summary, next_double, seed_stream, seed_words
from ceasefire.ensemble import (
    NegotiationEnsembleUnavailable,
    episode_generator,
    run_draw,
    run_ensemble,
)
from ceasefire.scenario import Scenario, load_scenario

from conftest import ROOT
from helpers import with_agreement

FEATURES = ROOT / "tests" / "data" / "ensemble_features.yaml"
DECEMBER = ROOT / "scenarios" / "gaza-2023-12-proposal.yaml"

FIELDS = (
    "pause_days",
    "extensions",
    "released",
    "side_channel_released",
    "side_channel_by_category",
    "end_reason",
    "end_date",
    "ended_by",
    "pause_start",
    "pause_end",
    "fighting_days",
    "delays",
)


def differences(scenario: Scenario, n: int, seed: int, batch_size: int = 10_000) -> list[str]:
    """Every field in which an ensemble episode differs from the single run's."""
    result = run_ensemble(scenario, n, seed=seed, batch_size=batch_size)
    assert len(result) == n
    out: list[str] = []
    for i in range(n):
        ref: Summary = run_draw(scenario, seed, i).summary
        got = result.episode(i)
        for name in FIELDS:
            if getattr(ref, name) != got[name]:
                out.append(f"episode {i}: {name} {getattr(ref, name)!r} != {got[name]!r}")
        if len(ref.breaches) != got["breach_count"] or bool(ref.breaches) != got["breach"]:
            out.append(f"episode {i}: breaches {ref.breaches!r} != {got['breach_count']}")
    return out


def end_reasons(scenario: Scenario, n: int, seed: int) -> Counter[str]:
    return Counter(run_ensemble(scenario, n, seed=seed).end_reasons.tolist())


def risky(s: Scenario) -> Scenario:
    """The November scenario with refusals for both sides and a cure."""
    return with_agreement(s, refusal_probability={"hamas": 0.2, "israel": 0.1}, cure_attempts=1)


# -- the November scenario ----------------------------------------------------------------


def test_november_with_its_priors_matches_the_reference_engine(nov2023: Scenario) -> None:
    assert nov2023.priors, "the bundled scenario carries its priors"
    assert differences(nov2023, 1000, seed=2023) == []
    # The draws move the outcome: pools below 80 end sooner, above 80 later.
    result = run_ensemble(nov2023, 1000, seed=2023)
    assert len(set(result.pause_days.tolist())) > 3
    assert result.delays.max() > 2  # the two recorded delays plus drawn ones


def test_november_with_refusals_and_cures_matches_the_reference_engine(
    nov2023: Scenario,
) -> None:
    s = risky(nov2023)
    assert differences(s, 1000, seed=7) == []
    reasons = end_reasons(s, 1000, seed=7)
    assert reasons["breach"] > 100 and reasons["no_eligible_batch"] > 300


def test_november_with_fixed_probabilities_and_no_priors(nov2023: Scenario) -> None:
    s = with_agreement(
        nov2023.model_copy(update={"priors": []}),
        delay_probability=0.3,
        refusal_probability={"hamas": 0.2},
        cure_attempts=1,
    )
    assert differences(s, 300, seed=1) == []


# -- every execution-mode feature ---------------------------------------------------------


@pytest.fixture(scope="module")
def features() -> Scenario:
    return load_scenario(FEATURES)


VARIANTS = (
    "as written",
    "in order, front loaded",
    "no extension rule",
    "explicit daily batches",
    "no limit, no cap",
    "small cap",
    "short calendar",
    "one relay delay for all",
)


def variants(s: Scenario) -> dict[str, Scenario]:
    short = {"horizon": s.calendar.start.replace(day=10)}
    return {
        "as written": s,
        "in order, front loaded": with_agreement(
            s, exchange={"split": "in_order"}, batches={"split": "front_loaded"}
        ),
        "no extension rule": with_agreement(s, extension=None),
        "explicit daily batches": with_agreement(s, batches={"total": None, "daily": [9, 1, 12]}),
        "no limit, no cap": with_agreement(
            s, extension={"max_total_days": None, "per_extension_limit_days": None}
        ),
        "small cap": with_agreement(s, extension={"max_total_days": 5}),
        # Ends while the pause holds; later events and releases fall past the horizon.
        "short calendar": s.model_copy(update={"calendar": s.calendar.model_copy(update=short)}),
        # No prior on the relay delay: every episode verifies two days after the hand-over.
        "one relay delay for all": s.model_copy(
            update={
                "priors": [p for p in s.priors if p.target != "relay_delay_days"],
                "mediators": [m.model_copy(update={"relay_delay_days": 2}) for m in s.mediators],
            }
        ),
    }


@pytest.mark.parametrize("name", VARIANTS)
def test_every_feature_matches_the_reference_engine(features: Scenario, name: str) -> None:
    s = variants(features)[name]
    assert differences(s, 150, seed=3, batch_size=41) == []


def test_the_feature_scenario_reaches_every_ending(features: Scenario) -> None:
    assert tuple(variants(features)) == VARIANTS
    seen: Counter[str] = Counter()
    for s in variants(features).values():
        seen += end_reasons(s, 2000, seed=3)
    for reason in (
        "breach",
        "no_eligible_batch",
        "extension_declined",
        "cap_reached",
        "terms_completed",
        "horizon",
    ):
        assert seen[reason] > 0, reason


# -- determinism and batches ----------------------------------------------------------------


def arrays(result: Any) -> dict[str, np.ndarray]:
    return {
        name: getattr(result, name)
        for name in (
            "priors",
            "pause_days",
            "fighting_days",
            "extensions",
            "released",
            "side_channel",
            "end_reason",
            "end_day",
            "ended_by",
            "pause_start_day",
            "pause_end_day",
            "breaches",
            "delays",
        )
    }


def same(a: Any, b: Any) -> bool:
    x, y = arrays(a), arrays(b)
    return all(x[k].shape == y[k].shape and np.array_equal(x[k], y[k]) for k in x)


def test_same_seed_same_arrays_different_seed_different(nov2023: Scenario) -> None:
    s = risky(nov2023)
    first = run_ensemble(s, 2000, seed=42)
    assert same(first, run_ensemble(s, 2000, seed=42))
    other = run_ensemble(s, 2000, seed=43)
    assert not np.array_equal(first.priors, other.priors)
    assert not np.array_equal(first.pause_days, other.pause_days)


def test_results_do_not_depend_on_the_batch_size(nov2023: Scenario, features: Scenario) -> None:
    for s in (risky(nov2023), features):
        assert same(
            run_ensemble(s, 1000, seed=9, batch_size=7),
            run_ensemble(s, 1000, seed=9, batch_size=1000),
        )


def test_an_ensemble_is_a_prefix_of_a_larger_one(nov2023: Scenario) -> None:
    small, large = run_ensemble(nov2023, 100, seed=5), run_ensemble(nov2023, 300, seed=5)
    for name, column in arrays(small).items():
        assert np.array_equal(column, arrays(large)[name][:100]), name


def test_empty_ensemble(nov2023: Scenario) -> None:
    result = run_ensemble(nov2023, 0, seed=1)
    assert len(result) == 0 and result.extensions.shape[0] == 0


def test_negotiation_mode_runs_in_its_own_engine() -> None:
    """Scenarios with talks are no longer refused: tests/test_ensemble_negotiation.py."""
    result = run_ensemble(load_scenario(DECEMBER), 10, seed=0)
    assert len(result) == 10 and result.talk_rounds.shape == (10,)  # type: ignore[attr-defined]
    assert issubclass(NegotiationEnsembleUnavailable, NotImplementedError)  # kept, not raised


def test_bad_arguments_are_refused(nov2023: Scenario) -> None:
    for kwargs in ({"n": -1}, {"n": 5, "batch_size": 0}, {"n": 5, "seed": -1}):
        with pytest.raises(ValueError):
            run_ensemble(nov2023, **kwargs)  # type: ignore[arg-type]


# -- the building blocks --------------------------------------------------------------------


def test_the_kernels_streams_are_numpys_generators() -> None:
    """The kernel seeds each episode's stream as NumPy's SeedSequence(seed, spawn_key)
    would, and draws its doubles as ``Generator.random`` does."""
    for seed in (0, 1, 2**40 + 3, 2**200 + 17):
        words = seed_words(seed)
        for i in (0, 1, 2, 999, 2**32 - 1, 2**63 + 5):
            for stream in (0, 1):
                state = np.zeros(4, dtype=np.uint64)
                with np.errstate(over="ignore"):
                    seed_stream(words, i, stream, state, np.zeros(SEED_WORK, dtype=np.uint64))
                    ours = [next_double(state) for _ in range(5)]
                assert ours == episode_generator(seed, i, stream).random(5).tolist()


def test_the_streams_high_product_word_compiled_and_plain() -> None:
    """The LCG step's high word of a 64 x 64-bit product: one machine multiply compiled,
    Python's integers uncompiled; both equal the exact product's high 64 bits."""
    from numba import njit

    from ceasefire.engine._rng import mul_hi

    compiled = njit(lambda a, b: mul_hi(a, b))
    rng = np.random.default_rng(5)
    top = 2**64 - 1
    pairs = [(0, 0), (1, top), (top, top), (2**63, 2), (2**32, 2**32), (top, 0x4385DF649FCCF645)]
    pairs += [tuple(int(x) for x in rng.integers(0, 2**64, 2, dtype=np.uint64)) for _ in range(500)]
    for a, b in pairs:
        want = (a * b) >> 64
        assert int(mul_hi(np.uint64(a), np.uint64(b))) == want
        assert int(compiled(np.uint64(a), np.uint64(b))) == want


def test_episode_stream_is_the_spawned_child() -> None:
    children = np.random.SeedSequence(77).spawn(4)
    for i, child in enumerate(children):
        assert child.spawn_key == (i,)
        grandchild = child.spawn(2)[1]
        direct = np.random.SeedSequence(77, spawn_key=(i, 1))
        assert np.array_equal(grandchild.generate_state(4), direct.generate_state(4))
        assert episode_generator(77, i, 1).random() == np.random.default_rng(grandchild).random()
