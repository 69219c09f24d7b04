"""The ledger's tables (SQLAlchemy Core), as the migrations create them.

Seven append-only tables: ``batches`` (one per write: who/what wrote, from which
file), ``categories`` (what counts may be recorded, and their unit), ``entries``
(one per observation recorded, corrected or retracted), ``entry_counts`` (the
counts of an entry, one row per category), ``seals`` (one per batch, written last:
the entry chain after it and the categories, chained from seal to seal),
``observation_keys`` (what each entry's observation says, as a hash, for idempotent
imports) and ``forecasts`` (forecasts saved with their inputs, outside the seals: each
carries its body's SHA-256). Triggers installed by the migrations refuse UPDATE and
DELETE on all seven, and on SQLite a row that would replace another (``REPLACE
INTO``); see ``migrations/versions/``. ``tests/test_monitor_store.py`` checks that
these definitions and the migrations agree.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("file_name", sa.Text, nullable=True),
    sa.Column("file_sha256", sa.String(71), nullable=True),
    sa.Column("entries", sa.Integer, nullable=False),
    sa.CheckConstraint(
        "origin IN ('init', 'add', 'import', 'correct', 'retract')", name="batches_origin"
    ),
)

categories = sa.Table(
    "categories",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("unit", sa.String(16), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("added_at", sa.String(32), nullable=False),
    sa.CheckConstraint(
        "unit IN ('people', 'trucks', 'days', 'agreed_number', 'none')", name="categories_unit"
    ),
)

entries = sa.Table(
    "entries",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("obs_id", sa.String(64), nullable=False),
    sa.Column("action", sa.String(8), nullable=False),
    sa.Column("supersedes", sa.Integer, sa.ForeignKey("entries.seq"), nullable=True),
    sa.Column("batch", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("occurred_on", sa.Date, nullable=True),
    sa.Column("kind", sa.String(32), nullable=True),
    sa.Column("from_party", sa.String(200), nullable=True),
    sa.Column("to_party", sa.String(200), nullable=True),
    sa.Column("channel", sa.String(64), nullable=True),
    sa.Column("credited_on", sa.Date, nullable=True),
    sa.Column("day", sa.Integer, nullable=True),
    sa.Column("phase", sa.String(64), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("source_text", sa.Text, nullable=True),
    sa.Column("source_published", sa.Date, nullable=True),
    sa.Column("source_links", sa.Text, nullable=True),
    sa.Column("source_kind", sa.String(16), nullable=True),
    sa.Column("reliability", sa.String(1), nullable=True),
    sa.Column("content_hash", sa.String(71), nullable=False),
    sa.Column("chain_hash", sa.String(71), nullable=False, unique=True),
    sa.UniqueConstraint("supersedes", name="entries_superseded_once"),
    sa.CheckConstraint("action IN ('record', 'correct', 'retract')", name="entries_action"),
    sa.CheckConstraint(
        "(action = 'record' AND supersedes IS NULL) OR "
        "(action <> 'record' AND supersedes IS NOT NULL AND supersedes < seq)",
        name="entries_supersedes_earlier",
    ),
    sa.CheckConstraint(
        "action = 'retract' OR (occurred_on IS NOT NULL AND kind IS NOT NULL "
        "AND source_text IS NOT NULL AND source_kind IS NOT NULL)",
        name="entries_observation_complete",
    ),
    sa.CheckConstraint(
        "source_kind IS NULL OR source_kind IN ('official', 'mediator', 'media', 'anonymous')",
        name="entries_source_kind",
    ),
    sa.CheckConstraint(
        "reliability IS NULL OR reliability IN ('A', 'B', 'C', 'D', 'E', 'F')",
        name="entries_reliability",
    ),
    sa.Index("entries_obs_id", "obs_id"),
    sa.Index("entries_recorded_at", "recorded_at"),
    sa.Index("entries_occurred_on", "occurred_on"),
    sa.Index(
        "entries_obs_id_recorded_once",
        "obs_id",
        unique=True,
        sqlite_where=sa.text("action = 'record'"),
        postgresql_where=sa.text("action = 'record'"),
    ),
)

entry_counts = sa.Table(
    "entry_counts",
    metadata,
    sa.Column("seq", sa.Integer, sa.ForeignKey("entries.seq"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("category", sa.String(64), sa.ForeignKey("categories.id"), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("low", sa.Integer, nullable=True),
    sa.Column("high", sa.Integer, nullable=True),
    sa.UniqueConstraint("seq", "category", name="entry_counts_one_per_category"),
    sa.CheckConstraint("count >= 0", name="entry_counts_count"),
    sa.CheckConstraint("low IS NULL OR (low >= 0 AND low <= count)", name="entry_counts_low"),
    sa.CheckConstraint("high IS NULL OR high >= count", name="entry_counts_high"),
)

seals = sa.Table(
    "seals",
    metadata,
    sa.Column(
        "batch", sa.Integer, sa.ForeignKey("batches.id"), primary_key=True, autoincrement=False
    ),
    sa.Column("head_seq", sa.Integer, nullable=False),
    sa.Column("head_hash", sa.String(71), nullable=False),
    sa.Column("categories", sa.Integer, nullable=False),
    sa.Column("categories_hash", sa.String(71), nullable=False),
    sa.Column("seal_hash", sa.String(71), nullable=False, unique=True),
)

observation_keys = sa.Table(
    "observation_keys",
    metadata,
    sa.Column(
        "seq", sa.Integer, sa.ForeignKey("entries.seq"), primary_key=True, autoincrement=False
    ),
    sa.Column("key", sa.String(71), nullable=False),
    sa.Index("observation_keys_key", "key"),
)

forecasts = sa.Table(
    "forecasts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("issued_at", sa.String(32), nullable=False),
    sa.Column("scenario", sa.Text, nullable=False),
    sa.Column("scenario_hash", sa.String(71), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("members", sa.Integer, nullable=False),
    sa.Column("seed", sa.Integer, nullable=True),
    sa.Column("snapshot_seq", sa.Integer, nullable=True),
    sa.Column("snapshot_hash", sa.String(71), nullable=True),
    sa.Column("as_of", sa.String(64), nullable=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("body_sha256", sa.String(71), nullable=False),
    sa.CheckConstraint("method IN ('ensemble', 'runs', 'nowcast')", name="forecasts_method"),
    sa.CheckConstraint("members >= 1", name="forecasts_members"),
    sa.Index("forecasts_scenario_hash", "scenario_hash"),
)

APPEND_ONLY = (
    "batches",
    "categories",
    "entries",
    "entry_counts",
    "seals",
    "observation_keys",
    "forecasts",
)
