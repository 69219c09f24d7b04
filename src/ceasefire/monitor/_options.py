"""Command-line options the monitor's commands share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def ensemble_option(default: int, help: str) -> Callable[[F], F]:
    """``--ensemble N``: the episodes drawn over the scenario's priors (passed as ``n``)."""
    return click.option(
        "--ensemble",
        "n",
        default=default,
        show_default=True,
        type=click.IntRange(min=1, max=1_000_000),
        help=help,
    )
