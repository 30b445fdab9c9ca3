"""The result of a `kind: derivative` problem: pure data for `render/layouts/derivative.py`.

Kept apart from `solve.py` so that renderers import the result types without the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradcli.results import Outcome, Step, Verdict

SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def derivative_label(order: int, variable: str) -> str:
    """d/dx, d²/dx², ...: the label of the n-th derivative (Leibniz's notation)."""
    if order == 1:
        return f"d/d{variable}"
    power = str(order).translate(SUPERSCRIPTS)
    return f"d{power}/d{variable}{power}"


def derivative_latex(order: int, variable: str) -> str:
    power = "" if order == 1 else f"^{{{order}}}"
    return rf"\frac{{d{power}}}{{d{variable}{power}}}"


@dataclass(frozen=True)
class Form:
    """One way of writing the derivative; `expression` is pasteable, the others for reading."""

    label: str
    expression: str
    pretty: str
    latex: str
    note: str = ""

    def to_json(self) -> dict:
        return {"label": self.label, "expression": self.expression, "latex": self.latex,
                "note": self.note}


@dataclass(frozen=True)
class Inner:
    """An inner function named by the chain rule: u = sqrt(2/pi)*(x + 0.044715*x**3)."""

    name: str
    expression: str
    pretty: str
    latex: str


@dataclass(frozen=True)
class Lower:
    """An order below the one asked for, derived on the way: d/dx before d²/dx²."""

    order: int
    derivative: Form
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class DerivativeResult(Outcome):
    """A derivative problem's result: the derivation, its forms, checks and any claim."""

    function: str = ""
    definition: Form | None = None
    wrt: str = "x"
    derivative: Form | None = None  # the final answer, in terms of the variable
    compact: Form | None = None  # the same with inner functions named (u, v, ...)
    inner: tuple[Inner, ...] = ()
    forms: tuple[Form, ...] = ()  # equivalent ways of writing it
    steps: tuple[Step, ...] = ()
    constants: tuple[str, ...] = ()  # 0.134145 = 3·0.044715
    values: tuple[tuple[float, float | None, float | None], ...] = ()  # (x, f(x), f'(x))
    held: tuple[tuple[str, float], ...] = ()  # other variables and the values they were held at
    claim: Verdict | None = None
    simplification: str = ""  # what happened when SymPy tried to simplify
    order: int = 1  # `derivative` is the order-th derivative
    lower: tuple[Lower, ...] = ()  # the orders below it, each with its own steps
