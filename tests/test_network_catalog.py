"""kind: network across the catalog: linear algebra, softmax and losses, normalisation,
convolution and pooling (the last two partly in index notation)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gradcli.api import solve
from gradcli.problems.model import NetworkProblem

BUNDLED = Path(__file__).resolve().parent.parent / "gradcli" / "bundled"


def net(dims, given, forward, loss, wrt, **kw) -> NetworkProblem:
    return NetworkProblem(name="t", dims=dims, given=given, forward=tuple(forward),
                          loss=("L", loss), wrt=tuple(wrt), **kw)


def grads(problem: NetworkProblem) -> dict[str, str]:
    r = solve(problem)
    assert r.passed, [c for c in r.checks if not c.passed]
    return {g.name: g.expression for g in r.gradients}


@pytest.mark.parametrize(("loss", "wrt", "expected"), [
    ("x.T @ A @ x", "x", "A @ x + A.T @ x"),
    ("x.T @ A @ x", "A", "x @ x.T"),
    ("logdet(A)", "A", "inv(A).T"),
    ("det(A)", "A", "det(A)*inv(A).T"),
    ("trace(A @ B)", "A", "B.T"),
    ("norm(x)", "x", "x/norm(x)"),
    ("sum(A * diag(x))", "x", "sum(A*eye(n), dim=1)"),
])
def test_linear_algebra_gradients_in_closed_form(loss, wrt, expected):
    p = net({"n": 3}, {"x": ("n",), "A": ("n", "n"), "B": ("n", "n")}, [], loss, [wrt])
    assert grads(p)[wrt] == expected


def test_inverse_sends_minus_inverse_transposed_sandwich():
    p = net({"n": 3}, {"A": ("n", "n"), "G": ("n", "n")}, [("B", "inv(A)")], "sum(G * B)", ["A"])
    assert grads(p)["A"] == "-(B.T @ G @ B.T)"


@pytest.mark.parametrize(("loss", "expected"), [
    # y is not declared a distribution, so the sum of its entries stays (issue 13)
    ("cross_entropy(z, y)", "softmax(z)*sum(y) - y"),
    ('cross_entropy(z, y, reduction="sum")', "softmax(z)*sum(y) - y"),
    ("mse(z, y)", "2*(z - y)/4"),
    ('mse(z, y, reduction="sum")', "2*(z - y)"),
    ("l1(z, y)", "sign(z - y)/4"),
    ("bce_with_logits(z, y)", "(sigmoid(z) - y)/4"),
    ("huber(z, y)", "hardtanh(z - y)/4"),
])
def test_losses_send_their_textbook_gradients(loss, expected):
    p = net({"C": 4}, {"z": ("C",), "y": ("C",)}, [], loss, ["z"])
    assert grads(p)["z"] == expected


def test_cross_entropy_over_rows_divides_by_N_not_by_all_entries():
    p = net({"N": 3, "C": 4}, {"Z": ("N", "C"), "Y": ("N", "C")}, [], "cross_entropy(Z, Y)", ["Z"],
            given_kinds={"Y": ("onehot", None)})
    r = solve(p)
    assert r.passed
    assert (r.gradients[0].expression, r.gradients[0].pretty_expanded) == \
        ("(softmax(Z) - Y)/3", "(softmax(Z) − Y)/N")


def test_sigmoid_then_bce_cancels_to_p_minus_t_over_n():
    p = net({"n": 4}, {"z": ("n",), "t": ("n",)}, [("p", "sigmoid(z)")], "bce(p, t)", ["z", "p"])
    g = grads(p)
    assert g["z"] == "(p - t)/4"
    assert g["p"] == "(p - t)/(p*(1 - p)*4)"


def test_softmax_and_log_softmax_jacobian_vector_products():
    p = net({"n": 4}, {"z": ("n",), "t": ("n",)}, [("s", "softmax(z)"), ("q", "log_softmax(z)")],
            "sum(t * s) + sum(t * q)", ["z"])
    assert grads(p)["z"] == "t - s*sum(t, dim=0) + s*(t - sum(t*s, dim=0))"


@pytest.mark.parametrize("fn", ["layer_norm", "batch_norm"])
def test_normalisations_verify_and_name_x_hat_and_sigma(fn):
    p = net({"N": 4, "m": 3}, {"X": ("N", "m"), "g": (1, "m"), "b": ("m",)},
            [("H", f"{fn}(X, g, b)")], "sum(H**3)", ["X", "g", "b"])
    r = solve(p)
    assert r.passed
    assert [s.symbol for s in r.symbols] == ["σ", "X̂"]
    g = {x.name: x for x in r.gradients}
    dim = 1 if fn == "layer_norm" else 0
    assert g["X"].pretty == (f"(3·H² ⊙ g − 3·mean(H² ⊙ g, dim={dim}) − 3·X̂ ⊙ "
                             f"mean(H² ⊙ g ⊙ X̂, dim={dim})) ⊘ σ")
    assert g["b"].expression == "3*sum(H**2, dim=0).T"  # b was declared as a column [m]


def test_conv2d_kernel_gradient_is_a_valid_cross_correlation():
    p = net({"H": 5}, {"X": ("H", "H"), "K": (2, 2), "T": ("H-1" and 4, 4)},
            [("Y", "conv2d(X, K)")], "0.5*sum((Y - T)**2)", ["K"])
    assert grads(p)["K"] == "conv2d(X, Y - T)"


def test_conv_input_gradient_is_index_notation_checked_by_finite_differences():
    p = net({"n": 6}, {"x": ("n",), "w": (3,), "t": (4,)}, [("y", "conv1d(x, w)")],
            "0.5*sum((y - t)**2)", ["x", "w"])
    r = solve(p)
    assert r.passed
    g = {x.name: x for x in r.gradients}
    assert g["w"].expression == "conv1d(x, y - t)"
    assert g["x"].expression == ""
    assert g["x"].pretty == "∂L/∂x"
    assert r.symbols[0].pretty.startswith("∂L/∂x[i] = Σⱼ G[i−j]·w[j] with G = y − t")
    check = next(c for c in r.checks if c.what.startswith("∂L/∂x"))
    assert check.reference == "central finite differences of the loss (every entry)"
    assert check.max_rel_error < 1e-6


def test_pooling_gradient_in_index_notation_and_a_wrong_claim_is_still_judged():
    p = net({}, {"X": (4, 4)}, [("P", "avg_pool2d(X, 2, 2)")], "0.5*sum(P**2)", ["X"],
            claims={"X": "X/4"})
    r = solve(p)
    assert all(c.passed for c in r.checks)
    assert r.gradients[0].pretty_expanded == "∂L/∂X"
    assert "Σ G[w]/4 over the 2×2 windows w (stride 2) that contain (i, j)" in r.symbols[0].pretty
    v = r.claims[0]
    assert not v.correct and v.counterexample is not None


def test_pooling_claim_that_is_right_is_accepted():
    # every cell of a 2×2 window gets P/4 where P is the window's mean: mean of the window / 4
    p = net({}, {"X": (2, 2)}, [("P", "avg_pool2d(X, 2, 2)")], "sum(P)", ["X"],
            claims={"X": "0.25 + 0*X"})
    assert solve(p).passed


def test_index_form_gradient_json_has_no_expression_but_an_index_form(cli):
    r = cli("check", str(BUNDLED / "net_conv_pool.yaml"), "--format", "json")
    assert r.exit_code == 0, r.output
    x = json.loads(r.stdout)["gradients"]["X"]
    assert x["expression"] is None and x["index_form"] == "∂L/∂X"
    assert x["check"]["reference"].startswith("central finite differences")


def test_a_negative_constant_over_a_count_is_built_without_recursing():
    p = net({"N": 2, "C": 3}, {"Z": ("N", "C"), "Y": ("N", "C")}, [("Q", "log_softmax(Z, dim=1)")],
            "-sum(Y * Q) / 4", ["Q"])
    assert grads(p)["Q"] == "-(Y/4)"


def test_conv1d_kernel_claim_has_the_kernel_shape_n_minus_output_plus_1():
    p = net({"n": 8, "k": 3}, {"x": ("n",), "w": ("k",), "t": (6,)}, [("y", "conv1d(x, w)")],
            "0.5*sum((y - t)**2)", ["w"], claims={"w": "conv1d(x, y - t)"})
    r = solve(p)
    assert r.passed, r.claims
    assert r.lines[0].shape == "(n-k+1)×1"


def test_a_worked_out_length_matches_a_declared_dim_of_the_same_size():
    # conv1d(relu(x), g) has length n-4+1 = 3, the declared k: the user never named n-3, so
    # sizes decide (the claim was judged the wrong shape, and a target [m] with m = 6 refused).
    p = net({"n": 6, "k": 3}, {"x": ("n",), "w": ("k",), "g": (4,)}, [],
            "g.T @ conv1d(relu(x), w)", ["w", "x"], claims={"w": "conv1d(relu(x), g)"})
    assert solve(p).passed
    p = net({"n": 8, "k": 3, "m": 6}, {"x": ("n",), "w": ("k",), "t": ("m",)},
            [("y", "conv1d(x, w)")], "0.5*sum((y - t)**2)", ["w"])
    assert solve(p).passed


def test_two_declared_dims_of_the_same_size_stay_different_axes_and_the_message_says_so():
    from gradcli.errors import InputError

    p = net({"n": 3, "m": 3}, {"x": ("n",), "t": ("m",)}, [], "0.5*sum((x - t)**2)", ["x"])
    with pytest.raises(InputError) as caught:
        solve(p)
    assert caught.value.message.endswith(
        "n and m are different dims (both 3 here; declare one name if they are the same axis)")


def test_a_cross_entropy_target_used_transposed_and_not_declared_is_any_real_row():
    # b920a47 guessed y was a distribution down its columns; nothing is guessed now, and the
    # derived gradient holds for any y, so it passes at points where y does not sum to 1
    p = net({"h": 5, "C": 3}, {"a": ("h",), "y": ("C",), "W": ("C", "h")}, [("z", "W @ a")],
            "cross_entropy(z.T, y.T)", ["z", "W"], values={"y": [0, 1, 0]})
    r = solve(p)
    assert r.passed, r.checks
    assert not any("distribution" in n for n in r.notes)


def test_a_hand_written_cross_entropy_with_an_undeclared_target_refuses_p_minus_y():
    # issue 13: y was guessed to be a distribution, so the claim p - y passed
    p = net({"C": 4}, {"z": ("C",), "y": ("C",)}, [("p", "softmax(z)")], "-sum(y * log(p))",
            ["z"], claims={"z": "p - y"})
    r = solve(p)
    assert all(c.passed for c in r.checks) and not r.claims[0].correct


def test_a_hand_written_cross_entropy_with_a_declared_distribution_accepts_p_minus_y():
    p = net({"C": 4}, {"z": (1, "C"), "y": (1, "C")}, [("p", "softmax(z)")], "-sum(y * log(p))",
            ["z"], claims={"z": "p - y"}, given_kinds={"y": ("distribution", None)})
    r = solve(p)
    assert r.passed and r.claims[0].correct
    assert "random values: y is drawn as rows of probabilities summing to 1 (declared " \
           "distribution: rows)" in r.notes


def test_tied_maxima_share_the_gradient_as_torch_does():
    # 1 - step(max(x) - x) gave each tied entry all of G: FAIL at the file's values [1, 3, 3]
    p = net({"n": 3}, {"x": ("n",)}, [], "max(x)", ["x"], values={"x": [1, 3, 3]})
    assert solve(p).passed
    p = net({"N": 3, "m": 4}, {"X": ("N", "m"), "v": ("N",)}, [("h", "max(X, dim=1)")],
            "v.T @ h", ["X"], values={"X": [[1, 2, 2, 0], [0, 0, 0, 0], [5, 1, 2, 3]]})
    r = solve(p)
    assert r.passed
    assert r.gradients[0].expression == "v*(1 - step(h - X))/sum(1 - step(h - X), dim=1)"


def test_max_pooling_at_tied_values_is_named_not_differentiable_instead_of_failing():
    p = net({}, {"X": (4, 4), "V": (2, 2)}, [], "sum(max_pool2d(X, 2, 2) * V)", ["X"],
            values={"X": [[1, 1, 0, 0], [1, 1, 0, 0], [2, 3, 4, 4], [3, 1, 4, 4]]})
    check = solve(p).checks[0]
    assert check.passed
    assert any("not differentiable at (1, 1)" in n and "the file's values" in n for n in check.notes)


def test_a_wrong_gradient_at_a_smooth_point_is_still_a_failure_of_the_difference_check():
    from gradcli.kinds.network import verify as V

    p = net({}, {"X": (4, 4), "V": (2, 2)}, [], "sum(max_pool2d(X, 2, 2) * V)", ["X"],
            values={"X": [[1, 2, 0, 5], [3, 4, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]})
    from gradcli.kinds.network.graph import build

    graph = build(p)
    point = V.points(graph, p, seed=0)[0]
    truth, _ = V.autograd(graph, point, ["X"])
    tally = V.DifferenceCheck(graph, "X", "∂L/∂X", 0)
    tally.add(point, truth["X"] * 1.5)  # no kink anywhere: a wrong value must fail
    assert not tally.result().passed


def test_hardsigmoid_in_a_layer_passes_with_torchs_float32_sixth_named():
    # torch's backward multiplies by float32(1/6): 3e-8 off, which failed rtol 1e-9
    p = net({"n": 4}, {"z": ("n",), "v": ("n",)}, [("a", "hardsigmoid(z)")], "v.T @ a", ["z"],
            claims={"z": "v * step(3 - abs(z)) / 6"})
    r = solve(p)
    assert r.passed and r.claims[0].correct
    assert r.checks[0].notes[0] == ("tolerance: float64 autograd, loosened (rtol 1e-07, atol "
                                    "1e-07), per entry")
    assert any("1/6 rounded to float32" in n for n in r.checks[0].notes)


def test_diag_is_its_own_transpose_so_two_paths_merge():
    p = net({"N": 3}, {"r": ("N",), "c": ("N",)}, [], "0.5 * r.T @ diag(c) @ r", ["r", "c"])
    g = grads(p)
    assert g["r"] == "diag(c) @ r"
    assert g["c"] == "0.5*sum((r @ r.T)*eye(N), dim=1)"


def test_a_constant_divisor_stays_a_divisor():
    p = net({"m": 3}, {"a": ("m",), "M": ("m",), "v": ("m",)}, [("h", "a * M / (1 - 0.25)")],
            "sum(v * h)", ["a"])
    assert grads(p)["a"] == "v*M/0.75"


def test_a_user_variable_named_G_renames_the_rules_upstream():
    p = net({"m": 3}, {"z": ("m",), "G": ("m",)}, [("h", "relu(z)")], "sum(G * h)", ["z"])
    r = solve(p)
    assert r.passed
    relu = next(s for s in r.steps if s.rule == "elementwise relu")
    assert relu.formula == "∂u = U ⊙ relu′(u)"
    assert "In each rule, U is the upstream" in r.layout
    plain = net({"m": 3}, {"z": ("m",), "t": ("m",)}, [("h", "relu(z)")], "sum(t * h)", ["z"])
    assert "In each rule, G is the upstream" in solve(plain).layout
