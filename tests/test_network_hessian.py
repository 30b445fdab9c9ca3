"""Hessians of network losses: derived in matrix form by differentiating the gradient again,
checked against torch.autograd.functional.hessian, claims judged against torch's Hessian."""

from __future__ import annotations

import json

import pytest

from gradcli.api import solve
from gradcli.errors import InputError
from gradcli.problems.load import load_text

HEADER = "format: 1\nkind: network\n"


def run(body: str):
    return solve(load_text(HEADER + body, "h.yaml"))


QUADRATIC = "dims: {n: 4}\ngiven: {A: [n, n], x: [n]}\nloss:\n  L: x.T @ A @ x\nwrt: [x]\nhessians: [x]\n"


def test_a_quadratic_forms_hessian_is_a_plus_a_transposed():
    r = run(QUADRATIC)
    (h,) = r.hessians
    assert (h.label, h.expression, h.shape, h.symmetric) == ("∂²L/∂x²", "A + A.T", "n×n", True)
    assert r.passed and h.check.points == 4 * 16


def test_least_squares_hessian_is_constant():
    r = solve(load_text(open("problems/net_least_squares_hessian.yaml").read(), "lsq.yaml"))
    assert r.hessians[0].expression == "2*(X.T @ X)"
    assert r.passed and all(v.correct for v in r.claims)


def test_logistic_regression_hessian_has_the_textbook_diag_form():
    r = solve(load_text(open("problems/net_logistic_hessian.yaml").read(), "lr.yaml"))
    h = r.hessians[0]
    assert "diag(sigmoid(X @ w)*(1 - sigmoid(X @ w)))" in h.expression
    assert [s.rule for s in h.steps][:2] == ["product rule over @", "diag() for elementwise factors"]
    assert r.passed


def test_a_wrong_hessian_claim_is_wrong_with_the_entry_and_point():
    r = run(QUADRATIC + "hessian_claims:\n  x: 2*A\n")
    (v,) = r.claims
    assert not v.correct and not r.passed
    assert v.counterexample.where.startswith("(") and v.counterexample.inputs["point"]


def test_the_check_is_against_torch_not_against_our_own_derivation():
    # A nonlinear layer: the Hessian has second-derivative terms (tanh″) that a wrong
    # forward-mode rule would drop; torch's Hessian is the referee.
    r = run("dims: {n: 3, m: 2}\ngiven: {W: [m, n], x: [n], t: [m]}\nforward:\n  h: tanh(W @ x)\n"
            "loss:\n  L: 0.5*sum((h - t)**2)\nwrt: [x]\nhessians: [x]\n")
    assert r.passed, r.checks
    assert r.hessians[0].check.reference == "torch.autograd.functional.hessian"
    assert r.hessians[0].check.max_rel_error < 1e-9


def test_the_hessian_of_a_matrix_variable_is_refused_with_a_hint():
    with pytest.raises(InputError) as err:
        run("dims: {n: 3}\ngiven: {W: [n, n], x: [n]}\nloss:\n  L: sum(tanh(W @ x))\nwrt: [W]\n"
            "hessians: [W]\n")
    assert "vec(W)" in err.value.hint


def test_hessians_must_name_a_given_variable():
    with pytest.raises(InputError) as err:
        load_text(HEADER + QUADRATIC.replace("hessians: [x]", "hessians: [z]"), "h.yaml")
    assert "'z' is not a given variable" in str(err.value)


def test_a_hessian_claim_for_a_variable_not_listed_is_refused():
    with pytest.raises(InputError) as err:
        load_text(HEADER + QUADRATIC.replace("hessians: [x]\n", "") + "hessian_claims:\n  x: A\n",
                  "h.yaml")
    assert "not in hessians" in str(err.value)


def test_json_has_the_hessian_with_its_shape_symmetry_and_check(cli, tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text(HEADER + QUADRATIC)
    r = cli("check", str(path), "-f", "json")
    assert r.exit_code == 0, r.output
    h = json.loads(r.stdout)["hessians"]["x"]
    assert (h["expression"], h["shape"], h["symmetric"]) == ("A + A.T", "n×n", True)
    assert h["check"]["passed"] is True


HVP = ("dims: {N: 8, d: D}\ngiven: {X: [N, d], y: [N], w: [d], v: [d]}\n"
       "loss:\n  L: bce_with_logits(X @ w, y)\nwrt: [w]\nhvp: {w: v}\n")


def test_a_hessian_vector_product_is_derived_without_forming_the_hessian():
    r = run(HVP.replace("D", "5"))
    (hv,) = r.hessians
    assert hv.direction == "v" and hv.shape == "d×1"
    assert hv.expression == "X.T @ ((diag(sigmoid(X @ w)*(1 - sigmoid(X @ w))) @ (X @ v))/8)"
    assert "eye" not in hv.expression and "**0" not in hv.expression  # no d×d identity
    assert hv.check.reference == "torch.autograd.functional.hvp" and r.passed


def test_the_product_is_the_same_expression_at_any_width():
    # symbolic work is flat in the width: d = 3 and d = 1024 give the same H·v
    assert run(HVP.replace("D", "3")).hessians[0].expression == \
        run(HVP.replace("D", "1024")).hessians[0].expression


@pytest.mark.parametrize(("direction", "message"), [
    ("y", "hvp: y is N×1 but w is d×1"), ("q", "'q' is not a given variable")])
def test_a_direction_of_the_wrong_shape_or_unknown_is_bad_input(direction, message):
    with pytest.raises(InputError) as err:
        run(HVP.replace("D", "5").replace("hvp: {w: v}", f"hvp: {{w: {direction}}}"))
    assert message in str(err.value)


def test_a_product_of_two_columns_w_t_x_is_differentiated_by_the_product_rule():
    # d(wᵀx) = xᵀ dw: a transposed column that depends on w, inside a product uᵀv
    r = run("dims: {n: 3}\ngiven: {w: [n], x: [n]}\nloss:\n  L: (w.T @ x)**2\nwrt: [w]\n"
            "hessians: [w]\n")
    assert r.hessians[0].expression == "2*(x @ x.T)" and r.passed, r.checks
