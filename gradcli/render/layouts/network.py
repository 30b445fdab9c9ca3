"""Layout of a `kind: network` result: the network, the derivation, the gradients, the checks,
the claims. Every format shows one display form of each result (the names the derivation
defined, dims by name; `kinds/network/display.py`): plain in the expression language's
syntax, rich in course notation (⊙, ᵀ, σ, δ), LaTeX and Markdown in LaTeX; each gradient is
followed by its full, pasteable expression wherever the display form differs from it.
"""

from __future__ import annotations

from gradcli.render.blocks import Block, Formula, Heading, Table, Text
from gradcli.render.layouts import network_view
from gradcli.render.layouts.checks import distinct_pair


def _num(value) -> str:
    if isinstance(value, float):
        return f"{value + 0.0:.6g}"  # + 0.0: -0.0 prints as 0
    return str(value)


def _network(r) -> list[Block]:
    blocks: list[Block] = []
    if r.given:
        dims = ", ".join(f"{d} = {v}" for d, v in r.dims)
        blocks.append(Text("given: " + ", ".join(f"{n} ({s})" for n, s in r.given)
                           + (f"; dims: {dims}" if dims else "")))
    for d in r.lines:
        blocks.append(Formula(label=d.name, text=d.expression, pretty=d.pretty, latex=d.latex,
                              latex_label=d.name, note=d.shape))
    return blocks


def _steps(r) -> list[Block]:
    blocks: list[Block] = [Heading("Derivation (reverse mode, last line first)", level=2),
                           Text(r.layout, tone="note")]
    if r.view is not None and r.view.derivation_note:  # numerator: the steps are denominator
        blocks.append(Text(r.view.derivation_note, tone="note"))
    index = r.view.steps if r.view is not None and r.view.steps else (None,) * len(r.steps)
    for i, (s, form) in enumerate(zip(r.steps, index, strict=True), 1):
        formula = form.formula if form is not None and form.formula else s.formula
        blocks.append(Text(f"{i}. {s.rule}: {formula}    ({s.subject})"))
        if form is not None:  # --layout index: the step's value entry by entry
            blocks.append(network_view.step(form))
        elif not s.expression and s.pretty == s.label:  # index notation, given in the note
            blocks.append(Text(f"   {s.label} [{s.shape}]:"))
        else:
            blocks.append(Formula(label=f"   {s.label}", text=s.display or s.expression or s.pretty,
                                  pretty=s.pretty,
                                  latex=s.latex, latex_label=s.latex_label, note=s.shape))
        if s.note:
            blocks.append(Text(f"   {s.note}", tone="note"))
    return blocks


def _gradient(g) -> list[Block]:
    """The display form (names, dims by name, normalised), then the pasteable form if it differs."""
    note = f"{g.shape}, like {g.name}" + (f"; {g.note}" if g.note else "")
    if not g.expression and g.pretty_expanded == g.label:  # only a name: say where it is
        return [Text(f"{g.label}: in index notation below ({note}; no closed form in "
                     "the expression language)")]
    if not g.expression:
        note += "; in index notation below (no closed form in the expression language)"
    shown = g.display or g.expression or g.pretty_expanded
    blocks: list[Block] = [Formula(label=g.label, text=shown, pretty=g.pretty, latex=g.latex,
                                   latex_label=g.latex_label, note=note)]
    if g.expression and shown != g.expression:
        # no LaTeX: Markdown and LaTeX print the expression language itself, pasteable
        blocks.append(Formula(label=f"{g.label} (in full, pasteable)", text=g.expression,
                              pretty=g.expression))
    return blocks


def _gradients(r) -> list[Block]:
    blocks: list[Block] = [Heading("Gradients", level=2)]
    for g in r.gradients:
        blocks += _gradient(g)
    printed = {g.label for g in r.gradients}
    for sym in r.symbols:
        if sym.label in printed and sym.expression:  # each named quantity is printed once
            if sym.symbol != sym.label:
                blocks.append(Text(f"  where {sym.symbol} = {sym.label}    [{sym.shape}]"))
            continue
        label = sym.symbol if sym.symbol == sym.label or not sym.expression else \
            f"{sym.symbol} = {sym.label}"
        if not sym.expression:  # index notation: the definition is the text itself
            blocks.append(Text(f"  where {sym.pretty}    [{sym.shape}]"))
            continue
        blocks.append(Formula(label=f"  where {label}", text=sym.display or sym.expression,
                              pretty=sym.pretty, latex=sym.latex, note=sym.shape))
    return blocks


def _hessians(r) -> list[Block]:
    if not r.hessians:
        return []
    blocks: list[Block] = [Heading("Hessians (the gradient differentiated again)", level=2)]
    for h in r.hessians:
        shape = (f"{h.shape}, like {h.name}: H·{h.direction}, H never formed" if h.direction else
                 f"{h.shape}, " + ("symmetric" if h.symmetric else "NOT symmetric"))
        dw = f"vec(d{h.name})" if "∂vec(" in h.label else f"d{h.name}"  # a matrix, through vec
        for i, s in enumerate(h.steps, 1):
            blocks.append(Text(f"{i}. {s.rule}: {s.formula}    (d of {s.subject} = {s.pretty} {dw})"))
        blocks.append(Formula(label=h.label, text=h.display, pretty=h.pretty, latex=h.latex,
                              latex_label=h.label, note=shape))
        if h.display != h.expression:
            blocks.append(Formula(label=f"  {h.label} (in full, pasteable)", text=h.expression,
                                  pretty=h.expression))
    return blocks


def _jacobians(r) -> list[Block]:
    """∂h/∂x of forward lines (`jacobians:`), numerator layout, stated once above them."""
    if not getattr(r, "jacobians", ()):
        return []
    blocks: list[Block] = [
        Heading("Jacobians (forward mode, seeded with the identity)", level=2),
        Text("Layout of a Jacobian: numerator layout, ∂h/∂x is m×n for h of size m and x of "
             "size n (dh = ∂h/∂x dx; row i is ∂hᵢ/∂x transposed).", tone="note")]
    for j in r.jacobians:
        dx = f"vec(d{j.wrt[4:]}" if j.wrt.startswith("vec(") else f"d{j.wrt}"  # vec(dW)
        for i, s in enumerate(j.steps, 1):
            blocks.append(Text(f"{i}. {s.rule}: {s.formula}    (d of {s.subject} = {s.pretty} "
                               f"{dx})"))
        blocks.append(Formula(label=j.label, text=j.display, pretty=j.pretty, latex=j.latex,
                              latex_label=j.latex_label, note=j.shape + (f"; {j.note}" if j.note else "")))
        if j.display != j.expression:
            blocks.append(Formula(label=f"  {j.label} (in full, pasteable)", text=j.expression,
                                  pretty=j.expression))
    return blocks


def _short_where(where: str, points: tuple[str, ...]) -> str:
    for k, label in enumerate(points, 1):
        if where.endswith(label):
            return where[: -len(label)].removesuffix(" at ").strip() + f" at p{k}" \
                if where != label else f"p{k}"
    return where


def _checks(r) -> list[Block]:
    rows, tones = [], []
    for c in r.checks:
        what, _, route = c.what.partition(": ")
        rows.append((what, "pass" if c.passed else "FAIL", route.replace("torch autograd", "autograd"),
                     f"{c.max_rel_error:.1e}", _short_where(c.where, r.points),
                     _num(c.expected), _num(c.got)))
        tones.append("good" if c.passed else "bad")
    blocks: list[Block] = [Heading("Checks", level=2),
                           Table(("gradient", "result", "route (got vs expected)", "max rel err",
                                  "worst entry", "expected", "got"), tuple(rows),
                                 tones=tuple(tones))]
    points = "; ".join(f"p{k} = {label}" for k, label in enumerate(r.points, 1))
    blocks.append(Text(f"sample points (float64, seed {r.seed}): {points}", tone="note"))
    for c in r.checks:
        for note in c.notes[1:]:
            blocks.append(Text(f"{c.what}: {note}", tone="good" if c.passed else "bad"))
    # one line per tolerance in use: finite-difference rows are held to a looser one than autograd's
    tolerances: dict[str, list[str]] = {}
    for c in r.checks:
        if c.notes:
            tolerances.setdefault(c.notes[0], []).append(c.what.partition(": ")[0])
    for note, whats in tolerances.items():
        blocks.append(Text(note if len(tolerances) == 1 else f"{note} ({', '.join(whats)})", tone="note"))
    return blocks


def _claims(r) -> list[Block]:
    if not r.claims:
        return []
    blocks: list[Block] = [Heading("Claims", level=2)]
    for v in r.claims:
        target = v.target if v.target.startswith("∂") else f"∂L/∂{v.target}"
        blocks.append(Formula(label=f"claimed {target}", text=v.expression))
        if v.correct:
            blocks.append(Text(f"correct: {v.method}", tone="good"))
            continue
        blocks.append(Text(f"WRONG: {v.method}", tone="bad"))
        ce = v.counterexample
        if ce is not None:
            if ce.where == "shape":
                blocks.append(Text(f"counterexample: the claim is {ce.claimed}; {ce.true}", tone="bad"))
            else:
                claimed, true = distinct_pair(ce.claimed, ce.true)
                blocks.append(Text(f"counterexample: entry {ce.where}: claimed {claimed}, "
                                   f"true {true}", tone="bad"))
                for name, value in ce.inputs.items():
                    blocks.append(Text(f"  {name} = {value}", tone="note"))
        if v.hint:
            blocks.append(Text(f"hint: {v.hint}", tone="warn"))
    return blocks


def document(r) -> list[Block]:
    blocks: list[Block] = [Heading(r.name)]
    if r.source:
        blocks.append(Text(f"source: {r.source}", tone="note"))
    if r.description:
        blocks.append(Text(r.description))
    blocks += _network(r)
    for note in r.notes:
        blocks.append(Text(note, tone="note"))
    gradients = _gradients(r) if r.view is None else network_view.gradients(r)
    blocks += _steps(r) + gradients + _hessians(r) + _jacobians(r) + _checks(r) + _claims(r)
    return blocks


def payload(r) -> dict:
    out = r.header_json()
    out.update({
        "source": r.source,
        "given": {n: s for n, s in r.given},
        "forward": {d.name: d.expression for d in r.lines[:-1]},
        "loss": {r.lines[-1].name: r.lines[-1].expression} if r.lines else {},
        "layout": r.layout,
        "steps": [s.to_json() for s in r.steps],
        "symbols": {s.symbol: {"of": s.label, "expression": s.expression,
                               "display": s.display or s.expression, "latex": s.latex,
                               "shape": s.shape} for s in r.symbols},
        "gradients": {g.name: g.to_json() for g in r.gradients},
        "claims": [v.to_json() for v in r.claims],
        "hessians": {h.name: h.to_json() for h in r.hessians},
        "jacobians": {j.key: j.to_json() for j in r.jacobians},
        "points": list(r.points),
        "layout_name": r.view.name if r.view is not None else "denominator",
        "view": r.view.to_json() if r.view is not None else None,
    })
    return out
