"""One package per kind of problem, each living by the same rule (docs/ARCHITECTURE.md).

`<kind>/solve.py` has `solve(problem, *, seed) -> result`; `api.SOLVERS` maps kinds to it.
A kind's package imports the shared layers below it (verify, problems, expr, catalog) and
never another kind's package.
"""
