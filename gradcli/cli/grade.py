"""`gradcli grade PROBLEM DIR`: grade a folder of submissions (implementation code, or backward passes)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import typer

from gradcli.cli.app import DebugOption, Format, FormatOption, Options, SeedOption, app, execute
from gradcli.cli.exercise import MAX_MEMORY_MB, MAX_TIMEOUT
from gradcli.errors import InputError

REPORT_SUFFIXES = (".csv", ".json")


@app.command()
def grade(
    problem: str = typer.Argument(..., metavar="PROBLEM",
                                  help="A problem file (kind: implementation, or network for backward passes) or a bundled name."),
    folder: str = typer.Argument(..., metavar="DIR",
                                 help="Each *.py in DIR, or the single .py of each subfolder, is "
                                      "one submission."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, max=64, help="Submissions run at once."),
    timeout: float = typer.Option(5.0, "--timeout", min=0.1, max=MAX_TIMEOUT,
                                  help="Seconds allowed for loading a file and for each case."),
    memory: int = typer.Option(1024, "--memory", min=16, max=MAX_MEMORY_MB, metavar="MB",
                               help="Memory (MB) a submission may use beyond torch's own."),
    report: str = typer.Option(None, "--report", metavar="FILE.csv|FILE.json",
                               help="Also write the table to a CSV or JSON file."),
    allow_weaker: bool = typer.Option(False, "--allow-weaker-sandbox",
                                      help="Grade even when the kernel lacks landlock or seccomp."),
    fmt: Format = FormatOption,
    seed: int = SeedOption,
    debug: bool = DebugOption,
) -> None:
    """Run every submission in DIR in the sandbox and tabulate verdicts and scores."""

    def work():
        from gradcli.api import GRADERS
        from gradcli.cli.exercise import _load

        target = Path(report) if report else None
        if target is not None and target.suffix.lower() not in REPORT_SUFFIXES:
            raise InputError(f"--report must end in .csv or .json, got {report}")
        loaded = replace(_load(problem, tuple(GRADERS)), timeout=timeout, memory_mb=memory)
        with _progress() as tick:
            result = GRADERS[loaded.kind]()(loaded, Path(folder), jobs=jobs, seed=seed, allow_weaker=allow_weaker,
                         progress=tick)
        if target is not None:
            _write_report(result, target)
        return [result]

    execute(Options(fmt, seed, debug), work)


class _progress:
    """A Rich progress bar on stderr when it is a terminal; nothing otherwise."""

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.start()
        self.task = self.bar.add_task("grading", total=None)
        return self.tick

    def tick(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if getattr(self, "bar", None) is not None:
            self.bar.stop()


def _write_report(result, target: Path) -> None:
    import csv
    import json

    rows = [s.to_json() for s in result.submissions]
    try:
        with open(target, "w", newline="", encoding="utf-8") as out:
            if target.suffix.lower() == ".json":
                json.dump({"submissions": rows}, out, indent=2, ensure_ascii=False)
                out.write("\n")
            else:
                writer = csv.DictWriter(out, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
    except OSError as exc:
        raise InputError(f"cannot write the report: {exc.strerror}", file=str(target)) from None
