"""Typed access to a problem file's YAML tree, collecting complaints instead of raising.

Each reader records an `InputError` at the value's line and column and returns `INVALID`, so
`validate.problem` can report every mistake of a file at once. Scalars are typed here by the
YAML 1.2 core schema, applied only to plain scalars (`"3"` is text, `3` a number, `yes` text,
`.nan` a float that is refused as not finite).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import replace
from typing import Any

from gradcli import catalog
from gradcli.errors import InputError, suggest
from gradcli.problems.nodes import Mapping, Node, Scalar, Sequence

INVALID: Any = type("Invalid", (), {"__repr__": lambda self: "INVALID"})()

NULL = re.compile(r"~|null|Null|NULL|")
BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
NONFINITE = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}


def describe(node: Node) -> str:
    """What a value is, for 'expected X, got Y'."""
    if isinstance(node, Mapping):
        return "a mapping"
    if isinstance(node, Sequence):
        return "a list"
    if node.plain and NULL.fullmatch(node.text):
        return "nothing (null)"
    if node.plain and node.text in BOOL:
        return node.text
    if node.plain and (INT.fullmatch(node.text) or FLOAT.fullmatch(node.text)
                       or NONFINITE.fullmatch(node.text)):
        return f"the number {node.text}"
    return f"the text {node.text[:40]!r}"


class Reader:
    """Typed access to a tree, collecting errors instead of raising them."""

    def __init__(self, file: str | None):
        self.file = file
        self.errors: list[InputError] = []

    # -- complaints ----------------------------------------------------------------------
    def error(self, node: Node, message: str, key: str | None = None,
              hint: str | None = None) -> Any:
        text = f"{key}: {message}" if key else message
        self.errors.append(InputError(text, file=self.file, line=node.line, column=node.column,
                                      hint=hint))
        return INVALID

    def wrong(self, node: Node, key: str, expected: str, hint: str | None = None) -> Any:
        return self.error(node, f"expected {expected}, got {describe(node)}", key, hint)

    def relocate(self, node: Scalar, key: str, err: InputError) -> Any:
        """An error about a value's text (column within the text) moved into the file."""
        for e in err.all():
            offset = e.column - 1 if e.column is not None else 0
            line, column = node.position(offset)
            self.errors.append(replace(e, message=f"{key}: {e.message}", file=self.file,
                                       line=line, column=column))
        return INVALID

    # -- scalars -------------------------------------------------------------------------
    @staticmethod
    def is_null(node: Node | None) -> bool:
        return node is None or (isinstance(node, Scalar) and node.plain
                                and bool(NULL.fullmatch(node.text)))

    def text(self, node: Node, key: str) -> Any:
        if isinstance(node, Scalar) and not self.is_null(node):
            return node.text
        return self.wrong(node, key, "text")

    def boolean(self, node: Node, key: str) -> Any:
        if isinstance(node, Scalar) and node.plain and node.text in BOOL:
            return BOOL[node.text]
        hint = ("YAML 1.2 writes true or false" if isinstance(node, Scalar)
                and node.text.lower() in YAML11_BOOLS else None)
        return self.wrong(node, key, "true or false", hint)

    def whole(self, node: Node, key: str, low: int = 0, high: int | None = None) -> Any:
        if not (isinstance(node, Scalar) and node.plain and INT.fullmatch(node.text)):
            what = "a positive whole number" if low >= 1 else "a whole number"
            return self.wrong(node, key, what)
        text = node.text
        value = int(text[2:], 8 if text[1] == "o" else 16) if text[:2] in ("0o", "0x") \
            else int(text)
        if value < low:
            return self.error(node, f"must be at least {low}, got {value}", key)
        if high is not None and value > high:
            return self.error(node, f"must be at most {high}, got {value}", key)
        return value

    def number(self, node: Node, key: str) -> Any:
        if isinstance(node, Scalar) and node.plain:
            if NONFINITE.fullmatch(node.text):
                return self.error(node, f"{node.text} is not allowed; numbers must be finite", key)
            if INT.fullmatch(node.text) or FLOAT.fullmatch(node.text):
                try:
                    value = float(self.whole(node, key, low=-math.inf)
                                  if INT.fullmatch(node.text) else node.text)
                except OverflowError:
                    value = math.inf
                if not math.isfinite(value):
                    return self.error(node, f"{node.text[:40]} is too large for a float64", key)
                return value
        return self.wrong(node, key, "a number")

    def name(self, node: Node, key: str, what: str = "a name") -> Any:
        if isinstance(node, Scalar) and IDENT.fullmatch(node.text) and not self.is_null(node):
            return node.text
        if isinstance(node, Scalar) and not self.is_null(node):
            return self.error(node, f"{node.text[:40]!r} is not a valid name", key,
                              "names are letters, digits and _, starting with a letter")
        return self.wrong(node, key, what)

    def choice(self, node: Node, key: str, choices: Collection[str],
               shown: Collection[str] | None = None) -> Any:
        """One of `choices`; a complaint lists `shown` (the choices that will also pass the
        later checks: an activation must take both signs, so log is read here but not offered)."""
        if isinstance(node, Scalar) and node.text in choices and not self.is_null(node):
            return node.text
        offered = ", ".join(shown if shown is not None else choices)
        if isinstance(node, Scalar) and not self.is_null(node):
            return self.error(node, f"{node.text[:40]!r} is not one of {offered}",
                              key, suggest(node.text, shown if shown is not None else choices))
        return self.wrong(node, key, f"one of {offered}")

    # -- collections ---------------------------------------------------------------------
    def mapping(self, node: Node, key: str) -> Any:
        return node if isinstance(node, Mapping) else self.wrong(node, key, "a mapping (name: value)")

    def items(self, node: Node, key: str) -> list[Node] | Any:
        """A list, or one scalar standing for a list of one."""
        if isinstance(node, Sequence):
            return list(node.items)
        if isinstance(node, Scalar) and not self.is_null(node):
            return [node]
        return self.wrong(node, key, "a list")

    def declared(self, key_node: Scalar, key: str, reserved: Collection[str] = ()) -> Any:
        """A name the file declares (a given, a forward line, an input)."""
        name = self.name(key_node, key)
        if name is INVALID:
            return name
        if catalog.lookup(name):
            return self.error(key_node, f"{name!r} is a catalog function; choose another name", key)
        if name in reserved:
            return self.error(key_node, f"{name!r} is already declared", key)
        return name

    # -- expressions ---------------------------------------------------------------------
    def expression(self, node: Node, key: str, variables: Collection[str] | None) -> Any:
        """The parsed tree of an expression value (its text is `node.text`)."""
        if not isinstance(node, Scalar) or self.is_null(node) or (node.plain and node.text in BOOL):
            return self.wrong(node, key, "an expression")
        from gradcli.expr.parse import parse

        try:
            return parse(node.text, variables=variables)
        except InputError as err:
            return self.relocate(node, key, err)

    def check_all(self, values: list[Any]) -> bool:
        return all(v is not INVALID for v in values)


def shape(r: Reader, node: Node | None, key: str, dims: Collection[str] | None) -> Any:
    """A shape: a list of dims (declared names, or positive numbers); [] or null: a scalar.

    `dims` None: any name is a free size (an implementation's inputs).
    """
    if r.is_null(node):
        return ()
    if not isinstance(node, Sequence):
        return r.wrong(node, key, "a shape (a list of dims, e.g. [n] or [n, m])")
    if len(node.items) > 2:
        return r.error(node, f"has {len(node.items)} dims; shapes have at most 2 (vectors and "
                       "matrices)", key)
    dims_of: list[str | int] = []
    for i, item in enumerate(node.items):
        if isinstance(item, Scalar) and item.plain and INT.fullmatch(item.text):
            dims_of.append(r.whole(item, f"{key}[{i}]", low=1))
        elif dims is not None and isinstance(item, Scalar) and item.text not in dims \
                and IDENT.fullmatch(item.text):
            hint = suggest(item.text, dims) or f"declare it under dims, e.g. dims: {{{item.text}: 3}}"
            dims_of.append(r.error(item, f"{item.text!r} is not a declared dim", key, hint))
        else:
            dims_of.append(r.name(item, key, "a dim name or a positive number"))
    return tuple(dims_of) if r.check_all(dims_of) else INVALID


def shapes(r: Reader, node: Node | None, key: str, dims: Collection[str] | None) -> dict:
    out: dict[str, Any] = {}
    if node is None or r.mapping(node, key) is INVALID:
        return out
    for k, v in node.items:
        name = r.declared(k, key)
        value = shape(r, v, f"{key}.{k.text}", dims)
        if name is not INVALID:
            out[name] = value
    return out
