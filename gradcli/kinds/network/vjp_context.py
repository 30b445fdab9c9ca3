"""The state a vector-Jacobian rule works in, and the helpers every rule shares.

Below both `vjp.py` (the engine: operators and elementwise functions) and `vjp_structural.py`
(the table of structural rules), so the engine imports the table and the table imports only
this: no loop (JAX's `ad.py` owns the machinery, `lax.py` registers rules on it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gradcli.expr.ast import Binary, Call, Node, Transpose
from gradcli.kinds.network import algebra as A
from gradcli.kinds.network.shapes import Shape, Shapes, is_scalarlike, same


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
        """I of the size of the square `node`: eye(N) by its dim's name, unless a given or a
        forward line has that name (then eye(5): the name would not read back as the dim)."""
        return A.identity(self.shape(node)[0], self.shapes.names)

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


def reduction_kind(node: Call) -> str:
    value = node.kwarg("reduction")
    return value.value if value is not None else "mean"


def class_dim(node: Call, shape: Shape, ctx: Context) -> int:
    d = ctx.shapes._dim(node, shape)
    if d is not None:
        return d
    return 0 if shape and shape[1].is_one else 1
