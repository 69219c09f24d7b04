"""The ledger store: one SQLite file by default, a PostgreSQL database for a team.

Every write is one transaction that takes the ledger's write lock first (``BEGIN
IMMEDIATE`` on SQLite; ``LOCK TABLE entries IN EXCLUSIVE MODE`` on PostgreSQL), so
writers queue rather than interleave: entry numbers are gap-free and in commit
order, the chain hash of each entry covers every entry before it, and a snapshot
(the last entry number and its chain hash) always names the same content. Readers
are never blocked. SQLite runs in WAL mode with ``synchronous=FULL`` and foreign
keys on.

Nothing in the ledger is ever updated or deleted: a correction is a new entry that
supersedes the current version of an observation, a retraction is an entry too, and
the database itself refuses UPDATE and DELETE (triggers, see the migrations).

Reads can be made "as known at time T" (only entries recorded by T) and "about day
V" (observations of that date): the ledger is bitemporal.

Longer than most modules (about 900 lines): the store's write path, its reads and its
verification share the locking, the chain hash and the schema, which are safest in
one place.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError

from ._errors import MonitorError, StoreError
from ._model import (
    BUILTIN_CATEGORIES,
    GENESIS,
    UNITS,
    CategoryDef,
    CountValue,
    Entry,
    Observation,
    Snapshot,
    Source,
    chain_hash,
    content_hash,
    entry_content,
    observation_key,
)
from ._schema import batches, categories, entries, entry_counts

DEFAULT_DB = "ceasefire-ledger.sqlite"
MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_S = 60.0
_PG_LOCK_KEY = 7_262_023  # advisory lock serialising schema migrations on PostgreSQL


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(moment: dt.datetime) -> str:
    """A UTC timestamp as fixed-width ISO 8601 text (sorts as it reads)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_of_stamp(as_of: dt.date | dt.datetime | str | None) -> str | None:
    """The recorded_at bound for "as known on ...": a date means the end of that day (UTC)."""
    if as_of is None:
        return None
    if isinstance(as_of, str):
        as_of = parse_as_of(as_of)
    if isinstance(as_of, dt.datetime):
        moment = as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)
        return stamp(moment)
    end = dt.datetime.combine(as_of, dt.time.max, tzinfo=dt.UTC)
    return stamp(end)


def parse_as_of(text: str) -> dt.date | dt.datetime:
    """``YYYY-MM-DD`` (end of that day, UTC) or an ISO 8601 timestamp."""
    text = text.strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date or a timestamp; give YYYY-MM-DD (the end of that day, "
            "UTC) or an ISO 8601 timestamp such as 2023-11-30T12:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def database_url(db: str | Path) -> URL:
    """The SQLAlchemy URL for ``--db``: a file path, ``sqlite:///...`` or ``postgresql://...``."""
    text = str(db)
    if "://" not in text:
        return URL.create("sqlite+pysqlite", database=str(Path(text).expanduser()))
    try:
        url = make_url(text)
    except ArgumentError:
        raise StoreError(
            f"cannot read the database address {text!r}; give a file path, "
            "sqlite:///PATH or postgresql://USER@HOST/DBNAME"
        ) from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise StoreError("give the SQLite ledger a file (sqlite:///PATH); memory is not kept")
        return url.set(drivername="sqlite+pysqlite")
    raise StoreError(
        f"unsupported database {backend!r}; the ledger runs on SQLite (a file) or PostgreSQL"
    )


@dataclass(frozen=True)
class BatchInfo:
    id: int
    recorded_at: str
    origin: str
    description: str
    file_name: str | None
    file_sha256: str | None
    entries: int


class Store:
    """An open ledger. Use :meth:`open` (or :func:`open_store`) and close it when done."""

    def __init__(self, engine: Engine, url: URL, clock: Callable[[], dt.datetime]) -> None:
        self.engine = engine
        self.url = url
        self._clock = clock

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        db: str | Path = DEFAULT_DB,
        *,
        create: bool = False,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> Store:
        """Open the ledger at ``db`` (a file path or a database URL).

        ``create=True`` (what ``monitor init`` does) creates the SQLite file and runs the
        migrations; otherwise the ledger must exist and be at the current schema.
        ``clock`` gives the recording time (UTC); by default the system clock.
        """
        url = database_url(db)
        if url.get_backend_name() == "sqlite":
            path = Path(url.database or "")
            if not create and not path.is_file():
                raise StoreError(
                    f"no ledger at {path}; create one with `ceasefire monitor init --db {path}`"
                )
            if create:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"cannot create {path.parent}: {exc.strerror}") from None
            engine = _sqlite_engine(url)
        else:
            engine = sa.create_engine(
                url,
                poolclass=sa.pool.NullPool,
                connect_args={"connect_timeout": 10, "application_name": "ceasefire-monitor"},
            )
        store = cls(engine, url, clock or utc_now)
        try:
            if create:
                store._migrate()
            else:
                store._check_schema()
        except BaseException:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def describe(self) -> str:
        if self.dialect == "sqlite":
            return f"SQLite file {self.url.database}"
        return f"PostgreSQL {self.url.render_as_string(hide_password=True)}"

    # ---------------------------------------------------------------- schema

    def _alembic(self, connection: Connection) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        return config

    def _migrate(self) -> None:
        with self._write() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            command.upgrade(self._alembic(conn), "head")

    def _head_revision(self) -> str | None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        return ScriptDirectory.from_config(config).get_current_head()

    def _check_schema(self) -> None:
        with self._read() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        head = self._head_revision()
        if current is None:
            raise StoreError(
                f"{self.describe()} holds no ledger; run `ceasefire monitor init` on it first"
            )
        if current != head:
            raise StoreError(
                f"the ledger's schema is at revision {current}; this release expects {head}: "
                "run `ceasefire monitor init` on it to upgrade"
            )

    def schema_revision(self) -> str | None:
        with self._read() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    # ----------------------------------------------------------- transactions

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction holding the ledger's write lock from its first statement."""
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(ceasefire_write=True)
                with conn.begin():
                    if self.dialect == "postgresql":
                        conn.execute(sa.text("SET LOCAL lock_timeout = '60s'"))
                        if sa.inspect(conn).has_table("entries"):
                            conn.execute(sa.text("LOCK TABLE entries IN EXCLUSIVE MODE"))
                    yield conn
        except OperationalError as exc:
            raise _operational(exc, self) from None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """One read transaction: every query in it sees the same state of the ledger."""
        try:
            with self.engine.connect() as conn:
                if self.dialect == "postgresql":
                    conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            raise _operational(exc, self) from None

    # ------------------------------------------------------------ categories

    def add_categories(self, defs: Iterable[CategoryDef], *, builtin: bool = True) -> list[str]:
        """Declare categories (new ones only; a declared category is never changed).

        Returns the ids added. A category already declared with another unit is refused.
        """
        wanted: dict[str, CategoryDef] = {}
        if builtin:
            for cid, (unit, text) in BUILTIN_CATEGORIES.items():
                wanted[cid] = CategoryDef(cid, unit, text)
        problems: list[str] = []
        for d in defs:
            if d.unit not in UNITS:
                problems.append(
                    f"category {d.id!r}: unknown unit {d.unit!r}; use one of {', '.join(UNITS)}"
                )
            previous = wanted.get(d.id)
            if previous is not None and previous.unit != d.unit and d.id not in BUILTIN_CATEGORIES:
                problems.append(
                    f"category {d.id!r} is declared twice, as {previous.unit} and as {d.unit}"
                )
            if d.id not in BUILTIN_CATEGORIES:
                wanted[d.id] = d
        if problems:
            raise MonitorError("categories", [_plain(p) for p in problems])
        with self._write() as conn:
            known = {
                r.id: r.unit for r in conn.execute(sa.select(categories.c.id, categories.c.unit))
            }
            clash = [
                f"category {d.id!r} is already declared as {known[d.id]}, not {d.unit}; "
                "a declared category is never changed (declare a new id)"
                for d in wanted.values()
                if d.id in known and known[d.id] != d.unit
            ]
            if clash:
                raise MonitorError("categories", [_plain(p) for p in clash])
            new = [d for d in wanted.values() if d.id not in known]
            if new:
                now = self._now(conn)
                conn.execute(
                    categories.insert(),
                    [
                        {"id": d.id, "unit": d.unit, "description": d.description, "added_at": now}
                        for d in new
                    ],
                )
        return [d.id for d in new]

    def categories(self) -> dict[str, CategoryDef]:
        with self._read() as conn:
            rows = conn.execute(sa.select(categories).order_by(categories.c.id)).all()
        return {r.id: CategoryDef(r.id, r.unit, r.description) for r in rows}

    # ----------------------------------------------------------------- writes

    def record(
        self,
        observations: Sequence[Observation],
        *,
        origin: str = "add",
        description: str = "",
        file_name: str | None = None,
        file_sha256: str | None = None,
        on_row: Callable[[int], None] | None = None,
    ) -> list[Entry]:
        """Record new observations, all in one transaction: all are written or none.

        An observation without an id gets ``obs-<entry number>``. An id already in the
        ledger, or given twice, is refused.
        """
        made, _held = self._record(
            observations, origin, description, file_name, file_sha256, on_row, skip_held=False
        )
        return made

    def record_new(
        self,
        observations: Sequence[Observation],
        *,
        origin: str = "import",
        description: str = "",
        file_name: str | None = None,
        file_sha256: str | None = None,
        on_row: Callable[[int], None] | None = None,
    ) -> tuple[list[Entry], list[int | None]]:
        """Record those of ``observations`` that the ledger does not hold yet, in one
        transaction (so that importing a file twice records it once).

        An observation is held when some entry of the log (a record or a correction,
        since superseded or retracted too) has the same content: date, kind, parties,
        channel, counts, credit, day, phase, note and source; its id aside. Returns the
        entries made and, for each of ``observations``, the entry that held it (``None``
        for those recorded now). Nothing is written when every one is held.
        """
        return self._record(
            observations, origin, description, file_name, file_sha256, on_row, skip_held=True
        )

    def _record(
        self,
        observations: Sequence[Observation],
        origin: str,
        description: str,
        file_name: str | None,
        file_sha256: str | None,
        on_row: Callable[[int], None] | None,
        *,
        skip_held: bool,
    ) -> tuple[list[Entry], list[int | None]]:
        ids = [o.id for o in observations if o.id is not None]
        twice = sorted({i for i in ids if ids.count(i) > 1}) if len(ids) != len(set(ids)) else []
        if twice:
            raise MonitorError(
                "observations", [_plain(f"id {twice[0]!r} is given twice; ids are unique")]
            )
        self._check_categories(observations)
        with self._write() as conn:
            held: list[int | None] = [None] * len(observations)
            if skip_held:
                known = self._held(conn)
                held = [known.get(observation_key(o)) for o in observations]
                observations = [o for o, h in zip(observations, held, strict=True) if h is None]
                if not observations:
                    return [], held
                ids = [o.id for o in observations if o.id is not None]
            taken = self._existing_ids(conn, ids)
            if taken:
                raise MonitorError(
                    "observations",
                    [
                        _plain(
                            f"id {taken[0]!r} is already in the ledger; to change it use "
                            f"`ceasefire monitor correct {taken[0]}`"
                        )
                    ],
                )
            rows = [(o.id, "record", None, o, "") for o in observations]
            made = self._append(
                conn, rows, origin, description, file_name, file_sha256, on_row=on_row
            )
            return made, held

    def held(self) -> dict[str, int]:
        """The content key (``observation_key``) of every observation the log holds
        (records and corrections, superseded ones too), each with its first entry."""
        with self._read() as conn:
            return self._held(conn)

    def _held(self, conn: Connection) -> dict[str, int]:
        """The content key of every observation the log holds, with its first entry."""
        known: dict[str, int] = {}
        for e in self._entries(conn, sa.select(entries).where(entries.c.action != "retract")):
            if e.observation is not None:
                known.setdefault(observation_key(e.observation), e.seq)
        return known

    def correct(
        self,
        obs_id: str,
        observation: Observation,
        reason: str,
        *,
        expect: int | None = None,
    ) -> Entry:
        """Record a new version of observation ``obs_id`` that supersedes its current one.

        ``expect`` (an entry number) refuses the correction if the current version is not
        that entry, so two people correcting at once cannot overwrite each other unseen.
        """
        if not reason.strip():
            raise MonitorError("correction", [_plain("give the reason for the correction")])
        self._check_categories([observation])
        with self._write() as conn:
            head = self._head(conn, obs_id, expect)
            entry = self._append(
                conn,
                [
                    (
                        obs_id,
                        "correct",
                        head.seq,
                        observation.model_copy(update={"id": obs_id}),
                        reason,
                    )
                ],
                "correct",
                f"correction of {obs_id}",
                None,
                None,
            )
        return entry[0]

    def retract(self, obs_id: str, reason: str, *, expect: int | None = None) -> Entry:
        """Withdraw observation ``obs_id`` (an entry too; the history stays)."""
        if not reason.strip():
            raise MonitorError("retraction", [_plain("give the reason for the retraction")])
        with self._write() as conn:
            head = self._head(conn, obs_id, expect)
            if head.retracted:
                raise MonitorError(
                    "retraction",
                    [_plain(f"{obs_id} is already retracted (entry {head.seq})")],
                )
            entry = self._append(
                conn,
                [(obs_id, "retract", head.seq, None, reason)],
                "retract",
                f"retraction of {obs_id}",
                None,
                None,
            )
        return entry[0]

    def _check_categories(self, observations: Sequence[Observation]) -> None:
        known = self.categories()
        problems = []
        for o in observations:
            for c in o.counts:
                if c.category not in known:
                    problems.append(_plain(unknown_category(c.category, known)))
                elif known[c.category].unit == "none" and c.count != 0:
                    problems.append(
                        _plain(
                            f"category {c.category!r} counts nothing (an event); its count "
                            f"must be 0, not {c.count}"
                        )
                    )
        if problems:
            raise MonitorError("observations", problems)

    def existing_ids(self, ids: Sequence[str | None]) -> list[str]:
        """Those of ``ids`` already recorded in the ledger."""
        with self._read() as conn:
            return self._existing_ids(conn, ids)

    def _existing_ids(self, conn: Connection, ids: Sequence[str | None]) -> list[str]:
        wanted = sorted({i for i in ids if i is not None})
        found: list[str] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found += [
                r[0]
                for r in conn.execute(
                    sa.select(entries.c.obs_id).where(
                        entries.c.obs_id.in_(chunk), entries.c.action == "record"
                    )
                )
            ]
        return sorted(found)

    def _head(self, conn: Connection, obs_id: str, expect: int | None) -> Entry:
        history = self._entries(conn, sa.select(entries).where(entries.c.obs_id == obs_id))
        if not history:
            raise MonitorError(
                "observation id",
                [_plain(f"no observation {obs_id!r} in the ledger; `monitor list` shows the ids")],
            )
        head = history[-1]
        if expect is not None and head.seq != expect:
            raise MonitorError(
                "correction",
                [
                    _plain(
                        f"the current version of {obs_id} is entry {head.seq}, not entry "
                        f"{expect}: someone recorded a change since; review it with "
                        f"`ceasefire monitor show {obs_id}` and try again"
                    )
                ],
            )
        return head

    def _now(self, conn: Connection) -> str:
        latest = conn.execute(sa.select(sa.func.max(entries.c.recorded_at))).scalar()
        latest_batch = conn.execute(sa.select(sa.func.max(batches.c.recorded_at))).scalar()
        now = stamp(self._clock())
        return max(now, latest or "", latest_batch or "")

    def _append(
        self,
        conn: Connection,
        rows: Sequence[tuple[str | None, str, int | None, Observation | None, str]],
        origin: str,
        description: str,
        file_name: str | None,
        file_sha256: str | None,
        *,
        on_row: Callable[[int], None] | None = None,
    ) -> list[Entry]:
        last = conn.execute(
            sa.select(entries.c.seq, entries.c.chain_hash).order_by(entries.c.seq.desc()).limit(1)
        ).first()
        seq, previous = (last.seq, last.chain_hash) if last is not None else (0, GENESIS)
        batch_id = (conn.execute(sa.select(sa.func.max(batches.c.id))).scalar() or 0) + 1
        now = self._now(conn)
        conn.execute(
            batches.insert(),
            {
                "id": batch_id,
                "recorded_at": now,
                "origin": origin,
                "description": description,
                "file_name": file_name,
                "file_sha256": file_sha256,
                "entries": len(rows),
            },
        )
        made: list[Entry] = []
        entry_rows: list[dict[str, Any]] = []
        count_rows: list[dict[str, Any]] = []
        for obs_id, action, supersedes, observation, reason in rows:
            seq += 1
            oid = obs_id or f"obs-{seq}"
            if observation is not None:
                observation = observation.model_copy(update={"id": oid})
            content = entry_content(
                seq=seq,
                obs_id=oid,
                action=action,
                supersedes=supersedes,
                batch=batch_id,
                recorded_at=now,
                reason=reason,
                observation=observation,
            )
            digest = content_hash(content)
            chained = chain_hash(previous, digest)
            previous = chained
            made.append(
                Entry(
                    seq,
                    oid,
                    action,
                    supersedes,
                    batch_id,
                    now,
                    reason,
                    observation,
                    digest,
                    chained,
                )
            )
            entry_rows.append(_entry_row(made[-1]))
            if observation is not None:
                count_rows += [
                    {
                        "seq": seq,
                        "position": i,
                        "category": c.category,
                        "count": c.count,
                        "low": c.low,
                        "high": c.high,
                    }
                    for i, c in enumerate(observation.counts)
                ]
        step = 1000
        try:
            for start in range(0, len(entry_rows), step):
                conn.execute(entries.insert(), entry_rows[start : start + step])
                if on_row is not None:
                    on_row(min(start + step, len(entry_rows)))
            for start in range(0, len(count_rows), step):
                conn.execute(entry_counts.insert(), count_rows[start : start + step])
        except IntegrityError as exc:
            raise MonitorError(
                "write", [_plain(f"the database refused the write: {_first_line(exc)}")]
            ) from None
        return made

    # ------------------------------------------------------------------ reads

    def entries(
        self,
        *,
        as_of: dt.date | dt.datetime | str | None = None,
        upto: int | None = None,
    ) -> list[Entry]:
        """Every entry (the full log) recorded by ``as_of`` / up to entry ``upto``."""
        with self._read() as conn:
            return self._entries(conn, self._log_query(as_of, upto))

    def history(self, obs_id: str) -> list[Entry]:
        """Every entry of one observation, oldest first."""
        with self._read() as conn:
            found = self._entries(conn, sa.select(entries).where(entries.c.obs_id == obs_id))
        if not found:
            raise MonitorError(
                "observation id",
                [_plain(f"no observation {obs_id!r} in the ledger; `monitor list` shows the ids")],
            )
        return found

    def view(
        self,
        *,
        as_of: dt.date | dt.datetime | str | None = None,
        upto: int | None = None,
        about: tuple[dt.date | None, dt.date | None] = (None, None),
    ) -> tuple[Snapshot, list[Entry]]:
        """The observations as known at ``as_of``: for each, its latest version then
        (retracted ones left out), about dates in ``about`` (from, to; both included).
        Returns them with the snapshot they were read from, ordered by date then entry."""
        with self._read() as conn:
            log = self._entries(conn, self._log_query(as_of, upto))
        snap = snapshot_of(log)
        current = resolve(log)
        lo, hi = about
        picked = [
            e
            for e in current
            if e.observation is not None
            and (lo is None or e.observation.date >= lo)
            and (hi is None or e.observation.date <= hi)
        ]
        picked.sort(key=lambda e: (e.observation.date if e.observation else dt.date.min, e.seq))
        return snap, picked

    def snapshot(
        self, *, as_of: dt.date | dt.datetime | str | None = None, upto: int | None = None
    ) -> Snapshot:
        with self._read() as conn:
            query = sa.select(entries.c.seq, entries.c.chain_hash, entries.c.recorded_at)
            bound = as_of_stamp(as_of)
            if bound is not None:
                query = query.where(entries.c.recorded_at <= bound)
            if upto is not None:
                query = query.where(entries.c.seq <= upto)
            row = conn.execute(query.order_by(entries.c.seq.desc()).limit(1)).first()
        if row is None:
            return Snapshot(0, GENESIS, None)
        return Snapshot(row.seq, row.chain_hash, row.recorded_at)

    def batches(self) -> list[BatchInfo]:
        with self._read() as conn:
            rows = conn.execute(sa.select(batches).order_by(batches.c.id)).all()
        return [
            BatchInfo(
                r.id, r.recorded_at, r.origin, r.description, r.file_name, r.file_sha256, r.entries
            )
            for r in rows
        ]

    def verify(self) -> list[str]:
        """Recompute every content hash and the chain; list what does not match."""
        problems: list[str] = []
        previous = GENESIS
        for expected_seq, entry in enumerate(self.entries(), start=1):
            if entry.seq != expected_seq:
                problems.append(f"entry {expected_seq} is missing (found {entry.seq} next)")
            digest = content_hash(entry.content())
            if digest != entry.content_hash:
                problems.append(f"entry {entry.seq}: content does not match its hash")
            chained = chain_hash(previous, digest)
            if chained != entry.chain_hash:
                problems.append(f"entry {entry.seq}: chain hash does not match")
            previous = entry.chain_hash
        return problems

    def _log_query(
        self, as_of: dt.date | dt.datetime | str | None, upto: int | None
    ) -> sa.Select[Any]:
        query = sa.select(entries)
        bound = as_of_stamp(as_of)
        if bound is not None:
            query = query.where(entries.c.recorded_at <= bound)
        if upto is not None:
            query = query.where(entries.c.seq <= upto)
        return query

    def _entries(self, conn: Connection, query: sa.Select[Any]) -> list[Entry]:
        rows = conn.execute(query.order_by(entries.c.seq)).mappings().all()
        if not rows:
            return []
        lo, hi = rows[0]["seq"], rows[-1]["seq"]
        counts: dict[int, list[CountValue]] = {}
        for c in conn.execute(
            sa.select(entry_counts)
            .where(entry_counts.c.seq >= lo, entry_counts.c.seq <= hi)
            .order_by(entry_counts.c.seq, entry_counts.c.position)
        ).mappings():
            counts.setdefault(c["seq"], []).append(
                CountValue(category=c["category"], count=c["count"], low=c["low"], high=c["high"])
            )
        return [_entry_from_row(r, counts.get(r["seq"], [])) for r in rows]


def open_store(
    db: str | Path = DEFAULT_DB,
    *,
    create: bool = False,
    clock: Callable[[], dt.datetime] | None = None,
) -> Store:
    """Open the ledger at ``db``; see :meth:`Store.open`."""
    return Store.open(db, create=create, clock=clock)


def resolve(log: Sequence[Entry]) -> list[Entry]:
    """The current version of each observation in ``log`` (entries in order), without
    the retracted ones. A correction of a correction resolves to the last one."""
    head: dict[str, Entry] = {}
    for entry in log:
        head[entry.obs_id] = entry
    return [e for e in head.values() if not e.retracted]


def snapshot_of(log: Sequence[Entry]) -> Snapshot:
    if not log:
        return Snapshot(0, GENESIS, None)
    last = log[-1]
    return Snapshot(last.seq, last.chain_hash, last.recorded_at)


def unknown_category(category: str, known: dict[str, CategoryDef]) -> str:
    import difflib

    close = difflib.get_close_matches(category, list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"unknown category {category!r}{hint}; the ledger knows: {', '.join(sorted(known))}. "
        "Declare a new one with `ceasefire monitor init --category ID:UNIT`"
    )


def _plain(message: str) -> Any:
    from ..scenario import Problem

    return Problem("", None, None, "", message)


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)


def _operational(exc: OperationalError, store: Store) -> StoreError:
    text = _first_line(exc)
    if "locked" in text or "lock timeout" in text:
        return StoreError(
            f"{store.describe()} stayed busy with another writer for over a minute; "
            "nothing was written, try again",
            bad_input=False,
        )
    return StoreError(f"cannot use {store.describe()}: {text}", bad_input=False)


def _sqlite_engine(url: URL) -> Engine:
    engine = sa.create_engine(
        url,
        poolclass=sa.pool.NullPool,
        connect_args={"timeout": BUSY_TIMEOUT_S, "isolation_level": None},
    )

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get("ceasefire_write"):
            _begin_immediate(conn)
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def _begin_immediate(conn: Connection) -> None:
    # The busy handler waits for the lock; retry a few times beyond it for safety.
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _entry_row(e: Entry) -> dict[str, Any]:
    o = e.observation
    row: dict[str, Any] = {
        "seq": e.seq,
        "obs_id": e.obs_id,
        "action": e.action,
        "supersedes": e.supersedes,
        "batch": e.batch,
        "recorded_at": e.recorded_at,
        "reason": e.reason,
        "content_hash": e.content_hash,
        "chain_hash": e.chain_hash,
    }
    if o is None:
        row.update(
            dict.fromkeys(
                (
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
                )
            )
        )
        return row
    row.update(
        {
            "occurred_on": o.date,
            "kind": o.kind,
            "from_party": o.from_party,
            "to_party": o.to_party,
            "channel": o.channel,
            "credited_on": o.credited_on,
            "day": o.day,
            "phase": o.phase,
            "note": o.note,
            "source_text": o.source.text,
            "source_published": o.source.published,
            "source_links": json.dumps(o.source.links, ensure_ascii=False),
            "source_kind": o.source.kind,
            "reliability": o.source.reliability,
        }
    )
    return row


def _entry_from_row(r: Any, counts: list[CountValue]) -> Entry:
    observation = None
    if r["action"] != "retract":
        observation = Observation.model_construct(
            id=r["obs_id"],
            date=_date(r["occurred_on"]),
            kind=r["kind"],
            from_party=r["from_party"] or "",
            to_party=r["to_party"] or "",
            channel=r["channel"] or "",
            counts=counts,
            credited_on=_date(r["credited_on"]) if r["credited_on"] is not None else None,
            day=r["day"],
            phase=r["phase"],
            note=r["note"] or "",
            source=Source.model_construct(
                text=r["source_text"],
                published=_date(r["source_published"]) if r["source_published"] else None,
                links=json.loads(r["source_links"] or "[]"),
                kind=r["source_kind"],
                reliability=r["reliability"],
            ),
        )
    return Entry(
        seq=r["seq"],
        obs_id=r["obs_id"],
        action=r["action"],
        supersedes=r["supersedes"],
        batch=r["batch"],
        recorded_at=r["recorded_at"],
        reason=r["reason"],
        observation=observation,
        content_hash=r["content_hash"],
        chain_hash=r["chain_hash"],
    )


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
