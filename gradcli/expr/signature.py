"""Checking a call against its catalog signature, and reading its arguments by name.

The parser calls `check` on every call it builds, so a call that reaches any later stage
(shapes, gradient rules, SymPy, torch) has exactly the arguments its signature allows, each
of the right kind: `max(0, z)` is the elementwise maximum, never a reduction of 0 along z;
`sum(z, b)` is refused (a dim is an integer literal), never read as sum(z). Later stages
read arguments with `argument` / `literal`, by name, so none of them re-implements the
positional-or-keyword rule and none can ignore an argument the parser accepted.
"""

from __future__ import annotations

import math
from typing import Any

from gradcli import catalog
from gradcli.catalog import CHOICE, INT, SIZE, TENSOR, Arg, Entry
from gradcli.errors import InputError
from gradcli.expr.ast import Call, Name, Node, Num, Str, Unary


def _error(message: str, node: Node, hint: str | None = None) -> InputError:
    return InputError(message, column=node.start + 1, hint=hint)


def bound(call: Call) -> dict[str, Node]:
    """The call's arguments by name: positional ones under their signature's names."""
    entry = catalog.lookup(call.func)
    out: dict[str, Node] = {}
    for arg, node in zip(entry.sig.args, call.args, strict=False):
        out[arg.name] = node
    out.update(call.kwargs)
    return out


def argument(call: Call, name: str) -> Node | None:
    """The node given for `name`, by position or keyword; None when not given."""
    return bound(call).get(name)


def integer(node: Node) -> int | None:
    """The value of an integer literal (`2`, `-1`), else None: `2.0`, `1+1` and names are
    not integer literals."""
    if isinstance(node, Num) and isinstance(node.value, int):
        return node.value
    if isinstance(node, Unary) and isinstance(node.operand, Num) and \
            isinstance(node.operand.value, int):
        return -node.operand.value if node.op == "-" else node.operand.value
    return None


def literal(call: Call, name: str) -> Any:
    """An option's value (a number, a string, or a size node), or the signature's default."""
    from gradcli.expr.constant import constant_value

    entry = catalog.lookup(call.func)
    spec = entry.sig.arg(name)
    node = argument(call, name)
    if node is None:
        return None if spec is None or spec.required else spec.default
    if isinstance(node, Str):
        return node.value
    if spec is not None and spec.kind == INT:
        return integer(node)
    if spec is not None and spec.kind == SIZE:
        return node
    return constant_value(node)


def _where(entry: Entry, arg: Arg, position: int | None) -> str:
    at = f"argument {position}" if position is not None else f"{arg.name}="
    return f"{entry.name}'s {arg.name} ({at})"


def _check_value(entry: Entry, arg: Arg, node: Node, position: int | None) -> None:
    from gradcli.expr.constant import constant_value

    usage = f"usage: {entry.sig.usage(entry.name)}"
    where = _where(entry, arg, position)
    if isinstance(node, Str) and arg.kind != CHOICE:
        raise _error(f"{where} must be {arg.describe()}, not a string", node, usage)
    if arg.kind == TENSOR:
        return
    if arg.kind == CHOICE:
        if not isinstance(node, Str) or node.value not in arg.choices:
            raise _error(f"{where} must be {arg.describe()}", node, usage)
        return
    if arg.kind == SIZE:
        if isinstance(node, Name):
            return  # a dim's name; whether dims declares it is known where shapes are
        value = integer(node)
        if value is None or value < 1:
            raise _error(f"{where} must be {arg.describe()}", node, usage)
        return
    if arg.kind == INT:
        value = integer(node)
        if value is None:
            hint = None
            if entry.name in catalog.PAIRWISE:
                hint = f"for the elementwise {catalog.PAIRWISE[entry.name]} write " \
                       f"{entry.name}(a, b)"
            raise _error(f"{where} must be {arg.describe()}, not {_text(node)}", node,
                         hint or usage)
    else:  # SCALAR
        value = constant_value(node)
        if value is None:
            raise _error(f"{where} must be {arg.describe()}", node, usage)
        if not math.isfinite(value):
            raise _error(f"{where} must be a finite number", node, usage)
    if (arg.low is not None and value < arg.low) or (arg.high is not None and value > arg.high) \
            or (arg.above is not None and value <= arg.above):
        raise _error(f"{where} must be {arg.describe()}, not {value:g}", node, usage)


def _text(node: Node) -> str:
    from gradcli.expr.unparse import unparse

    return repr(unparse(node))


def check(call: Call) -> None:
    """Refuse a call whose arguments its signature does not allow: counts, names, kinds,
    ranges and exclusive pairs; every argument is accounted for."""
    entry = catalog.lookup(call.func)
    sig = entry.sig
    usage = f"usage: {sig.usage(entry.name)}"
    n = len(call.args)
    given_by_keyword = {k for k, _ in call.kwargs}
    if n > sig.most:
        extra = call.args[sig.most]
        raise _error(f"{entry.name} takes at most {sig.most} positional argument"
                     f"{'s' if sig.most != 1 else ''}, got {n}", extra, _pairwise_hint(call) or usage)
    for position, (arg, node) in enumerate(zip(sig.args, call.args, strict=False), start=1):
        if arg.name in given_by_keyword:
            raise _error(f"{entry.name}'s {arg.name} is given twice (argument {position} and "
                         f"{arg.name}=)", node, usage)
        _check_value(entry, arg, node, position)
    for key, node in call.kwargs:
        arg = sig.arg(key)
        if arg is None or arg.kind == TENSOR:
            allowed = sig.keywords
            from gradcli.errors import suggest

            raise _error(f"{entry.name} has no option {key!r} (options: "
                         f"{', '.join(allowed) if allowed else 'none'})", node,
                         suggest(key, allowed) or usage)
        _check_value(entry, arg, node, None)
    given = {a.name for a in sig.args[:n]} | given_by_keyword
    for position, arg in enumerate(sig.args, start=1):
        if arg.required and arg.name not in given:
            raise InputError(f"{entry.name} needs {arg.name} (argument {position}), "
                             f"{arg.describe()}", column=call.start + 1, hint=usage)
    for a, b, why in sig.exclusive:
        if a in given and b in given:
            raise InputError(f"{entry.name}: {why}", column=call.start + 1,
                             hint=f"{entry.name}(X, dim=…) is the reduction along dim")
    if entry.name == "clamp":
        lo, hi = literal(call, "lo"), literal(call, "hi")
        if lo is not None and hi is not None and not lo < hi:
            raise InputError(f"clamp needs lo < hi, got lo={lo:g}, hi={hi:g}",
                             column=call.start + 1, hint=usage)


def _pairwise_hint(call: Call) -> str | None:
    if call.func in catalog.PAIRWISE:
        return f"{call.func}(a, b) is the elementwise {catalog.PAIRWISE[call.func]} of two " \
               f"values; nest it for more: {call.func}(a, {call.func}(b, c))"
    return None
