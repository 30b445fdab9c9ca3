"""The gradient side of worksheet question 1: q1_grad.yaml, a network problem."""

from __future__ import annotations

from pathlib import Path

Q1_GRAD = Path(__file__).parent.parent / "gradcli" / "bundled" / "q1_grad.yaml"


def test_q1_gradient_is_derived_checked_and_the_closed_form_claim_is_correct():
    from gradcli.api import solve
    from gradcli.problems.load import load_problem

    problem = load_problem(Q1_GRAD)
    assert (problem.kind, problem.wrt) == ("network", ("X",))
    result = solve(problem, seed=0)
    assert result.passed
    [claim] = result.claims
    assert (claim.target, claim.correct) == ("X", True)
    assert claim.expression == "(C - mean(C, dim=0) - Y * sum(C * Y, dim=0)) / r"


def test_q1_gradient_closed_form_matches_autograd_independently():
    import torch

    gen = torch.Generator().manual_seed(3)
    X = torch.randn(5, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    C = torch.randn(5, 3, dtype=torch.float64, generator=gen)
    Xc = X - X.sum(0, keepdim=True) / 5
    r = torch.linalg.vector_norm(Xc, dim=0, keepdim=True)
    Y = Xc / r
    (C * Y).sum().backward()
    closed = (C - C.sum(0, keepdim=True) / 5 - Y * (C * Y).sum(0, keepdim=True)) / r
    torch.testing.assert_close(closed.detach(), X.grad, rtol=1e-12, atol=1e-14)
