"""Claims judged across the catalog, one group at a time: a correct answer written in a form
that is not the derived one is accepted, and the classic wrong answer of each group is
refused with a counterexample (and the engine's hint where it recognises the mistake)."""

from __future__ import annotations

from gradcli.api import solve
from gradcli.problems.model import NetworkProblem


def judged(dims, given, forward, loss, name, *claims: str, kinds=None):
    """The verdicts of `claims` (each a claim of ∂L/∂name), one problem per claim."""
    out = []
    for text in claims:
        p = NetworkProblem(name="t", dims=dims, given=given, forward=tuple(forward),
                           loss=("L", loss), wrt=(name,), claims={name: text},
                           given_kinds=kinds or {})
        r = solve(p)
        assert all(c.passed for c in r.checks), [c for c in r.checks if not c.passed]
        out.append(r.claims[0])
    return out


def assert_wrong_with_counterexample(v):
    assert not v.correct, v
    ce = v.counterexample
    assert ce is not None and ce.where and ce.where != "shape", v
    assert abs(ce.claimed - ce.true) > 1e-6, ce


# -- linear algebra ---------------------------------------------------------------------------

def test_logdet_gradient_is_the_inverse_transposed_and_the_plain_inverse_is_caught_as_transposed():
    # X is sampled near the identity but not symmetric, so X⁻¹ and X⁻ᵀ differ.
    right, wrong = judged({"n": 3}, {"X": ("n", "n")}, [], "logdet(X)", "X",
                          "inv(X.T)", "inv(X)")
    assert right.correct, right
    assert_wrong_with_counterexample(wrong)
    assert wrong.hint.startswith("transposed: the claim is (∂L/∂X)ᵀ"), wrong.hint
    assert wrong.hint.endswith("∂L/∂X = X⁻ᵀ"), wrong.hint


def test_trace_of_a_product_gradient_written_as_the_transposed_product_is_accepted():
    given = {"A": ("n", "n"), "X": ("n", "n"), "B": ("n", "n")}
    right, wrong = judged({"n": 3}, given, [], "trace(A @ X @ B) + logdet(X)", "X",
                          "(B @ A).T + inv(X).T", "B @ A + inv(X).T")
    assert right.correct, right
    assert_wrong_with_counterexample(wrong)


# -- losses and the softmax family ------------------------------------------------------------

LINEAR = ({"N": 3, "d": 2, "m": 2}, {"X": ("N", "d"), "W": ("d", "m"), "T": ("N", "m")},
          [("Y", "X @ W")])


def test_mse_gradient_as_residual_over_a_third_is_right_and_without_the_2_is_off_by_one_half():
    # mse averages over N·m = 6 entries: 2(Y − T)/6 = (Y − T)/3
    dims, given, forward = LINEAR
    right, wrong = judged(dims, given, forward, "mse(Y, T)", "W",
                          "-(X.T @ (T - Y)) / 3", "X.T @ (Y - T) / 6")
    assert right.correct, right
    assert_wrong_with_counterexample(wrong)
    assert wrong.hint.startswith("off by a constant factor: the claim is 0.5 × ∂L/∂W"), wrong.hint


def test_cross_entropy_gradient_as_normalised_exponentials_is_right_and_without_1_over_N_is_caught():
    dims, given = {"N": 4, "C": 3}, {"Z": ("N", "C"), "Y": ("N", "C")}
    right, wrong = judged(dims, given, [], "cross_entropy(Z, Y)", "Z",
                          "(exp(Z) / sum(exp(Z), dim=1) - Y) / 4", "softmax(Z) - Y",
                          kinds={"Y": ("onehot", None)})
    assert right.correct, right
    assert_wrong_with_counterexample(wrong)
    assert wrong.hint.startswith("off by a constant factor: the claim is 4 × ∂L/∂Z"), wrong.hint


def test_nll_over_log_softmax_is_judged_with_targets_whose_rows_sum_to_one():
    # the identity (softmax(Z) − Y)/N needs rows of Y summing to 1: the file declares it
    dims, given = {"N": 4, "C": 3}, {"Z": ("N", "C"), "Y": ("N", "C")}
    right, wrong = judged(dims, given, [("Q", "log_softmax(Z, dim=1)")], "-sum(Y * Q) / 4", "Z",
                          "(exp(Q) - Y) / 4", "-Y / 4", kinds={"Y": ("distribution", None)})
    assert right.correct, right
    assert_wrong_with_counterexample(wrong)


def test_nll_over_log_softmax_with_an_undeclared_target_refuses_the_rows_sum_to_one_form():
    # issue 13: Y was guessed to be a distribution from how it was used, so this passed
    dims, given = {"N": 4, "C": 3}, {"Z": ("N", "C"), "Y": ("N", "C")}
    wrong, right = judged(dims, given, [("Q", "log_softmax(Z, dim=1)")], "-sum(Y * Q) / 4", "Z",
                          "(exp(Q) - Y) / 4", "(exp(Q) * sum(Y, dim=1) - Y) / 4")
    assert_wrong_with_counterexample(wrong)
    assert right.correct, right


# -- layers -----------------------------------------------------------------------------------

NORM = ({"N": 4, "m": 3}, {"X": ("N", "m"), "g": (1, "m"), "b": (1, "m"), "T": ("N", "m")},
        [("H", "batch_norm(X, g, b)")], "0.5 * sum((H - T)**2)")
SIGMA = "sqrt(mean((X - mean(X, dim=0))**2, dim=0) + 1e-5)"
XHAT = "((H - b) / g)"  # X̂ recovered from the layer's output


def test_batch_norm_input_gradient_in_the_textbook_rearrangement_is_right_and_the_naive_one_wrong():
    # dX = γ/(Nσ) ⊙ (N·dH − Σ dH − X̂ ⊙ Σ (dH ⊙ X̂)), sums over the batch, dH = H − T
    dims, given, forward, loss = NORM
    textbook = (f"g / (4 * {SIGMA}) * (4 * (H - T) - sum(H - T, dim=0) "
                f"- {XHAT} * sum((H - T) * {XHAT}, dim=0))")
    right, wrong = judged(dims, given, forward, loss, "X", textbook, f"g * (H - T) / {SIGMA}")
    assert right.correct, right
    assert_wrong_with_counterexample(wrong)
    assert wrong.hint.startswith("batch_norm differentiated as if its batch mean and σ were "
                                 "constants (γ ⊙ G ⊘ σ)"), wrong.hint


def test_layer_norm_naive_input_gradient_is_named_as_holding_the_row_statistics_constant():
    dims, given, _, loss = NORM
    sigma = "sqrt(mean((X - mean(X, dim=1))**2, dim=1) + 1e-5)"
    (wrong,) = judged(dims, given, [("H", "layer_norm(X, g, b)")], loss, "X",
                      f"(H - T) * g / {sigma}")
    assert_wrong_with_counterexample(wrong)
    assert wrong.hint.startswith("layer_norm differentiated as if its row mean and σ were constants")


def test_the_huber_step_names_both_branches(cli):
    r = cli("check", "problems/net_huber.yaml", "--format", "plain")
    assert r.exit_code == 0, r.output
    assert ("Huber loss: ∂P = (P − T)/count where |P − T| ≤ δ (quadratic branch), "
            "δ·sign(P − T)/count beyond (linear branch): together δ·hardtanh((P − T)/δ)/count"
            in r.stdout)
