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
import hashlib
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
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    IntegrityError,
    OperationalError,
)

from ._errors import MonitorError, StoreError
from ._model import (
    BUILTIN_CATEGORIES,
    GENESIS,
    SEAL_GENESIS,
    UNITS,
    Anchor,
    CategoryDef,
    CountValue,
    Entry,
    Observation,
    Snapshot,
    Source,
    categories_digest,
    chain_hash,
    content_hash,
    entry_content,
    observation_key,
    seal_content,
)
from ._schema import (
    APPEND_ONLY,
    batches,
    categories,
    entries,
    entry_counts,
    forecasts,
    observation_keys,
    seals,
)

DEFAULT_DB = "ceasefire-ledger.sqlite"
MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_S = 60.0
_PG_LOCK_KEY = 7_262_023  # advisory lock serialising schema migrations on PostgreSQL
MAX_SEQ = 2**62  # entry numbers beyond this mean "all of them" (no integer overflow)
SQLITE_HEADER = b"SQLite format 3\x00"
STEP = 1000  # rows per statement and per slice of an import


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


@dataclass(frozen=True)
class ForecastInfo:
    """A forecast saved in the ledger: its row, without the body."""

    id: int
    recorded_at: str
    issued_at: str
    scenario: str
    scenario_hash: str
    method: str
    members: int
    seed: int | None
    snapshot_seq: int | None
    snapshot_hash: str | None
    as_of: str | None
    body_sha256: str


def body_sha256(body: str) -> str:
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


MAX_PROBLEMS = 1000


@dataclass(frozen=True)
class Recorded:
    """What a write of many rows did: the entries made (``first`` to ``last``), and the
    rows skipped because the ledger held them (their lines and the entries holding
    them, each as spans ``(first, last)``)."""

    made: int
    first: int
    last: int
    held: tuple[int, list[tuple[int, int]], list[tuple[int, int]]]


def spans(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Runs of consecutive numbers in ascending ``numbers``: [1, 2, 3, 7] -> (1, 3), (7, 7)."""
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        elif not runs or n > runs[-1][1]:
            runs.append((n, n))
    return runs


class _ImportRows:
    """The rows of a write of many, in a temporary table of its transaction (gone when
    it ends): their line, content key and id, and the entry that holds each one."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        drop = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
        conn.exec_driver_sql(
            "CREATE TEMP TABLE ceasefire_import (line INTEGER PRIMARY KEY, "
            f"key VARCHAR(71) NOT NULL, obs_id VARCHAR(64), held INTEGER){drop}"
        )
        conn.exec_driver_sql("CREATE INDEX ceasefire_import_key ON ceasefire_import (key)")
        conn.exec_driver_sql("CREATE INDEX ceasefire_import_id ON ceasefire_import (obs_id)")

    def add(self, piece: Sequence[tuple[int, Observation]]) -> None:
        if piece:
            self.conn.execute(
                sa.text("INSERT INTO ceasefire_import (line, key, obs_id) VALUES (:l, :k, :i)"),
                [{"l": line, "k": observation_key(o), "i": o.id} for line, o in piece],
            )

    def problems(self, where: str, id_column: int | None, *, skip_held: bool) -> list[Any]:
        from ..scenario import Problem

        found: list[Any] = []
        for line, obs_id, first in self.conn.execute(
            sa.text(
                "SELECT r.line, r.obs_id, min(f.line) FROM ceasefire_import r "
                "JOIN ceasefire_import f ON f.obs_id = r.obs_id AND f.line < r.line "
                f"GROUP BY r.line, r.obs_id ORDER BY r.line LIMIT {MAX_PROBLEMS}"
            )
        ):
            found.append(
                Problem(
                    where,
                    line,
                    id_column,
                    "id",
                    f"duplicate id {obs_id!r}; it is already on line {first}",
                )
            )
        if skip_held:
            for line, first in self.conn.execute(
                sa.text(
                    "SELECT r.line, min(f.line) FROM ceasefire_import r "
                    "JOIN ceasefire_import f ON f.key = r.key AND f.line < r.line "
                    f"GROUP BY r.line ORDER BY r.line LIMIT {MAX_PROBLEMS}"
                )
            ):
                found.append(
                    Problem(
                        where,
                        line,
                        None,
                        "",
                        f"repeats line {first} (same date, flow, parties, channel, "
                        "category, count, source and note); a file lists each observation "
                        "once. If both happened, tell them apart in the note, or import with "
                        "--allow-duplicates",
                    )
                )
            self.conn.execute(
                sa.text(
                    "UPDATE ceasefire_import SET held = (SELECT min(o.seq) FROM "
                    "observation_keys o WHERE o.key = ceasefire_import.key)"
                )
            )
        for line, obs_id in self.conn.execute(
            sa.text(
                "SELECT r.line, r.obs_id FROM ceasefire_import r WHERE r.held IS NULL "
                "AND r.obs_id IS NOT NULL AND EXISTS (SELECT 1 FROM entries e "
                "WHERE e.obs_id = r.obs_id AND e.action = 'record') "
                f"ORDER BY r.line LIMIT {MAX_PROBLEMS}"
            )
        ):
            found.append(
                Problem(
                    where,
                    line,
                    id_column,
                    "id",
                    f"duplicate id {obs_id!r}: it is already in the ledger; to change that "
                    f"observation use `ceasefire monitor correct {obs_id}`",
                )
            )
        found.sort(key=lambda p: p.line or 0)
        return found

    def count_new(self) -> int:
        query = "SELECT count(*) FROM ceasefire_import WHERE held IS NULL"
        return int(self.conn.execute(sa.text(query)).scalar() or 0)

    def held_spans(self) -> tuple[int, list[tuple[int, int]], list[tuple[int, int]]]:
        count = self.conn.execute(
            sa.text("SELECT count(*) FROM ceasefire_import WHERE held IS NOT NULL")
        ).scalar()
        lines = spans(
            r[0]
            for r in self.conn.execute(
                sa.text("SELECT line FROM ceasefire_import WHERE held IS NOT NULL ORDER BY line")
            )
        )
        held = spans(
            r[0]
            for r in self.conn.execute(
                sa.text(
                    "SELECT DISTINCT held FROM ceasefire_import WHERE held IS NOT NULL "
                    "ORDER BY held"
                )
            )
        )
        return int(count or 0), lines, held

    def new_lines(self, lo: int, hi: int) -> set[int]:
        return {
            r[0]
            for r in self.conn.execute(
                sa.text(
                    "SELECT line FROM ceasefire_import WHERE line BETWEEN :lo AND :hi "
                    "AND held IS NULL"
                ),
                {"lo": lo, "hi": hi},
            )
        }


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
            _check_sqlite_file(path)
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
        except DatabaseError as exc:
            raise _unusable(exc, self) from None

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
        except DatabaseError as exc:
            raise _unusable(exc, self) from None

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
                batch = self._open_batch(
                    conn,
                    "init",
                    f"categories declared: {', '.join(d.id for d in new)}"[:4000],
                    None,
                    None,
                    0,
                    now,
                )
                self._seal(conn, batch)
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
        ids = [o.id for o in observations if o.id is not None]
        twice = sorted({i for i in ids if ids.count(i) > 1}) if len(ids) != len(set(ids)) else []
        if twice:
            raise MonitorError(
                "observations", [_plain(f"id {twice[0]!r} is given twice; ids are unique")]
            )
        self._check_categories(observations)
        with self._write() as conn:
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
            return self._append(
                conn, rows, origin, description, file_name, file_sha256, on_row=on_row
            )

    def record_new(
        self,
        observations: Sequence[Observation],
        *,
        origin: str = "import",
        description: str = "",
        file_name: str | None = None,
        file_sha256: str | None = None,
    ) -> tuple[list[Entry], list[int | None]]:
        """Record those of ``observations`` that the ledger does not hold yet, in one
        transaction (so that importing a file twice records it once).

        An observation is held when some entry of the log (a record or a correction,
        since superseded or retracted too) has the same content: date, kind, parties,
        channel, counts, credit, day, phase, note and source; its id aside. Returns the
        entries made and, for each of ``observations``, the entry that held it (``None``
        for those recorded now). Nothing is written when every one is held.
        """
        self._check_categories(observations)
        rows = list(enumerate(observations, start=1))
        result = self.record_stream(
            lambda: iter([rows]),
            origin=origin,
            description=description,
            file_name=file_name,
            file_sha256=file_sha256,
        )
        made = self.entries(upto=result.last)[result.first - 1 :] if result.made else []
        with self._read() as conn:
            found: dict[str, int] = {}
            keys = [observation_key(o) for o in observations]
            for start in range(0, len(keys), STEP):
                query = (
                    sa.select(observation_keys.c.key, sa.func.min(observation_keys.c.seq))
                    .where(observation_keys.c.key.in_(keys[start : start + STEP]))
                    .group_by(observation_keys.c.key)
                )
                found.update({r[0]: r[1] for r in conn.execute(query)})
        first = result.first if result.made else MAX_SEQ
        held = [found[k] if k in found and found[k] < first else None for k in keys]
        return made, held

    def record_stream(
        self,
        slices: Callable[[], Iterator[Sequence[tuple[int, Observation]]]],
        *,
        origin: str = "import",
        description: str = "",
        file_name: str | None = None,
        file_sha256: str | None = None,
        skip_held: bool = True,
        where: str = "",
        id_column: int | None = None,
        on_row: Callable[[int], None] | None = None,
    ) -> Recorded:
        """Record observations read in slices, in one transaction, in bounded memory.

        ``slices()`` yields (line, observation) slices; it is called twice inside the
        transaction (once to find the rows held, once to write), and must give the same
        rows both times. With ``skip_held`` a row the ledger holds (see
        :meth:`record_new`) is skipped and a row that repeats an earlier row is refused;
        an id the ledger has recorded for other content is refused. Problems name
        ``where`` and the row's line; nothing is written if there is any.
        """
        with self._write() as conn:
            rows = _ImportRows(conn)
            for piece in slices():
                rows.add(piece)
            problems = rows.problems(where, id_column, skip_held=skip_held)
            if problems:
                raise MonitorError("import", problems[:MAX_PROBLEMS])
            count = rows.count_new()
            held = rows.held_spans()
            if count == 0:
                return Recorded(0, 0, 0, held)
            now = self._now(conn)
            batch = self._open_batch(conn, origin, description, file_name, file_sha256, count, now)
            seq, previous = self._last(conn)
            first = seq + 1
            written = 0
            for piece in slices():
                keep = rows.new_lines(piece[0][0], piece[-1][0]) if piece else set()
                chunk = [(o.id, "record", None, o, "") for line, o in piece if line in keep]
                seq, previous = self._write_entries(conn, chunk, batch, now, seq, previous)
                written += len(chunk)
                if on_row is not None and chunk:
                    on_row(written)
            if written != count:
                raise MonitorError(
                    "import",
                    [_plain(f"{where}: the file changed while it was imported; try again")],
                )
            self._seal(conn, batch)
            return Recorded(count, first, seq, held)

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

    def _last(self, conn: Connection) -> tuple[int, str]:
        last = conn.execute(
            sa.select(entries.c.seq, entries.c.chain_hash).order_by(entries.c.seq.desc()).limit(1)
        ).first()
        return (last.seq, last.chain_hash) if last is not None else (0, GENESIS)

    def _open_batch(
        self,
        conn: Connection,
        origin: str,
        description: str,
        file_name: str | None,
        file_sha256: str | None,
        count: int,
        now: str,
    ) -> dict[str, Any]:
        batch_id = (conn.execute(sa.select(sa.func.max(batches.c.id))).scalar() or 0) + 1
        row = {
            "id": batch_id,
            "recorded_at": now,
            "origin": origin,
            "description": description,
            "file_name": file_name,
            "file_sha256": file_sha256,
            "entries": count,
        }
        conn.execute(batches.insert(), row)
        return row

    def _seal(self, conn: Connection, batch: dict[str, Any]) -> None:
        """Close ``batch``: its row, the entry chain after it and the categories, chained
        to the previous seal (the last statement of every write)."""
        seq, head = self._last(conn)
        cats = [
            (r.id, r.unit, r.description, r.added_at)
            for r in conn.execute(
                sa.select(
                    categories.c.id,
                    categories.c.unit,
                    categories.c.description,
                    categories.c.added_at,
                )
            )
        ]
        previous = conn.execute(
            sa.select(seals.c.seal_hash).order_by(seals.c.batch.desc()).limit(1)
        ).scalar()
        content = seal_content(
            batch=batch,
            head_seq=seq,
            head_hash=head,
            categories=len(cats),
            categories_hash=categories_digest(cats),
        )
        conn.execute(
            seals.insert(),
            {
                "batch": batch["id"],
                "head_seq": seq,
                "head_hash": head,
                "categories": len(cats),
                "categories_hash": content["categories_hash"],
                "seal_hash": chain_hash(previous or SEAL_GENESIS, content_hash(content)),
            },
        )

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
        now = self._now(conn)
        batch = self._open_batch(conn, origin, description, file_name, file_sha256, len(rows), now)
        seq, previous = self._last(conn)
        made: list[Entry] = []
        for start in range(0, len(rows), STEP):
            chunk = rows[start : start + STEP]
            seq, previous = self._write_entries(conn, chunk, batch, now, seq, previous, made)
            if on_row is not None:
                on_row(start + len(chunk))
        self._seal(conn, batch)
        return made

    def _write_entries(
        self,
        conn: Connection,
        rows: Sequence[tuple[str | None, str, int | None, Observation | None, str]],
        batch: dict[str, Any],
        now: str,
        seq: int,
        previous: str,
        made: list[Entry] | None = None,
    ) -> tuple[int, str]:
        """Write ``rows`` as the entries after ``seq``; returns the last one's number and
        chain hash. The entries are kept in ``made`` when given."""
        entry_rows: list[dict[str, Any]] = []
        count_rows: list[dict[str, Any]] = []
        key_rows: list[dict[str, Any]] = []
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
                batch=batch["id"],
                recorded_at=now,
                reason=reason,
                observation=observation,
            )
            digest = content_hash(content)
            previous = chain_hash(previous, digest)
            entry = Entry(
                seq,
                oid,
                action,
                supersedes,
                batch["id"],
                now,
                reason,
                observation,
                digest,
                previous,
            )
            if made is not None:
                made.append(entry)
            entry_rows.append(_entry_row(entry))
            if observation is not None:
                key_rows.append({"seq": seq, "key": observation_key(observation)})
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
        try:
            for table, data in (
                (entries, entry_rows),
                (entry_counts, count_rows),
                (observation_keys, key_rows),
            ):
                for start in range(0, len(data), STEP):
                    conn.execute(table.insert(), data[start : start + STEP])
        except IntegrityError as exc:
            raise MonitorError(
                "write", [_plain(f"the database refused the write: {_first_line(exc)}")]
            ) from None
        return seq, previous

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
                query = query.where(entries.c.seq <= min(upto, MAX_SEQ))
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

    # -------------------------------------------------------------- forecasts

    def record_forecast(self, body: str) -> ForecastInfo:
        """Save a forecast (the JSON ``monitor forecast`` writes) in the ledger, append-only;
        its row repeats the inputs the body names (scenario, method, seed, members, the
        ledger snapshot it was issued against)."""
        try:
            data = json.loads(body)
            ledger = data.get("ledger") or {}
            row: dict[str, Any] = {
                "issued_at": str(data["issued_at"]),
                "scenario": str(data["scenario"]),
                "scenario_hash": str(data["scenario_hash"]),
                "method": str(data["method"]),
                "members": int(data["members"]),
                "seed": None if data.get("seed") is None else int(data["seed"]),
                "snapshot_seq": ledger.get("seq"),
                "snapshot_hash": ledger.get("chain_hash"),
                "as_of": ledger.get("as_of"),
            }
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StoreError(f"not a forecast made by `monitor forecast` ({exc})") from None
        with self._write() as conn:
            last = conn.execute(sa.select(sa.func.max(forecasts.c.id))).scalar() or 0
            row.update(
                id=last + 1,
                recorded_at=self._now(conn),
                body=body,
                body_sha256=body_sha256(body),
            )
            conn.execute(forecasts.insert().values(**row))
        return _forecast_info(row)

    def forecasts(self) -> list[ForecastInfo]:
        """The forecasts saved in the ledger, oldest first."""
        columns = [c for c in forecasts.c if c.name != "body"]
        with self._read() as conn:
            rows = conn.execute(sa.select(*columns).order_by(forecasts.c.id)).all()
        return [_forecast_info(r._asdict()) for r in rows]

    def forecast_body(self, forecast_id: int) -> str:
        """The forecast saved as ``forecast_id``, as saved (checked against its hash)."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(forecasts.c.body, forecasts.c.body_sha256).where(
                    forecasts.c.id == forecast_id
                )
            ).first()
        if row is None:
            known = [f.id for f in self.forecasts()]
            raise StoreError(
                f"no forecast {forecast_id} in the ledger (it holds "
                + (
                    f"forecasts {_spans(known)})"
                    if known
                    else "none; save one with `monitor forecast --db`)"
                ),
                bad_input=True,
            )
        if body_sha256(row.body) != row.body_sha256:
            raise StoreError(
                f"forecast {forecast_id} does not match its hash: the row was changed "
                "past the triggers; `monitor verify` lists what else was",
                bad_input=False,
            )
        return str(row.body)

    def _verify_forecasts(self, conn: Connection) -> list[str]:
        rows = conn.execute(
            sa.select(forecasts.c.id, forecasts.c.body, forecasts.c.body_sha256)
        ).all()
        return [
            f"forecast {r.id} does not match its hash (changed past the triggers)"
            for r in rows
            if body_sha256(r.body) != r.body_sha256
        ]

    def verify(self) -> list[str]:
        """Check the ledger against itself; list what does not match.

        The tables and their triggers must all be there; every entry's content must
        match its hash and the chain, with no entry missing (a gap is reported once, as
        the entry numbers absent); every batch must have its seal, the seals must chain,
        and each must match its batch's row, its entries and the entry chain after it;
        the last seal must name the last entry and the categories as declared now."""
        missing = self._missing_tables()
        if missing:
            return [
                f"table {t} is missing (dropped?): the ledger cannot be verified; restore "
                "the database from a copy"
                for t in missing
            ]
        gone = self._missing_triggers()
        problems = (
            [
                f"triggers dropped ({len(gone)}): {', '.join(gone)}; the database no longer "
                "refuses changes to the ledger"
            ]
            if gone
            else []
        )
        with self._read() as conn:
            problems += self._verify_entries(conn)
            problems += self._verify_seals(conn)
            problems += self._verify_forecasts(conn)
        return problems

    def _missing_tables(self) -> list[str]:
        with self._read() as conn:
            present = set(sa.inspect(conn).get_table_names())
        return [t for t in APPEND_ONLY if t not in present]

    def _missing_triggers(self) -> list[str]:
        with self._read() as conn:
            if self.dialect == "sqlite":
                query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                wanted = [
                    *(f"{t}_no_{a}" for t in APPEND_ONLY for a in ("update", "delete")),
                    *(f"{t}_no_replace" for t in APPEND_ONLY),
                    "entries_in_order",
                ]
            else:
                query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
                wanted = [
                    *(f"{t}_no_{a}" for t in APPEND_ONLY for a in ("change", "truncate")),
                    "entries_in_order",
                ]
            present = {r[0] for r in conn.execute(sa.text(query))}
        return [t for t in wanted if t not in present]

    def _verify_entries(self, conn: Connection) -> list[str]:
        problems: list[str] = []
        previous: str | None = GENESIS
        expected = 1
        last = conn.execute(sa.select(sa.func.max(entries.c.seq))).scalar() or 0
        keys = {
            r[0]: r[1]
            for r in conn.execute(sa.select(observation_keys.c.seq, observation_keys.c.key))
        }
        for start in range(1, last + 1, 10 * STEP):
            query = sa.select(entries).where(
                entries.c.seq >= start, entries.c.seq < start + 10 * STEP
            )
            for entry in read_entries(conn, query):
                if entry.seq != expected:
                    problems.append(_gap(expected, entry.seq - 1))
                    previous = None  # the chain cannot be followed across a gap
                digest = content_hash(entry.content())
                if digest != entry.content_hash:
                    problems.append(f"entry {entry.seq}: content does not match its hash")
                if previous is not None and chain_hash(previous, digest) != entry.chain_hash:
                    problems.append(f"entry {entry.seq}: chain hash does not match")
                key = observation_key(entry.observation) if entry.observation else None
                if keys.pop(entry.seq, None) != key:
                    problems.append(f"entry {entry.seq}: its observation key does not match")
                previous = entry.chain_hash
                expected = entry.seq + 1
        if keys:
            problems.append(f"observation keys of entries not in the ledger: {_spans(keys)}")
            # (the entries themselves are reported above, once per gap)
        return problems

    def _verify_seals(self, conn: Connection) -> list[str]:
        problems: list[str] = []
        chain: dict[int, str] = {
            r[0]: r[1] for r in conn.execute(sa.select(entries.c.seq, entries.c.chain_hash))
        }
        per_batch: dict[int, int] = {
            r[0]: r[1]
            for r in conn.execute(
                sa.select(entries.c.batch, sa.func.count()).group_by(entries.c.batch)
            )
        }
        sealed = {r.batch: r for r in conn.execute(sa.select(seals))}
        rows = conn.execute(sa.select(batches).order_by(batches.c.id)).mappings().all()
        previous = SEAL_GENESIS
        head = 0
        last_seal = None
        for expected, b in enumerate(rows, start=1):
            if b["id"] != expected:
                problems.append(_gap(expected, b["id"] - 1, "batch"))
            seal = sealed.pop(b["id"], None)
            if seal is None:
                problems.append(f"batch {b['id']} has no seal (its write never finished?)")
                continue
            content = seal_content(
                batch=dict(b),
                head_seq=seal.head_seq,
                head_hash=seal.head_hash,
                categories=seal.categories,
                categories_hash=seal.categories_hash,
            )
            if chain_hash(previous, content_hash(content)) != seal.seal_hash:
                problems.append(
                    f"batch {b['id']}: its row or its seal does not match the seal chain"
                )
            previous = seal.seal_hash
            if per_batch.get(b["id"], 0) != b["entries"]:
                problems.append(
                    f"batch {b['id']} wrote {b['entries']} "
                    f"{'entry' if b['entries'] == 1 else 'entries'}; the ledger holds "
                    f"{per_batch.get(b['id'], 0)} of them"
                )
            if seal.head_seq > 0 and chain.get(seal.head_seq, seal.head_hash) != seal.head_hash:
                problems.append(
                    f"batch {b['id']}: its seal names entry {seal.head_seq} with another "
                    "chain hash; the entries does not match what was sealed (rewritten, and "
                    "the chain recomputed?)"
                )
            head = max(head, seal.head_seq)
            last_seal = seal
        for batch in sorted(sealed):
            problems.append(f"seal of batch {batch}, which is not in the ledger")
        last = max(chain, default=0)
        if head > last:
            problems.append(
                f"{_gap(last + 1, head)} (the seal of the last batch names entry {head})"
            )
        elif last > head:
            problems.append(f"entries {head + 1}-{last} are not sealed by any batch")
        if last_seal is not None:
            cats = [
                (r.id, r.unit, r.description, r.added_at)
                for r in conn.execute(sa.select(categories))
            ]
            if categories_digest(cats) != last_seal.categories_hash:
                problems.append(
                    f"categories: {len(cats)} declared now do not match the "
                    f"{last_seal.categories} sealed by the last batch (changed or removed)"
                )
        elif chain:
            problems.append("the ledger holds entries but no batch")
        return problems

    def anchor(
        self, *, as_of: dt.date | dt.datetime | str | None = None, upto: int | None = None
    ) -> Anchor:
        """The anchor of the ledger (as known at ``as_of`` / up to entry ``upto``): the
        last entry and its chain hash, the last batch and its seal hash."""
        snap = self.snapshot(as_of=as_of, upto=upto)
        with self._read() as conn:
            query = sa.select(seals.c.batch, seals.c.seal_hash)
            if as_of is not None or upto is not None:
                query = query.where(seals.c.head_seq <= snap.seq)
                bound = as_of_stamp(as_of)
                if bound is not None:
                    query = query.join(batches, batches.c.id == seals.c.batch).where(
                        batches.c.recorded_at <= bound
                    )
            row = conn.execute(query.order_by(seals.c.batch.desc()).limit(1)).first()
        if row is None:
            return Anchor(snap.seq, snap.chain_hash)
        return Anchor(snap.seq, snap.chain_hash, row.batch, row.seal_hash)

    def verify_against(self, anchor: Anchor) -> list[str]:
        """Check that the ledger still holds, unchanged, everything up to ``anchor``: the
        entry chain recomputed from the entries' content reaches the anchor's hash at
        its entry, and the seal chain recomputed from the batches reaches its seal."""
        missing = self._missing_tables()
        if missing:
            return [f"table {t} is missing (dropped?)" for t in missing]
        problems: list[str] = []
        with self._read() as conn:
            last = conn.execute(sa.select(sa.func.max(entries.c.seq))).scalar() or 0
            if last < anchor.seq:
                problems.append(
                    f"the anchor names entry {anchor.seq}; the ledger ends at entry {last}: "
                    f"{_gap(last + 1, anchor.seq)} (removed)"
                )
            else:
                previous = GENESIS
                expected = 1
                for start in range(1, anchor.seq + 1, 10 * STEP):
                    query = sa.select(entries).where(
                        entries.c.seq >= start,
                        entries.c.seq < min(start + 10 * STEP, anchor.seq + 1),
                    )
                    for entry in read_entries(conn, query):
                        if entry.seq != expected:
                            break
                        previous = chain_hash(previous, content_hash(entry.content()))
                        expected += 1
                if expected != anchor.seq + 1:
                    problems.append(
                        f"the anchor names entry {anchor.seq}; {_gap(expected, expected)} "
                        "of the ledger is gone"
                    )
                elif previous != anchor.chain_hash:
                    problems.append(
                        f"entry {anchor.seq}: the chain recomputed from the entries does not "
                        f"reach the anchor's {anchor.chain_hash}: entries up to {anchor.seq} "
                        "were changed since the anchor was taken"
                    )
            if anchor.batch is not None:
                problems += self._seals_against(conn, anchor.batch, anchor.seal_hash or "")
        return problems

    def _seals_against(self, conn: Connection, batch: int, seal_hash: str) -> list[str]:
        sealed = {r.batch: r for r in conn.execute(sa.select(seals).where(seals.c.batch <= batch))}
        rows = (
            conn.execute(sa.select(batches).where(batches.c.id <= batch).order_by(batches.c.id))
            .mappings()
            .all()
        )
        if len(rows) < batch or len(sealed) < batch:
            return [
                f"the anchor names batch {batch}; the ledger holds {len(rows)} of the batches "
                f"up to it and {len(sealed)} of their seals (removed)"
            ]
        previous = SEAL_GENESIS
        for b in rows:
            seal = sealed[b["id"]]
            content = seal_content(
                batch=dict(b),
                head_seq=seal.head_seq,
                head_hash=seal.head_hash,
                categories=seal.categories,
                categories_hash=seal.categories_hash,
            )
            previous = chain_hash(previous, content_hash(content))
        if previous != seal_hash:
            return [
                f"batch {batch}: the seal chain recomputed from the batches does not reach "
                f"the anchor's {seal_hash}: batches or categories up to it were changed"
            ]
        return []

    def _log_query(
        self, as_of: dt.date | dt.datetime | str | None, upto: int | None
    ) -> sa.Select[Any]:
        query = sa.select(entries)
        bound = as_of_stamp(as_of)
        if bound is not None:
            query = query.where(entries.c.recorded_at <= bound)
        if upto is not None:
            query = query.where(entries.c.seq <= min(upto, MAX_SEQ))
        return query

    def _entries(self, conn: Connection, query: sa.Select[Any]) -> list[Entry]:
        return read_entries(conn, query)


def _forecast_info(row: dict[str, Any]) -> ForecastInfo:
    return ForecastInfo(**{k: row[k] for k in ForecastInfo.__dataclass_fields__})


def open_store(
    db: str | Path = DEFAULT_DB,
    *,
    create: bool = False,
    clock: Callable[[], dt.datetime] | None = None,
) -> Store:
    """Open the ledger at ``db``; see :meth:`Store.open`."""
    return Store.open(db, create=create, clock=clock)


def read_entries(conn: Connection, query: sa.Select[Any]) -> list[Entry]:
    """The entries ``query`` (a SELECT of the entries' columns) finds, with their counts,
    in entry order."""
    rows = conn.execute(query.order_by(sa.column("seq"))).mappings().all()
    if not rows:
        return []
    lo, hi = rows[0]["seq"], rows[-1]["seq"]
    counts: dict[int, list[CountValue]] = {}
    for c in conn.execute(
        sa.text(
            "SELECT seq, category, count, low, high FROM entry_counts "
            "WHERE seq >= :lo AND seq <= :hi ORDER BY seq, position"
        ),
        {"lo": lo, "hi": hi},
    ).mappings():
        counts.setdefault(c["seq"], []).append(
            CountValue.model_construct(
                category=c["category"], count=c["count"], low=c["low"], high=c["high"]
            )
        )
    return [_entry_from_row(r, counts.get(r["seq"], [])) for r in rows]


def _gap(first: int, last: int, what: str = "entry") -> str:
    """``entry 20 is missing`` / ``entries 47-49 are missing``."""
    if first == last:
        return f"{what} {first} is missing"
    return f"{'entries' if what == 'entry' else what + 'es'} {first}-{last} are missing"


def _spans(numbers: Iterable[int]) -> str:
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans(sorted(numbers)))


def _check_sqlite_file(path: Path) -> None:
    """Refuse a file that exists and is not a SQLite database (before SQLite opens it)."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder; give the path of a ledger file")
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    if head and head != SQLITE_HEADER:
        raise StoreError(
            f"{path} is not a SQLite database (it does not start with the SQLite header); "
            "give the path of a ledger file, or a new path for `ceasefire monitor init`"
        )


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


def _unusable(exc: DatabaseError, store: Store) -> StoreError:
    text = _first_line(exc)
    if "not a database" in text:
        return StoreError(f"{store.url.database} is not a SQLite database ({text})")
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
