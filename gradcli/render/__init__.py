"""Render results in one of five formats.

`render(results, fmt, out)` is the only entry point. Layouts (per kind of result) turn a
result into blocks; formats (per output target) turn blocks into text. Renderers never
compute: everything they show is already in the result.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from gradcli.render.blocks import Block
    from gradcli.results import Outcome

FORMATS = ("rich", "plain", "json", "latex", "markdown")


def layout_module(kind: str):
    return importlib.import_module(f"gradcli.render.layouts.{kind}")


def document(result: Outcome) -> list[Block]:
    return layout_module(result.kind).document(result)


def payload(result: Outcome) -> dict:
    return layout_module(result.kind).payload(result)


def render(results: list[Outcome], fmt: str, out: TextIO, *, color: bool = True,
           width: int | None = None) -> None:
    """Write `results` to `out`; several results get a summary table at the end."""
    if fmt == "json":
        from gradcli.render.json import write

        write(results, out)
        return
    blocks: list[Block] = []
    for r in results:
        blocks.extend(document(r))
    if len(results) > 1:
        from gradcli.render.layouts.summary import document as summary

        blocks.extend(summary(results))
    module = importlib.import_module(f"gradcli.render.{fmt}")
    module.write(blocks, out, color=color, width=width)
