"""The `processes` backend spreads batches over local worker processes and gives the local
backend's results byte for byte."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ceasefire.ensemble import run_ensemble
from ceasefire.ensemble._backend import ProcessBackend, get_backend
from ceasefire.scenario import load_scenario

from conftest import NOV2023

FIELDS = (
    "priors",
    "pause_days",
    "extensions",
    "released",
    "side_channel",
    "end_reason",
    "end_day",
    "ended_by",
    "pause_start_day",
    "pause_end_day",
    "breaches",
    "delays",
)


def test_processes_give_the_local_results_byte_for_byte() -> None:
    scenario = load_scenario(NOV2023)
    local = run_ensemble(scenario, 3_001, seed=5, batch_size=317)
    spread = run_ensemble(
        scenario, 3_001, seed=5, batch_size=317, backend=ProcessBackend(workers=2)
    )
    for field in FIELDS:
        a, b = getattr(local, field), getattr(spread, field)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), field


def test_processes_is_a_named_backend() -> None:
    assert isinstance(get_backend("processes"), ProcessBackend)
    assert np.isscalar(ProcessBackend().workers)


# ---------------------------------------------------------------------------
# Workers die with their parent (issue 13, item 7: they were left running, parent PID 1,
# about 125 MB each, when the parent was killed)

PROC = Path("/proc")


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent PID, start time) of a process, from /proc; None once it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def _children(pid: int) -> dict[int, int]:
    """The processes whose parent is ``pid``: {PID: start time}."""
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid:
                found[int(entry.name)] = stat[2]
    return found


def _alive(pid: int, started: int) -> bool:
    """The same process (not a reused PID) still runs (a zombie has ended: nothing reaps
    orphans in some containers)."""
    stat = _stat(pid)
    return stat is not None and stat[2] == started and stat[0] not in ("Z", "X")


def _is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return False


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.skipif(not (PROC / "self" / "stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one CPU: no worker processes")
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_workers_die_with_their_parent(signum: int) -> None:
    command = [sys.executable, "-m", "ceasefire", "ensemble", str(NOV2023)]
    command += ["-n", "100000000", "--batch-size", "2000", "--quiet", "--backend", "processes"]
    parent = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: dict[int, int] = {}
    try:

        def workers_started() -> bool:
            children.update(_children(parent.pid))
            return sum(map(_is_worker, children)) >= 2

        assert _wait(workers_started, 120), "the workers did not start"
        assert parent.poll() is None
        os.kill(parent.pid, signum)
        parent.wait(timeout=120)
        # Every child: the workers and multiprocessing's resource tracker.
        assert _wait(lambda: not any(_alive(*c) for c in children.items()), 60), [
            pid for pid, started in children.items() if _alive(pid, started)
        ]
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid, started in children.items():  # only the processes this test started
            if _alive(pid, started):
                os.kill(pid, signal.SIGKILL)
