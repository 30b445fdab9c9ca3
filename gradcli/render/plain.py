"""Plain text: what a pipe, a log file or a TA's script sees.

Every expression is printed in gradcli's expression language, so it can be pasted back as a
claim. User strings are written literally, with control characters escaped so a hostile
problem file cannot move the cursor or recolour the terminal.
"""

from __future__ import annotations

import re
from typing import TextIO

from gradcli.render.blocks import Bars, Block, Formula, Grid, Heading, Table, Text

# Lone surrogates too: a file name with bytes that are not UTF-8 reaches Python as \udcff,
# which a strict UTF-8 stdout cannot write at all.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def escape(text: str) -> str:
    """Control and bidi characters as visible escapes; everything else literal."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _table(columns, rows) -> list[str]:
    cells = [[escape(c) for c in columns], *[[escape(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _grid(block: Grid) -> list[str]:
    rows = [[escape(c) for c in r] for r in block.cells]
    width = max((len(c) for r in rows for c in r), default=1)
    lines = [escape(block.title)] if block.title else []
    for i, r in enumerate(rows):
        marks = block.marks[i] if block.marks else [False] * len(r)
        lines.append("  " + "  ".join((c + ("*" if m else "")).rjust(width + 1)
                                      for c, m in zip(r, marks, strict=True)))
    if block.marks and any(any(r) for r in block.marks):
        lines.append("  (* marks a wrong cell)")
    return lines


def _bars(block: Bars) -> list[str]:
    rows = [(label, f"{value:.3e}") for label, value in zip(block.labels, block.values, strict=True)]
    columns: tuple[str, ...] = ("", "value")
    if len(block.series) == len(block.values) and block.series:  # several series: name each row's
        columns = ("", *columns)
        rows = [(s, *r) for s, r in zip(block.series, rows, strict=True)]
    return [escape(block.title), *_table(columns, rows)] if block.title else _table(columns, rows)


def lines(block: Block) -> list[str]:
    if isinstance(block, Heading):
        text = escape(block.text)
        return ["", text, ("=" if block.level == 1 else "-") * len(text)]
    if isinstance(block, Text):
        return [escape(block.text)]
    if isinstance(block, Formula):
        note = f"    [{escape(block.note)}]" if block.note else ""
        return [f"{escape(block.label)} = {escape(block.text)}{note}" if block.label
                else escape(block.text) + note]
    if isinstance(block, Table):
        return ([escape(block.title)] if block.title else []) + _table(block.columns, block.rows)
    if isinstance(block, Grid):
        return _grid(block)
    if isinstance(block, Bars):
        return _bars(block)
    raise TypeError(f"no plain rendering for {type(block).__name__}")


def write(blocks: list[Block], out: TextIO, *, color: bool = False, width: int | None = None) -> None:
    text = [line for block in blocks for line in lines(block)]
    while text and not text[0]:
        text.pop(0)
    out.write("\n".join(text) + "\n")
