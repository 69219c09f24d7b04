"""Every example command shown with its output in README.md and docs/ is run, and its output
compared with the copy on the page (as SimPy checks its documentation's examples).

A ```console block holds commands (lines starting with ``$ ``, going on to the next line
after a ``\\``, with an optional ``# note``) each followed by the output it prints. A
line ``...`` on the page stands for any number of lines of output, and ``...`` inside a
line for any text there. Commands run in a fresh folder where
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
    going_on = False  # the command's line ended with a backslash: it goes on
    for line in text.splitlines():
        if going_on:
            command = f"{out[-1][0][:-1].rstrip()} {line.strip()}"
            out[-1] = (command, [])
        elif line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
        going_on = bool(out) and not out[-1][1] and out[-1][0].endswith("\\")
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
    words = shlex.split(command, comments=True)  # a `# ...` after a command is a note
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


# -- commands shown but not run ----------------------------------------------------------

SH_BLOCK = re.compile(r"^[ ]*```sh\n(.*?)^[ ]*```$", re.S | re.M)

# A ```sh block shows commands this test cannot run; each of its commands must start
# with one of these, for the reason given. An example that could run belongs in a
# ```console block, with its output.
NOT_RUN = {
    "make ": "sets up the machine (a virtual environment, a browser): CI runs `make test`",
    "pip install": "installs from a package index",
    "python -m venv": "makes a virtual environment outside the checkout",
    "python3 -m venv": "makes a virtual environment outside the checkout",
    "/tmp/negmas-venv/": "needs NegMAS, a development-only tool (AGPL)",
    ".venv/bin/python -m pytest": "runs tests: a test of its own",
    "ray ": "starts or inspects a Ray cluster (tests/test_ray_backend.py runs a local one)",
    "export ": "sets the shell's environment",
    "ceasefire serve": "a server that runs until stopped (tests/test_web_e2e.py drives it)",
    "ceasefire ensemble": "a Ray cluster's ensemble (`--backend ray`, docs/ray.md)",
}


def sh_commands() -> list[tuple[str, int, str]]:
    """(page, line, command) of every command in a ```sh block, its continuation lines
    joined and its `# note` left out."""
    out = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in SH_BLOCK.finditer(text):
            line = text[: m.start()].count("\n") + 2
            joined = re.sub(r"\\\n\s*", " ", m.group(1))
            for k, command in enumerate(joined.splitlines()):
                command = re.sub(r"\s+#.*$|^\s*#.*$", "", command).strip()
                if command:
                    out.append((page.relative_to(ROOT).as_posix(), line + k, command))
    return out


SH_COMMANDS = sh_commands()


@pytest.mark.parametrize(
    ("page", "line", "command"), SH_COMMANDS, ids=[f"{p}:{n}" for p, n, _ in SH_COMMANDS]
)
def test_a_command_not_run_says_why_and_names_real_options(
    page: str, line: int, command: str
) -> None:
    reasons = [why for start, why in NOT_RUN.items() if command.startswith(start)]
    assert reasons, f"{page}:{line}: `{command}` is neither run (```console) nor excused"
    if not command.startswith("ceasefire "):
        return
    import click

    from ceasefire.cli import main

    words = [w.strip("[]") for w in shlex.split(command)[1:]]
    group: click.Command = main
    ctx = click.Context(main)
    while isinstance(group, click.Group) and words and not words[0].startswith("-"):
        found = group.get_command(ctx, words[0])
        assert found is not None, f"{page}:{line}: no command `{words[0]}` in `{command}`"
        group, words = found, words[1:]
    known = {opt for p in group.params for opt in [*p.opts, *p.secondary_opts]}
    for word in words:
        if word.startswith("-") and word not in ("-", "--"):
            name = word.split("=", 1)[0]
            assert name in known, f"{page}:{line}: `{name}` is not an option of `{command}`"


def test_every_command_not_run_is_found() -> None:
    pages = {p for p, _, _ in SH_COMMANDS}
    assert {"README.md", "docs/ray.md", "docs/web.md"} <= pages
