"""Shared helpers for the monitor tests (no tests here): stores on SQLite and PostgreSQL.

Every store test runs twice: on a SQLite file in a temporary folder, and on a fresh
database of a real PostgreSQL server. ``make test`` starts that server (see
``ceasefire.monitor.pgtest``) and sets CEASEFIRE_TEST_PG_URL and
CEASEFIRE_TEST_PG_REQUIRED=1; then a PostgreSQL test fails if the server cannot be
used. Outside ``make test``, without the URL, the PostgreSQL runs are skipped with
that reason.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from ceasefire.monitor import CategoryDef, Observation, Source, Store
from ceasefire.scenario import load_scenario

from conftest import NOV2023, ROOT

PG_URL = os.environ.get("CEASEFIRE_TEST_PG_URL")
PG_REQUIRED = os.environ.get("CEASEFIRE_TEST_PG_REQUIRED") == "1"
STORES = ["sqlite", "postgresql"]
RECORD = ROOT / "examples" / "nov2023" / "nov2023-truce.csv"
VOCABULARY = ROOT / "examples" / "nov2023" / "vocabulary.yaml"


def fresh_db(kind: str, tmp_path: Path) -> Iterator[str]:
    """The address of an empty ledger location of ``kind``; dropped afterwards."""
    if kind == "sqlite":
        yield str(tmp_path / "ledger.sqlite")
        return
    if not PG_URL:
        if PG_REQUIRED:
            pytest.fail("CEASEFIRE_TEST_PG_REQUIRED is set but CEASEFIRE_TEST_PG_URL is not")
        pytest.skip("PostgreSQL store tests need CEASEFIRE_TEST_PG_URL (`make test` sets it)")
    import psycopg

    name = f"cf_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def nov2023_categories() -> list[CategoryDef]:
    scenario = load_scenario(NOV2023)
    defs = [CategoryDef(c.id, "people", c.name) for c in scenario.categories]
    for cid in (
        "hostages_women_children",
        "prisoners_women_minors",
        "extension_hostages_per_day",
        "max_pause_days",
        "aid_trucks_per_day",
    ):
        defs.append(CategoryDef(cid, "agreed_number"))
    return defs


def new_store(db: str, clock: Clock | None = None) -> Store:
    store = Store.open(db, create=True, clock=clock)
    store.add_categories(nov2023_categories())
    return store


class Clock:
    """A settable UTC clock for recording times (the store keeps them in order)."""

    def __init__(self, start: str = "2023-11-24T12:00:00+00:00") -> None:
        self.now = dt.datetime.fromisoformat(start)

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, when: str) -> None:
        self.now = dt.datetime.fromisoformat(when)


def observation(
    count: int = 10,
    *,
    obs_id: str | None = None,
    day: str = "2023-11-24",
    category: str = "women_children",
    note: str = "",
) -> Observation:
    return Observation.model_validate(
        {
            "id": obs_id,
            "date": day,
            "kind": "hostages_released",
            "from_party": "Hamas",
            "to_party": "Israel",
            "channel": "deal",
            "counts": [{"category": category, "count": count}],
            "note": note,
            "source": Source.from_text(
                "Example wire report, 2023-11-24, https://example.org/report", "media", "C"
            ),
        }
    )


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "ceasefire", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def init_cli(db: str) -> None:
    result = cli(
        "monitor",
        "init",
        "--db",
        db,
        "--scenario",
        str(NOV2023),
        "--vocabulary",
        str(VOCABULARY),
    )
    assert result.returncode == 0, result.stderr
