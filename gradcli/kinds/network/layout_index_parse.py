"""Reading printed index notation back, so the index view's check starts from the text.

The index printer's plain text (`Σ_k W1[k,i]*δ₁[k]`, `(y[i] - t[i])*y[i]`, `[i=j]`,
`softmax(Z, dim=1)[i,j]`) is parsed here into the same small tree (`layout_index.Ix`) that
`layout_einsum.py` runs, the way a matrix form is printed, parsed back and evaluated: the
check then proves that the text a reader sees means the gradient, not only that the tree it
was printed from does. The grammar is the printer's:

    expr  := term (("+" | "-") term)*
    term  := unary (("*" | "/") unary)*
    unary := "-" unary | power
    power := atom ("**" atom)?
    atom  := number | "(" expr ")" | "Σ_" index ("," index)* " " term | "[" i "=" j "]"
           | function "(" args ")" | name ("[" index ("," index)* "]")?

Names are matched against the names the view printed (givens, forward names, δ, ∂L/∂Y,
dims), longest first, since `∂L/∂Y` holds a slash; a call that is not elementwise is looked up
by its printed text among the calls the view printed as entries of the whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from gradcli import catalog
from gradcli.expr.ast import Call, Name, Node, Num, Str
from gradcli.kinds.network import algebra as A
from gradcli.kinds.network.layout_index import Bracket, Const, Entry, Fn, Ix, Neg, Op, Sum
from gradcli.kinds.network.shapes import Shape

_NUMBER = re.compile(r"\d+(\.\d*)?([eE][-+]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_INDEX = re.compile(r"[a-z][0-9]*")


class IndexSyntaxError(ValueError):
    """Printed index notation that does not read back (a printer bug, reported as a failed check)."""


class Reader:
    """`names`: printed name -> its node (Name or Adjoint); `dims`: dim name -> size;
    `opaque`: printed text of a call taken as a whole -> the call; `shape_of`: the shapes of
    the names (which of a name's axes an index belongs to: a size-1 axis has none)."""

    def __init__(self, names: Mapping[str, Node], dims: Mapping[str, int],
                 opaque: Mapping[str, Node], shape_of: Callable[[Node], Shape]):
        self.names = sorted(names.items(), key=lambda kv: -len(kv[0]))
        self.dims = dims
        self.opaque = sorted(opaque.items(), key=lambda kv: -len(kv[0]))
        self.shape_of = shape_of
        self.text, self.pos = "", 0

    def __call__(self, text: str) -> Ix:
        self.text, self.pos = text, 0
        out = self.expr()
        self.space()
        if self.pos != len(text):
            raise self.error("unexpected text")
        return out

    # -- scanning -------------------------------------------------------------------------
    def error(self, what: str) -> IndexSyntaxError:
        return IndexSyntaxError(f"{what} at column {self.pos + 1} of {self.text!r}")

    def space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def take(self, token: str) -> bool:
        self.space()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def expect(self, token: str) -> None:
        if not self.take(token):
            raise self.error(f"expected {token!r}")

    def indices(self, close: str) -> tuple[str, ...]:
        out = []
        while True:
            m = _INDEX.match(self.text, self.pos)
            if not m:
                raise self.error("expected an index")
            out.append(m.group())
            self.pos = m.end()
            if not self.take(","):
                break
        if close:
            self.expect(close)
        return tuple(out)

    # -- the grammar ----------------------------------------------------------------------
    def expr(self) -> Ix:
        out = self.term()
        while True:
            if self.take("+"):
                out = Op("+", out, self.term())
            elif self.take("-"):
                out = Op("-", out, self.term())
            else:
                return out

    def term(self) -> Ix:
        out = self.unary()
        while True:
            if self.take("**"):  # only after an atom: a power binds tighter than * and /
                raise self.error("misplaced '**'")
            if self.take("*"):
                out = Op("*", out, self.unary())
            elif self.take("/"):
                out = Op("/", out, self.unary())
            else:
                return out

    def unary(self) -> Ix:
        if self.take("-"):
            return Neg(self.unary())
        base = self.atom()
        if self.take("**"):
            return Op("**", base, self.atom())
        return base

    def atom(self) -> Ix:
        self.space()
        if self.take("("):
            inner = self.expr()
            self.expect(")")
            return inner
        if self.take("Σ_"):
            over = self.indices("")
            return Sum(tuple((k, 0) for k in over), self.term())  # ranges: from the tensors
        if self.take("["):
            i, j = self.indices("=")[0], self.indices("]")[0]
            return Bracket(i, j)
        m = _NUMBER.match(self.text, self.pos)
        if m:
            self.pos = m.end()
            value = float(m.group())
            return Const(A.num(value))
        return self.named()

    def named(self) -> Ix:
        for text, node in self.opaque:
            if self.text.startswith(text, self.pos):
                self.pos += len(text)
                return Entry(node, self.axes(node), opaque=True)
        m = _IDENT.match(self.text, self.pos)
        if m and self.text.startswith("(", m.end()) and catalog.is_elementwise(m.group()) or \
                m and m.group() in catalog.PAIRWISE and self.text.startswith("(", m.end()):
            self.pos = m.end() + 1
            return self.function(m.group())
        for text, node in self.names:
            end = self.pos + len(text)
            if self.text.startswith(text, self.pos) and not _IDENT.match(self.text[end:end + 1]):
                self.pos = end
                return Entry(node, self.axes(node))
        if m and m.group() in self.dims:
            self.pos = m.end()
            return Const(A.DimNum(self.dims[m.group()], symbol=m.group()))
        raise self.error("unknown name")

    def axes(self, node: Node) -> tuple:
        """`[k,i]` after a name: its indices, placed on the axes the name has (a size-1 axis
        has none)."""
        if not self.text.startswith("[", self.pos):
            return ()
        self.pos += 1
        given = self.indices("]")
        return self.place(node, given)

    def place(self, node: Node, given: tuple[str, ...]) -> tuple:
        shape = self.shape_of(node)
        if not shape:
            raise self.error("a scalar has no index")
        free = [not d.is_one for d in shape]
        if sum(free) != len(given):
            raise self.error(f"{len(given)} indices for a value with {sum(free)} axes")
        it = iter(given)
        return tuple(next(it) if f else None for f in free)

    def function(self, func: str) -> Ix:
        args: list[Ix] = []
        kwargs: list[tuple[str, Node]] = []
        while not self.take(")"):
            if args or kwargs:
                self.expect(",")
            self.space()
            m = _IDENT.match(self.text, self.pos)
            if m and self.text.startswith("=", m.end()):
                self.pos = m.end() + 1
                kwargs.append((m.group(), self.literal()))
            else:
                args.append(self.expr())
        call = Call(func, tuple(a.node if isinstance(a, Const) else Num(0) for a in args),
                    tuple(kwargs))
        return Fn(call, tuple(args))

    def literal(self) -> Node:
        self.space()
        if self.take('"'):
            end = self.text.index('"', self.pos)
            value, self.pos = self.text[self.pos:end], end + 1
            return Str(value)
        negative = self.take("-")
        m = _NUMBER.match(self.text, self.pos)
        if not m:
            raise self.error("expected a number")
        self.pos = m.end()
        return A.num(-float(m.group()) if negative else float(m.group()))


def reader_for(view) -> Reader:
    """A reader of what `view` printed: its names, dims and calls taken as a whole."""
    from gradcli.kinds.network.display import text

    names: dict[str, Node] = {n: Name(n) for n in ("pi", "e")}  # unless a file's names shadow them
    names.update({n: Name(n) for n in view.graph.shapes.names if not n.startswith("__")})
    for sym in view.s.bp.symbols.values():
        if sym.symbol:
            names.setdefault(sym.symbol, sym)
    opaque = {text(n): n for n in view.opaque}
    return Reader(names, dict(view.s.problem.dims), opaque, view.graph.shapes)
