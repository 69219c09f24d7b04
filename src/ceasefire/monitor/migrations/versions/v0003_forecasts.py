"""Forecasts: saved in the ledger with their inputs, append-only.

- ``forecasts``: one row per forecast saved by ``monitor forecast --db``: when it was
  recorded and issued, the scenario and its hash, how it was made (``ensemble``: seed
  and members give it back; ``runs``; ``nowcast``: an ensemble conditioned on the
  record), the ledger snapshot it was issued against
  (entry and chain hash, and the ``--as-of`` it was read at), and the forecast itself
  (``body``: the JSON ``monitor forecast --out`` writes, its predictive distribution
  with its inputs) with the body's SHA-256, which ``monitor verify`` checks.

The table gets the same triggers as the others: no UPDATE, DELETE or TRUNCATE, and on
SQLite no row replaced (``REPLACE INTO``). Existing ledgers are upgraded by adding the
empty table; nothing else changes.

Revision ID: 0003_forecasts
Revises: 0002_seals
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_forecasts"
down_revision = "0002_seals"
branch_labels = None
depends_on = None

_REFUSAL = (
    "ceasefire ledger: forecasts is append-only; {op} is refused (save a new forecast instead)"
)


def upgrade() -> None:
    op.create_table(
        "forecasts",
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
    )
    op.create_index("forecasts_scenario_hash", "forecasts", ["scenario_hash"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER forecasts_no_change BEFORE UPDATE OR DELETE ON forecasts "
            "FOR EACH ROW EXECUTE FUNCTION ceasefire_ledger_refuse()"
        )
        op.execute(
            "CREATE TRIGGER forecasts_no_truncate BEFORE TRUNCATE ON forecasts "
            "FOR EACH STATEMENT EXECUTE FUNCTION ceasefire_ledger_refuse()"
        )
        op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON forecasts FROM PUBLIC")
        return
    for action in ("UPDATE", "DELETE"):
        message = _REFUSAL.format(op=action)
        op.execute(
            f"CREATE TRIGGER forecasts_no_{action.lower()} BEFORE {action} ON forecasts "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
    message = _REFUSAL.format(op="replacing a recorded row")
    op.execute(
        "CREATE TRIGGER forecasts_no_replace BEFORE INSERT ON forecasts "
        "WHEN EXISTS (SELECT 1 FROM forecasts WHERE id = NEW.id) "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


def downgrade() -> None:
    raise NotImplementedError("the ledger is append-only; its schema is never downgraded")
