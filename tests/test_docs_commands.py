"""Every example command shown with its output in README.md and docs/ is run, and its output
compared with the copy on the page (as SimPy checks its documentation's examples).

A ```console block holds commands (lines starting with ``$ ``) each followed by the
output it prints. A line ``...`` on the page stands for any number of lines of output,
and ``...`` inside a line for any text there. Commands run in a fresh folder where
``scenarios/``, ``examples/`` and ``tests/`` of this checkout are at hand, with
``ceasefire`` (or ``.venv/bin/ceasefire``) being this checkout's command, in a terminal
100 columns wide.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```console\n(.*?)^```$", re.S | re.M)


def blocks() -> list[tuple[str, int, str]]:
    """(page, line, text) of every console block."""
    out = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in BLOCK.finditer(text):
            line = text[: m.start()].count("\n") + 1
            out.append((page.relative_to(ROOT).as_posix(), line, m.group(1)))
    return out


BLOCKS = blocks()


def steps(text: str) -> list[tuple[str, list[str]]]:
    """The block's commands, each with the lines of output the page shows for it."""
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def matches(expected: list[str], actual: list[str]) -> bool:
    """``expected`` (with ``...`` lines and in-line elisions) against ``actual``."""
    pattern = "".join(
        r"(?:.*\n)*?"
        if line.strip() == "..."
        else ".*?".join(map(re.escape, line.split("..."))) + r"[ \t]*\n"
        for line in expected
    )
    return re.fullmatch(pattern, "".join(f"{a.rstrip()}\n" for a in actual)) is not None


def run(command: str, cwd: Path) -> str:
    words = shlex.split(command)
    if words[0] in ("ceasefire", ".venv/bin/ceasefire"):
        words = [sys.executable, "-m", "ceasefire", *words[1:]]
    env = {**os.environ, "COLUMNS": "100", "LINES": "50", "TERM": "dumb"}
    if ">" in words:  # a shell redirection (sed ... > file)
        i = words.index(">")
        result = subprocess.run(words[:i], cwd=cwd, capture_output=True, text=True, env=env)
        (cwd / words[i + 1]).write_text(result.stdout, encoding="utf-8")
        return ""
    result = subprocess.run(words, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    return result.stdout + result.stderr


def test_there_are_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize(("page", "line", "text"), BLOCKS, ids=[f"{p}:{n}" for p, n, _ in BLOCKS])
def test_example_prints_what_the_page_shows(
    page: str, line: int, text: str, tmp_path: Path
) -> None:
    for name in ("scenarios", "examples", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    for command, expected in steps(text):
        actual = run(command, tmp_path).splitlines()
        assert matches(expected, actual), f"{page}:{line}: `{command}` printed\n" + "\n".join(
            actual
        )
