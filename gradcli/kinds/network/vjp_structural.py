"""Local vector-Jacobian rules of the catalog's structural functions: reductions, softmax,
losses, linear algebra, normalisation, convolution and pooling (see `vjp.py`).

Where no compact matrix form exists in the expression language (a convolution's input,
pooling), the rule returns an index-notation symbol instead of an expression, and the
gradient is checked by autograd against finite differences.
"""

from __future__ import annotations

from gradcli import catalog
from gradcli.errors import InputError
from gradcli.expr.ast import Call, Name, Node, Transpose
from gradcli.expr.signature import literal
from gradcli.expr.unparse import unparse
from gradcli.kinds.network import algebra as A
from gradcli.kinds.network.vjp_context import (
    Context,
    Contribution,
    class_dim,
    count,
    reduce_to,
    reduction_kind,
    sum_axis,
)

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


def _extreme(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    """max/min. Two arguments: the elementwise maximum (minimum), whose gradient goes to the
    larger (smaller) argument, split evenly at a tie as torch.maximum does. One argument: the
    reduction; tied maxima share G evenly (torch's amax), so the indicator of the largest
    entries is divided by how many there are; without ties that count is 1."""
    if catalog.is_pairwise(node):
        return _pairwise(node, g, ctx, wanted)
    x = node.args[0]
    word = "largest" if node.func == "max" else "smallest"
    gap = A.sub(ctx.reuse(node), x) if node.func == "max" else A.sub(x, ctx.reuse(node))
    at_max = A.sub(A.ONE, A.call("step", gap))
    d = ctx.shapes._dim(node, ctx.shape(x))
    ties = A.call("sum", at_max) if d is None else A.call("sum", at_max, dim=d)
    return [Contribution(x, A.mul(g, A.div(at_max, ties)), node.func,
                         f"∂X = G at the {word} entry, 0 elsewhere",
                         f"divided by the number of entries tied at the {word}, as torch "
                         "splits G among ties (1 without ties)")]


def _pairwise(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    a, b = node.args
    s = ctx.shape(node)
    up = A.call("step", A.sub(a, b) if node.func == "max" else A.sub(b, a))
    down = A.call("step", A.sub(b, a) if node.func == "max" else A.sub(a, b))
    shares = ((a, A.div(A.sub(A.add(A.ONE, up), down), A.num(2))),
              (b, A.div(A.add(A.sub(A.ONE, up), down), A.num(2))))
    word, cmp = ("maximum", ">") if node.func == "max" else ("minimum", "<")
    out = []
    for child, share in shares:
        if wanted(child):
            grad, note = reduce_to(A.mul(g, share), s, ctx.shape(child), ctx)
            out.append(Contribution(child, grad, f"elementwise {word}",
                                    f"∂A = G ⊙ [A {cmp} B], ∂B = G ⊙ [B {cmp} A], G/2 each at a "
                                    "tie (torch's convention)", note))
    return out


def _constant(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    """eye(n), ones(n, m), zeros(n, m): no tensor argument, nothing to send back."""
    return []


def _softmax(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    z = node.args[0]
    d = class_dim(node, ctx.shape(z), ctx)
    s = ctx.reuse(node)
    inner = A.sub(g, A.call("sum", A.mul(g, s), dim=d))
    return [Contribution(z, A.mul(s, inner), "softmax", f"∂z = s ⊙ (G − sum(G ⊙ s, dim={d}))")]


def _log_softmax(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    z = node.args[0]
    d = class_dim(node, ctx.shape(z), ctx)
    g = ctx.full(g, node)
    s = ctx.reuse(A.call("softmax", z) if len(node.args) == 1 and not node.kwargs
                  else A.call("softmax", z, dim=d))
    return [Contribution(z, A.sub(g, A.mul(s, A.call("sum", g, dim=d))), "log-softmax",
                         f"∂z = G − softmax(z) ⊙ sum(G, dim={d})")]


def _per_entry(node: Call, ctx: Context) -> Node:
    """1/count for reduction="mean" over all entries, 1 for "sum"."""
    return A.ONE if reduction_kind(node) == "sum" else count(ctx.shape(node.args[0]))


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
    return literal(node, "delta")


def _huber_grad(node, p, t, ctx):
    delta = _huber_delta(node)
    d = A.sub(p, t)
    return A.mul(A.num(delta), A.call("hardtanh", A.div(d, A.num(delta))))


def _declared(ctx: Context, y: Node) -> str | None:
    """What the file declares a target to be (labels, onehot, distribution), or None."""
    while isinstance(y, Transpose):
        y = y.operand
    kind = ctx.shapes.kinds.get(y.id) if isinstance(y, Name) else None
    return kind[0] if kind else None


def _onehot(ctx: Context, y: Node) -> Node:
    """onehot(y, C) for class labels y, C printed as the dim in course notation."""
    classes = ctx.shapes.labels(y)
    size = A.DimNum(classes.size, symbol=classes.symbol) if classes.is_declared else \
        A.num(classes.size)
    return A.call("onehot", y, size)


def _cross_entropy(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    """∂Z = (softmax(Z) − Y)/N holds only when each row of Y sums to 1, which only the file
    can say (labels, onehot: true, distribution: rows); an undeclared Y is any real matrix,
    and each row of softmax(Z) is weighed by its row's sum."""
    z, y = node.args[0], node.args[1]
    sz = ctx.shape(z)
    rows = bool(sz) and not sz[1].is_one
    n = A.ONE if reduction_kind(node) == "sum" else (count(sz, (0,)) if rows else A.ONE)
    out = []
    p = ctx.reuse(A.call("softmax", z))
    kind = _declared(ctx, y)
    if wanted(z):
        if kind == "labels":
            grad, formula = A.sub(p, _onehot(ctx, y)), "∂Z = (softmax(Z) − onehot(y, C))/N"
            note = f"{unparse(y)} holds class labels (declared labels)"
        elif kind is not None:
            grad = A.sub(p, y)
            formula = "∂Z = (softmax(Z) − Y)/N" if rows else "∂z = softmax(z) − y"
            note = f"each row of the target sums to 1 (declared {kind})"
        else:
            total = A.call("sum", y, dim=1) if rows else A.call("sum", y)
            grad = A.sub(A.mul(p, total), y)
            formula = ("∂Z = (softmax(Z) ⊙ sum(Y, dim=1) − Y)/N" if rows else
                       "∂z = softmax(z)·sum(y) − y")
            note = ("the target is not declared one-hot, a distribution or labels, so its row "
                    "sums stay (declare it to get softmax(Z) − Y)")
        out.append(Contribution(z, A.mul(g, A.div(grad, n)), "softmax cross-entropy", formula,
                                note))
    if wanted(y):
        out.append(Contribution(y, A.mul(g, A.div(A.neg(ctx.reuse(A.call("log_softmax", z))), n)),
                                "softmax cross-entropy (target)", "∂Y = −log_softmax(Z)/N"))
    return out


def _nll(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    """nll(logp, y) = −mean over rows of logp at each row's label: ∂logp = −onehot(y, C)/N."""
    logp, y = node.args[0], node.args[1]
    n = A.ONE if reduction_kind(node) == "sum" else count(ctx.shape(logp), (0,))
    if not wanted(logp):
        return []
    return [Contribution(logp, A.mul(g, A.div(A.neg(_onehot(ctx, y)), n)),
                         "negative log-likelihood", "∂logp = −onehot(y, C)/N",
                         f"{unparse(y)} holds class labels (declared labels)")]


def _never(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    """onehot(y, C): class labels are never differentiated."""
    return []


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
    eye = ctx.eye(node)  # diag(x) is N×N for a column x of N entries
    return [Contribution(x, A.call("sum", A.mul(g, eye), dim=1), "diagonal matrix",
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
    return literal(node, "eps")


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
            site = f"norm{len(ctx.norm_nodes)}"
            ctx.norm_nodes.append(node)
            gh = A.mul(g, oriented(gamma))
            inner = A.sub(A.sub(gh, A.call("mean", gh, dim=d)),
                          A.mul(xhat, A.call("mean", A.mul(gh, xhat), dim=d)))
            if ctx.mutation.get(site) == "naive":  # a hint's mistake: mean and σ held constant
                inner = gh
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
    stride, padding = literal(node, "stride"), literal(node, "padding")
    g = ctx.full(g, node)
    out = []
    G, U = ctx.pretty(g), ctx.upstream
    options = (f" (stride {stride}" + (f", padding {padding})" if padding else ")")
               if stride != 1 else f" (padding {padding})" if padding else "")
    if wanted(k):
        if stride == 1:  # ∂K = the input (padded as in the forward) cross-correlated with G
            grad = A.call(node.func, x, g) if not padding else \
                A.call(node.func, x, g, padding=padding)
            out.append(Contribution(k, grad, f"{node.func} (kernel)",
                                    "∂K = (cross-correlation of the input with G" +
                                    (f", padding {padding})" if padding else ")")))
        else:
            lab, kern = _index_label(ctx, k), ctx.pretty(x)
            at = "i + s·a" if node.func == "conv1d" else "s·a + i, s·b + j"
            idx = "i" if node.func == "conv1d" else "i,j"
            over = "a" if node.func == "conv1d" else "a,b"
            text = (f"{lab}[{idx}] = Σ_{over} {U}[{over}]·{kern}[{at}] with {U} = {G}, s = {stride}"
                    f"{f', the input zero-padded by {padding}' if padding else ''}: the input "
                    f"sampled every {stride} entries")
            out.append(Contribution(k, _index_form(ctx, k, node, text), f"{node.func} (kernel)",
                                    "no compact matrix form in the expression language: index "
                                    "notation", text))
    if wanted(x):
        lab, kern = _index_label(ctx, x), ctx.pretty(k)
        if node.func == "conv1d":
            text = (f"{lab}[i] = Σⱼ {U}[i−j]·{kern}[j] with {U} = {G}, zero outside its range: "
                    f"a full convolution of {U} with {kern}")
        else:
            text = (f"{lab}[i,j] = Σₐ,ᵦ {U}[i−a, j−b]·{kern}[a,b] with {U} = {G}, zero outside "
                    f"its range: a full convolution of {U} with {kern}")
        if stride != 1 or padding:
            text += (f"{options}: {U} spread back with {stride - 1} zero(s) between entries, "
                     f"the result cropped by {padding} on each side" if stride != 1 else
                     f"{options}: the result cropped by {padding} on each side")
        out.append(Contribution(x, _index_form(ctx, x, node, text), f"{node.func} (input)",
                                "no compact matrix form in the expression language: index notation",
                                text))
    return out


def _sizes(ctx: Context, x: Node) -> tuple[str, str]:
    shape = ctx.shape(x)
    return (str(shape[0]), str(shape[1])) if shape else ("1", "1")


def _vec(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    """vec(X): the upstream, a column of p·q entries, put back into X's columns."""
    x = node.args[0]
    g = ctx.full(g, node)
    p, _ = _sizes(ctx, x)
    text = (f"{_index_label(ctx, x)}[i,j] = {ctx.upstream}[i + {p}·j] (0-based) with "
            f"{ctx.upstream} = {ctx.pretty(g)}: the upstream un-stacked, column by column")
    return [Contribution(x, _index_form(ctx, x, node, text), "vec (columns stacked)",
                         "no compact matrix form in the expression language: index notation",
                         text)]


def _kron(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    """A ⊗ B: block (i, j) is A[i, j]·B, so each entry of A meets one block of the upstream."""
    a, b = node.args
    g = ctx.full(g, node)
    r, s = _sizes(ctx, b)
    at, U, G = f"{r}·i + k, {s}·j + l", ctx.upstream, ctx.pretty(g)
    out = []
    for x, other, idx, over in ((a, b, "i,j", "k,l"), (b, a, "k,l", "i,j")):
        if wanted(x):
            text = (f"{_index_label(ctx, x)}[{idx}] = Σ_{over} {U}[{at}]·{ctx.pretty(other)}"
                    f"[{over}] (0-based) with {U} = {G}")
            out.append(Contribution(x, _index_form(ctx, x, node, text), "Kronecker product",
                                    "no compact matrix form in the expression language: index "
                                    "notation", text))
    return out


def _index_label(ctx: Context, x: Node) -> str:
    return f"∂L/∂{ctx.pretty(x)}" if isinstance(x, Name) else f"∂L/∂({ctx.pretty(x)})"


def _pool_option(node: Call, name: str) -> int | None:
    return literal(node, name)


def _pool(node: Call, g: Node, ctx: Context, wanted) -> list[Contribution]:
    x = node.args[0]
    g = ctx.full(g, node)
    G, U, lab = ctx.pretty(g), ctx.upstream, _index_label(ctx, x)
    k = _pool_option(node, "kernel")
    s, p = _pool_option(node, "stride") or k, _pool_option(node, "padding")
    windows = f"{k}×{k} windows w (stride {s}" + (f", padding {p})" if p else ")")
    if node.func == "avg_pool2d":
        text = (f"{lab}[i,j] = Σ {U}[w]/{k * k} over the {windows} that contain (i, j), with "
                f"{U} = {G}: each window spreads its upstream evenly over its cells")
    else:
        text = (f"{lab}[i,j] = Σ {U}[w] over the {windows} whose largest entry is (i, j), with "
                f"{U} = {G}: each window's upstream goes to its max cell (ties: torch's choice)")
    return [Contribution(x, _index_form(ctx, x, node, text), node.func,
                         "no compact matrix form in the expression language: index notation", text)]


RULES = {
    "sum": _sum, "mean": _mean, "norm": _norm, "max": _extreme, "min": _extreme,
    "eye": _constant, "ones": _constant, "zeros": _constant,
    "softmax": _softmax, "log_softmax": _log_softmax,
    "mse": _loss_rule("mean squared error", "∂P = 2 (P − T)/count",
                      lambda n, p, t, c: A.mul(A.num(2), A.sub(p, t)),
                      lambda n, p, t, c: A.mul(A.num(-2), A.sub(p, t)), "∂T = −2 (P − T)/count"),
    "l1": _loss_rule("mean absolute error", "∂P = sign(P − T)/count",
                     lambda n, p, t, c: A.call("sign", A.sub(p, t)),
                     lambda n, p, t, c: A.neg(A.call("sign", A.sub(p, t))), "∂T = −sign(P − T)/count"),
    "huber": _loss_rule("Huber loss", "∂P = (P − T)/count where |P − T| ≤ δ (quadratic "
                        "branch), δ·sign(P − T)/count beyond (linear branch): together "
                        "δ·hardtanh((P − T)/δ)/count", _huber_grad,
                        lambda n, p, t, c: A.neg(_huber_grad(n, p, t, c)), "∂T = −∂P"),
    "bce": _loss_rule("binary cross-entropy", "∂P = (P − T) ⊘ (P ⊙ (1 − P))/count",
                      lambda n, p, t, c: A.div(A.sub(p, t), A.mul(p, A.sub(A.ONE, p))),
                      lambda n, p, t, c: A.sub(A.call("log", A.sub(A.ONE, p)), A.call("log", p)),
                      "∂T = (log(1 − P) − log P)/count"),
    "bce_with_logits": _loss_rule("binary cross-entropy on logits", "∂Z = (σ(Z) − T)/count",
                                  lambda n, p, t, c: A.sub(c.reuse(A.call("sigmoid", p)), t),
                                  lambda n, p, t, c: A.neg(p), "∂T = −Z/count"),
    "cross_entropy": _cross_entropy, "nll": _nll, "onehot": _never,
    "inv": _inv, "det": _det, "logdet": _logdet, "trace": _trace, "diag": _diag,
    "kron": _kron, "vec": _vec,
    "layer_norm": _normalisation("layer"), "batch_norm": _normalisation("batch"),
    "conv1d": _conv, "conv2d": _conv, "avg_pool2d": _pool, "max_pool2d": _pool,
}
