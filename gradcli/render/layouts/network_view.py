"""The Gradients section of a network result under `--layout numerator|index`.

Kept apart from `network.py` (the denominator layout, the default) so that the two read
alone: the same blocks, filled from `kinds/network/layout_result.LayoutView`. Numerator
layout prints each gradient's shown form (with δ and the other names, now rows) and its
pasteable full form; index layout prints entries, ∂L/∂W[i,j] = δ[i]*x[j]. A gradient with no
form in the layout says so and why, never silently.
"""

from __future__ import annotations

from gradcli.render.blocks import Block, Formula, Heading, Text

_LAYOUT_WORD = {"numerator": "numerator layout", "index": "index notation"}


def _form(f, prefix: str = "", like: str = "") -> list[Block]:
    note = f.shape + (f", {like}" if like else "")
    if not f.display and not f.note:  # a line of index notation, the derivation's own
        return [Text(f"{prefix}{f.label}    [{note}]")]
    if not f.display:
        return [Text(f"{prefix}{f.label}: {f.note} [{note}]")]
    if f.note:
        note = f"{f.shape}; {f.note}"
    blocks: list[Block] = [Formula(label=f"{prefix}{f.label}", text=f.display, pretty=f.pretty,
                                   latex=f.latex, latex_label=f.latex_label, note=note)]
    if f.expression and f.expression != f.display:
        blocks.append(Formula(label=f"{prefix}{f.label} (in full, pasteable)", text=f.expression,
                              pretty=f.expression))
    return blocks


def gradients(r) -> list[Block]:
    v = r.view
    # the convention's line opens the Derivation section, as the denominator layout's does
    blocks: list[Block] = [Heading(f"Gradients ({_LAYOUT_WORD[v.name]})", level=2)]
    for note in v.notes:
        blocks.append(Text(note, tone="note"))
    for name, f in v.gradients:
        like = f"like {name}ᵀ" if v.name == "numerator" and f.shape != "scalar" else ""
        blocks += _form(f, like=like)
    for f in v.symbols:
        blocks += _form(f, prefix="  where ")
    return blocks


def step(form) -> Block:
    """A derivation step's value in index form (index layout)."""
    return Formula(label=f"   {form.label}", text=form.display, pretty=form.pretty,
                   latex=form.latex, latex_label=form.latex_label, note=form.shape)
