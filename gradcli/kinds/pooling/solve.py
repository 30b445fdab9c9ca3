"""`kind: pooling`: the forward pass, the symbolic backward pass, its checks and the claim.

The arithmetic lives in `windows.py` (exact fractions, no torch); the two numeric routes in
`verify.py`. Both import `windows`; this module sits on top and imports them both.
"""

from __future__ import annotations

from dataclasses import replace

from gradcli.kinds.pooling import verify
from gradcli.kinds.pooling.verify import judge
from gradcli.kinds.pooling.windows import (
    PoolingResult,
    apply,
    check_shape,
    coefficients,
    default_name,
    formula,
    upstream_names,
    validate,
    windows,
)
from gradcli.problems.grid import Grid, shape
from gradcli.problems.model import PoolingProblem


def solve(problem: PoolingProblem, *, seed: int = 0) -> PoolingResult:
    k, s, p = validate(problem)
    x, mode = problem.input, problem.mode
    h, w = shape(x)
    wins = windows(x, mode, k, s, p, problem.count_include_pad)
    oh, ow = wins[-1].out[0] + 1, wins[-1].out[1] + 1
    check_shape(problem, "upstream", problem.upstream, (oh, ow), "the output")
    check_shape(problem, "claim", problem.claim, (h, w), "the input")
    terms = coefficients(h, w, wins, mode)
    names = upstream_names(oh, ow)
    flat = [n for row in names for n in row]
    output = tuple(tuple(wins[i * ow + j].value for j in range(ow)) for i in range(oh))
    base = PoolingResult(
        kind="pooling", name=problem.name or default_name(mode, k, s, p), seed=seed, mode=mode,
        kernel=k, stride=s, padding=p, count_include_pad=problem.count_include_pad, input=x,
        output=output, windows=wins, names=names, terms=terms,
        formulas=tuple(tuple(formula(t, flat) for t in row) for row in terms),
        latex=tuple(tuple(formula(t, flat, latex=True) for t in row) for row in terms),
        upstream=problem.upstream,
        grad_input=apply(terms, problem.upstream, ow) if problem.upstream else None)
    return _judge(replace(base, checks=verify.checks(base, seed)), problem.claim)



def _judge(result: PoolingResult, claim: Grid | None) -> PoolingResult:
    if claim is None:
        return result
    verdict, wrong, upstream, expected = judge(result, claim)
    return replace(result, claim=claim, claims=(verdict,), wrong_cells=wrong,
                   claim_upstream=upstream, claim_expected=expected)

