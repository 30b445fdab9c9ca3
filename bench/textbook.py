"""gradcli's display form beside the form a textbook prints, for published results.

Run: .venv/bin/python bench/textbook.py [--markdown]

Each row is one published gradient: the problem (a bundled file or a small one written here),
the gradient or where-name, the source and the form it prints, written in the expression
language with the source's own where-names (δ, ∂L/∂Z, σ, Ẑ) spelled as gradcli spells them.
For each the table gives both token counts and their ratio. The goal (issue 14): every
gradient within 1.5× (+2 tokens) of its textbook form, and no dim printed as its value.
Exit code 1 when a row misses the goal, so a change that lengthens a form is seen.

Tokens: names (one token each, ∂L/∂Z and δ₁ included), numbers, operators (`**`, `@`,
`.T` one each), parentheses and commas; `dim=0` is three tokens (dim, =, 0).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "gradcli" / "bundled"

TOKEN = re.compile(r"∂\w+/∂\w+|[^\W\d][\w\u0302]*|\d+\.?\d*(?:e-?\d+)?|\*\*|\.T|[^\s\w]")


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


@dataclass(frozen=True)
class Row:
    result: str  # what is differentiated, for the table
    source: str  # where the textbook form is printed
    textbook: str  # the source's form, in the expression language with the source's names
    problem: str  # a bundled file name, or a problem's YAML
    target: str  # the gradient's variable, or a where-name's symbol ("δ₁")


def _net(dims: str, given: str, loss: str, wrt: str, forward: str = "") -> str:
    return (f"format: 1\nkind: network\nname: bench\ndims: {{{dims}}}\ngiven: {{{given}}}\n"
            + (f"forward: {{{forward}}}\n" if forward else "") + f"loss: {{L: '{loss}'}}\nwrt: [{wrt}]\n")


ROWS = (
    Row("linear layer Y = XW + b, ∂L/∂W", "Johnson, CS231n handout Derivatives, Backpropagation, and Vectorization: dL/dW = Xᵀ dL/dY",
        "X.T @ ∂L/∂Y", "net_batch_linear.yaml", "W"),
    Row("linear layer, ∂L/∂X", "the same handout: dL/dX = dL/dY Wᵀ",
        "∂L/∂Y @ W.T", "net_batch_linear.yaml", "X"),
    Row("linear layer, ∂L/∂b", "the same handout: db, dY summed over the batch",
        "sum(∂L/∂Y, dim=0)", "net_batch_linear.yaml", "b"),
    Row("sigmoid layer, ∂L/∂W", "Nielsen, Neural Networks and Deep Learning, ch. 2 (BP4): δ aᵀ",
        "δ @ x.T", "q3.yaml", "W"),
    Row("sigmoid layer, δ", "Nielsen, ch. 2 (BP1): δ = ∇ₐC ⊙ σ′(z)",
        "(y - t)*y*(1 - y)", "q3.yaml", "δ"),
    Row("two-layer MLP, ∂L/∂W1", "Nielsen, ch. 2 (BP4)", "δ₁ @ x.T", "net_mlp2.yaml", "W1"),
    Row("two-layer MLP (tanh), δ₁", "Nielsen, ch. 2 (BP2): δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)",
        "(W2.T @ δ₂)*(1 - a1**2)", "net_mlp2.yaml", "δ₁"),
    Row("tanh layer, δ", "Nielsen ch. 2 (BP1) with tanh′ = 1 − tanh² (Goodfellow et al., Deep Learning, §6.3.2)",
        "(y - t)*(1 - y**2)",
        _net("n: 3, m: 2", "W: [m, n], x: [n], t: [m]", "0.5*sum((y - t)**2)", "W",
             "z: 'W @ x', y: 'tanh(z)'"), "δ"),
    Row("softmax cross-entropy, ∂L/∂Z", "CS231n notes, softmax classifier; assignment 1: dscores = (P − Y)/N",
        "(softmax(Z) - Y)/N", "net_softmax_ce.yaml", "Z"),
    Row("softmax cross-entropy, ∂L/∂W", "CS231n assignment 1 (softmax, vectorised): dW = Xᵀ dscores",
        "X.T @ (softmax(Z) - Y)/N", "net_softmax_ce.yaml", "W"),
    Row("binary cross-entropy after a sigmoid, ∂L/∂z", "Bishop, PRML, eq. 4.91 (y − t), averaged over n",
        "(p - t)/n", "net_bce_sigmoid.yaml", "z"),
    Row("logistic regression, ∂L/∂w", "Bishop, PRML, eq. 4.91: ∇E = Σ (yₙ − tₙ) φₙ",
        "X.T @ (sigmoid(X @ w) - t)",
        _net("N: 5, d: 3", "X: [N, d], w: [d], t: [N]", "bce(sigmoid(X @ w), t, reduction=\"sum\")", "w"),
        "w"),
    Row("batch norm, ∂L/∂Z", "CS231n assignment 2, batchnorm_backward_alt: (1/N) γ σ⁻¹ (N dŷ − Σ dŷ − x̂ Σ dŷ ⊙ x̂)",
        "g*(N*(H - T) - sum(H - T, dim=0) - Ẑ*sum((H - T)*Ẑ, dim=0))/(N*σ)",
        "net_batch_norm.yaml", "Z"),
    Row("batch norm, ∂L/∂g", "Ioffe & Szegedy (2015), sec. 3: ∂ℓ/∂γ = Σᵢ ∂ℓ/∂yᵢ · x̂ᵢ",
        "sum((H - T)*Ẑ, dim=0)", "net_batch_norm.yaml", "g"),
    Row("layer norm, ∂L/∂X", "CS231n assignment 2, layer norm: the batch-norm form along the features",
        "g*(m*∂L/∂H - sum(∂L/∂H, dim=1) - X̂*sum(∂L/∂H*X̂, dim=1))/(m*σ)",
        "net_layer_norm.yaml", "X"),
    Row("least squares ‖Ax − b‖², ∂/∂x", "Matrix Cookbook (2012), §2.4.2: ∂‖Ax − b‖²/∂x = 2Aᵀ(Ax − b)",
        "2*A.T @ (A @ x - b)",
        _net("m: 5, n: 3", "A: [m, n], x: [n], b: [m]", "sum((A @ x - b)**2)", "x"), "x"),
    Row("mean squared error of a linear model, ∂/∂w", "Goodfellow et al., Deep Learning, §5.1.4 "
        "(eqs. 5.6–5.11)", "2*X.T @ (X @ w - y)/N",
        _net("N: 5, d: 3", "X: [N, d], w: [d], y: [N]", "mean((X @ w - y)**2)", "w"), "w"),
    Row("ridge regression, ∂/∂w", "Goodfellow et al., §7.1.1, eq. 7.3: αw + ∇J", "lam*w + X.T @ (X @ w - y)",
        _net("N: 5, d: 3", "X: [N, d], w: [d], y: [N], lam: []",
             "0.5*sum((X @ w - y)**2) + 0.5*lam*sum(w**2)", "w"), "w"),
    Row("quadratic form xᵀBx, ∂/∂x", "Matrix Cookbook, §2.4.2: (B + Bᵀ)x", "(B + B.T) @ x",
        _net("n: 3", "B: [n, n], x: [n]", "x.T @ B @ x", "x"), "x"),
    Row("L2 norm ‖x‖, ∂/∂x", "Matrix Cookbook, §2.6.1: x/‖x‖₂", "x/norm(x)",
        _net("n: 3", "x: [n]", "norm(x)", "x"), "x"),
    Row("‖x‖³, ∂/∂x", "Matrix Cookbook §2.6.1 and the chain rule: 3‖x‖²·x/‖x‖", "3*norm(x)*x",
        _net("n: 3", "x: [n]", "norm(x)**3", "x"), "x"),
    Row("tr(AXB), ∂/∂X", "Matrix Cookbook, §2.5 (AᵀBᵀ) and §2.1.1 ((X⁻¹)ᵀ)", "A.T @ B.T + inv(X).T",
        "net_trace_logdet.yaml", "X"),
    Row("tr(A X⁻¹⁻¹) = tr(AX), ∂/∂X", "Matrix Cookbook, §2.5: ∂tr(AX)/∂X = Aᵀ", "A.T",
        _net("n: 3", "A: [n, n], X: [n, n]", "trace(A @ inv(inv(X)))", "X"), "X"),
    Row("weighted least squares ½ rᵀ diag(c) r, ∂/∂c", "Matrix Cookbook §2.4.1 (∂aᵀXb/∂X = abᵀ), its diagonal",
        "0.5*r**2", "net_weighted_lsq.yaml", "c"),
    Row("ReLU neuron max(0, wᵀx + b), ∂/∂w", "Parr & Howard, The Matrix Calculus You Need for Deep Learning: the neuron activation (xᵀ where wᵀx + b > 0)",
        "step(w.T @ x + b)*x",
        _net("n: 3", "w: [n], x: [n], b: []", "relu(w.T @ x + b)", "w"), "w"),
    Row("attention softmax(QKᵀ/√d)V, ∂L/∂Q", "Dao et al., FlashAttention (2022), app. B: dQ = τ dS K, τ = 1/√d",
        "0.5*∂L/∂S @ K",
        _net("n: 3, d: 4", "Q: [n, d], K: [n, d], V: [n, d], T: [n, d]", "0.5*sum((O - T)**2)",
             "Q, K, V", "S: 'Q @ K.T / 2', P: 'softmax(S, dim=1)', O: 'P @ V'"), "Q"),
    Row("attention, ∂L/∂V", "Dao et al., FlashAttention (2022), app. B: dV = Pᵀ dO", "P.T @ (O - T)",
        _net("n: 3, d: 4", "Q: [n, d], K: [n, d], V: [n, d], T: [n, d]", "0.5*sum((O - T)**2)",
             "Q, K, V", "S: 'Q @ K.T / 2', P: 'softmax(S, dim=1)', O: 'P @ V'"), "V"),
)


@dataclass(frozen=True)
class Measured:
    row: Row
    shown: str  # gradcli's display form
    expanded: str  # the full pasteable form (what plain output printed before the display form)
    dims_by_value: tuple[str, ...]  # dims printed as numbers (should be none)

    @property
    def ours(self) -> int:
        return len(tokens(self.shown))

    @property
    def before(self) -> int:
        return len(tokens(self.expanded))

    @property
    def theirs(self) -> int:
        return len(tokens(self.row.textbook))

    @property
    def within(self) -> bool:
        return self.ours <= 1.5 * self.theirs + 2 and not self.dims_by_value


def _problem(row: Row):
    from gradcli.problems.load import load_problem, load_text

    if row.problem.endswith(".yaml"):
        return load_problem(BUNDLED / row.problem)
    return load_text(row.problem, "bench.yaml")


def measure(row: Row) -> Measured:
    from gradcli.api import solve

    problem = _problem(row)
    result = solve(problem)
    found = next(((g.display, g.expression) for g in result.gradients if g.name == row.target), None)
    shown, expanded = found or next((s.display, s.expression) for s in result.symbols
                                    if s.symbol == row.target)
    written = " ".join(e for _, e in problem.forward) + " " + problem.loss[1]  # the file's numbers
    literal = set(tokens(written))
    by_value = tuple(f"{d} = {v}" for d, v in problem.dims.items()
                     if str(v) in tokens(shown) and str(v) not in literal)
    return Measured(row, shown, expanded, by_value)


def table(measured: list[Measured]) -> list[str]:
    out = ["| result | source | the source's form | gradcli's display form | tokens: source, "
           "gradcli (in full) | ratio |", "|---|---|---|---|---|---|"]
    for m in measured:
        ratio = f"{m.ours / m.theirs:.2f}" + ("" if m.within else " ✗")
        out.append(f"| {m.row.result} | {m.row.source} | `{m.row.textbook}` | `{m.shown}` | "
                   f"{m.theirs}, {m.ours} ({m.before}) | {ratio} |")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    measured = [measure(r) for r in ROWS]
    print("\n".join(table(measured)))
    missed = [m for m in measured if not m.within]
    worst = max(m.ours / m.theirs for m in measured)
    print(f"\n{len(measured)} results, {len(measured) - len(missed)} within 1.5× (+2 tokens) of the "
          f"textbook form; worst ratio {worst:.2f}; dims printed as values: "
          f"{sum(len(m.dims_by_value) for m in measured)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
