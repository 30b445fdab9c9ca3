"""Printing index expressions (`layout_index.Ix`) three ways, like the matrix forms.

- text (plain, JSON): `Σ_k W1[k,i]*δ₁[k]`, brackets for indices as gradcli's other index
  notation (`∂L/∂X[i,j]`), `*` for every product;
- course notation (rich): `Σₖ (W₁)ₖᵢ (δ₁)ₖ`, subscripts, products by juxtaposition;
- LaTeX: `\\sum_{k} \\left(W_{1}\\right)_{ki} \\left(\\delta_{1}\\right)_{k}`.

A Σ reaches as far right as it can, so it is parenthesised wherever it is not the whole
expression (or the whole of a function's argument).
"""

from __future__ import annotations

from collections.abc import Callable

from gradcli.expr.ast import Name, Node, Num
from gradcli.expr.unparse import number
from gradcli.kinds.network import algebra as A
from gradcli.kinds.network.display import text as display_text
from gradcli.kinds.network.layout_index import (
    SUBSCRIPT,
    Bracket,
    Const,
    Entry,
    Fn,
    Ix,
    Neg,
    Op,
    Sum,
    factors,
)
from gradcli.kinds.network.matrix_print import latex_name

# LaTeX's own operator names for the functions that have one
_LATEX_FUNCS = {f: "\\" + f for f in ("exp", "log", "tanh", "sin", "cos", "sinh", "cosh")}
_LATEX_FUNCS["sigmoid"] = r"\sigma"
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "**": 4, "atom": 6, "sum": 0}


def _prec(ix: Ix) -> int:
    if isinstance(ix, Op):
        return _PREC[ix.op]
    if isinstance(ix, Neg):
        return _PREC["neg"]
    if isinstance(ix, Sum):
        return _PREC["sum"]
    symbol = getattr(ix.node, "symbol", "") if isinstance(ix, Const) else ""
    if "·" in symbol:  # N·m: a product
        return _PREC["*"]
    if isinstance(ix, Const) and ix.node.value < 0 and not symbol:
        return _PREC["neg"]
    return _PREC["atom"]


class IndexPrinter:
    """One printer, three targets: `style` is "text", "pretty" or "latex"; `matrix` prints
    the whole of an opaque call (the matrix printers of the derivation)."""

    def __init__(self, style: str, matrix: Callable[[Node], str] | None = None):
        self.style = style
        self.matrix = matrix or display_text

    def __call__(self, ix: Ix) -> str:
        return self.print(ix)

    def wrap(self, ix: Ix, need: int) -> str:
        out = self.print(ix)
        if _prec(ix) >= need:
            return out
        return rf"\left({out}\right)" if self.style == "latex" else f"({out})"

    def print(self, ix: Ix) -> str:
        if isinstance(ix, Const):
            return self.const(ix.node)
        if isinstance(ix, Entry):
            return self.entry(ix)
        if isinstance(ix, Bracket):
            return f"[{ix.i}={ix.j}]"
        if isinstance(ix, Neg):
            return ("-" if self.style != "pretty" else "−") + self.wrap(ix.operand, _PREC["neg"])
        if isinstance(ix, Fn):
            return self.function(ix)
        if isinstance(ix, Sum):
            return self.sum(ix)
        if isinstance(ix, Op):
            return self.op(ix)
        raise TypeError(f"cannot print {type(ix).__name__}")

    def const(self, node: Num) -> str:
        symbol = getattr(node, "symbol", "")
        if symbol:
            return symbol.replace("·", r" \cdot " if self.style == "latex" else "*"
                                  if self.style == "text" else "·")
        return node.text or number(node.value)

    def indices(self, axes: tuple) -> list[str]:
        return [a for a in axes if a]

    def base(self, ix: Entry) -> tuple[str, bool]:
        """The name's printed form, and whether it needs parentheses before a subscript."""
        node = ix.node
        if ix.opaque:
            if self.style == "latex":
                return self.matrix(node), True
            return self.matrix(node), self.style == "pretty"
        if isinstance(node, A.Adjoint):
            name = (node.latex if self.style == "latex" else node.symbol) or node.id
            return name, not _one_letter(name) and name != r"\delta"
        if isinstance(node, Name):
            if self.style == "latex":
                name = latex_name(node.id)
                return name, "_" in name or "{" in name
            pretty = self.matrix(node) if self.style == "pretty" else node.id
            return pretty, len(node.id) > 1
        return self.matrix(node), True

    def entry(self, ix: Entry) -> str:
        name, compound = self.base(ix)
        idx = self.indices(ix.axes)
        if not idx:
            return name
        if self.style == "text":
            return f"{name}[{','.join(idx)}]"
        if self.style == "latex":
            head = rf"\left({name}\right)" if compound else name
            return f"{head}_{{{''.join(idx)}}}"
        head = f"({name})" if compound else name
        if all(len(i) == 1 and i in SUBSCRIPT for i in idx):
            return head + "".join(SUBSCRIPT[i] for i in idx)
        return f"{head}[{','.join(idx)}]"

    def function(self, ix: Fn) -> str:
        f = ix.call.func
        args = [self.print(a) for a in ix.args]
        args += [f"{k}={display_text(v)}" for k, v in ix.call.kwargs]
        if self.style == "latex":
            escaped = f.replace("_", "\\_")
            name = _LATEX_FUNCS.get(f, rf"\operatorname{{{escaped}}}")
            return rf"{name}\left({', '.join(args)}\right)"
        if self.style == "pretty" and f == "sigmoid":
            f = "σ"
        return f"{f}({', '.join(args)})"

    def sum(self, ix: Sum) -> str:
        names = [k for k, _ in ix.over]
        body = self.wrap(ix.body, _PREC["*"])  # Σ_k (a[k] - b[k]): a sum's terms in parentheses
        if self.style == "latex":
            return rf"\sum_{{{','.join(names)}}} {body}"
        if self.style == "pretty" and all(k in SUBSCRIPT for k in names):
            return "Σ" + "".join(SUBSCRIPT[k] for k in names) + " " + body
        return f"Σ_{','.join(names)} {body}"

    def op(self, ix: Op) -> str:
        p = _PREC[ix.op]
        if ix.op == "**":
            base = self.wrap(ix.left, _PREC["atom"])
            exp = self.print(ix.right)
            if self.style == "latex":
                return f"{base}^{{{exp}}}"
            return f"{base}**{self.wrap(ix.right, _PREC['atom'])}"
        if ix.op in "+-":
            sym = {"+": " + ", "-": " - " if self.style != "pretty" else " − "}[ix.op]
            return self.wrap(ix.left, p) + sym + self.wrap(ix.right, p + 1)
        if ix.op == "/" and self.style == "latex":
            return rf"\frac{{{self.print(ix.left)}}}{{{self.print(ix.right)}}}"
        if ix.op == "/":
            return self.wrap(ix.left, p) + "/" + self.wrap(ix.right, p + 1)
        sym = {"text": "*", "pretty": " ", "latex": " "}[self.style]
        first, *rest = factors(ix)  # a product prints flat: a*b*c, whichever way it nests
        return sym.join([self.wrap(first, p), *(self.wrap(f, p + 1) for f in rest)])


def _one_letter(name: str) -> bool:
    """δ, σ, Ẑ, X̂ (a letter and its combining marks): a subscript may follow directly."""
    import unicodedata

    return sum(1 for c in name if not unicodedata.combining(c)) == 1


def label(loss: str, name: str, axes: tuple, style: str) -> str:
    """∂L/∂W[i,j] (text), ∂L/∂Wᵢⱼ (pretty), \\frac{∂L}{∂W_{ij}} (LaTeX)."""
    idx = [a for a in axes if a]
    if style == "latex":
        return rf"\frac{{\partial {loss}}}{{\partial {latex_indexed(latex_name(name), idx)}}}"
    if not idx:
        return f"∂{loss}/∂{name}"
    if style == "pretty" and all(i in SUBSCRIPT for i in idx):
        head = f"({name})" if len(name) > 1 else name
        return f"∂{loss}/∂{head}" + "".join(SUBSCRIPT[i] for i in idx)
    return f"∂{loss}/∂{name}[{','.join(idx)}]"


def latex_indexed(base: str, idx: list[str]) -> str:
    """`W_{ij}`, or `\\left(W_{1}\\right)_{ij}` where the base has a subscript of its own (a
    second `_` would not compile)."""
    if not idx:
        return base
    if "_" in base or "\\frac" in base or " " in base:
        base = rf"\left({base}\right)"
    return f"{base}_{{{''.join(idx)}}}"
