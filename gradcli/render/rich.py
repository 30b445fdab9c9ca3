"""Rich: the terminal format, with colour, rules and boxed tables.

Block text is user text (names and expressions from problem files), so nothing here ever goes
through Rich's markup parser: every string becomes a `rich.text.Text`, and the console is
built with `markup=False, highlight=False, emoji=False` as a second guard. Control characters
are escaped first (`plain.escape`), so a hostile file cannot move the cursor or recolour the
terminal. Rich is imported only here: it loads only when this format is chosen.

Colour follows Rich's own terminal detection (a pipe gets no escape codes unless FORCE_COLOR is
set). `color=False` (NO_COLOR) writes no escape codes at all, not even bold: Rich's own
`no_color` keeps bold and underline, which a log file or a screen reader does not want either.
Without colour, pooling windows cannot be told apart by background, so the legend is left out
(the cells are the same as in plain).
"""

from __future__ import annotations

import math
from typing import TextIO

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.rule import Rule
from rich.table import Table as RichTable
from rich.text import Text as RichText

from gradcli.render.blocks import Bars, Block, Formula, Grid, Heading, Table, Text
from gradcli.render.plain import escape

TONES = {"plain": "", "good": "green", "bad": "red", "warn": "yellow", "note": "dim"}
# Backgrounds for pooling windows: dark enough that default and red text stay readable.
WINDOW_COLOURS = ("on navy_blue", "on dark_green", "on purple4", "on orange4", "on deep_sky_blue4",
                  "on grey30")
SERIES_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red")
MARK_STYLE = "bold red"
BAR = "█"


def text(value: str, style: str = "") -> RichText:
    """User text as a literal Text: escaped control characters, never markup."""
    return RichText(escape(value), style=style)


def console(out: TextIO, *, color: bool, width: int | None,
            force_terminal: bool | None = None) -> Console:
    return Console(file=out, width=width or None, no_color=not color,
                   color_system="auto" if color else None, highlight=False, markup=False,
                   emoji=False, force_terminal=force_terminal)


def write(blocks: list[Block], out: TextIO, *, color: bool = True, width: int | None = None,
          force_terminal: bool | None = None) -> None:
    """`force_terminal` is for tests that need to see the colour codes in a StringIO."""
    print_blocks(console(out, color=color, width=width, force_terminal=force_terminal), blocks)


def print_blocks(con: Console, blocks: list[Block]) -> None:
    for i, block in enumerate(blocks):
        if isinstance(block, Heading) and i > 0:
            con.print()
        for renderable in renderables(block, con.width, coloured=con.color_system is not None):
            con.print(renderable)


def renderables(block: Block, width: int, *, coloured: bool = True) -> list:
    if isinstance(block, Heading):
        return _heading(block, width)
    if isinstance(block, Text):
        return [text(block.text, TONES.get(block.tone, ""))]
    if isinstance(block, Formula):
        return [_formula(block)]
    if isinstance(block, Table):
        return [_table(block)] if _fits(block, width) else _records(block)
    if isinstance(block, Grid):
        return _grid(block, coloured=coloured)
    if isinstance(block, Bars):
        return _bars(block, width)
    raise TypeError(f"no rich rendering for {type(block).__name__}")


def _heading(block: Heading, width: int) -> list:
    title = text(block.text, "bold" if block.level == 1 else "bold underline")
    if block.level != 1:
        return [title]
    if "\n" not in title.plain and title.cell_len + 6 <= width:
        return [Rule(title, align="left", style="dim")]
    # Rule truncates a title that does not fit; a problem's name is never cut short.
    return [title, Rule(style="dim")]


def _formula(block: Formula) -> RichText:
    out = RichText()
    if block.label:
        out.append_text(text(block.label, "bold"))
        out.append(" = ")
    out.append_text(text(block.pretty or block.text))
    if block.note:
        out.append("    ")
        out.append_text(text(block.note, "dim"))
    return out


def _longest_word(cell: str) -> int:
    return max((cell_len(w) for w in escape(cell).split()), default=0)


def _fits(block: Table, width: int) -> bool:
    """Whether every column can be as wide as its longest word: Rich folds a column narrower
    than that mid-word ("gradie" / "nt" on a 60-column terminal, issue 16)."""
    words = [max(_longest_word(c) for c in (column, *(r[i] for r in block.rows if i < len(r))))
             for i, column in enumerate(block.columns)]
    return sum(words) + 2 * len(words) <= width


def _records(block: Table) -> list:
    """A table too wide for the terminal, one record per row: its first cell, then each other
    column as `name: value` on its own line, so Rich wraps at spaces like any paragraph."""
    out: list = [text(block.title, "bold")] if block.title else []
    for i, row in enumerate(block.rows):
        tone = TONES.get(block.tones[i] if i < len(block.tones) else "plain", "")
        out.append(text(row[0], " ".join(s for s in ("bold", tone) if s)))
        for column, cell in zip(block.columns[1:], row[1:], strict=False):
            if cell:
                line = text(f"  {column}: ")
                line.append_text(text(cell, tone))
                out.append(line)
    return out


def _table(block: Table) -> RichTable:
    table = RichTable(title=text(block.title, "bold") if block.title else None,
                      title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    for column in block.columns:
        table.add_column(text(column, "bold"), overflow="fold")
    for i, row in enumerate(block.rows):
        tone = block.tones[i] if i < len(block.tones) else "plain"
        table.add_row(*(text(c) for c in row), style=TONES.get(tone, "") or None)
    return table


def _grid_cell(block: Grid, i: int, j: int, width: int) -> RichText:
    group = block.groups[i][j] if block.groups else None
    marked = bool(block.marks and block.marks[i][j])
    style = " ".join(s for s in (MARK_STYLE if marked else "",
                                 WINDOW_COLOURS[group % len(WINDOW_COLOURS)]
                                 if group is not None else "") if s)
    cell = escape(block.cells[i][j])
    # Padded here, not by the table: right-justifying would strip the space that stands where
    # another cell has its `*`, and the numbers would no longer line up.
    return text(" " * (width - cell_len(cell) + 1) + cell + ("*" if marked else " "), style)


def _grid(block: Grid, *, coloured: bool) -> list:
    columns = max((len(r) for r in block.cells), default=0)
    width = max((cell_len(escape(c)) for r in block.cells for c in r), default=1)
    table = RichTable(title=text(block.title, "bold") if block.title else None,
                      title_justify="left", show_header=False, box=box.SQUARE, padding=0,
                      collapse_padding=True)
    for _ in range(columns):
        table.add_column(justify="left")
    for i, row in enumerate(block.cells):
        table.add_row(*(_grid_cell(block, i, j, width) for j in range(len(row))))
    out: list = [table]
    if coloured and block.groups and any(g is not None for r in block.groups for g in r):
        out.append(RichText("each background colour is one window", style="dim"))
    if block.marks and any(any(r) for r in block.marks):
        out.append(RichText.assemble(("*", MARK_STYLE), (" marks a wrong cell", "dim")))
    return out


def bar_value(value: float) -> str:
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.2e}"


def log_scale(values: tuple[float, ...]) -> tuple[int, int] | None:
    """Whole decades spanning the non-zero finite magnitudes, or None if there are none."""
    logs = [math.log10(abs(v)) for v in values if v != 0 and math.isfinite(v)]
    if not logs:
        return None
    lo, hi = math.floor(min(logs)), math.ceil(max(logs))
    return lo, hi if hi > lo else lo + 1


def bar_lengths(values: tuple[float, ...], width: int) -> list[int]:
    """Bar length per value on a log10 scale; any non-zero finite value gets at least one cell."""
    scale = log_scale(values)
    if scale is None:
        return [0] * len(values)
    lo, hi = scale
    return [0 if v == 0 or not math.isfinite(v)
            else max(1, round((math.log10(abs(v)) - lo) / (hi - lo) * width)) for v in values]


def _bars(block: Bars, width: int) -> list:
    series = block.series if len(block.series) == len(block.values) else ()
    names = list(dict.fromkeys(series))
    label_width = max((len(escape(s)) for s in (*block.labels, *series)), default=0)
    bar_width = max(10, min(50, width - label_width * (2 if series else 1) - 16))
    table = RichTable(title=text(block.title, "bold") if block.title else None,
                      title_justify="left", show_header=False, box=None, padding=(0, 1))
    for justify in ("left",) * (2 if series else 1) + ("left", "right"):
        table.add_column(justify=justify, no_wrap=True)
    for i, (label, value, length) in enumerate(
            zip(block.labels, block.values, bar_lengths(block.values, bar_width), strict=True)):
        colour = SERIES_COLOURS[names.index(series[i]) % len(SERIES_COLOURS)] if series else "cyan"
        cells = [text(series[i], colour)] if series else []
        table.add_row(*cells, text(label), RichText(BAR * length, style=colour),
                      RichText(bar_value(value)))
    scale = log_scale(block.values)
    note = f"log10 scale, 1e{scale[0]} to 1e{scale[1]}" if scale else "all values are 0"
    return [table, RichText(note, style="dim")]
