"""The problem model: one frozen dataclass per `kind` of the SPEC's problem files.

A YAML file and a command line build the same objects (`problems/validate.py` from a file,
`cli/<command>.py` from options), so every command has a file form and vice versa.
Expressions stay as text here; solvers parse them, and `locate` lets them point an error
back at the file, line and column the text came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradcli.errors import InputError
from gradcli.problems.defaults import VANISH_ACTIVATIONS, VANISH_BATCH, VANISH_DEPTH, VANISH_WIDTH

Grid = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Origin:
    """Where a problem came from, and where each of its values sits in that file.

    `positions` maps a dotted key (`forward.z`, `claims.W`, `function`) to the 1-based
    (line, column) of the start of its value.
    """

    file: str | None = None
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    # Without a file (a command line), the option each key came from: {"claim": "--claim"}.
    labels: dict[str, str] = field(default_factory=dict)

    def locate(self, key: str, err: InputError) -> InputError:
        line, column = self.positions.get(key, (None, None))
        if self.file is None and line is None:
            label = self.labels.get(key)
            return err.at(file=label) if label and err.file is None else err
        return err.at(file=self.file, line=line, column=column)


@dataclass(frozen=True)
class Problem:
    """What every kind of problem has: a name, a description, its source text and its origin."""

    name: str = ""
    description: str = ""
    source: str = ""
    origin: Origin = field(default_factory=Origin)

    kind = "problem"

    def locate(self, key: str, err: InputError) -> InputError:
        return self.origin.locate(key, err)


@dataclass(frozen=True)
class DerivativeProblem(Problem):
    """`kind: derivative`: the derivative of a scalar function, with optional points and claim."""

    function: str = "x"  # a catalog name or an expression
    wrt: str | None = None  # None: the expression's only variable (or x)
    at: tuple[float, ...] = ()
    claim: str | None = None
    steps: bool = True
    check: bool = True
    order: int = 1  # 1..MAX_ORDER: the n-th derivative, each order derived from the one before

    kind = "derivative"


@dataclass(frozen=True)
class NetworkProblem(Problem):
    """`kind: network`: a forward pass of named tensors, a scalar loss and the gradients wanted."""

    dims: dict[str, int] = field(default_factory=dict)
    given: dict[str, tuple[str | int, ...]] = field(default_factory=dict)  # name -> shape
    # what a given's values are, when the file declares it: ("labels", C) class labels 0..C−1,
    # ("onehot", None) or ("distribution", None) rows; undeclared givens are unconstrained reals
    given_kinds: dict[str, tuple[str, str | int | None]] = field(default_factory=dict)
    forward: tuple[tuple[str, str], ...] = ()  # (name, expression), in order
    loss: tuple[str, str] = ("L", "0")
    wrt: tuple[str, ...] = ()
    claims: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    hessians: tuple[str, ...] = ()  # given variables whose ∂²L/∂w² is derived
    hessian_claims: dict[str, str] = field(default_factory=dict)
    hvp: dict[str, str] = field(default_factory=dict)  # variable -> direction: H·v, never H
    jacobians: tuple[tuple[str, str], ...] = ()  # ("h", "x"): ∂h/∂x, numerator layout
    jacobian_claims: dict[tuple[str, str], str] = field(default_factory=dict)
    # `check --layout` (not a problem-file key): the layout the gradients are printed in
    layout: str = "denominator"  # denominator | numerator | index
    # `exercise --solution` (not problem-file keys): a student's backward(**given) to check
    # instead of the derivation alone, and the limits of the child process that runs it.
    solution: str | None = None
    timeout: float = 5.0  # seconds per step (loading the file, each sample point)
    memory_mb: int = 1024  # address space the solution may add on top of torch

    kind = "network"


@dataclass(frozen=True)
class PoolingProblem(Problem):
    """`kind: pooling`: forward and backward of 2-D average or max pooling of `input`."""

    input: Grid = ()
    mode: str = "avg"  # avg | max
    kernel: int = 2
    stride: int | None = None  # None: the kernel size, as in torch
    padding: int = 0
    count_include_pad: bool = True  # torch's default for avg_pool2d
    upstream: Grid | None = None
    claim: Grid | None = None

    kind = "pooling"


@dataclass(frozen=True)
class VanishingProblem(Problem):
    """`kind: vanishing`: the gradient norm at every layer of deep stacks of activations."""

    activations: tuple[str, ...] = VANISH_ACTIVATIONS
    depth: int = VANISH_DEPTH
    width: int = VANISH_WIDTH
    init: str = "default"  # default | xavier | he
    batch: int = VANISH_BATCH
    seed: int | None = None
    plot: str | None = None

    kind = "vanishing"


@dataclass(frozen=True)
class ImplementationProblem(Problem):
    """`kind: implementation`: a tensor exercise that the user's solution file implements."""

    function: str = ""
    inputs: dict[str, tuple[str | int, ...]] = field(default_factory=dict)
    reference: str = ""
    forbid: tuple[str, ...] = ()
    one_line: bool = False
    solution: str | None = None  # path to the user's Python file: the only code gradcli runs
    notes: tuple[str, ...] = ()
    # `exercise` options (not problem-file keys): limits for the solution's child process, and
    # whether to print (and check) gradcli's own reference solution.
    timeout: float = 5.0  # seconds per step (loading the file, each case)
    memory_mb: int = 1024  # address space the solution may add on top of torch
    show_solution: bool = False

    kind = "implementation"
