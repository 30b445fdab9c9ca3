"""The result of a `kind: network` problem: pure data for `render/layouts/network.py`.

Kept apart from `solve.py` so that importing the result types (renderers do) stays light:
no torch, no derivation engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gradcli.results import Check, Outcome, Step

LAYOUT_RULE = ("Layout: a gradient has the shape of its variable (denominator layout): "
               "∂L/∂W is shaped like W; a 1-D [n] is an n×1 column.")


@dataclass(frozen=True)
class NetStep:
    """One rule application: `label = value`, with the rule, where it applied, and the shape."""

    rule: str  # "matrix product (left factor)"
    formula: str  # the rule in symbols, G the upstream: "∂A = G Bᵀ"
    subject: str  # what it was applied to: "line z: W x"
    label: str  # "∂L/∂W"
    latex_label: str
    expression: str  # the value in the expression language, expanded
    pretty: str  # the value in course notation: "δ xᵀ = ((y − t) ⊙ y ⊙ (1 − y)) xᵀ"
    latex: str
    shape: str
    note: str = ""
    display: str = ""  # the local form with the upstreams' names: "δ @ x.T"

    def to_step(self) -> Step:
        detail = f"{self.subject}: {self.label} = {self.pretty} ({self.formula})"
        if self.note:
            detail += f"; {self.note}"
        return Step(rule=self.rule, expression=self.expression, detail=detail,
                    latex=f"{self.latex_label} = {self.latex}", shape=self.shape)

    def to_json(self) -> dict[str, Any]:
        return {**self.to_step().to_json(), "display": self.display or self.expression,
                "label": self.label, "formula": self.formula, "latex": self.latex}


@dataclass(frozen=True)
class Gradient:
    name: str  # the variable: W
    label: str  # ∂L/∂W
    latex_label: str
    expression: str  # the expression language, every symbol expanded: pasteable as a claim
    pretty: str  # course notation of the display form: δ xᵀ
    pretty_expanded: str  # course notation, expanded
    latex: str  # LaTeX of the display form
    shape: str  # "n×n"
    steps: tuple[NetStep, ...] = ()
    check: Check | None = None
    note: str = ""  # e.g. "L does not depend on t"
    display: str = ""  # the display form (display.py): δ @ x.T, dims by name, normalised

    def to_json(self) -> dict[str, Any]:
        return {"expression": self.expression or None, "display": self.display or self.expression,
                "latex": self.latex, "shape": self.shape,
                "pretty": self.pretty_expanded,
                "index_form": None if self.expression else self.pretty_expanded, "steps": [s.to_json() for s in self.steps],
                "check": self.check.to_json() if self.check else None, "note": self.note}


@dataclass(frozen=True)
class Symbol:
    """A name the derivation gave to an intermediate gradient: δ = ∂L/∂z = ..."""

    symbol: str
    label: str
    expression: str
    pretty: str
    latex: str
    shape: str
    display: str = ""  # expression-language syntax, with the other symbols by name


@dataclass(frozen=True)
class Definition:
    """A forward or loss line, printed."""

    name: str
    expression: str
    pretty: str
    latex: str
    shape: str


@dataclass(frozen=True)
class NetworkResult(Outcome):
    source: str = ""
    description: str = ""
    given: tuple[tuple[str, str], ...] = ()  # (name, shape), e.g. ("W", "n×n")
    dims: tuple[tuple[str, int], ...] = ()
    lines: tuple[Definition, ...] = ()  # forward lines, then the loss
    layout: str = LAYOUT_RULE
    steps: tuple[NetStep, ...] = ()
    symbols: tuple[Symbol, ...] = ()
    gradients: tuple[Gradient, ...] = ()
    points: tuple[str, ...] = ()  # what the sample points were
    hessians: tuple[Any, ...] = ()  # hessian.Hessian, one per `hessians:` name
    jacobians: tuple[Any, ...] = ()  # jacobian.Jacobian, one per `jacobians:` request
    view: Any = None  # layout_result.LayoutView under --layout numerator|index, else None

