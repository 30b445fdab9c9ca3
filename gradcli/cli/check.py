"""`gradcli check PATH ...`: solve, verify and judge problem files.

A PATH is a problem file, a directory (its *.yaml/*.yml files, sorted, not recursive), `-`
for stdin, or the name of a bundled problem (`q3`). Every file is loaded and validated before
anything is solved: if any is bad, every complaint of every bad file is printed and the exit
code is 2 with nothing solved. A TA's script then gets one meaning per exit code (2: fix the
files; 1: an answer is wrong; 0: all good) and one JSON document on stdout, never answers
mixed with errors.
"""

from __future__ import annotations

from enum import Enum

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


def _consent(problem, run_solutions: bool):
    """A problem file may name a solution; only the user's flag lets it run (SPEC: code runs
    only when the user points at it). Without it the reference solution is checked instead."""
    if problem.kind != "implementation" or not problem.solution or run_solutions:
        return problem
    from dataclasses import replace

    note = (f"the file names a solution ({problem.solution}) that was not run: gradcli check "
            "runs code only with --run-solutions (or use gradcli exercise --solution)")
    return replace(problem, solution=None, notes=(*problem.notes, note))


class Layout(str, Enum):
    denominator = "denominator"
    numerator = "numerator"
    index = "index"


def _layout(problem, layout: Layout):
    """--layout reaches network problems only: a scalar derivative, pooling grids, the
    vanishing experiment and tensor exercises have no layout to choose, so they print as
    without the flag (a folder of mixed problems can still be checked in one run)."""
    if problem.kind != "network" or layout is Layout.denominator:
        return problem
    from dataclasses import replace

    return replace(problem, layout=layout.value)


@app.command()
def check(
    paths: list[str] = typer.Argument(..., metavar="PATH...", autocompletion=problem_names,
                                      help="Problem files, directories of them, - for stdin, "
                                           "or a bundled problem's name (q3)."),
    run_solutions: bool = typer.Option(
        False, "--run-solutions",
        help="Run the Python files named by implementation problems' `solution:` keys "
             "(in gradcli exercise's isolated child process). Off by default: a problem file "
             "you downloaded must not be able to run code."),
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="With several problems, every full report; by default "
                                      "only failures get one, the rest a line each."),
    layout: Layout = typer.Option(
        Layout.denominator, "--layout",
        help="How network gradients are written: denominator (each shaped like its variable, "
             "the worksheet's), numerator (transposed: ∂L/∂y of a vector is a row) or index "
             "(entries, ∂L/∂W[i,j] = δ[i]*x[j]); each form printed is checked against torch "
             "autograd. Other kinds have no layout and print as without it."),
    fmt: Format = FormatOption,
    seed: int = SeedOption,
    debug: bool = DebugOption,
    threads: int = ThreadsOption,
) -> None:
    """Solve each problem file, verify the answers, judge any claims; a summary for several:
    one line per problem, a full report for each failure (all with -v).

    Every file is validated first: if any is bad, all complaints are printed, nothing is
    solved, and the exit code is 2.
    """

    times: list[float] = []

    def work():
        from time import perf_counter

        from gradcli.api import sandbox_session, solve
        from gradcli.problems.load import load_all

        problems = [_layout(_consent(problem, run_solutions), layout) for problem in load_all(paths)]
        results = []
        with sandbox_session(problems):  # q1 and q2 of problems/ share one sandbox server
            for problem in problems:
                start = perf_counter()
                results.append(solve(problem, seed=seed))
                times.append(perf_counter() - start)
        return results

    execute(Options(fmt, seed, debug, threads, verbose), work, times)
