"""Syntax tree -> SymPy, for scalar expressions: the independent symbolic route.

Every catalog function is expanded into its definition in SymPy's primitives (sigmoid into
1/(1 + exp(-x)), step into Heaviside(x, 0), ...), so `sympy.diff` of a built target shares
nothing with our rule engine or with the catalog's derivative texts: when the two agree, both
the rules and the catalog are confirmed. SymPy is imported here and only here among the
expression modules; nothing in this module hands user text to SymPy's own parsers.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from gradcli import catalog
from gradcli.errors import InputError
from gradcli.expr.ast import Binary, Call, Name, Node, Num, Str, Transpose, Unary
from gradcli.expr.parse import parse
from gradcli.expr.signature import argument

PRIMITIVES = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "abs": sp.Abs, "sin": sp.sin, "cos": sp.cos,
    "erf": sp.erf, "tanh": sp.tanh, "sign": sp.sign,
    "step": lambda x: sp.Heaviside(x, 0),  # torch's convention: relu'(0) = 0
    "cosh": sp.cosh, "sinh": sp.sinh, "asinh": sp.asinh, "acosh": sp.acosh, "atanh": sp.atanh,
    "tan": sp.tan,
}


def symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


@cache
def _definition(name: str) -> tuple[Node, tuple[str, ...]]:
    entry = catalog.lookup(name)
    params = tuple(p.name for p in entry.params)
    return parse(entry.definition, variables={"x", *params}), params


def _number(node: Num) -> sp.Expr:
    if isinstance(node.value, int):
        return sp.Integer(node.value)
    # The literal's own decimal text, so 0.044715 stays exactly what the user wrote.
    return sp.Rational(node.text) if node.text else sp.Float(node.value)


# The same primitives left unevaluated: exp(log(x)) stays undefined for x < 0.
UNEVALUATED = {
    "exp": lambda x: sp.exp(x, evaluate=False), "log": lambda x: sp.log(x, evaluate=False),
    "sqrt": lambda x: sp.Pow(x, sp.S.Half, evaluate=False),
    "abs": lambda x: sp.Abs(x, evaluate=False), "sin": lambda x: sp.sin(x, evaluate=False),
    "cos": lambda x: sp.cos(x, evaluate=False), "erf": lambda x: sp.erf(x, evaluate=False),
    "tanh": lambda x: sp.tanh(x, evaluate=False), "sign": lambda x: sp.sign(x, evaluate=False),
    "step": lambda x: sp.Heaviside(x, 0, evaluate=False),
    **{name: (lambda f: lambda x: f(x, evaluate=False))(PRIMITIVES[name])
       for name in ("cosh", "sinh", "asinh", "acosh", "atanh", "tan")},
}


class Builder:
    """`faithful`: build without SymPy's automatic rewriting, which can widen a domain
    (`exp(log(x))` becomes `x`, `sqrt(x)/sqrt(x)` becomes 1). A claim's values are taken from
    the faithful tree, so a claim undefined for x < 0 is not the derivative of x² there."""

    def __init__(self, symbols: dict[str, sp.Symbol] | None = None, *, faithful: bool = False):
        self.symbols = {} if symbols is None else symbols
        self.faithful = faithful
        self.primitives = UNEVALUATED if faithful else PRIMITIVES

    def __call__(self, node: Node) -> sp.Expr:
        return self.build(node, {})

    def build(self, node: Node, scope: dict[str, sp.Expr]) -> sp.Expr:
        if isinstance(node, Num):
            return _number(node)
        if isinstance(node, Name):
            if node.id in scope:
                return scope[node.id]
            if node.id not in self.symbols:
                if node.id == "pi":
                    return sp.pi
                if node.id == "e":
                    return sp.E
                self.symbols[node.id] = symbol(node.id)
            return self.symbols[node.id]
        if isinstance(node, Unary):
            inner = self.build(node.operand, scope)
            if node.op != "-":
                return inner
            return sp.Mul(sp.S.NegativeOne, inner, evaluate=False) if self.faithful else -inner
        if isinstance(node, Transpose):
            return self.build(node.operand, scope)  # a scalar is its own transpose
        if isinstance(node, Binary):
            if node.op == "@":
                raise InputError("@ needs matrices; a scalar derivative (and its function) "
                                 "has none",
                                 column=node.column)
            a, b = self.build(node.left, scope), self.build(node.right, scope)
            if self.faithful:
                return _unevaluated(node.op, a, b)
            return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                    "/": lambda: a / b, "**": lambda: a ** b}[node.op]()
        if isinstance(node, Call):
            return self.call(node, scope)
        if isinstance(node, Str):
            raise InputError("a string is not a number", column=node.column)
        raise InputError(f"cannot use {type(node).__name__} here", column=node.column)

    def call(self, node: Call, scope: dict[str, sp.Expr]) -> sp.Expr:
        entry = catalog.lookup(node.func)
        if catalog.is_pairwise(node):
            # max(a, b) = (a + b + |a − b|)/2: its derivative at a tie, (a' + b')/2 since
            # sign(0) = 0, is torch.maximum's convention (the gradient split evenly).
            a, b = (self.build(arg, scope) for arg in node.args)
            sign = 1 if node.func == "max" else -1
            return (a + b + sign * self.primitives["abs"](a - b)) / 2
        if entry is None or entry.group != "elementwise":
            raise InputError(f"{node.func} works on vectors and matrices; a scalar expression "
                             "cannot use it", column=node.column)
        arg = self.build(node.args[0], scope)
        if node.func in self.primitives:
            return self.primitives[node.func](arg)
        definition, params = _definition(node.func)
        inner = {"x": arg}
        for param in entry.params:
            given = argument(node, param.name)
            inner[param.name] = (self.build(given, scope) if given is not None
                                 else sp.Rational(repr(param.default)))
        return self.build(definition, inner)


def _unevaluated(op: str, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    if op == "+":
        return sp.Add(a, b, evaluate=False)
    if op == "-":
        return sp.Add(a, sp.Mul(sp.S.NegativeOne, b, evaluate=False), evaluate=False)
    if op == "*":
        return sp.Mul(a, b, evaluate=False)
    if op == "/":
        return sp.Mul(a, sp.Pow(b, sp.S.NegativeOne, evaluate=False), evaluate=False)
    return sp.Pow(a, b, evaluate=False)


def build(node: Node, symbols: dict[str, sp.Symbol] | None = None, *,
          faithful: bool = False) -> sp.Expr:
    """The SymPy expression of a scalar tree, catalog functions expanded to primitives."""
    return Builder(symbols, faithful=faithful)(node)
