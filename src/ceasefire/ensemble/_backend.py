"""Where an ensemble's batches run: in this process, or spread over a Ray cluster.

An ensemble is cut into batches of episodes ``first..first+count-1``; a batch depends only
on the scenario, the seed and its range, so batches can run anywhere, in any order, and
be put back together in order. A backend maps a *batch function*, a picklable callable
``fn(first, count) -> {name: array}`` (for the execution-mode engine:
``functools.partial(_run_batch, plan, seed)``), over the batches' ranges and gives the
results back in batch order:

- ``local`` (the default): one batch after the other in this process; needs nothing
  beyond the package;
- ``processes``: the batches spread over one worker process per CPU of this machine
  (nothing beyond the package either);
- ``ray``: one Ray task per batch on a Ray cluster (the optional extra,
  ``pip install 'ceasefire[ray]'``): the cluster at ``address`` (or ``RAY_ADDRESS``), or,
  with neither, a local one started for the run on this machine's CPUs and stopped
  after it. At most ``2 x`` the cluster's CPUs batches are in flight, so memory stays
  bounded whatever the number of episodes.

The batch function's result does not depend on where it runs, so the results do not
depend on the backend, on which worker ran which batch, or on the batch size
(``tests/test_ray_backend.py`` compares them byte for byte).

:func:`run_batches` is what an engine calls; :func:`get_backend` turns the user's
``--backend NAME [--address ADDR]`` into a backend. See ``docs/ray.md``.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import importlib
import logging
import os
import pickle
import re
import signal
import socket
import sys
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from multiprocessing.connection import Connection
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from .._version import __version__

BatchResult = dict[str, NDArray[Any]]
"""A batch's rows of each result array, by name."""
BatchFn = Callable[[int, int], Mapping[str, NDArray[Any]]]
"""Episodes ``first..first+count-1`` of an ensemble: ``fn(first, count)`` gives their
rows of each result array. It must be picklable for the ``ray`` backend (a module-level
function, or a ``functools.partial`` of one over picklable arguments)."""
Progress = Callable[[int, int], None]
"""``on_batch(done, total)``: called after each batch, in batch order."""

BACKENDS = ("local", "processes", "ray")
RAY_EXTRA = "pip install 'ceasefire[ray]'"


class BackendError(RuntimeError):
    """A backend cannot run: Ray missing, the cluster unreachable, a worker that differs."""


@runtime_checkable
class Backend(Protocol):
    """Runs batch functions over ranges of episodes."""

    name: str

    def map(self, fn: BatchFn, ranges: Sequence[tuple[int, int]]) -> Iterator[BatchResult]:
        """``fn(first, count)`` for each range, yielded in the order of ``ranges``."""
        ...


class LocalBackend:
    """Every batch in this process, one after the other (the default)."""

    name = "local"

    def map(self, fn: BatchFn, ranges: Sequence[tuple[int, int]]) -> Iterator[BatchResult]:
        for first, count in ranges:
            yield dict(fn(first, count))


PR_SET_PDEATHSIG = 1
"""``prctl`` option (Linux): the signal a process gets when its parent ends."""


def _start_worker(parent: int, lifeline: Connection) -> None:
    """A worker process of :class:`ProcessBackend`: it dies with its parent, and runs the
    compiled kernel on one thread (the workers are the parallelism)."""
    _die_with_parent(parent, lifeline)
    import numba

    numba.set_num_threads(1)


def _die_with_parent(parent: int, lifeline: Connection) -> None:
    """End this process when its parent ends, however it ends (SIGKILL included).

    On Linux the kernel sends SIGKILL the moment the parent ends (``PR_SET_PDEATHSIG``),
    even in the middle of a batch. Everywhere, a watchdog thread waits on ``lifeline``, the
    reading end of a pipe whose only writing end the parent holds: the system closes that
    end when the parent ends (or the parent closes it to stop its workers), and the
    watchdog then ends the process (as soon as the running batch hands back the
    interpreter: the compiled kernel holds it)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog alone
            pass
    if os.getppid() != parent:  # the parent ended before this process could ask
        os._exit(1)
    threading.Thread(
        target=_watch, args=(lifeline,), name="ceasefire-lifeline", daemon=True
    ).start()


def _watch(lifeline: Connection) -> None:
    """Wait until the parent's end of ``lifeline`` closes (nothing is ever sent), then end
    this process at once."""
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv()
    os._exit(1)


class ProcessBackend:
    """Batches spread over worker processes on this machine (``--backend processes``):
    one per CPU by default, at most two batches per worker in flight, results in order.

    The workers die with the process that started them, even when it is killed
    (SIGKILL): on Linux at once, elsewhere once the batch each one runs is done. When the
    consumer stops early (an error, SIGTERM, a generator closed), the batches not started
    are dropped and the workers stop after the batch they run."""

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or _available_cpus()

    def map(self, fn: BatchFn, ranges: Sequence[tuple[int, int]]) -> Iterator[BatchResult]:
        import multiprocessing
        from concurrent.futures import Future, ProcessPoolExecutor

        if self.workers <= 1 or len(ranges) <= 1:
            yield from LocalBackend().map(fn, ranges)
            return
        # Fresh interpreters, not forks: the compiled kernel's thread pool (OpenMP) does
        # not survive a fork. Each worker runs its batches on one thread.
        context = multiprocessing.get_context("spawn")
        # The workers hold the reading end of the lifeline; only this process the writing
        # end (spawned processes inherit no other descriptor).
        lifeline, keep = context.Pipe(duplex=False)
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(os.getpid(), lifeline),
        )
        finished = False
        try:
            pending: deque[Future[Mapping[str, NDArray[Any]]]] = deque()
            todo = iter(ranges)
            for first, count in todo:
                pending.append(pool.submit(fn, first, count))
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                result = pending.popleft().result()
                for first, count in todo:
                    pending.append(pool.submit(fn, first, count))
                    break
                yield dict(result)
            finished = True
        finally:
            if not finished:
                keep.close()  # the workers stop after their batch, whatever is queued
            pool.shutdown(wait=True, cancel_futures=not finished)
            keep.close()
            lifeline.close()


# ---------------------------------------------------------------------------
# Ray


def _import_ray() -> ModuleType:
    try:
        return importlib.import_module("ray")
    except ImportError as exc:
        raise BackendError(
            f"the ray backend needs Ray, which is not installed: {RAY_EXTRA} "
            "(the same version of ceasefire and Ray on every node of the cluster)"
        ) from exc


WorkerInfo = tuple[str, int, str]
"""(host name, process id, ceasefire version) of the process that ran a batch."""


def _worker_info() -> WorkerInfo:
    return (socket.gethostname(), os.getpid(), __version__)


# The batch function a Ray worker last unpickled, by the SHA-256 of its pickle.
_LOADED: dict[bytes, BatchFn] = {}


def _ray_batch(blob: bytes, first: int, count: int) -> tuple[WorkerInfo, dict[str, NDArray[Any]]]:
    """The Ray task: one batch, on whichever worker Ray picks. The batch function comes
    as a pickle (protocol 4) rather than as an object, because Ray gives the arrays of an
    object from its store read-only, and numba compiles the kernel anew (minutes, in
    every worker) for read-only arrays; unpickled here, they are the worker's own."""
    key = hashlib.sha256(blob).digest()
    fn = _LOADED.get(key)
    if fn is None:
        _LOADED.clear()
        try:
            fn = _LOADED[key] = pickle.loads(blob)
        except Exception as exc:  # a module or version this worker does not have
            raise _LoadError(f"{type(exc).__name__}: {exc}") from None
    return _worker_info(), dict(fn(first, count))


class _LoadError(RuntimeError):
    """A Ray worker could not unpickle the batch function (the cluster's fault, not the
    batch's)."""


def check_worker(info: WorkerInfo, version: str = __version__) -> None:
    """Refuse a batch computed by a different version of ceasefire than this one."""
    host, pid, theirs = info
    if theirs != version:
        raise BackendError(
            f"worker {pid} on {host} runs ceasefire {theirs}, this process {version}: "
            "install the same version on every node of the cluster "
            f"(pip install 'ceasefire[ray]=={version}')"
        )


def _available_cpus() -> int:
    """The CPUs this process may use (its affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


PROBE_SECONDS = 5.0


def _probe(address: str) -> None:
    """Fail fast when nothing answers at ``HOST:PORT`` (``ray.init`` would retry for
    minutes); other forms (``auto``, ``ray://...``) are left to Ray."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_SECONDS).close()
    except OSError as exc:
        raise ConnectionError(
            f"nothing answers at {address} ({exc}): is the head node started "
            "(`ray start --head`), is the port right (6379 unless `--port` said otherwise) "
            "and open from this machine?"
        ) from exc


def _connect_error(address: str | None, exc: BaseException) -> str:
    local = address in (None, "local")
    where = "start a local Ray cluster" if local else f"connect to the Ray cluster at {address}"
    reasons = [str(exc) or type(exc).__name__]
    cause = exc.__cause__
    while cause is not None:
        reasons.append(str(cause).strip().splitlines()[-1] if str(cause).strip() else "")
        cause = cause.__cause__
    message = f"could not {where}: " + "; ".join(r for r in reasons if r)
    if local and isinstance(exc, OSError):
        message += (
            " -- a local cluster keeps its files and sockets under RAY_TMPDIR (default: "
            "the system's temporary folder): a writable folder with a short path (a "
            "socket's path is limited to 107 bytes)"
        )
    if any("auth" in r.lower() for r in reasons):
        message += (
            " -- the cluster uses token authentication: set RAY_AUTH_MODE=token here and "
            "give this machine the cluster's token (~/.ray/auth_token, RAY_AUTH_TOKEN or "
            "RAY_AUTH_TOKEN_PATH)"
        )
    return message + " (docs/ray.md, Troubleshooting)"


def _cluster_error(exc: BaseException) -> str:
    lines = [
        line.strip()
        for line in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines()
        if line.strip() and not set(line.strip()) <= {"^", "~"}
    ]
    missing = next((line for line in lines if "No module named" in line), None)
    if missing is not None:
        return (
            f"a Ray worker could not load the batch ({missing}): install the same version "
            f"of ceasefire ({__version__}) on every node of the cluster ({RAY_EXTRA})"
        )
    return f"the Ray cluster could not run a batch: {lines[-1] if lines else type(exc).__name__}"


class RayBackend:
    """One Ray task per batch, at most ``max_in_flight`` at a time, results in order.

    ``address``: a running cluster (``HEAD:6379``; ``auto``: the one started on this
    machine with ``ray start``; ``ray://HEAD:10001``: through Ray Client); ``None`` takes
    ``RAY_ADDRESS`` from the environment, and without it (or with ``local``) starts a new
    local cluster of ``num_cpus`` CPUs (default: the CPUs this process may use). When Ray is
    already initialised in this process (``ray.init`` by the caller), that session is
    used as it is and left running. Otherwise the connection (and a local cluster
    started for it) lasts one :meth:`map`, or, in a ``with RayBackend(...)`` block, the
    whole block. ``workers`` counts the batches each worker process ran.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        num_cpus: int | None = None,
        max_in_flight: int | None = None,
    ) -> None:
        self._ray = _import_ray()
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        if num_cpus is not None and num_cpus < 1:
            raise ValueError("num_cpus must be >= 1")
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError("max_in_flight must be >= 1")
        self.num_cpus = num_cpus
        self.max_in_flight = max_in_flight
        self.workers: Counter[tuple[str, int]] = Counter()
        self._owned = False

    # -- the connection -----------------------------------------------------------

    def open(self) -> None:
        """Connect (or start a local cluster) unless Ray is initialised already."""
        ray = self._ray
        if ray.is_initialized():
            return
        options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
        try:
            if self.address in (None, "local"):
                # A new cluster on this machine, even if one is running here already
                # (``--address auto`` uses that one).
                cpus = self.num_cpus or _available_cpus()
                ray.init(address="local", num_cpus=cpus, include_dashboard=False, **options)
            else:
                _probe(self.address)
                ray.init(address=self.address, **options)
        except Exception as exc:  # Ray raises many kinds (OSError, TimeoutError, its own)
            # Whatever a failed start left running (a local cluster's processes) stops.
            with contextlib.suppress(Exception):
                ray.shutdown()
            raise BackendError(_connect_error(self.address, exc)) from exc
        self._owned = True

    def close(self) -> None:
        """Disconnect, and stop the local cluster, if :meth:`open` started them."""
        if self._owned:
            self._owned = False
            self._ray.shutdown()

    def __enter__(self) -> RayBackend:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the batches ----------------------------------------------------------------

    def map(self, fn: BatchFn, ranges: Sequence[tuple[int, int]]) -> Iterator[BatchResult]:
        if not ranges:
            return
        ray = self._ray
        opened_here = not ray.is_initialized()
        self.open()
        pending: deque[Any] = deque()
        try:
            task = ray.remote(num_cpus=1, max_retries=3)(_ray_batch)
            limit = self.max_in_flight or 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
            # Sent once; each task receives it from the object store (see _ray_batch).
            shared = ray.put(ray.cloudpickle.dumps(fn, protocol=4))
            todo = deque(ranges)
            while todo or pending:
                while todo and len(pending) < limit:  # keep the cluster busy
                    first, count = todo.popleft()
                    pending.append(task.remote(shared, first, count))
                try:
                    info, result = ray.get(pending.popleft())
                except ray.exceptions.RayError as exc:
                    cause = getattr(exc, "cause", None)
                    if isinstance(exc, ray.exceptions.RayTaskError) and not isinstance(
                        cause, (ray.exceptions.RayError, _LoadError)
                    ):
                        raise  # the batch function's own error (also an instance of its type)
                    raise BackendError(_cluster_error(exc)) from exc
                check_worker(info)
                self.workers[info[0], info[1]] += 1
                # Copies: writable arrays, and the object store can free the batch.
                yield {name: np.array(values) for name, values in result.items()}
        finally:
            for ref in pending:  # stopped early (an error, or the consumer stopped)
                ray.cancel(ref)
            if opened_here:
                self.close()


# ---------------------------------------------------------------------------
# Entry points


def get_backend(backend: str | Backend = "local", address: str | None = None) -> Backend:
    """The backend a user named (``local``, ``processes`` or ``ray``), or ``backend``
    itself."""
    if not isinstance(backend, str):
        if address is not None:
            raise ValueError("give the address to the backend itself, not beside it")
        return backend
    if backend == "local":
        if address is not None:
            raise ValueError("an address needs the ray backend (--backend ray --address ADDR)")
        return LocalBackend()
    if backend == "processes":
        if address is not None:
            raise ValueError("an address needs the ray backend (--backend ray --address ADDR)")
        return ProcessBackend()
    if backend == "ray":
        return RayBackend(address)
    raise ValueError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")


def batch_ranges(n: int, batch_size: int) -> list[tuple[int, int]]:
    """``(first, count)`` of each batch of ``batch_size`` episodes out of ``n``."""
    if n < 0:
        raise ValueError("n must be >= 0")
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    return [(first, min(batch_size, n - first)) for first in range(0, n, batch_size)]


def run_batches(
    fn: BatchFn,
    n: int,
    batch_size: int,
    *,
    backend: str | Backend = "local",
    address: str | None = None,
    on_batch: Progress | None = None,
) -> Iterator[tuple[slice, BatchResult]]:
    """Run episodes ``0..n-1`` in batches on ``backend``: ``(rows, result)`` per batch, in
    order, ``rows`` the slice of the ensemble's arrays the batch fills. The backend is
    resolved (and Ray imported) at the call, so a missing extra or a wrong name is
    reported before anything runs."""
    chosen = get_backend(backend, address)
    ranges = batch_ranges(n, batch_size)

    def results() -> Iterator[tuple[slice, BatchResult]]:
        for done, ((first, count), result) in enumerate(
            zip(ranges, chosen.map(fn, ranges), strict=True), start=1
        ):
            if on_batch is not None:
                on_batch(done, len(ranges))
            yield slice(first, first + count), result

    return results()
