"""The display rewrites (kinds/network/rewrite.py): each one, on random trees and random values,
gives a tree that evaluates equal to its input; and the guard keeps a wrong rewrite out."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcli.expr.ast import Binary, Call, Name, Node, Num, Transpose, Unary, walk
from gradcli.expr.parse import parse
from gradcli.expr.unparse import unparse
from gradcli.kinds.network import rewrite as R
from gradcli.kinds.network.algebra import DimNum
from gradcli.verify.evaluate import evaluate

N = 4
SCALARS = {"lam", "c"}


def values(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    return {"x": r(N, 1), "u": r(N, 1), "v": r(N, 1),
            "p": 0.5 + torch.rand(N, 1, generator=g, dtype=torch.float64),  # positive
            "A": r(N, N), "B": r(N, N),
            "X": torch.eye(N, dtype=torch.float64) + r(N, N) / (2 * N ** 0.5),  # invertible
            "Y": torch.eye(N, dtype=torch.float64) + r(N, N) / (2 * N ** 0.5),
            "lam": r(()), "c": r(())}


def equal(a: Node, b: Node, seed: int) -> bool:
    """Equal entries. A rewrite may drop a factor that only carried the shape (p/p -> 1): the
    value is the same broadcast, and the solver's guard, which also insists on the same shape,
    is what decides whether such a form is shown."""
    env = values(seed)
    x, y = evaluate(a, env), evaluate(b, env)
    try:
        y = torch.broadcast_to(y, x.shape)
    except RuntimeError:
        return False
    return torch.allclose(x, y, rtol=1e-9, atol=1e-9)


def is_scalar(node: Node) -> bool:
    return isinstance(node, Num) or (isinstance(node, Name) and node.id in SCALARS) or \
        (isinstance(node, Call) and node.func == "norm")


def rule(name: str) -> R.Rewrite:
    return next(r for r in R.rewrites(is_scalar) if r.name == name)


seeds = st.integers(0, 2**31 - 1)


def product(factors: list[tuple[Node, int]], coefficient: float) -> Node:
    """c · Π f_i^{e_i}, a negative exponent written as a division."""
    out: Node = Num(coefficient)
    for f, e in factors:
        term = f if abs(e) == 1 else Binary("**", f, Num(abs(e)))
        out = Binary("*" if e > 0 else "/", out, term)
    return out


# -- x**a/x**b ---------------------------------------------------------------------------

POSITIVE = [Name("p"), Call("norm", (Name("x"),)), Call("exp", (Name("u"),)), Call("sigmoid", (Name("v"),))]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(range(len(POSITIVE))),
                          st.integers(-3, 3).filter(lambda e: e != 0)), min_size=1, max_size=6),
       st.sampled_from([1.0, 3.0, -0.5, 2.5]), seeds)
def test_cancel_powers_keeps_the_value(picks, coefficient, seed):
    before = product([(POSITIVE[i], e) for i, e in picks], coefficient)
    after = R.everywhere(rule("cancel powers"), before)
    assert equal(before, after, seed), (unparse(before), unparse(after))


def test_cancel_powers_gives_the_textbook_norm_gradient():
    before = parse("3*norm(x)**2*x/norm(x)", variables={"x"})
    assert unparse(R.everywhere(rule("cancel powers"), before)) == "3*norm(x)*x"


# -- inv(inv(X)) and M⁻¹ M ---------------------------------------------------------------------

def inverted(node: Node, times: int) -> Node:
    for _ in range(times):
        node = Call("inv", (node,))
    return node


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 5), st.sampled_from(["X", "Y"]), seeds)
def test_inverse_of_inverse_keeps_the_value(times, name, seed):
    before = Binary("@", Name("A"), inverted(Name(name), times))
    after = R.everywhere(rule("inverse of an inverse"), before)
    assert equal(before, after, seed)
    assert sum(isinstance(n, Call) for n in walk(after)) == times % 2


CHAIN = [Name("A"), Name("X"), Call("inv", (Name("X"),)), Transpose(Name("X")),
         Transpose(Call("inv", (Name("X"),))), Name("Y"), Call("inv", (Name("Y"),))]


def associate(factors: list[Node], cuts: list[int]) -> Node:
    """One of the ways to parenthesise a chain, chosen by `cuts`."""
    if len(factors) == 1:
        return factors[0]
    k = 1 + (cuts[0] % (len(factors) - 1)) if cuts else 1
    rest = cuts[1:]
    return Binary("@", associate(factors[:k], rest), associate(factors[k:], rest))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(range(len(CHAIN))), min_size=2, max_size=7),
       st.lists(st.integers(0, 10), max_size=8), seeds)
def test_inverse_pairs_keep_the_value(picks, cuts, seed):
    before = associate([CHAIN[i] for i in picks], cuts)
    after = R.everywhere(rule("inverse pair"), before)
    assert equal(before, after, seed), (unparse(before), unparse(after))


def test_the_trace_of_a_double_inverse_has_the_gradient_a_transposed():
    text = "inv(X).T @ (inv(inv(X)).T @ A.T @ inv(inv(X)).T) @ inv(X).T"
    node = parse(text, variables={"A", "X"})
    for name in ("inverse of an inverse", "inverse pair"):
        node = R.everywhere(rule(name), node)
    assert unparse(node) == "A.T"


# -- like terms -----------------------------------------------------------------------------

TERMS = [Name("x"), Binary("*", Name("lam"), Name("x")), Binary("@", Name("A"), Name("x")),
         Call("sigmoid", (Name("u"),))]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(range(len(TERMS))), st.sampled_from([0.5, 1.0, 2.0, -1.0, -0.25]),
                          st.booleans()), min_size=2, max_size=6), seeds)
def test_collect_like_terms_keeps_the_value(terms, seed):
    before: Node = Binary("*", Num(terms[0][1]), TERMS[terms[0][0]])
    for i, c, minus in terms[1:]:
        term = Binary("*", Num(c), TERMS[i])
        before = Binary("-" if minus else "+", before, term)
    after = R.everywhere(rule("collect like terms"), before)
    assert equal(before, after, seed), (unparse(before), unparse(after))


def test_half_lambda_w_twice_is_lambda_w():
    node = parse("0.5*lam*x + 0.5*lam*x", variables={"lam", "x"})
    assert unparse(R.everywhere(rule("collect like terms"), node)) == "lam*x"


# -- relu(u)*step(u), 𝟙 factors ----------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(st.integers(1, 3), st.sampled_from(["u", "v"]), st.booleans(), seeds)
def test_relu_times_step_keeps_the_value(p, arg, other_first, seed):
    relu = Call("relu", (Name("u"),))
    factors = [relu if p == 1 else Binary("**", relu, Num(p)), Call("step", (Name(arg),)), Name("x")]
    if other_first:
        factors.reverse()
    before = Binary("*", Binary("*", factors[0], factors[1]), factors[2])
    after = R.everywhere(rule("relu times step"), before)
    assert equal(before, after, seed), (unparse(before), unparse(after))
    assert ("step" in unparse(after)) == (arg != "u")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["x", "u", "p"]), st.sampled_from(["x", "v"]), st.sampled_from(["*", "/"]), seeds)
def test_ones_factor_keeps_the_value(base, other, op, seed):
    ones = Binary("**", Name(base), Num(0))
    before = Binary(op, Binary("*", Name(other), ones), Name("p"))
    after = R.everywhere(rule("ones factor"), before)
    assert equal(before, after, seed)
    assert "**0" not in unparse(after)


# -- a scalar out of a product --------------------------------------------------------------------

SCALAR_FACTORS = [Num(2), Name("lam"), Name("c"), Call("norm", (Name("x"),)), DimNum(5, symbol="N")]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(range(len(SCALAR_FACTORS))), st.booleans(), st.booleans()),
                max_size=4), st.booleans(), seeds)
def test_scalar_out_of_a_product_keeps_the_value(scalars, transposed, seed):
    left: Node = Transpose(Name("A")) if transposed else Name("A")
    right: Node = Binary("-", Name("X"), Name("Y"))
    for i, on_left, divide in scalars:
        f = SCALAR_FACTORS[i]
        if on_left:
            left = Binary("/" if divide else "*", left, f)
        else:
            right = Binary("/" if divide else "*", right, f)
    before = Binary("@", left, right)
    after = R.everywhere(rule("scalar out of a product"), before)
    assert equal(before, after, seed), (unparse(before), unparse(after))


def test_the_count_of_a_mean_moves_in_front_of_the_product():
    node = Binary("@", Transpose(Name("A")), Binary("/", Binary("-", Name("X"), Name("Y")),
                                                    DimNum(5, symbol="N")))
    after = R.everywhere(rule("scalar out of a product"), node)
    assert after == Binary("/", Binary("@", Transpose(Name("A")), Binary("-", Name("X"), Name("Y"))),
                           DimNum(5, symbol="N"))


# -- the guard ----------------------------------------------------------------------------------

def test_a_wrong_rewrite_never_passes_the_guard():
    wrong = R.Rewrite("drop the second factor", "a ⊙ b = a (wrong)",
                      lambda n: n.left if isinstance(n, Binary) and n.op == "*" else n)
    node = parse("relu(u)*x", variables={"u", "x"})
    out, applied = R.normalise(node, lambda a, b: equal(a, b, 0), (wrong,))
    assert out == node and applied == ()


def test_normalise_applies_every_accepted_rewrite_and_names_them():
    node = parse("0.5*lam*x + 0.5*lam*x + inv(inv(X)).T @ (2*(A @ x))", variables={"lam", "x", "X", "A"})
    out, applied = R.normalise(node, lambda a, b: equal(a, b, 1), R.rewrites(is_scalar))
    assert unparse(out) == "lam*x + 2*(X.T @ (A @ x))"
    assert applied == ("inverse of an inverse", "collect like terms", "scalar out of a product")


@pytest.mark.parametrize("rewrite", R.rewrites(is_scalar), ids=lambda r: r.name)
def test_every_rewrite_leaves_a_plain_name_alone(rewrite):
    assert R.everywhere(rewrite, Name("x")) == Name("x")
    assert R.everywhere(rewrite, Unary("-", Name("x"))) == Unary("-", Name("x"))


# -- diagonal matrices -------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["x", "u", "p"]), st.sampled_from([Name("A"), Name("v"), Transpose(Name("B"))]), seeds)
def test_diagonal_product_keeps_the_value(c, right, seed):
    before = Binary("@", Call("diag", (Name(c),)), right)
    after = R.everywhere(rule("diagonal product"), before)
    assert equal(before, after, seed), (unparse(before), unparse(after))
    assert "diag" not in unparse(after)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["x", "u", "p"]), st.sampled_from(["x", "v"]), st.sampled_from([1.0, 0.5, -2.0]), seeds)
def test_diagonal_of_an_outer_product_keeps_the_value(u, v, c, seed):
    from gradcli.kinds.network.algebra import eye

    outer = Binary("@", Name(u), Transpose(Name(v)))
    before = Call("sum", (Binary("*", Binary("*", Num(c), outer), eye(N)),),
                  (("dim", Num(1)),))
    after = R.everywhere(rule("diagonal of an outer product"), before)
    assert equal(before, after, seed), (unparse(before), unparse(after))
    assert "@" not in unparse(after)


# -- the shape of a sum ----------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(range(len(TERMS))), st.booleans()), min_size=2, max_size=5),
       st.sampled_from([0.25, 0.5, 1 / 3, 0.3, 2.0]), seeds)
def test_common_coefficient_keeps_the_value(terms, c, seed):
    before: Node = Binary("*", Num(-c if terms[0][1] else c), TERMS[terms[0][0]])
    for i, minus in terms[1:]:
        before = Binary("-" if minus else "+", before, Binary("*", Num(c), TERMS[i]))
    after = R.everywhere(rule("common coefficient"), before)
    assert equal(before, after, seed), (unparse(before), unparse(after))


def test_a_quarter_of_each_term_is_the_sum_over_four():
    node = parse("-(Y/4) + 0.25*softmax(Z, dim=1)*sum(Y, dim=1)", variables={"Y", "Z"})
    after = R.everywhere(rule("common coefficient"), node)
    assert unparse(after) == "(softmax(Z, dim=1)*sum(Y, dim=1) - Y)/4"


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(range(len(TERMS))), st.sampled_from(range(len(TERMS))),
       st.sampled_from([1.0, 2.0, 0.5]), seeds)
def test_positive_term_first_keeps_the_value(i, j, c, seed):
    before = Binary("+", Unary("-", Binary("*", Num(c), TERMS[i])), TERMS[j])
    after = R.everywhere(rule("positive term first"), before)
    assert equal(before, after, seed), (unparse(before), unparse(after))
    assert not unparse(after).startswith("-")


# -- rows declared to sum to one -----------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.sampled_from([Num(1), Num(4), DimNum(4, symbol="N")]), st.booleans(),
       st.integers(0, 2**31 - 1))
def test_rows_sum_to_one_keeps_the_value_for_one_hot_rows(divisor, product_first, seed):
    gen = torch.Generator().manual_seed(seed)
    Y = torch.nn.functional.one_hot(torch.randint(0, 3, (5,), generator=gen), 3).double()
    Z = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    row_sum = Call("sum", (Binary("/", Name("Y"), divisor),), (("dim", Num(1)),))
    soft = Call("softmax", (Name("Z"),), (("dim", Num(1)),))
    before = Binary("*", row_sum, soft) if product_first else Binary("*", soft, row_sum)
    after = R.everywhere(R.rewrites(is_scalar, frozenset({"Y"}))[0], before)
    assert "sum" not in unparse(after)
    env = {"Y": Y, "Z": Z}
    torch.testing.assert_close(evaluate(after, env), evaluate(before, env), rtol=1e-12, atol=0)


def test_rows_sum_to_one_needs_the_declaration():
    # an undeclared Y is any real matrix: sum(Y, dim=1) stays (the rewrite is never a guess)
    node = parse("softmax(Z, dim=1)*sum(Y, dim=1)", variables={"Y", "Z"})
    assert R.everywhere(R.rewrites(is_scalar)[0], node) == node


def test_a_sum_over_a_named_dim_is_one_fraction():
    node = Binary("-", Binary("/", Name("S"), DimNum(4, symbol="N")),
                  Binary("/", Name("Y"), DimNum(4, symbol="N")))
    assert unparse(R.everywhere(rule("common coefficient"), node)) == "(S - Y)/4"


# -- sum(u ⊙ v) = uᵀv --------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["x", "u", "v", "A"]), st.sampled_from(["x", "u", "v", "B"]), st.booleans(),
       st.booleans(), st.sampled_from([1.0, 0.5, -2.0]), seeds)
def test_inner_product_keeps_the_value_or_is_refused(u, v, rows, square, c, seed):
    a, b = (Transpose(Name(u)), Transpose(Name(v))) if rows else (Name(u), Name(v))
    before = Call("sum", (Binary("*", Num(c), Binary("**", a, Num(2)) if square else Binary("*", a, b)),))
    after = R.everywhere(rule("inner product"), before)
    env = values(seed)
    x, y = evaluate(before, env), evaluate(after, env)
    same = x.numel() == y.numel() and torch.allclose(x.reshape(-1), y.reshape(-1), rtol=1e-9, atol=1e-9)
    matrices = ({u, v} if not square else {u}) & {"A", "B"}
    if matrices:  # uᵀv of matrices is a matrix, not the scalar sum: the guard must refuse it
        assert not same
    else:  # a 1×1 product for the scalar sum: the same number
        assert same, (unparse(before), unparse(after))
        assert "sum" not in unparse(after) and "@" in unparse(after)


def test_ridge_penalty_gradient_is_half_w_transposed_w():
    before = parse("0.5*sum(w.T*w.T)")
    assert unparse(R.everywhere(rule("inner product"), before)) == "0.5*(w.T @ w)"
