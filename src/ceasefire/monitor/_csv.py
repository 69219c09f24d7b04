"""Bulk import of observations from a CSV file: all rows or none.

The whole file is read and checked first: encoding (UTF-8), the header (required
columns present, no unknown or repeated column), then every row (dates, counts in
ASCII digits, categories, kinds, source kinds, grades, ids, no control characters).
Every problem is reported with the file, line, column and field, and what would be
right; if there is any, nothing is written. Otherwise all rows are recorded in one
transaction, so an interrupted import (even a killed process) leaves the ledger
exactly as it was.

The file is streamed, never held whole: read line by line, a slice of rows at a time
(``SLICE`` rows), once to check it and twice more inside the write transaction (to
find the rows the ledger holds, then to write the others; see
``Store.record_stream``). Memory stays flat whatever the number of rows.

The columns are those of the November 2023 record (``examples/nov2023``):
``date, day, phase, flow, from_party, to_party, category, count, channel, source,
source_kind, note``; optional: ``id, count_low, count_high, reliability,
source_date, credited_on``. One row is one observation with one count. A row with
``channel = side_channel_credited_to_deal`` and no ``credited_on`` counts toward
the deal's quota of the next day, as that record defines the channel.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..scenario import Problem
from ._errors import MonitorError, refuse
from ._model import (
    KINDS,
    OBS_ID,
    RELIABILITY,
    SOURCE_KINDS,
    CategoryDef,
    Observation,
    Snapshot,
    Source,
    observation_key,
)
from ._store import MAX_PROBLEMS, Store, unknown_category

REQUIRED = (
    "date",
    "flow",
    "from_party",
    "to_party",
    "category",
    "count",
    "channel",
    "source",
    "source_kind",
)
OPTIONAL = (
    "day",
    "phase",
    "note",
    "id",
    "count_low",
    "count_high",
    "reliability",
    "source_date",
    "credited_on",
)
COLUMNS = REQUIRED + OPTIONAL
CREDITED_NEXT_DAY = "side_channel_credited_to_deal"
MAX_BYTES = 64 * 1024 * 1024
MAX_ROWS = 1_000_000
SLICE = 1000
_INT = re.compile(r"^[+-]?[0-9]+$")
# C0 controls, DEL and C1 controls, line and paragraph separators, bidirectional
# embeddings, overrides and isolates; free text (note, source) may hold tabs and
# line breaks.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_TEXT_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_FREE_TEXT = ("note", "source")
_ID = re.compile(OBS_ID)
WHAT = "import"


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the rows read, the entries made (their numbers), and the
    rows skipped because the ledger already held them (``held`` of them: their lines
    and the entries holding them, each as spans ``(first, last)``)."""

    file: str
    file_sha256: str
    rows: int
    entries: range
    held: int
    held_lines: list[tuple[int, int]]
    held_entries: list[tuple[int, int]]
    after: Snapshot
    seconds: float


def read_observations(
    path: str | Path, known: dict[str, CategoryDef]
) -> tuple[list[Observation], list[int], str]:
    """Read and check every row of the CSV at ``path``; returns the observations and
    the file's SHA-256. Raises :class:`MonitorError` listing every problem."""
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise refuse(WHAT, name, "not a file; give the path of a .csv file")
        if size > MAX_BYTES:
            raise refuse(WHAT, name, f"the file is {size:,} bytes; the limit is {MAX_BYTES:,}")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise refuse(WHAT, name, "no such file; check the path") from None
    except OSError as exc:
        raise refuse(WHAT, name, f"cannot read the file: {exc.strerror}") from None
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    text = _decode(raw, name)
    observations, lines = parse_rows(text, name, known)
    return observations, lines, digest


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise MonitorError(
            WHAT,
            [
                Problem(
                    name,
                    line,
                    column,
                    "",
                    f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded "
                    "(the file may be in Latin-1 or Windows-1252); save it as UTF-8",
                )
            ],
        ) from None


def parse_rows(
    text: str, name: str, known: dict[str, CategoryDef]
) -> tuple[list[Observation], list[int]]:
    """Check every row; returns the observations and the line each starts on."""
    problems: list[Problem] = []
    observations: list[Observation] = []
    lines: list[int] = []
    for line, obs in iter_rows(io.StringIO(text, newline=""), name, known, problems, seen_ids={}):
        observations.append(obs)
        lines.append(line)
    if problems:
        raise MonitorError(WHAT, problems)
    if not observations:
        raise MonitorError(WHAT, [Problem(name, 2, None, "", "no rows to import")])
    return observations, lines


def iter_rows(
    text: Iterator[str] | io.StringIO,
    name: str,
    known: dict[str, CategoryDef],
    problems: list[Problem],
    seen_ids: dict[str, int] | None = None,
) -> Iterator[tuple[int, Observation]]:
    """Check the header, then yield (line, observation) for each good row; the
    problems found go to ``problems`` (the first ``MAX_PROBLEMS``; then one more that
    says so). A header that cannot be used raises :class:`MonitorError` at once.
    ``seen_ids`` (when given) finds ids repeated in the file."""
    reader = csv.reader(text, strict=True)
    columns = _header(reader, name)
    index = {c: i for i, c in enumerate(columns)}
    rows = 0
    bad = 0
    line = 1
    while True:
        start = line + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(name, reader.line_num, None, "", f"not valid CSV: {exc}"))
            break
        line = reader.line_num
        if not values or all(not v.strip() for v in values):
            continue
        rows += 1
        if rows > MAX_ROWS:
            problems.append(Problem(name, start, None, "", f"more than {MAX_ROWS:,} rows"))
            break
        found: list[Problem] = []
        if len(values) != len(columns):
            found.append(
                Problem(
                    name,
                    start,
                    None,
                    "",
                    f"{len(values)} values for {len(columns)} columns; "
                    "quote any value that holds a comma",
                )
            )
            obs = None
        else:
            obs = _Row(name, start, values, index, found).observation(known, seen_ids)
        if found:
            bad += 1
            room = MAX_PROBLEMS - len(problems)
            if room > 0:
                problems += found[:room]
            elif room == 0:
                problems.append(Problem(name, start, None, "", "more problems follow (not listed)"))
        elif obs is not None:
            yield start, obs


def _header(reader: Any, name: str) -> list[str]:
    problems: list[Problem] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise MonitorError(WHAT, [Problem(name, 1, None, "", f"not valid CSV: {exc}")]) from None
    if header is None or not any(h.strip() for h in header):
        raise MonitorError(
            WHAT,
            [
                Problem(
                    name,
                    1,
                    None,
                    "",
                    f"the file is empty; the first line names the columns: {', '.join(REQUIRED)}",
                )
            ],
        )
    columns = [h.strip() for h in header]
    for i, col in enumerate(columns, start=1):
        if col not in COLUMNS:
            close = difflib.get_close_matches(col, COLUMNS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                Problem(
                    name,
                    1,
                    i,
                    col,
                    f"unknown column {col!r}{hint}; the columns are "
                    f"{', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}",
                )
            )
        elif columns.index(col) != i - 1:
            problems.append(Problem(name, 1, i, col, f"column {col!r} is given twice"))
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        problems.append(
            Problem(
                name,
                1,
                None,
                "",
                f"missing column{'s' if len(missing) > 1 else ''}: "
                f"{', '.join(missing)}; the first line must name {', '.join(REQUIRED)}",
            )
        )
    if problems:
        raise MonitorError(WHAT, problems)
    return columns


class _Row:
    def __init__(
        self,
        name: str,
        line: int,
        values: list[str],
        index: dict[str, int],
        problems: list[Problem],
    ) -> None:
        self.name = name
        self.line = line
        self.values = values
        self.index = index
        self.problems = problems
        self.ok = True

    def get(self, column: str) -> str:
        i = self.index.get(column)
        return self.values[i].strip() if i is not None else ""

    def raw(self, column: str) -> str:
        i = self.index.get(column)
        return self.values[i] if i is not None else ""

    def fail(self, column: str, message: str) -> None:
        i = self.index.get(column)
        self.problems.append(
            Problem(self.name, self.line, None if i is None else i + 1, column, message)
        )
        self.ok = False

    def date(self, column: str, required: bool) -> dt.date | None:
        text = self.get(column)
        if not text:
            if required:
                self.fail(column, "a date is required (YYYY-MM-DD)")
            return None
        try:
            if len(text) != 10:
                raise ValueError
            return dt.date.fromisoformat(text)
        except ValueError:
            self.fail(column, f"{text!r} is not a calendar date; write it as YYYY-MM-DD")
            return None

    def count(self, column: str, required: bool) -> int | None:
        text = self.get(column)
        if not text:
            if required:
                self.fail(column, "a count is required (a whole number, 0 or more)")
            return None
        if not _INT.match(text):
            digits = "" if text.isascii() else " in ASCII digits (0-9)"
            self.fail(
                column,
                f"{text!r} is not a whole number{digits}; counts are integers (0 or more)",
            )
            return None
        value = int(text)
        if value < 0:
            self.fail(column, f"negative count {value}; counts are 0 or more")
            return None
        return value

    def choice(self, column: str, allowed: tuple[str, ...] | list[str], default: str = "") -> str:
        text = self.get(column) or default
        if text not in allowed:
            close = difflib.get_close_matches(text, list(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            shown = repr(text) if text else "nothing"
            self.fail(column, f"{shown} is not allowed{hint}; use one of: {', '.join(allowed)}")
        return text

    def controls(self) -> None:
        """Refuse control characters (a NUL, an escape sequence, a bidirectional
        override) in every value; free text may hold tabs and line breaks."""
        for column, i in self.index.items():
            pattern = _TEXT_CONTROL if column in _FREE_TEXT else _CONTROL
            found = pattern.search(self.values[i])
            if found is not None:
                code = ord(found.group())
                shown = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
                self.fail(
                    column,
                    f"control character {shown} at character {found.start() + 1}; "
                    "a value holds printable text only",
                )

    def observation(
        self, known: dict[str, CategoryDef], seen_ids: dict[str, int] | None
    ) -> Observation | None:
        self.controls()
        when = self.date("date", required=True)
        kind = self.choice("flow", KINDS)
        category = self.get("category")
        if category not in known:
            self.fail("category", unknown_category(category, known))
        count = self.count("count", required=True)
        low = self.count("count_low", required=False)
        high = self.count("count_high", required=False)
        if count is not None and category in known and known[category].unit == "none" and count:
            self.fail("count", f"category {category!r} counts nothing (an event); use 0")
        if count is not None and low is not None and low > count:
            self.fail("count_low", f"count_low {low} is above count {count}")
        if count is not None and high is not None and high < count:
            self.fail("count_high", f"count_high {high} is below count {count}")
        source_kind = self.choice("source_kind", tuple(SOURCE_KINDS))
        reliability = self.choice("reliability", tuple(RELIABILITY), default="F")
        source_text = self.get("source")
        if not source_text:
            self.fail("source", "every observation needs its source (publication, date, link)")
        published = self.date("source_date", required=False)
        credited = self.date("credited_on", required=False)
        channel = self.get("channel")
        if credited is None and channel == CREDITED_NEXT_DAY and when is not None:
            if when == dt.date.max:
                self.fail(
                    "date",
                    f"{when} is the calendar's last day: a {CREDITED_NEXT_DAY} row counts "
                    "toward the next day, which does not exist; give credited_on",
                )
            else:
                credited = when + dt.timedelta(days=1)
        day_text = self.get("day")
        day: int | None = None
        if day_text:
            if _INT.match(day_text) and int(day_text) >= 0:
                day = int(day_text)
            else:
                self.fail("day", f"{day_text!r} is not a day number (a whole number, 0 or more)")
        obs_id = self.get("id") or None
        if obs_id is not None:
            if not _ID.match(obs_id):
                self.fail(
                    "id",
                    f"{obs_id!r} is not a usable id: letters, digits and . _ : - "
                    "(up to 64, starting with a letter or digit)",
                )
            elif seen_ids is None:
                pass  # the store finds the ids repeated (Store.record_stream)
            elif obs_id in seen_ids:
                self.fail(
                    "id", f"duplicate id {obs_id!r}; it is already on line {seen_ids[obs_id]}"
                )
            else:
                seen_ids[obs_id] = self.line
        for column, limit in (
            ("from_party", 200),
            ("to_party", 200),
            ("channel", 64),
            ("phase", 64),
            ("note", 4000),
            ("source", 4000),
        ):
            if len(self.get(column)) > limit:
                self.fail(column, f"longer than {limit} characters")
        if not self.ok or when is None or count is None:
            return None
        data: dict[str, Any] = {
            "id": obs_id,
            "date": when,
            "kind": kind,
            "from_party": self.get("from_party"),
            "to_party": self.get("to_party"),
            "channel": channel,
            "counts": [{"category": category, "count": count, "low": low, "high": high}],
            "credited_on": credited,
            "day": day,
            "phase": self.get("phase") or None,
            "note": self.get("note"),
        }
        try:
            data["source"] = Source.from_text(
                source_text, source_kind, reliability, published=published
            )
            return Observation.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                field = ".".join(str(p) for p in error["loc"])
                self.fail(_column_of(field), str(error["msg"]))
            return None


def _column_of(field: str) -> str:
    head = field.split(".")[0]
    return {"kind": "flow", "counts": "count", "date": "date"}.get(head, head)


def repeated_rows(observations: list[Observation], lines: list[int], name: str) -> list[Problem]:
    """A problem for each row that says what an earlier row of the file says."""
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for o, line in zip(observations, lines, strict=True):
        key = observation_key(o)
        if key in first:
            problems.append(
                Problem(
                    name,
                    line,
                    None,
                    "",
                    f"repeats line {first[key]} (same date, flow, parties, channel, "
                    "category, count, source and note); a file lists each observation "
                    "once. If both happened, tell them apart in the note, or import with "
                    "--allow-duplicates",
                )
            )
        else:
            first[key] = line
    return problems


def import_csv(
    store: Store,
    path: str | Path,
    *,
    allow_duplicates: bool = False,
    on_row: Callable[[int], None] | None = None,
) -> ImportResult:
    """Check every row of the CSV at ``path``, then record them in one transaction.

    Imports are idempotent: a row that repeats an earlier row of the file is refused,
    and a row the ledger already holds (see ``Store.record_new``) is skipped, so that
    importing a file twice, or a file that extends one imported before, records each
    observation once. ``allow_duplicates`` records every row as it is. The file is
    streamed in slices (see the module's notes): memory does not grow with its rows."""
    started = time.perf_counter()
    name = str(path)
    file = _CsvFile(Path(path), store.categories())
    rows, digest = file.check()
    columns = file.columns
    recorded = store.record_stream(
        lambda: file.slices(digest),
        origin="import",
        description=f"import of {Path(path).name}",
        file_name=Path(path).name,
        file_sha256=digest,
        skip_held=not allow_duplicates,
        where=name,
        id_column=columns.index("id") + 1 if "id" in columns else None,
        on_row=on_row,
    )
    return ImportResult(
        file=name,
        file_sha256=digest,
        rows=rows,
        entries=range(recorded.first, recorded.last + 1) if recorded.made else range(0),
        held=recorded.held[0],
        held_lines=recorded.held[1],
        held_entries=recorded.held[2],
        after=store.snapshot(),
        seconds=time.perf_counter() - started,
    )


class _CsvFile:
    """A CSV file read as a stream of lines: checked once, then read in slices."""

    def __init__(self, path: Path, known: dict[str, CategoryDef]) -> None:
        self.path = path
        self.name = str(path)
        self.known = known
        self.columns: list[str] = []

    def _open(self) -> Any:
        try:
            if not self.path.is_file():
                if self.path.exists():
                    raise refuse(WHAT, self.name, "not a file; give the path of a .csv file")
                raise FileNotFoundError
            size = self.path.stat().st_size
            if size > MAX_BYTES:
                raise refuse(
                    WHAT, self.name, f"the file is {size:,} bytes; the limit is {MAX_BYTES:,}"
                )
            return self.path.open("rb")
        except FileNotFoundError:
            raise refuse(WHAT, self.name, "no such file; check the path") from None
        except OSError as exc:
            raise refuse(WHAT, self.name, f"cannot read the file: {exc.strerror}") from None

    def _lines(self, raw: Any, sha: Any) -> Iterator[str]:
        """The file's lines as text (line breaks kept), each checked as UTF-8."""
        for number, line in enumerate(raw, start=1):
            data: bytes = line
            sha.update(data)
            if number == 1 and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            try:
                yield data.decode("utf-8")
            except UnicodeDecodeError as exc:
                column = len(data[: exc.start].decode("utf-8", "replace")) + 1
                raise MonitorError(
                    WHAT,
                    [
                        Problem(
                            self.name,
                            number,
                            column,
                            "",
                            f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded "
                            "(the file may be in Latin-1 or Windows-1252); save it as UTF-8",
                        )
                    ],
                ) from None

    def check(self) -> tuple[int, str]:
        """Read and check every row; returns the number of rows and the file's SHA-256."""
        problems: list[Problem] = []
        sha = hashlib.sha256()
        rows = 0
        with self._open() as raw:
            lines = self._lines(raw, sha)
            for _ in iter_rows(lines, self.name, self.known, problems):
                rows += 1
            for _ in lines:  # the rest of the file (after too many rows), for the digest
                pass
            self.columns = [c.strip() for c in next(csv.reader([_first_line(self.path)]))]
        if problems:
            raise MonitorError(WHAT, problems)
        if rows == 0:
            raise MonitorError(WHAT, [Problem(self.name, 2, None, "", "no rows to import")])
        return rows, "sha256:" + sha.hexdigest()

    def slices(self, digest: str) -> Iterator[list[tuple[int, Observation]]]:
        """The rows again, ``SLICE`` at a time; refused if the file changed since."""
        problems: list[Problem] = []
        sha = hashlib.sha256()
        with self._open() as raw:
            lines = self._lines(raw, sha)
            piece: list[tuple[int, Observation]] = []
            for row in iter_rows(lines, self.name, self.known, problems):
                piece.append(row)
                if len(piece) == SLICE:
                    yield piece
                    piece = []
            for _ in lines:
                pass
            if piece:
                yield piece
        if problems or "sha256:" + sha.hexdigest() != digest:
            raise refuse(WHAT, self.name, "the file changed while it was imported; try again")


def _first_line(path: Path) -> str:
    with path.open("rb") as file:
        return file.readline().decode("utf-8", "replace").lstrip("\ufeff")
