"""Evaluating an index expression as a `torch.einsum` program: the index view's own check.

Each node evaluates to a tensor with one named index per axis. A Σ over a product becomes
one `torch.einsum` call whose subscripts are the printed indices (`Σ_k W[k,i]*δ[k]` is
`einsum("ki,k->i", W, δ)`), elementwise operations align their operands by index name, and
an entry's tensor comes from its name alone (a given, a forward value, or a symbol's value,
itself computed from its own index form). The matrix expression the index form was
translated from is never evaluated, so a wrong translation (a swapped index, a lost sum)
shows as a failed check against torch autograd, not as agreement with itself.

Only entries of opaque calls (`softmax(Z, dim=1)[i,j]`, printed as entries of the whole)
are computed by the matrix evaluator: their insides have no index form to evaluate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from gradcli.expr.ast import Call, Name, Node
from gradcli.kinds.network.layout_index import Bracket, Const, Entry, Fn, Ix, Neg, Op, Sum, factors
from gradcli.verify.evaluate import Evaluator

Tensor = torch.Tensor
Labelled = tuple[Tensor, str]  # a tensor and one index letter per axis
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class Einsum:
    """`values` holds every name's tensor (givens, forward values, symbols by id, each in the
    matrix shape of its name); `matrix(node)` evaluates an opaque call."""

    def __init__(self, values: Mapping[str, Tensor], matrix: Callable[[Node], Tensor] | None = None):
        self.values = values
        self.matrix = matrix or Evaluator(values)
        self.letters: dict[str, str] = {}

    def letter(self, index: str) -> str:
        """einsum takes single letters: each printed index (k, k12) gets its own."""
        if index not in self.letters:
            self.letters[index] = LETTERS[len(self.letters)]
        return self.letters[index]

    def __call__(self, ix: Ix, axes: tuple) -> Tensor:
        """The value with its axes in the order `axes` (the gradient's indices, None for a
        size-1 axis). An index the form does not use comes back as size 1: the value is the
        same along it (∂L/∂A[i,j] = (Σ_k B[j,k])/n, or 0), and the caller broadcasts it."""
        t, labels = self.labelled(ix)
        want = "".join(self.letter(a) for a in axes if a)
        if not set(labels) <= set(want):
            raise ValueError(f"the index form has free indices {labels!r}, not {want!r}")
        order = "".join(c for c in want if c in labels)
        t = torch.einsum(f"{labels}->{order}", t) if labels else t
        if not axes:
            return t.reshape(())
        return t.reshape([t.shape[order.index(self.letter(a))] if a and self.letter(a) in labels
                          else 1 for a in axes])

    def labelled(self, ix: Ix) -> Labelled:
        if isinstance(ix, Const):
            return torch.tensor(float(ix.node.value), dtype=torch.float64), ""
        if isinstance(ix, Entry):
            return self.entry(ix)
        if isinstance(ix, Bracket):
            raise ValueError("a Kronecker bracket needs the size of its index")
        if isinstance(ix, Neg):
            t, labels = self.labelled(ix.operand)
            return -t, labels
        if isinstance(ix, Sum):
            return self.sum(ix)
        if isinstance(ix, Op) and ix.op == "*":
            return self.product(factors(ix), ())
        if isinstance(ix, Op):
            (a, la), (b, lb) = self.labelled(ix.left), self.labelled(ix.right)
            a, b, labels = self.align(a, la, b, lb)
            op = {"+": torch.add, "-": torch.sub, "/": torch.div, "**": torch.pow}[ix.op]
            return op(a, b), labels
        if isinstance(ix, Fn):
            return self.function(ix)
        raise TypeError(f"cannot evaluate {type(ix).__name__}")

    def entry(self, ix: Entry) -> Labelled:
        node = ix.node
        known = isinstance(node, Name) and node.id in self.values and not ix.opaque
        t = self.values[node.id] if known else self.matrix(node)  # (pi, e: the evaluator's)
        if not ix.axes or t.dim() < 2:  # a scalar: no axes of its own
            return t.reshape(()), ""
        # a size-1 axis has no index and is dropped; X[k,k] is the diagonal
        kept = [(size, self.letter(index)) for size, index in zip(t.shape, ix.axes, strict=True)
                if index is not None]
        t = t.reshape([size for size, _ in kept])
        labels = "".join(letter for _, letter in kept)
        if len(labels) == 2 and labels[0] == labels[1]:
            return torch.diagonal(t), labels[0]
        return t, labels

    def sum(self, ix: Sum) -> Labelled:
        over = "".join(self.letter(k) for k, _ in ix.over)
        parts = factors(ix.body)
        return self.product(parts, over, {self.letter(k): n for k, n in ix.over})

    def product(self, parts: list[Ix], over: str, sizes: Mapping[str, int] | None = None) -> Labelled:
        """One einsum: the product of `parts`, summed over the letters `over`."""
        tensors, subs = [], []
        brackets = []
        for p in parts:
            if isinstance(p, Bracket):
                brackets.append(p)
                continue
            t, labels = self.labelled(p)
            tensors.append(t)
            subs.append(labels)
        known = dict(sizes or {})
        for t, s in zip(tensors, subs, strict=True):
            known.update(zip(s, t.shape, strict=True))
        for b in brackets:  # [i=j] as an identity matrix of the indices' size
            i, j = self.letter(b.i), self.letter(b.j)
            n = known.get(i, known.get(j))
            tensors.append(torch.eye(n, dtype=torch.float64))
            subs.append(i + j)
        free = "".join(dict.fromkeys(c for s in subs for c in s if c not in over))
        return torch.einsum(",".join(subs) + "->" + free, *tensors), free

    def align(self, a: Tensor, la: str, b: Tensor, lb: str) -> tuple[Tensor, Tensor, str]:
        """Both operands over the union of their indices (a missing index broadcasts)."""
        labels = "".join(dict.fromkeys(la + lb))
        return self.expand(a, la, labels), self.expand(b, lb, labels), labels

    @staticmethod
    def expand(t: Tensor, have: str, want: str) -> Tensor:
        order = "".join(c for c in want if c in have)
        if have:
            t = torch.einsum(f"{have}->{order}", t)
        shape = [t.shape[order.index(c)] if c in have else 1 for c in want]
        return t.reshape(shape)

    def function(self, ix: Fn) -> Labelled:
        """f of entries, by the matrix evaluator's own elementwise f (options stay literals)."""
        tensors = {k: self.labelled(a) for k, a in enumerate(ix.args) if not isinstance(a, Const)}
        labels = "".join(dict.fromkeys(c for _, s in tensors.values() for c in s))
        env = {f"__a{k}": self.expand(t, s, labels) for k, (t, s) in tensors.items()}
        args = tuple(Name(f"__a{k}") if k in tensors else a.node for k, a in enumerate(ix.args))
        return Evaluator(env)(Call(ix.call.func, args, ix.call.kwargs)), labels
