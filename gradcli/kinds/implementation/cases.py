"""Test inputs for an exercise, and the reference's answers on them.

Cases are seeded (one `torch.Generator`, never the global RNG) and always the same list for
a seed: three random cases of random size, then the edge cases a careful grader tries — one
row, one column, all-negative values, a constant column. Inputs are float64.

The reference is either an expression in gradcli's language, evaluated by
`gradcli.verify.evaluate` with the problem's dimension names bound to the case's sizes (so q1
can write `sum(X, dim=0)/m`), or `builtin:NAME`, a reference written in Python in
`references.py` for what the language cannot say (q2's reversal needs indexing). Either way
the reference runs here, in gradcli's process; only the solution runs in the child.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gradcli.errors import InputError
from gradcli.kinds.implementation import references

BUILTIN_PREFIX = "builtin:"
RANDOM_CASES = 3
EDGE_SIZE = (4, 3)  # the m × n of the edge cases that fix only one dimension


@dataclass(frozen=True)
class Case:
    name: str
    inputs: dict[str, Any]  # name -> float64 tensor
    why: str = ""  # what the case probes


@dataclass(frozen=True)
class Reference:
    text: str  # the expression, or "builtin:NAME"
    describe: str  # what it is, for the output
    compute: Callable[[dict[str, Any]], Any]  # case inputs (+ dims) -> tensor

    @property
    def is_builtin(self) -> bool:
        return self.text.startswith(BUILTIN_PREFIX)


def reference(problem) -> Reference:
    """The problem's reference, parsed and ready to run; bad text is an InputError at its place."""
    text = (problem.reference or "").strip()
    if not text:
        raise problem.locate("reference", InputError("the problem has no `reference`"))
    if text.startswith(BUILTIN_PREFIX):
        name = text[len(BUILTIN_PREFIX):].strip()
        builtin = references.BUILTINS.get(name)
        if builtin is None:
            raise problem.locate("reference", InputError(
                f"unknown built-in reference {name!r}",
                hint=f"known: {', '.join(sorted(references.BUILTINS))}"))
        return Reference(text, f"gradcli's built-in reference {name}: {builtin.doc}",
                         lambda values: builtin.compute(*[values[k] for k in problem.inputs]))
    from gradcli.expr.parse import parse
    from gradcli.verify.evaluate import evaluate

    variables = set(problem.inputs) | set(dimension_names(problem))
    try:
        tree = parse(text, variables=variables)
    except InputError as err:
        raise problem.locate("reference", err) from None
    return Reference(text, "the expression above, evaluated by gradcli in float64",
                     lambda values: evaluate(tree, values))


def dimension_names(problem) -> list[str]:
    names: list[str] = []
    for shape in problem.inputs.values():
        for d in shape:
            if isinstance(d, str) and d not in names:
                names.append(d)
    return names


def check_inputs(problem) -> None:
    if not problem.inputs:
        raise problem.locate("inputs", InputError("the problem declares no `inputs`"))
    for name, shape in problem.inputs.items():
        if len(shape) > 2:
            raise problem.locate(f"inputs.{name}", InputError(
                f"input {name!r} has {len(shape)} dimensions; exercises take scalars, vectors and matrices"))
        for d in shape:
            if not (isinstance(d, str) and d.isidentifier()) and not (isinstance(d, int) and d > 0):
                raise problem.locate(f"inputs.{name}", InputError(
                    f"input {name!r}: shape entry {d!r} is neither a dimension name nor a positive size"))


def make_cases(problem, seed: int) -> list[Case]:
    import torch

    gen = torch.Generator().manual_seed(seed)
    dims = dimension_names(problem)
    first = next(iter(problem.inputs.values()))
    row_dim = first[0] if len(first) > 0 and isinstance(first[0], str) else None
    col_dim = first[1] if len(first) > 1 and isinstance(first[1], str) else None
    cases = []
    for i in range(RANDOM_CASES):
        sizes = {d: int(torch.randint(2, 7, (1,), generator=gen)) for d in dims}
        cases.append(_case(problem, f"random {i + 1}", sizes, gen, why="seeded normal values"))
    base = dict.fromkeys(dims, EDGE_SIZE[0])
    if col_dim:
        base[col_dim] = EDGE_SIZE[1]
    if row_dim:
        cases.append(_case(problem, "one row", {**base, row_dim: 1}, gen,
                           why=f"{row_dim} = 1"))
    if col_dim:
        cases.append(_case(problem, "one column", {**base, col_dim: 1}, gen,
                           why=f"{col_dim} = 1"))
    cases.append(_case(problem, "negative values", base, gen, fill="negative",
                       why="every entry < 0"))
    if col_dim:
        cases.append(_case(problem, "constant column", base, gen, fill="constant column",
                           why="column 2 is all 3.0"))
    return cases


def _case(problem, name: str, sizes: dict[str, int], gen, *, fill: str = "normal",
          why: str = "") -> Case:
    import torch

    inputs = {}
    for input_name, shape in problem.inputs.items():
        size = tuple(sizes[d] if isinstance(d, str) else d for d in shape)
        x = torch.randn(size, generator=gen, dtype=torch.float64)
        if fill == "negative":
            x = -(x.abs() + 0.1)
        elif fill == "constant column" and x.dim() == 2 and x.shape[1] > 1:
            x[:, 1] = 3.0
        inputs[input_name] = x
    return Case(name, inputs, why)


def expected(problem, ref: Reference, case: Case):
    """The reference's answer for one case, in float64."""
    import torch

    values = dict(case.inputs)
    for shape_name, size in _sizes(problem, case).items():
        values.setdefault(shape_name, torch.tensor(float(size), dtype=torch.float64))
    try:
        out = ref.compute(values)
    except InputError as err:
        raise problem.locate("reference", err) from None
    return out.to(torch.float64)


def _sizes(problem, case: Case) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for name, shape in problem.inputs.items():
        for d, n in zip(shape, case.inputs[name].shape, strict=False):
            if isinstance(d, str):
                sizes[d] = int(n)
    return sizes
