"""Monitoring: the ledger of observations, compliance with the terms, forecast scores.

    from ceasefire.monitor import open_store, import_csv, compliance

    with open_store("ledger.sqlite", create=True) as store:      # or "postgresql://..."
        store.add_categories([CategoryDef("women_children", "people")])
        import_csv(store, "examples/nov2023/nov2023-truce.csv")
        snapshot, current = store.view(as_of="2023-11-30")       # as known then
        report = compliance(scenario, current, snapshot)

See ``_store.py`` (the append-only, bitemporal store), ``_csv.py`` (bulk import),
``_compliance.py`` (due vs done), ``_scores.py`` (forecasts and their scores),
``_forecasts.py`` (ensemble forecasts over the priors), ``_nowcast.py`` (the priors
conditioned on the record), ``_backtest.py`` (a record replayed day by day) and ``_cli.py``
(``ceasefire monitor ...``).
"""

from ._backtest import Backtest, BacktestDay, backtest
from ._cli import monitor_group
from ._compliance import ComplianceReport, DayCompliance, Totals, compliance
from ._csv import ImportResult, import_csv, read_observations
from ._errors import MonitorError, StoreError
from ._export import FORMATS, export, write_atomic
from ._forecasts import ensemble_forecast, ensemble_quantities, reproduce
from ._model import (
    KINDS,
    RELIABILITY,
    SOURCE_KINDS,
    UNITS,
    CategoryDef,
    CountValue,
    Entry,
    Observation,
    Snapshot,
    Source,
)
from ._nowcast import Nowcast, NowcastError, nowcast
from ._report import due_done_charts, render_compliance
from ._scores import Forecast, Scores, episode_quantities, score_forecast
from ._store import DEFAULT_DB, Store, open_store, resolve

__all__ = [
    "DEFAULT_DB",
    "FORMATS",
    "KINDS",
    "RELIABILITY",
    "SOURCE_KINDS",
    "UNITS",
    "Backtest",
    "BacktestDay",
    "CategoryDef",
    "ComplianceReport",
    "CountValue",
    "DayCompliance",
    "Entry",
    "Forecast",
    "ImportResult",
    "MonitorError",
    "Nowcast",
    "NowcastError",
    "Observation",
    "Scores",
    "Snapshot",
    "Source",
    "Store",
    "StoreError",
    "Totals",
    "backtest",
    "compliance",
    "due_done_charts",
    "ensemble_forecast",
    "ensemble_quantities",
    "episode_quantities",
    "export",
    "import_csv",
    "monitor_group",
    "nowcast",
    "open_store",
    "read_observations",
    "render_compliance",
    "reproduce",
    "resolve",
    "score_forecast",
    "write_atomic",
]
