"""Golden fixtures: today's outputs of every bundled and test scenario, byte for byte.

Run from the repository root::

    .venv/bin/python tests/golden/make_golden.py

For every loadable scenario in ``scenarios/*.yaml`` and ``tests/data/*.yaml`` (other
YAML files are skipped), this writes ``tests/golden/<file stem>/<kind>/``:

- ``run-seed0``, ``run-seed7``: what ``ceasefire run FILE --seed S --out DIR`` writes
  (``ceasefire.write_outputs``): ``transcript.jsonl``, ``ledger.csv``, ``summary.json``
  and ``report.html``; for a scenario with talks also ``offers.csv`` and
  ``offers.parquet``, kept as its rows (``offers.parquet.csv``) and column types
  (``offers.schema.txt``);
- ``draw-seed3-0``, ``draw-seed3-1``, ``draw-seed3-5``: the same files for
  ``ceasefire run FILE --seed 3 --draw I --out DIR`` (``run_draw`` on the drawn scenario);
- ``ensemble-n200-seed3``: what ``ceasefire ensemble FILE -n 200 --seed 3 --out DIR``
  writes: ``summary.json`` and ``report.html`` as they are, ``episodes.parquet`` as
  ``episodes.csv`` (every column, every row; floats exact) with its column types in
  ``episodes.schema.txt``; and ``result.jsonl``, every episode of
  ``run_ensemble(scenario, n, seed)`` (``EnsembleResult.episode(i)``, with the exact
  agreement values), under a first ``meta`` line.

An HTML report over ``MAX_BYTES`` is not kept: its SHA-256 goes into the folder's
``large-files.sha256`` (``sha256sum -c`` format) instead.

``tests/test_golden.py`` regenerates every folder with these same functions and compares
the files byte for byte. Regenerate the fixtures only on purpose (an intended change of
outputs), never to make that test pass after a rewrite that should not change them. To
make them from another checkout's code, put its ``src`` first:
``PYTHONPATH=/path/to/checkout/src .venv/bin/python tests/golden/make_golden.py``.
Floats are those of the Python that made them (3.11; the built-in ``sum``, which value
sums use, compensates from 3.12 on, so a last digit may differ under a later Python).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import io
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

import ceasefire
from ceasefire.ensemble import draw_scenario, iter_ensemble, run_draw, run_ensemble
from ceasefire.ensemble._episodes import BATCH_SIZE
from ceasefire.outputs._ensemble_report import write_ensemble
from ceasefire.scenario import Scenario, ScenarioError

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
SCENARIO_GLOBS = ("scenarios/*.yaml", "tests/data/*.yaml")
MAX_BYTES = 200_000
LARGE_FILES = "large-files.sha256"

RUN_SEEDS = (0, 7)
DRAW_SEED = 3
DRAWS = (0, 1, 5)
ENSEMBLE_SEED = 3
ENSEMBLE_N = 200
# Fewer episodes for a scenario whose ensemble is slow (none is, today: all take < 1 s).
ENSEMBLE_N_BY_STEM: dict[str, int] = {}

Generator = Callable[[Scenario, Path], None]


# ---------------------------------------------------------------------------
# The scenarios


def scenario_files(root: Path = ROOT) -> dict[str, Path]:
    """The loadable scenario files, by file stem (YAML files that are not scenarios,
    like a NegMAS reference domain, are left out)."""
    found: dict[str, Path] = {}
    for pattern in SCENARIO_GLOBS:
        for path in sorted(root.glob(pattern)):
            try:
                ceasefire.load_scenario(path)
            except ScenarioError:
                continue
            if path.stem in found:
                raise SystemExit(
                    f"two scenario files named {path.stem}: {found[path.stem]}, {path}"
                )
            found[path.stem] = path
    return found


# ---------------------------------------------------------------------------
# The kinds of fixture: each writes its files into a new, empty folder


def keep_small(out: Path) -> None:
    """Replace the HTML reports of ``out`` over ``MAX_BYTES`` by a line of
    ``large-files.sha256``, and the offer trace's ``offers.parquet`` (its bytes name the
    Arrow version) by its rows as CSV, ``offers.parquet.csv``, and its column types,
    ``offers.schema.txt``."""
    trace = out / "offers.parquet"
    if trace.exists():
        rows, schema = parquet_csv(trace)
        trace.unlink()
        _write(out / "offers.parquet.csv", rows)
        _write(out / "offers.schema.txt", schema)
    lines = []
    for path in sorted(out.glob("*.html")):
        if path.stat().st_size > MAX_BYTES:
            lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n")
            path.unlink()
    if lines:
        _write(out / LARGE_FILES, "".join(lines))


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def _run_files(seed: int) -> Generator:
    def generate(scenario: Scenario, out: Path) -> None:
        ceasefire.write_outputs(out, scenario, ceasefire.run(scenario, seed=seed))
        keep_small(out)

    return generate


def _draw_files(seed: int, index: int) -> Generator:
    def generate(scenario: Scenario, out: Path) -> None:
        # as `ceasefire run --draw`: the episode of the draw, reported on the drawn scenario
        episode = run_draw(scenario, seed, index)
        ceasefire.write_outputs(out, draw_scenario(scenario, seed, index), episode)
        keep_small(out)

    return generate


def _cell(value: Any) -> str:
    """A CSV cell that round-trips: floats by ``repr``, lists as JSON, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    return str(value)


def parquet_csv(path: Path) -> tuple[str, str]:
    """The rows of a Parquet file as CSV, and its column types (one ``name: type`` a line)."""
    table = pq.read_table(path)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in table.to_pylist():
        writer.writerow([_cell(row[name]) for name in table.column_names])
    schema = "".join(f"{field.name}: {field.type}\n" for field in table.schema)
    return buffer.getvalue(), schema


def _plain(value: Any) -> Any:
    """``value`` with dates, tuples and NumPy scalars made JSON-ready."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def result_jsonl(scenario: Scenario, n: int, seed: int) -> str:
    """Every episode of ``run_ensemble(scenario, n, seed)``, a JSON object a line, under a
    ``meta`` line with the result's scalar fields (``outcomes`` left out: the episodes
    spell out their terms)."""
    result = run_ensemble(scenario, n, seed)
    meta = {
        f.name: _plain(getattr(result, f.name))
        for f in dataclasses.fields(result)
        if not isinstance(getattr(result, f.name), np.ndarray) and f.name != "outcomes"
    }
    meta["type"] = type(result).__name__
    meta["n"] = len(result)
    lines = [json.dumps({"meta": meta}, sort_keys=True, ensure_ascii=False)]
    values = getattr(result, "agreement_values", None)
    for i in range(len(result)):
        episode = result.episode(i)
        if isinstance(values, np.ndarray):  # episode() rounds them to 6 digits
            episode["agreement_values_exact"] = [
                [float(v) for v in values[i, j]] for j in range(len(episode["agreements"]))
            ]
        lines.append(json.dumps(episode, sort_keys=True, ensure_ascii=False, allow_nan=True))
    return "\n".join(lines) + "\n"


def _ensemble_files(n: int, seed: int) -> Generator:
    def generate(scenario: Scenario, out: Path) -> None:
        out.mkdir(parents=True)
        with tempfile.TemporaryDirectory() as tmp:
            # as `ceasefire ensemble -n N --seed S --out DIR` (local backend)
            folder = Path(tmp) / "ensemble"
            write_ensemble(
                scenario, iter_ensemble(scenario, n, seed, BATCH_SIZE), seed=seed, out=folder
            )
            shutil.copyfile(folder / "summary.json", out / "summary.json")
            shutil.copyfile(folder / "report.html", out / "report.html")
            rows, schema = parquet_csv(folder / "episodes.parquet")
        _write(out / "episodes.csv", rows)
        _write(out / "episodes.schema.txt", schema)
        _write(out / "result.jsonl", result_jsonl(scenario, n, seed))
        keep_small(out)

    return generate


def kinds(stem: str) -> dict[str, Generator]:
    """The fixture folders of a scenario, by name, with the function that writes each."""
    out = {f"run-seed{seed}": _run_files(seed) for seed in RUN_SEEDS}
    out |= {f"draw-seed{DRAW_SEED}-{i}": _draw_files(DRAW_SEED, i) for i in DRAWS}
    n = ENSEMBLE_N_BY_STEM.get(stem, ENSEMBLE_N)
    out[f"ensemble-n{n}-seed{ENSEMBLE_SEED}"] = _ensemble_files(n, ENSEMBLE_SEED)
    return out


def generate(path: Path, kind: str, out: Path) -> None:
    """Write fixture ``kind`` of the scenario file ``path`` into ``out`` (must not exist)."""
    if out.exists():
        raise FileExistsError(out)
    kinds(path.stem)[kind](ceasefire.load_scenario(path), out)


# ---------------------------------------------------------------------------
# The command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=GOLDEN, help="fixture root (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    root: Path = args.out
    print(f"ceasefire {ceasefire.__version__} from {Path(ceasefire.__file__).parent}")
    total = 0
    for stem, path in scenario_files().items():
        folder = root / stem
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for kind in kinds(stem):
            generate(path, kind, folder / kind)
            for file in sorted((folder / kind).iterdir()):
                size = file.stat().st_size
                total += size
                print(f"{size:>9,}  {file.relative_to(root)}")
    print(f"{total:>9,}  total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
