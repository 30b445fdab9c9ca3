"""`gradcli list`: the built-in functions with their torch references, and the bundled problems.

Nothing is random and nothing is checked, so there is no --seed; the listing is a result like
any other, so every --format works. It must stay instant: no SymPy, torch or YAML parser.
"""

from __future__ import annotations

from gradcli.cli.app import DEFAULT_SEED, DebugOption, Format, FormatOption, Options, app, execute


@app.command("list")
def list_command(fmt: Format = FormatOption, debug: bool = DebugOption) -> None:
    """The catalog of built-in functions (by group, with torch references) and bundled problems."""

    def work():
        from gradcli.problems.listing import listing

        return [listing()]

    execute(Options(fmt, DEFAULT_SEED, debug), work)
