"""Name numba's machine code for ``perf``: where a compiled ensemble spends its time.

    NUMBA_NUM_THREADS=1 perf record -o perf.data .venv/bin/python bench/perfmap.py \\
        SCRIPT.py [ARGS...]
    perf report -i perf.data --no-children --sort sym

Runs ``SCRIPT.py`` with numba's code loading watched: every compiled object numba loads
(from its disk cache or fresh) is listed with ``nm``, and at exit each defined symbol's
address in the running process is written to ``/tmp/perf-<pid>.map``, the file ``perf``
reads to name code that has no symbol table of its own (a JIT's). Run ``SCRIPT.py``
once without it first, so that the compilation is cached and not profiled. Needs
``nm`` (binutils) and ``perf`` (linux-perf); a development tool, not part of the package.
"""

from __future__ import annotations

import atexit
import os
import runpy
import subprocess
import sys
import tempfile
from typing import Any

from numba.core import codegen

_objects: list[tuple[Any, bytes]] = []
_set = codegen.CodeLibrary._set_compiled_object


def _watch(self: Any, value: bytes) -> None:
    _objects.append((self, value))
    _set(self, value)


def _symbols(data: bytes) -> list[tuple[str, int]]:
    """The defined code symbols of an object file, with their sizes."""
    with tempfile.NamedTemporaryFile(suffix=".o") as f:
        f.write(data)
        f.flush()
        listing = subprocess.run(
            ["nm", "--defined-only", "-S", f.name], capture_output=True, text=True, check=False
        ).stdout
    out = []
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tTW":
            out.append((parts[3], int(parts[1], 16)))
    return out


def _write_map() -> None:
    lines = []
    for lib, data in _objects:
        engine = lib._codegen._engine
        for name, size in _symbols(data):
            try:
                address = engine.get_function_address(name)
            except Exception:  # a symbol the engine does not export
                continue
            if address:
                lines.append(f"{address:x} {size:x} {name}\n")
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as f:
        f.writelines(lines)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    codegen.CodeLibrary._set_compiled_object = _watch  # type: ignore[method-assign]
    atexit.register(_write_map)
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
