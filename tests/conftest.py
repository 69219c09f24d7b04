from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ceasefire.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from playwright.sync_api import Browser

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


def chromium_path() -> str:
    return os.environ.get("CEASEFIRE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, driven by Playwright (Debian's package, installed by `make browser`): a
    test that needs it fails, never skips, when it cannot start."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        except Exception as exc:
            pytest.fail(
                f"Chromium did not start ({chromium_path()}): {exc}\n"
                "Install it with `make browser` (Debian's chromium package).",
                pytrace=False,
            )
        yield browser
        browser.close()
