"""Layout of a scalar derivative: definition, steps, answer and its forms, checks, claim."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gradcli.render.blocks import Block, Formula, Heading, Table, Text
from gradcli.render.layouts.checks import checks_table, verdict_blocks
from gradcli.render.layouts.header import header

if TYPE_CHECKING:
    from gradcli.kinds.derivative.result import DerivativeResult, Form


def _formula(label: str, f: Form, note: str = "", latex_label: str = "") -> Formula:
    return Formula(label, f.expression, f.pretty, f.latex, latex_label=latex_label,
                   note=note or f.note)


def _latex_call(label: str) -> str:
    """`gelu(x)` -> `\\operatorname{gelu}(x)`; a plain `f` stays as it is."""
    head, paren, rest = label.partition("(")
    if not paren or len(head) == 1:
        return label
    return r"\operatorname{" + head.replace("_", r"\_") + "}(" + rest


def _value(v: float | None) -> str:
    return "undefined" if v is None else f"{v:.10g}"


def document(r: DerivativeResult) -> list[Block]:
    from gradcli.kinds.derivative.result import derivative_label, derivative_latex
    from gradcli.render.latex import text_in_math  # rule names and labels carry gelu_erf's _

    d = derivative_label(r.order, r.wrt)
    fname = r.definition.label if r.definition else "f"
    dlabel = f"{d} {fname}"
    fn_latex = _latex_call(fname)
    dlatex = rf"{derivative_latex(r.order, r.wrt)}\,{fn_latex}"
    out = header(r)
    if r.definition is not None:
        out.append(_formula(fname, r.definition, latex_label=fn_latex))
    if r.held:
        varied = "; a claim is judged with them varied over both signs too" if r.claim else ""
        out.append(Text("other variables held at " +
                        ", ".join(f"{k} = {v:g}" for k, v in r.held) + " for the checks" + varied,
                        "note"))
    for low in r.lower:  # d/dx, then d²/dx² of it, ...: each order a section
        label = f"{derivative_label(low.order, r.wrt)} {fname}"
        out.append(Heading(f"Order {low.order}: {label}", 2))
        out.extend(_steps(low.steps))
        out.append(_formula(label, low.derivative,
                            latex_label=rf"{derivative_latex(low.order, r.wrt)}\,{fn_latex}"))
    if r.steps:
        below = (f"Order {r.order}: {dlabel}, the derivative of "
                 f"{derivative_label(r.order - 1, r.wrt)} {fname}") if r.order > 1 else "Derivation"
        out.append(Heading(below, 2))
        out.extend(_steps(r.steps))
    out.append(Heading("Result", 2))
    if r.compact is not None:
        out.append(_formula(dlabel, r.compact, latex_label=dlatex))
        for u in r.inner:
            out.append(Formula(f"where {u.name}", u.expression, u.pretty, u.latex,
                               latex_label=rf"\text{{where }} {u.name}"))
        # pasteable means the expression language, on a terminal too (not √(2/π)·tanh²(u))
        out.append(Formula(f"{dlabel} (in full, pasteable)", r.derivative.expression,
                           r.derivative.expression, r.derivative.latex, latex_label=dlatex,
                           note=r.derivative.note))
    elif r.derivative is not None:
        out.append(_formula(dlabel, r.derivative, latex_label=dlatex))
    for f in r.forms:
        out.append(_formula(f"= {f.label}", f, latex_label=text_in_math(f.label)))
    for c in r.constants:
        out.append(Text(f"constant: {c}", "note"))
    if r.simplification:
        out.append(Text(r.simplification, "note"))
    if r.values:
        out.append(Table((r.wrt, fname, dlabel),
                         tuple((f"{x:g}", _value(f), _value(g)) for x, f, g in r.values),
                         title="Values"))
    out.extend(checks_table(r.checks, r.seed))
    for note in r.notes:
        out.append(Text(note, "note"))
    if r.claim is not None:
        out.append(Heading("Your claim", 2))
        out.append(Formula(f"claimed {d}", r.claim.expression))
        out.extend(verdict_blocks(r.claim))
    return out


def _steps(steps) -> list[Block]:
    from gradcli.render.latex import text_in_math

    out: list[Block] = []
    for i, s in enumerate(steps, 1):
        head = f"{i}. {s.rule}: "
        out.append(Formula("", head + s.detail, head + (s.pretty or s.detail),
                           text_in_math(f"{i}. {s.rule}: ") + r"\ " + s.latex))
    return out


def counts(r: DerivativeResult) -> str:
    """The verdict line's counts; under --no-check nothing was proved, and the line says so."""
    from gradcli.render.layouts.verdict import checks, claims

    if not r.checks and not r.claims:
        return "derived only, no check ran (--no-check)"
    return f"{checks([r])}, {claims([r])}"


def payload(r: DerivativeResult) -> dict[str, Any]:
    out = r.header_json()
    out.update({
        "function": r.function,
        "definition": r.definition.expression if r.definition else None,
        "wrt": r.wrt,
        "derivative": r.derivative.expression if r.derivative else None,
        "latex": r.derivative.latex if r.derivative else None,
        "steps": [s.to_json() for s in r.steps],
        "compact": ({"expression": r.compact.expression, "latex": r.compact.latex,
                     "where": {u.name: u.expression for u in r.inner}} if r.compact else None),
        "forms": [f.to_json() for f in r.forms],
        "constants": list(r.constants),
        "simplification": r.simplification,
        "values": [{"at": x, "value": f, "derivative": g} for x, f, g in r.values],
        "held": dict(r.held),
        "order": r.order,
        "lower": [{"order": low.order, "derivative": low.derivative.expression,
                   "latex": low.derivative.latex, "steps": [s.to_json() for s in low.steps]}
                  for low in r.lower],
    })
    if r.claim is not None:
        c = r.claim
        out["claim"] = {"expression": c.expression, "verdict": c.verdict,
                        "counterexample": c.counterexample.to_json() if c.counterexample else None,
                        "hint": c.hint, "method": c.method}
    return out
