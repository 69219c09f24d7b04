from __future__ import annotations

from pathlib import Path

import pytest

from ceasefire.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
NOV2023 = ROOT / "scenarios" / "gaza-2023-11-truce.yaml"


@pytest.fixture(scope="session")
def nov2023() -> Scenario:
    return load_scenario(NOV2023)


@pytest.fixture(scope="session", autouse=True)
def compiled_ensemble() -> None:
    """Compile the ensemble kernel once, in this process, before any test runs the CLI
    in a subprocess (those have time limits; the first compilation takes minutes and
    is then loaded from the disk cache)."""
    from ceasefire.ensemble import run_ensemble

    run_ensemble(load_scenario(NOV2023), 10, seed=0)
