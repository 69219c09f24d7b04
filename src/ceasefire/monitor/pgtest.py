"""Run a command beside a throwaway PostgreSQL server, then stop the server.

    python -m ceasefire.monitor.pgtest COMMAND [ARGS...]

``make test`` runs the test suite this way so that the ledger's store tests run
against a real PostgreSQL server as well as SQLite, with no manual step. The server
comes from the ``pgserver`` package (PostgreSQL binaries in a wheel; a development
dependency, pinned with its hash in ``requirements.lock``). It gets a new data
folder in a temporary directory, listens on a Unix socket in it (no TCP port), and
is stopped, and its folder removed, when the command ends, fails or is interrupted.
The command sees the server's address in ``CEASEFIRE_TEST_PG_URL`` and
``CEASEFIRE_TEST_PG_REQUIRED=1`` (the PostgreSQL tests then fail rather than skip
if the server cannot be used).

Run as root, ``pgserver`` runs the server as a system user ``pgserver`` (created on
first use, since PostgreSQL refuses to run as root) and makes the folders on the
way to the data folder and to its binaries readable by that user.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from types import FrameType

ENV_URL = "CEASEFIRE_TEST_PG_URL"
ENV_REQUIRED = "CEASEFIRE_TEST_PG_REQUIRED"


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("usage: python -m ceasefire.monitor.pgtest COMMAND [ARGS...]", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver import postgres_server
    except ImportError:
        print(
            "pgtest: the `pgserver` package is not installed; it comes with the dev extra "
            "(`make venv` installs it from requirements.lock)",
            file=sys.stderr,
        )
        return 2

    def _stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _stop)
    root = Path(tempfile.mkdtemp(prefix="ceasefire-pg-"))
    server = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = postgres_server.get_server(root / "data", cleanup_mode="stop")
        url = server.get_uri()
        print(f"pgtest: PostgreSQL server running for the tests ({url})", file=sys.stderr)
        env = {**os.environ, ENV_URL: url, ENV_REQUIRED: "1"}
        return subprocess.call(argv, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        if server is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
