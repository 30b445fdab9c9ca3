"""Course notation for matrix expressions: Unicode for the terminal, LaTeX for documents.

The expression language (`expr.unparse`) is what plain and JSON print, so a formula can be
pasted back as a claim; these two printers are for reading: `δ xᵀ`, `(y − t) ⊙ y ⊙ (1 − y)`,
`Wᵀ δ`, `σ(z)`. Whether `*` is a Hadamard product (⊙) or a scalar multiple (·) depends on the
shapes, so the printers take the shape function of the derivation.
"""

from __future__ import annotations

from collections.abc import Callable

from gradcli.expr.ast import Binary, Call, Name, Node, Num, Str, Transpose, Unary
from gradcli.expr.unparse import number
from gradcli.kinds.network.algebra import Adjoint, DimNum, Eye, Ones

_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "unary": 3, "**": 4, "postfix": 5, "atom": 6}
_SUPER = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_GREEK = {"sigmoid": "σ"}
_LATEX_FUNCS = {"sigmoid": r"\sigma", "exp": r"\exp", "log": r"\log", "tanh": r"\tanh",
                "sin": r"\sin", "cos": r"\cos", "sum": r"\operatorname{sum}",
                "det": r"\det", "trace": r"\operatorname{tr}"}
_LATEX_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu",
                "sigma", "tau", "phi", "psi", "omega"}


def _inverted(node: Node) -> bool:
    """inv(X) of a name or a parenthesised product: printed X⁻¹ as a course writes it."""
    return isinstance(node, Call) and node.func == "inv" and len(node.args) == 1 and not node.kwargs


def subscript_digits(name: str) -> str:
    """`W1` -> `W₁`: trailing digits of a layer name as a subscript."""
    head = name.rstrip("0123456789")
    return head + name[len(head):].translate(_SUB) if head else name


def latex_name(name: str) -> str:
    head = name.rstrip("0123456789")
    digits = name[len(head):]
    if "_" in head:
        base, _, sub = head.partition("_")
        head, digits = base, sub + digits
    if head in _LATEX_GREEK:
        core = "\\" + head
    elif len(head) > 1:
        core = rf"\mathrm{{{head}}}"
    else:
        core = head
    return f"{core}_{{{digits}}}" if digits and head else core


class Printer:
    def __init__(self, is_scalar: Callable[[Node], bool], latex: bool = False):
        self.is_scalar = is_scalar
        self.latex = latex

    def __call__(self, node: Node) -> str:
        return self.print(node)

    def prec(self, node: Node) -> int:
        if isinstance(node, Binary):
            return _PREC[node.op]
        if isinstance(node, DimNum) and "·" in node.symbol:
            return _PREC["*"]
        if isinstance(node, Unary) or (isinstance(node, Num) and node.value < 0):
            return _PREC["unary"]
        if isinstance(node, Transpose):
            return _PREC["postfix"]
        return _PREC["atom"]

    def wrap(self, node: Node, need: int) -> str:
        text = self.print(node)
        if self.prec(node) >= need:
            return text
        return rf"\left({text}\right)" if self.latex else f"({text})"

    def print(self, node: Node) -> str:
        if isinstance(node, Ones):
            return r"\mathbf{1}" if self.latex else "𝟙"
        if isinstance(node, Eye):
            return "I"
        if isinstance(node, DimNum):
            if self.latex and node.symbol:  # N·m, a count of entries: a product in maths
                return node.symbol.replace("·", r" \cdot ")
            return node.symbol or number(node.value)
        if isinstance(node, Num):
            return node.text or number(node.value)
        if isinstance(node, Str):
            return f'"{node.value}"'
        if isinstance(node, Adjoint):
            return (node.latex if self.latex else node.symbol) or node.id
        if isinstance(node, Name):
            if self.latex:
                return latex_name(node.id)
            return {"pi": "π"}.get(node.id, node.id)
        if isinstance(node, Unary):
            minus = "-" if self.latex else "−"
            return minus + self.wrap(node.operand, _PREC["unary"])
        if isinstance(node, Transpose) and _inverted(node.operand):  # X⁻ᵀ
            base = self.wrap(node.operand.args[0], _PREC["atom"])
            return base + (r"^{-\top}" if self.latex else "⁻ᵀ")
        if isinstance(node, Transpose):
            t = r"^{\top}" if self.latex else "ᵀ"
            return self.wrap(node.operand, _PREC["atom"]) + t
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Binary):
            return self.binary(node)
        raise TypeError(f"cannot print {type(node).__name__}")

    def call(self, node: Call) -> str:
        if _inverted(node):  # X⁻¹
            return self.wrap(node.args[0], _PREC["atom"]) + ("^{-1}" if self.latex else "⁻¹")
        if node.func == "kron" and len(node.args) == 2:  # (A ⊗ B)
            a, b = (self.wrap(x, _PREC["unary"]) for x in node.args)
            times = r"\otimes" if self.latex else "⊗"
            return f"({a} {times} {b})"
        args = [self.print(a) for a in node.args]
        args += [f"{k}={self.print(v)}" for k, v in node.kwargs]
        if self.latex:
            escaped = node.func.replace("_", "\\_")
            name = _LATEX_FUNCS.get(node.func, rf"\operatorname{{{escaped}}}")
            return rf"{name}\left({', '.join(args)}\right)"
        return f"{_GREEK.get(node.func, node.func)}({', '.join(args)})"

    def binary(self, node: Binary) -> str:
        op = node.op
        p = _PREC[op]
        if op == "**":
            return self.power(node)
        if op in "+-":
            sym = {"+": " + ", "-": " - " if self.latex else " − "}[op]
            return self.wrap(node.left, p) + sym + self.wrap(node.right, p + 1)
        if op == "/" and self.latex and self.is_scalar(node.right):
            return rf"\frac{{{self.print(node.left)}}}{{{self.print(node.right)}}}"
        scalar = self.is_scalar(node.left) or self.is_scalar(node.right)
        if op == "@":
            sym = r" \, " if self.latex else " "
        elif op == "*":
            sym = (r" \cdot " if self.latex else "·") if scalar else (r" \odot " if self.latex else " ⊙ ")
        else:
            sym = "/" if scalar else (r" \oslash " if self.latex else " ⊘ ")
        return self.operand(node.left, op, p) + sym + self.operand(node.right, op, p + 1)

    def operand(self, node: Node, op: str, need: int) -> str:
        """Juxtaposition (@), ⊙ and · look alike in precedence: mixing them gets parentheses."""
        if isinstance(node, Binary) and node.op in "*/@" and node.op != op and \
                not (node.op == "*" and isinstance(node.left, Num) and op != "@"):
            need = max(need, _PREC["unary"])
        return self.wrap(node, need)

    def power(self, node: Binary) -> str:
        base = self.wrap(node.left, _PREC["postfix"])
        exp = node.right
        if self.latex:
            return f"{base}^{{{self.print(exp)}}}"
        if isinstance(exp, Num) and exp.value == int(exp.value):
            return base + str(int(exp.value)).translate(_SUPER)
        if isinstance(exp, Unary) and isinstance(exp.operand, Num) and exp.operand.value == int(exp.operand.value):
            return base + ("-" + str(int(exp.operand.value))).translate(_SUPER)
        return f"{base}^{self.wrap(exp, _PREC['atom'])}"
