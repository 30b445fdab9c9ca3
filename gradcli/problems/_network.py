"""`kind: network`: dims, given shapes, forward lines in order, one loss, wrt, claims, values.

A forward line may use given names and earlier lines only; every expression is parsed with
the names the file declares, so an undeclared or later name is placed at its character.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradcli.errors import InputError, suggest
from gradcli.problems import schema as fmt
from gradcli.problems._reader import INVALID, Reader, shapes
from gradcli.problems.nodes import Mapping, Node, Scalar, Sequence


def network(r: Reader, m: Mapping, base: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {"dims": {}}
    dims_node = m.get("dims")
    if dims_node is not None and r.mapping(dims_node, "dims") is not INVALID:
        for k, v in dims_node.items:
            name = r.name(k, "dims")
            size = r.whole(v, f"dims.{k.text}", low=1, high=fmt.MAX_DIM)
            if name is not INVALID:
                out["dims"][name] = size
    out["given"] = shapes(r, m.get("given"), "given", out["dims"])
    _check_sizes(r, m.get("given"), out["given"], out["dims"])
    given = set(out["given"])
    dims = set(out["dims"])  # a dim is a number in any expression (`/N`, `sqrt(d)`)
    out["forward"] = _forward(r, m.get("forward"), given, dims)
    known = given | {name for name, _ in out["forward"]}
    out["loss"] = _loss(r, m.get("loss"), known, dims)
    out["wrt"] = _wrt(r, m.get("wrt"), known)
    out["claims"] = _claims(r, m.get("claims"), known, out["wrt"], set(out["dims"]))
    out["hessians"] = _hessians(r, m.get("hessians"), given)
    out["hessian_claims"] = _claims(r, m.get("hessian_claims"), known, out["hessians"],
                                    set(out["dims"]), key="hessian_claims", listed="hessians")
    out["values"] = _values(r, m.get("values"), out["given"], out["dims"])
    return out


def _check_sizes(r: Reader, node: Node | None, given: dict, dims: dict[str, int]) -> None:
    """Refuse a tensor too large to check before a single entry is allocated."""
    if not isinstance(node, Mapping) or not isinstance(given, dict):
        return
    for k, v in node.items:
        shape = given.get(k.text)
        if not isinstance(shape, tuple) or not shape:
            continue
        entries = 1
        for d in shape:
            size = d if isinstance(d, int) else dims.get(d, 1)
            entries *= size if isinstance(size, int) else 1
        if entries > fmt.MAX_TENSOR_ENTRIES:
            r.error(v, f"{k.text} would have {entries:,} entries; at most "
                       f"{fmt.MAX_TENSOR_ENTRIES:,} can be checked numerically", f"given.{k.text}",
                    hint="the derivation does not depend on the size: use smaller dims")


def _forward(r: Reader, node: Node | None, given: set[str], dims: set[str] = frozenset()) -> Any:
    if node is None or r.mapping(node, "forward") is INVALID:
        return ()
    order = {k.text: i for i, (k, _) in enumerate(node.items) if k.text not in given}
    lines: list[tuple[str, str]] = []
    for index, (k, v) in enumerate(node.items):
        key = f"forward.{k.text}"
        name = r.declared(k, "forward", reserved=given)
        tree = r.expression(v, key, given | set(order) | dims)
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


def _loss(r: Reader, node: Node | None, known: set[str], dims: set[str] = frozenset()) -> Any:
    if node is None:
        return INVALID
    if isinstance(node, Scalar):
        tree = r.expression(node, "loss", known | dims)
        return INVALID if tree is INVALID else ("L", node.text)
    if r.mapping(node, "loss") is INVALID:
        return INVALID
    if len(node.items) != 1:
        return r.error(node, f"expected one entry (name: expression), got {len(node.items)}",
                       "loss")
    k, v = node.items[0]
    name = r.declared(k, "loss", reserved=known)
    tree = r.expression(v, f"loss.{k.text}", known | dims)
    return (name, v.text) if name is not INVALID and tree is not INVALID else INVALID


def _wrt(r: Reader, node: Node | None, known: set[str]) -> Any:
    if node is None:
        return INVALID
    items = r.items(node, "wrt")
    if items is INVALID:
        return INVALID
    if not items:  # the schema's minItems: 1; an empty list asked for nothing
        return r.error(node, "expected at least one variable to differentiate by", "wrt",
                       f"e.g. wrt: [{sorted(known)[0]}]" if known else None)
    out: list[str] = []
    for item in items:
        name = r.name(item, "wrt")
        if name is INVALID:
            continue
        if name not in known:
            r.error(item, f"{name!r} is not a given or forward variable", "wrt",
                    suggest(name, known))
        elif name in out:
            r.error(item, f"{name!r} is listed twice", "wrt")
        else:
            out.append(name)
    return tuple(out)


def _hessians(r: Reader, node: Node | None, given: set[str]) -> Any:
    """`hessians: [w]`: given variables whose ∂²L/∂w² is derived (hessian.py says which)."""
    if node is None:
        return ()
    items = r.items(node, "hessians")
    if items is INVALID:
        return INVALID
    out: list[str] = []
    for item in items:
        name = r.name(item, "hessians")
        if name is INVALID:
            continue
        if name not in given:
            r.error(item, f"{name!r} is not a given variable", "hessians", suggest(name, given))
        elif name not in out:
            out.append(name)
    return tuple(out)


def _claims(r: Reader, node: Node | None, known: set[str], wrt: Any,
            dims: set[str] = frozenset(), *, key: str = "claims",
            listed: str = "wrt") -> dict[str, str]:
    """A claim may use the dims as numbers (`/N` for a mean), as the hints write them."""
    out: dict[str, str] = {}
    if node is None or r.mapping(node, key) is INVALID:
        return out
    for k, v in node.items:
        name = r.name(k, key)
        if name is not INVALID and name not in known:
            r.error(k, f"{name!r} is not a given or forward variable", key,
                    suggest(name, known))
        elif name is not INVALID and wrt is not INVALID and name not in wrt:
            what = "gradient" if key == "claims" else "Hessian"
            r.error(k, f"{name!r} is not in {listed}, so its {what} is not derived", key,
                    f"add {name} to {listed}")
        if r.expression(v, f"{key}.{k.text}", known | dims) is not INVALID and name is not INVALID:
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
                    suggest(name, given) or "forward values are computed from the given ones")
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
