"""Golden fixtures: every scenario's outputs are byte for byte those of ``tests/golden``.

Each fixture folder (scenario file stem / kind, see ``tests/golden/make_golden.py``) is
regenerated in a temporary folder by the functions that wrote it, and every file is
compared with the stored one; a difference names the file and its first differing line.
The CLI tests check that those functions give what ``ceasefire run`` and ``ceasefire
ensemble`` write. To change the fixtures on purpose, rerun ``make_golden.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ceasefire.cli import main
from golden import make_golden

GOLDEN = make_golden.GOLDEN
SCENARIOS = make_golden.scenario_files()
CASES = [(stem, kind) for stem in SCENARIOS for kind in make_golden.kinds(stem)]
WINDOW = 80


def _first_difference(expected: bytes, actual: bytes) -> str:
    """Where two files first differ: the line, its column, and both lines around it."""
    old, new = expected.splitlines(keepends=True), actual.splitlines(keepends=True)
    for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        if a != b:
            col = next(
                (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)),
            )
            lo = max(col - WINDOW, 0)
            return (
                f"first difference at line {number}, column {col + 1}:\n"
                f"  expected: {a[lo : col + WINDOW]!r}\n"
                f"  actual:   {b[lo : col + WINDOW]!r}"
            )
    shorter, longer, what = (old, new, "extra") if len(old) < len(new) else (new, old, "missing")
    return (
        f"the first {len(shorter)} lines agree; expected {len(old)} lines, got {len(new)}; "
        f"first {what} line: {longer[len(shorter)][: 2 * WINDOW]!r}"
    )


def assert_same_files(expected: Path, actual: Path, names: list[str] | None = None) -> None:
    """The files of ``actual`` are those of ``expected`` (only ``names``, if given), byte
    for byte."""
    if names is None:
        want = sorted(p.name for p in expected.iterdir())
        got = sorted(p.name for p in actual.iterdir())
        assert got == want, f"{actual}: files {got}, expected {want}"
        names = want
    problems = []
    for name in names:
        old, new = (expected / name).read_bytes(), (actual / name).read_bytes()
        if old != new:
            note = (
                " (HTML reports over 200 kB, kept as SHA-256)"
                if name == make_golden.LARGE_FILES
                else ""
            )
            problems.append(
                f"{expected.relative_to(GOLDEN)}/{name}{note} differs: "
                f"{_first_difference(old, new)}"
            )
    assert not problems, "\n".join(problems)


def test_every_fixture_folder_is_generated() -> None:
    """No fixture is missing, and none is left over from a scenario or kind now gone."""
    on_disk = sorted(
        (stem.name, kind.name)
        for stem in GOLDEN.iterdir()
        if stem.is_dir() and stem.name != "__pycache__"
        for kind in stem.iterdir()
    )
    assert on_disk == sorted(CASES), "rerun tests/golden/make_golden.py"


@pytest.mark.parametrize(("stem", "kind"), CASES, ids=[f"{s}/{k}" for s, k in CASES])
def test_golden(stem: str, kind: str, tmp_path: Path) -> None:
    expected = GOLDEN / stem / kind
    assert expected.is_dir(), f"no fixture {expected}: rerun tests/golden/make_golden.py"
    make_golden.generate(SCENARIOS[stem], kind, tmp_path / kind)
    assert_same_files(expected, tmp_path / kind)


def _cli(*args: str) -> None:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("stem", list(SCENARIOS))
def test_fixtures_are_what_the_cli_writes(stem: str, tmp_path: Path) -> None:
    """``ceasefire run --out``, ``run --draw --out`` and ``ensemble --out`` write the
    fixtures' files (the ensemble's Parquet rows read back as CSV)."""
    path = str(SCENARIOS[stem])
    seed = make_golden.RUN_SEEDS[-1]
    _cli("run", path, "--seed", str(seed), "--out", str(tmp_path / "run"))
    make_golden.keep_small(tmp_path / "run")
    assert_same_files(GOLDEN / stem / f"run-seed{seed}", tmp_path / "run")

    draw, index = make_golden.DRAW_SEED, make_golden.DRAWS[-1]
    _cli("run", path, "--seed", str(draw), "--draw", str(index), "--out", str(tmp_path / "draw"))
    make_golden.keep_small(tmp_path / "draw")
    assert_same_files(GOLDEN / stem / f"draw-seed{draw}-{index}", tmp_path / "draw")

    kind = next(k for k in make_golden.kinds(stem) if k.startswith("ensemble-"))
    n = make_golden.ENSEMBLE_N_BY_STEM.get(stem, make_golden.ENSEMBLE_N)
    seed = make_golden.ENSEMBLE_SEED
    out = tmp_path / "ensemble"
    _cli("ensemble", path, "-n", str(n), "--seed", str(seed), "--quiet", "--out", str(out))
    rows, schema = make_golden.parquet_csv(out / "episodes.parquet")
    (out / "episodes.parquet").unlink()
    (out / "episodes.csv").write_text(rows, encoding="utf-8", newline="")
    (out / "episodes.schema.txt").write_text(schema, encoding="utf-8", newline="")
    make_golden.keep_small(out)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        p.name for p in (GOLDEN / stem / kind).iterdir() if p.name != "result.jsonl"
    )
    assert_same_files(GOLDEN / stem / kind, out, names)
