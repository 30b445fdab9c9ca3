"""Syntax tree -> text in the expression language, with the fewest parentheses that parse back.

`parse(unparse(tree)) == tree` (structurally) for every tree `parse` produces; the property
test in tests/test_expr_roundtrip.py holds us to it.
"""

from __future__ import annotations

from gradcli.expr.ast import Binary, Call, Name, Node, Num, Str, Transpose, Unary

# Binding strength: higher binds tighter (Python's table, restricted to our operators).
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "unary": 3, "**": 4, "postfix": 5, "atom": 6}


def _prec(node: Node) -> int:
    if isinstance(node, Binary):
        return _PREC[node.op]
    if isinstance(node, Unary):
        return _PREC["unary"]
    if isinstance(node, Num) and (node.value < 0):
        return _PREC["unary"]
    if isinstance(node, Transpose):
        return _PREC["postfix"]
    return _PREC["atom"]


def number(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value)}.0" if abs(value) < 1e6 else f"{value:.15g}"
    text = repr(value)
    return text if len(text) <= 17 else f"{value:.15g}"


def _wrap(node: Node, need: int) -> str:
    text = unparse(node)
    return f"({text})" if _prec(node) < need else text


def unparse(node: Node) -> str:
    if isinstance(node, Num):
        return node.text or number(node.value)
    if isinstance(node, Str):
        return f'"{node.value}"'
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Unary):
        inner = _wrap(node.operand, _PREC["unary"])
        return f"{node.op}({inner})" if inner[0] in "+-" else node.op + inner
    if isinstance(node, Transpose):
        return _wrap(node.operand, _PREC["postfix"]) + ".T"
    if isinstance(node, Call):
        parts = [unparse(a) for a in node.args] + [f"{k}={unparse(v)}" for k, v in node.kwargs]
        return f"{node.func}({', '.join(parts)})"
    if isinstance(node, Binary):
        p = _PREC[node.op]
        if node.op == "**":  # right-associative; the base must bind tighter than unary minus
            return f"{_wrap(node.left, _PREC['postfix'])}**{_wrap(node.right, _PREC['unary'])}"
        right_need = p + 1  # left-associative: a - (b - c) keeps its parentheses
        if node.op == "@":  # (d*s) @ x.T reads as course notation; same tree either way
            hadamard = isinstance(node.left, Binary) and node.left.op in "*/"
            return f"{_wrap(node.left, p + 1 if hadamard else p)} @ {_wrap(node.right, right_need)}"
        sep = f" {node.op} " if p == 1 else node.op if node.op != "@" else " @ "
        # A @ B * C parses as (A @ B) * C, but reads as A @ (B * C): keep the parentheses.
        left_need = p + 1 if node.op in "*/" and isinstance(node.left, Binary) and node.left.op == "@" else p
        return f"{_wrap(node.left, left_need)}{sep}{_wrap(node.right, right_need)}"
    raise TypeError(f"cannot unparse {type(node).__name__}")
