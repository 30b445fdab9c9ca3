"""`gradcli pool`: forward and backward of 2-D pooling on a grid (worksheet question 6)."""

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
from gradcli.errors import InputError


class Mode(str, Enum):
    avg = "avg"
    max = "max"


GRID_HELP = ('inline ("2 2 7 3; 9 4 6 1": rows by ; or newlines, values by spaces or commas), '
             "a text/CSV file, or - for stdin")


@app.command()
def pool(
    input: str = typer.Option(..., "--input", "-i", metavar="GRID", help=f"The input grid: {GRID_HELP}."),
    mode: Mode = typer.Option(Mode.avg, "--mode", "-m", help="avg or max pooling."),
    kernel: int = typer.Option(2, "--kernel", "-k", metavar="K", help="Window size (square)."),
    stride: int = typer.Option(None, "--stride", "-s", metavar="S", show_default="the kernel size",
                               help="Step between windows; less than the kernel overlaps them."),
    padding: int = typer.Option(0, "--padding", "-p", metavar="P",
                                help="Cells added on every side (torch: at most kernel/2)."),
    count_include_pad: bool = typer.Option(
        True, "--count-include-pad/--no-count-include-pad",
        help="Average pooling: padded cells count in the divisor (torch's default)."),
    upstream: str = typer.Option(None, "--upstream", "-u", metavar="GRID",
                                 help="Upstream gradient dL/dy, one value per output cell "
                                      "(else the backward is symbolic: g11, g12, ...)."),
    claim: str = typer.Option(None, "--claim", metavar="GRID", help="Your dL/dx grid, to be judged (against an "
                              "upstream of all ones when --upstream is not given)."),
    name: str = typer.Option("", "--name", metavar="TEXT", help="A title for the output."),
    fmt: Format = FormatOption,
    seed: int = SeedOption,
    debug: bool = DebugOption,
    threads: int = ThreadsOption,
) -> None:
    """Forward and backward of 2-D pooling: where each upstream gradient goes, checked by torch."""

    def work():
        from gradcli.api import solve

        problem = _problem(input, mode.value, kernel, stride, padding, count_include_pad,
                           upstream, claim, name)
        return [solve(problem, seed=seed)]

    execute(Options(fmt, seed, debug, threads), work)


def _problem(input, mode, kernel, stride, padding, count_include_pad, upstream, claim, name):
    from gradcli.problems import grid
    from gradcli.problems.model import PoolingProblem

    specs = {"--input": input, "--upstream": upstream, "--claim": claim}
    from_stdin = [k for k, v in specs.items() if v == "-"]
    if len(from_stdin) > 1:
        raise InputError(f"only one grid can come from stdin, but {' and '.join(from_stdin)} "
                         "both say '-'", hint="put the others inline or in files")
    grids = {k: None if v is None else grid.read(v, what=k) for k, v in specs.items()}
    return PoolingProblem(name=name, input=grids["--input"], mode=mode, kernel=kernel,
                          stride=stride, padding=padding, count_include_pad=count_include_pad,
                          upstream=grids["--upstream"], claim=grids["--claim"])
