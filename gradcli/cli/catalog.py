"""`gradcli list`: the built-in functions with their torch references, and the bundled problems.

Nothing is random and nothing is checked, so there is no --seed; the listing is a result like
any other, so every --format works. It must stay instant: no SymPy, torch or YAML parser.
"""

from __future__ import annotations

import typer

from gradcli.cli.app import DEFAULT_SEED, DebugOption, Format, FormatOption, Options, app, execute
from gradcli.cli.completion import listed_names


@app.command("list")
def list_command(
    name: str | None = typer.Argument(None, metavar="[NAME]", autocompletion=listed_names,
                                      help="One catalog function (gelu) or bundled problem (q3) "
                                           "to show in full."),
    fmt: Format = FormatOption,
    debug: bool = DebugOption,
) -> None:
    """The catalog of built-in functions (by group, with torch references) and bundled problems;
    with NAME, one of them in full (definition, derivative, torch reference, domain)."""

    def work():
        from gradcli.problems.listing import listing

        return [listing(name)]

    execute(Options(fmt, DEFAULT_SEED, debug), work)
