"""The ``serve`` command: start the web app with uvicorn."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import click

SHORT_HELP = "A local web app: open scenarios, change terms, replay runs."


def _fail(message: str) -> None:
    click.echo(f"ceasefire serve: {message}", err=True)
    sys.exit(2)


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            _fail(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
                "pick another port with --port N, or another address with --host"
            )


@click.command(name="serve", help=SHORT_HELP)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="the monitoring ledger (SQLite file) the app may read",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="address to listen on; anything but loopback requires the printed token",
)
@click.option(
    "--scenarios",
    "scenario_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="a further folder of scenario files the app may open (repeatable)",
)
def serve_command(db: Path | None, port: int, host: str, scenario_dirs: tuple[Path, ...]) -> None:
    """A local web app: open scenarios, change terms, replay runs."""
    for folder in scenario_dirs:
        if not folder.is_dir():
            _fail(f"--scenarios {folder}: not a folder")
    if db is not None and not db.is_file():
        _fail(f"--db {db}: no such file (create it with `ceasefire monitor init`)")
    _check_port(host, port)
    import uvicorn

    from ._app import ServeConfig, create_app
    from ._security import is_loopback, new_token

    token = None if is_loopback(host) else new_token()
    app = create_app(ServeConfig(list(scenario_dirs), db=db, host=host, token=token))
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    click.echo(f"ceasefire serve: open {address}  (Ctrl-C stops it)")
    if token:
        click.echo("Bound beyond this machine: the token in the address is required.")
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
