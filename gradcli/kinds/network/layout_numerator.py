"""Numerator layout: a derived gradient rewritten as the transpose of its denominator form.

The derivation works in denominator layout (∂L/∂W shaped like W, the worksheet's). In
numerator layout ∂L/∂W of an m×n W is n×m and ∂L/∂y of an n-vector is a 1×n row, so each
gradient is the transpose of the derived one. Printing `(δ @ x.T).T` would be honest but is
not what a textbook prints, so the transpose is pushed through the tree: (A B)ᵀ = Bᵀ Aᵀ,
(A ⊙ B)ᵀ = Aᵀ ⊙ Bᵀ, f(A)ᵀ = f(Aᵀ) for elementwise f, (Aᵀ)ᵀ = A, sum(X, dim=0)ᵀ =
sum(Xᵀ, dim=1), a scalar has no transpose.

A name the derivation gave to a gradient (δ = ∂L/∂z, ∂L/∂Y) is itself read in numerator
layout: δ is a 1×n row, so the denominator δ is δᵀ and (δ xᵀ)ᵀ = x δ, (Wᵀ δ)ᵀ = δ W, the
textbook's forms. Names of forward quantities (σ, x̂ of a normalisation) are values, not
gradients, and keep their shape.

At every node both forms are built, the transpose (`num`) and the value itself (`den`),
each written with the numerator-layout names, and the one with fewer transposes is kept
(then the smaller): `((y - t)*y*(1 - y)).T` rather than `(y.T - t.T)*y.T*(1 - y.T)`. Whether
a form is right is not this module's claim: `layout_view.py` evaluates the printed text and
compares it with torch autograd, transposed.
"""

from __future__ import annotations

from collections.abc import Callable

from gradcli import catalog
from gradcli.expr.ast import Binary, Call, Name, Node, Num, Str, Transpose, Unary, walk
from gradcli.expr.signature import literal
from gradcli.kinds.network import algebra as A
from gradcli.kinds.network.shapes import Shape, is_scalarlike

Pair = tuple[Node, Node]  # (the transpose of the node, the node), numerator-layout names

# calls whose value is unchanged when every tensor argument is transposed (whole reductions,
# the determinant and trace), and `inv`, which commutes with the transpose
_TRANSPOSE_FREE = ("sum", "mean", "norm", "max", "min", "trace", "det", "logdet")


def transposed(shape: Shape) -> Shape:
    """The numerator-layout shape of a gradient of a variable shaped `shape`."""
    return shape if not shape else (shape[1], shape[0])


def cost(node: Node) -> tuple[int, int, int]:
    """Fewer transposes first; then fewer awkward ones (a transpose of a compound inside the
    form, `1 - (a1**2).T`, or one raised to a power, `a1.T**2`, which course notation prints
    a₁ᵀ² and LaTeX cannot set); then fewer nodes. A transpose of the whole, or of a name,
    is what a textbook writes: (1 − a₁²)ᵀ, (σ(z) − t) xᵀ."""
    marks = awkward = 0
    for n in walk(node):
        if isinstance(n, Transpose):
            marks += 1
            awkward += n is not node and not isinstance(n.operand, Name)
        elif isinstance(n, Binary) and n.op == "**" and isinstance(n.left, Transpose):
            awkward += 1
    return marks, awkward, A.size(node)


class Numerator:
    """Pushes a transpose through a derivation tree; `gradient(adjoint)` says whether a named
    symbol is a gradient (numerator layout transposes it) or a forward value (it does not)."""

    def __init__(self, shape_of: Callable[[Node], Shape], gradient: Callable[[A.Adjoint], bool]):
        self.shape_of = shape_of
        self.gradient = gradient

    def __call__(self, node: Node) -> Node:
        """The numerator-layout form of the denominator-layout gradient `node`."""
        return self.pair(node)[0]

    def scalar(self, node: Node) -> bool:
        try:
            return is_scalarlike(self.shape_of(node))
        except Exception:  # noqa: BLE001 - a node the shape rules do not know is a matrix
            return False

    def pair(self, node: Node) -> Pair:
        num, den = self._pair(node)
        if self.scalar(node):  # a scalar is its own transpose: keep the cheaper writing
            best = min(num, den, key=cost)
            return best, best
        return num, den

    def _t(self, node: Node) -> Node:
        return A.transpose(node, scalar=self.scalar(node))

    def _choose(self, num: Node, den: Node) -> Pair:
        """Each form, or the transpose of the other, whichever reads better (`cost`)."""
        return min(num, self._t(den), key=cost), min(den, self._t(num), key=cost)

    def _pair(self, node: Node) -> Pair:
        if isinstance(node, A.Adjoint):
            if self.gradient(node):
                return node, Transpose(node)
            return Transpose(node), node
        if isinstance(node, Name | Num | Str):
            return self._t(node), node
        if isinstance(node, Unary):
            num, den = self.pair(node.operand)
            return Unary(node.op, num), Unary(node.op, den)
        if isinstance(node, Transpose):
            num, den = self.pair(node.operand)
            return den, num
        if isinstance(node, Binary) and node.op == "@":
            (na, da), (nb, db) = self.pair(node.left), self.pair(node.right)
            return Binary("@", nb, na), Binary("@", da, db)
        if isinstance(node, Binary):  # elementwise (and 𝟙 = x**0): shapes broadcast alike
            (na, da), (nb, db) = self.pair(node.left), self.pair(node.right)
            return self._choose(type(node)(node.op, na, nb), type(node)(node.op, da, db))
        if isinstance(node, Call):
            return self._call(node)
        return self._t(node), node

    def _call(self, node: Call) -> Pair:
        pairs = [self.pair(a) for a in node.args]
        den = type(node)(node.func, tuple(d for _, d in pairs), node.kwargs)
        f = node.func
        if node.func == "diag" or isinstance(node, A.Eye):  # symmetric: its own transpose
            return den, den
        elementwise = catalog.is_elementwise(f) or catalog.is_pairwise(node) or f == "inv"
        if elementwise:
            return self._choose(type(node)(f, tuple(n for n, _ in pairs), node.kwargs), den)
        if f in ("sum", "mean") and len(node.args) == 1:
            return self._reduction(node, pairs[0], den)
        if f in _TRANSPOSE_FREE and self.scalar(node):
            flipped = Call(f, tuple(n for n, _ in pairs), node.kwargs)
            best = min(den, flipped, key=cost)
            return best, best
        return self._t(den), den

    def _reduction(self, node: Call, arg: Pair, den: Node) -> Pair:
        """sum(X, dim=d)ᵀ = sum(Xᵀ, dim=1−d): the axis moves with the transpose."""
        d = literal(node, "dim")
        if d is None:
            whole = min(den, Call(node.func, (arg[0],)), key=cost)
            return whole, whole
        other = (("dim", Num(1 - d % 2)),)
        return self._choose(Call(node.func, (arg[0],), other), den)


def is_gradient(adjoint: A.Adjoint) -> bool:
    """A symbol standing for ∂L/∂(a name): δ, ∂L/∂Y (backprop's `__d_` ids, or a gradient
    known only in index notation); σ and x̂ of a normalisation are forward values."""
    return adjoint.id.startswith("__d_") or isinstance(adjoint, A.IndexForm)
