"""A YAML tree (`load.py`) -> a Problem (`model.py`), with every complaint placed in the file.

Nothing stops at the first mistake: each reader records an `InputError` with the value's
line and column and returns `INVALID`, and `problem()` raises them all together, in file
order. Scalars are typed here by the YAML 1.2 core schema, applied only to plain scalars
(`"3"` is text, `3` a number, `yes` text, `.nan` a float that is refused as not finite).

Expressions are parsed now, with the names the file declares, so a bad one points at its
character in the file; the Problem keeps the text and an `Origin` that lets solvers point
their own later errors at the same place.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

from gradcli import catalog
from gradcli.errors import InputError, collect
from gradcli.problems import model
from gradcli.problems import schema as fmt
from gradcli.problems.load import Mapping, Node, Scalar, Sequence

INVALID: Any = type("Invalid", (), {"__repr__": lambda self: "INVALID"})()

_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_NONFINITE = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
BUILTIN = "builtin:"  # reference: builtin:NAME (see _reference)
_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}


def _suggest(word: str, choices: Collection[str]) -> str | None:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else None


def describe(node: Node) -> str:
    """What a value is, for 'expected X, got Y'."""
    if isinstance(node, Mapping):
        return "a mapping"
    if isinstance(node, Sequence):
        return "a list"
    if node.plain and _NULL.fullmatch(node.text):
        return "nothing (null)"
    if node.plain and node.text in _BOOL:
        return node.text
    if node.plain and (_INT.fullmatch(node.text) or _FLOAT.fullmatch(node.text)
                       or _NONFINITE.fullmatch(node.text)):
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
                                and bool(_NULL.fullmatch(node.text)))

    def text(self, node: Node, key: str) -> Any:
        if isinstance(node, Scalar) and not self.is_null(node):
            return node.text
        return self.wrong(node, key, "text")

    def boolean(self, node: Node, key: str) -> Any:
        if isinstance(node, Scalar) and node.plain and node.text in _BOOL:
            return _BOOL[node.text]
        hint = ("YAML 1.2 writes true or false" if isinstance(node, Scalar)
                and node.text.lower() in _YAML11_BOOLS else None)
        return self.wrong(node, key, "true or false", hint)

    def whole(self, node: Node, key: str, low: int = 0, high: int | None = None) -> Any:
        if not (isinstance(node, Scalar) and node.plain and _INT.fullmatch(node.text)):
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
            if _NONFINITE.fullmatch(node.text):
                return self.error(node, f"{node.text} is not allowed; numbers must be finite", key)
            if _INT.fullmatch(node.text) or _FLOAT.fullmatch(node.text):
                try:
                    value = float(self.whole(node, key, low=-math.inf)
                                  if _INT.fullmatch(node.text) else node.text)
                except OverflowError:
                    value = math.inf
                if not math.isfinite(value):
                    return self.error(node, f"{node.text[:40]} is too large for a float64", key)
                return value
        return self.wrong(node, key, "a number")

    def name(self, node: Node, key: str, what: str = "a name") -> Any:
        if isinstance(node, Scalar) and _IDENT.fullmatch(node.text) and not self.is_null(node):
            return node.text
        if isinstance(node, Scalar) and not self.is_null(node):
            return self.error(node, f"{node.text[:40]!r} is not a valid name", key,
                              "names are letters, digits and _, starting with a letter")
        return self.wrong(node, key, what)

    def choice(self, node: Node, key: str, choices: Collection[str]) -> Any:
        if isinstance(node, Scalar) and node.text in choices and not self.is_null(node):
            return node.text
        if isinstance(node, Scalar) and not self.is_null(node):
            return self.error(node, f"{node.text[:40]!r} is not one of {', '.join(choices)}",
                              key, _suggest(node.text, choices))
        return self.wrong(node, key, f"one of {', '.join(choices)}")

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
        if not isinstance(node, Scalar) or self.is_null(node) or (node.plain and node.text in _BOOL):
            return self.wrong(node, key, "an expression")
        from gradcli.expr.parse import parse

        try:
            return parse(node.text, variables=variables)
        except InputError as err:
            return self.relocate(node, key, err)

    def check_all(self, values: list[Any]) -> bool:
        return all(v is not INVALID for v in values)


# -- kinds ----------------------------------------------------------------------------------


def _shape(r: Reader, node: Node | None, key: str, dims: Collection[str] | None) -> Any:
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
    shape: list[str | int] = []
    for i, item in enumerate(node.items):
        if isinstance(item, Scalar) and item.plain and _INT.fullmatch(item.text):
            shape.append(r.whole(item, f"{key}[{i}]", low=1))
        elif dims is not None and isinstance(item, Scalar) and item.text not in dims \
                and _IDENT.fullmatch(item.text):
            hint = _suggest(item.text, dims) or f"declare it under dims, e.g. dims: {{{item.text}: 3}}"
            shape.append(r.error(item, f"{item.text!r} is not a declared dim", key, hint))
        else:
            shape.append(r.name(item, key, "a dim name or a positive number"))
    return tuple(shape) if r.check_all(shape) else INVALID


def _shapes(r: Reader, node: Node | None, key: str, dims: Collection[str] | None) -> dict:
    out: dict[str, Any] = {}
    if node is None or r.mapping(node, key) is INVALID:
        return out
    for k, v in node.items:
        name = r.declared(k, key)
        shape = _shape(r, v, f"{key}.{k.text}", dims)
        if name is not INVALID:
            out[name] = shape
    return out


def _header(r: Reader, m: Mapping, file: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("name", "description", "source"):
        node = m.get(key)
        if node is not None:
            out[key] = r.text(node, key)
    if "name" not in out and file and not file.startswith("<"):  # not for <stdin>
        out["name"] = Path(file).stem
    return out


def _derivative(r: Reader, m: Mapping, base: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    fn = m.get("function")
    names: set[str] = set()
    if fn is None:
        pass  # reported as a missing key
    elif isinstance(fn, Scalar) and catalog.is_elementwise(fn.text):
        out["function"], names = fn.text, {"x"}
    else:
        tree = r.expression(fn, "function", None)
        out["function"] = fn.text if isinstance(fn, Scalar) else INVALID
        if tree is not INVALID:
            from gradcli.expr.ast import names as names_of

            names = names_of(tree) - set(catalog.CONSTANTS)
    wrt = m.get("wrt")
    if wrt is not None:
        out["wrt"] = r.name(wrt, "wrt")
        if out["wrt"] is not INVALID and names and out["wrt"] not in names:
            r.error(wrt, f"{out['wrt']!r} does not appear in the function (its variables: "
                    f"{', '.join(sorted(names))})", "wrt", _suggest(out["wrt"], names))
    if m.get("at") is not None:
        points = r.items(m.get("at"), "at")
        out["at"] = INVALID if points is INVALID else tuple(
            r.number(p, f"at[{i}]") for i, p in enumerate(points))
    if m.get("claim") is not None:
        variables = names or {out.get("wrt") or "x"}
        if r.expression(m.get("claim"), "claim", variables | {out.get("wrt") or "x"}) is not INVALID:
            out["claim"] = m.get("claim").text
    for key in ("steps", "check"):
        if m.get(key) is not None:
            out[key] = r.boolean(m.get(key), key)
    return out


def _network(r: Reader, m: Mapping, base: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {"dims": {}}
    dims_node = m.get("dims")
    if dims_node is not None and r.mapping(dims_node, "dims") is not INVALID:
        for k, v in dims_node.items:
            name = r.name(k, "dims")
            size = r.whole(v, f"dims.{k.text}", low=1, high=fmt.MAX_DIM)
            if name is not INVALID:
                out["dims"][name] = size
    out["given"] = _shapes(r, m.get("given"), "given", out["dims"])
    given = set(out["given"])
    out["forward"] = _forward(r, m.get("forward"), given)
    known = given | {name for name, _ in out["forward"]}
    out["loss"] = _loss(r, m.get("loss"), known)
    out["wrt"] = _wrt(r, m.get("wrt"), known)
    out["claims"] = _claims(r, m.get("claims"), known, out["wrt"])
    out["values"] = _values(r, m.get("values"), out["given"], out["dims"])
    return out


def _forward(r: Reader, node: Node | None, given: set[str]) -> Any:
    if node is None or r.mapping(node, "forward") is INVALID:
        return ()
    order = {k.text: i for i, (k, _) in enumerate(node.items) if k.text not in given}
    lines: list[tuple[str, str]] = []
    for index, (k, v) in enumerate(node.items):
        key = f"forward.{k.text}"
        name = r.declared(k, "forward", reserved=given)
        tree = r.expression(v, key, given | set(order))
        if tree is not INVALID:
            _check_order(r, v, key, tree, order, index, node)
        if name is not INVALID and isinstance(v, Scalar):
            lines.append((name, v.text))
    return tuple(lines)


def _check_order(r: Reader, value: Scalar, key: str, tree, order: dict[str, int], index: int,
                 forward: Mapping) -> None:
    """A forward line may use given names and earlier lines only (no cycles, no look-ahead)."""
    from gradcli.expr.ast import Name, walk

    for n in walk(tree):
        if not isinstance(n, Name) or order.get(n.id, -1) < index:
            continue
        later = forward.items[order[n.id]][0]
        message = (f"{n.id!r} uses itself" if order[n.id] == index else
                   f"{n.id!r} is defined later, on line {later.line}")
        line, column = value.position(n.start)
        r.errors.append(InputError(f"{key}: {message}", file=r.file, line=line, column=column,
                                   hint="a forward line may use given names and earlier lines"))


def _loss(r: Reader, node: Node | None, known: set[str]) -> Any:
    if node is None:
        return INVALID
    if isinstance(node, Scalar):
        tree = r.expression(node, "loss", known)
        return INVALID if tree is INVALID else ("L", node.text)
    if r.mapping(node, "loss") is INVALID:
        return INVALID
    if len(node.items) != 1:
        return r.error(node, f"expected one entry (name: expression), got {len(node.items)}",
                       "loss")
    k, v = node.items[0]
    name = r.declared(k, "loss", reserved=known)
    tree = r.expression(v, f"loss.{k.text}", known)
    return (name, v.text) if name is not INVALID and tree is not INVALID else INVALID


def _wrt(r: Reader, node: Node | None, known: set[str]) -> Any:
    if node is None:
        return INVALID
    items = r.items(node, "wrt")
    if items is INVALID:
        return INVALID
    out: list[str] = []
    for item in items:
        name = r.name(item, "wrt")
        if name is INVALID:
            continue
        if name not in known:
            r.error(item, f"{name!r} is not a given or forward variable", "wrt",
                    _suggest(name, known))
        elif name in out:
            r.error(item, f"{name!r} is listed twice", "wrt")
        else:
            out.append(name)
    return tuple(out)


def _claims(r: Reader, node: Node | None, known: set[str], wrt: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if node is None or r.mapping(node, "claims") is INVALID:
        return out
    for k, v in node.items:
        name = r.name(k, "claims")
        if name is not INVALID and name not in known:
            r.error(k, f"{name!r} is not a given or forward variable", "claims",
                    _suggest(name, known))
        elif name is not INVALID and wrt is not INVALID and name not in wrt:
            r.error(k, f"{name!r} is not in wrt, so its gradient is not derived", "claims",
                    f"add {name} to wrt")
        if r.expression(v, f"claims.{k.text}", known) is not INVALID and name is not INVALID:
            out[name] = v.text
    return out


def _values(r: Reader, node: Node | None, given: dict, dims: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if node is None or r.mapping(node, "values") is INVALID:
        return out
    for k, v in node.items:
        name = r.name(k, "values")
        if name is INVALID:
            continue
        if name not in given:
            r.error(k, f"{name!r} is not a given variable", "values",
                    _suggest(name, given) or "forward values are computed from the given ones")
            continue
        out[name] = _tensor(r, v, f"values.{name}", given[name], dims)
    return out


def _tensor(r: Reader, node: Node, key: str, shape: Any, dims: dict) -> Any:
    """Numbers for a given of known shape: a number, a list, or a list of rows."""
    if shape is INVALID:
        return INVALID
    sizes = [s if isinstance(s, int) else dims.get(s) for s in shape]
    sizes = [None if s is INVALID else s for s in sizes]
    if not shape:
        return r.number(node, key)
    if not isinstance(node, Sequence):
        return r.wrong(node, key, f"a list for shape [{', '.join(map(str, shape))}]")
    rows = node.items
    if sizes[0] is not None and len(rows) != sizes[0]:
        return r.error(node, f"has {len(rows)} entries but the shape "
                       f"[{', '.join(map(str, shape))}] needs {sizes[0]}", key)
    if len(shape) == 1:
        if all(isinstance(x, Sequence) and len(x.items) == 1 for x in rows):
            rows = tuple(x.items[0] for x in rows)  # [[1], [2]]: a column written as rows
        numbers = [r.number(x, f"{key}[{i}]") for i, x in enumerate(rows)]
        return tuple(numbers) if r.check_all(numbers) else INVALID
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, Sequence):
            out.append(r.wrong(row, f"{key}[{i}]", "a row (a list of numbers)"))
        elif sizes[1] is not None and len(row.items) != sizes[1]:
            out.append(r.error(row, f"row has {len(row.items)} numbers but the shape needs "
                               f"{sizes[1]}", f"{key}[{i}]"))
        else:
            numbers = [r.number(x, f"{key}[{i}][{j}]") for j, x in enumerate(row.items)]
            out.append(tuple(numbers) if r.check_all(numbers) else INVALID)
    return tuple(out) if r.check_all(out) else INVALID


def _grid(r: Reader, node: Node | None, key: str) -> Any:
    if node is None:
        return None
    if isinstance(node, Scalar) and not r.is_null(node):
        return _grid_text(r, node, key)
    if not isinstance(node, Sequence) or not node.items:
        return r.wrong(node, key, "a grid (a list of rows, or text such as \"1 2; 3 4\")")
    rows: list[Any] = []
    width = len(node.items[0].items) if isinstance(node.items[0], Sequence) else None
    for i, row in enumerate(node.items, start=1):
        if not isinstance(row, Sequence) or not row.items:
            rows.append(r.wrong(row, f"{key}: row {i}", "a list of numbers"))
            continue
        numbers = [r.number(x, f"{key}: row {i}, column {j}") for j, x in enumerate(row.items, 1)]
        rows.append(tuple(numbers) if r.check_all(numbers) else INVALID)
        if width is not None and len(row.items) != width:
            rows[-1] = r.error(row, f"row {i} has {len(row.items)} values but row 1 has {width}; "
                               "every row needs the same number of values", key)
    return tuple(rows) if r.check_all(rows) else INVALID


def _grid_text(r: Reader, node: Scalar, key: str) -> Any:
    from gradcli import grid

    try:
        return grid.parse(node.text, what=key, file=r.file or "<text>")
    except InputError as err:
        line, column = node.line, node.column
        if err.line is not None and node.lines and err.line <= len(node.lines):
            line, column = node.lines[err.line - 1]
            column += (err.column or 1) - 1
        r.errors.append(replace(err, file=r.file, line=line, column=column))
        return INVALID


def _pooling(r: Reader, m: Mapping, base: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {"input": _grid(r, m.get("input"), "input")}
    if m.get("mode") is not None:
        out["mode"] = r.choice(m.get("mode"), "mode", fmt.MODES)
    if m.get("kernel") is not None:
        out["kernel"] = r.whole(m.get("kernel"), "kernel", low=1)
    if not r.is_null(m.get("stride")):
        out["stride"] = r.whole(m.get("stride"), "stride", low=1)
    if m.get("padding") is not None:
        out["padding"] = r.whole(m.get("padding"), "padding", low=0)
    if m.get("count_include_pad") is not None:
        out["count_include_pad"] = r.boolean(m.get("count_include_pad"), "count_include_pad")
    for key in ("upstream", "claim"):
        if m.get(key) is not None:
            out[key] = _grid(r, m.get(key), key)
    if out["input"] is not None and r.check_all(list(out.values())):
        _pooling_sizes(r, m, out)
    return out


def _pooling_sizes(r: Reader, m: Mapping, out: dict[str, Any]) -> None:
    """Window, padding and grid sizes that fit together, as torch requires."""
    rows, cols = len(out["input"]), len(out["input"][0])
    kernel, padding = out.get("kernel", 2), out.get("padding", 0)
    stride = out.get("stride") or kernel
    where = m.get("kernel") or m.get("input")
    if 2 * padding > kernel:
        r.error(m.get("padding"), f"padding {padding} is more than half the kernel {kernel}",
                "padding", "torch allows padding up to kernel // 2")
        return
    if kernel > min(rows, cols) + 2 * padding:
        r.error(where, f"kernel {kernel} is larger than the padded input "
                f"({rows + 2 * padding}×{cols + 2 * padding})", "kernel")
        return
    out_rows = (rows + 2 * padding - kernel) // stride + 1
    out_cols = (cols + 2 * padding - kernel) // stride + 1
    for key, want in (("upstream", (out_rows, out_cols)), ("claim", (rows, cols))):
        got = out.get(key)
        if got is not None and (len(got), len(got[0])) != want:
            what = "the pooled output" if key == "upstream" else "the input"
            r.error(m.get(key), f"is {len(got)}×{len(got[0])} but {what} is {want[0]}×{want[1]}",
                    key)


def _vanishing(r: Reader, m: Mapping, base: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    node = m.get("activations")
    if node is not None:
        items = r.items(node, "activations")
        if items is not INVALID:
            choices = [n for n in catalog.ENTRIES if catalog.is_elementwise(n)]
            out["activations"] = tuple(r.choice(x, "activations", choices) for x in items) \
                if items else r.error(node, "expected at least one activation", "activations")
    limits = {"depth": fmt.MAX_DEPTH, "width": fmt.MAX_WIDTH, "batch": fmt.MAX_BATCH}
    for key, high in limits.items():
        if m.get(key) is not None:
            out[key] = r.whole(m.get(key), key, low=1, high=high)
    if m.get("init") is not None:
        out["init"] = r.choice(m.get("init"), "init", fmt.INITS)
    if not r.is_null(m.get("seed")):
        out["seed"] = r.whole(m.get("seed"), "seed", low=0, high=2**63 - 1)
    if isinstance(out.get("activations"), tuple) and not r.check_all(list(out["activations"])):
        out["activations"] = INVALID
    return out


def _implementation(r: Reader, m: Mapping, base: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {"function": r.name(m.get("function"), "function")} \
        if m.get("function") is not None else {}
    out["inputs"] = _shapes(r, m.get("inputs"), "inputs", None)
    ref = m.get("reference")
    if ref is not None:
        out["reference"] = _reference(r, ref, out["inputs"])
    out.update(_constraints(r, m.get("constraints")))
    node = m.get("solution")
    if node is not None:
        out["solution"] = _solution(r, node, base)
    if m.get("notes") is not None:
        items = r.items(m.get("notes"), "notes")
        out["notes"] = INVALID if items is INVALID else tuple(r.text(x, "notes") for x in items)
    return out


def _reference(r: Reader, node: Node, inputs: dict[str, Any]) -> Any:
    """An expression of the inputs and their dim names (`sum(X, dim=0)/m`), or `builtin:NAME`:
    a reference written in Python inside gradcli, for what the language cannot state (q2's
    row reversal needs indexing); `gradcli.exercise` checks that NAME exists."""
    if isinstance(node, Scalar) and node.text.startswith(BUILTIN):
        name = node.text[len(BUILTIN):]
        if not _IDENT.fullmatch(name):
            return r.error(node, f"{name!r} is not a valid built-in reference name", "reference")
        return node.text
    dims = {d for shape in inputs.values() if shape is not INVALID for d in shape
            if isinstance(d, str)}
    tree = r.expression(node, "reference", set(inputs) | dims)
    return INVALID if tree is INVALID else node.text


def _constraints(r: Reader, node: Node | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if node is None or r.mapping(node, "constraints") is INVALID:
        return out
    allowed = [k.name for k in fmt.CONSTRAINTS]
    for k, v in node.items:
        if k.text not in allowed:
            r.error(k, f"unknown key {k.text!r}", "constraints",
                    _suggest(k.text, allowed) or f"constraints are {', '.join(allowed)}")
        elif k.text == "one_line":
            out["one_line"] = r.boolean(v, "constraints.one_line")
        else:
            items = r.items(v, "constraints.forbid")
            if items is not INVALID:
                out["forbid"] = tuple(_dotted(r, x) for x in items)
    return out


def _dotted(r: Reader, node: Node) -> Any:
    if isinstance(node, Scalar) and _DOTTED.fullmatch(node.text):
        return node.text
    return r.wrong(node, "constraints.forbid", "a call such as torch.mean")


def _solution(r: Reader, node: Node, base: Path | None) -> Any:
    text = r.text(node, "solution")
    if text is INVALID:
        return text
    path = Path(text) if base is None or Path(text).is_absolute() else base / text
    if not path.is_file():
        return r.error(node, f"no such file: {path}", "solution")
    return str(path)


BUILDERS: dict[str, Callable[[Reader, Mapping, Path | None], dict[str, Any]]] = {
    "derivative": _derivative, "network": _network, "pooling": _pooling,
    "vanishing": _vanishing, "implementation": _implementation,
}
CLASSES: dict[str, type[model.Problem]] = {
    "derivative": model.DerivativeProblem, "network": model.NetworkProblem,
    "pooling": model.PoolingProblem, "vanishing": model.VanishingProblem,
    "implementation": model.ImplementationProblem,
}


# -- the top ---------------------------------------------------------------------------------


def problem(root: Node, file: str | None = None, *, base: Path | None = None) -> model.Problem:
    """The Problem a file's tree describes, or one `InputError` carrying every complaint."""
    r = Reader(file)
    if not isinstance(root, Mapping):
        r.error(root, f"expected a mapping of keys (format: 1, kind: ...), got {describe(root)}")
        raise collect(r.errors)
    _check_format(r, root)
    kind = _kind(r, root)
    values: dict[str, Any] = {}
    if kind is not INVALID:
        _check_keys(r, root, kind)
        values = {**_header(r, root, file), **BUILDERS[kind](r, root, base)}
    if r.errors:
        raise collect(sorted(r.errors, key=lambda e: (e.line or 0, e.column or 0)))
    values = {k: v for k, v in values.items() if v is not INVALID}
    origin = model.Origin(file, positions(root))
    return CLASSES[kind](**values, origin=origin)


def _check_format(r: Reader, root: Mapping) -> None:
    node = root.get("format")
    if node is None:
        r.error(root, f"missing key 'format' (write `format: {fmt.FORMAT}` at the top)")
    elif r.whole(node, "format") not in (INVALID, fmt.FORMAT):
        r.error(node, f"this gradcli reads format {fmt.FORMAT}, not {node.text}", "format",
                "upgrade gradcli, or rewrite the file for format 1")


def _kind(r: Reader, root: Mapping) -> Any:
    node = root.get("kind")
    if node is None:
        return r.error(root, f"missing key 'kind' (one of {', '.join(fmt.KINDS)})")
    return r.choice(node, "kind", list(fmt.KINDS))


def _check_keys(r: Reader, root: Mapping, kind: str) -> None:
    keys = (*fmt.COMMON, *fmt.KINDS[kind])
    allowed = [k.name for k in keys]
    for k, _ in root.items:
        if k.text not in allowed:
            owners = [other for other, ks in fmt.KINDS.items() if k.text in [x.name for x in ks]]
            hint = _suggest(k.text, allowed) or (
                f"{k.text!r} belongs to kind {' or '.join(owners)}" if owners else
                f"the keys of {_a(kind)} problem: {', '.join(allowed)}")
            r.error(k, f"unknown key {k.text!r} in {_a(kind)} problem", hint=hint)
    for key in keys:
        if key.required and root.get(key.name) is None and key.name not in ("format", "kind"):
            r.error(root, f"missing key {key.name!r} (required in {_a(kind)} problem)")


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def positions(root: Node) -> dict[str, tuple[int, int]]:
    """Dotted key -> (line, column) of every value in the file (`forward.z`, `wrt.0`)."""
    out: dict[str, tuple[int, int]] = {}

    def visit(node: Node, path: str) -> None:
        if path:
            out[path] = (node.line, node.column)
        children = node.items if isinstance(node, Mapping) else (
            [(Scalar(str(i), None, 0, 0), x) for i, x in enumerate(node.items)]
            if isinstance(node, Sequence) else [])
        for k, v in children:
            visit(v, f"{path}.{k.text}" if path else k.text)

    visit(root, "")
    return out
