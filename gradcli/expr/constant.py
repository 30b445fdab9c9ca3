"""The value of a subtree that uses no names (2*pi, 1/3), folded in floats with every step bounded.

Below both `parse.py` and `signature.py` (a call's integer and scalar arguments are checked
with it), so neither imports the other for it.
"""

from __future__ import annotations

import math

from gradcli.expr.ast import Binary, Name, Node, Num, Unary


def constant_value(node: Node) -> float | None:
    """The value of a subtree without names, computed in floats with every step bounded.

    Returns None when the subtree uses a name (it is not a constant).
    """
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Name):
        return {"pi": math.pi, "e": math.e}.get(node.id)
    if isinstance(node, Unary):
        v = constant_value(node.operand)
        return None if v is None else (-v if node.op == "-" else v)
    if isinstance(node, Binary) and node.op in "+-*/**":
        a, b = constant_value(node.left), constant_value(node.right)
        if a is None or b is None:
            return None
        try:
            value = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                     "/": lambda: a / b, "**": lambda: abs(a) ** b}[node.op]()
        except (ZeroDivisionError, OverflowError):
            return math.inf
        return value
    return None
