"""`gradcli check PATH ...`: solve, verify and judge problem files.

A PATH is a problem file, a directory (its *.yaml/*.yml files, sorted, not recursive), `-`
for stdin, or the name of a bundled problem (`q3`). Every file is loaded and validated before
anything is solved: if any is bad, every complaint of every bad file is printed and the exit
code is 2 with nothing solved. A TA's script then gets one meaning per exit code (2: fix the
files; 1: an answer is wrong; 0: all good) and one JSON document on stdout, never answers
mixed with errors.
"""

from __future__ import annotations

import typer

from gradcli.cli.app import DebugOption, Format, FormatOption, Options, SeedOption, app, execute


@app.command()
def check(
    paths: list[str] = typer.Argument(..., metavar="PATH...",
                                      help="Problem files, directories of them, - for stdin, "
                                           "or a bundled problem's name (q3)."),
    fmt: Format = FormatOption,
    seed: int = SeedOption,
    debug: bool = DebugOption,
) -> None:
    """Solve each problem file, verify the answers, judge any claims; a summary for several.

    Every file is validated first: if any is bad, all complaints are printed, nothing is
    solved, and the exit code is 2.
    """

    def work():
        from gradcli.api import solve
        from gradcli.problems.load import load_all

        return [solve(problem, seed=seed) for problem in load_all(paths)]

    execute(Options(fmt, seed, debug), work)
