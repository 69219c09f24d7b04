from __future__ import annotations

from pathlib import Path

import pytest

from ceasefire.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
NOV2023 = ROOT / "scenarios" / "gaza-2023-11-truce.yaml"


@pytest.fixture(scope="session")
def nov2023() -> Scenario:
    return load_scenario(NOV2023)
