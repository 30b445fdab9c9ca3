"""What `--layout numerator|index` adds to a network result: the gradients (and the names
they use, and for index layout the steps) written in that layout. Pure data, no torch, for
`render/layouts/network_view.py`; the denominator-layout result stays as it is beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NUMERATOR_RULE = ("Layout: numerator layout: ∂L/∂W of an m×n W is n×m (the transpose of W's "
                  "shape); ∂L/∂y of an n-vector is a 1×n row, and so are δ and the other "
                  "named gradients.")
INDEX_RULE = ("Layout: index notation: ∂L/∂W[i,j] is the (i, j) entry of the gradient, the "
              "same in every layout; Σ_k sums over k, [i=j] is 1 where i = j, else 0; a "
              "size-1 axis has no index.")


@dataclass(frozen=True)
class ViewForm:
    """One printed formula of the view: a gradient, a where-line, or a step's value."""

    label: str  # ∂L/∂W, ∂L/∂W[i,j], δ = ∂L/∂z
    display: str  # plain text: x @ δ, δ[i]*x[j]
    pretty: str  # course notation: x δ, δᵢ xⱼ
    latex: str
    latex_label: str
    shape: str  # in the view's layout: 1×n; index layout: the entry's indices' ranges
    expression: str = ""  # numerator layout: the pasteable full form (no names)
    note: str = ""  # why there is no form in this layout, when there is none
    formula: str = ""  # a step's rule in this layout (index: ∂A[i,k] = Σ_j G[i,j]*B[k,j])

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "expression": self.expression or None,
                "display": self.display or None, "latex": self.latex or None,
                "shape": self.shape, "note": self.note or None}


@dataclass(frozen=True)
class LayoutView:
    name: str  # "numerator" | "index"
    rule: str  # the convention, in one line (replaces the denominator layout's)
    gradients: tuple[tuple[str, ViewForm], ...]  # (variable, its gradient in this layout)
    symbols: tuple[ViewForm, ...] = ()
    steps: tuple[ViewForm | None, ...] = ()  # parallel to the result's steps; None: as derived
    notes: tuple[str, ...] = ()
    derivation_note: str = ""  # what the steps are in, when not this layout (numerator)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "rule": self.rule,
                "gradients": {n: f.to_json() for n, f in self.gradients},
                "symbols": [f.to_json() for f in self.symbols],
                "steps": [f.to_json() if f else None for f in self.steps],
                "notes": list(self.notes), "derivation_note": self.derivation_note or None}
