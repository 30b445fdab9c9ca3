"""`gradcli exercise`: check a user's implementation of a tensor exercise (questions 1 and 2),
or a user's backward pass for a network problem (`backward(**given)`, judged layer by layer)."""

from __future__ import annotations

from dataclasses import replace

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
from gradcli.cli.completion import problem_names
from gradcli.errors import InputError

MAX_TIMEOUT = 600.0
MAX_MEMORY_MB = 65536


@app.command()
def exercise(
    problem: str = typer.Argument(..., metavar="PROBLEM", autocompletion=problem_names,
                                  help="A problem file (kind: implementation or network) or a "
                                       "bundled name such as q1, q2 or q3."),
    solution: str = typer.Option(None, "--solution", "-s", metavar="FILE.py",
                                 help="Your Python file defining the exercise's function (for a "
                                      "network problem, backward(**given) returning a dict of "
                                      "gradients by name); the only code gradcli runs, in a "
                                      "separate, limited process."),
    show_solution: bool = typer.Option(False, "--show-solution",
                                       help="Print gradcli's reference solution; with no solution "
                                            "given, check it by the same rules."),
    timeout: float = typer.Option(5.0, "--timeout", min=0.1, max=MAX_TIMEOUT,
                                  help="Seconds allowed for loading the file and for each case "
                                       "(each sample point)."),
    memory: int = typer.Option(1024, "--memory", min=16, max=MAX_MEMORY_MB, metavar="MB",
                               help="Memory (MB) the solution may use beyond torch's own."),
    fmt: Format = FormatOption,
    seed: int = SeedOption,
    debug: bool = DebugOption,
    threads: int = ThreadsOption,
) -> None:
    """Run your solution to a tensor exercise on random and edge-case inputs, and check its
    constraints (forbidden calls such as torch.mean, one-line solutions). For a network
    problem, check your backward(**given) gradient by gradient and name the first wrong one."""

    def work():
        from gradcli.api import solve

        loaded = _load(problem, kinds=("implementation", "network"))
        if loaded.kind == "network":
            return [solve(_backward(loaded, solution, show_solution, timeout, memory), seed=seed)]
        # The solution checked: --solution, else the file's `solution:`, else (with
        # --show-solution) gradcli's own reference solution.
        chosen = replace(loaded, solution=solution or loaded.solution,
                         show_solution=show_solution, timeout=timeout, memory_mb=memory)
        if chosen.solution is None and not show_solution:
            raise InputError("give your solution with --solution FILE.py",
                             hint="or --show-solution to see (and check) gradcli's own")
        return [solve(chosen, seed=seed)]

    execute(Options(fmt, seed, debug, threads), work)


def _load(spec: str, kinds: tuple[str, ...] = ("implementation",)):
    """The one problem of one of `kinds` that PROBLEM names (a file, `-`, or a bundled name).
    `grade` and `exercise` take implementation and network (backward-pass) problems."""
    from gradcli.problems.load import expand, load_any

    files = expand([spec])
    if len(files) != 1:
        raise InputError(f"names {len(files)} problem files; exercise checks one", file=spec)
    loaded = load_any(files[0])
    if loaded.kind not in kinds:
        raise InputError(f"is a {loaded.kind} problem; gradcli exercise runs "
                         f"{' and '.join(kinds)} problems", file=loaded.origin.file or spec,
                         hint="gradcli check solves every kind")
    return loaded


def _backward(loaded, solution: str | None, show_solution: bool, timeout: float, memory: int):
    """The network problem with the student's backward pass to judge."""
    if show_solution:
        raise InputError("--show-solution is for implementation problems; a network problem's "
                         "gradients are shown by gradcli check", file="--show-solution")
    if solution is None:
        raise InputError("give your backward pass with --solution FILE.py",
                         hint="it defines backward(" + ", ".join(loaded.given) + ") returning a "
                              "dict of gradients by name")
    return replace(loaded, solution=solution, timeout=timeout, memory_mb=memory)
