"""Evaluate a syntax tree on torch tensors: the numeric side of every check.

No `lambdify` and no `exec`: a small dispatcher maps each node onto torch operations
(`lambdify(modules="torch")` also breaks on `sqrt(2)`). Symbolic results are checked by
printing them in the expression language, parsing the text back and evaluating it here, so
every check also proves that what we print means what we derived.

Conventions (the SPEC's): a 1-D shape [n] is an n×1 column; scalars are 0-d tensors;
reductions along `dim` keep that dimension, so `sum(X, dim=0)` is a 1×m row that broadcasts
against X. Everything runs in the dtype of the inputs (float64 for checks).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch

from gradcli import catalog
from gradcli.errors import InputError
from gradcli.expr.ast import Binary, Call, Name, Node, Num, Transpose, Unary
from gradcli.expr.constant import constant_value
from gradcli.expr.signature import argument, literal

Tensor = torch.Tensor
F = torch.nn.functional


def _option(node: Call, name: str, default: Any = None) -> Any:
    """An option's value by the call's signature (given by position or keyword)."""
    value = literal(node, name)
    return default if value is None else value


def _dim(node: Call, x: Tensor) -> int | None:
    d = literal(node, "dim")
    if d is None:
        return None
    if not -max(x.dim(), 1) <= d < max(x.dim(), 1):
        at = argument(node, "dim")
        raise InputError(f"{node.func}: dim={d} is not a dimension of a {x.dim()}-D value",
                         column=at.column)
    return d


def _reduce(op: Callable[..., Tensor], pairwise: Callable[..., Tensor] | None = None
            ) -> Callable[[Call, list[Tensor]], Tensor]:
    def apply(node: Call, args: list[Tensor]) -> Tensor:
        if pairwise is not None and len(args) == 2:  # max(a, b): torch.maximum
            return pairwise(*torch.broadcast_tensors(*args))
        x = args[0]
        dim = _dim(node, x)
        return op(x) if dim is None else op(x, dim=dim, keepdim=True)
    return apply


def _class_dim(node: Call, z: Tensor) -> int:
    """softmax over a column vector runs down it; over a batch matrix, along each row."""
    dim = _dim(node, z)
    if dim is not None:
        return dim
    return 0 if z.dim() == 2 and z.shape[1] == 1 else z.dim() - 1


def _rows(z: Tensor) -> Tensor:
    return z.T if z.dim() == 2 and z.shape[1] == 1 else z


def _loss(fn: Callable[..., Tensor]) -> Callable[[Call, list[Tensor]], Tensor]:
    def apply(node: Call, args: list[Tensor]) -> Tensor:
        return fn(*args, reduction=_option(node, "reduction", "mean"))
    return apply


def _labels(target: Tensor) -> Tensor:
    """Class labels (declared `labels: C`, held as whole float64 numbers, one per row) as the
    1-D integer tensor torch's class-index targets are."""
    return target.reshape(-1).round().long()


def _cross_entropy(node: Call, args: list[Tensor]) -> Tensor:
    reduction = _option(node, "reduction", "mean")
    if args[1].shape != args[0].shape:  # N labels for N×C scores (the shapes were checked)
        return F.cross_entropy(args[0], _labels(args[1]), reduction=reduction)
    logits, target = _rows(args[0]), _rows(args[1])
    return F.cross_entropy(logits, target, reduction=reduction)


def _nll(node: Call, args: list[Tensor]) -> Tensor:
    return F.nll_loss(args[0], _labels(args[1]), reduction=_option(node, "reduction", "mean"))


def _onehot(node: Call, args: list[Tensor]) -> Tensor:
    classes = int(constant_value(node.args[1]))
    return F.one_hot(_labels(args[0]), classes).to(args[0].dtype)


def _huber(node: Call, args: list[Tensor]) -> Tensor:
    delta = float(_option(node, "delta"))
    return F.huber_loss(args[0], args[1], reduction=_option(node, "reduction", "mean"), delta=delta)


def _features(node: Call, x: Tensor, *params: Tensor) -> list[Tensor]:
    """gamma and beta as flat vectors with one entry per normalised feature."""
    out = []
    for p in params:
        if p.numel() != x.shape[-1]:
            raise InputError(f"{node.func}: gamma and beta need {x.shape[-1]} entries (one per "
                             f"feature), got {p.numel()}", column=node.column)
        out.append(p.reshape(-1))
    return out


def _layer_norm(node: Call, args: list[Tensor]) -> Tensor:
    """Each row normalised (a column vector: the whole column), then scaled and shifted."""
    x, column = _rows(args[0]), args[0].dim() == 2 and args[0].shape[1] == 1
    gamma, beta = _features(node, x, args[1], args[2])
    out = F.layer_norm(x, (x.shape[-1],), gamma, beta, eps=_option(node, "eps", 1e-5))
    return out.T if column else out


def _batch_norm(node: Call, args: list[Tensor]) -> Tensor:
    """Each column normalised over the batch (the rows), training mode: batch statistics."""
    x = args[0]
    gamma, beta = _features(node, x, args[1], args[2])
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=_option(node, "eps", 1e-5))


def _conv1d(node: Call, args: list[Tensor]) -> Tensor:
    x, w = args[0].reshape(1, 1, -1), args[1].reshape(1, 1, -1)
    out = F.conv1d(x, w, stride=_option(node, "stride"), padding=_option(node, "padding"))
    return out.reshape(-1, 1)


def _conv2d(node: Call, args: list[Tensor]) -> Tensor:
    return F.conv2d(args[0][None, None], args[1][None, None], stride=_option(node, "stride"),
                    padding=_option(node, "padding"))[0, 0]


def _pool(fn: Callable[..., Tensor]) -> Callable[[Call, list[Tensor]], Tensor]:
    def apply(node: Call, args: list[Tensor]) -> Tensor:
        kernel = _option(node, "kernel")
        stride = _option(node, "stride", kernel)
        return fn(args[0][None], kernel, stride, _option(node, "padding"))[0]
    return apply


def _filled(fn: Callable[..., Tensor]) -> Callable[[Call, list[Any]], Tensor]:
    """ones(n[, m]) / zeros(n[, m]): a 1-D shape [n] is an n×1 column, as everywhere."""
    def apply(node: Call, sizes: list[Any]) -> Tensor:
        rows, cols = (sizes + [1])[:2]
        return fn(rows, cols, dtype=torch.float64)
    return apply


def _kron(a: Tensor, b: Tensor) -> Tensor:
    """A ⊗ B, block (i, j) = A[i, j]·B, by broadcasting: torch.kron views its inputs and fails
    on some transposed ones (the 2×1 Bᵀ of a 1×2 B, whose strides are (1, 2))."""
    a, b = (x.reshape(1, 1) if x.dim() == 0 else x.reshape(-1, 1) if x.dim() == 1 else x
            for x in (a, b))
    (p, q), (r, s) = a.shape, b.shape
    return (a[:, None, :, None] * b[None, :, None, :]).reshape(p * r, q * s)


STRUCTURAL: dict[str, Callable[[Call, list[Tensor]], Tensor]] = {
    "sum": _reduce(torch.sum),
    "mean": _reduce(torch.mean),
    "norm": _reduce(lambda x, **kw: torch.linalg.vector_norm(x, **kw)),
    "max": _reduce(torch.amax, torch.maximum),
    "min": _reduce(torch.amin, torch.minimum),
    "eye": lambda n, a: torch.eye(a[0], dtype=torch.float64),
    "ones": _filled(torch.ones),
    "zeros": _filled(torch.zeros),
    "trace": lambda n, a: torch.trace(a[0]),
    "det": lambda n, a: torch.linalg.det(a[0]),
    "inv": lambda n, a: torch.linalg.inv(a[0]),
    "logdet": lambda n, a: torch.linalg.slogdet(a[0]).logabsdet,
    "diag": lambda n, a: torch.diag(a[0].reshape(-1)),
    "kron": lambda n, a: _kron(*a),
    # column-major: vec stacks the columns (torch's reshape is row-major, hence the .T)
    "vec": lambda n, a: (a[0].T if a[0].dim() == 2 else a[0]).reshape(-1, 1),
    "softmax": lambda n, a: torch.softmax(a[0], dim=_class_dim(n, a[0])),
    "log_softmax": lambda n, a: torch.log_softmax(a[0], dim=_class_dim(n, a[0])),
    "mse": _loss(F.mse_loss),
    "l1": _loss(F.l1_loss),
    "bce": _loss(F.binary_cross_entropy),
    "bce_with_logits": _loss(F.binary_cross_entropy_with_logits),
    "cross_entropy": _cross_entropy,
    "nll": _nll,
    "onehot": _onehot,
    "huber": _huber,
    "layer_norm": _layer_norm,
    "batch_norm": _batch_norm,
    "conv1d": _conv1d,
    "conv2d": _conv2d,
    "avg_pool2d": _pool(F.avg_pool2d),
    "max_pool2d": _pool(F.max_pool2d),
}

_BINARY: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div, "**": torch.pow,
    "@": torch.matmul,
}


def _elementwise(node: Call, args: list[Tensor], entry: catalog.Entry) -> Tensor:
    params = {p.name: float(_option(node, p.name, p.default)) for p in entry.params}
    return entry.reference(torch, args[0], **params)


class Evaluator:
    """Evaluates trees against one set of values; `dtype` fixes the type of constants."""

    def __init__(self, values: Mapping[str, Tensor], dtype: torch.dtype = torch.float64):
        self.values = values
        self.dtype = dtype

    def __call__(self, node: Node) -> Tensor:
        try:
            return self.visit(node)
        except RuntimeError as exc:  # torch's shape and domain errors, reported at the node
            first = str(exc).splitlines()[0]
            hint = ("bce takes probabilities: apply sigmoid first, or use bce_with_logits on "
                    "the raw scores") if "between 0 and 1" in first else None
            raise InputError(f"cannot evaluate: {first}", column=node.column, hint=hint) from None

    def constant(self, value: float) -> Tensor:
        return torch.tensor(value, dtype=self.dtype)

    def visit(self, node: Node) -> Tensor:
        if isinstance(node, Num):
            return self.constant(float(node.value))
        if isinstance(node, Name):
            if node.id in self.values:
                return self.values[node.id]
            if node.id in ("pi", "e"):
                return self.constant(math.pi if node.id == "pi" else math.e)
            raise InputError(f"no value for {node.id!r}", column=node.column)
        if isinstance(node, Unary):
            operand = self.visit(node.operand)
            return -operand if node.op == "-" else operand
        if isinstance(node, Transpose):
            operand = self.visit(node.operand)
            return operand.T if operand.dim() == 2 else operand
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        raise InputError(f"cannot evaluate {type(node).__name__}", column=node.column)

    def binary(self, node: Binary) -> Tensor:
        left, right = self.visit(node.left), self.visit(node.right)
        if node.op == "@" and (left.dim() < 2 or right.dim() < 2):
            if 1 in (left.dim(), right.dim()):  # an implementation problem's [n]: a 1-D tensor
                raise InputError("@ needs matrices, and a 1-D tensor is neither a row nor a "
                                 "column", column=node.column,
                                 hint="an implementation problem passes an [n] input as a 1-D "
                                      "tensor, as torch does; declare it [n, 1] for a column")
            raise InputError("@ needs two matrices or vectors; use * with a scalar",
                             column=node.column)
        return _BINARY[node.op](left, right)

    def call(self, node: Call) -> Tensor:
        """Tensor arguments are evaluated, sizes (eye(n)) resolved to integers; literal
        options are read by name from the signature, by the function that needs them."""
        entry = catalog.lookup(node.func)
        args: list[Any] = []
        for spec, a in zip(entry.sig.args, node.args, strict=False):
            if spec.kind == catalog.TENSOR:
                args.append(self.visit(a))
            elif spec.kind == catalog.SIZE:
                args.append(self.size(a))
        if entry.group == "elementwise":
            return _elementwise(node, args, entry)
        if node.func not in STRUCTURAL:
            raise InputError(f"{node.func} cannot be evaluated yet", column=node.column)
        return STRUCTURAL[node.func](node, args)


    def size(self, node: Node) -> int:
        """A dimension: an integer literal, or a dim's name (valued in `values`)."""
        if isinstance(node, Num):
            return int(node.value)
        if isinstance(node, Name) and node.id in self.values:
            return int(self.values[node.id])
        raise InputError(f"no size for {getattr(node, 'id', '?')!r}", column=node.column,
                         hint="a size is a name from dims or a positive integer")


def evaluate(node: Node, values: Mapping[str, Tensor], dtype: torch.dtype = torch.float64) -> Tensor:
    return Evaluator(values, dtype)(node)
