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

PRIMITIVES = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "abs": sp.Abs, "sin": sp.sin, "cos": sp.cos,
    "erf": sp.erf, "tanh": sp.tanh, "sign": sp.sign,
    "step": lambda x: sp.Heaviside(x, 0),  # torch's convention: relu'(0) = 0
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


class Builder:
    def __init__(self, symbols: dict[str, sp.Symbol] | None = None):
        self.symbols = {} if symbols is None else symbols

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
            return -inner if node.op == "-" else inner
        if isinstance(node, Transpose):
            return self.build(node.operand, scope)  # a scalar is its own transpose
        if isinstance(node, Binary):
            if node.op == "@":
                raise InputError("@ needs matrices; a derivative target is a scalar function",
                                 column=node.column)
            a, b = self.build(node.left, scope), self.build(node.right, scope)
            return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                    "/": lambda: a / b, "**": lambda: a ** b}[node.op]()
        if isinstance(node, Call):
            return self.call(node, scope)
        if isinstance(node, Str):
            raise InputError("a string is not a number", column=node.column)
        raise InputError(f"cannot use {type(node).__name__} here", column=node.column)

    def call(self, node: Call, scope: dict[str, sp.Expr]) -> sp.Expr:
        entry = catalog.lookup(node.func)
        if entry is None or entry.group != "elementwise":
            raise InputError(f"{node.func} works on vectors and matrices; a scalar expression "
                             "cannot use it", column=node.column)
        arg = self.build(node.args[0], scope)
        if node.func in PRIMITIVES:
            return PRIMITIVES[node.func](arg)
        definition, params = _definition(node.func)
        inner = {"x": arg}
        for i, param in enumerate(entry.params):
            given = node.args[i + 1] if i + 1 < len(node.args) else node.kwarg(param.name)
            inner[param.name] = (self.build(given, scope) if given is not None
                                 else sp.Rational(repr(param.default)))
        return self.build(definition, inner)


def build(node: Node, symbols: dict[str, sp.Symbol] | None = None) -> sp.Expr:
    """The SymPy expression of a scalar tree, catalog functions expanded to primitives."""
    return Builder(symbols)(node)
