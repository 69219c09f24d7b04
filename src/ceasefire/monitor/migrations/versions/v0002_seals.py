"""Seals and observation keys; no row replaced past the triggers.

- ``seals``: one row per batch, written last in its transaction: the batch's row, the
  last entry and its chain hash after the batch, and a digest of the categories,
  chained from seal to seal (see ``_model.seal_content``). ``monitor verify`` checks
  batches and categories against them, and an anchor names the last seal.
- ``observation_keys``: what each entry's observation says, as a hash (its content
  without its id), so an import finds the rows the ledger holds by an index lookup.
- On SQLite, ``REPLACE INTO`` (and ``INSERT OR REPLACE``) deletes the row in the way
  without firing the DELETE triggers: a BEFORE INSERT trigger on every table now
  refuses a row whose key is taken. On PostgreSQL an upsert's update fires the UPDATE
  trigger already; the new tables get the same triggers as the others.

Existing ledgers are upgraded by appending only: a key for every observation entry,
a seal for every batch (the categories as declared by then), and, where categories
were declared after the last batch, a batch of origin ``init`` sealing them.

Revision ID: 0002_seals
Revises: 0001_ledger
Create Date: 2026-01-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ceasefire.monitor._model import (
    GENESIS,
    SEAL_GENESIS,
    categories_digest,
    chain_hash,
    content_hash,
    observation_key,
    seal_content,
)
from ceasefire.monitor._store import read_entries, stamp, utc_now

revision = "0002_seals"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None

NEW_TABLES = ("seals", "observation_keys")
_REFUSAL = (
    "ceasefire ledger: {table} is append-only; {op} is refused "
    "(record a correction or a retraction instead)"
)
# On SQLite: the keys a REPLACE would push an old row out by, per table; and entries,
# counts or keys added to a batch already sealed (a batch's rows are written with it).
_TAKEN = {
    "batches": "SELECT 1 FROM batches WHERE id = NEW.id",
    "categories": "SELECT 1 FROM categories WHERE id = NEW.id",
    "entries": "SELECT 1 FROM entries WHERE seq = NEW.seq OR chain_hash = NEW.chain_hash "
    "OR (NEW.supersedes IS NOT NULL AND supersedes = NEW.supersedes) "
    "OR (NEW.action = 'record' AND action = 'record' AND obs_id = NEW.obs_id)) "
    "OR EXISTS (SELECT 1 FROM seals WHERE batch = NEW.batch",
    "entry_counts": "SELECT 1 FROM entry_counts WHERE seq = NEW.seq "
    "AND (position = NEW.position OR category = NEW.category)) "
    "OR EXISTS (SELECT 1 FROM seals WHERE batch = "
    "(SELECT batch FROM entries WHERE seq = NEW.seq)",
    "seals": "SELECT 1 FROM seals WHERE batch = NEW.batch OR seal_hash = NEW.seal_hash",
    "observation_keys": "SELECT 1 FROM observation_keys WHERE seq = NEW.seq) "
    "OR EXISTS (SELECT 1 FROM seals WHERE batch = "
    "(SELECT batch FROM entries WHERE seq = NEW.seq)",
}


def upgrade() -> None:
    op.create_table(
        "seals",
        sa.Column(
            "batch",
            sa.Integer,
            sa.ForeignKey("batches.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("head_seq", sa.Integer, nullable=False),
        sa.Column("head_hash", sa.String(71), nullable=False),
        sa.Column("categories", sa.Integer, nullable=False),
        sa.Column("categories_hash", sa.String(71), nullable=False),
        sa.Column("seal_hash", sa.String(71), nullable=False, unique=True),
    )
    op.create_table(
        "observation_keys",
        sa.Column(
            "seq", sa.Integer, sa.ForeignKey("entries.seq"), primary_key=True, autoincrement=False
        ),
        sa.Column("key", sa.String(71), nullable=False),
    )
    op.create_index("observation_keys_key", "observation_keys", ["key"])
    conn = op.get_bind()
    _keys(conn)
    _seals(conn)
    if conn.dialect.name == "postgresql":
        for table in NEW_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ceasefire_ledger_refuse()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ceasefire_ledger_refuse()"
            )
            op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC")
        return
    for table in NEW_TABLES:
        for action in ("UPDATE", "DELETE"):
            message = _REFUSAL.format(table=table, op=action)
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    for table, taken in _TAKEN.items():
        message = _REFUSAL.format(table=table, op="replacing or adding to a recorded row")
        op.execute(
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
            f"WHEN EXISTS ({taken}) BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def _keys(conn: sa.Connection) -> None:
    """A key for every observation entry the ledger holds (read in slices)."""
    last = conn.execute(sa.text("SELECT max(seq) FROM entries")).scalar() or 0
    step = 5000
    for start in range(1, last + 1, step):
        query = sa.select(sa.table("entries", *[sa.column(c) for c in _ENTRY_COLUMNS])).where(
            sa.column("seq") >= start, sa.column("seq") < start + step
        )
        rows = [
            {"seq": e.seq, "key": observation_key(e.observation)}
            for e in read_entries(conn, query)
            if e.observation is not None
        ]
        if rows:
            conn.execute(
                sa.text("INSERT INTO observation_keys (seq, key) VALUES (:seq, :key)"), rows
            )


def _seals(conn: sa.Connection) -> None:
    """A seal for every batch, in order; then one for categories declared since."""
    cats = [
        tuple(r)
        for r in conn.execute(
            sa.text("SELECT id, unit, description, added_at FROM categories ORDER BY id")
        )
    ]
    chain: dict[int, str] = {
        r[0]: r[1] for r in conn.execute(sa.text("SELECT seq, chain_hash FROM entries"))
    }
    previous = SEAL_GENESIS
    head_seq, head_hash = 0, GENESIS
    last_time = ""
    batches = (
        conn.execute(
            sa.text(
                "SELECT id, recorded_at, origin, description, file_name, file_sha256, entries "
                "FROM batches ORDER BY id"
            )
        )
        .mappings()
        .all()
    )
    rows = []
    for b in batches:
        last_seq = conn.execute(
            sa.text("SELECT max(seq) FROM entries WHERE batch = :b"), {"b": b["id"]}
        ).scalar()
        if last_seq is not None:
            head_seq, head_hash = last_seq, chain[last_seq]
        known = [c for c in cats if c[3] <= b["recorded_at"]]
        content = seal_content(
            batch=dict(b),
            head_seq=head_seq,
            head_hash=head_hash,
            categories=len(known),
            categories_hash=categories_digest(known),
        )
        previous = chain_hash(previous, content_hash(content))
        rows.append({**content, "batch": b["id"], "seal_hash": previous})
        last_time = b["recorded_at"]
    last_batch = batches[-1]["id"] if batches else 0
    if cats and (not rows or rows[-1]["categories_hash"] != categories_digest(cats)):
        now = max(stamp(utc_now()), last_time, max(c[3] for c in cats))
        batch = {
            "id": last_batch + 1,
            "recorded_at": now,
            "origin": "init",
            "description": "categories declared before schema 0002_seals",
            "file_name": None,
            "file_sha256": None,
            "entries": 0,
        }
        conn.execute(
            sa.text(
                "INSERT INTO batches (id, recorded_at, origin, description, file_name, "
                "file_sha256, entries) VALUES (:id, :recorded_at, :origin, :description, "
                ":file_name, :file_sha256, :entries)"
            ),
            batch,
        )
        content = seal_content(
            batch=batch,
            head_seq=head_seq,
            head_hash=head_hash,
            categories=len(cats),
            categories_hash=categories_digest(cats),
        )
        previous = chain_hash(previous, content_hash(content))
        rows.append({**content, "batch": batch["id"], "seal_hash": previous})
    if rows:
        conn.execute(
            sa.text(
                "INSERT INTO seals (batch, head_seq, head_hash, categories, categories_hash, "
                "seal_hash) VALUES (:batch, :head_seq, :head_hash, :categories, "
                ":categories_hash, :seal_hash)"
            ),
            rows,
        )


_ENTRY_COLUMNS = (
    "seq",
    "obs_id",
    "action",
    "supersedes",
    "batch",
    "recorded_at",
    "reason",
    "occurred_on",
    "kind",
    "from_party",
    "to_party",
    "channel",
    "credited_on",
    "day",
    "phase",
    "note",
    "source_text",
    "source_published",
    "source_links",
    "source_kind",
    "reliability",
    "content_hash",
    "chain_hash",
)


def downgrade() -> None:
    raise NotImplementedError("the ledger is append-only; its schema is never downgraded")
