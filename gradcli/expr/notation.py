"""Course notation for syntax trees: Unicode for the terminal, LaTeX for documents.

The expression language (`unparse`) is what users paste; these two are what they read:
`0.5*x*(1 - tanh(u)**2)*sqrt(2/pi)` becomes `0.5x(1 − tanh²(u))·√(2/π)` and
`0.5 x \\left(1 - \\tanh^{2}\\left(u\\right)\\right) \\sqrt{\\frac{2}{\\pi}}`. One printer
per target, dispatching on the node class (SymPy's printer habit). `matrix=True` writes `*`
as the Hadamard product ⊙ / \\odot and `@` as juxtaposition, for network gradients.
"""

from __future__ import annotations

from gradcli.expr.ast import Binary, Call, Name, Node, Num, Str, Transpose, Unary
from gradcli.expr.unparse import number

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_GREEK = {"pi": "π", "sigmoid": "σ", "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ",
          "theta": "θ", "lambda_": "λ", "mu": "μ", "sigma": "σ", "tau": "τ", "eta": "η"}
_LATEX_GREEK = {"pi": r"\pi", "alpha": r"\alpha", "beta": r"\beta", "gamma": r"\gamma",
                "delta": r"\delta", "theta": r"\theta", "mu": r"\mu", "sigma": r"\sigma",
                "tau": r"\tau", "eta": r"\eta"}
_LATEX_FUNCTIONS = {"exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos",
                    "tanh": r"\tanh", "sigmoid": r"\sigma", "det": r"\det", "cosh": r"\cosh",
                    "sinh": r"\sinh", "coth": r"\coth", "tan": r"\tan", "sec": r"\sec",
                    "max": r"\max", "min": r"\min"}
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "unary": 3, "**": 4, "postfix": 5, "atom": 6}


def _prec(node: Node) -> int:
    if isinstance(node, Binary):
        return _PREC[node.op]
    if isinstance(node, Unary) or (isinstance(node, Num) and node.value < 0):
        return _PREC["unary"]
    if isinstance(node, Transpose):
        return _PREC["postfix"]
    return _PREC["atom"]


def _is_integer_power(node: Node) -> int | None:
    if isinstance(node, Binary) and node.op == "**" and isinstance(node.right, Num) \
            and isinstance(node.right.value, int) and 0 <= node.right.value < 100:
        return node.right.value
    return None


def _escape(name: str) -> str:
    return name.replace("_", r"\_")


def _starts_with_digit(text: str) -> bool:
    return bool(text) and (text[0].isdigit() or text[0] == ".")


class _Printer:
    """One printer per target; subclasses say how to print each node class and bracket."""

    brackets = ("(", ")")

    def __init__(self, matrix: bool = False):
        self.matrix = matrix

    def __call__(self, node: Node) -> str:
        return self.p(node)

    def wrap(self, node: Node, need: int) -> str:
        text = self.p(node)
        open_, close = self.brackets
        return f"{open_}{text}{close}" if _prec(node) < need else text

    def p(self, node: Node) -> str:
        raise NotImplementedError


class Pretty(_Printer):
    """Unicode course notation."""

    def p(self, node: Node) -> str:
        if isinstance(node, Num):
            text = node.text or number(node.value)
            return text.replace("-", "−")
        if isinstance(node, Str):
            return f'"{node.value}"'
        if isinstance(node, Name):
            return _GREEK.get(node.id, node.id)
        if isinstance(node, Unary):
            inner = self.wrap(node.operand, _PREC["unary"])
            return ("−" if node.op == "-" else "+") + inner
        if isinstance(node, Transpose):
            return self.wrap(node.operand, _PREC["postfix"]) + "ᵀ"
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Binary):
            return self.binary(node)
        raise TypeError(type(node).__name__)

    def call(self, node: Call) -> str:
        args = ", ".join([self.p(a) for a in node.args] +
                         [f"{k}={self.p(v)}" for k, v in node.kwargs])
        if node.func == "sqrt":
            arg = node.args[0]
            return "√" + (self.p(arg) if _prec(arg) >= _PREC["atom"] else f"({self.p(arg)})")
        if node.func == "abs":
            return f"|{args}|"
        if node.func == "exp" and not self.matrix:
            return "exp(" + args + ")"
        return f"{_GREEK.get(node.func, node.func)}({args})"

    def binary(self, node: Binary) -> str:
        op = node.op
        p = _PREC[op]
        if op == "**":
            n = _is_integer_power(node)
            base = node.left
            if n is not None:
                sup = str(n).translate(_SUPERSCRIPT)
                if isinstance(base, Call) and base.func not in ("sqrt", "abs"):
                    inner = self.call(base)
                    head = _GREEK.get(base.func, base.func)
                    return head + sup + inner[len(head):]
                return self.wrap(base, _PREC["postfix"]) + sup
            return f"{self.wrap(base, _PREC['postfix'])}^{self.wrap(node.right, _PREC['atom'])}"
        left = self.wrap(node.left, p)
        right = self.wrap(node.right, p + 1)
        if op in "+-":
            return f"{left} {'+' if op == '+' else '−'} {right}"
        if op == "/":
            return f"{left}/{right}"
        if op == "@":
            return f"{left} {right}"
        if self.matrix:
            return f"{left} ⊙ {right}"
        # Scalars: a number before a name or a bracket reads as juxtaposition (0.5x, 3x²).
        if isinstance(node.left, Num) and not _starts_with_digit(right):
            return f"{left}{right}"
        if right.startswith("(") and not left.endswith(")"):
            return f"{left}{right}"
        return f"{left}·{right}"


class Latex(_Printer):
    """LaTeX course notation (math mode)."""

    brackets = (r"\left(", r"\right)")

    def p(self, node: Node) -> str:
        if isinstance(node, Num):
            text = node.text or number(node.value)
            if "e" in text or "E" in text:
                mantissa, _, exp = text.lower().partition("e")
                return rf"{mantissa} \cdot 10^{{{int(exp)}}}"
            return text
        if isinstance(node, Str):
            return rf"\text{{{node.value}}}"
        if isinstance(node, Name):
            return _LATEX_GREEK.get(node.id, node.id if len(node.id) == 1 else
                                    r"\mathrm{" + _escape(node.id) + "}")
        if isinstance(node, Unary):
            return ("-" if node.op == "-" else "+") + self.wrap(node.operand, _PREC["unary"])
        if isinstance(node, Transpose):
            return self.wrap(node.operand, _PREC["postfix"]) + r"^{\top}"
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Binary):
            return self.binary(node)
        raise TypeError(type(node).__name__)

    def head(self, func: str) -> str:
        return _LATEX_FUNCTIONS.get(func, r"\operatorname{" + _escape(func) + "}")

    def call(self, node: Call, power: str = "") -> str:
        args = ", ".join([self.p(a) for a in node.args] +
                         [rf"\mathrm{{{k}}}={self.p(v)}" for k, v in node.kwargs])
        if node.func == "sqrt":
            return rf"\sqrt{{{args}}}" + (f"^{{{power}}}" if power else "")
        if node.func == "abs":
            return rf"\left|{args}\right|" + (f"^{{{power}}}" if power else "")
        sup = f"^{{{power}}}" if power else ""
        return rf"{self.head(node.func)}{sup}\left({args}\right)"

    def binary(self, node: Binary) -> str:
        op = node.op
        p = _PREC[op]
        if op == "**":
            n = _is_integer_power(node)
            if n is not None and isinstance(node.left, Call):
                return self.call(node.left, power=str(n))
            return f"{self.wrap(node.left, _PREC['atom'])}^{{{self.p(node.right)}}}"
        if op == "/":
            return rf"\frac{{{self.p(node.left)}}}{{{self.p(node.right)}}}"
        left = self.wrap(node.left, p)
        right = self.wrap(node.right, p + 1)
        if op in "+-":
            return f"{left} {op} {right}"
        if op == "@":
            return f"{left} {right}"
        if self.matrix:
            return rf"{left} \odot {right}"
        if isinstance(node.right, Num) or (isinstance(node.left, Num) is False
                                           and _starts_with_digit(right)):
            return rf"{left} \cdot {right}"
        return f"{left} {right}"


def pretty(node: Node, *, matrix: bool = False) -> str:
    return Pretty(matrix)(node)


def latex(node: Node, *, matrix: bool = False) -> str:
    return Latex(matrix)(node)
