"""`kind: network`: dims, given shapes, forward lines in order, one loss, wrt, claims, values.

A forward line may use given names and earlier lines only; every expression is parsed with
the names the file declares, so an undeclared or later name is placed at its character.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gradcli.errors import InputError, suggest
from gradcli.problems import schema as fmt
from gradcli.problems._reader import INT, INVALID, Reader, shape
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
    out["given"], out["given_kinds"] = _givens(r, m.get("given"), out["dims"])
    _check_sizes(r, m.get("given"), out["given"], out["dims"])
    given = set(out["given"])
    dims = set(out["dims"])  # a dim is a number in any expression (`/N`, `sqrt(d)`)
    out["forward"] = _forward(r, m.get("forward"), given, dims)
    known = given | {name for name, _ in out["forward"]}
    out["loss"] = _loss(r, m.get("loss"), known, dims)
    out["wrt"] = _wrt(r, m.get("wrt"), known)
    out["claims"] = _claims(r, m.get("claims"), known, out["wrt"], set(out["dims"]))
    out["hessians"] = _hessians(r, m.get("hessians"), out["given"], out["dims"])
    out["hvp"] = _hvp(r, m.get("hvp"), given)
    out["hessian_claims"] = _claims(r, m.get("hessian_claims"), known, out["hessians"],
                                    set(out["dims"]), key="hessian_claims", listed="hessians")
    out["jacobians"] = _jacobians(r, m.get("jacobians"), given, out["forward"], out["loss"])
    out["jacobian_claims"] = _jacobian_claims(r, m.get("jacobian_claims"), known, out["jacobians"],
                                              set(out["dims"]))
    out["values"] = _values(r, m.get("values"), out["given"], out["dims"])
    for name, kind in out["given_kinds"].items():
        if name in out["values"] and out["values"][name] is not INVALID:
            _check_declared(r, m.get("values").get(name), f"values.{name}", out["values"][name],
                            kind, out["dims"])
    if isinstance(out["wrt"], tuple):
        for name in out["wrt"]:
            if name in out["given_kinds"]:
                what = "class labels" if out["given_kinds"][name][0] == "labels" else \
                    "a declared constant (onehot or distribution)"
                r.error(_item(m.get("wrt"), name), f"{name!r} is {what}: it is never "
                        "differentiated", "wrt", f"remove {name} from wrt")
    return out


KINDS = ("labels", "onehot", "distribution")


def _givens(r: Reader, node: Node | None, dims: dict[str, int]) -> tuple[dict, dict]:
    """Each given is a shape (`[N, d]`), or a mapping that declares what its values are:
    `{shape: [N], labels: C}` (integer class labels 0..C−1), `{shape: [N, C], onehot: true}`
    or `{shape: [N, C], distribution: rows}`. The declaration is the only source of such an
    assumption: a plain `[N, C]` is an unconstrained real matrix at every sample point."""
    out: dict[str, Any] = {}
    kinds: dict[str, tuple] = {}
    if node is None or r.mapping(node, "given") is INVALID:
        return out, kinds
    for k, v in node.items:
        name = r.declared(k, "given")
        key = f"given.{k.text}"
        if isinstance(v, Mapping):
            value, kind = _declared_given(r, v, key, dims)
            if name is not INVALID and kind is not None and kind is not INVALID:
                kinds[name] = kind
        else:
            value = shape(r, v, key, dims)
        if name is not INVALID:
            out[name] = value
    return out, kinds


def _declared_given(r: Reader, m: Mapping, key: str, dims: dict[str, int]) -> tuple[Any, Any]:
    for k, _ in m.items:
        if k.text not in ("shape", *KINDS):
            r.error(k, f"{k.text!r} is not a key of a given", key,
                    suggest(k.text, ("shape", *KINDS)) or "a given takes shape and one of "
                    "labels: C, onehot: true, distribution: rows")
    if m.get("shape") is None:
        return r.error(m, "a declared given needs its shape, e.g. {shape: [N], labels: C}",
                       key), INVALID
    value = shape(r, m.get("shape"), f"{key}.shape", dims)
    said = [k for k in m.items if k[0].text in KINDS]
    if not said:
        return value, None
    if len(said) > 1:
        return value, r.error(said[1][0], "declare one of labels, onehot or distribution, not "
                              f"{' and '.join(k.text for k, _ in said)}", key)
    (word, v), = said
    rank = len(value) if value is not INVALID else None
    if word.text == "labels":
        classes = _classes(r, v, f"{key}.labels", dims)
        if rank is not None and rank != 1:
            return value, r.error(word, f"class labels are one per sample: the shape must be "
                                  f"[N], not {_shown(value)}", key,
                                  "one label per row of the logits, e.g. {shape: [N], labels: C}")
        return value, INVALID if classes is INVALID else ("labels", classes)
    if word.text == "onehot":
        flag = r.boolean(v, f"{key}.onehot")
        if flag is False:
            return value, r.error(v, "onehot: false declares nothing; leave it out for an "
                                  "unconstrained real matrix", key)
        kind: Any = INVALID if flag is INVALID else ("onehot", None)
    else:
        kind = r.choice(v, f"{key}.distribution", ("rows",))
        kind = INVALID if kind is INVALID else ("distribution", None)
    if rank is not None and (rank != 2 or dims.get(value[1], value[1]) == 1):
        return value, r.error(word, f"{word.text} rows need a 2-D shape [N, C] (a row per "
                              f"sample, C ≥ 2 classes), not {_shown(value)}", key,
                              "for one sample write [1, C]")
    return value, kind


def _classes(r: Reader, node: Node, key: str, dims: dict[str, int]) -> Any:
    """The number of classes: a dim name or a whole number of at least 2."""
    if r.is_null(node):
        return r.error(node, "labels needs the number of classes, a dim name or a number "
                       "(labels: C)", key)
    if isinstance(node, Scalar) and node.plain and INT.fullmatch(node.text):
        return r.whole(node, key, low=2, high=fmt.MAX_DIM)
    name = r.name(node, key, "the number of classes (a dim name or a number)")
    if name is not INVALID and name not in dims:
        return r.error(node, f"{name!r} is not a declared dim", key,
                       suggest(name, dims) or f"declare it under dims, e.g. dims: {{{name}: 3}}")
    return name


def _shown(value: Any) -> str:
    return "a scalar" if not value else f"[{', '.join(map(str, value))}]"


def _item(node: Node | None, name: str) -> Node:
    """The list item of `wrt` that names `name` (or the list itself)."""
    items = node.items if isinstance(node, Sequence) else ()
    return next((x for x in items if isinstance(x, Scalar) and x.text == name), node)


def _check_declared(r: Reader, node: Node, key: str, value: Any, kind: tuple,
                    dims: dict[str, int]) -> None:
    """A file's values for a declared given obey the declaration, as every sample point does."""
    if kind[0] == "labels":
        classes = kind[1] if isinstance(kind[1], int) else dims.get(kind[1])
        for i, x in enumerate(value):
            if x != int(x) or not 0 <= x < (classes or 0):
                r.error(node.items[i] if isinstance(node, Sequence) else node,
                        f"a class label is a whole number from 0 to {(classes or 0) - 1}, "
                        f"got {x:g}", f"{key}[{i}]")
        return
    for i, row in enumerate(value):
        bad = ""
        if kind[0] == "onehot" and (any(x not in (0, 1) for x in row) or sum(row) != 1):
            bad = "a one-hot row has a single 1 and 0 elsewhere"
        if kind[0] == "distribution" and (any(x < 0 for x in row) or abs(sum(row) - 1) > 1e-9):
            bad = "a distribution's row is non-negative and sums to 1"
        if bad:
            r.error(node.items[i] if isinstance(node, Sequence) else node,
                    f"{bad}, got {list(row)}", f"{key}[{i}]", f"{key.split('.')[-1]} is "
                    f"declared {kind[0]}")


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


VEC = re.compile(r"\s*vec\(\s*(?P<name>[A-Za-z][A-Za-z0-9_]*)\s*\)\s*\Z")


def _hessians(r: Reader, node: Node | None, given: dict, dims: dict[str, int]) -> Any:
    """`hessians: [w]`: given variables whose ∂²L/∂w² is derived (hessian.py says which); a
    matrix W is written `vec(W)`, so the file says which ordering its mn×mn Hessian has."""
    if node is None:
        return ()
    items = r.items(node, "hessians")
    if items is INVALID:
        return INVALID
    out: list[str] = []
    for item in items:
        inner = VEC.match(item.text) if isinstance(item, Scalar) else None
        name = inner["name"] if inner is not None else r.name(item, "hessians")
        if name is INVALID:
            continue
        if name not in given:
            r.error(item, f"{name!r} is not a given variable", "hessians", suggest(name, given))
            continue
        shape = given[name]
        matrix = isinstance(shape, tuple) and len(shape) == 2 and dims.get(shape[1], shape[1]) != 1
        if matrix and inner is None:
            r.error(item, f"{name} is a matrix: its Hessian is taken through vec({name}), the "
                    "columns stacked", "hessians", f"write hessians: [vec({name})]")
        elif inner is not None and not matrix:
            r.error(item, f"{name} is not a matrix, so vec({name}) is {name} itself", "hessians",
                    f"write hessians: [{name}]")
        elif name not in out:
            out.append(name)
    return tuple(out)


def _hvp(r: Reader, node: Node | None, given: set[str]) -> dict[str, str]:
    """`hvp: {w: v}`: the Hessian-vector product H·v, v a given shaped like w."""
    out: dict[str, str] = {}
    if node is None or r.mapping(node, "hvp") is INVALID:
        return out
    for k, v in node.items:
        name, direction = r.name(k, "hvp"), r.name(v, f"hvp.{k.text}")
        for item, value in ((k, name), (v, direction)):
            if value is not INVALID and value not in given:
                r.error(item, f"{value!r} is not a given variable", "hvp", suggest(value, given))
        if name is not INVALID and direction is not INVALID:
            out[name] = direction
    return out


BY = re.compile(r"\s*(?P<of>\S+)\s+by\s+(?P<wrt>\S+)\s*\Z")


def _jacobians(r: Reader, node: Node | None, given: set[str], forward: Any,
               loss: Any) -> Any:
    """`jacobians: ["h by x"]`: ∂h/∂x for a forward line h and a given or earlier line x that
    h is computed from (jacobian.py derives it). Each name is placed at its character."""
    if node is None:
        return ()
    items = r.items(node, "jacobians")
    if items is INVALID:
        return INVALID
    lines = [name for name, _ in forward] if isinstance(forward, tuple) else []
    loss_name = loss[0] if isinstance(loss, tuple) else None
    out: list[tuple[str, str]] = []
    for item in items:
        key = "jacobians"
        said = BY.match(item.text) if isinstance(item, Scalar) else None
        if said is None:
            r.wrong(item, key, '"OF by WRT", e.g. "h by x"',
                    'the Jacobian ∂h/∂x of a forward line h by a given or earlier line x: '
                    '"h by x"')
            continue
        of, wrt = _canonical(said["of"]), _canonical(said["wrt"])
        bad = _jacobian_names(_unvec(of), _unvec(wrt), given, lines, loss_name)
        if bad is not None:
            which, message, hint = bad
            line, column = item.position(said.start(which))
            r.errors.append(InputError(f"{key}: {message}", file=r.file, line=line,
                                       column=column, hint=hint))
        elif (of, wrt) in out:
            r.error(item, f"{item.text.strip()!r} is listed twice", key)
        else:
            out.append((of, wrt))
    return tuple(out)


def _canonical(text: str) -> str:
    """vec(W) however it was spaced (vec( W )), so a claim's key finds its request."""
    inner = VEC.match(text)
    return f"vec({inner['name']})" if inner else text


def _unvec(text: str) -> str:
    """W for vec(W): which matrices may be vec'd is known once the shapes are (jacobian.py)."""
    inner = VEC.match(text)
    return inner["name"] if inner else text


def _jacobian_names(of: str, wrt: str, given: set[str], lines: list[str],
                    loss: str | None) -> tuple[str, str, str | None] | None:
    """What is wrong with a request "of by wrt" (the group to point at, the message, a hint),
    or None. Order decides dependence here: a line can use only what comes before it."""
    known = [*given, *lines]
    if of == loss:
        return ("of", f"{of!r} is the loss, a scalar: its derivatives are the gradients",
                f"list the variables in wrt, or ask for a forward line, e.g. \"{lines[-1]} by "
                f"{wrt}\"" if lines else "list the variables in wrt")
    if of in given:
        return ("of", f"{of!r} is a given, not computed from anything",
                f"ask for a forward line by it, e.g. \"{lines[-1]} by {of}\"" if lines else
                "add a forward line that uses it")
    if of not in lines:
        return ("of", f"{of!r} is not a forward line", suggest(of, lines) or
                ("a Jacobian is of a forward line" if lines else "add a forward: section"))
    if wrt == of:
        return ("wrt", f"∂{of}/∂{of} is the identity", "ask for a given or earlier line")
    if wrt == loss:
        return ("wrt", f"{wrt!r} is the loss, computed from {of}, not the other way",
                f"ask for \"{of} by\" a given or an earlier line")
    if wrt not in known:
        return ("wrt", f"{wrt!r} is not a given or forward variable", suggest(wrt, known))
    if wrt in lines and lines.index(wrt) > lines.index(of):
        return ("wrt", f"{wrt!r} is computed after {of}, so {of} cannot depend on it",
                f"did you mean \"{wrt} by {of}\"?")
    return None


def _jacobian_claims(r: Reader, node: Node | None, known: set[str], listed: Any,
                     dims: set[str]) -> dict[tuple[str, str], str]:
    """`jacobian_claims: {h by x: ...}`: your own ∂h/∂x for a request listed in jacobians."""
    out: dict[tuple[str, str], str] = {}
    if node is None or r.mapping(node, "jacobian_claims") is INVALID:
        return out
    for k, v in node.items:
        said = BY.match(k.text)
        pair = (_canonical(said["of"]), _canonical(said["wrt"])) if said else None
        if pair is None:
            r.wrong(k, "jacobian_claims", '"OF by WRT" as the key, e.g. h by x: W')
        elif listed is not INVALID and pair not in listed:
            r.error(k, f"{k.text!r} is not in jacobians, so its Jacobian is not derived",
                    "jacobian_claims", f'add "{said["of"]} by {said["wrt"]}" to jacobians')
        key = f"jacobian_claims.{k.text}"
        if r.expression(v, key, known | dims) is not INVALID and pair is not None:
            out[pair] = v.text
    return out


def _claims(r: Reader, node: Node | None, known: set[str], wrt: Any,
            dims: set[str] = frozenset(), *, key: str = "claims",
            listed: str = "wrt") -> dict[str, str]:
    """A claim may use the dims as numbers (`/N` for a mean), as the hints write them."""
    out: dict[str, str] = {}
    if node is None or r.mapping(node, key) is INVALID:
        return out
    for k, v in node.items:
        inner = VEC.match(k.text) if key == "hessian_claims" else None  # as hessians lists it
        name = inner["name"] if inner else r.name(k, key)
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


def _number(r: Reader, node: Node, key: str, dims: dict) -> Any:
    """A number, or a dim's name standing for its size (`lam: N`, as in expressions)."""
    if isinstance(node, Scalar) and node.plain and isinstance(dims.get(node.text), int):
        return float(dims[node.text])
    return r.number(node, key)


def _tensor(r: Reader, node: Node, key: str, shape: Any, dims: dict) -> Any:
    """Numbers for a given of known shape: a number, a list, or a list of rows."""
    if shape is INVALID:
        return INVALID
    sizes = [s if isinstance(s, int) else dims.get(s) for s in shape]
    sizes = [None if s is INVALID else s for s in sizes]
    if not shape:
        return _number(r, node, key, dims)
    if not isinstance(node, Sequence):
        return r.wrong(node, key, f"a list for shape [{', '.join(map(str, shape))}]")
    rows = node.items
    if sizes[0] is not None and len(rows) != sizes[0]:
        return r.error(node, f"has {len(rows)} entries but the shape "
                       f"[{', '.join(map(str, shape))}] needs {sizes[0]}", key)
    if len(shape) == 1:
        if all(isinstance(x, Sequence) and len(x.items) == 1 for x in rows):
            rows = tuple(x.items[0] for x in rows)  # [[1], [2]]: a column written as rows
        numbers = [_number(r, x, f"{key}[{i}]", dims) for i, x in enumerate(rows)]
        return tuple(numbers) if r.check_all(numbers) else INVALID
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, Sequence):
            out.append(r.wrong(row, f"{key}[{i}]", "a row (a list of numbers)"))
        elif sizes[1] is not None and len(row.items) != sizes[1]:
            out.append(r.error(row, f"row has {len(row.items)} numbers but the shape needs "
                               f"{sizes[1]}", f"{key}[{i}]"))
        else:
            numbers = [_number(r, x, f"{key}[{i}][{j}]", dims) for j, x in enumerate(row.items)]
            out.append(tuple(numbers) if r.check_all(numbers) else INVALID)
    return tuple(out) if r.check_all(out) else INVALID
