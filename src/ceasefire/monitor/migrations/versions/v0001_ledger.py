"""The append-only ledger: batches, categories, entries, entry counts, and the triggers
that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on all four tables.

Revision ID: 0001_ledger
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ("batches", "categories", "entries", "entry_counts")

_REFUSAL = (
    "ceasefire ledger: {table} is append-only; {op} is refused "
    "(record a correction or a retraction instead)"
)
_ORDER = (
    "ceasefire ledger: entries are appended in order only "
    "(seq must be the next number and recorded_at may not go back in time)"
)


def upgrade() -> None:
    op.create_table(
        "batches",
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
    op.create_table(
        "categories",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("added_at", sa.String(32), nullable=False),
        sa.CheckConstraint(
            "unit IN ('people', 'trucks', 'days', 'agreed_number', 'none')",
            name="categories_unit",
        ),
    )
    op.create_table(
        "entries",
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
    )
    op.create_index("entries_obs_id", "entries", ["obs_id"])
    op.create_index("entries_recorded_at", "entries", ["recorded_at"])
    op.create_index("entries_occurred_on", "entries", ["occurred_on"])
    op.create_index(
        "entries_obs_id_recorded_once",
        "entries",
        ["obs_id"],
        unique=True,
        sqlite_where=sa.text("action = 'record'"),
        postgresql_where=sa.text("action = 'record'"),
    )
    op.create_table(
        "entry_counts",
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
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    for table in TABLES:
        for action in ("UPDATE", "DELETE"):
            message = _REFUSAL.format(table=table, op=action)
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    op.execute(
        "CREATE TRIGGER entries_in_order BEFORE INSERT ON entries "
        "WHEN NEW.seq <> COALESCE((SELECT MAX(seq) FROM entries), 0) + 1 "
        "OR NEW.recorded_at < COALESCE((SELECT MAX(recorded_at) FROM entries), '') "
        f"BEGIN SELECT RAISE(ABORT, '{_ORDER}'); END"
    )


def _postgresql_triggers() -> None:
    refusal = _REFUSAL.replace("{table}", "%").replace("{op}", "%")
    op.execute(
        "CREATE FUNCTION ceasefire_ledger_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{refusal}', TG_TABLE_NAME, TG_OP "
        "USING ERRCODE = 'restrict_violation'; END $$"
    )
    op.execute(
        "CREATE FUNCTION ceasefire_ledger_in_order() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF NEW.seq <> COALESCE((SELECT max(seq) FROM entries), 0) + 1 "
        "OR NEW.recorded_at < COALESCE((SELECT max(recorded_at) FROM entries), '') THEN "
        f"RAISE EXCEPTION '{_ORDER}' USING ERRCODE = 'restrict_violation'; "
        "END IF; RETURN NEW; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ceasefire_ledger_refuse()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ceasefire_ledger_refuse()"
        )
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC")
    op.execute(
        "CREATE TRIGGER entries_in_order BEFORE INSERT ON entries "
        "FOR EACH ROW EXECUTE FUNCTION ceasefire_ledger_in_order()"
    )


def downgrade() -> None:
    raise NotImplementedError("the ledger is append-only; its schema is never downgraded")
