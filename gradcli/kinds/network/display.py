"""The display form of a network result: what a textbook prints.

A derived gradient keeps the names reverse mode gave its upstreams (δ₁ = ∂L/∂z1, σ and Ẑ of a
normalisation, ∂L/∂Z): they are exactly a textbook's where-names, so the display form prints
`δ₁ @ x.T` rather than δ₁ written out, and each named quantity once, on its own where-line.
Dims print by name (`/N`, never `/5`), the identity (`eye(N)` in the language) as `I`. The algebraic
normalisations of `rewrite.py` are applied under a numeric guard (`Guard`): a candidate is
kept only if it evaluates equal to the derivation at sample points of the problem's domain.

The display text is the expression language's syntax with names that are not in it (δ₁, σ,
∂L/∂Z, N): for reading and comparing. The pasteable form stays `expression` (expanded).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from gradcli.expr.ast import Binary, Call, Name, Node, Num, Transpose, Unary
from gradcli.expr.unparse import unparse
from gradcli.kinds.network import algebra as A


def _named(node: Node) -> Node:
    """The tree with each derivation-only node as the name a reader sees."""
    if isinstance(node, A.Adjoint):
        return Name(node.symbol or node.id)
    if isinstance(node, A.DimNum):
        if not node.symbol:
            return Num(node.value)
        parts = [Name(s) for s in node.symbol.split("·")]
        out: Node = parts[0]
        for p in parts[1:]:
            out = Binary("*", out, p)
        return out
    if isinstance(node, A.Eye):
        return Name("I")
    if isinstance(node, A.Ones):
        return Name("𝟙")
    if isinstance(node, Unary):
        return Unary(node.op, _named(node.operand))
    if isinstance(node, Transpose):
        return Transpose(_named(node.operand))
    if isinstance(node, Binary):
        return Binary(node.op, _named(node.left), _named(node.right))
    if isinstance(node, Call):
        return Call(node.func, tuple(_named(a) for a in node.args), node.kwargs)
    return node


def text(node: Node) -> str:
    """The display text: expression-language syntax, with δ, σ, ∂L/∂Z, N and I by name."""
    return _print(_named(node))


def _scalar_factor(node: Node) -> bool:
    return type(node) is Num or (isinstance(node, Unary) and type(node.operand) is Num)


def _print(node: Node) -> str:
    """`unparse`, with the parentheses it adds only for the eye taken out where a scalar makes
    them idle: `2*A.T @ r` and `X.T @ r/N` parse to the same values as `2*(A.T @ r)` and
    `(X.T @ r)/N`, and are how a textbook writes them."""
    if isinstance(node, Binary) and node.op == "*" and _scalar_factor(node.left) and \
            isinstance(node.right, Binary) and node.right.op == "@":
        return f"{unparse(node.left)}*{_print(node.right)}"
    if isinstance(node, Binary) and node.op == "/" and _product_chain(node.left) and _atom(node.right):
        return f"{_print(node.left)}/{unparse(node.right)}"
    if isinstance(node, Binary) and node.op in "+-":
        right = _print(node.right)
        if isinstance(node.right, Binary) and node.right.op in "+-":
            right = f"({right})"
        return f"{_print(node.left)} {node.op} {right}"
    return unparse(node)


def _product_chain(node: Node) -> bool:
    """A @ B, or c*(A @ B) with c a number: what `/atom` may follow without parentheses."""
    if isinstance(node, Binary) and node.op == "*" and _scalar_factor(node.left):
        node = node.right
    return isinstance(node, Binary) and node.op == "@"


def _atom(node: Node) -> bool:
    return isinstance(node, Name) or (type(node) is Num and node.value > 0)


class Guard:
    """Numeric equality of two forms of one derived quantity, at sample points of the problem.

    Both forms are expanded (names substituted back) and evaluated on the forward values of
    `count` points drawn like the checks' (positive where a log needs it, invertible where an
    inverse does), from a seed of their own; equal means the same shape and every entry within
    rtol 1e-9, atol 1e-11 (float64 rounding, far below any real difference)."""

    def __init__(self, graph, problem, expand: Callable[[Node], Node], seed: int, count: int = 2):
        self.graph, self.problem, self.expand = graph, problem, expand
        self.seed, self.count = seed, count
        self._envs: list | None = None

    def envs(self) -> list:
        if self._envs is None:
            from gradcli.kinds.network import verify as V

            self._envs = [V.forward(self.graph, p.values)
                          for p in V.each_point(self.graph, self.problem, self.seed + 7919, self.count)]
        return self._envs

    def __call__(self, before: Node, after: Node) -> bool:
        import torch

        from gradcli.verify.evaluate import Evaluator

        try:
            for env in self.envs():
                a = Evaluator(env)(self.expand(before))
                b = Evaluator(env)(self.expand(after))
                if a.shape != b.shape and not (a.numel() == 1 and b.numel() == 1):
                    return False
                if not torch.allclose(a.reshape(b.shape), b, rtol=1e-9, atol=1e-11):
                    return False
        except Exception:  # noqa: BLE001 - a form that cannot be evaluated is not shown
            return False
        return True


SHORT = 4  # a name standing for at most this many nodes (W2.T @ δ₂) is written out


def adjoints(node: Node) -> list[A.Adjoint]:
    """The names a form uses, in order of first use."""
    from gradcli.expr.ast import walk

    return list(dict.fromkeys(n for n in walk(node) if isinstance(n, A.Adjoint)
                              and not isinstance(n, A.IndexForm)))


def inline_names(node: Node, values: Mapping[str, Node], keep: Collection[str],
                 simplify: Callable[[Node], Node]) -> Node:
    """Substitute a name back into a form where the textbook would not name it: where the
    form gets shorter once it cancels (∂L/∂p ⊙ p ⊙ (1 − p) with ∂L/∂p = (p − t) ⊘ (p ⊙ (1 − p)·n)
    is (p − t)/n), or where the name stands for a short product (∂L/∂a1 = W2ᵀ δ₂). The names
    in `keep` (δ, the gradients asked for, σ and x̂ of a normalisation) always stay."""
    done = False
    while not done:
        done = True
        for adj in adjoints(node):
            if adj.id in keep or adj.id not in values:
                continue
            value = values[adj.id]
            candidate = simplify(A.rebuild(node, lambda n, a=adj, v=value: v if n == a else None))
            if A.size(candidate) < A.size(node) or A.size(value) <= SHORT:
                node, done = candidate, False
                break
    return node
