"""Local vector-Jacobian rules: what each operation sends back to each of its arguments.

Given a node and the gradient G of the loss with respect to that node (the "upstream", in
denominator layout: G has the node's shape), each rule returns the gradient with respect to
each argument, as a matrix expression: `A @ B` sends `G Bᵀ` to A and `Aᵀ G` to B; `f(u)`
sends `G ⊙ f′(u)` with f′ taken from the catalog's derivative text; an argument that was
broadcast receives G summed over the broadcast axes. The chain rule is applied once, by
`derive/backprop.py`; each rule here is one local fact (SymPy's `fdiff` habit).

An upstream may be smaller than the node's shape when every entry along an axis is equal
(the upstream of `sum(X)` is a scalar; of `sum(X, dim=0)` a row): that is numpy broadcasting,
and rules that cannot broadcast (`@`, sums over axes) handle it explicitly rather than
materialising a matrix of ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from gradcli import catalog
from gradcli.derive import algebra as A
from gradcli.derive.shapes import Shape, Shapes, is_scalarlike, same
from gradcli.errors import InputError
from gradcli.expr.ast import Binary, Call, Name, Node, Transpose, Unary
from gradcli.expr.parse import constant_value, parse


@dataclass(frozen=True)
class Contribution:
    child: Node  # the argument that receives
    grad: Node  # ∂L/∂child (this path's share); may broadcast up to the child's shape
    rule: str  # the rule's name: "matrix product"
    formula: str  # the rule in symbols, G for the upstream: "∂A = G Bᵀ"
    note: str = ""  # e.g. "σ′(z) = y ⊙ (1 − y)", "summed over dim=1 (b was broadcast)"


@dataclass
class Context:
    """What the rules need from the derivation around them."""

    shapes: Shapes
    definitions: Mapping[Node, str] = field(default_factory=dict)  # forward rhs -> name
    # Hint mutations: {site index: "value" | "one"} replaces f′(u) at that activation;
    # {"norm<k>": "naive"} takes the k-th normalisation's statistics as constants
    mutation: Mapping[int | str, str] = field(default_factory=dict)
    sites: int = 0  # activations met so far
    site_nodes: list = field(default_factory=list)  # (f(u) node, f′(u) tree) per activation
    norm_nodes: list = field(default_factory=list)  # layer_norm / batch_norm calls met so far
    pretty: Callable[[Node], str] = str
    define: Callable[..., Node] | None = None  # (symbol, latex, label, value) -> a named node
    upstream: str = "G"  # the upstream's letter in formulas (another when a user name is G)

    def shape(self, node: Node) -> Shape:
        return self.shapes(node)

    def reuse(self, node: Node) -> Node:
        return A.reuse(node, self.definitions)

    def is_one_by_one(self, node: Node) -> bool:
        s = self.shape(node)
        return bool(s) and is_scalarlike(s)

    def transpose(self, node: Node) -> Node:
        """Nᵀ, using (AB)ᵀ = BᵀAᵀ and that a 1×1 value is its own transpose."""
        if is_scalarlike(self.shape(node)):
            return node
        if isinstance(node, Transpose):
            return node.operand
        if isinstance(node, Binary) and node.op == "@":
            return self.matmul(self.transpose(node.right), self.transpose(node.left))
        if isinstance(node, Binary) and node.op in "*/" and (
                is_scalarlike(self.shape(node.left)) or is_scalarlike(self.shape(node.right))):
            op = A.mul if node.op == "*" else A.div
            return op(self.transpose(node.left), self.transpose(node.right))
        c, rest = A.split(node)
        if c != 1 and rest is not None:
            return A.scale(c, self.transpose(rest))
        return A.transpose(node)

    def full(self, g: Node, node: Node) -> Node:
        """The upstream as a full matrix shaped like `node` (g ⊙ 𝟙 when it was broadcast)."""
        if same(self.shape(g), self.shape(node)) and bool(self.shape(g)) == bool(self.shape(node)):
            return g
        return A.mul(g, A.ones_like(self.reuse(node)))

    def eye(self, node: Node) -> Node:
        """I of the size of the square `node`, through a column of that length if one is named."""
        n = self.shape(node)[0]
        for name, shape in self.shapes.names.items():
            if shape and shape[0].same(n) and shape[1].is_one and not name.startswith("_"):
                return A.eye(Name(name))
        return A.eye(sum_axis(self.reuse(node), 1, self.shape(node)))

    def matmul(self, a: Node, b: Node) -> Node:
        """A B, written a·B when a factor is 1×1 (a scalar in matrix clothing)."""
        if self.is_one_by_one(a):
            return A.mul(a, b)
        if self.is_one_by_one(b):
            return A.mul(b, a)
        return A.matmul(a, b)


# -- helpers ----------------------------------------------------------------------------

def count(shape: Shape, axes: tuple[int, ...] = (0, 1)) -> Node:
    """The number of entries along `axes`, as N (DimNum) so course notation can say 1/N."""
    dims = [shape[i] for i in axes if shape and not shape[i].is_one]
    if not dims:
        return A.ONE
    size = 1
    for d in dims:
        size *= d.size
    if all(d.symbol.isdigit() for d in dims):
        return A.num(size)
    return A.DimNum(size, symbol="·".join(d.symbol for d in dims))


def sum_axis(x: Node, axis: int, shape: Shape) -> Node:
    """sum(x, dim=axis), or x itself when that axis has length 1."""
    if shape and shape[axis].is_one:
        return x
    return A.call("sum", x, dim=axis)


def reduce_to(g: Node, logical: Shape, target: Shape, ctx: Context) -> tuple[Node, str]:
    """The upstream of a broadcast result, summed down to an argument's shape."""
    if same(logical, target) or is_scalarlike(logical):
        return g, ""
    gs = ctx.shape(g)
    if is_scalarlike(target):
        if not gs:
            return A.mul(count(logical), g), "every entry of the broadcast scalar contributes"
        spread = tuple(i for i in (0, 1) if gs[i].is_one and not logical[i].is_one)
        return A.mul(count(logical, spread), A.call("sum", g)), "summed over every entry (it was broadcast)"
    out, axes = g, []
    for i in (0, 1):
        if target[i].is_one and not logical[i].is_one:
            axes.append(i)
            if gs and not gs[i].is_one:
                out = A.call("sum", out, dim=i)
            else:
                out = A.mul(count(logical, (i,)), out)
    where = " and ".join({0: "dim=0 (rows)", 1: "dim=1 (columns)"}[i] for i in axes)
    return out, f"summed over {where}: the argument was broadcast"


@cache
def _derivative_tree(name: str) -> Node:
    entry = catalog.lookup(name)
    return parse(entry.derivative)


def _params(node: Call, entry: catalog.Entry) -> dict[str, Node]:
    values = {p.name: float(p.default) for p in entry.params}
    for p, extra in zip(entry.params, node.args[1:], strict=False):
        values[p.name] = constant_value(extra)
    for key, value in node.kwargs:
        values[key] = constant_value(value)
    return {k: A.num(v) for k, v in values.items()}


def _reduction(node: Call) -> str:
    value = node.kwarg("reduction")
    return value.value if value is not None else "mean"


def _class_dim(node: Call, shape: Shape, ctx: Context) -> int:
    d = ctx.shapes._dim(node, shape)
    if d is not None:
        return d
    return 0 if shape and shape[1].is_one else 1


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
            from gradcli.derive.vjp_structural import RULES

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
