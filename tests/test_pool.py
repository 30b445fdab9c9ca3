"""Pooling forward and backward (worksheet question 6), each answer checked against torch here.

The reference in every test is computed in the test itself: torch.nn.functional's pooling in
float64 and autograd, so a bug in gradcli's own checks cannot hide a wrong answer.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcli.errors import InputError
from gradcli.expr.parse import parse
from gradcli.kinds.pooling.solve import solve
from gradcli.problems.grid import read
from gradcli.problems.model import PoolingProblem
from gradcli.render.blocks import Grid, Text
from gradcli.render.layouts.pooling import document, show
from gradcli.verify.evaluate import evaluate

WORKSHEET = read("2 2 7 3; 9 4 6 1; 8 5 2 4; 3 1 2 6")


def torch_pool(x, mode="avg", kernel=2, stride=None, padding=0, count_include_pad=True,
               upstream=None):
    """(output, dL/dx) by torch for one grid."""
    t = torch.tensor(x, dtype=torch.float64)[None, None].requires_grad_(True)
    if mode == "max":
        y = F.max_pool2d(t, kernel, stride, padding)
    else:
        y = F.avg_pool2d(t, kernel, stride, padding, count_include_pad=count_include_pad)
    g = torch.ones_like(y) if upstream is None else torch.tensor(upstream, dtype=torch.float64)[None, None]
    y.backward(g)
    return y[0, 0].detach().tolist(), t.grad[0, 0].tolist()


def flat(g):
    return [v for row in g for v in row]


def formulas_at(result, upstream):
    """Evaluate the printed formulas (parsed back from text) at a numeric upstream."""
    names = [n for row in result.names for n in row]
    ow = len(result.names[0])
    values = {n: torch.tensor(upstream[i // ow][i % ow], dtype=torch.float64)
              for i, n in enumerate(names)}
    return [[float(evaluate(parse(f, variables=names), values)) for f in row]
            for row in result.formulas]


def test_worksheet_forward_is_the_window_means():
    r = solve(PoolingProblem(input=WORKSHEET))
    assert r.output == ((4.25, 4.25), (4.25, 3.5))
    assert [list(row) for row in r.output] == torch_pool(WORKSHEET)[0]
    assert r.passed


def test_worksheet_backward_spreads_each_upstream_gradient_over_its_window_as_g_over_4():
    r = solve(PoolingProblem(input=WORKSHEET))
    assert r.formulas == (("g11/4", "g11/4", "g12/4", "g12/4"),
                          ("g11/4", "g11/4", "g12/4", "g12/4"),
                          ("g21/4", "g21/4", "g22/4", "g22/4"),
                          ("g21/4", "g21/4", "g22/4", "g22/4"))
    upstream = ((0.3, -1.7), (2.5, 0.125))
    assert formulas_at(r, upstream) == torch_pool(WORKSHEET, upstream=upstream)[1]


def test_worksheet_backward_with_a_numeric_upstream_matches_torch_autograd():
    upstream = ((1.0, 2.0), (3.0, 4.0))
    r = solve(PoolingProblem(input=WORKSHEET, upstream=upstream))
    assert r.grad_input == ((0.25, 0.25, 0.5, 0.5), (0.25, 0.25, 0.5, 0.5),
                            (0.75, 0.75, 1.0, 1.0), (0.75, 0.75, 1.0, 1.0))
    assert [list(row) for row in r.grad_input] == torch_pool(WORKSHEET, upstream=upstream)[1]
    assert [c.passed for c in r.checks] == [True, True, True]


def test_max_pooling_routes_each_gradient_to_the_window_maximum_and_ties_follow_torch():
    x = read("1 5 5 0; 5 2 1 1; 0 0 3 3; 3 3 0 0")  # ties in three windows
    upstream = ((1.5, -2.0), (4.0, 8.0))
    r = solve(PoolingProblem(input=x, mode="max", upstream=upstream))
    out, grad = torch_pool(x, "max", upstream=upstream)
    assert [list(row) for row in r.output] == out == [[5.0, 5.0], [3.0, 3.0]]
    assert [list(row) for row in r.grad_input] == grad
    assert r.formulas[0] == ("0", "g11", "g12", "0")
    assert [(w.argmax, w.tied) for w in r.windows if w.tied] == [
        ((0, 1), ((0, 1), (1, 0))), ((3, 0), ((3, 0), (3, 1))), ((2, 2), ((2, 2), (2, 3)))]
    assert r.passed


def test_max_pooling_ties_are_named_in_the_output():
    r = solve(PoolingProblem(input=read("1 5; 5 2"), mode="max"))
    texts = [b.text for b in document(r) if isinstance(b, Text) and "Tie" in b.text]
    assert texts == ["Tie in window y11: the maximum 5 is at (1, 2), (2, 1); following torch, "
                     "g11 goes only to the first in row-major order, (1, 2)."]


def test_overlapping_windows_accumulate_their_shares_as_torch_does():
    upstream = ((1.0, -2.0, 0.5), (3.0, 0.25, -1.0), (2.0, 1.0, 4.0))
    r = solve(PoolingProblem(input=WORKSHEET, kernel=2, stride=1, upstream=upstream))
    assert r.formulas[1][1] == "(g11 + g12 + g21 + g22)/4"
    assert r.formulas[0][1] == "(g11 + g12)/4"
    grad = torch_pool(WORKSHEET, kernel=2, stride=1, upstream=upstream)[1]
    assert flat(r.grad_input) == pytest.approx(flat(grad), rel=1e-15, abs=1e-15)
    assert flat(formulas_at(r, upstream)) == pytest.approx(flat(grad), rel=1e-15, abs=1e-15)


def test_overlapping_max_windows_can_send_several_gradients_to_one_cell():
    x = read("1 2 3; 4 9 5; 6 7 8")
    r = solve(PoolingProblem(input=x, mode="max", kernel=2, stride=1))
    assert r.formulas[1][1] == "g11 + g12 + g21 + g22"
    upstream = ((1.0, 2.0), (3.0, 4.0))
    assert formulas_at(r, upstream) == torch_pool(x, "max", 2, 1, upstream=upstream)[1]


@pytest.mark.parametrize("count_include_pad", [True, False])
def test_padding_follows_torch_count_include_pad(count_include_pad):
    upstream = ((1.0, -2.5), (0.5, 3.0))
    r = solve(PoolingProblem(input=WORKSHEET, kernel=3, stride=2, padding=1,
                             count_include_pad=count_include_pad, upstream=upstream))
    out, grad = torch_pool(WORKSHEET, kernel=3, stride=2, padding=1,
                           count_include_pad=count_include_pad, upstream=upstream)
    assert flat(r.output) == pytest.approx(flat(out), rel=1e-15)
    assert flat(r.grad_input) == pytest.approx(flat(grad), rel=1e-15, abs=1e-15)
    assert flat(formulas_at(r, upstream)) == pytest.approx(flat(grad), rel=1e-15, abs=1e-15)
    assert r.formulas[0][0] == ("g11/9" if count_include_pad else "g11/4")
    assert r.passed


def test_max_pooling_with_padding_never_sends_gradient_to_the_padding():
    x = read("-1 -2; -3 -4")  # all negative: a zero pad would win, torch pads with -inf
    r = solve(PoolingProblem(input=x, mode="max", kernel=2, stride=1, padding=1))
    assert [list(row) for row in r.output] == torch_pool(x, "max", 2, 1, 1)[0]
    assert formulas_at(r, ((1.0,) * 3,) * 3) == torch_pool(x, "max", 2, 1, 1)[1]


def test_cells_outside_every_window_get_zero_gradient():
    x = read("1 2 3; 4 5 6; 7 8 9")
    r = solve(PoolingProblem(input=x, kernel=2, stride=2))
    assert r.formulas == (("g11/4", "g11/4", "0"), ("g11/4", "g11/4", "0"), ("0", "0", "0"))
    assert r.uncovered() == [(0, 2), (1, 2), (2, 0), (2, 1), (2, 2)]


def test_a_correct_claim_in_fractions_is_judged_correct():
    claim = read("1/4 1/4 1/2 1/2; 1/4 1/4 1/2 1/2; 3/4 3/4 1 1; 3/4 3/4 1 1")
    r = solve(PoolingProblem(input=WORKSHEET, upstream=((1, 2), (3, 4)), claim=claim))
    assert r.claims[0].correct and r.passed and r.wrong_cells == ()


def test_a_wrong_claim_names_the_wrong_cells_and_the_likely_mistake():
    truth = torch_pool(WORKSHEET)[1]  # upstream of all ones: every cell 1/4
    claim = [row[:] for row in truth]
    claim[1][2], claim[3][0] = 1.0, 0.0
    r = solve(PoolingProblem(input=WORKSHEET, claim=tuple(map(tuple, claim))))
    assert not r.passed
    assert r.wrong_cells == ((1, 2), (3, 0))
    v = r.claims[0]
    assert (v.counterexample.claimed, v.counterexample.true, v.counterexample.where) == (1.0, 0.25, "(2, 3)")
    copied = solve(PoolingProblem(input=WORKSHEET, claim=((1.0,) * 4,) * 4)).claims[0]
    assert copied.hint == ("each upstream value was copied to its window without dividing by "
                           "the window size (2×2 = 4)")


def test_a_claim_that_splits_a_max_tie_is_told_about_torch_tie_convention():
    r = solve(PoolingProblem(input=read("1 5; 5 2"), mode="max", claim=read("0 1; 1 0")))
    assert r.wrong_cells == ((1, 0),)
    assert r.claims[0].hint.startswith("ties: torch sends the whole upstream value to the first")


def test_a_claim_that_picks_another_tied_maximum_is_told_it_is_a_valid_subgradient():
    r = solve(PoolingProblem(input=read("1 1; 1 1"), mode="max", claim=read("0 0; 0 1")))
    assert r.wrong_cells == ((0, 0), (1, 1))
    assert r.claims[0].hint.startswith("every wrong cell is in a tied window: the claim sends the "
                                       "upstream value to another of the tied maxima")


@pytest.mark.parametrize("changes, message", [
    ({"kernel": 5}, "kernel 5×5 is larger than the 4×4 input grid"),
    ({"kernel": 3, "padding": 2}, "padding 2 is more than half the kernel size 3; torch refuses it"),
    ({"stride": 0}, "stride must be at least 1, got 0"),
    ({"padding": -1}, "padding must be at least 0, got -1"),
    ({"kernel": 0}, "kernel must be at least 1, got 0"),
    ({"mode": "min"}, "mode: expected avg or max, got 'min'"),
    ({"upstream": ((1.0,),)}, "upstream is 1×1 but the output is 2×2"),
    ({"claim": ((1.0, 2.0),)}, "claim is 1×2 but the input is 4×4"),
])
def test_problems_torch_would_refuse_raise_input_errors(changes, message):
    with pytest.raises(InputError) as err:
        solve(PoolingProblem(input=WORKSHEET, **changes))
    assert err.value.message == message


def test_symbolic_gradient_grid_carries_latex_and_window_colours():
    r = solve(PoolingProblem(input=WORKSHEET))
    grids = {b.title: b for b in document(r) if isinstance(b, Grid)}
    dx = grids["dL/dx (4×4)"]
    assert dx.latex_cells[0][0] == r"\frac{g_{11}}{4}"
    assert dx.groups == ((0, 0, 1, 1), (0, 0, 1, 1), (2, 2, 3, 3), (2, 2, 3, 3))
    assert grids["input x (4×4)"].groups == dx.groups
    assert grids["upstream dL/dy (2×2)"].groups == ((0, 1), (2, 3))


def test_long_decimals_are_shown_as_fractions_that_read_back():
    assert show(17 / 9) == "17/9"
    assert show(4.25) == "4.25"
    assert show(0.1 + 0.2) == "0.3"  # float noise is not shown
    assert show(2.5000000000000004) == "2.5"
    assert show(35 / 36 - 1e-16) == "35/36"
    assert show(3.141592653589793) == "3.14159265359"
    assert read(show(17 / 9))[0][0] == 17 / 9


def test_two_digit_output_indices_use_unambiguous_names():
    x = tuple(tuple(float(i * 10 + j) for j in range(10)) for i in range(11))
    r = solve(PoolingProblem(input=x, kernel=1))
    assert r.names[0][:2] == ("g1_1", "g1_2") and r.names[10][9] == "g11_10"
    assert r.passed


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 4), st.integers(1, 4),
       st.integers(0, 2), st.sampled_from(["avg", "max"]), st.booleans(), st.integers(0, 2**31))
def test_any_valid_pooling_matches_torch_autograd(h, w, k, s, p, mode, include_pad, seed):
    if 2 * p > k or k > min(h, w) + 2 * p:
        return
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(-3, 4, (h, w), generator=gen).double().tolist()  # small ints: many ties
    x = tuple(map(tuple, x))
    probe = solve(PoolingProblem(input=x, mode=mode, kernel=k, stride=s, padding=p,
                                 count_include_pad=include_pad))
    oh, ow = len(probe.output), len(probe.output[0])
    upstream = tuple(map(tuple, torch.randn((oh, ow), generator=gen, dtype=torch.float64).tolist()))
    r = solve(PoolingProblem(input=x, mode=mode, kernel=k, stride=s, padding=p,
                             count_include_pad=include_pad, upstream=upstream), seed=seed)
    out, grad = torch_pool(x, mode, k, s, p, include_pad, upstream)
    assert flat(r.output) == pytest.approx(flat(out), rel=1e-14, abs=1e-14)
    assert flat(r.grad_input) == pytest.approx(flat(grad), rel=1e-14, abs=1e-14)
    assert r.passed
