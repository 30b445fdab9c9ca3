"""Algebraic normalisations of a derived matrix expression, for its display form only.

Each rewrite is a named, pure function from a tree to a tree that says one identity of the
algebra: `x**a/x**b = x**(a − b)`, `inv(inv(X)) = X`, `inv(M) @ M = I`, collecting like terms,
`relu(u)*step(u) = relu(u)`, `v**0 = 1` in a product, `sum(u*v) = u.T @ v`, a scalar pulled out of a matrix product.
None of them is trusted: `normalise` hands every candidate to a `check` (the solver's checks
it numerically against the input at sample points of the problem's own domain) and keeps a
rewrite only when the check says equal, so a wrong rewrite can make a form longer, never wrong.

The pasteable `expression` of a result never goes through here: it is the derivation as built.
Each rewrite has a property test (tests/test_rewrite.py) on random trees and random values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gradcli.expr.ast import Binary, Call, Name, Node, Num, Transpose, Unary
from gradcli.kinds.network import algebra as A


@dataclass(frozen=True)
class Rewrite:
    name: str
    identity: str  # what it says, in symbols
    apply: Callable[[Node], Node]  # one node (its children already rewritten) -> a node


def _bottom_up(node: Node, f: Callable[[Node], Node]) -> Node:
    """f applied to every subtree, children first; nodes without change are kept as they are."""
    if isinstance(node, A.Adjoint) or type(node) in (A.DimNum, Num) or isinstance(node, A.Eye | A.Ones):
        return f(node)
    if isinstance(node, Unary):
        inner = _bottom_up(node.operand, f)
        node = node if inner is node.operand else Unary(node.op, inner)
    elif isinstance(node, Transpose):
        inner = _bottom_up(node.operand, f)
        node = node if inner is node.operand else Transpose(inner)
    elif isinstance(node, Binary):
        left, right = _bottom_up(node.left, f), _bottom_up(node.right, f)
        if left is not node.left or right is not node.right:
            node = Binary(node.op, left, right)
    elif isinstance(node, Call):
        args = tuple(_bottom_up(a, f) for a in node.args)
        if any(a is not b for a, b in zip(args, node.args, strict=True)):
            node = type(node)(node.func, args, node.kwargs)
    return f(node)


# -- x**a * x / x**b = x**(a + 1 − b) -------------------------------------------------------

def _base_power(f: Node) -> tuple[Node, float]:
    if isinstance(f, Binary) and f.op == "**" and type(f.right) is Num and not isinstance(f, A.Ones):
        return f.left, float(f.right.value)
    return f, 1.0


def cancel_powers(node: Node) -> Node:
    """In a product of elementwise factors, equal bases add exponents (the divisor's subtract):
    3*norm(x)**2*x/norm(x) -> 3*norm(x)*x. A base left with exponent 0 is dropped."""
    if not (isinstance(node, Binary) and node.op in "*/"):
        return node
    m = A.monomial(node)
    factors = [(*_base_power(f), 1) for f in m.nums] + [(*_base_power(f), -1) for f in m.dens]
    exps: dict[Node, float] = {}
    for base, p, sign in factors:
        exps[base] = exps.get(base, 0.0) + sign * p
    if len(exps) == len(factors):
        return node  # no base repeats: nothing to cancel
    nums, dens = [], []
    for base, p in exps.items():
        if p > 0:
            nums.append(A.power(base, p))
        elif p < 0:
            dens.append(A.power(base, -p))
    return A.from_monomial(A.Monomial(m.c_num, m.c_den, nums, dens))


# -- inv(inv(X)) = X; inv(M) @ M = M @ inv(M) = I ----------------------------------------------

def _is_inv(node: Node) -> bool:
    return isinstance(node, Call) and node.func == "inv" and len(node.args) == 1 and not node.kwargs


def inverse_of_inverse(node: Node) -> Node:
    """inv(inv(X)) -> X."""
    if _is_inv(node) and _is_inv(node.args[0]):
        return node.args[0].args[0]
    return node


def _chain(node: Node) -> list[Node]:
    """The factors of a matrix-product chain, associativity forgotten: (A @ B) @ C -> [A, B, C]."""
    if isinstance(node, Binary) and node.op == "@":
        return _chain(node.left) + _chain(node.right)
    return [node]


def _inverse_pair(a: Node, b: Node) -> bool:
    """a @ b = I: inv(M) @ M, M @ inv(M), and their transposes inv(M).T @ M.T, M.T @ inv(M).T."""
    if isinstance(a, Transpose) and isinstance(b, Transpose):
        a, b = a.operand, b.operand
    return (_is_inv(a) and a.args[0] == b) or (_is_inv(b) and b.args[0] == a)


def cancel_inverse_pairs(node: Node) -> Node:
    """Adjacent M⁻¹ M in a product chain cancel: inv(X).T @ X.T @ A.T -> A.T."""
    if not (isinstance(node, Binary) and node.op == "@"):
        return node
    factors = _chain(node)
    out: list[Node] = []
    for f in factors:
        if out and _inverse_pair(out[-1], f):
            out.pop()
        else:
            out.append(f)
    if len(out) == len(factors) or not out:  # an empty chain would be I of unknown size
        return node
    result = out[0]
    for f in out[1:]:
        result = Binary("@", result, f)
    return result


# -- collect like terms ----------------------------------------------------------------------

def _terms(node: Node, sign: float = 1.0) -> list[tuple[float, Node | None]]:
    if isinstance(node, Binary) and node.op in "+-":
        return _terms(node.left, sign) + _terms(node.right, sign if node.op == "+" else -sign)
    if isinstance(node, Unary) and node.op == "-":
        return _terms(node.operand, -sign)
    c, rest = A.split(node)
    return [(sign * c, rest)]


def collect_like_terms(node: Node) -> Node:
    """Equal terms of a sum add their coefficients: 0.5*lam*w + 0.5*lam*w -> lam*w."""
    if not (isinstance(node, Binary) and node.op in "+-"):
        return node
    terms = _terms(node)
    coeffs: dict[Node | None, float] = {}
    for c, rest in terms:
        coeffs[rest] = coeffs.get(rest, 0.0) + c
    if len(coeffs) == len(terms):
        return node
    total: Node = A.ZERO
    for rest, c in coeffs.items():
        if c != 0:
            total = A.add(total, A.scale(c, rest))
    return node if A.is_zero(total) else total  # a bare 0 would lose the sum's shape


def _leading_minus(node: Node) -> bool:
    c, rest = A.split(node)
    return c < 0 and rest is not None


def positive_first(node: Node) -> Node:
    """-a + b -> b - a: a sum starts with a term that is not negated, as it is written by hand."""
    if isinstance(node, Binary) and node.op == "+" and _leading_minus(node.left) \
            and not _leading_minus(node.right):
        c, rest = A.split(node.left)
        return Binary("-", node.right, A.scale(-c, rest))
    return node


def common_coefficient(node: Node) -> Node:
    """c·a ± c·b -> (a ± b)/k where c = 1/k, k a whole number: -(Y/4) + 0.25*S -> (S - Y)/4."""
    if not (isinstance(node, Binary) and node.op in "+-"):
        return node
    terms = _terms(node)
    if any(rest is None for _, rest in terms):
        return node
    divisors = {r.right for _, r in terms if isinstance(r, Binary) and r.op == "/"}
    if len(divisors) == 1 and all(isinstance(r, Binary) and r.op == "/" for _, r in terms):
        d = divisors.pop()  # a/N - b/N -> (a - b)/N, N a named dim (or any one divisor)
        ordered = sorted(terms, key=lambda t: t[0] < 0)
        total: Node = A.ZERO
        for c, rest in ordered:
            part = A.scale(abs(c), rest.left)
            total = A.add(total, part) if c > 0 else A.sub(total, part)
        return Binary("/", total, d)
    sizes = {abs(c) for c, _ in terms}
    if len(sizes) != 1:
        return node
    k = 1 / sizes.pop()
    if k <= 1 or k != int(k) or k > 1e6:
        return node
    ordered = sorted(terms, key=lambda t: t[0] < 0)  # positive terms first, order kept otherwise
    total: Node = A.ZERO
    for c, rest in ordered:
        total = A.add(total, rest) if c > 0 else A.sub(total, rest)
    return Binary("/", total, A.num(k))


# -- relu(u)*step(u) = relu(u) ----------------------------------------------------------------

def relu_times_step(node: Node) -> Node:
    """relu(u) ⊙ step(u) = relu(u): step is 1 wherever relu is not 0 (also relu(u)**p·step(u))."""
    if not (isinstance(node, Binary) and node.op == "*"):
        return node
    m = A.monomial(node)
    relus = {_base_power(f)[0].args[0] for f in m.nums
             if isinstance(_base_power(f)[0], Call) and _base_power(f)[0].func == "relu"
             and _base_power(f)[1] > 0 and len(_base_power(f)[0].args) == 1}
    kept = [f for f in m.nums if not (isinstance(f, Call) and f.func == "step" and len(f.args) == 1
                                      and f.args[0] in relus)]
    if len(kept) == len(m.nums):
        return node
    return A.from_monomial(A.Monomial(m.c_num, m.c_den, kept, list(m.dens)))


# -- v**0 = 1 in a product ----------------------------------------------------------------------

def zero_power(node: Node) -> Node:
    """A factor v**0 (a matrix of ones, 𝟙) times other factors is dropped: G ⊙ 𝟙 = G. The check
    refuses it where 𝟙 alone gave the product its shape (a scalar times 𝟙 is a broadcast)."""
    if not (isinstance(node, Binary) and node.op in "*/"):
        return node
    m = A.monomial(node)
    kept = [f for f in m.nums if not _is_ones(f)]
    if len(kept) == len(m.nums) or not kept:
        return node
    return A.from_monomial(A.Monomial(m.c_num, m.c_den, kept, list(m.dens)))


def _is_ones(f: Node) -> bool:
    return isinstance(f, Binary) and f.op == "**" and type(f.right) is Num and f.right.value == 0


# -- a scalar factor out of a matrix product -----------------------------------------------------

def scalar_out_of_matmul(node: Node, is_scalar: Callable[[Node], bool] | None = None) -> Node:
    """X.T @ (c*A) -> c*(X.T @ A) and (c*A) @ B -> c*(A @ B), c a number, a dim or a scalar
    expression: printed once in front, as a course writes (1/N)·Xᵀ(P − Y)."""
    if not (isinstance(node, Binary) and node.op == "@") or is_scalar is None:
        return node
    c_factors: list[Node] = []
    sides = []
    coefficient = 1.0
    for side in (node.left, node.right):
        m = A.monomial(side)
        scalars = [f for f in m.nums if is_scalar(f)]
        below = [f for f in m.dens if is_scalar(f)]
        rest = A.Monomial(1.0, 1.0, [f for f in m.nums if not is_scalar(f)],
                          [f for f in m.dens if not is_scalar(f)])
        if not rest.nums and not rest.dens:
            return node  # a scalar operand: not a matrix product to rewrite
        coefficient *= m.c_num / m.c_den
        c_factors.append(A.Monomial(1.0, 1.0, scalars, below))
        sides.append(A.from_monomial(rest))
    if coefficient == 1 and not any(c.nums or c.dens for c in c_factors):
        return node
    c = A.Monomial(coefficient, 1.0, c_factors[0].nums + c_factors[1].nums,
                   c_factors[0].dens + c_factors[1].dens)
    return A.from_monomial(c.times(A.Monomial(nums=[Binary("@", sides[0], sides[1])])))


# -- diagonal matrices ---------------------------------------------------------------------------

def _is_diag(node: Node) -> bool:
    return (isinstance(node, Call) and node.func == "diag" and len(node.args) == 1
            and not node.kwargs and not isinstance(node, A.Eye))


def diag_product(node: Node) -> Node:
    """diag(c) @ R -> c*R: a diagonal matrix scales the rows (c a column, as diag's argument is)."""
    if isinstance(node, Binary) and node.op == "@" and _is_diag(node.left):
        return A.mul(node.left.args[0], node.right)
    return node


def outer_diagonal(node: Node) -> Node:
    """sum((u @ v.T)*I, dim=1) -> u*v: the diagonal of an outer product of two columns."""
    if not (isinstance(node, Call) and node.func == "sum" and len(node.args) == 1
            and len(node.kwargs) == 1 and node.kwargs[0][0] == "dim"
            and type(node.kwargs[0][1]) is Num and node.kwargs[0][1].value == 1):
        return node
    m = A.monomial(node.args[0])
    eyes = [f for f in m.nums if isinstance(f, A.Eye)]
    rest = [f for f in m.nums if not isinstance(f, A.Eye)]
    if len(eyes) != 1 or m.dens or len(rest) != 1:
        return node
    outer = rest[0]
    if not (isinstance(outer, Binary) and outer.op == "@" and isinstance(outer.right, Transpose)):
        return node
    return A.scale(m.c_num / m.c_den, A.mul(outer.left, outer.right.operand))


def inner_product(node: Node) -> Node:
    """sum(c·u ⊙ v) -> c·uᵀv and sum(u**2) -> uᵀu for columns u, v (or rows uᵀ, vᵀ): the sum
    of an elementwise product is the inner product a course writes. For matrices the shapes
    differ (uᵀv is not a scalar), and the check refuses the form."""
    if not (isinstance(node, Call) and node.func == "sum" and len(node.args) == 1 and not node.kwargs):
        return node
    m = A.monomial(node.args[0])
    factors = []
    for f in m.nums:
        base, p = _base_power(f)
        if p not in (1.0, 2.0) or isinstance(f, A.Ones):
            return node
        factors += [base] * int(p)
    if m.dens or len(factors) != 2:
        return node
    u, v = factors
    if isinstance(u, Transpose) and isinstance(v, Transpose):
        u, v = u.operand, v.operand
    elif isinstance(u, Transpose) or isinstance(v, Transpose):
        return node
    return A.scale(m.c_num / m.c_den, Binary("@", Transpose(u), v))


def _row_sum(node: Node, names: frozenset[str]) -> Node | None:
    """What sum(Y, dim=1) is (1, or c for sum(c·Y) and sum(Y/c)) for a Y whose rows are
    declared to sum to 1 (one-hot or distribution); None for any other node."""
    if not (isinstance(node, Call) and node.func == "sum" and len(node.args) == 1):
        return None
    dim, arg = node.kwarg("dim"), node.args[0]
    if not (isinstance(dim, Num) and dim.value == 1):
        return None
    if isinstance(arg, Name) and arg.id in names:
        return A.ONE
    if isinstance(arg, Binary) and arg.op in "*/" and isinstance(arg.left, Name) and \
            arg.left.id in names and isinstance(arg.right, Num):
        return arg.right if arg.op == "*" else A.div(A.ONE, arg.right)
    if isinstance(arg, Binary) and arg.op == "*" and isinstance(arg.right, Name) and \
            arg.right.id in names and isinstance(arg.left, Num):
        return arg.left
    return None


def rows_sum_to_one(names: frozenset[str]) -> Callable[[Node], Node]:
    """u ⊙ sum(Y, dim=1) = u where the file declares Y's rows one-hot or a distribution: the
    declaration, never a guess, is what makes `softmax(Z) - Y` the textbook form."""
    def apply(node: Node) -> Node:
        if isinstance(node, Binary) and node.op == "*":
            left, right = _row_sum(node.left, names), _row_sum(node.right, names)
            if left is not None or right is not None:
                return A.mul(left or node.left, right or node.right)
        return node
    return apply


def rewrites(is_scalar: Callable[[Node], bool] | None = None,
             row_stochastic: frozenset[str] = frozenset()) -> tuple[Rewrite, ...]:
    """The normalisations, in the order they are tried; `row_stochastic` names the givens
    declared one-hot or distribution rows."""
    return (
        Rewrite("rows sum to one", "u ⊙ sum(Y, dim=1) = u (Y's rows declared to sum to 1)",
                rows_sum_to_one(row_stochastic)),
        Rewrite("inverse of an inverse", "inv(inv(X)) = X", inverse_of_inverse),
        Rewrite("inverse pair", "M⁻¹ M = M M⁻¹ = I", cancel_inverse_pairs),
        Rewrite("cancel powers", "x^a ⊙ x^b ⊘ x^c = x^(a+b−c)", cancel_powers),
        Rewrite("relu times step", "relu(u) ⊙ step(u) = relu(u)", relu_times_step),
        Rewrite("ones factor", "G ⊙ 𝟙 = G (𝟙 = v**0)", zero_power),
        Rewrite("diagonal product", "diag(c) R = c ⊙ R", diag_product),
        Rewrite("diagonal of an outer product", "sum((u vᵀ) ⊙ I, dim=1) = u ⊙ v", outer_diagonal),
        Rewrite("inner product", "sum(u ⊙ v) = uᵀv for columns u, v", inner_product),
        Rewrite("collect like terms", "a·T + b·T = (a + b)·T", collect_like_terms),
        Rewrite("common coefficient", "a/k ± b/k = (a ± b)/k", common_coefficient),
        Rewrite("positive term first", "−a + b = b − a", positive_first),
        Rewrite("scalar out of a product", "A (c·B) = c·(A B)",
                lambda n: scalar_out_of_matmul(n, is_scalar)),
    )


def everywhere(rule: Rewrite, node: Node) -> Node:
    return _bottom_up(node, rule.apply)


def normalise(node: Node, check: Callable[[Node, Node], bool],
              rules: tuple[Rewrite, ...] | None = None, rounds: int = 4) -> tuple[Node, tuple[str, ...]]:
    """`node` with every rewrite that `check(before, after)` accepts, and their names.

    Each rule is applied to the whole tree at once, then checked; a rule the check refuses is
    left out (and the next tried), so the result is equal to `node` wherever `check` looks."""
    rules = rules if rules is not None else rewrites()
    applied: list[str] = []
    for _ in range(rounds):
        changed = False
        for rule in rules:
            after = everywhere(rule, node)
            if after != node and check(node, after):
                node, changed = after, True
                if rule.name not in applied:
                    applied.append(rule.name)
        if not changed:
            break
    return node, tuple(applied)
