"""The display form of network results (kinds/network/display.py): the where-names reverse mode
defines, each printed once; dims by name in every format; the full pasteable form beside it;
and every bundled problem's printed gradients, pinned."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcli.expr.ast import Binary, Call, Name, Node, Num, Transpose
from gradcli.expr.parse import parse
from gradcli.kinds.network.display import text
from gradcli.verify.evaluate import evaluate

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "gradcli" / "bundled"

# What `gradcli check FILE --format plain` prints under "Gradients" (shapes and the
# "(in full, pasteable)" lines left out), for every bundled network problem.
PINNED = {
    'net_attention': [
        '∂L/∂V = A.T @ (O - T)',
        '∂L/∂S = A*(∂L/∂A - sum(∂L/∂A*A, dim=1))',
        '  where ∂L/∂A = (O - T) @ V.T',
    ],
    'net_backward': [
        '∂L/∂W2 = H.T @ (Y - T)',
        '∂L/∂b2 = sum(Y - T, dim=0)',
        '∂L/∂W1 = X.T @ δ',
        '∂L/∂b1 = sum(δ, dim=0)',
        '  where ∂L/∂H = (Y - T) @ W2.T',
        '  where δ = ∂L/∂Z1 = ∂L/∂H*H*(1 - H)',
    ],
    'net_batch_linear': [
        '∂L/∂W = X.T @ ∂L/∂Y',
        '∂L/∂b = sum(∂L/∂Y, dim=0)',
        '∂L/∂X = ∂L/∂Y @ W.T',
        '  where ∂L/∂Y = 2*(Y - T)/(N*m)',
    ],
    'net_batch_norm': [
        '∂L/∂Z = ((H - T)*g - mean((H - T)*g, dim=0) - Ẑ*mean((H - T)*g*Ẑ, dim=0))/σ',
        '∂L/∂W = X.T @ ∂L/∂Z',
        '∂L/∂g = sum((H - T)*Ẑ, dim=0)',
        '∂L/∂b = sum(H - T, dim=0)',
        "  where σ = the columns' standard deviation in batch_norm(Z, ...) = sqrt(mean((Z - mean(Z, dim=0))**2, dim=0) + 1e-05)",
        '  where Ẑ = Z normalised = (Z - mean(Z, dim=0))/σ',
    ],
    'net_bce_sigmoid': [
        '∂L/∂z = (p - t)/n',
        '∂L/∂W = δ @ x.T',
        '  where δ = ∂L/∂z',
    ],
    'net_clamp_max': [
        '∂L/∂W = ∂L/∂z @ x.T',
        '∂L/∂b = ∂L/∂z',
        '  where ∂L/∂h = 3*G*(1 - step(-3*h))*(1 - step(3*h - 3))',
        '  where ∂L/∂z = ∂L/∂h*(1 - step(-z) + step(z))/2',
    ],
    'net_conv1d': [
        '∂L/∂w = conv1d(x, y - t)',
        '∂L/∂c = sum(y - t)',
        '∂L/∂x: in index notation below (n×1, like x; no closed form in the expression language)',
        '  where ∂L/∂x[i] = Σⱼ G[i−j]·w[j] with G = y − t, zero outside its range: a full convolution of G with w',
    ],
    'net_conv_pool': [
        '∂L/∂K = conv2d(X, ∂L/∂C*step(conv2d(X, K)))',
        '∂L/∂X: in index notation below (H×W, like X; no closed form in the expression language)',
        '  where ∂L/∂C[i,j] = Σ G[w]/4 over the 2×2 windows w (stride 2) that contain (i, j), with G = P − T: each window spreads its upstream evenly over its cells',
        '  where ∂L/∂X[i,j] = Σₐ,ᵦ G[i−a, j−b]·K[a,b] with G = ∂L/∂C ⊙ step(conv2d(X, K)), zero outside its range: a full convolution of G with K',
    ],
    'net_dropout': [
        '∂L/∂v = (y - t)*h',
        '∂L/∂W = (∂L/∂a*step(W @ x)) @ x.T',
        '∂L/∂x = W.T @ (∂L/∂a*step(W @ x))',
        '  where ∂L/∂a = (y - t)*v*M/0.75',
    ],
    'net_gaussian_nll': [
        '∂L/∂x = (P @ x + P.T @ x)/2',
        '∂L/∂S = 0.5*P.T - P.T @ ∂L/∂P @ P.T',
        '  where ∂L/∂P = 0.5*x @ x.T',
    ],
    'net_gaussian_nll_diag': [
        '∂L/∂r = r/(N*v)',
        '∂L/∂v = 0.5/(N*v) - 0.5*r**2/(N*v**2)',
        '∂L/∂mu = -(r/(N*v))',
    ],
    'net_huber': [
        '∂L/∂w = X.T @ ∂L/∂y',
        '  where ∂L/∂y = 0.5*hardtanh(2*(y - t))/N',
    ],
    'net_l1_sum': [
        '∂L/∂w = X.T @ sign(y - t)',
        '∂L/∂c = sum(sign(y - t))',
    ],
    'net_labels_nll': [
        '∂L/∂Z = ∂L/∂Q - softmax(Z, dim=1)*sum(∂L/∂Q, dim=1)',
        '∂L/∂W = X.T @ ∂L/∂Z',
        '  where ∂L/∂Q = -(onehot(y, C)/N)',
    ],
    'net_layer_norm': [
        '∂L/∂X = (∂L/∂H*g - mean(∂L/∂H*g, dim=1) - X̂*mean(∂L/∂H*g*X̂, dim=1))/σ',
        '∂L/∂g = sum(∂L/∂H*X̂, dim=0)',
        '∂L/∂b = sum(∂L/∂H, dim=0)',
        '∂L/∂W = H.T @ (Y - T)',
        '  where ∂L/∂H = (Y - T) @ W.T',
        "  where σ = the rows' standard deviation in layer_norm(X, ...) = sqrt(mean((X - mean(X, dim=1))**2, dim=1) + 1e-05)",
        '  where X̂ = X normalised = (X - mean(X, dim=1))/σ',
    ],
    'net_jacobian_layers': [
        '∂L/∂x = W1.T @ (∂L/∂h*(1 - h**2))',
        '  where ∂L/∂h = W2.T @ (y - t)',
    ],
    'net_least_squares_hessian': [
        '∂L/∂w = 2*X.T @ (X @ w - y)',
    ],
    'net_log_softmax_nll': [
        '∂L/∂Z = (softmax(Z, dim=1) - Y)/N',
        '∂L/∂W = X.T @ ∂L/∂Z',
    ],
    'net_logistic': [
        '∂L/∂w = (sigmoid(z) - t)*x',
        '∂L/∂c = sigmoid(z) - t',
        '∂L/∂x = (sigmoid(z) - t)*w',
    ],
    'net_logistic_hessian': [
        '∂L/∂w = X.T @ (sigmoid(X @ w) - y)/N',
    ],
    'net_lstm_cell': [
        '∂L/∂cn = u*o*(1 - tanh(cn)**2)',
        '∂L/∂f = ∂L/∂cn*c',
        '∂L/∂Wo = (u*tanh(cn)*o*(1 - o)) @ x.T',
        '∂L/∂c = ∂L/∂cn*f',
    ],
    'net_max_pool': [
        '∂L/∂v = P.T @ (y - t)',
        '∂L/∂X: in index notation below (4×4, like X; no closed form in the expression language)',
        '  where ∂L/∂P = (y - t) @ v.T',
        "  where ∂L/∂X[i,j] = Σ G[w] over the 2×2 windows w (stride 2) whose largest entry is (i, j), with G = ∂L/∂P: each window's upstream goes to its max cell (ties: torch's choice)",
    ],
    'net_matrix_hessian': [
        '∂L/∂W = 2*X.T @ (X @ W - Y)',
    ],
    'net_mlp2': [
        '∂L/∂W2 = δ₂ @ a1.T',
        '∂L/∂b2 = δ₂',
        '∂L/∂W1 = δ₁ @ x.T',
        '∂L/∂b1 = δ₁',
        '∂L/∂x = W1.T @ δ₁',
        '  where δ₂ = ∂L/∂z2 = (y - t)*y*(1 - y)',
        '  where δ₁ = ∂L/∂z1 = (W2.T @ δ₂)*(1 - a1**2)',
    ],
    'net_relu_layer': [
        '∂L/∂W = δ @ x.T',
        '∂L/∂b = δ',
        '∂L/∂x = W.T @ δ',
        '  where δ = ∂L/∂z = G*step(z)',
    ],
    'net_residual': [
        '∂L/∂x = y - t + W1.T @ (∂L/∂a*step(W1 @ x))',
        '∂L/∂W1 = (∂L/∂a*step(W1 @ x)) @ x.T',
        '∂L/∂W2 = (y - t) @ a.T',
        '  where ∂L/∂a = W2.T @ (y - t)',
    ],
    'net_ridge': [
        '∂L/∂w = w*lam + X.T @ r',
        '∂L/∂lam = 0.5*w.T @ w',
    ],
    'net_softmax_ce': [
        '∂L/∂Z = (softmax(Z) - Y)/N',
        '∂L/∂W = X.T @ ∂L/∂Z',
        '∂L/∂b = sum(∂L/∂Z, dim=0)',
    ],
    'net_trace_logdet': [
        '∂L/∂X = A.T @ B.T + inv(X).T',
        '∂L/∂A = B.T @ X.T',
    ],
    'net_weighted_lsq': [
        '∂L/∂w = X.T @ (c*r)',
        '∂L/∂c = 0.5*r**2',
    ],
    'q1_grad': [
        '∂L/∂X = ∂L/∂Xc - sum(∂L/∂Xc, dim=0)/m',
        '  where ∂L/∂r = -sum(C*Y/r, dim=0)',
        '  where ∂L/∂Xc = (C + ∂L/∂r*Xc)/r',
    ],
    'q3': [
        '∂L/∂y = y - t',
        '∂L/∂W = δ @ x.T',
        '∂L/∂b = δ',
        '  where δ = ∂L/∂z = (y - t)*y*(1 - y)',
    ],
}


def shown(out: str) -> list[str]:
    section = out.split("\nGradients\n---------\n", 1)[1].split("\n\nChecks", 1)[0].split("\n\nHessians", 1)[0] \
        .split("\n\nJacobians", 1)[0]
    return [re.sub(r"    \[[^\]]*\]$", "", line) for line in section.split("\n")
            if "(in full, pasteable)" not in line]


@pytest.mark.parametrize("name", sorted(PINNED))
def test_bundled_problem_prints_its_gradients_in_display_form(cli, name):
    r = cli("check", str(BUNDLED / f"{name}.yaml"), "--format", "plain")
    assert r.exit_code == 0, r.output
    assert shown(r.stdout) == PINNED[name]


def test_every_bundled_network_problem_is_pinned():
    from gradcli.problems.load import load_problem

    network = {p.stem for p in BUNDLED.glob("*.yaml") if load_problem(p).kind == "network"}
    assert network == set(PINNED)


NAMES = re.compile(r"∂L/∂\w+|δ[₀-₉]*(?:_\w+)?|σ|Ẑ|[A-Za-z]\u0302")


@pytest.mark.parametrize("name", sorted(PINNED))
def test_every_name_a_printed_gradient_uses_is_defined(name):
    """Each where-name in the lines is a gradient printed above or has a where-line."""
    lines = PINNED[name]
    defined = {line.split(" = ")[0].split(":")[0].split("[")[0] for line in lines}
    defined |= {line.removeprefix("  where ").split(" = ")[0].split("[")[0] for line in lines}
    for line in lines:
        for used in NAMES.findall(line.rsplit(" = ", 1)[-1]):  # the value, after any label
            assert used in defined, (used, line)


def test_batch_norm_prints_sigma_once_and_uses_its_names(cli):
    r = cli("check", str(BUNDLED / "net_batch_norm.yaml"), "--format", "plain")
    lines = shown(r.stdout)
    assert sum(line.count("sqrt(") for line in lines) == 1  # in σ's where-line only
    assert not any(line.startswith("  where ∂L/∂Z") for line in lines)  # printed as a gradient


def test_each_gradient_is_followed_by_its_pasteable_form_when_they_differ(cli):
    r = cli("check", str(BUNDLED / "net_mlp2.yaml"), "--format", "plain")
    assert ("∂L/∂W1 = δ₁ @ x.T    [h×d, like W1]\n"
            "∂L/∂W1 (in full, pasteable) = ((W2.T @ ((y - t)*y*(1 - y)))*(1 - a1**2)) @ x.T\n") in r.stdout
    r = cli("check", str(BUNDLED / "net_trace_logdet.yaml"), "--format", "plain")
    assert "pasteable" not in r.stdout  # display and expression are the same


def test_dims_print_by_name_in_every_format(cli):
    path = str(BUNDLED / "net_softmax_ce.yaml")
    plain = cli("check", path, "--format", "plain").stdout
    assert "∂L/∂Z = (softmax(Z) - Y)/N    [N×C, like Z]" in plain
    rich = cli("check", path, "--format", "rich").stdout
    assert "∂L/∂Z = (softmax(Z) − Y)/N" in rich
    assert r"\frac{\operatorname{softmax}\left(Z\right) - Y}{N}" in cli("check", path, "--format", "latex").stdout
    assert r"\frac{\operatorname{softmax}\left(Z\right) - Y}{N}" in cli("check", path, "--format", "markdown").stdout
    doc = json.loads(cli("check", path, "--format", "json").stdout)
    z = doc["gradients"]["Z"]
    assert (z["display"], z["expression"]) == ("(softmax(Z) - Y)/N", "(softmax(Z) - Y)/5")
    assert doc["gradients"]["W"]["display"] == "X.T @ ∂L/∂Z"


def test_steps_show_the_rules_local_form_with_I_for_the_identity(tmp_path, cli):
    path = tmp_path / "t.yaml"
    path.write_text("format: 1\nkind: network\ndims: {n: 3}\ngiven: {A: [n, n], X: [n, n]}\n"
                    "loss: {L: 'trace(A @ inv(inv(X)))'}\nwrt: [X]\n")
    r = cli("check", str(path), "--format", "plain")
    assert r.exit_code == 0, r.output
    assert "   ∂L/∂(A X⁻¹⁻¹) = I    [n×n]" in r.stdout
    assert "∂L/∂X = A.T    [n×n, like X]" in r.stdout
    doc = json.loads(cli("check", str(path), "--format", "json").stdout)
    assert doc["gradients"]["X"]["expression"] == \
        "inv(X).T @ (inv(inv(X)).T @ A.T @ inv(inv(X)).T) @ inv(X).T"  # pasteable, as derived
    assert doc["steps"][0]["display"] == "I"
    assert doc["steps"][0]["expression"] == "eye(n)"  # pasteable: I by its dim's name


def test_the_guard_refuses_a_form_that_is_not_equal():
    from gradcli.kinds.network.display import Guard
    from gradcli.kinds.network.graph import build
    from gradcli.problems.load import load_problem

    problem = load_problem(BUNDLED / "q3.yaml")
    guard = Guard(build(problem), problem, lambda n: n, seed=0)
    right = parse("(y - t)*y*(1 - y)", variables={"y", "t"})
    assert guard(right, parse("(y - t)*(y - y**2)", variables={"y", "t"}))
    assert not guard(right, parse("(y - t)*y", variables={"y", "t"}))
    assert not guard(right, parse("sum((y - t)*y*(1 - y))", variables={"y", "t"}))  # a shape


# -- the display printer drops only parentheses that change nothing --------------------------

leaves = st.sampled_from([Name("A"), Name("B"), Transpose(Name("A")), Name("r")])
scalars = st.sampled_from([Num(2), Num(0.5), Name("N")])


@st.composite
def products(draw) -> Node:
    node: Node = draw(leaves)
    for _ in range(draw(st.integers(1, 3))):
        node = Binary("@", node, draw(leaves)) if draw(st.booleans()) else Binary("@", draw(leaves), node)
    if draw(st.booleans()):
        node = Binary("*", draw(scalars), node)
    if draw(st.booleans()):
        node = Binary("/", node, draw(scalars))
    if draw(st.booleans()):
        node = Binary(draw(st.sampled_from("+-")), draw(leaves), node)
    return node


@settings(max_examples=100, deadline=None)
@given(products(), st.integers(0, 2**31 - 1))
def test_display_text_parses_back_to_the_same_values(tree, seed):
    g = torch.Generator().manual_seed(seed)
    env = {k: torch.randn(3, 3, generator=g, dtype=torch.float64) for k in ("A", "B", "r")}
    env["N"] = torch.tensor(3.0, dtype=torch.float64)
    printed = parse(text(tree), variables=set(env))
    assert torch.allclose(evaluate(printed, env), evaluate(tree, env), rtol=1e-9, atol=1e-9), text(tree)


def test_a_scalar_in_front_of_a_product_and_a_count_after_it_print_as_a_textbook_does():
    tree = Binary("/", Binary("*", Num(2), Binary("@", Transpose(Name("X")), Call("f", (Name("r"),)))),
                  Name("N"))
    assert text(tree) == "2*X.T @ f(r)/N"


# -- the benchmark in the README is the benchmark's real output -------------------------------

def _bench():
    spec = importlib.util.spec_from_file_location("bench_textbook", ROOT / "bench" / "textbook.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_readme_comparison_table_is_the_benchmarks_output():
    bench = _bench()
    measured = [bench.measure(row) for row in bench.ROWS]
    readme = (ROOT / "README.md").read_text()
    for line in bench.table(measured):
        assert line in readme, line
    assert all(m.within for m in measured)
    assert len(measured) >= 15


def test_benchmark_tokens_count_names_as_one():
    bench = _bench()
    assert bench.tokens("X.T @ ∂L/∂Z") == ["X", ".T", "@", "∂L/∂Z"]
    assert bench.tokens("δ₁ @ x.T") == ["δ₁", "@", "x", ".T"]
    assert bench.tokens("sum(Ẑ*g, dim=0)/σ") == ["sum", "(", "Ẑ", "*", "g", ",", "dim", "=", "0", ")", "/", "σ"]
