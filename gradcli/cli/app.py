"""The Typer app and the one place that prints errors and chooses exit codes.

Commands live one per module (`gradcli/cli/<command>.py`); each builds a problem, hands a
callable to `execute`, and returns. Only this module exits. Importing it (and the command
modules) must stay cheap: `gradcli --help`, `--version` and `list` never import SymPy or torch.

Help is Click's plain formatter (`rich_markup_mode=None`): Rich help costs ~65 ms more per
`--help` than importing Typer itself, and the help text has nothing that needs colour.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, NoReturn

import typer

from gradcli import __version__
from gradcli.errors import InputError

if TYPE_CHECKING:
    from gradcli.results import Outcome

DEFAULT_SEED = 0


class Format(str, Enum):
    rich = "rich"
    plain = "plain"
    json = "json"
    latex = "latex"
    markdown = "markdown"


FormatOption = typer.Option(None, "--format", "-f", help="Output format [default: rich on a terminal, plain when piped].")
# torch.Generator.manual_seed takes at most 64 bits; a problem file's seed: allows the same range.
SeedOption = typer.Option(DEFAULT_SEED, "--seed", min=0, max=2**63 - 1,
                          help="Seed for every random choice; always printed.")
DebugOption = typer.Option(False, "--debug", help="Show tracebacks of internal errors (for bug reports).")
ThreadsOption = typer.Option(1, "--threads", min=1, max=1024,
                             help="torch intra-op threads. One by default: worksheet-sized work "
                                  "gains nothing from more, and one gives the same bytes on a "
                                  "quiet or a loaded machine.")


@dataclass(frozen=True)
class Options:
    """The options every command takes: output format, seed, --debug."""

    fmt: Format | None
    seed: int
    debug: bool
    threads: int = 1
    verbose: bool = False  # several results: every full report, not only the failures


app = typer.Typer(
    name="gradcli",
    help="Derive gradients symbolically, show every step, and prove each answer numerically.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion; completers: cli/completion.py
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gradcli {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Derive gradients symbolically, show every step, and prove each answer numerically."""


def _choose_format(fmt: Format | None) -> str:
    if fmt is not None:
        return fmt.value
    return "rich" if sys.stdout.isatty() else "plain"


def _write_json_error(err: InputError) -> None:
    """The {"error": ...} document on stdout; a closed stdout does not hide the exit code."""
    import json

    try:
        try:
            text = json.dumps(err.to_json(), indent=2, ensure_ascii=False) + "\n"
            sys.stdout.write(text)
        except UnicodeEncodeError:  # a lone surrogate (a file name that is not UTF-8)
            sys.stdout.write(json.dumps(err.to_json(), indent=2) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


def _report_input_error(err: InputError, fmt: str) -> None:
    if fmt == "json":
        _write_json_error(err)
    from gradcli.render.plain import escape

    for e in err.all():
        typer.echo(f"error: {escape(e.one_line())}", err=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush finds no closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def _quiet_broken_pipe() -> NoReturn:
    """The reader went away (`gradcli check problems/ | head -1`): exit without noise."""
    _silence_stdout()
    raise SystemExit(0)


def _report_internal_error(exc: BaseException) -> None:
    """One line (control characters escaped, newlines folded) asking for a bug report."""
    from gradcli.render.plain import escape

    text = escape(" ".join(str(exc).split()))
    typer.echo(f"internal error: {type(exc).__name__}: {text}. This is a bug in gradcli; please "
               "report it with the output of the same command run with --debug.", err=True)


def limit_threads(threads: int, environ=os.environ, modules=sys.modules) -> None:
    """Give torch `threads` intra-op threads, whichever module imports it first (issue 16).

    torch sizes its thread pool from OMP_NUM_THREADS/MKL_NUM_THREADS when it is imported, so
    setting them here, at the edge, before any work, reaches every later `import torch`
    without torch being imported by commands that never need it (`derive --no-check`, `list`).
    If torch is already loaded (an in-process caller), it is told directly. With the machine's
    default (one thread per core) a busy machine made `check` 2-3x slower and the last digits
    of reductions depend on how many threads happened to run.
    """
    environ["OMP_NUM_THREADS"] = environ["MKL_NUM_THREADS"] = str(threads)
    torch = modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def execute(options: Options, work: Callable[[], list[Outcome]],
            times: list[float] | None = None) -> NoReturn:
    """Run one command's work, render its results, and exit with the SPEC's code.

    `times`, if given, is filled by `work` with the seconds each result took (the summary of
    several problems shows them)."""
    fmt = _choose_format(options.fmt)
    limit_threads(options.threads)
    try:
        results = work()
        from gradcli.render import render

        color = "NO_COLOR" not in os.environ
        render(results, fmt, sys.stdout, color=color, verbose=options.verbose, times=times)
        sys.stdout.flush()
    except InputError as err:
        _report_input_error(err, fmt)
        raise typer.Exit(2) from None
    except BrokenPipeError:
        _quiet_broken_pipe()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if options.debug:
            raise
        _report_internal_error(exc)
        raise typer.Exit(3) from None
    raise typer.Exit(0 if all(r.passed for r in results) else 1)


# Command name -> its module under gradcli.cli, in --help's order.
COMMANDS = {"list": "catalog", "check": "check", "derive": "derive", "exercise": "exercise",
            "grade": "grade", "pool": "pool", "schema": "schema", "vanish": "vanish"}


def register_commands(args: list[str] | None = None) -> None:
    """Import the command modules, which register themselves on `app`.

    Command modules are light: they declare options and defer heavy imports to run time. When
    `args` names a command first (`derive gelu`), only that command's module is imported (~10
    ms less start-up, mostly compiling modules the run never uses); anything else (`--help`, a
    typo Click suggests a fix for) registers every command.
    """
    import importlib

    name = args[0] if args else None
    for module in [COMMANDS[name]] if name in COMMANDS else COMMANDS.values():
        importlib.import_module(f"gradcli.cli.{module}")


def _wants_json(args: list[str]) -> bool:
    """`--format json` (or `-f json`, `--format=json`, `-fjson`) among the arguments."""
    from itertools import pairwise

    return any((a in ("--format", "-f") and b == "json") or a in ("--format=json", "-fjson")
               for a, b in pairwise([*args, ""]))


def main() -> None:
    from gradcli.cli.gc_pause import install

    install(sys.meta_path)  # SymPy and torch import ~10% faster without the collector's walks
    register_commands(sys.argv[1:])
    # Not standalone, so a usage error (`--seed abc`) comes back here: with --format json it is
    # also the SPEC's {"error": ...} document on stdout, as every other exit 2 is.
    click_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    try:
        code = app(standalone_mode=False)
    except BrokenPipeError:
        _quiet_broken_pipe()
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    except click_error as err:
        if _wants_json(sys.argv[1:]) and err.exit_code == 2:
            _write_json_error(InputError(err.format_message()))
        err.show()
        name = getattr(err, "option_name", None) or ""
        if sys.argv[1:2] == ["derive"] and name.startswith("-") and not name.startswith("--"):
            sys.stderr.write("hint: a TARGET that starts with '-' goes last, after '--' "
                             "(options before it), e.g. gradcli derive --no-steps -- '-x**2'\n")
        raise SystemExit(err.exit_code) from None
    except InputError as err:  # outside `execute` (an option callback)
        _report_input_error(err, "json" if _wants_json(sys.argv[1:]) else "plain")
        raise SystemExit(2) from None
    except Exception as exc:  # outside `execute` (option callbacks, problem construction)
        if "--debug" in sys.argv[1:]:
            raise
        _report_internal_error(exc)
        raise SystemExit(3) from None
    raise SystemExit(code if isinstance(code, int) else 0)
