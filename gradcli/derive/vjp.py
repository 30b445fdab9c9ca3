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
    # Hint mutations: {site index: "value" | "one"} replaces f′(u) at that activation
    mutation: Mapping[int, str] = field(default_factory=dict)
    sites: int = 0  # activations met so far
    site_nodes: list = field(default_factory=list)  # (f(u) node, f′(u) tree) per activation
    pretty: Callable[[Node], str] = str
    define: Callable[..., Node] | None = None  # (symbol, latex, label, value) -> a named node

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
            rule = _STRUCTURAL.get(node.func)
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


# -- structural functions ---------------------------------------------------------------

def _sum(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    x = node.args[0]
    d = ctx.shapes._dim(node, ctx.shape(x))
    formula = "∂X = G 𝟙 (every entry receives G)" if d is None else \
        f"∂X = G copied along dim={d}"
    return [Contribution(x, g, "sum", formula)]


def _mean(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    x = node.args[0]
    sx = ctx.shape(x)
    d = ctx.shapes._dim(node, sx)
    n = count(sx) if d is None else count(sx, (d,))
    return [Contribution(x, A.div(g, n), "mean", "∂X = G / (number of entries averaged)")]


def _norm(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    x = node.args[0]
    return [Contribution(x, A.mul(g, A.div(x, ctx.reuse(node))), "L2 norm", "∂X = G ⊙ X / ‖X‖")]


def _max(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    x = node.args[0]
    at_max = A.sub(A.ONE, A.call("step", A.sub(ctx.reuse(node), x)))
    return [Contribution(x, A.mul(g, at_max), "max", "∂X = G at the largest entry, 0 elsewhere",
                         "ties share nothing here; torch splits G evenly among tied entries")]


def _softmax(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    z = node.args[0]
    d = _class_dim(node, ctx.shape(z), ctx)
    s = ctx.reuse(node)
    inner = A.sub(g, A.call("sum", A.mul(g, s), dim=d))
    return [Contribution(z, A.mul(s, inner), "softmax", f"∂z = s ⊙ (G − sum(G ⊙ s, dim={d}))")]


def _log_softmax(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    z = node.args[0]
    d = _class_dim(node, ctx.shape(z), ctx)
    g = ctx.full(g, node)
    s = ctx.reuse(A.call("softmax", z) if len(node.args) == 1 and not node.kwargs
                  else A.call("softmax", z, dim=d))
    return [Contribution(z, A.sub(g, A.mul(s, A.call("sum", g, dim=d))), "log-softmax",
                         f"∂z = G − softmax(z) ⊙ sum(G, dim={d})")]


def _per_entry(node: Call, ctx: Context) -> Node:
    """1/count for reduction="mean" over all entries, 1 for "sum"."""
    return A.ONE if _reduction(node) == "sum" else count(ctx.shape(node.args[0]))


def _loss_rule(name: str, formula_pred: str, pred_grad, target_grad=None, formula_target=""):
    def rule(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
        p, t = node.args[0], node.args[1]
        n = _per_entry(node, ctx)
        out = []
        if wanted(p):
            out.append(Contribution(p, A.mul(g, A.div(pred_grad(node, p, t, ctx), n)), name,
                                    formula_pred))
        if wanted(t):
            if target_grad is None:
                raise InputError(f"{node.func}: no gradient with respect to the target",
                                 column=t.column)
            out.append(Contribution(t, A.mul(g, A.div(target_grad(node, p, t, ctx), n)), name,
                                    formula_target))
        return out
    return rule


def _huber_delta(node: Call) -> float:
    if len(node.args) > 2:
        return constant_value(node.args[2])
    value = node.kwarg("delta")
    return 1.0 if value is None else constant_value(value)


def _huber_grad(node, p, t, ctx):
    delta = _huber_delta(node)
    d = A.sub(p, t)
    return A.mul(A.num(delta), A.call("hardtanh", A.div(d, A.num(delta))))


def _cross_entropy(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    z, y = node.args[0], node.args[1]
    sz = ctx.shape(z)
    rows = bool(sz) and not sz[1].is_one
    n = A.ONE if _reduction(node) == "sum" else (count(sz, (0,)) if rows else A.ONE)
    out = []
    p = ctx.reuse(A.call("softmax", z))
    if wanted(z):
        out.append(Contribution(z, A.mul(g, A.div(A.sub(p, y), n)), "softmax cross-entropy",
                                "∂Z = (softmax(Z) − Y)/N" if rows else "∂z = softmax(z) − y",
                                "each row of the target sums to 1 (one-hot or probabilities)"))
    if wanted(y):
        out.append(Contribution(y, A.mul(g, A.div(A.neg(ctx.reuse(A.call("log_softmax", z))), n)),
                                "softmax cross-entropy (target)", "∂Y = −log_softmax(Z)/N"))
    return out


def _inv(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    x = node.args[0]
    inv_t = A.transpose(ctx.reuse(node))
    g = ctx.full(g, node)
    return [Contribution(x, A.neg(A.matmul(A.matmul(inv_t, g), inv_t)), "matrix inverse",
                         "∂X = −X⁻ᵀ G X⁻ᵀ")]


def _trace(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    x = node.args[0]
    return [Contribution(x, A.mul(g, ctx.eye(x)), "trace", "∂X = G·I")]


def _diag(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    x = node.args[0]
    g = ctx.full(g, node)
    return [Contribution(x, A.call("sum", A.mul(g, ctx.eye(node)), dim=1), "diagonal matrix",
                         "∂x = the diagonal of G, as a column: sum(G ⊙ I, dim=1)")]


def _det(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    x = node.args[0]
    inv_t = A.transpose(ctx.reuse(A.call("inv", x)))
    return [Contribution(x, A.mul(g, A.mul(ctx.reuse(node), inv_t)), "determinant",
                         "∂X = G det(X) X⁻ᵀ")]


def _logdet(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    x = node.args[0]
    inv_t = A.transpose(ctx.reuse(A.call("inv", x)))
    return [Contribution(x, A.mul(g, inv_t), "log-determinant", "∂X = G X⁻ᵀ")]


def _eps(node: Call) -> float:
    value = node.kwarg("eps")
    return 1e-5 if value is None else constant_value(value)


def _normalisation(kind: str):
    """layer_norm normalises each row (a column vector: the column), batch_norm each column
    over the batch; both with biased variance and eps inside the square root, as torch."""
    def rule(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
        x, gamma, beta = node.args
        sx = ctx.shape(x)
        column = sx[1].is_one
        d = 0 if (kind == "batch" or column) else 1
        mu = A.call("mean", x, dim=d)
        xc = A.sub(x, mu)
        sigma = A.call("sqrt", A.add(A.call("mean", A.power(xc, 2), dim=d), A.num(_eps(node))))
        name = ctx.pretty(x)
        sig = ctx.define("σ", r"\sigma", f"the {'rows' if d == 1 else 'columns'}' standard deviation "
                         f"in {node.func}({name}, ...)", sigma)
        hat, hat_tex = (x.id + "\u0302", rf"\hat{{{x.id}}}") if isinstance(x, Name) and len(x.id) == 1 \
            else ("X̂", r"\hat{X}")
        xhat = ctx.define(hat, hat_tex, f"{name} normalised", A.div(xc, sig))
        g = ctx.full(g, node)
        # gamma and beta act on the features: along a row of X (a column vector: down it)
        features_in_rows = column
        out = []

        def oriented(p: Node) -> Node:
            ps = ctx.shape(p)
            as_row = bool(ps) and ps[0].is_one
            return p if as_row != features_in_rows else ctx.transpose(p)

        def back_to(p: Node, value: Node) -> Node:
            return oriented_back(p, value)

        def oriented_back(p: Node, value: Node) -> Node:
            ps = ctx.shape(p)
            as_row = bool(ps) and ps[0].is_one
            return value if as_row != features_in_rows else ctx.transpose(value)

        over = 1 if column else 0  # the axis that is not the features
        if wanted(beta):
            out.append(Contribution(beta, back_to(beta, sum_axis(g, over, sx)), kind + " norm (shift)",
                                    "∂β = G summed over the samples"))
        if wanted(gamma):
            out.append(Contribution(gamma, back_to(gamma, sum_axis(A.mul(g, xhat), over, sx)),
                                    kind + " norm (scale)", "∂γ = (G ⊙ X̂) summed over the samples"))
        if wanted(x):
            gh = A.mul(g, oriented(gamma))
            inner = A.sub(A.sub(gh, A.call("mean", gh, dim=d)),
                          A.mul(xhat, A.call("mean", A.mul(gh, xhat), dim=d)))
            out.append(Contribution(x, A.div(inner, sig), kind + " norm (input)",
                                    f"∂X = (Ĝ − mean(Ĝ) − X̂ ⊙ mean(Ĝ ⊙ X̂)) ⊘ σ, Ĝ = G ⊙ γ, "
                                    f"means along dim={d}"))
        return out
    return rule


def _index_form(ctx: Context, x: Node, node: Call, text: str) -> Node:
    label = _index_label(ctx, x)
    sym = ctx.define(label, rf"\partial L/\partial {ctx.pretty(x)}", text, None, index=True)
    ctx.shapes.names[sym.id] = ctx.shape(x)
    return sym


def _conv(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    x, k = node.args
    g = ctx.full(g, node)
    out = []
    G = ctx.pretty(g)
    if wanted(k):
        out.append(Contribution(k, A.call(node.func, x, g), f"{node.func} (kernel)",
                                "∂K = (valid cross-correlation of the input with G)"))
    if wanted(x):
        lab, kern = _index_label(ctx, x), ctx.pretty(k)
        if node.func == "conv1d":
            text = (f"{lab}[i] = Σⱼ G[i−j]·{kern}[j] with G = {G}, zero outside its range: "
                    f"a full convolution of G with {kern}")
        else:
            text = (f"{lab}[i,j] = Σₐ,ᵦ G[i−a, j−b]·{kern}[a,b] with G = {G}, zero outside its "
                    f"range: a full convolution of G with {kern}")
        out.append(Contribution(x, _index_form(ctx, x, node, text), f"{node.func} (input)",
                                "no compact matrix form in the expression language: index notation",
                                text))
    return out


def _index_label(ctx: Context, x: Node) -> str:
    return f"∂L/∂{ctx.pretty(x)}" if isinstance(x, Name) else f"∂L/∂({ctx.pretty(x)})"


def _pool_option(node: Call, position: int, name: str, default: int) -> int:
    if len(node.args) > position:
        return int(constant_value(node.args[position]))
    value = node.kwarg(name)
    return default if value is None else int(constant_value(value))


def _pool(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    x = node.args[0]
    g = ctx.full(g, node)
    G, lab = ctx.pretty(g), _index_label(ctx, x)
    k = _pool_option(node, 1, "kernel", 2)
    s, p = _pool_option(node, 2, "stride", k), _pool_option(node, 3, "padding", 0)
    windows = f"{k}×{k} windows w (stride {s}" + (f", padding {p})" if p else ")")
    if node.func == "avg_pool2d":
        text = (f"{lab}[i,j] = Σ G[w]/{k * k} over the {windows} that contain (i, j), with "
                f"G = {G}: each window spreads its upstream evenly over its cells")
    else:
        text = (f"{lab}[i,j] = Σ G[w] over the {windows} whose largest entry is (i, j), with "
                f"G = {G}: each window's upstream goes to its max cell (ties: torch's choice)")
    return [Contribution(x, _index_form(ctx, x, node, text), node.func,
                         "no compact matrix form in the expression language: index notation", text)]


_STRUCTURAL = {
    "sum": _sum, "mean": _mean, "norm": _norm, "max": _max,
    "softmax": _softmax, "log_softmax": _log_softmax,
    "mse": _loss_rule("mean squared error", "∂P = 2 (P − T)/count",
                      lambda n, p, t, c: A.mul(A.num(2), A.sub(p, t)),
                      lambda n, p, t, c: A.mul(A.num(-2), A.sub(p, t)), "∂T = −2 (P − T)/count"),
    "l1": _loss_rule("mean absolute error", "∂P = sign(P − T)/count",
                     lambda n, p, t, c: A.call("sign", A.sub(p, t)),
                     lambda n, p, t, c: A.neg(A.call("sign", A.sub(p, t))), "∂T = −sign(P − T)/count"),
    "huber": _loss_rule("Huber loss", "∂P = δ·hardtanh((P − T)/δ)/count", _huber_grad,
                        lambda n, p, t, c: A.neg(_huber_grad(n, p, t, c)), "∂T = −∂P"),
    "bce": _loss_rule("binary cross-entropy", "∂P = (P − T) ⊘ (P ⊙ (1 − P))/count",
                      lambda n, p, t, c: A.div(A.sub(p, t), A.mul(p, A.sub(A.ONE, p))),
                      lambda n, p, t, c: A.sub(A.call("log", A.sub(A.ONE, p)), A.call("log", p)),
                      "∂T = (log(1 − P) − log P)/count"),
    "bce_with_logits": _loss_rule("binary cross-entropy on logits", "∂Z = (σ(Z) − T)/count",
                                  lambda n, p, t, c: A.sub(c.reuse(A.call("sigmoid", p)), t),
                                  lambda n, p, t, c: A.neg(p), "∂T = −Z/count"),
    "cross_entropy": _cross_entropy,
    "inv": _inv, "det": _det, "logdet": _logdet, "trace": _trace, "diag": _diag,
    "layer_norm": _normalisation("layer"), "batch_norm": _normalisation("batch"),
    "conv1d": _conv, "conv2d": _conv, "avg_pool2d": _pool, "max_pool2d": _pool,
}
