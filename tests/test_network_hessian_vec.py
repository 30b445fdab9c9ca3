"""Hessians of matrix variables through vec(): `hessians: [vec(W)]` derives ∂²L/∂vec(W)², mn×mn
over W's columns stacked, with Kronecker products (vec(A dW B) = (Bᵀ ⊗ A) vec(dW)), checked
against torch's Hessian of the loss as a function of vec(W) in column-major order."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcli.api import solve
from gradcli.errors import InputError
from gradcli.expr.parse import parse
from gradcli.problems.load import load_text
from gradcli.verify.evaluate import evaluate

HEADER = "format: 1\nkind: network\n"
LAYER = ("dims: {n: 3, m: 2}\ngiven: {W: [m, n], x: [n]}\nloss:\n  L: sum(tanh(W @ x))\n"
         "wrt: [W]\nhessians: [vec(W)]\n")
LSQ = ("dims: {N: 5, d: 3, k: 2}\ngiven: {X: [N, d], W: [d, k], Y: [N, k]}\n"
       "loss:\n  L: sum((X @ W - Y)**2)\nwrt: [W]\nhessians: [vec(W)]\n")


def run(body: str):
    return solve(load_text(HEADER + body, "v.yaml"))


def test_vec_stacks_the_columns_and_kron_is_torch_s():
    w = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=torch.float64)
    assert evaluate(parse("vec(W)", variables={"W"}), {"W": w}).flatten().tolist() == \
        [1.0, 3.0, 5.0, 2.0, 4.0, 6.0]
    a = torch.eye(2, dtype=torch.float64)
    assert torch.equal(evaluate(parse("kron(A, W)", variables={"A", "W"}), {"A": a, "W": w}),
                       torch.kron(a, w))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4),
       st.integers(0, 2**31 - 1))
def test_vec_of_a_product_is_the_kronecker_identity(p, q, r, s, seed):
    # vec(A X B) = (Bᵀ ⊗ A) vec(X): the identity every matrix rule below relies on
    gen = torch.Generator().manual_seed(seed)
    env = {"A": torch.randn(p, q, generator=gen, dtype=torch.float64),
           "X": torch.randn(q, r, generator=gen, dtype=torch.float64),
           "B": torch.randn(r, s, generator=gen, dtype=torch.float64)}
    names = set(env)
    left = evaluate(parse("vec(A @ X @ B)", variables=names), env)
    right = evaluate(parse("kron(B.T, A) @ vec(X)", variables=names), env)
    torch.testing.assert_close(left, right, rtol=1e-12, atol=1e-12)


def test_a_layer_s_hessian_is_stated_through_vec_with_kronecker_factors():
    r = run(LAYER)
    (h,) = r.hessians
    assert (h.label, h.shape, h.symmetric) == ("∂²L/∂vec(W)²", "(m·n)×(m·n)", True)
    assert h.expression == ("-(kron(x, eye(m)) @ (diag(2*tanh(W @ x)) @ "
                            "(diag(1 - tanh(W @ x)**2) @ kron(x.T, eye(m)))))")
    assert "kron(x, eye(m))" in h.display  # the dim by name where it is read
    assert "vec(A dX B) = (Bᵀ ⊗ A) vec(dX)" in h.steps[0].formula
    assert r.passed and h.check.points == 4 * 36


def test_least_squares_with_a_weight_matrix_is_i_kron_2_x_t_x():
    r = run(LSQ + "hessian_claims:\n  W: 2*kron(eye(k), X.T @ X)\n")
    assert r.hessians[0].expression == "2*(kron(eye(k), X.T) @ kron(eye(k), X))"
    assert r.passed and r.claims[0].correct


def test_a_wrong_ordering_claim_is_wrong():
    # the row-major ordering (vec of Wᵀ) would be (XᵀX ⊗ I): a counterexample, not a pass
    r = run(LSQ + "hessian_claims:\n  W: 2*kron(X.T @ X, eye(k))\n")
    assert not r.claims[0].correct and r.claims[0].counterexample.inputs["point"]


def test_the_check_is_column_major_and_would_catch_row_major():
    from gradcli.kinds.network import verify as V
    from gradcli.kinds.network.solve import Solver

    solver = Solver(load_text(HEADER + LAYER, "v.yaml"), 0)
    r = solver.result()
    h = parse(r.hessians[0].expression, variables={"W", "x", "m", "n"})
    p = V.points(solver.graph, solver.problem, 0)[0]
    W, x = p.values["W"], p.values["x"]
    dims = {d: torch.tensor(float(v), dtype=torch.float64) for d, v in {"m": 2, "n": 3}.items()}
    ours = evaluate(h, {"W": W, "x": x, **dims})

    def loss(w):
        return torch.tanh(w @ x).sum()

    column_major = torch.autograd.functional.hessian(lambda v: loss(v.reshape(3, 2).T),
                                                     W.T.reshape(-1))
    row_major = torch.autograd.functional.hessian(lambda v: loss(v.reshape(2, 3)), W.reshape(-1))
    torch.testing.assert_close(ours, column_major, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(ours, row_major)


def test_a_two_layer_network_s_first_weights_have_a_checked_hessian():
    r = run("dims: {N: 4, d: 3, h: 5, k: 2}\ngiven: {X: [N, d], W1: [d, h], W2: [h, k], "
            "T: [N, k]}\nforward:\n  H: tanh(X @ W1)\n  Y: H @ W2\nloss:\n  L: 0.5*sum((Y - T)**2)\n"
            "wrt: [W1]\nhessians: [vec(W1), vec(W2)]\n")
    assert [h.shape for h in r.hessians] == ["(d·h)×(d·h)", "(h·k)×(h·k)"]
    assert r.passed and all(h.check.max_rel_error < 1e-10 for h in r.hessians)


def test_a_transposed_weight_matrix_is_refused_naming_the_commutation_matrix():
    with pytest.raises(InputError) as err:
        run("dims: {n: 3}\ngiven: {W: [n, n], x: [n]}\nloss:\n  L: sum(tanh(W.T @ x))\n"
            "wrt: [W]\nhessians: [vec(W)]\n")
    assert "commutation matrix" in str(err.value) and err.value.line == 8


@pytest.mark.parametrize(("listed", "message", "hint"), [
    ("[W]", "W is a matrix: its Hessian is taken through vec(W)", "hessians: [vec(W)]"),
    ("[vec(x)]", "x is not a matrix, so vec(x) is x itself", "hessians: [x]"),
    ("[vec(Q)]", "'Q' is not a given variable", None),
])
def test_the_listing_says_vec_for_a_matrix_and_only_for_a_matrix(listed, message, hint):
    with pytest.raises(InputError) as err:
        load_text(HEADER + LAYER.replace("[vec(W)]", listed), "v.yaml")
    assert message in str(err.value) and (err.value.line, err.value.column) == (8, 12)
    if hint:
        assert hint in err.value.hint


def test_a_hessian_vector_product_of_a_matrix_is_refused_pointing_at_vec():
    with pytest.raises(InputError) as err:
        run(LAYER.replace("hessians: [vec(W)]", "hvp: {W: V}").replace("x: [n]}", "x: [n], V: [m, n]}"))
    assert "hessians: [vec(W)]" in err.value.hint


def test_a_claim_may_be_keyed_vec_w_as_the_listing_is():
    r = run(LSQ + "hessian_claims:\n  vec(W): 2*kron(eye(k), X.T @ X)\n")
    assert r.claims[0].correct and r.claims[0].target == "∂²L/∂vec(W)²"
