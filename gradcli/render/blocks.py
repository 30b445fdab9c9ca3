"""A small document model between results and output formats.

Each kind of result is laid out once, as a list of blocks (`render/layouts/<kind>.py`); each
output format renders blocks (`render/<format>.py`). A new format is one new module, a new
kind of problem is one new layout: neither edits the other (SymPy's printer habit, applied to
documents). JSON is the exception: it follows the SPEC's stable keys, so each layout also
supplies `payload(result)`.

Block text is literal user-visible text: renderers must never interpret it as markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Tone = Literal["plain", "note", "good", "bad", "warn"]


@dataclass(frozen=True)
class Heading:
    """A heading: a problem's title or a section inside it."""

    text: str
    level: int = 1  # 1 = a problem's title, 2 = a section inside it


@dataclass(frozen=True)
class Text:
    """A paragraph, with a tone for colouring."""

    text: str
    tone: Tone = "plain"


@dataclass(frozen=True)
class Formula:
    """A displayed equation `label = expression`.

    `text` is in gradcli's expression language (what plain/json print, pasteable as a claim);
    `pretty` is course notation with Unicode (⊙, ᵀ, σ) for the terminal; `latex` for LaTeX
    and Markdown. Empty `pretty`/`latex` fall back to `text`.
    """

    label: str
    text: str
    pretty: str = ""
    latex: str = ""
    latex_label: str = ""
    note: str = ""  # e.g. a shape "n×1", shown beside the formula


@dataclass(frozen=True)
class Table:
    """A table of strings with column headers."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    title: str = ""
    tones: tuple[Tone, ...] = ()  # one per row, optional


@dataclass(frozen=True)
class Grid:
    """A matrix of cells; `groups` gives each cell a window number (or None) for colouring."""

    title: str
    cells: tuple[tuple[str, ...], ...]
    groups: tuple[tuple[int | None, ...], ...] | None = None
    latex_cells: tuple[tuple[str, ...], ...] | None = None
    marks: tuple[tuple[bool, ...], ...] | None = None  # cells to point out (e.g. wrong ones)


@dataclass(frozen=True)
class Bars:
    """A horizontal bar chart on a log10 scale (vanishing gradients)."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    series: tuple[str, ...] = field(default=())  # optional series name per bar


Block = Heading | Text | Formula | Table | Grid | Bars
