"""Shapes of network expressions, worked out on dimension names, never on entries.

A shape is `()` for a scalar or `(rows, cols)` of `Dim`s; the SPEC's 1-D `[n]` is the column
`(n, 1)`. Two declared names are compared by name (`n` and `m` differ even when both are 3:
the names are the user's statement of which axes match); a literal number, or a size gradcli
worked out (a convolution's `n-k+1`), by value, since the user never named it and `n-3` may
well be the `k` they declared. Only a literal 1
broadcasts (numpy's rule on 2-D shapes), so the derivation knows symbolically which axes an
upstream gradient must be summed over, and its cost is the same for n = 3 and n = 1024.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gradcli.errors import InputError
from gradcli.expr.ast import Binary, Call, Name, Node, Num, Str, Transpose, Unary
from gradcli.expr.constant import constant_value
from gradcli.expr.signature import argument
from gradcli.expr.signature import literal as literal_option
from gradcli.expr.unparse import unparse


@dataclass(frozen=True)
class Dim:
    symbol: str  # "n", or the digits of a literal size
    size: int

    def __str__(self) -> str:
        return self.symbol

    @property
    def is_one(self) -> bool:
        return self.symbol == "1"

    @property
    def is_declared(self) -> bool:
        """A name from dims (`n`), not a literal (`3`) nor a worked-out size (`n-k+1`, or
        `m·n`, whose middle dot Python counts as a letter of a name)."""
        return self.symbol.isidentifier() and "·" not in self.symbol

    def same(self, other: Dim) -> bool:
        if self.is_declared and other.is_declared:
            return self.symbol == other.symbol
        return self.size == other.size


ONE = Dim("1", 1)
Shape = tuple  # () or (Dim, Dim)
SCALAR: Shape = ()


def literal(size: int) -> Dim:
    return Dim(str(size), size)


def times(a: Dim, b: Dim) -> Dim:
    """The product of two sizes, m·n by name (a vec's or a Kronecker product's)."""
    if a.is_one or b.is_one:
        return b if a.is_one else a
    if a.symbol.isdigit() and b.symbol.isdigit():
        return literal(a.size * b.size)
    wrap = [f"({d})" if any(op in d.symbol for op in "+-") else d.symbol for d in (a, b)]
    return Dim("·".join(wrap), a.size * b.size)


def fmt(shape: Shape) -> str:
    """`n×1`, `N×m`, `(n-k+1)×1`, or `scalar`."""
    if not shape:
        return "scalar"
    a, b = (f"({d})" if any(op in d.symbol for op in "+-·") else str(d) for d in shape)
    return f"{a}×{b}"


def sizes(shape: Shape) -> tuple[int, ...]:
    return tuple(d.size for d in shape)


def is_scalarlike(shape: Shape) -> bool:
    """A scalar, or a 1×1 matrix (x.T @ x): both can be a loss and broadcast anywhere."""
    return not shape or (shape[0].is_one and shape[1].is_one)


def same(a: Shape, b: Shape) -> bool:
    if not a or not b:
        return is_scalarlike(a) and is_scalarlike(b)
    return a[0].same(b[0]) and a[1].same(b[1])


def declared(spec: tuple, dims: Mapping[str, int], name: str) -> Shape:
    """The shape of a `given:` entry: [] scalar, [n] column, [n, m] matrix."""
    if len(spec) > 2:
        raise InputError(f"{name} has {len(spec)} dimensions; network problems use scalars, "
                         "vectors and matrices (at most 2)")
    out = []
    for d in spec:
        if isinstance(d, bool) or not isinstance(d, int | str):
            raise InputError(f"{name}: a dimension is a name from dims or a positive integer, not {d!r}")
        if isinstance(d, int):
            if d < 1:
                raise InputError(f"{name}: dimension {d} must be at least 1")
            out.append(literal(d))
        elif d.isdigit():
            out.append(literal(int(d)))
        elif d in dims:
            out.append(Dim(d, int(dims[d])))
        else:
            raise InputError(f"{name}: dimension {d!r} is not declared in dims",
                             hint=f"add it to dims, e.g. dims: {{{d}: 3}}")
    if len(out) == 1:
        out.append(ONE)
    return tuple(out)


def broadcast(a: Shape, b: Shape, node: Node) -> Shape:
    if not a:
        return b
    if not b:
        return a
    out = []
    for x, y in zip(a, b, strict=True):
        if x.same(y):
            out.append(x if not x.symbol.isdigit() else y)
        elif x.is_one:
            out.append(y)
        elif y.is_one:
            out.append(x)
        else:
            raise _mismatch(node, f"cannot combine a {fmt(a)} and a {fmt(b)} value with "
                                  f"{node.op!r}: {_differ(x, y)}")
    return tuple(out)


def _differ(x: Dim, y: Dim, *, broadcasts: bool = True) -> str:
    """Why two axes do not match; equal sizes under different names are said to be so."""
    if x.size == y.size:
        return (f"{x} and {y} are different dims (both {x.size} here; declare one name if they "
                f"are the same axis)")
    return f"{x} and {y} differ and neither is 1" if broadcasts else f"{x} and {y} differ"


_TERM = re.compile(r"([+-]?)([A-Za-z_][A-Za-z0-9_]*|\d+)")


def _linear(symbol: str) -> dict[str, int]:
    """A dimension symbol as a sum of names and a constant: "n-k+1" -> {n: 1, k: -1, "": 1}."""
    out: dict[str, int] = {}
    for sign, term in _TERM.findall(symbol):
        key, value = ("", int(term)) if term.isdigit() else (term, 1)
        out[key] = out.get(key, 0) + (-value if sign == "-" else value)
    return {k: v for k, v in out.items() if v}


def _symbol(terms: dict[str, int]) -> str:
    """The inverse of `_linear`, names first: {n: 1, k: -1, "": 1} -> "n-k+1"."""
    text = ""
    for name, c in sorted(terms.items(), key=lambda kv: (kv[0] == "", -kv[1])):
        body = name if name and abs(c) == 1 else f"{abs(c)}{name}" if name else str(abs(c))
        text += ("-" if c < 0 else "+" if text else "") + body
    return text or "0"


def _valid(n: Dim, k: Dim, node: Node) -> Dim:
    """The length of a valid cross-correlation, n − k + 1, simplified on the names:
    the kernel gradient's conv(x, upstream) has length n − (n − k + 1) + 1 = k."""
    size = n.size - k.size + 1
    if size < 1:
        raise _mismatch(node, f"the kernel ({k}) is longer than the input ({n})")
    if n.symbol.isdigit() and k.symbol.isdigit():
        return literal(size)
    terms = _linear(n.symbol)
    for name, c in _linear(k.symbol).items():
        terms[name] = terms.get(name, 0) - c
    terms[""] = terms.get("", 0) + 1
    symbol = _symbol({t: c for t, c in terms.items() if c})
    return literal(size) if symbol.isdigit() else Dim(symbol, size)


def _strided(n: Dim, k: Dim, stride: int, padding: int, node: Node) -> Dim:
    """torch's output length (n + 2·padding − k) // stride + 1; on names when stride is 1."""
    if stride == 1 and padding == 0:
        return _valid(n, k, node)
    size = (n.size + 2 * padding - k.size) // stride + 1
    if n.size + 2 * padding < k.size:
        raise _mismatch(node, f"the kernel ({k}) is longer than the padded input "
                              f"({n} + {2 * padding})")
    if stride == 1 and not (n.symbol.isdigit() and k.symbol.isdigit()):
        terms = _linear(n.symbol)
        for name, c in _linear(k.symbol).items():
            terms[name] = terms.get(name, 0) - c
        terms[""] = terms.get("", 0) + 1 + 2 * padding
        symbol = _symbol({t: c for t, c in terms.items() if c})
        return literal(size) if symbol.isdigit() else Dim(symbol, size)
    return literal(size)


def _mismatch(node: Node, message: str, hint: str | None = None) -> InputError:
    return InputError(f"shape mismatch in {unparse(node)}: {message}", column=node.column,
                      hint=hint)


def _transposed(node: Node) -> Node:
    return node.operand if isinstance(node, Transpose) else Transpose(node)


def product_hint(left: Node, right: Node) -> str:
    """`did you mean A @ B?` with A @ B printed from its tree, so the suggestion keeps the
    parentheses it needs and pastes back as meant: joining the two printed halves with ` @ `
    suggested `H.T @ softmax(Z2) - Y` for `H.T @ (softmax(Z2) - Y)` (issue 16)."""
    return f"did you mean {unparse(Binary('@', left, right))}?"


class Shapes:
    """Infers the shape of every node, given the shapes of the names."""

    def __init__(self, names: Mapping[str, Shape], dims: Mapping[str, int] | None = None,
                 kinds: Mapping[str, tuple[str, Dim | None]] | None = None):
        self.names = dict(names)
        self.dims = dict(dims or {})  # the sizes eye(n), ones(n, m) may name
        # declared givens: name -> ("labels", classes) | ("onehot", None) | ("distribution", None)
        self.kinds = dict(kinds or {})

    def labels(self, node: Node) -> Dim | None:
        """The number of classes when `node` is a given declared as class labels."""
        kind = self.kinds.get(node.id) if isinstance(node, Name) else None
        return kind[1] if kind and kind[0] == "labels" else None

    def __call__(self, node: Node) -> Shape:
        if isinstance(node, Num | Str):
            return SCALAR
        if isinstance(node, Name):
            if node.id in self.names:
                return self.names[node.id]
            if node.id in ("pi", "e"):
                return SCALAR
            raise InputError(f"unknown name {node.id!r}", column=node.column)
        if isinstance(node, Unary):
            return self(node.operand)
        if isinstance(node, Transpose):
            s = self(node.operand)
            return s if not s else (s[1], s[0])
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        raise InputError(f"cannot work out the shape of {type(node).__name__}", column=node.column)

    def binary(self, node: Binary) -> Shape:
        a, b = self(node.left), self(node.right)
        if node.op != "@":
            return broadcast(a, b, node)
        if not a or not b:
            raise _mismatch(node, "@ needs two matrices or vectors", "use * to scale by a scalar")
        if not a[1].same(b[0]):
            hint = None
            if a[1].same(b[1]) and b[1] != ONE:
                hint = product_hint(node.left, _transposed(node.right))
            elif a[0].same(b[0]):
                hint = product_hint(_transposed(node.left), node.right)
            raise _mismatch(node, f"{fmt(a)} @ {fmt(b)}: the inner dimensions "
                                  f"{_differ(a[1], b[0], broadcasts=False)}", hint)
        return (a[0], b[1])

    def call(self, node: Call) -> Shape:
        from gradcli import catalog

        entry = catalog.lookup(node.func)
        # the shapes of the tensor arguments; literal options are read by name, by signature
        args = [self(a) for spec, a in zip(entry.sig.args, node.args, strict=False)
                if spec.kind == catalog.TENSOR]
        if entry.group == "elementwise":
            return args[0]
        f = node.func
        if catalog.is_pairwise(node):  # max(a, b): elementwise, broadcast as a + b
            return broadcast(args[0], args[1], node)
        if f in ("eye", "ones", "zeros"):
            return self._constant(node)
        if f in ("sum", "mean", "norm", "max", "min"):
            return self._reduced(node, args[0])
        if f in ("softmax", "log_softmax"):
            self._dim(node, args[0])
            return args[0]
        if f in ("trace", "det", "logdet", "inv"):
            s = args[0]
            if not s or not s[0].same(s[1]):
                raise _mismatch(node, f"{f} needs a square matrix, got {fmt(s)}")
            return s if f == "inv" else SCALAR
        if f == "kron":
            a, b = (s or (ONE, ONE) for s in args)
            return (times(a[0], b[0]), times(a[1], b[1]))
        if f == "vec":
            s = args[0] or (ONE, ONE)
            return (times(s[0], s[1]), ONE)
        if f == "diag":
            s = args[0]
            if not s or not s[1].is_one:
                raise _mismatch(node, f"diag takes a column vector, got {fmt(s)}")
            return (s[0], s[0])
        if f == "onehot":
            return self._onehot(node, args[0])
        if entry.group == "loss":
            return self._loss(node, args)
        if f in ("layer_norm", "batch_norm"):
            return self._normalised(node, args)
        if f in ("conv1d", "conv2d"):
            return self._conv(node, args)
        if f in ("avg_pool2d", "max_pool2d"):
            return self._pool(node, args[0])
        raise InputError(f"{f} is not supported in network problems yet", column=node.column)

    def _normalised(self, node: Call, args: list[Shape]) -> Shape:
        x = args[0]
        if not x:
            raise _mismatch(node, f"{node.func} needs a vector or a matrix")
        features = x[0] if x[1].is_one and node.func == "layer_norm" else x[1]
        for p, what in zip(args[1:], ("gamma", "beta"), strict=True):
            if not p or not ((p[0].is_one and p[1].same(features)) or (p[1].is_one and p[0].same(features))):
                raise _mismatch(node, f"{what} is {fmt(p)} but there are {features} features: "
                                      f"give it as [1, {features}] or [{features}]")
        return x

    def _conv(self, node: Call, args: list[Shape]) -> Shape:
        x, k = args
        stride, padding = literal_option(node, "stride"), literal_option(node, "padding")
        if node.func == "conv1d":
            if not x or not k or not x[1].is_one or not k[1].is_one:
                raise _mismatch(node, f"conv1d takes two column vectors, got {fmt(x)} and {fmt(k)}")
            return (_strided(x[0], k[0], stride, padding, node), ONE)
        if not x or not k:
            raise _mismatch(node, "conv2d takes two matrices")
        return (_strided(x[0], k[0], stride, padding, node),
                _strided(x[1], k[1], stride, padding, node))

    def _pool(self, node: Call, x: Shape) -> Shape:
        if not x:
            raise _mismatch(node, f"{node.func} takes a matrix")
        kernel = literal_option(node, "kernel")
        stride = literal_option(node, "stride") or kernel
        padding = literal_option(node, "padding")
        if 2 * padding > kernel:
            raise InputError(f"{node.func}: padding ({padding}) must be at most half the kernel "
                             f"({kernel}), as torch requires", column=node.column)
        out = tuple((d.size + 2 * padding - kernel) // stride + 1 for d in x)
        if min(out) < 1:
            raise _mismatch(node, f"a {kernel}×{kernel} window does not fit in {fmt(x)}")
        return tuple(literal(n) for n in out)

    def _constant(self, node: Call) -> Shape:
        """eye(n) is n×n; ones(n) and zeros(n) an n×1 column, ones(n, m) n×m."""
        sizes = [self._size(a) for a in node.args]
        if node.func == "eye":
            return (sizes[0], sizes[0])
        return (sizes[0], sizes[1] if len(sizes) > 1 else ONE)

    def _size(self, node: Node) -> Dim:
        if isinstance(node, Num):
            name = node.text if node.text.isidentifier() else getattr(node, "symbol", "")
            return Dim(name, int(node.value)) if name.isidentifier() else literal(int(node.value))
        if isinstance(node, Name) and node.id in self.dims:
            return Dim(node.id, int(self.dims[node.id]))
        from gradcli.errors import suggest

        name = getattr(node, "id", "?")
        raise InputError(f"{name!r} is not a dim (a size is a name from dims or a positive "
                         "integer)", column=node.column, hint=suggest(name, self.dims))

    def _dim(self, node: Call, s: Shape) -> int | None:
        d = literal_option(node, "dim")
        if d is None:
            return None
        rank = len(s)
        if not -max(rank, 1) <= d < max(rank, 1):
            axes = "0 or 1 (or -2, -1)" if rank == 2 else "0 (or -1)"
            raise InputError(f"{node.func}: dim={d} is not a dimension of a {fmt(s)} value",
                             column=argument(node, "dim").column, hint=f"dim is {axes} here")
        return d % max(rank, 1)

    def _reduced(self, node: Call, s: Shape) -> Shape:
        d = self._dim(node, s)
        if d is None or not s:
            return SCALAR
        return (ONE, s[1]) if d == 0 else (s[0], ONE)

    def _onehot(self, node: Call, y: Shape) -> Shape:
        """onehot(y, C): N×C for N labels declared with C classes."""
        classes = self.labels(node.args[0])
        if classes is None:
            raise _mismatch(node, "onehot takes class labels, a given declared as "
                                  "{shape: [N], labels: C}")
        count = node.args[1]
        c = self.dims.get(count.id) if isinstance(count, Name) else constant_value(count)
        if c != classes.size:
            raise _mismatch(node, f"the labels have {classes} = {classes.size} classes, so "
                                  f"write onehot({unparse(node.args[0])}, {classes})")
        return (y[0], classes)

    def _loss(self, node: Call, args: list[Shape]) -> Shape:
        pred, target = args[0], args[1]
        classes = self.labels(node.args[1]) if node.func in ("cross_entropy", "nll") else None
        if classes is not None:  # torch's class-index target: one label per row of logits
            if not pred or not pred[0].same(target[0]) or not pred[1].same(classes):
                raise _mismatch(node, f"{node.func} takes N×C scores and N labels of C classes: "
                                      f"the scores are {fmt(pred)}, the labels {fmt(target)} of "
                                      f"{classes} classes")
            return SCALAR
        if node.func == "nll":
            raise _mismatch(node, "nll takes class labels as its target, declared as "
                                  "{shape: [N], labels: C}; for one-hot or probability rows "
                                  "write -sum(Y * logp) / N")
        if not same(pred, target) or bool(pred) != bool(target):
            labels = node.func == "cross_entropy" and len(pred) == 2 and len(target) == 2 and \
                target[1].is_one and pred[0].same(target[0]) and not pred[1].is_one
            raise _mismatch(node, f"{node.func} compares a {fmt(pred)} prediction with a "
                                  f"{fmt(target)} target; they must have the same shape",
                            f"for integer class labels declare the target as {{shape: "
                            f"[{pred[0]}], labels: {pred[1]}}}" if labels else None)
        return SCALAR
