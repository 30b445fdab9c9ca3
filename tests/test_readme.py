"""The README's examples are real output: every `$ gradcli ...` block is run and compared.

Shown lines must appear in the real output, in order and exactly; a `...` line stands for any
number of lines left out. So the README cannot drift from what the tool prints.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"```console\n\$ gradcli (?P<cmd>[^\n]*)\n(?P<out>.*?)```", re.S)


def examples() -> list[tuple[str, list[str]]]:
    return [(m["cmd"], m["out"].rstrip("\n").split("\n")) for m in BLOCK.finditer(README.read_text())]


def matches(shown: list[str], real: list[str]) -> str | None:
    """None when `shown` (with `...` gaps) matches `real`; else the first line not found."""
    i = 0
    gap = False
    for line in shown:
        if line == "...":
            gap = True
            continue
        if gap:
            while i < len(real) and real[i] != line:
                i += 1
        if i >= len(real) or real[i] != line:
            return line
        i += 1
        gap = False
    return None


def test_readme_has_examples():
    assert len(examples()) >= 4


@pytest.mark.parametrize("cmd,shown", examples(), ids=[c for c, _ in examples()])
def test_readme_example_is_real_output(cli, monkeypatch, cmd, shown):
    monkeypatch.chdir(README.parent)
    result = cli(*shlex.split(cmd))
    missing = matches(shown, result.stdout.rstrip("\n").split("\n"))
    assert missing is None, f"README line not in the output of `gradcli {cmd}`:\n{missing}"
