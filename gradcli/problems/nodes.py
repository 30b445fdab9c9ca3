"""The tree a problem file is read into: YAML nodes that remember where they are.

`load.py` builds it from the parser's events; `validate.py` and its per-kind readers turn it
into a Problem. Both import this module and neither imports the other's internals, so the
reading layer has no loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Scalar:
    """A scalar value as written: its text after unquoting, its YAML style, its place.

    `line`/`column` are where the text itself starts (after an opening quote). `lines` maps
    each line of the text to its (line, column) in the file, when that mapping is exact.
    """

    text: str
    style: str | None  # None (plain), "'", '"', "|", ">"
    line: int
    column: int
    lines: tuple[tuple[int, int], ...] = field(default=(), compare=False, repr=False)

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) in the file of the character at `offset` (0-based) in the text."""
        if not self.lines:
            return self.line, self.column
        before = self.text[:offset]
        row = min(before.count("\n"), len(self.lines) - 1)
        line, column = self.lines[row]
        return line, column + offset - (before.rfind("\n") + 1)

    @property
    def plain(self) -> bool:
        return self.style is None


@dataclass(frozen=True)
class Mapping:
    items: tuple[tuple[Scalar, Node], ...]
    line: int
    column: int

    def get(self, key: str) -> Node | None:
        return next((v for k, v in self.items if k.text == key), None)

    def keys(self) -> list[str]:
        return [k.text for k, _ in self.items]


@dataclass(frozen=True)
class Sequence:
    items: tuple[Node, ...]
    line: int
    column: int


Node = Union[Scalar, Mapping, Sequence]
