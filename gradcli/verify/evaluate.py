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
from gradcli.expr.ast import Binary, Call, Name, Node, Num, Str, Transpose, Unary
from gradcli.expr.parse import constant_value

Tensor = torch.Tensor
F = torch.nn.functional


def _option(node: Call, name: str, default: Any = None) -> Any:
    value = node.kwarg(name)
    if value is None:
        return default
    if isinstance(value, Str):
        return value.value
    return constant_value(value)


def _dim(node: Call, x: Tensor, position: int = 1) -> int | None:
    if len(node.args) > position:
        d = constant_value(node.args[position])
    else:
        d = _option(node, "dim")
    if d is None:
        return None
    if d != int(d) or not -x.dim() <= int(d) < max(x.dim(), 1):
        raise InputError(f"{node.func}: dim={d:g} is not a dimension of a {x.dim()}-D value",
                         column=node.column)
    return int(d)


def _reduce(op: Callable[..., Tensor]) -> Callable[[Call, list[Tensor]], Tensor]:
    def apply(node: Call, args: list[Tensor]) -> Tensor:
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
    delta = float(constant_value(node.args[2])) if len(node.args) > 2 else _option(node, "delta", 1.0)
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
    return F.conv1d(x, w).reshape(-1, 1)


def _pool(fn: Callable[..., Tensor]) -> Callable[[Call, list[Tensor]], Tensor]:
    def apply(node: Call, args: list[Tensor]) -> Tensor:
        def arg(position: int, name: str, default):
            if len(node.args) > position:
                return int(constant_value(node.args[position]))
            value = _option(node, name)
            return default if value is None else int(value)

        kernel = arg(1, "kernel", 2)
        stride = arg(2, "stride", kernel)
        return fn(args[0][None], kernel, stride, arg(3, "padding", 0))[0]
    return apply


STRUCTURAL: dict[str, Callable[[Call, list[Tensor]], Tensor]] = {
    "sum": _reduce(torch.sum),
    "mean": _reduce(torch.mean),
    "norm": _reduce(lambda x, **kw: torch.linalg.vector_norm(x, **kw)),
    "max": _reduce(torch.amax),
    "trace": lambda n, a: torch.trace(a[0]),
    "det": lambda n, a: torch.linalg.det(a[0]),
    "inv": lambda n, a: torch.linalg.inv(a[0]),
    "logdet": lambda n, a: torch.linalg.slogdet(a[0]).logabsdet,
    "diag": lambda n, a: torch.diag(a[0].reshape(-1)),
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
    "conv2d": lambda n, a: F.conv2d(a[0][None, None], a[1][None, None])[0, 0],
    "avg_pool2d": _pool(F.avg_pool2d),
    "max_pool2d": _pool(F.max_pool2d),
}

_BINARY: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div, "**": torch.pow,
    "@": torch.matmul,
}


def _elementwise(node: Call, args: list[Tensor], entry: catalog.Entry) -> Tensor:
    params = {}
    for param, extra in zip(entry.params, node.args[1:], strict=False):
        params[param.name] = float(constant_value(extra))
    for key, value in node.kwargs:
        params[key] = float(constant_value(value))
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
        entry = catalog.lookup(node.func)
        args = [self.visit(a) for a in node.args[:1 if entry.group == "elementwise" else None]]
        if entry.group == "elementwise":
            return _elementwise(node, args, entry)
        if node.func not in STRUCTURAL:
            raise InputError(f"{node.func} cannot be evaluated yet", column=node.column)
        return STRUCTURAL[node.func](node, args)


def evaluate(node: Node, values: Mapping[str, Tensor], dtype: torch.dtype = torch.float64) -> Tensor:
    return Evaluator(values, dtype)(node)
