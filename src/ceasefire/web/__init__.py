"""``ceasefire serve``: the local web app (the interfaces layer, beside the command line).

It may import every layer below it; nothing imports it but the command line's ``serve``
command, lazily. :func:`create_app` builds the ASGI app for a :class:`ServeConfig`.
The names are imported on first use, so that ``ceasefire serve --help`` loads neither
Starlette nor the engines.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import ServeConfig, create_app
    from ._security import new_token

_LAZY = {"ServeConfig": "_app", "create_app": "_app", "new_token": "_security"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = ["ServeConfig", "create_app", "new_token"]
