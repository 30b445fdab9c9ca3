"""`gradcli derive TARGET`: the derivative of a catalog function or an expression.

Builds the same `DerivativeProblem` a `kind: derivative` file describes, so
`gradcli derive gelu --claim ...` and `gradcli check q5.yaml` are one code path.
"""

from __future__ import annotations

import math
import re

import typer

from gradcli.cli.app import (
    DebugOption,
    Format,
    FormatOption,
    Options,
    SeedOption,
    ThreadsOption,
    app,
    execute,
)
from gradcli.cli.completion import function_names
from gradcli.errors import InputError

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|nan)",
                     re.IGNORECASE)  # inf/nan are read, then refused as not finite


def _number(part: str) -> float:
    """A decimal number, or a fraction of two (`1/2`, `-3/4`: the worksheet writes points so)."""
    top, slash, bottom = part.partition("/")
    # float() alone would also take "1_0" and the fullwidth "１"
    if not _NUMBER.fullmatch(top) or (slash and not _NUMBER.fullmatch(bottom)):
        raise ValueError(part)
    if not slash:
        return float(top)
    if float(bottom) == 0:
        raise InputError(f"--at {part!r}: division by zero")
    return float(top) / float(bottom)


def _points(values: list[str]) -> tuple[float, ...]:
    """`--at 0 --at 1.5`, `--at "0, 1.5, -2"` or `--at 1/2`: finite numbers only."""
    out: list[float] = []
    for raw in values:
        for part in raw.replace(",", " ").split():
            try:
                v = _number(part)
            except ValueError:
                raise InputError(f"--at {part!r}: expected a number",
                                 hint="e.g. --at 0 --at 1.5, or --at \"0, 1.5\", or --at 1/2") from None
            if not math.isfinite(v):
                raise InputError(f"--at {part!r}: expected a finite number")
            out.append(v)
    return tuple(out)


def _order(order: int) -> int:
    from gradcli.problems.schema import MAX_ORDER

    if not 1 <= order <= MAX_ORDER:
        raise InputError(f"--order {order}: gradcli derives orders 1 to {MAX_ORDER}",
                         hint="d²/dx² is --order 2" if order > MAX_ORDER else
                              "--order 1 is the first derivative")
    return order


@app.command("derive")
def derive_command(
    target: str = typer.Argument(..., metavar="TARGET", autocompletion=function_names, help="A catalog name (gelu, sigmoid, ...) or an expression in x, e.g. \"x*sigmoid(x)\"."),
    wrt: str = typer.Option(None, "--wrt", help="The variable to differentiate by [default: the only variable, or x]."),
    at: list[str] = typer.Option([], "--at", help="Evaluate the function and its derivative at these points (repeatable)."),
    claim: str = typer.Option(None, "--claim", help="Your own derivative, judged: correct, or wrong with a counterexample."),
    steps: bool = typer.Option(True, "--steps/--no-steps", help="Show the derivation steps."),
    check: bool = typer.Option(True, "--check/--no-check", help="Check the answer against torch autograd."),
    order: int = typer.Option(1, "--order", help="Which derivative: 1 to 4 (d²/dx² is --order 2); each order is derived from the one before."),
    fmt: Format = FormatOption,
    seed: int = SeedOption,
    debug: bool = DebugOption,
    threads: int = ThreadsOption,
) -> None:
    """Derive a function's derivative with steps, and check it against torch."""

    def work():
        from gradcli.api import solve
        from gradcli.problems.model import DerivativeProblem, Origin

        origin = Origin(labels={"function": "TARGET", "claim": "--claim", "wrt": "--wrt",
                                "at": "--at", "order": "--order"})
        problem = DerivativeProblem(function=target, wrt=wrt, at=_points(at), claim=claim,
                                    steps=steps, check=check, order=_order(order), origin=origin)
        return [solve(problem, seed=seed)]

    execute(Options(fmt, seed, debug, threads), work)
