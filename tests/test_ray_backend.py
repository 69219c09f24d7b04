"""The ray backend gives the local backend's results, byte for byte.

An ensemble's batches are spread over a local Ray cluster of two worker processes
(started once for this module, through the backend itself, and stopped at its end);
every result array must equal the local backend's, whatever the batch size, and at
least two worker processes must have run batches. The tests before the cluster's
fixture need no cluster (choosing a backend, errors).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ceasefire.ensemble import run_ensemble
from ceasefire.ensemble._backend import (
    BackendError,
    LocalBackend,
    RayBackend,
    check_worker,
    get_backend,
    run_batches,
)
from ceasefire.scenario import Scenario, load_scenario

from conftest import NOV2023, ROOT
from helpers import with_agreement

HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAS_RAY, reason="Ray is not installed (extra `ray`)")

FEATURES = ROOT / "tests" / "data" / "ensemble_features.yaml"


def risky(s: Scenario) -> Scenario:
    """The November scenario with refusals for both sides and a cure."""
    return with_agreement(s, refusal_probability={"hamas": 0.2, "israel": 0.1}, cure_attempts=1)


def assert_identical(a: Any, b: Any) -> None:
    """Every field of two ensemble results equal; every array of the same dtype, shape
    and bytes."""
    assert dataclasses.fields(a) == dataclasses.fields(b)
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, field.name
            assert np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"), field.name  # NaN: none
            assert x.tobytes() == y.tobytes(), field.name
        else:
            assert x == y, field.name


# -- choosing a backend (no cluster) -------------------------------------------------------


def test_local_is_the_default_and_needs_no_address() -> None:
    assert isinstance(get_backend(), LocalBackend)
    assert isinstance(get_backend("local"), LocalBackend)
    with pytest.raises(
        ValueError, match="unknown backend 'dask'; choose one of: local, processes, ray"
    ):
        get_backend("dask")
    with pytest.raises(ValueError, match="an address needs the ray backend"):
        get_backend("local", "head:6379")


def test_a_missing_ray_names_the_extra(nov2023: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails, as without the extra
    with pytest.raises(BackendError, match=r"pip install 'ceasefire\[ray\]'"):
        run_ensemble(nov2023, 10, seed=0, backend="ray")
    # The local backend needs nothing but the package.
    assert len(run_ensemble(nov2023, 10, seed=0, backend="local")) == 10


def test_progress_is_reported_batch_by_batch(nov2023: Scenario) -> None:
    calls: list[tuple[int, int]] = []
    run_ensemble(nov2023, 1001, seed=0, batch_size=250, on_batch=lambda *a: calls.append(a))
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_a_worker_with_another_version_is_refused() -> None:
    check_worker(("node", 1, "1.2.3"), version="1.2.3")
    with pytest.raises(BackendError, match=r"runs ceasefire 1\.2\.2, this process 1\.2\.3"):
        check_worker(("node", 1, "1.2.2"), version="1.2.3")


@needs_ray
def test_an_address_where_nothing_answers_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    assert not ray.is_initialized(), "runs before the module's cluster starts"
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(BackendError, match=f"nothing answers at 127.0.0.1:{port}"):
        RayBackend(f"127.0.0.1:{port}").open()
    assert time.monotonic() - start < 10
    assert not ray.is_initialized()


@needs_ray
def test_the_address_comes_from_ray_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_ADDRESS", "head.example:6379")
    assert RayBackend().address == "head.example:6379"
    assert RayBackend("other:6379").address == "other:6379"
    monkeypatch.setenv("RAY_ADDRESS", "")
    assert RayBackend().address is None


def ensemble_cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ceasefire", "ensemble", str(NOV2023), "-n", "100"]
    command += ["--batch-size", "50", "--quiet", "--backend", "ray"]
    environment = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    environment |= {"RAY_USAGE_STATS_ENABLED": "0", **env}
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)


@needs_ray
@pytest.mark.parametrize(
    ("where", "reason"),
    [("file", "Not a directory"), ("long", "AF_UNIX path length")],
    ids=["a file", "a path too long for a socket"],
)
def test_a_local_cluster_that_cannot_start_exits_2_with_the_reason(
    tmp_path: Path, where: str, reason: str
) -> None:
    """Ray keeps a local cluster's files and sockets under RAY_TMPDIR: a file there, or a
    path longer than a socket's address may be, and the cluster cannot start (issue 13,
    item 10: exit 1 with "cannot write None", or a bare "[Errno 20]")."""
    if where == "file":
        ray_tmp = tmp_path / "a-file"
        ray_tmp.write_text("")
    else:
        ray_tmp = tmp_path / ("x" * 120)
    result = ensemble_cli({"RAY_TMPDIR": str(ray_tmp)})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "could not start a local Ray cluster" in result.stderr
    assert reason in result.stderr and "RAY_TMPDIR" in result.stderr
    assert "None" not in result.stderr


# -- on a local Ray cluster of two worker processes ----------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayBackend]:
    """A local cluster with two CPUs (two worker processes), started by the backend."""
    import ray

    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
        env.delenv("RAY_ADDRESS", raising=False)
        env.delenv("RAY_AUTH_MODE", raising=False)  # Ray sets it; undone afterwards
        assert not ray.is_initialized()
        with RayBackend(num_cpus=2) as backend:
            assert ray.cluster_resources()["CPU"] == 2
            yield backend
        assert not ray.is_initialized(), "the backend stops the cluster it started"


@pytest.fixture(scope="module")
def features() -> Scenario:
    return load_scenario(FEATURES)


@needs_ray
@pytest.mark.parametrize("variant", ["priors", "priors, refusals and cures", "features"])
def test_ray_gives_the_local_results_byte_for_byte(
    cluster: RayBackend, nov2023: Scenario, features: Scenario, variant: str
) -> None:
    scenario = {
        "priors": nov2023,
        "priors, refusals and cures": risky(nov2023),
        "features": features,
    }[variant]
    assert scenario.priors
    n, seed = 5_000, 2023
    local = run_ensemble(scenario, n, seed=seed)  # one batch, in this process
    before = cluster.workers.copy()
    spread = run_ensemble(scenario, n, seed=seed, batch_size=500, backend=cluster)
    ran = cluster.workers - before
    assert sum(ran.values()) == 10
    assert len({pid for _, pid in ran}) >= 2, f"batches ran on {dict(ran)}"
    assert os.getpid() not in {pid for _, pid in ran}
    assert_identical(local, spread)
    assert len(set(spread.pause_days.tolist())) > 3  # the draws do move the outcome


@needs_ray
def test_batch_size_and_seed_on_ray(cluster: RayBackend, nov2023: Scenario) -> None:
    s = risky(nov2023)
    uneven = run_ensemble(s, 3_001, seed=5, batch_size=317, backend=cluster)
    assert_identical(uneven, run_ensemble(s, 3_001, seed=5, batch_size=1_000))
    other = run_ensemble(s, 3_001, seed=6, batch_size=317, backend=cluster)
    assert not np.array_equal(uneven.priors, other.priors)


@needs_ray
def test_by_name_a_running_session_is_used_and_left_running(
    cluster: RayBackend, nov2023: Scenario
) -> None:
    import ray

    calls: list[tuple[int, int]] = []
    spread = run_ensemble(
        nov2023, 2_000, seed=1, batch_size=400, backend="ray", on_batch=lambda *a: calls.append(a)
    )
    assert calls == [(k, 5) for k in range(1, 6)]
    assert_identical(spread, run_ensemble(nov2023, 2_000, seed=1))
    assert ray.is_initialized()
    assert len(run_ensemble(nov2023, 0, seed=1, backend="ray")) == 0


@needs_ray
def test_stopping_early_leaves_the_cluster_usable(cluster: RayBackend, nov2023: Scenario) -> None:
    from functools import partial

    from ceasefire.ensemble._episodes import Batches, run_batch

    fn = partial(run_batch, Batches(nov2023), 3)
    batches = run_batches(fn, 4_000, 100, backend=cluster)
    rows, first = next(batches)
    batches.close()  # the other batches in flight are cancelled
    assert rows == slice(0, 100)
    local: dict[str, Any] = run_ensemble(nov2023, 100, seed=3).__dict__
    for name, values in first.items():
        assert np.array_equal(values, local[name]), name
        assert values.flags.writeable, name  # copies, not views of Ray's object store
    assert len(run_ensemble(nov2023, 1_000, seed=3, batch_size=250, backend=cluster)) == 1_000


@needs_ray
def test_a_worker_that_cannot_load_the_batch_names_the_fix(
    cluster: RayBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch function from a module the workers do not have (as on a node without
    ceasefire installed) is reported with what to install."""
    (tmp_path / "only_on_the_driver.py").write_text(
        "def batch(first, count):\n    return {}\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "only_on_the_driver", raising=False)  # gone afterwards
    module = importlib.import_module("only_on_the_driver")
    with pytest.raises(BackendError, match="install the same version of ceasefire"):
        list(run_batches(module.batch, 10, 5, backend=cluster))
    assert len(run_ensemble(load_scenario(NOV2023), 100, seed=0, backend=cluster)) == 100


class Writable:
    """A batch function that reports whether the arrays it carries are writable where
    it runs (pickled by value, so the workers need not import this test module)."""

    def __init__(self) -> None:
        self.arrays = [np.arange(1 << 17, dtype=np.int64), np.zeros(1 << 17)]

    def __call__(self, first: int, count: int) -> dict[str, Any]:
        return {"writable": np.array([all(a.flags.writeable for a in self.arrays)] * count)}


@needs_ray
def test_a_worker_gets_writable_arrays(cluster: RayBackend) -> None:
    """Ray hands an object's arrays from its store read-only, and numba compiles the
    kernel anew for read-only arrays (minutes, in every worker, though the disk cache
    holds it): the batch function's arrays reach the worker writable."""
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        results = list(cluster.map(Writable(), [(0, 3), (3, 3)]))
    finally:
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert [r["writable"].tolist() for r in results] == [[True] * 3, [True] * 3]


@needs_ray
def test_negotiation_mode_runs_on_ray_too(cluster: RayBackend) -> None:
    """The December scenario (talks, then the pause they agree): the same batch function
    runs on the workers, with the same results."""
    december = load_scenario(ROOT / "scenarios" / "gaza-2023-12-proposal.yaml")
    assert december.negotiation is not None and december.priors
    local = run_ensemble(december, 400, seed=1)
    before = cluster.workers.copy()
    spread = run_ensemble(december, 400, seed=1, batch_size=50, backend=cluster)
    assert sum((cluster.workers - before).values()) == 8
    assert type(spread) is type(local)
    assert_identical(local, spread)
