"""The syntax tree of the expression language.

Kept free of SymPy so that parsing and validating a problem file costs nothing heavy.
Every node remembers `start`/`end` (0-based character offsets into the source text) so that
later stages (unknown names, shape mismatches) can still point at a column.

Network derivation works on this tree directly, with shapes, rather than on SymPy's
MatrixSymbol (whose derivatives print as unreadable array trees); scalar derivation turns
it into SymPy via `gradcli.expr.to_sympy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Node:
    """The base of every node: where it sits in the source text (not compared)."""

    start: int = field(default=0, compare=False, kw_only=True)
    end: int = field(default=0, compare=False, kw_only=True)

    @property
    def column(self) -> int:
        """1-based column of the node's first character."""
        return self.start + 1


@dataclass(frozen=True)
class Num(Node):
    """A number literal; `text` keeps the literal's own decimal spelling."""

    value: float | int
    text: str = ""


@dataclass(frozen=True)
class Str(Node):
    """Only allowed as a keyword-argument value, e.g. reduction="sum"."""

    value: str


@dataclass(frozen=True)
class Name(Node):
    """A variable or constant name."""

    id: str


@dataclass(frozen=True)
class Unary(Node):
    """A unary minus or plus."""

    op: str  # "-" or "+"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    """A binary operation: + - * / ** or @."""

    op: str  # one of + - * / ** @
    left: Node
    right: Node


@dataclass(frozen=True)
class Transpose(Node):
    """A postfix transpose of its operand."""

    operand: Node


@dataclass(frozen=True)
class Call(Node):
    """A function call with positional and keyword arguments."""

    func: str
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...] = ()

    def kwarg(self, name: str) -> Node | None:
        return next((v for k, v in self.kwargs if k == name), None)


def walk(node: Node):
    """Every node of the tree, parents before children."""
    yield node
    if isinstance(node, Unary | Transpose):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Call):
        for a in node.args:
            yield from walk(a)
        for _, v in node.kwargs:
            yield from walk(v)


def names(node: Node) -> set[str]:
    """The variable names an expression uses (not function names)."""
    return {n.id for n in walk(node) if isinstance(n, Name)}
