"""Index layout: a derived matrix expression written entry by entry, ∂L/∂W[i,j] = δ[i]*x[j].

Index notation has no layout: entry (i, j) of ∂L/∂W is ∂L/∂W_ij whichever way the matrix is
drawn, so it is what a course with another convention can read. The translation walks the
expression tree with the indices of each node's entry:

- a name gets its indices (a size-1 axis has none: a column x is x[i], a scalar has none);
- `A @ B` sums over the contracted index, Σ_k A[i,k]*B[k,j]; when that axis has size 1 (an
  outer product) there is nothing to sum: δ[i]*x[j];
- `.T` swaps the indices; elementwise operations and functions share them (a size-1 axis
  broadcasts: it takes no index);
- `sum`/`mean` become Σ over the reduced indices (mean divided by the count);
- `trace(X)` is Σ_k X[k,k]; `diag(v)` is v[i]*[i=j] (the Kronecker delta, written as an
  Iverson bracket since δ names a gradient here), and a bracket next to a sum over one of
  its indices is summed away: Σ_k [i=k]*B[k,j] = B[i,j];
- any other matrix-valued call (softmax, inv, a normalisation, a convolution) is an entry of
  the whole, `softmax(Z, dim=1)[i,j]`: its insides have no index form printed here, and
  `opaque` lists them so the output can say so.

The result is a small tree of its own (`Ix`), printed three ways (the plain text above,
course notation with subscripts, LaTeX) and evaluated by `layout_einsum.py` as a
`torch.einsum` program built from the index form itself, never from the matrix expression.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gradcli import catalog
from gradcli.expr.ast import Binary, Call, Name, Node, Num, Str, Transpose, Unary
from gradcli.expr.signature import literal
from gradcli.kinds.network import algebra as A
from gradcli.kinds.network.shapes import Dim, Shape, is_scalarlike

Indices = tuple  # () for a scalar, else (row index | None, column index | None)

# fresh summation indices; each has a Unicode subscript for course notation
POOL = "klpqrsuvabcdefgh"
SUBSCRIPT = dict(zip("aehijklmnoprstuvx", "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))


@dataclass(frozen=True)
class Ix:
    """A node of an index expression."""


@dataclass(frozen=True)
class Entry(Ix):
    """An entry of a named matrix (a given, a forward name, a symbol) or of a call taken as
    a whole (`opaque`); `axes` are the node's own axes' indices (None: size 1)."""

    node: Node
    axes: Indices
    opaque: bool = False


@dataclass(frozen=True)
class Const(Ix):
    node: Node  # Num, or DimNum (N, printed by name)


@dataclass(frozen=True)
class Bracket(Ix):
    """[i=j]: 1 where the two indices are equal, else 0 (the Kronecker delta)."""

    i: str
    j: str


@dataclass(frozen=True)
class Op(Ix):
    """+ - * / ** of entries: products are implicit in index notation, printed with *."""

    op: str
    left: Ix
    right: Ix


@dataclass(frozen=True)
class Neg(Ix):
    operand: Ix


@dataclass(frozen=True)
class Fn(Ix):
    """An elementwise function of entries; options (slope=0.1) kept as the call has them."""

    call: Call
    args: tuple[Ix, ...]


@dataclass(frozen=True)
class Sum(Ix):
    """Σ over `over` (index, size) of `body`."""

    over: tuple[tuple[str, int], ...]
    body: Ix


@dataclass
class Translator:
    """Expression tree -> index expression, with fresh summation indices per translation."""

    shape_of: Callable[[Node], Shape]
    taken: set = field(default_factory=set)
    opaque: list = field(default_factory=list)  # calls printed as entries of the whole

    def fresh(self) -> str:
        for c in POOL:
            if c not in self.taken:
                self.taken.add(c)
                return c
        k = len(self.taken)
        self.taken.add(f"k{k}")
        return f"k{k}"

    def __call__(self, node: Node, axes: Indices) -> Ix:
        self.taken.update(a for a in axes if a)
        return _kronecker(self.visit(node, axes))

    def shape(self, node: Node) -> Shape:
        return self.shape_of(node)

    def fit(self, node: Node, axes: Indices) -> Indices:
        """The indices of an operand of an elementwise operation: a size-1 axis broadcasts."""
        s = self.shape(node)
        if is_scalarlike(s) or not axes:
            return ()
        return tuple(None if d.is_one else a for d, a in zip(s, axes, strict=True))

    def visit(self, node: Node, axes: Indices) -> Ix:
        if isinstance(node, A.Ones):
            return Const(A.ONE)
        if isinstance(node, Num):
            return Const(node)
        if isinstance(node, Name | Str):
            return Entry(node, self.fit(node, axes))
        if isinstance(node, Unary):
            inner = self.visit(node.operand, axes)
            return Neg(inner) if node.op == "-" else inner
        if isinstance(node, Transpose):
            return self.visit(node.operand, axes[::-1])
        if isinstance(node, Binary) and node.op == "@":
            return self.matmul(node, axes)
        if isinstance(node, Binary):
            left = self.visit(node.left, self.fit(node.left, axes))
            right = self.visit(node.right, self.fit(node.right, axes))
            return Op(node.op, left, right)
        if isinstance(node, Call):
            return self.call(node, axes)
        return Entry(node, self.fit(node, axes), opaque=True)

    def matmul(self, node: Binary, axes: Indices) -> Ix:
        a, b = self.shape(node.left), self.shape(node.right)
        row, col = axes if axes else (None, None)
        inner: Dim = a[1]
        k = None if inner.is_one else self.fresh()
        left = self.visit(node.left, (None if a[0].is_one else row, k))
        right = self.visit(node.right, (k, None if b[1].is_one else col))
        product = Op("*", left, right)
        return Sum(((k, inner.size),), product) if k else product

    def call(self, node: Call, axes: Indices) -> Ix:
        f = node.func
        if isinstance(node, A.Eye):
            return Bracket(*axes) if axes and None not in axes else Const(A.ONE)
        if catalog.is_elementwise(f) or catalog.is_pairwise(node):
            args = tuple(self.visit(a, self.fit(a, axes)) if not isinstance(a, Num | Str)
                         else Const(a) for a in node.args)
            return Fn(node, args)
        if f in ("sum", "mean") and len(node.args) == 1:
            return self.reduction(node, axes)
        if f == "trace":
            s = self.shape(node.args[0])
            k = self.fresh()
            return Sum(((k, s[0].size),), self.visit(node.args[0], (k, k)))
        if f == "diag" and axes and None not in axes:
            v = self.visit(node.args[0], (axes[0], None))
            return Op("*", v, Bracket(*axes))
        if node not in self.opaque:
            self.opaque.append(node)
        return Entry(node, self.fit(node, axes), opaque=True)

    def reduction(self, node: Call, axes: Indices) -> Ix:
        x = node.args[0]
        s = self.shape(x)
        if not s:
            return self.visit(x, ())
        d = literal(node, "dim")
        own = list(axes) if axes else [None, None]
        over, count = [], []
        for axis in range(2):
            if d is not None and axis != d % 2:
                continue
            if s[axis].is_one:
                own[axis] = None
                continue
            k = self.fresh()
            own[axis] = k
            over.append((k, s[axis].size))
            count.append(s[axis])
        body = self.visit(x, tuple(own))
        total = Sum(tuple(over), body) if over else body
        if node.func == "mean" and count:
            size = 1
            for c in count:
                size *= c.size
            label = "·".join(c.symbol for c in count)
            return Op("/", total, Const(A.DimNum(size, symbol=label if label.replace("·", "").isidentifier() else "")))
        return total


def _uses(ix: Ix, index: str) -> bool:
    if isinstance(ix, Entry):
        return index in ix.axes
    if isinstance(ix, Bracket):
        return index in (ix.i, ix.j)
    if isinstance(ix, Op):
        return _uses(ix.left, index) or _uses(ix.right, index)
    if isinstance(ix, Neg):
        return _uses(ix.operand, index)
    if isinstance(ix, Fn):
        return any(_uses(a, index) for a in ix.args)
    if isinstance(ix, Sum):
        return _uses(ix.body, index)
    return False


def _rename(ix: Ix, old: str, new: str) -> Ix:
    if isinstance(ix, Entry):
        return Entry(ix.node, tuple(new if a == old else a for a in ix.axes), ix.opaque)
    if isinstance(ix, Bracket):
        return Bracket(new if ix.i == old else ix.i, new if ix.j == old else ix.j)
    if isinstance(ix, Op):
        return Op(ix.op, _rename(ix.left, old, new), _rename(ix.right, old, new))
    if isinstance(ix, Neg):
        return Neg(_rename(ix.operand, old, new))
    if isinstance(ix, Fn):
        return Fn(ix.call, tuple(_rename(a, old, new) for a in ix.args))
    if isinstance(ix, Sum):
        return Sum(ix.over, _rename(ix.body, old, new))
    return ix


def factors(ix: Ix) -> list[Ix]:
    if isinstance(ix, Op) and ix.op == "*":
        return factors(ix.left) + factors(ix.right)
    return [ix]


def _product(factors: list[Ix]) -> Ix:
    out = factors[0]
    for f in factors[1:]:
        out = Op("*", out, f)
    return out


def _kronecker(ix: Ix) -> Ix:
    """Σ_k [i=k]*B[k,j] = B[i,j]: a bracket that is a factor of a sum over one of its indices
    picks that index's value; nested sums print as one (Σ_k,l)."""
    if isinstance(ix, Op):
        return Op(ix.op, _kronecker(ix.left), _kronecker(ix.right))
    if isinstance(ix, Neg):
        return Neg(_kronecker(ix.operand))
    if isinstance(ix, Fn):
        return Fn(ix.call, tuple(_kronecker(a) for a in ix.args))
    if not isinstance(ix, Sum):
        return ix
    body, over = _kronecker(ix.body), list(ix.over)
    for k, size in list(over):
        parts = factors(body)
        for f in parts:
            if isinstance(f, Bracket) and k in (f.i, f.j) and f.i != f.j:
                other = f.j if f.i == k else f.i
                rest = [g for g in parts if g is not f] or [Const(A.ONE)]
                body = _rename(_product(rest), k, other)
                over.remove((k, size))
                break
    if isinstance(body, Sum):
        over += body.over
        body = body.body
    return Sum(tuple(over), body) if over else body


# The matrix rules of the derivation (`vjp.py`, `vjp_structural.py`) in index form, by their
# matrix formula: a step of index layout states the rule it applied the way it shows the value.
# Elementwise rules (G ⊙ σ′(u)) read the same entry by entry and are not listed.
RULES = {
    "∂A = G Bᵀ": "∂A[i,k] = Σ_j G[i,j]*B[k,j]",
    "∂B = Aᵀ G": "∂B[k,j] = Σ_i A[i,k]*G[i,j]",
    "∂A = Gᵀ": "∂A[i,j] = G[j,i]",
    "∂X = G 𝟙 (every entry receives G)": "∂X[i,j] = G",
    "∂X = G copied along dim=0": "∂X[i,j] = G[j]",
    "∂X = G copied along dim=1": "∂X[i,j] = G[i]",
    "∂X = G·I": "∂X[i,j] = G*[i=j]",
    "∂X = G X⁻ᵀ": "∂X[i,j] = G*X⁻¹[j,i]",
    "∂X = G det(X) X⁻ᵀ": "∂X[i,j] = G*det(X)*X⁻¹[j,i]",
    "∂X = −X⁻ᵀ G X⁻ᵀ": "∂X[i,j] = -Σ_k,l X⁻¹[k,i]*G[k,l]*X⁻¹[j,l]",
}


def gradient_axes(shape: Shape) -> Indices:
    """The indices of a gradient's entry: i for rows, j for columns, none for size 1."""
    if is_scalarlike(shape):
        return ()
    return tuple(None if d.is_one else a for d, a in zip(shape, "ij", strict=True))
