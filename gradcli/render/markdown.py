"""Markdown (GitHub flavour): for answer keys in a README, an issue or a notebook cell.

Formulas are display maths, `$$ label = latex $$`, which GitHub, Jupyter and most static-site
generators render; a formula without LaTeX falls back to a code span of its expression-language
text, which stays pasteable as a claim. Tables are GitHub tables; a grid with LaTeX cells is a
`bmatrix` (marked cells boxed), otherwise a table.

Block text is user text: every Markdown punctuation character in it is backslash-escaped
(CommonMark allows that for all ASCII punctuation), so a name like `*[x](javascript:...)*`
prints as written and never becomes emphasis, a link or raw HTML. Control characters are
escaped first, as in plain.
"""

from __future__ import annotations

import re
from typing import TextIO

from gradcli.render import latex as tex
from gradcli.render.blocks import Bars, Block, Formula, Grid, Heading, Table, Text
from gradcli.render.plain import escape as escape_control

# Punctuation that can start or end inline syntax anywhere in a line. List markers (`-`, `+`,
# `1.`, `1)`) and setext/thematic lines (`===`, `---`) matter only at the start of a line before
# a space, and are escaped only there, so that `y - t` and `1.2e-16` stay readable.
_INLINE = re.compile(r"([\\`*_\[\]<>#|$~&])")
_LINE_START = re.compile(r"^(\s*)(\d{1,9}[.)]|[-+=]+)(?=\s|$)")


def escape(text: str, *, line_start: bool = True) -> str:
    """User text as literal Markdown: nothing in it becomes syntax. Newlines become spaces.

    `line_start=False` is for table cells, where list markers mean nothing.
    """
    text = _INLINE.sub(r"\\\1", escape_control(text).replace("\n", " "))
    return _LINE_START.sub(_escape_marker, text) if line_start else text


def _escape_marker(match: re.Match) -> str:
    marker = match.group(2)
    if marker[0].isdigit():  # `1.` -> `1\.`: a backslash before a digit is not an escape
        return match.group(1) + marker[:-1] + "\\" + marker[-1]
    return match.group(1) + "\\" + marker


def code_span(text: str) -> str:
    """A code span that holds any text: the fence is longer than any run of backticks in it."""
    text = escape_control(text).replace("\n", " ")
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _text_in_math(text: str) -> str:
    return tex.text_in_math(text, keep_unicode=True)


def cell(text: str) -> str:
    return escape(text, line_start=False) or " "


def _heading(block: Heading) -> list[str]:
    return [("#" if block.level == 1 else "##") + " " + escape(block.text)]


def _formula(block: Formula) -> list[str]:
    if not block.latex:
        text = f"{block.label} = {block.text}" if block.label else block.text
        note = f" \\[{escape(block.note)}\\]" if block.note else ""
        return [code_span(text) + note]
    label = block.latex_label or (_text_in_math(block.label) if block.label else "")
    body = f"{label} = {block.latex}" if label else block.latex
    note = f" \\qquad {_text_in_math(block.note)}" if block.note else ""
    return [f"$$ {body}{note} $$"]


def table(columns, rows, title: str = "") -> list[str]:
    out = [f"**{escape(title)}**", ""] if title else []
    out.append("| " + " | ".join(cell(c) for c in columns) + " |")
    out.append("|" + "|".join(" --- " for _ in columns) + "|")
    out.extend("| " + " | ".join(cell(c) for c in row) + " |" for row in rows)
    return out


def _grid(block: Grid) -> list[str]:
    marked = bool(block.marks and any(any(r) for r in block.marks))
    if block.latex_cells is not None:
        out = [f"**{escape(block.title)}**", ""] if block.title else []
        out.append(f"$$ {tex.bmatrix(block, keep_unicode=True)} $$")
        if marked:
            out += ["", "A boxed cell is a wrong one."]
        return out
    columns = tuple(str(j + 1) for j in range(max((len(r) for r in block.cells), default=0)))
    rows = tuple(tuple(c + ("*" if block.marks and block.marks[i][j] else "")
                       for j, c in enumerate(r)) for i, r in enumerate(block.cells))
    out = table(("", *columns), tuple((str(i + 1), *r) for i, r in enumerate(rows)), block.title)
    return out + (["", "\\* marks a wrong cell."] if marked else [])


def _bars(block: Bars) -> list[str]:
    rows = [(label, f"{value:.3e}") for label, value in zip(block.labels, block.values, strict=True)]
    columns: tuple[str, ...] = ("", "value")
    if block.series and len(block.series) == len(block.values):
        columns = ("", *columns)
        rows = [(s, *r) for s, r in zip(block.series, rows, strict=True)]
    return table(columns, rows, block.title)


def lines(block: Block) -> list[str]:
    if isinstance(block, Heading):
        return _heading(block)
    if isinstance(block, Text):
        return [escape(block.text)]
    if isinstance(block, Formula):
        return _formula(block)
    if isinstance(block, Table):
        return table(block.columns, block.rows, block.title)
    if isinstance(block, Grid):
        return _grid(block)
    if isinstance(block, Bars):
        return _bars(block)
    raise TypeError(f"no markdown rendering for {type(block).__name__}")


def write(blocks: list[Block], out: TextIO, *, color: bool = False, width: int | None = None) -> None:
    """Blocks separated by blank lines; `color` and `width` do not apply to Markdown."""
    out.write("\n\n".join("\n".join(lines(block)) for block in blocks) + "\n")
