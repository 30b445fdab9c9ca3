"""The expression language: what it accepts, what it refuses (with the column), and its bounds."""

from __future__ import annotations

import time

import pytest

from gradcli.errors import InputError
from gradcli.expr.ast import Binary, Call, Name, Num, Transpose, Unary
from gradcli.expr.parse import parse


def refused(text: str, **kw) -> InputError:
    with pytest.raises(InputError) as info:
        parse(text, **kw)
    return info.value


def test_precedence_follows_python():
    tree = parse("-x**2 + 3*y")
    assert tree == Binary("+", Unary("-", Binary("**", Name("x"), Num(2, "2"))),
                          Binary("*", Num(3, "3"), Name("y")))


def test_power_is_right_associative():
    assert parse("a**b**c") == Binary("**", Name("a"), Binary("**", Name("b"), Name("c")))


def test_transpose_and_matmul_build_an_outer_product():
    assert parse("d @ x.T") == Binary("@", Name("d"), Transpose(Name("x")))


def test_catalog_call_with_keyword_option():
    tree = parse("sum(X, dim=0)")
    assert isinstance(tree, Call) and tree.func == "sum" and tree.kwarg("dim").value == 0


def test_caret_is_refused_with_a_hint_to_write_double_star():
    err = refused("x^2")
    assert err.column == 2 and "**" in (err.hint or "")


def test_a_positional_parameter_that_is_not_a_number_is_refused_at_its_column():
    # leaky_relu(x, a) was accepted here and crashed the evaluator (exit 3)
    err = refused("leaky_relu(x, a)")
    assert err.message == "leaky_relu's slope (argument 2) must be a number" and err.column == 15
    assert len(parse("leaky_relu(x, 0.2)").args) == 2


def test_misspelled_function_gets_did_you_mean():
    err = refused("sigmod(x)")
    assert err.column == 1 and "sigmoid" in (err.hint or "")


def test_undeclared_name_is_refused_at_its_column():
    err = refused("W @ x + c", variables={"W", "x", "b"})
    assert err.column == 9


@pytest.mark.parametrize("text", [
    "__import__('os')", "x.__class__", "open('f')", "lambda: 1", "x[0]", "[x for x in y]",
    "'a'", "x.shape", "f(x)(y)", "x if y else z", "x; y",
])
def test_anything_outside_the_language_is_refused(text):
    err = refused(text)
    assert err.column is not None and err.column >= 1


@pytest.mark.parametrize("text", ["9**9**9", "1e999999999", "10**1000", "x**100000"])
def test_huge_numbers_and_exponents_are_refused_instantly(text):
    started = time.perf_counter()
    refused(text)
    assert time.perf_counter() - started < 0.5


def test_deep_nesting_is_refused_not_a_recursion_error():
    refused("(" * 500 + "x" + ")" * 500)


def test_very_long_input_is_refused():
    refused("x+" * 5000 + "x")


def test_pi_and_e_are_constants_unless_declared():
    assert parse("pi").id == "pi"
    assert parse("e", variables={"e"}) == Name("e")
