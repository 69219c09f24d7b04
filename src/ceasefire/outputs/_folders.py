"""Output folders written all or nothing, never over a user's own files.

Every file of a folder is written into a hidden staging folder beside it
(``.NAME.ceasefire-PID-XXXXXXXX``), then the staging folder is renamed into place, so a
failed or interrupted run never leaves a half-written folder. The rules:

- A folder that exists is replaced only if every entry in it is a file ceasefire
  writes (:data:`OUR_FILES`: a previous run's outputs) or it is empty; a folder that
  holds anything else (``thesis.txt``) is refused unless ``force``.
- A symbolic link to a folder is followed: the folder it points to is replaced, the
  link is kept.
- Staging folders left by a process that was killed (SIGKILL, a power cut) are
  removed by the next write beside them: their names carry the writer's process id.
- The folder written gets the permissions the user's umask gives a new folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

# Every file name an output folder of ours holds (run, ensemble, compare, sensitivity).
OUR_FILES = frozenset(
    {
        "transcript.jsonl",
        "ledger.csv",
        "summary.json",
        "report.html",
        "episodes.parquet",
        "episodes.csv",
        "offers.csv",
        "offers.parquet",
    }
)
_TAG = "ceasefire"


class OutputFolderError(Exception):
    """An output folder that cannot be written as asked (the message says why)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_staging(target: Path) -> list[Path]:
    """Remove the staging folders beside ``target`` (of any output folder there) whose
    writer is no longer running; returns those removed."""
    pattern = re.compile(rf"^\..+\.(?:old\.)?{_TAG}-(\d+)-[^/]+$")
    removed: list[Path] = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        if entry.is_symlink():
            entry.unlink(missing_ok=True)
        else:
            shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _resolve(target: Path) -> Path:
    if target.is_symlink():
        real = target.resolve()
        if real.is_dir():
            return real
    return target


def _check_replaceable(target: Path, force: bool) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputFolderError(
            f"{target} exists and is not a folder; give the path of a folder (new or "
            "holding earlier outputs)"
        )
    if force:
        return
    foreign = sorted(p.name for p in target.iterdir() if p.name not in OUR_FILES or not p.is_file())
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise OutputFolderError(
            f"{target} holds files that ceasefire did not write ({shown}); it would be "
            "replaced whole. Choose a new folder, or pass --force to replace it"
        )


def check_output_folder(target: str | Path, *, force: bool = False) -> None:
    """Raise :class:`OutputFolderError` now if ``target`` could not be written (before
    a long computation whose results would go there)."""
    _check_replaceable(_resolve(Path(target)), force)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class StagedFolder:
    """A folder written all or nothing (use as a context manager, then :meth:`commit`)."""

    def __init__(self, target: str | Path, *, force: bool = False) -> None:
        self.target = _resolve(Path(target))
        _check_replaceable(self.target, force)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_staging(self.target)
        self.staging = Path(
            tempfile.mkdtemp(
                prefix=f".{self.target.name}.{_TAG}-{os.getpid()}-", dir=self.target.parent
            )
        )
        self._closers: list[Callable[[], None]] = []
        self.committed = False

    def __enter__(self) -> StagedFolder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if not self.committed:
            self.abort()

    def path(self, name: str) -> Path:
        return self.staging / name

    def on_close(self, close: Callable[[], None]) -> None:
        """Call ``close`` before the folder is committed or removed (open writers)."""
        self._closers.append(close)

    def _close(self) -> None:
        closers, self._closers = self._closers, []
        for close in closers:
            close()

    def write_text(self, name: str, text: str) -> None:
        with open(self.staging / name, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    def commit(self) -> Path:
        self._close()
        for entry in self.staging.iterdir():
            with open(entry, "rb") as handle:
                os.fsync(handle.fileno())
        self.staging.chmod(0o777 & ~_umask())
        _swap_into_place(self.staging, self.target)
        self.committed = True
        return self.target

    def abort(self) -> None:
        try:
            self._close()
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)


def _swap_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        staging.rename(target)
        return
    old = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.old.{_TAG}-{os.getpid()}-", dir=target.parent)
    )
    old.rmdir()
    target.rename(old)
    try:
        staging.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
