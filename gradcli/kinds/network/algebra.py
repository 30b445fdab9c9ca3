"""Building derived matrix expressions, with a few local simplifications as they are built.

Gradient expressions are ordinary `gradcli.expr.ast` trees, so they print with
`expr.unparse` (pasteable as claims) and evaluate with `verify.evaluate`. The constructors
here fold what hand derivations fold: `x*1`, `0 + x`, `(xᵀ)ᵀ`, `0.5*2`, `x**1`, `--x`, and
keep Hadamard products left-associated so they print as `(y - t)*y*(1 - y)`.

Three node kinds exist only inside derivations:
- `Adjoint`: ∂L/∂v (δ) as one symbol, so the steps read `δ xᵀ`; `expand` substitutes it
  before anything is printed as text or evaluated.
- `DimNum`: a count such as N (a mean's 1/N) that prints as its dimension name in course
  notation and as its number in the expression language.
- `Ones` and `Eye`: 𝟙 (written x**0) and I (written eye(N)).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from gradcli.expr.ast import Binary, Call, Name, Node, Num, Str, Transpose, Unary
from gradcli.expr.unparse import unparse


@dataclass(frozen=True)
class Adjoint(Name):
    symbol: str = ""  # course notation: δ, ∂L/∂y
    latex: str = ""


@dataclass(frozen=True)
class IndexForm(Adjoint):
    """A gradient with no compact matrix form in the expression language (a convolution's
    input, pooling): a symbol whose definition is index notation, in `text`."""

    text: str = ""


def has_index_form(node: Node) -> bool:
    from gradcli.expr.ast import walk

    return any(isinstance(n, IndexForm) for n in walk(node))


@dataclass(frozen=True)
class DimNum(Num):
    symbol: str = ""  # the dimension name: N


@dataclass(frozen=True)
class Ones(Binary):
    """𝟙, a matrix of ones shaped like `left`, written left**0 in the expression language."""


@dataclass(frozen=True)
class Eye(Call):
    """I, the n×n identity: `eye(n)` in the language (the dim's name, or its size when it has
    no name), `I` in course notation. A leaf: its argument is a size, not an expression."""


def ones_like(node: Node) -> Ones:
    return Ones("**", node, Num(0))


def eye(size: int, name: str = "") -> Eye:
    """I of `size` rows, printed eye(N) with the dim's `name` (pasteable: claims may name the
    dims; issue 16: formerly diag(c**0) or diag(sum(A @ X @ B, dim=1)**0)), else eye(3)."""
    return Eye("eye", (Num(size, name),))


def identity(dim, taken: Collection[str]) -> Eye:
    """I with `dim` rows (a shapes.Dim): eye(N) by the dim's name, unless it is not a declared
    name or a given or forward line has that name (in `taken`: it would not read back as the
    dim), then eye(5)."""
    named = dim.is_declared and dim.symbol not in taken
    return eye(dim.size, dim.symbol if named else "")


ZERO = Num(0)
ONE = Num(1)


def num(value: float) -> Num:
    if value == int(value) and abs(value) < 1e15:
        return Num(int(value))
    return Num(float(value))


def is_const(node: Node) -> bool:
    return type(node) is Num


def is_zero(node: Node) -> bool:
    return is_const(node) and node.value == 0


def is_one(node: Node) -> bool:
    return is_const(node) and node.value == 1


def split(node: Node) -> tuple[float, Node | None]:
    """(numeric coefficient, the rest): 0.5*(2*x) -> (1.0, x)."""
    if is_const(node):
        return float(node.value), None
    if isinstance(node, Unary):
        c, rest = split(node.operand)
        return (-c if node.op == "-" else c), rest
    if isinstance(node, Binary) and node.op == "*":
        ca, ra = split(node.left)
        cb, rb = split(node.right)
        return ca * cb, _product(ra, rb)
    if isinstance(node, Binary) and node.op == "/" and is_const(node.right) and node.right.value != 0:
        c, rest = split(node.left)
        return c / float(node.right.value), rest
    return 1.0, node


def _factors(node: Node) -> list[str]:
    """The factors of a `*` chain, in a canonical order: `*` is elementwise (scalars broadcast)
    and so commutative, and `w*lam + lam*w` is 2·lam·w, not a sum the reader must collect."""
    if isinstance(node, Binary) and node.op == "*":
        return sorted(_factors(node.left) + _factors(node.right))
    return [unparse(node)]


def _product(a: Node | None, b: Node | None) -> Node | None:
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(b, Binary) and b.op == "*":  # keep Hadamard chains left-associated
        return _product(_product(a, b.left), b.right)
    return Binary("*", a, b)


def scale(c: float, rest: Node | None) -> Node:
    if rest is None or c == 0:
        return num(c)
    if c == 1:
        return rest
    if c == -1:
        return Unary("-", rest)
    if len(repr(float(c))) > 10 and len(repr(1 / c)) <= 10:  # x/0.75, not 1.3333333*x
        return Binary("/", rest, num(1 / c)) if c > 0 else Unary("-", Binary("/", rest, num(-1 / c)))
    if isinstance(rest, Binary) and rest.op == "/" and is_one(rest.left):
        return Binary("/", num(c), rest.right)
    if c < 0:  # -2*x, which parses back as (-2)*x
        return _product(Unary("-", num(-c)), rest)
    if isinstance(rest, Binary) and rest.op == "*":
        return _product(num(c), rest)
    return Binary("*", num(c), rest)


@dataclass
class Monomial:
    """c_num/c_den · (product of nums) / (product of dens): `*` and `/` are elementwise, so
    factors commute and equal factors above and below the line cancel: (p − t)/(p(1 − p)) ·
    p(1 − p) = p − t."""

    c_num: float = 1.0
    c_den: float = 1.0
    nums: list = None
    dens: list = None

    def __post_init__(self):
        self.nums = self.nums or []
        self.dens = self.dens or []

    def times(self, other: Monomial) -> Monomial:
        return Monomial(self.c_num * other.c_num, self.c_den * other.c_den,
                        self.nums + other.nums, self.dens + other.dens)

    def inverse(self) -> Monomial:
        return Monomial(self.c_den, self.c_num, list(self.dens), list(self.nums))


def monomial(node: Node) -> Monomial:
    if is_const(node):
        return Monomial(float(node.value))
    if isinstance(node, Unary):
        m = monomial(node.operand)
        if node.op == "-":
            m.c_num = -m.c_num
        return m
    if isinstance(node, Binary) and node.op == "*":
        return monomial(node.left).times(monomial(node.right))
    if isinstance(node, Binary) and node.op == "/":
        below = monomial(node.right)
        if below.c_num != 0:
            return monomial(node.left).times(below.inverse())
    return Monomial(nums=[node])


def _coefficient(c_num: float, c_den: float) -> tuple[float, float]:
    if c_num == 0:
        return 0.0, 1.0
    q = c_num / c_den
    if q == int(q) or c_den == 1:
        return q, 1.0
    if c_num == int(c_num) and c_den == int(c_den):
        g = math.gcd(int(c_num), int(c_den))
        sign = -1 if c_den < 0 else 1
        return sign * c_num / g, sign * c_den / g
    if len(repr(q)) > 10 and len(repr(float(c_den))) <= 10:  # x/0.75 rather than 1.3333333*x
        return (-c_num, -c_den) if c_den < 0 else (c_num, c_den)
    return q, 1.0


def from_monomial(m: Monomial) -> Node:
    nums, dens = list(m.nums), []
    for d in m.dens:
        if d in nums:
            nums.remove(d)
        else:
            dens.append(d)
    c, c_den = _coefficient(m.c_num, m.c_den)
    top = None
    for f in nums:
        top = _product(top, f)
    bottom = num(c_den) if c_den != 1 else None
    for f in dens:
        bottom = _product(bottom, f)
    if c == 0:
        return ZERO
    if bottom is None:
        return scale(c, top)
    if top is None:
        return Binary("/", num(c), bottom)  # -1/4: a negative number over the rest
    if c < 0:
        return Unary("-", Binary("/", scale(-c, top), bottom))
    return Binary("/", scale(c, top), bottom)


def mul(a: Node, b: Node) -> Node:
    return from_monomial(monomial(a).times(monomial(b)))


def neg(a: Node) -> Node:
    return mul(num(-1), a)


def add(a: Node, b: Node) -> Node:
    if is_zero(a):
        return b
    if is_zero(b):
        return a
    if is_const(a) and is_const(b):
        return num(a.value + b.value)
    ca, ra = split(a)
    cb, rb = split(b)
    if ra is not None and rb is not None and (ra == rb or _factors(ra) == _factors(rb)):
        return scale(ca + cb, ra)
    if cb < 0:
        return Binary("-", a, scale(-cb, rb))
    return Binary("+", a, b)


def sub(a: Node, b: Node) -> Node:
    return add(a, neg(b))


def div(a: Node, b: Node) -> Node:
    if is_one(b):
        return a
    if is_zero(a):
        return ZERO
    below = monomial(b)
    if below.c_num == 0:
        return Binary("/", a, b)
    return from_monomial(monomial(a).times(below.inverse()))


def power(a: Node, p: float) -> Node:
    if p == 1:
        return a
    if p == 0:
        return ONE
    return Binary("**", a, num(p))


def _without_eye(node: Node) -> Node | None:
    """node with one identity factor removed (I ⊙-scaled: s·I), or None if it has none."""
    m = monomial(node)
    for f in m.nums:
        if isinstance(f, Eye) or (isinstance(f, Call) and f.func == "eye"):  # I, or eye(d)
            m.nums.remove(f)
            return from_monomial(m)
    return None


def matmul(a: Node, b: Node) -> Node:
    if is_zero(a) or is_zero(b):
        return ZERO
    for this, other in ((a, b), (b, a)):
        rest = _without_eye(this)
        if rest is not None:  # (s·I) M = s·M
            return mul(rest, other)
    ca, ra = split(a)
    cb, rb = split(b)
    if ra is None or rb is None:  # a scalar coefficient alone cannot be a matrix
        return Binary("@", a, b)
    return scale(ca * cb, Binary("@", ra, rb))


def transpose(a: Node, scalar: bool = False) -> Node:
    if scalar or is_const(a):
        return a
    if isinstance(a, Transpose):
        return a.operand
    if isinstance(a, Call) and (a.func == "diag" or a.func == "eye" or (
            a.func in ("ones", "zeros") and len(a.args) == 2 and a.args[0] == a.args[1])):
        # diag(v), I and a square 𝟙 or 0 are symmetric
        return a
    c, rest = split(a)
    if c != 1 and rest is not None:
        return scale(c, transpose(rest))
    if isinstance(a, Unary):
        return Unary(a.op, transpose(a.operand))
    return Transpose(a)


def call(func: str, *args: Node, **kwargs: float | str) -> Node:
    kw = tuple((k, Str(v) if isinstance(v, str) else num(v)) for k, v in kwargs.items())
    return linear(Call(func, tuple(args), kw))


def linear(node: Call) -> Node:
    """sum and mean are linear: sum(-2*X) = -2*sum(X), so constants stay outside."""
    if type(node) is not Call or node.func not in ("sum", "mean") or not node.args:
        return node
    c, rest = split(node.args[0])
    if c == 1 or rest is None:
        return node
    return scale(c, Call(node.func, (rest, *node.args[1:]), node.kwargs))


def rebuild(node: Node, leaf: Callable[[Node], Node | None]) -> Node:
    """The tree with `leaf(n)` substituted wherever it returns a node, re-simplified bottom-up."""
    found = leaf(node)
    if found is not None:
        return found
    if type(node) is Num:  # forget the source spelling, so 1 from a file equals a built 1
        return num(node.value)
    if isinstance(node, Unary):
        inner = rebuild(node.operand, leaf)
        return neg(inner) if node.op == "-" else inner
    if isinstance(node, Transpose):
        return transpose(rebuild(node.operand, leaf))
    if isinstance(node, Ones):
        return ones_like(rebuild(node.left, leaf))
    if isinstance(node, Eye) or (isinstance(node, Call) and node.func == "eye"):
        return node  # its size keeps the dim's name (N), which `num` would forget
    if isinstance(node, Binary):
        a, b = rebuild(node.left, leaf), rebuild(node.right, leaf)
        return {"+": add, "-": sub, "*": mul, "/": div, "@": matmul}.get(node.op, _pow)(a, b)
    if isinstance(node, Call):
        return linear(type(node)(node.func, tuple(rebuild(x, leaf) for x in node.args), node.kwargs))
    return node


def _pow(a: Node, b: Node) -> Node:
    return power(a, b.value) if is_const(b) else Binary("**", a, b)


def simplify(node: Node) -> Node:
    return rebuild(node, lambda n: None)


def substitute(node: Node, mapping: Mapping[str, Node]) -> Node:
    """Replace names (not function names) by trees."""
    return rebuild(node, lambda n: mapping.get(n.id) if isinstance(n, Name) and not
                   isinstance(n, Adjoint) and n.id in mapping else None)


def reuse(node: Node, definitions: Mapping[Node, str]) -> Node:
    """Replace every subtree equal to a forward line's right-hand side by the line's name.

    So σ'(z) = sigmoid(z)*(1 - sigmoid(z)) reads y*(1 - y) when the forward says y = sigmoid(z).
    """
    return rebuild(node, lambda n: Name(definitions[n]) if not isinstance(n, Name | Num)
                   and n in definitions else None)


def size(node: Node) -> int:
    from gradcli.expr.ast import walk

    return sum(1 for _ in walk(node))
