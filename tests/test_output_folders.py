"""--out folders: a user's own files are never replaced without --force, links are
followed, staging left by a killed run is cleaned, permissions follow the umask."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_cli import cli

from conftest import NOV2023


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_folder_with_other_files_is_refused_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "work"
    out.mkdir()
    (out / "thesis.txt").write_text("two years of notes", encoding="utf-8")
    for command in (
        ["run", str(NOV2023)],
        ["ensemble", str(NOV2023), "-n", "10"],
        ["compare", str(NOV2023), str(NOV2023), "-n", "10"],
    ):
        refused = cli(*command, "--out", str(out))
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "Traceback" not in refused.stderr
        assert "thesis.txt" in refused.stderr and "--force" in refused.stderr
        assert (out / "thesis.txt").read_text(encoding="utf-8") == "two years of notes"
        assert _hidden(tmp_path) == []
    forced = cli("run", str(NOV2023), "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "ledger.csv",
        "report.html",
        "summary.json",
        "transcript.jsonl",
    ]
    # Outputs of an earlier run are replaced without asking.
    again = cli("ensemble", str(NOV2023), "-n", "10", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert (out / "episodes.parquet").is_file() and not (out / "ledger.csv").exists()
    assert _hidden(tmp_path) == []


def test_a_link_to_a_folder_is_followed_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    for _ in range(2):
        result = cli("run", str(NOV2023), "--out", str(link))
        assert result.returncode == 0, result.stderr
    assert link.is_symlink() and (real / "summary.json").is_file()
    assert _hidden(tmp_path) == []


def test_staging_left_by_a_killed_run_is_cleaned_by_the_next(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".out.ceasefire-{dead.pid}-abcd1234"
    stale_old = tmp_path / f".other.old.ceasefire-{dead.pid}-efgh5678"
    live = tmp_path / f".out.ceasefire-{os.getpid()}-live0000"
    for folder in (stale, stale_old, live):
        folder.mkdir()
        (folder / "summary.json").write_text("{}", encoding="utf-8")
    result = cli("run", str(NOV2023), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert _hidden(tmp_path) == [live.name]


def test_the_folder_gets_the_users_umask(tmp_path: Path) -> None:
    for mask, mode in ((0o022, 0o755), (0o027, 0o750)):
        out = tmp_path / f"out{mask:o}"
        subprocess.run(
            [sys.executable, "-m", "ceasefire", "run", str(NOV2023), "--out", str(out)],
            check=True,
            capture_output=True,
            timeout=120,
            preexec_fn=lambda mask=mask: os.umask(mask),  # type: ignore[misc]
        )
        assert out.stat().st_mode & 0o777 == mode


@pytest.mark.parametrize("delay", [0.0, 4.0], ids=["while-loading", "while-running"])
def test_sigterm_during_an_ensemble_leaves_nothing(tmp_path: Path, delay: float) -> None:
    out = tmp_path / "ens"
    options = ["-n", "200000000", "--batch-size", "1000", "--quiet", "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ceasefire", "ensemble", str(NOV2023), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _signal_and_check(proc, tmp_path, delay)
    finally:
        if proc.poll() is None:  # a failed check leaves no ensemble running on
            proc.kill()
            proc.communicate()
    assert _hidden(tmp_path) == [] and not out.exists()


def _signal_and_check(proc: subprocess.Popen[bytes], tmp_path: Path, delay: float) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _hidden(tmp_path) and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    assert _hidden(tmp_path), "the ensemble never started writing"
    # At once, the signal usually lands while numba loads the kernel from its disk cache
    # (about 1.5 s), inside a C callback that drops the handler's exception: the command
    # must still end at the next batch. After 4 s it lands in the running ensemble.
    time.sleep(delay)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert b"Traceback" not in stderr, stderr
    assert b"Exception ignored" not in stderr, stderr
