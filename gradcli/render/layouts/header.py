"""The opening every problem's report shares: its name, the file it came from, and the file's
own description (q4.yaml states the worksheet question it answers)."""

from __future__ import annotations

from gradcli.render.blocks import Block, Heading, Text


def header(result) -> list[Block]:
    blocks: list[Block] = [Heading(result.name)]
    if result.source:
        blocks.append(Text(f"source: {result.source}", "note"))
    if result.description:
        blocks.append(Text(result.description.strip(), "note"))
    return blocks
