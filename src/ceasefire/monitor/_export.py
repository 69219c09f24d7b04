"""Exports of the ledger: CSV, JSON or Parquet, each naming the snapshot it was taken from.

By default an export holds the observations as known at a time (the current version
of each, retracted ones left out), one row per observation and category. With
``full=True`` it holds every entry of the log instead (records, corrections and
retractions). Every row carries the ledger snapshot (last entry number and chain
hash); JSON has it at the top and Parquet in the file's metadata too. In CSV and
Parquet, text a spreadsheet would run as a formula starts with ``'`` (see
``ceasefire.outputs.safe_cell``); JSON holds the text as recorded. The file is
written to a temporary path beside the target and renamed into place. The same
snapshot always gives the same bytes. JSON and Parquet also hold the ledger's anchor
(see ``_model.Anchor``), which ``monitor verify --against FILE`` reads back.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..outputs import safe_cell
from ..outputs import strict_json_dumps as dumps
from ._errors import refuse
from ._model import Anchor, Entry, Snapshot

FORMATS = ("csv", "json", "parquet")
COLUMNS = (
    "id",
    "date",
    "day",
    "phase",
    "flow",
    "from_party",
    "to_party",
    "category",
    "count",
    "count_low",
    "count_high",
    "channel",
    "credited_on",
    "source",
    "source_date",
    "source_links",
    "source_kind",
    "reliability",
    "note",
    "entry",
    "action",
    "supersedes",
    "reason",
    "recorded_at",
    "content_hash",
    "snapshot_seq",
    "snapshot_hash",
)


def rows(entries: Sequence[Entry], snapshot: Snapshot) -> list[dict[str, Any]]:
    """One flat row per entry and category (an entry without counts gives one row)."""
    out: list[dict[str, Any]] = []
    for e in entries:
        base: dict[str, Any] = dict.fromkeys(COLUMNS)
        base.update(
            {
                "id": e.obs_id,
                "entry": e.seq,
                "action": e.action,
                "supersedes": e.supersedes,
                "reason": e.reason,
                "recorded_at": e.recorded_at,
                "content_hash": e.content_hash,
                "snapshot_seq": snapshot.seq,
                "snapshot_hash": snapshot.chain_hash,
            }
        )
        o = e.observation
        if o is None:
            out.append(base)
            continue
        base.update(
            {
                "date": o.date.isoformat(),
                "day": o.day,
                "phase": o.phase,
                "flow": o.kind,
                "from_party": o.from_party,
                "to_party": o.to_party,
                "channel": o.channel,
                "credited_on": o.credited_on.isoformat() if o.credited_on else None,
                "source": o.source.text,
                "source_date": o.source.published.isoformat() if o.source.published else None,
                "source_links": " ".join(o.source.links),
                "source_kind": o.source.kind,
                "reliability": o.source.reliability,
                "note": o.note,
            }
        )
        if not o.counts:
            out.append(base)
        for c in o.counts:
            out.append(
                {
                    **base,
                    "category": c.category,
                    "count": c.count,
                    "count_low": c.low,
                    "count_high": c.high,
                }
            )
    return out


def to_csv(entries: Sequence[Entry], snapshot: Snapshot) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows(entries, snapshot):
        writer.writerow({k: "" if v is None else safe_cell(v) for k, v in row.items()})
    return buffer.getvalue().encode("utf-8")


def to_json(
    entries: Sequence[Entry],
    snapshot: Snapshot,
    *,
    as_of: str | None,
    full: bool,
    anchor: Anchor | None = None,
) -> bytes:
    document: dict[str, Any] = {"anchor": anchor.text()} if anchor is not None else {}
    document |= {
        "snapshot": snapshot.to_dict(),
        "as_of": as_of,
        "content": "every entry of the log" if full else "current observations",
        "entries" if full else "observations": [e.to_dict() for e in entries],
    }
    return (dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def to_parquet(
    entries: Sequence[Entry],
    snapshot: Snapshot,
    *,
    as_of: str | None,
    full: bool,
    anchor: Anchor | None = None,
) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ints = {"day", "count", "count_low", "count_high", "entry", "supersedes", "snapshot_seq"}
    schema = pa.schema(
        [pa.field(c, pa.int64() if c in ints else pa.string()) for c in COLUMNS],
        metadata={
            b"ceasefire.snapshot": dumps(snapshot.to_dict()).encode(),
            b"ceasefire.as_of": (as_of or "").encode(),
            b"ceasefire.content": b"entries" if full else b"observations",
            b"ceasefire.anchor": (anchor.text() if anchor is not None else "").encode(),
        },
    )
    data = [{k: safe_cell(v) for k, v in row.items()} for row in rows(entries, snapshot)]
    table = pa.Table.from_pylist(data, schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def export(
    entries: Sequence[Entry],
    snapshot: Snapshot,
    fmt: str,
    *,
    as_of: str | None = None,
    full: bool = False,
    anchor: Anchor | None = None,
) -> bytes:
    if fmt == "csv":
        return to_csv(entries, snapshot)
    if fmt == "json":
        return to_json(entries, snapshot, as_of=as_of, full=full, anchor=anchor)
    if fmt == "parquet":
        return to_parquet(entries, snapshot, as_of=as_of, full=full, anchor=anchor)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def write_atomic(target: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``target``, then rename it into place."""
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return path


MAX_ANCHOR_FILE = 64 * 1024 * 1024


def read_anchor(given: str) -> Anchor:
    """The anchor ``given`` names: written out (``SEQ:HASH[/BATCH:HASH]``, or a snapshot
    as the monitor prints it), or a file holding one: saved ``monitor verify`` output,
    an anchor file, or an export (JSON, CSV or Parquet)."""
    found = Anchor.find(given)
    if found is not None:
        return found
    path = Path(given)
    if not path.is_file():
        if ":" in given or "sha256" in given:
            raise refuse(
                "anchor",
                "--against",
                f"{given!r} is not an anchor; write it as SEQ:sha256:HASH[/BATCH:sha256:HASH] "
                "as `monitor verify` prints it, or give a file holding one",
            )
        raise refuse("anchor", given, "no such file; give an anchor or a file holding one")
    try:
        if path.stat().st_size > MAX_ANCHOR_FILE:
            raise refuse("anchor", given, "larger than 64 MiB; give the anchor or an export")
        raw = path.read_bytes()
    except OSError as exc:
        raise refuse("anchor", given, f"cannot read the file: {exc.strerror}") from None
    anchor = _from_parquet(raw) if raw.startswith(b"PAR1") else _from_text(raw)
    if anchor is None:
        raise refuse(
            "anchor",
            given,
            "holds no anchor: give saved `monitor verify` output, an anchor "
            "(SEQ:sha256:HASH[/BATCH:sha256:HASH]) or a ledger export",
        )
    return anchor


def _from_parquet(raw: bytes) -> Anchor | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(pa.BufferReader(raw)).metadata or {}
    except (pa.ArrowException, OSError):
        return None
    for key in (b"ceasefire.anchor", b"ceasefire.snapshot"):
        value = meta.get(key, b"").decode("utf-8", "replace")
        if key == b"ceasefire.snapshot" and value:
            try:
                snap = json.loads(value)
                return Anchor(int(snap["seq"]), str(snap["chain_hash"]))
            except (ValueError, KeyError, TypeError):
                return None
        if value and (found := Anchor.find(value)) is not None:
            return found
    return None


def _from_text(raw: bytes) -> Anchor | None:
    text = raw.decode("utf-8", "replace")
    found = Anchor.find(text)
    if found is not None:
        return found
    # A CSV export: every row names the snapshot it was taken from.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            seq, head = row.get("snapshot_seq"), row.get("snapshot_hash")
            if seq and head:
                return Anchor.find(f"{seq.lstrip(chr(39))}:{head.lstrip(chr(39))}")
            break
    except csv.Error:
        return None
    return None
