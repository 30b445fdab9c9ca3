"""kinds/network/algebra.py: the sum of two terms whose `*` factors are the same in another
order is collected into one term (`*` is elementwise, so it commutes), and stays equal."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcli.expr.ast import Binary
from gradcli.expr.parse import parse
from gradcli.expr.unparse import unparse
from gradcli.kinds.network import algebra as A
from gradcli.verify.evaluate import evaluate

FACTORS = ("x", "u", "lam", "c", "exp(x)")


def values() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    return {"x": torch.randn(4, 1, generator=g, dtype=torch.float64),
            "u": torch.randn(4, 1, generator=g, dtype=torch.float64),
            "lam": torch.randn((), generator=g, dtype=torch.float64),
            "c": torch.randn((), generator=g, dtype=torch.float64)}


def test_ridge_penalty_paths_collect_to_one_term():
    # ∂L/∂w printed (w*lam + lam*w)/2 + X.T @ r: two paths of ½λwᵀw not collected
    total = A.add(parse("0.5*w*lam"), parse("0.5*lam*w"))
    assert unparse(total) == "w*lam"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(FACTORS), min_size=1, max_size=4), st.randoms(),
       st.integers(-3, 3), st.integers(-3, 3))
def test_terms_with_permuted_factors_collect_into_one_equal_term(factors, rnd, a, b):
    other = list(factors)
    rnd.shuffle(other)
    left, right = parse(f"{a}*" + "*".join(factors)), parse(f"{b}*" + "*".join(other))
    total = A.add(left, right)
    at = values()
    expected = evaluate(left, at) + evaluate(right, at)
    assert torch.allclose(evaluate(total, at), expected, rtol=1e-12, atol=1e-12)
    assert not (isinstance(total, Binary) and total.op in ("+", "-")), unparse(total)  # one term
