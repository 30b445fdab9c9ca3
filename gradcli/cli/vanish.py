"""`gradcli vanish`: the vanishing-gradient experiment of worksheet question 4.

Declares options, builds a VanishingProblem, and hands `gradcli.kinds.vanishing.solve.solve` to
`execute`. torch, rich's progress bar and matplotlib are imported only when it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

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
from gradcli.problems.defaults import VANISH_ACTIVATIONS, VANISH_BATCH, VANISH_DEPTH, VANISH_WIDTH

if TYPE_CHECKING:
    from gradcli.problems.model import VanishingProblem

# The worksheet's question 4 (bundled q4.yaml) uses He init, and so does plain `gradcli vanish`:
# with torch's default init ReLU vanishes too, which muddles the answer to "why sigmoid and not
# ReLU?" (issue 16). A file without `init:` keeps torch's default. The header names the init.
INIT = "he"
# Runs with at least this many weight entries (activations × depth × width²) show a progress bar.
PROGRESS_THRESHOLD = 2_000_000


def progress_reporter(stream: TextIO) -> tuple[Callable[[int, int, str], None] | None,
                                                Callable[[], None]]:
    """(report, stop): a transient progress bar on `stream`, or nothing if it is no terminal."""
    if not stream.isatty():
        return None, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=Console(file=stream), transient=True)
    task: list = []

    def report(done: int, total: int, what: str) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task("", total=total))
        bar.update(task[0], completed=done, description=f"vanish: {what}")
    return report, bar.stop


def _run(problem: VanishingProblem, seed: int, stream: TextIO) -> list:
    from gradcli.kinds.vanishing.solve import solve

    work = len(problem.activations) * problem.depth * problem.width ** 2
    report, stop = progress_reporter(stream) if work >= PROGRESS_THRESHOLD else (None, lambda: None)
    try:
        return [solve(problem, seed=seed, progress=report)]
    finally:
        stop()


def split_activations(texts: list[str] | None) -> tuple[str, ...]:
    """`-a sigmoid,tanh -a relu` is three activations: repeating the option adds, as a user
    expects, instead of Click's default of the last one silently winning."""
    if not texts:
        return VANISH_ACTIVATIONS
    return tuple(a.strip() for text in texts for a in text.split(",") if a.strip())


@app.command("vanish")
def vanish(
    activations: list[str] | None = typer.Option(
        None, "--activations", "-a", show_default=",".join(VANISH_ACTIVATIONS),
        help="Elementwise catalog functions, comma-separated or repeated (-a sigmoid -a relu)."),
    depth: int = typer.Option(VANISH_DEPTH, "--depth", help="Number of layers."),
    width: int = typer.Option(VANISH_WIDTH, "--width", help="Units per layer."),
    init: str = typer.Option(INIT, "--init",
                             help="Weight init: default (torch nn.Linear), xavier (glorot), "
                                  "he (kaiming)."),
    batch: int = typer.Option(VANISH_BATCH, "--batch", help="Rows in the random input batch."),
    plot: str | None = typer.Option(None, "--plot", metavar="FILE.png",
                             help="Also write a PNG chart (needs matplotlib: gradcli[plot])."),
    fmt: Format | None = FormatOption,
    seed: int = SeedOption,
    debug: bool = DebugOption,
    threads: int = ThreadsOption,
) -> None:
    """Show vanishing gradients: the gradient norm at every layer of a deep stack per activation,
    with the analytic reason (bounds on the activation's derivative)."""
    from gradcli.problems.model import VanishingProblem

    problem = VanishingProblem(activations=split_activations(activations), depth=depth,
                               width=width, init=init, batch=batch, seed=None, plot=plot)
    execute(Options(fmt, seed, debug, threads), lambda: _run(problem, seed, sys.stderr))
