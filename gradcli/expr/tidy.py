"""Local simplification of syntax trees: what a careful student does while writing a step.

Differentiation rules produce `1*(1 + tanh(u)) + x*(0 + ...)`; `tidy` removes the ones and
zeros, folds numbers exactly (`0.044715*3` becomes `0.134145`, in decimal arithmetic, so the
constant a student sees is the one they would compute by hand) and cancels double negation.
It never reorders or expands anything else: the shape of a derivation stays readable, and
the heavy, global simplification is SymPy's job (bounded in time, in `derive.forms`).

Every rewrite here is an identity for every real input (no `x/x -> 1`), so `tidy` can be
applied to anything, including claims.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation, localcontext

from gradcli.expr.ast import Binary, Call, Name, Node, Num, Transpose, Unary

MAX_FOLDED_DIGITS = 15  # longer exact results stay unfolded (e.g. 1/3 stays 1/3)


def num(value: int | float | Decimal) -> Num:
    """A number node whose text is its shortest exact decimal spelling."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and abs(value) < 10**15:
            return Num(int(value), str(int(value)))
        text = format(value.normalize(), "f")
        return Num(float(text), text)
    if isinstance(value, int):
        return Num(value, str(value))
    return Num(value, repr(value))


def is_num(node: Node, value: float | None = None) -> bool:
    if not isinstance(node, Num):
        return False
    return value is None or node.value == value


def _decimal(node: Num) -> Decimal:
    return Decimal(node.text) if node.text else Decimal(repr(node.value))


def fold(op: str, a: Num, b: Num) -> Num | None:
    """`a op b` as one exact number, or None when the exact result is not a short decimal."""
    try:
        with localcontext() as ctx:
            ctx.prec = 40
            x, y = _decimal(a), _decimal(b)
            if op == "+":
                r = x + y
            elif op == "-":
                r = x - y
            elif op == "*":
                r = x * y
            elif op == "/":
                if y == 0:
                    return None
                r = x / y
            elif op == "**":
                if y != y.to_integral_value() or abs(y) > 8 or (x == 0 and y < 0):
                    return None
                r = x ** int(y)
            else:
                return None
    except (InvalidOperation, OverflowError):
        return None
    digits = len(r.normalize().as_tuple().digits)
    if digits > MAX_FOLDED_DIGITS:
        return None
    return num(r)


def neg(node: Node) -> Node:
    if isinstance(node, Num):
        return num(-_decimal(node)) if node.value != 0 else node
    if isinstance(node, Unary) and node.op == "-":
        return node.operand
    return Unary("-", node)


def add(a: Node, b: Node) -> Node:
    if is_num(a, 0):
        return b
    if is_num(b, 0):
        return a
    if isinstance(a, Num) and isinstance(b, Num) and (r := fold("+", a, b)) is not None:
        return r
    if isinstance(b, Unary) and b.op == "-":
        return sub(a, b.operand)
    if isinstance(b, Num) and b.value < 0:
        return sub(a, neg(b))
    return Binary("+", a, b)


def sub(a: Node, b: Node) -> Node:
    if is_num(b, 0):
        return a
    if is_num(a, 0):
        return neg(b)
    if isinstance(a, Num) and isinstance(b, Num) and (r := fold("-", a, b)) is not None:
        return r
    if isinstance(b, Unary) and b.op == "-":
        return add(a, b.operand)
    if isinstance(a, Num) and isinstance(b, Binary) and isinstance(b.left, Num) and b.op in "+-" \
            and (head := fold("-", a, b.left)) is not None:  # 1 - (1 - t) -> t
        return sub(head, b.right) if b.op == "+" else add(head, b.right)
    return Binary("-", a, b)


def _constant_factor(node: Node) -> tuple[Num | None, Node | None]:
    """Split `c*rest` (or a lone number) into its leading number and the rest."""
    if isinstance(node, Num):
        return node, None
    if isinstance(node, Binary) and node.op == "*" and isinstance(node.left, Num):
        return node.left, node.right
    return None, node


def mul(a: Node, b: Node) -> Node:
    if is_num(a, 0) or is_num(b, 0):
        return num(0)
    if is_num(a, 1):
        return b
    if is_num(b, 1):
        return a
    if is_num(a, -1):
        return neg(b)
    if is_num(b, -1):
        return neg(a)
    if isinstance(a, Unary) and a.op == "-":
        return neg(mul(a.operand, b))
    if isinstance(b, Unary) and b.op == "-":
        return neg(mul(a, b.operand))
    if isinstance(a, Binary) and a.op == "/" and is_num(a.left, 1):  # (1/c)*b -> b/c
        return div(b, a.right)
    if isinstance(b, Binary) and b.op == "/":  # a*(b/c) -> a*b/c
        return div(mul(a, b.left), b.right)
    if isinstance(b, Binary) and b.op == "*":  # a*(b*c) -> a*b*c: products read left to right
        return mul(mul(a, b.left), b.right)
    # Numbers gather at the front of a product: 0.5*(3*x) -> 1.5*x, x*3 -> 3*x.
    ca, ra = _constant_factor(a)
    cb, rb = _constant_factor(b)
    if ca is not None and cb is not None and (c := fold("*", ca, cb)) is not None:
        rest = ra if rb is None else rb if ra is None else Binary("*", ra, rb)
        return c if rest is None else mul(c, rest)
    if isinstance(b, Num) and not isinstance(a, Num):
        return mul(b, a)
    return Binary("*", a, b)


def div(a: Node, b: Node) -> Node:
    if is_num(b, 1):
        return a
    if is_num(a, 0) and not is_num(b, 0):
        return num(0)
    if isinstance(a, Num) and isinstance(b, Num) and (r := fold("/", a, b)) is not None:
        return r
    if isinstance(a, Unary) and a.op == "-":
        return neg(div(a.operand, b))
    if isinstance(a, Binary) and a.op == "/" and isinstance(a.right, Num) and isinstance(b, Num) \
            and (d := fold("*", a.right, b)) is not None:  # f/3/2 -> f/6
        return div(a.left, d)
    if isinstance(b, Num) and (rest := _without_leading(a, b)) is not None:  # 3*f*g/3 -> f*g
        return rest
    return Binary("/", a, b)


def _without_leading(node: Node, c: Num) -> Node | None:
    """The product `node` without its leading number when that number is exactly `c`, else None."""
    if not (isinstance(node, Binary) and node.op == "*"):
        return None
    if isinstance(node.left, Num):
        return node.right if _decimal(node.left) == _decimal(c) else None
    left = _without_leading(node.left, c)
    return None if left is None else mul(left, node.right)


def power(a: Node, b: Node) -> Node:
    if is_num(b, 1):
        return a
    if is_num(b, 0):
        return num(1)
    if isinstance(a, Num) and isinstance(b, Num) and (r := fold("**", a, b)) is not None:
        return r
    return Binary("**", a, b)


BUILD = {"+": add, "-": sub, "*": mul, "/": div, "**": power}


def tidy(node: Node) -> Node:
    """Rebuild `node` bottom-up through the simplifying constructors."""
    if isinstance(node, Binary):
        left, right = tidy(node.left), tidy(node.right)
        if node.op == "@":
            return Binary("@", left, right)
        return BUILD[node.op](left, right)
    if isinstance(node, Unary):
        inner = tidy(node.operand)
        return neg(inner) if node.op == "-" else inner
    if isinstance(node, Transpose):
        inner = tidy(node.operand)
        return inner.operand if isinstance(inner, Transpose) else Transpose(inner)
    if isinstance(node, Call):
        return Call(node.func, tuple(tidy(a) for a in node.args),
                    tuple((k, tidy(v)) for k, v in node.kwargs))
    return node


def substitute(node: Node, mapping: dict[str, Node]) -> Node:
    """Replace names by trees (positions are dropped: the result is new text)."""
    if isinstance(node, Name):
        return mapping.get(node.id, node)
    if isinstance(node, Binary):
        return Binary(node.op, substitute(node.left, mapping), substitute(node.right, mapping))
    if isinstance(node, Unary):
        return Unary(node.op, substitute(node.operand, mapping))
    if isinstance(node, Transpose):
        return Transpose(substitute(node.operand, mapping))
    if isinstance(node, Call):
        return Call(node.func, tuple(substitute(a, mapping) for a in node.args),
                    tuple((k, substitute(v, mapping)) for k, v in node.kwargs))
    return node


def replace_subtree(node: Node, target: Node, by: Node) -> Node:
    """Every occurrence of `target` (compared structurally) replaced by `by`."""
    if node == target:
        return by
    if isinstance(node, Binary):
        return Binary(node.op, replace_subtree(node.left, target, by),
                      replace_subtree(node.right, target, by))
    if isinstance(node, Unary):
        return Unary(node.op, replace_subtree(node.operand, target, by))
    if isinstance(node, Transpose):
        return Transpose(replace_subtree(node.operand, target, by))
    if isinstance(node, Call):
        return Call(node.func, tuple(replace_subtree(a, target, by) for a in node.args),
                    node.kwargs)
    return node
