"""Local vector-Jacobian rules: what each operation sends back to each of its arguments.

Given a node and the gradient G of the loss with respect to that node (the "upstream", in
denominator layout: G has the node's shape), each rule returns the gradient with respect to
each argument, as a matrix expression: `A @ B` sends `G Bᵀ` to A and `Aᵀ G` to B; `f(u)`
sends `G ⊙ f′(u)` with f′ taken from the catalog's derivative text; an argument that was
broadcast receives G summed over the broadcast axes. The chain rule is applied once, by
`backprop.py`; each rule here is one local fact (SymPy's `fdiff` habit).

An upstream may be smaller than the node's shape when every entry along an axis is equal
(the upstream of `sum(X)` is a scalar; of `sum(X, dim=0)` a row): that is numpy broadcasting,
and rules that cannot broadcast (`@`, sums over axes) handle it explicitly rather than
materialising a matrix of ones.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from gradcli import catalog
from gradcli.errors import InputError
from gradcli.expr.ast import Binary, Call, Node, Transpose, Unary
from gradcli.expr.constant import constant_value
from gradcli.expr.parse import parse
from gradcli.expr.signature import literal
from gradcli.kinds.network import algebra as A
from gradcli.kinds.network.shapes import same
from gradcli.kinds.network.vjp_context import Context, Contribution, reduce_to, sum_axis
from gradcli.kinds.network.vjp_structural import RULES


@cache
def _derivative_tree(name: str) -> Node:
    entry = catalog.lookup(name)
    return parse(entry.derivative)


def _params(node: Call, entry: catalog.Entry) -> dict[str, Node]:
    """The call's parameters by name (by position or keyword), defaults filled in."""
    return {p.name: A.num(float(v)) for p in entry.params
            if (v := literal(node, p.name)) is not None}


# -- the rules --------------------------------------------------------------------------

def vjp(node: Node, g: Node, ctx: Context, wanted: Callable[[Node], bool]) -> list[Contribution]:
    """The contributions `node` sends to those of its arguments that `wanted` selects."""
    if isinstance(node, Unary):
        out = [Contribution(node.operand, A.neg(g) if node.op == "-" else g, "negation", "∂u = −G")]
    elif isinstance(node, Transpose):
        out = [Contribution(node.operand, ctx.transpose(g), "transpose", "∂A = Gᵀ")]
    elif isinstance(node, Binary):
        out = _binary(node, g, ctx, wanted)
    elif isinstance(node, Call):
        entry = catalog.lookup(node.func)
        if entry.group == "elementwise":
            out = [_elementwise(node, g, ctx, entry)] if wanted(node.args[0]) else []
        else:
            rule = RULES.get(node.func)
            if rule is None:
                raise InputError(f"{node.func} has no matrix-form gradient in network problems yet",
                                 column=node.column)
            out = rule(node, g, ctx, wanted)
    else:
        out = []
    return [c for c in out if wanted(c.child) and not A.is_zero(c.grad)]


def _binary(node: Binary, g: Node, ctx: Context, wanted) -> list[Contribution]:
    a, b = node.left, node.right
    s, sa, sb = ctx.shape(node), ctx.shape(a), ctx.shape(b)
    out: list[Contribution] = []
    if node.op == "@":
        return _matmul(node, g, ctx, wanted)
    if node.op in "+-":
        name = "sum rule" if node.op == "+" else "difference"
        for child, sign, shape in ((a, 1, sa), (b, 1 if node.op == "+" else -1, sb)):
            if wanted(child):
                grad, note = reduce_to(g if sign > 0 else A.neg(g), s, shape, ctx)
                formula = "∂A = G, ∂B = G" if node.op == "+" else "∂A = G, ∂B = −G"
                rule = "broadcast add" if note else name
                out.append(Contribution(child, grad, rule, formula, note))
        return out
    if node.op == "*":
        for child, other, shape in ((a, b, sa), (b, a, sb)):
            if wanted(child):
                scalar = not ctx.shape(other) or not shape
                grad, note = reduce_to(A.mul(g, other), s, shape, ctx)
                if scalar:
                    rule, formula = "scalar multiple", "∂(a·X): ∂X = a·G, ∂a = sum(G ⊙ X)"
                else:
                    rule, formula = "Hadamard product", "∂A = G ⊙ B, ∂B = G ⊙ A"
                out.append(Contribution(child, grad, rule, formula, note))
        return out
    if node.op == "/":
        if wanted(a):
            grad, note = reduce_to(A.div(g, b), s, sa, ctx)
            out.append(Contribution(a, grad, "quotient (numerator)", "∂A = G ⊘ B", note))
        if wanted(b):
            grad, note = reduce_to(A.neg(A.div(A.mul(g, ctx.reuse(node)), b)), s, sb, ctx)
            out.append(Contribution(b, grad, "quotient (denominator)", "∂B = −G ⊙ (A ⊘ B) ⊘ B", note))
        return out
    if node.op == "**":
        p = constant_value(b)
        if p is not None:
            if wanted(a):
                local = A.mul(A.num(p), A.power(a, p - 1))
                out.append(Contribution(a, A.mul(g, ctx.reuse(local)), "power rule", "∂u = G ⊙ p·u^(p−1)"))
            return out
        if wanted(a):
            grad, note = reduce_to(A.mul(g, A.mul(b, ctx.reuse(A.Binary("**", a, A.sub(b, A.ONE))))), s, sa, ctx)
            out.append(Contribution(a, grad, "power rule", "∂A = G ⊙ B A^(B−1)", note))
        if wanted(b):
            grad, note = reduce_to(A.mul(g, A.mul(ctx.reuse(node), A.call("log", a))), s, sb, ctx)
            out.append(Contribution(b, grad, "exponential rule", "∂B = G ⊙ A^B ⊙ log A", note))
        return out
    raise InputError(f"operator {node.op} has no gradient rule", column=node.column)


def _matmul(node: Binary, g: Node, ctx: Context, wanted) -> list[Contribution]:
    """∂A = G Bᵀ, ∂B = Aᵀ G, with G possibly broadcast (a scalar, a row or a column)."""
    a, b = node.left, node.right
    s, sa, sb = ctx.shape(node), ctx.shape(a), ctx.shape(b)
    gs = ctx.shape(g)
    out = []
    T, mm = ctx.transpose, ctx.matmul
    if not gs:  # G = g·𝟙𝟙ᵀ: G Bᵀ = g·𝟙 (B𝟙)ᵀ, Aᵀ G = g·(Aᵀ𝟙) 𝟙ᵀ
        left = A.mul(g, T(sum_axis(b, 1, sb)))
        right = A.mul(g, T(sum_axis(a, 0, sa)))
    elif same(gs, s):
        left = mm(g, T(b))
        right = mm(T(a), g)
    elif gs[0].is_one:  # a row, the same for every row of the product
        left = mm(g, T(b))
        right = mm(T(sum_axis(a, 0, sa)), g)
    else:  # a column, the same for every column
        left = mm(g, T(sum_axis(b, 1, sb)))
        right = mm(T(a), g)
    if wanted(a):
        out.append(Contribution(a, left, "matrix product (left factor)", "∂A = G Bᵀ"))
    if wanted(b):
        out.append(Contribution(b, right, "matrix product (right factor)", "∂B = Aᵀ G"))
    return out


def local_derivative(node: Call, ctx: Context, entry: catalog.Entry) -> Node:
    """f′(u) for f(u) = node, from the catalog's text, with forward names reused."""
    mapping = {"x": node.args[0], **_params(node, entry)}
    return ctx.reuse(A.substitute(_derivative_tree(entry.name), mapping))


def _elementwise(node: Call, g: Node, ctx: Context, entry: catalog.Entry) -> Contribution:
    site = ctx.sites
    ctx.sites += 1
    fname = "σ" if entry.name == "sigmoid" else entry.name
    arg = node.args[0]
    mutated = ctx.mutation.get(site)
    if mutated == "value":
        local = ctx.reuse(node)
    elif mutated == "one":
        local = A.ONE
    else:
        local = local_derivative(node, ctx, entry)
    ctx.site_nodes.append((node, local))
    note = f"{fname}′({ctx.pretty(arg)}) = {ctx.pretty(local)}"
    return Contribution(arg, A.mul(g, local), f"elementwise {entry.name}",
                        f"∂u = G ⊙ {fname}′(u)", note)
