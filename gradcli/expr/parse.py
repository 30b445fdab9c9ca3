"""The whitelist parser: text in gradcli's expression language -> syntax tree.

Never `eval`, `sympify` or `parse_expr`: problem files are untrusted, and SymPy's parsers
evaluate Python. This is a small precedence-climbing parser over a tokenizer that accepts
only what the SPEC allows; anything else is an `InputError` with the 1-based column of the
offending character and, where one helps, a hint (`^` -> `**`, `sigmod` -> `sigmoid`).

Bounds are enforced before any symbolic work can start, so `9**9**9` or `1e999999999` are
refused at once instead of hanging SymPy: length, token count, nesting depth, node count,
literal size, and the size of constant powers.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from gradcli import catalog
from gradcli.errors import InputError, suggest
from gradcli.expr.ast import Binary, Call, Name, Node, Num, Str, Transpose, Unary

MAX_CHARS = 2000
MAX_TOKENS = 600
MAX_DEPTH = 40
MAX_NODES = 400
MAX_LITERAL_DIGITS = 40
MAX_MAGNITUDE = 1e100  # largest literal or constant a formula may hold
MAX_EXPONENT = 100  # largest constant exponent

KEYWORDS = frozenset(
    "False None True and as assert async await break class continue def del elif else except "
    "finally for from global if import in is lambda nonlocal not or pass raise return try while "
    "with yield match case".split())

# Keyword options each structural function accepts; elementwise ones take their catalog params.
OPTIONS: dict[str, tuple[str, ...]] = {
    "sum": ("dim",), "mean": ("dim",), "norm": ("dim",), "max": ("dim",),
    "softmax": ("dim",), "log_softmax": ("dim",),
    "layer_norm": ("eps",), "batch_norm": ("eps",),
    "avg_pool2d": ("kernel", "stride", "padding"), "max_pool2d": ("kernel", "stride", "padding"),
    "mse": ("reduction",), "l1": ("reduction",), "huber": ("delta", "reduction"),
    "bce": ("reduction",), "bce_with_logits": ("reduction",), "cross_entropy": ("reduction",),
    "nll": ("reduction",),
}
# (fewest, most) positional arguments of the structural functions
ARITY: dict[str, tuple[int, int]] = {
    "sum": (1, 2), "mean": (1, 2), "norm": (1, 2), "max": (1, 2), "trace": (1, 1),
    "det": (1, 1), "inv": (1, 1), "logdet": (1, 1), "diag": (1, 1), "softmax": (1, 2),
    "log_softmax": (1, 2), "layer_norm": (3, 3), "batch_norm": (3, 3), "conv1d": (2, 2),
    "conv2d": (2, 2), "avg_pool2d": (1, 3), "max_pool2d": (1, 3), "mse": (2, 2), "l1": (2, 2),
    "huber": (2, 3), "bce": (2, 2), "bce_with_logits": (2, 2), "cross_entropy": (2, 2),
    "nll": (2, 2), "onehot": (2, 2),
}
STRING_OPTIONS = {"reduction": ("mean", "sum")}

LOOKALIKES = {
    "−": "-", "–": "-", "—": "-", "×": "*", "·": "*", "⋅": "*", "∗": "*", "÷": "/",
    "（": "(", "）": ")", "σ": "sigmoid", "π": "pi", "√": "sqrt", "²": "**2", "³": "**3",
    "ᵀ": ".T", "⊙": "*", "’": "'", "“": '"', "”": '"',
}

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n]+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>"[^"\n]*"|'[^'\n]*')
  | (?P<op>\*\*|[-+*/@().,=])
""", re.VERBOSE | re.ASCII)  # ASCII: \d would match the fullwidth ２ and int() would read it

_BAD_OPS = {
    "^": "write ** for powers", "[": "subscripts are not part of the language",
    "]": "subscripts are not part of the language", "{": "braces are not part of the language",
    "}": "braces are not part of the language", "%": "no modulo in the language",
    ";": "one expression only", ":": "slices and lambdas are not part of the language",
    "<": "comparisons are not part of the language; use step(x) for piecewise functions",
    ">": "comparisons are not part of the language; use step(x) for piecewise functions",
    "!": "no ! in the language", "&": "no bitwise operators", "|": "no bitwise operators; use abs(x)",
    "~": "no bitwise operators", "#": "no comments inside an expression", "\\": "no backslashes",
    "`": "no backticks", "$": "not part of the language", "?": "not part of the language",
}


@dataclass(frozen=True)
class Token:
    """One token of the source text and the offset where it starts."""

    kind: str  # number | name | string | op | end
    text: str
    start: int


def _error(message: str, position: int, hint: str | None = None) -> InputError:
    return InputError(message, column=position + 1, hint=hint)


def _bad_character(text: str, i: int) -> InputError:
    ch = text[i]
    if ch in LOOKALIKES:
        return _error(f"character {ch!r} (U+{ord(ch):04X}) is not allowed", i,
                      f"write {LOOKALIKES[ch]!r}")
    if ch in _BAD_OPS:
        return _error(f"{ch!r} is not allowed", i, _BAD_OPS[ch])
    if ord(ch) < 32 or ord(ch) == 127:
        return _error(f"control character U+{ord(ch):04X} is not allowed", i)
    folded = unicodedata.normalize("NFKC", ch)
    if ord(ch) > 127 and folded != ch and folded.isascii() and folded.isprintable():
        return _error(f"character {ch!r} (U+{ord(ch):04X}) is not allowed", i,
                      f"write {folded!r}")  # fullwidth ２ and ｘ, ligatures
    if ord(ch) > 127:
        return _error(f"non-ASCII character {ch!r} (U+{ord(ch):04X}) is not allowed", i,
                      "names and operators are plain ASCII")
    return _error(f"unexpected character {ch!r}", i)


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_CHARS:
        raise _error(f"expression is {len(text)} characters long; at most {MAX_CHARS} are allowed", MAX_CHARS)
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:
            raise _bad_character(text, i)
        kind = m.lastgroup
        if kind != "space":
            tokens.append(Token(kind, m.group(), i))
            if len(tokens) > MAX_TOKENS:
                raise _error(f"expression has more than {MAX_TOKENS} tokens", i)
        i = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _number(tok: Token) -> Num:
    digits = re.sub(r"[eE].*", "", tok.text)
    if len(digits) > MAX_LITERAL_DIGITS:
        raise _error(f"number has more than {MAX_LITERAL_DIGITS} digits", tok.start)
    exp_part = re.search(r"[eE]([+-]?\d+)", tok.text)
    if exp_part and abs(int(exp_part.group(1)[:6])) > 400:
        raise _error(f"number {tok.text[:30]} is out of range (|value| ≤ {MAX_MAGNITUDE:g})", tok.start)
    value: float | int = float(tok.text) if re.search(r"[.eE]", tok.text) else int(tok.text)
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise _error(f"number {tok.text[:30]} is out of range (|value| ≤ {MAX_MAGNITUDE:g})", tok.start)
    return Num(value, tok.text, start=tok.start, end=tok.start + len(tok.text))


def constant_value(node: Node) -> float | None:
    """The value of a subtree without names, computed in floats with every step bounded.

    Returns None when the subtree uses a name (it is not a constant).
    """
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Name):
        return {"pi": math.pi, "e": math.e}.get(node.id)
    if isinstance(node, Unary):
        v = constant_value(node.operand)
        return None if v is None else (-v if node.op == "-" else v)
    if isinstance(node, Binary) and node.op in "+-*/**":
        a, b = constant_value(node.left), constant_value(node.right)
        if a is None or b is None:
            return None
        try:
            value = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                     "/": lambda: a / b, "**": lambda: abs(a) ** b}[node.op]()
        except (ZeroDivisionError, OverflowError):
            return math.inf
        return value
    return None


class _Parser:
    def __init__(self, text: str, variables: Collection[str] | None):
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0
        self.nodes = 0
        self.variables = None if variables is None else set(variables)

    # -- token helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def accept(self, text: str) -> Token | None:
        if self.tok.kind == "op" and self.tok.text == text:
            return self.advance()
        return None

    def expect(self, text: str, what: str) -> Token:
        tok = self.accept(text)
        if tok is None:
            got = "the end" if self.tok.kind == "end" else repr(self.tok.text)
            raise _error(f"expected {what}, found {got}", self.tok.start)
        return tok

    def node(self, node: Node) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _error(f"expression has more than {MAX_NODES} parts", node.start)
        return node

    def enter(self, at: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(f"expression is nested more than {MAX_DEPTH} levels deep", at)

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise _error("expected an expression, found nothing", 0)
        node = self.sum()
        if self.tok.kind != "end":
            raise self._trailing()
        return node

    def _trailing(self) -> InputError:
        tok = self.tok
        if tok.kind in ("name", "number") or tok.text == "(":
            return _error(f"unexpected {tok.text!r}", tok.start, "write * between factors, e.g. 2*x")
        if tok.text == "=":
            return _error("'=' is only for keyword options inside a call", tok.start)
        return _error(f"unexpected {tok.text!r}", tok.start)

    def sum(self) -> Node:
        left = self.product()
        while self.tok.kind == "op" and self.tok.text in "+-" and self.tok.text:
            op = self.advance().text
            right = self.product()
            left = self.node(Binary(op, left, right, start=left.start, end=right.end))
        return left

    def product(self) -> Node:
        left = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/", "@"):
            op = self.advance().text
            right = self.unary()
            left = self.node(Binary(op, left, right, start=left.start, end=right.end))
        return left

    def unary(self) -> Node:
        if self.tok.kind == "op" and self.tok.text in ("-", "+"):
            tok = self.advance()
            self.enter(tok.start)
            operand = self.unary()
            self.depth -= 1
            return self.node(Unary(tok.text, operand, start=tok.start, end=operand.end))
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        if self.accept("**"):
            self.enter(self.tok.start)
            exponent = self.unary()  # right-associative; x**-1 is allowed
            self.depth -= 1
            node = Binary("**", base, exponent, start=base.start, end=exponent.end)
            self._check_power(node)
            return self.node(node)
        return base

    def _check_power(self, node: Binary) -> None:
        exponent = constant_value(node.right)
        if exponent is not None and (not math.isfinite(exponent) or abs(exponent) > MAX_EXPONENT):
            raise _error(f"exponent is too large (at most {MAX_EXPONENT} in absolute value)",
                         node.right.start)
        value = constant_value(node)
        if value is not None and (not math.isfinite(value) or abs(value) > MAX_MAGNITUDE):
            raise _error(f"constant power is out of range (|value| ≤ {MAX_MAGNITUDE:g})", node.start)

    def postfix(self) -> Node:
        node = self.atom()
        while True:
            if self.accept("."):
                tok = self.tok
                if tok.kind == "name" and tok.text == "T":
                    self.advance()
                    node = self.node(Transpose(node, start=node.start, end=tok.start + 1))
                    continue
                what = repr(tok.text) if tok.kind != "end" else "nothing"
                raise _error(f"attribute {what} is not allowed", tok.start,
                             ".T (transpose) is the only attribute")
            if self.tok.text == "(" and self.tok.kind == "op":
                raise _error("only catalog functions can be called", self.tok.start,
                             "write * for multiplication, e.g. x*(y + 1)")
            return node

    def atom(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            return self.node(_number(tok))
        if tok.kind == "name":
            self.advance()
            if self.tok.kind == "op" and self.tok.text == "(":
                return self.call(tok)
            return self.node(self.name(tok))
        if tok.kind == "op" and tok.text == "(":
            self.advance()
            self.enter(tok.start)
            inner = self.sum()
            self.depth -= 1
            self.expect(")", "')' to close the '(' at column " + str(tok.start + 1))
            return inner
        if tok.kind == "string":
            raise _error("strings are only allowed as option values, e.g. reduction=\"sum\"", tok.start)
        if tok.kind == "end":
            raise _error("expression ends too early", tok.start)
        raise _error(f"unexpected {tok.text!r}", tok.start)

    def name(self, tok: Token) -> Name:
        ident = tok.text
        if ident.startswith("_"):
            raise _error(f"name {ident!r} is not allowed (names may not start with '_')", tok.start)
        if ident in KEYWORDS:
            raise _error(f"{ident!r} is a Python keyword, not part of the expression language", tok.start)
        declared = self.variables is not None and ident in self.variables
        if catalog.lookup(ident) and not declared:
            raise _error(f"{ident!r} is a function; call it, e.g. {ident}(x)", tok.start)
        if self.variables is not None and not declared and ident not in catalog.CONSTANTS:
            raise _error(f"unknown name {ident!r}", tok.start, suggest(ident, self.variables))
        return Name(ident, start=tok.start, end=tok.start + len(ident))

    def call(self, name: Token) -> Call:
        func = name.text
        entry = catalog.lookup(func)
        if entry is None:
            raise _error(f"unknown function {func!r}", name.start,
                         suggest(func, catalog.ENTRIES) or "gradcli list shows the catalog")
        open_paren = self.advance()
        self.enter(open_paren.start)
        args: list[Node] = []
        kwargs: list[tuple[str, Node]] = []
        while not self.accept(")"):
            if args or kwargs:
                self.expect(",", f"',' or ')' in the call to {func}")
                if self.accept(")"):
                    break
            if self.tok.kind == "name" and self.tokens[self.pos + 1].text == "=":
                kwargs.append(self.option(func, entry))
            elif kwargs:
                raise _error("positional argument after a keyword option", self.tok.start)
            else:
                args.append(self.sum())
        self.depth -= 1
        end = self.tokens[self.pos - 1].start + 1
        node = Call(func, tuple(args), tuple(kwargs), start=name.start, end=end)
        self._check_arity(node, entry)
        return self.node(node)

    def option(self, func: str, entry: catalog.Entry) -> tuple[str, Node]:
        key = self.advance()
        self.advance()  # '='
        allowed = OPTIONS.get(func, ()) + tuple(p.name for p in entry.params)
        if key.text not in allowed:
            expected = ", ".join(allowed) if allowed else "none"
            raise _error(f"{func} has no option {key.text!r} (options: {expected})", key.start,
                         suggest(key.text, allowed))
        if self.tok.kind == "string":
            tok = self.advance()
            value = tok.text[1:-1]
            choices = STRING_OPTIONS.get(key.text)
            if choices is None or value not in choices:
                raise _error(f"{key.text} takes {' or '.join(map(repr, choices)) if choices else 'a number'}, "
                             f"not {tok.text}", tok.start)
            return key.text, self.node(Str(value, start=tok.start, end=tok.start + len(tok.text)))
        value_node = self.sum()
        if constant_value(value_node) is None:
            raise _error(f"option {key.text} must be a number", value_node.start)
        return key.text, value_node

    def _check_arity(self, node: Call, entry: catalog.Entry) -> None:
        if entry.group == "elementwise":
            fewest, most = 1, 1 + len(entry.params)
        else:
            fewest, most = ARITY.get(node.func, (1, 1))
        n = len(node.args)
        if not fewest <= n <= most:
            want = str(fewest) if fewest == most else f"{fewest} to {most}"
            raise _error(f"{node.func} takes {want} argument{'s' if most > 1 else ''}, got {n}",
                         node.start, f"usage: {entry.call}")
        if entry.group == "elementwise":  # leaky_relu(x, 0.2): the slope is a parameter, a number
            for position, (param, arg) in enumerate(zip(entry.params, node.args[1:], strict=False), start=2):
                if constant_value(arg) is None:
                    raise _error(f"{node.func}'s {param.name} (argument {position}) must be a "
                                 "number", arg.start, f"usage: {entry.call}")


def parse(text: str, *, variables: Collection[str] | None = None) -> Node:
    """Parse one expression.

    `variables`: the names the expression may use (a problem's declared names); None allows
    any plain name (a free-standing `derive` target). `pi` and `e` are constants unless
    declared as variables.
    """
    if not isinstance(text, str):
        raise InputError(f"expected an expression as text, got {type(text).__name__}")
    return _Parser(text, variables).parse()
