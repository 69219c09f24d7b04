"""Outputs of an episode: transcript, ledger, summary and the offline HTML report."""

from ._analytics_data import (
    DEFINITIONS,
    AgreementShare,
    NegotiationAnalytics,
    OutcomePoint,
    negotiation_analytics,
)
from ._cells import safe_cell
from ._charts import VENDORED as CHART_LIBRARIES
from ._charts import (
    base_spec,
    category_colours,
    chart,
    chart_scripts,
    legend_toggle,
    party_colours,
)
from ._files import (
    OFFER_FILES,
    OUTPUT_FILES,
    ledger_csv,
    provenance,
    summary_json,
    transcript_jsonl,
    write_outputs,
)
from ._folders import OutputFolderError, check_output_folder
from ._json import dumps as strict_json_dumps
from ._json import finite_json
from ._offers import Offer, OfferTraceError, offer_trace, offers_csv, offers_table
from ._replay import replay
from ._report import render_report
from ._tables import day_rows

__all__ = [
    "CHART_LIBRARIES",
    "DEFINITIONS",
    "OFFER_FILES",
    "OUTPUT_FILES",
    "AgreementShare",
    "NegotiationAnalytics",
    "Offer",
    "OfferTraceError",
    "OutcomePoint",
    "OutputFolderError",
    "base_spec",
    "category_colours",
    "chart",
    "chart_scripts",
    "check_output_folder",
    "day_rows",
    "finite_json",
    "ledger_csv",
    "legend_toggle",
    "negotiation_analytics",
    "offer_trace",
    "offers_csv",
    "offers_table",
    "party_colours",
    "provenance",
    "render_report",
    "replay",
    "safe_cell",
    "strict_json_dumps",
    "summary_json",
    "transcript_jsonl",
    "write_outputs",
]
