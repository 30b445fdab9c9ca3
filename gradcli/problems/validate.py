"""A YAML tree (`load.py`) -> a Problem (`model.py`), with every complaint placed in the file.

Nothing stops at the first mistake: the readers (`_reader.py`) record an `InputError` with
the value's line and column and return `INVALID`, and `problem()` raises them all together,
in file order. Network and pooling problems have their own modules; the small kinds are here.

Expressions are parsed now, with the names the file declares, so a bad one points at its
character in the file; the Problem keeps the text and an `Origin` that lets solvers point
their own later errors at the same place.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradcli import catalog
from gradcli.errors import collect, suggest
from gradcli.problems import model
from gradcli.problems import schema as fmt
from gradcli.problems._network import network
from gradcli.problems._pooling import pooling
from gradcli.problems._reader import (
    DOTTED,
    IDENT,
    INVALID,
    Reader,
    describe,
    shapes,
)
from gradcli.problems.nodes import Mapping, Node, Scalar, Sequence

BUILTIN = "builtin:"  # reference: builtin:NAME (see _reference)


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
    if isinstance(wrt, Sequence) and len(wrt.items) == 1:  # wrt: [x], as network files write it
        wrt = wrt.items[0]
    elif isinstance(wrt, Sequence):
        r.error(wrt, f"a derivative problem differentiates by one variable, got "
                     f"{len(wrt.items)}", "wrt", "write one file per variable, or use kind: network")
        wrt = None
    if wrt is not None:
        out["wrt"] = r.name(wrt, "wrt")
        if out["wrt"] is not INVALID and names and out["wrt"] not in names:
            r.error(wrt, f"{out['wrt']!r} does not appear in the function (its variables: "
                    f"{', '.join(sorted(names))})", "wrt", suggest(out["wrt"], names))
    if m.get("at") is not None:
        points = r.items(m.get("at"), "at")
        out["at"] = INVALID if points is INVALID else tuple(
            r.number(p, f"at[{i}]") for i, p in enumerate(points))
    if m.get("claim") is not None:
        # A wrt that did not read as a name is already reported; the claim is then read
        # against the function's own variables (or x), never against the INVALID marker.
        wrt_name = out.get("wrt") if isinstance(out.get("wrt"), str) else "x"
        variables = (names or {wrt_name}) | {wrt_name}
        if r.expression(m.get("claim"), "claim", variables) is not INVALID:
            out["claim"] = m.get("claim").text
    for key in ("steps", "check"):
        if m.get(key) is not None:
            out[key] = r.boolean(m.get(key), key)
    if m.get("order") is not None:
        out["order"] = r.whole(m.get("order"), "order", low=1, high=fmt.MAX_ORDER)
    return out

def _vanishing(r: Reader, m: Mapping, base: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    node = m.get("activations")
    if node is not None:
        items = r.items(node, "activations")
        if items is not INVALID:
            # Every elementwise name is read (log is then refused for its domain, at its
            # place); the complaint offers only those that can be activations.
            choices = [n for n in catalog.ENTRIES if catalog.is_elementwise(n)]
            shown = catalog.activation_names()
            out["activations"] = tuple(r.choice(x, "activations", choices, shown)
                                       for x in items) \
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
    out["inputs"] = shapes(r, m.get("inputs"), "inputs", None)
    _input_budget(r, m.get("inputs"), out["inputs"])
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


MAX_INPUT_ENTRIES = 250_000  # per input of an implementation problem (500×500)


def _input_budget(r: Reader, node: Node | None, inputs: dict[str, Any]) -> None:
    """Fixed sizes are used as written, and every case builds the input and the reference in
    float64 (and the child again): 100000×100000 asked for 80 GB and ended in exit 3."""
    if not isinstance(node, Mapping):
        return
    for key, value in node.items:
        shape = inputs.get(key.text)
        if not isinstance(shape, tuple) or not all(isinstance(d, int) for d in shape):
            continue
        entries = math.prod(shape)
        if entries > MAX_INPUT_ENTRIES:
            r.error(value, f"{key.text} has {entries:,} entries; an implementation exercise takes "
                           f"at most {MAX_INPUT_ENTRIES:,} per input",
                    f"inputs.{key.text}", "use a dim name (drawn small per case) or smaller sizes")


def _reference(r: Reader, node: Node, inputs: dict[str, Any]) -> Any:
    """An expression of the inputs and their dim names (`sum(X, dim=0)/m`), or `builtin:NAME`:
    a reference written in Python inside gradcli, for what the language cannot state (q2's
    row reversal needs indexing); `gradcli.kinds.implementation` checks that NAME exists."""
    if isinstance(node, Scalar) and node.text.startswith(BUILTIN):
        name = node.text[len(BUILTIN):]
        if not IDENT.fullmatch(name):
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
                    suggest(k.text, allowed) or f"constraints are {', '.join(allowed)}")
        elif k.text == "one_line":
            out["one_line"] = r.boolean(v, "constraints.one_line")
        else:
            items = r.items(v, "constraints.forbid")
            if items is not INVALID:
                out["forbid"] = tuple(_dotted(r, x) for x in items)
    return out


def _dotted(r: Reader, node: Node) -> Any:
    if isinstance(node, Scalar) and DOTTED.fullmatch(node.text):
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
    "derivative": _derivative, "network": network, "pooling": pooling,
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
            hint = suggest(k.text, allowed) or (
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
