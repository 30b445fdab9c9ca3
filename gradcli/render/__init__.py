"""Render results in one of five formats.

`render(results, fmt, out)` is the only entry point. Layouts (per kind of result) turn a
result into blocks; formats (per output target) turn blocks into text. Renderers never
compute: everything they show is already in the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from gradcli.render.layouts import counts, document, payload

if TYPE_CHECKING:
    from gradcli.render.blocks import Block
    from gradcli.results import Outcome

__all__ = ["FORMATS", "document", "payload", "render"]

Writer = Callable[..., None]  # write(blocks, out, *, color, width)


def _rich() -> Writer:
    from gradcli.render.rich import write

    return write


def _plain() -> Writer:
    from gradcli.render.plain import write

    return write


def _latex() -> Writer:
    from gradcli.render.latex import write

    return write


def _markdown() -> Writer:
    from gradcli.render.markdown import write

    return write


# Block formats; "json" is the sixth target and writes payloads, not blocks.
WRITERS: dict[str, Callable[[], Writer]] = {
    "rich": _rich, "plain": _plain, "latex": _latex, "markdown": _markdown}
FORMATS = ("rich", "plain", "json", "latex", "markdown")


def render(results: list[Outcome], fmt: str, out: TextIO, *, color: bool = True,
           width: int | None = None, verbose: bool = False,
           times: Sequence[float] | None = None) -> None:
    """Write `results` to `out`, ending with one PASSED/FAILED line (layouts/verdict.py).

    Several results are summarised one line each (with `times`, the seconds each took), after
    the full reports of those that failed, or of all with `verbose`.
    """
    if fmt == "json":
        from gradcli.render.json import write

        write(results, out)
        return
    from gradcli.render.ascii import ascii_safe

    out = ascii_safe(out)  # PYTHONIOENCODING=ascii, LANG=C: spell ∂ as d, never crash
    from gradcli.render.layouts.verdict import line

    blocks: list[Block] = []
    if len(results) > 1:
        from gradcli.render.layouts import summary

        for r in summary.shown_in_full(results, verbose):
            blocks.extend(document(r))
        blocks.extend(summary.document(results, times))
    else:
        for r in results:
            blocks.extend(document(r))
    verdict = line(results, counts)
    if verdict is not None:
        blocks.append(verdict)
    WRITERS[fmt]()(blocks, out, color=color, width=width)
