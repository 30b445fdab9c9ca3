"""Layout of a vanishing-gradient result: the numbers, the chart, and the analytic reason.

Every number and every sentence of the explanation comes from the result (the bound was
computed from the catalog's derivative); nothing here is typed-in mathematics.
"""

from __future__ import annotations

import math
from typing import Any

from gradcli.kinds.vanishing.result import INIT_DESCRIPTION, N_VAR_W, Bound, Series, VanishingResult
from gradcli.render.blocks import Bars, Block, Formula, Heading, Table, Text
from gradcli.render.layouts.header import header

CHART_LAYERS = 6  # layers per activation in the terminal chart when the net is deep


def num(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.{digits - 1}e}"


def short(value: float) -> str:
    """A derived constant as a reader would write it: 0.25, 1, 1.12899."""
    return str(value) if not math.isfinite(value) else f"{value:.6g}"


def orders(ratio: float | None) -> str:
    """Orders of magnitude between the first and the last layer: -9.5 means 10^9.5 smaller."""
    if ratio is None or ratio <= 0:
        return "n/a"
    return f"{math.log10(ratio):+.1f}"


def _norm_table(result: VanishingResult, title: str, values: list[tuple[float, ...]],
                ratios: list[float | None]) -> Table:
    rows = [(str(layer), *(num(v[layer - 1]) for v in values))
            for layer in range(result.depth, 0, -1)]
    rows.append(("first/last", *(num(r) for r in ratios)))
    return Table(columns=("layer", *(s.activation for s in result.series)), rows=tuple(rows),
                 title=title, tones=("plain",) * result.depth + ("note",))


def chart_layers(depth: int) -> list[int]:
    """Every layer of a shallow net; for a deep one the last, the first and a few between."""
    if depth <= CHART_LAYERS:
        return list(range(depth, 0, -1))
    picks = {round(depth - i * (depth - 1) / (CHART_LAYERS - 1)) for i in range(CHART_LAYERS)}
    return sorted(picks, reverse=True)


def _chart(result: VanishingResult) -> Bars:
    layers = chart_layers(result.depth)
    labels, values, series = [], [], []
    for s in result.series:
        for layer in layers:
            labels.append(f"layer {layer}")
            values.append(s.weight_grad_norms[layer - 1])
            series.append(s.activation)
    which = "every layer" if len(layers) == result.depth else f"layers {', '.join(map(str, layers))}"
    return Bars(title=f"‖∂L/∂W_l‖, log scale ({which})", labels=tuple(labels),
                values=tuple(values), series=tuple(series))


def readable(value: float) -> str:
    """A factor or gain: 0.25, 11.35, 9.09e-13."""
    if value == 0 or not math.isfinite(value):
        return num(value)
    return f"{value:.4g}" if 1e-3 <= abs(value) < 1e4 else num(value)


def where(bound: Bound) -> str:
    """Where |f′| reaches its sup: a point, an interval, or only far out (float64)."""
    if bound.argmax is not None:
        return f"x = {short(bound.argmax)}"
    if bound.attained_on is None:
        return ""
    lo, hi = bound.attained_on
    if math.isinf(lo) and math.isinf(hi):
        return "every x"
    if math.isinf(hi):
        return "x → +∞" if abs(lo) >= 10 else f"x > {short(lo)}"
    if math.isinf(lo):
        return "x → -∞" if abs(hi) >= 10 else f"x < {short(hi)}"
    return f"{short(lo)} < x < {short(hi)}"


def reason(bound: Bound) -> str:
    """One activation's derivative bound, in words, from the computed numbers."""
    f, d = bound.activation, bound.depth
    if not math.isfinite(bound.sup):
        return (f"{f}: |{f}′| has no upper bound, so the activation can amplify gradients: "
                "they may explode rather than vanish.")
    through = (f"through {d} {f} layers the activation factor alone is at most "
               f"{short(bound.sup)}^{d} = {readable(bound.depth_factor)}")
    if bound.values:
        listed = ", ".join(short(v) for v in bound.values)
        passes = (": a unit passes its gradient unchanged or blocks it, so the scale is left "
                  "to the weights" if set(bound.values) == {0.0, 1.0} else "")
        return f"{f}: |{f}′| ∈ {{{listed}}}{passes}; {through}."
    if bound.sup < 1:
        effect = " — it shrinks the gradient at every layer, whatever the weights"
    elif bound.sup == 1:
        effect = " — it never amplifies a gradient, and shrinks it wherever |f′(z)| < 1"
    else:
        effect = f" — it can amplify a gradient by up to {short(bound.sup)} per layer"
    at = where(bound)
    reached = f"approached as {at}" if at.startswith("x →") else f"at {at}"
    return f"{f}: max |{f}′| = {short(bound.sup)} {reached}, so {through}{effect}."


def _bound_table(result: VanishingResult) -> Table:
    rows = tuple((s.activation, short(s.bound.sup), where(s.bound),
                  readable(s.bound.depth_factor), f"{s.bound.gaussian_moment:.4f}")
                 for s in result.series)
    return Table(columns=("activation", "max |f′|", "where", f"max |f′|^{result.depth}",
                          "E[f′(z)²], z ~ N(0,1)"),
                 rows=rows, title="The derivative bound, computed from the catalog's f′ "
                                  "(dense float64 grid, refined)")


def _derivatives(result: VanishingResult) -> list[Block]:
    return [Formula(label=f"{s.activation}′(x)", text=s.bound.derivative,
                    note="catalog derivative") for s in result.series]


def _gain_cell(gain: float, layers: int) -> str:
    return f"{gain:.2f} → {readable(gain ** layers)}"


def _init_table(result: VanishingResult) -> Table:
    layers = result.depth - 1
    columns = ("activation", *(f"{k} (n·Var W = {short(v) if v >= 1 else '1/3'})"
                               for k, v in N_VAR_W.items()))
    rows = tuple((s.activation, *(_gain_cell(s.bound.gain(k), layers) for k in N_VAR_W))
                 for s in result.series)
    return Table(columns=columns, rows=rows,
                 title=f"Per-layer gain √(n·Var(W)·E[f′(z)²]) by init → over {layers} layers")


def _run_table(result: VanishingResult) -> Table:
    rows = tuple((s.activation, num(s.ratio), orders(s.ratio), f"{s.mean_sq_derivative:.4f}",
                  f"{s.predicted_gain(result.init):.3f}",
                  "n/a" if s.measured_gain is None else f"{s.measured_gain:.3f}")
                 for s in result.series)
    return Table(columns=("activation", "‖∂L/∂W_1‖ / ‖∂L/∂W_D‖", "log10", "E[f′(z)²] in this run",
                          "gain predicted", "gain measured"),
                 rows=rows, title=f"This run ({result.init} init)")


def _answer(result: VanishingResult) -> list[Block]:
    by_name = {s.activation: s for s in result.series}
    sig, relu = by_name.get("sigmoid"), by_name.get("relu")
    if sig is None or relu is None:
        return []
    return [Text(
        f"In short: σ′ ≤ {short(sig.bound.sup)} shrinks the gradient at every sigmoid layer "
        f"(σ′'s own factor through {result.depth} layers is at most "
        f"{num(sig.bound.depth_factor)}; the weights multiply in theirs), while "
        f"relu′ ∈ {{0, 1}} lets it through unchanged wherever a unit is active. Here the first "
        f"layer's weight gradient is {num(sig.ratio)} of the last layer's with sigmoid and "
        f"{num(relu.ratio)} with ReLU ({result.init} init). Weight scale decides the rest: "
        f"with He init a ReLU layer's gain is {relu.bound.gain('he'):.2f}, with torch's "
        f"default {relu.bound.gain('default'):.2f}.", tone="good")]


def _checks(result: VanishingResult) -> Table:
    rows = tuple((c.what, "passed" if c.passed else "FAILED", num(c.max_rel_error, 2),
                  c.where, c.reference) for c in result.checks)
    notes = sorted({n for c in result.checks for n in c.notes if n.startswith("tolerance")})
    return Table(columns=("check", "result", "max rel error", "worst at", "reference"),
                 rows=rows, tones=tuple("good" if c.passed else "bad" for c in result.checks),
                 title="Checks" + (f" ({'; '.join(notes)})" if notes else ""))


def _failure_notes(result: VanishingResult) -> list[Block]:
    return [Text(f"{c.what}: {n}", tone="bad") for c in result.checks if not c.passed
            for n in c.notes if not n.startswith(("tolerance", "manual route"))]


def document(result: VanishingResult) -> list[Block]:
    series = result.series
    blocks: list[Block] = [
        *header(result),
        Text(f"{result.depth} layers h_l = f(h_(l-1) @ W_l.T + b_l), width {result.width}, "
             f"batch {result.batch}; loss {result.loss} against a random target t; "
             f"init: {INIT_DESCRIPTION[result.init]}; seed {result.seed}. Every activation "
             "gets the same input, target and weights.", tone="note"),
        _norm_table(result, "‖∂L/∂W_l‖ by layer, last to first",
                    [s.weight_grad_norms for s in series], [s.ratio for s in series]),
        _norm_table(result, "‖∂L/∂h_l‖ (the layer's output) by layer, last to first",
                    [s.activation_grad_norms for s in series],
                    [_ratio(s.activation_grad_norms) for s in series]),
        _chart(result),
        Heading("Why", 2),
        *_derivatives(result),
        *(Text(reason(s.bound)) for s in series),
        _bound_table(result),
        Text("The weights multiply the gradient too: ∂L/∂h_(l-1) = (∂L/∂h_l ⊙ f′(z_l)) @ W_l, "
             "so a layer scales its norm by about √(n·Var(W)·E[f′(z)²]).", tone="note"),
        _init_table(result),
        _run_table(result),
        *_answer(result),
        _checks(result),
        *_failure_notes(result),
    ]
    if result.plot:
        blocks.append(Text(f"Plot written to {result.plot}", tone="note"))
    return blocks


def _ratio(norms: tuple[float, ...]) -> float | None:
    if norms[-1] == 0 or not all(map(math.isfinite, norms)):
        return None
    return norms[0] / norms[-1]


def _series_json(s: Series, init: str) -> dict[str, Any]:
    return {"grad_norms": list(s.weight_grad_norms),
            "activation_grad_norms": list(s.activation_grad_norms),
            "ratio_first_last": s.ratio, "mean_sq_derivative": s.mean_sq_derivative,
            "gain_predicted": s.predicted_gain(init), "gain_measured": s.measured_gain,
            "bound": s.bound.to_json()}


def payload(result: VanishingResult) -> dict[str, Any]:
    return {**result.header_json(), "depth": result.depth, "width": result.width,
            "batch": result.batch, "init": result.init,
            "init_description": INIT_DESCRIPTION[result.init], "loss": result.loss,
            "layers": list(range(1, result.depth + 1)),
            "activations": {s.activation: _series_json(s, result.init) for s in result.series},
            "plot": result.plot}
