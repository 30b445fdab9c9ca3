"""Shell completion for arguments: bundled problems, catalog functions, and both for `list`.

Typer calls these only while the shell asks for completions (`_GRADCLI_COMPLETE` set), so
nothing here runs on an ordinary start-up; they read only light modules (the catalog is plain
data, bundled problems are scanned, not parsed). Formats complete from the `Format` enum by
themselves; file paths from the shell. Install with `gradcli --install-completion`.
"""

from __future__ import annotations


def _matching(incomplete: str, names) -> list[str]:
    return sorted(n for n in names if n.startswith(incomplete))


def problem_names(incomplete: str) -> list[str]:
    """Bundled problems (`q3`); a path is completed by the shell itself."""
    from gradcli.problems.bundled import problems

    return _matching(incomplete, (p.key for p in problems()))


def function_names(incomplete: str) -> list[str]:
    """Catalog functions (`gelu`), for `derive TARGET`."""
    from gradcli.catalog import ENTRIES

    return _matching(incomplete, ENTRIES)


def listed_names(incomplete: str) -> list[str]:
    """Both, for `list NAME`."""
    return sorted({*function_names(incomplete), *problem_names(incomplete)})
