"""Static checks of a solution file, with Python's `ast`: nothing in the file is run here.

Forbidden calls. `forbid: [torch.mean]` forbids every way of naming that function that can
be seen without running the file: `torch.mean` under any import alias (`import torch as t`,
`from torch import mean as avg`, `from torch import *`), the tensor method (`X.mean()`,
`torch.Tensor.mean`; any attribute `.mean` on a value, since its type is unknown statically),
and `getattr(x, "mean")`. A use counts even if it is never called (`f = torch.mean`). What
static analysis cannot see (names built at run time) the child process catches by patching.

One line (`one_line: true`), precisely: after an optional docstring, the function's body is
one simple statement (not a block such as `for`, `if`, `with`) written on one physical line,
optionally followed by a `return NAME` (the worksheet's template ends in `return X`); and the
function calls no helper defined in the same file (code moved into a helper is not one line).
`def f(X): return ...` on the `def` line counts. A function bound by assignment
(`f = lambda X: ...`) must be one assignment on one physical line.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from gradcli.errors import InputError, suggest

MAX_SOLUTION_BYTES = 1_000_000
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")
METHOD_OWNERS = ("Tensor", "ndarray")  # torch.Tensor.mean is torch.mean as a method

ONE_LINE_RULE = ("one line: after an optional docstring, the body is one simple statement on "
                 "one physical line, optionally followed by `return NAME` (the template's "
                 "`return X`), and it calls no helper defined in the file")


@dataclass(frozen=True)
class Violation:
    rule: str  # "forbid" | "one_line"
    what: str  # the forbidden function, or what breaks the one-line rule
    detail: str  # how it was used, e.g. "X.mean(...) (the tensor method)"
    line: int | None = None
    column: int | None = None
    source: str = ""  # the offending source line, stripped

    def to_json(self) -> dict:
        return {"rule": self.rule, "what": self.what, "detail": self.detail, "line": self.line,
                "column": self.column, "source": self.source}


@dataclass(frozen=True)
class Solution:
    """A parsed solution file: the checked source, and where its function is defined."""

    path: Path
    source: str
    tree: ast.Module
    function: ast.AST  # a FunctionDef, or the Assign that binds the name

    def line(self, number: int | None) -> str:
        lines = self.source.splitlines()
        return lines[number - 1].strip() if number and 0 < number <= len(lines) else ""


def check_forbid_names(forbid: tuple[str, ...]) -> None:
    bad = [f for f in forbid if not isinstance(f, str) or not _DOTTED.fullmatch(f)]
    if bad:
        raise InputError(f"constraints.forbid: {bad[0]!r} is not a dotted name like torch.mean")


def read(path: str | Path, function: str) -> Solution:
    """Parse the file and find `function`; bad input (missing, syntax error, no such function)
    raises InputError with the line and column."""
    path = Path(path)
    if not path.is_file():
        # The child process opens the file again by its path, so a pipe (<(cat x.py)) that the
        # parent has read is empty for it: only a regular file can be checked and then run.
        what = ("is a directory" if path.is_dir() else
                "is not a regular file (a pipe or device cannot be read twice)" if path.exists()
                else "not found")
        raise InputError(f"solution file {what}: {path}", hint="give the path to a .py file")
    if path.stat().st_size > MAX_SOLUTION_BYTES:
        raise InputError("solution file is larger than 1 MB", file=str(path))
    data = path.read_bytes()
    try:
        tree = ast.parse(data, filename=str(path))
    except SyntaxError as exc:
        raise InputError(f"syntax error in the solution: {exc.msg}", file=str(path),
                         line=exc.lineno, column=exc.offset) from None
    except ValueError as exc:  # null bytes
        raise InputError(f"cannot read the solution as Python: {exc}", file=str(path)) from None
    source = data.decode("utf-8", "replace")
    return Solution(path, source, tree, _definition(tree, function, path))


def _definition(tree: ast.Module, function: str, path: Path) -> ast.AST:
    defined: list[str] = []
    found = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.append(node.name)
            if node.name == function:
                found = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    defined.append(target.id)
                    if target.id == function:
                        found = node
    if found is None:
        hint = suggest(function, defined) or (
            f"the file defines: {', '.join(defined)}" if defined else "the file defines no function")
        raise InputError(f"no function named {function!r} at the top level of the solution",
                         file=str(path), hint=hint)
    if isinstance(found, ast.AsyncFunctionDef | ast.ClassDef):
        kind = "an async function" if isinstance(found, ast.AsyncFunctionDef) else "a class"
        raise InputError(f"{function!r} is {kind}; the exercise needs a plain function",
                         file=str(path), line=found.lineno, column=found.col_offset + 1)
    return found


# -- forbidden uses -------------------------------------------------------------------------


def forbidden_uses(solution: Solution, forbid: tuple[str, ...]) -> list[Violation]:
    if not forbid:
        return []
    aliases, star_modules = _imports(solution.tree)
    by_name: dict[str, str] = {}
    for f in forbid:  # the first entry names a method: .mean is torch.mean before numpy.mean
        by_name.setdefault(f.rsplit(".", 1)[1], f)
    found: dict[tuple[int, int], Violation] = {}
    for node in ast.walk(solution.tree):
        hit = _forbidden(node, forbid, by_name, aliases, star_modules)
        if hit is not None:
            what, detail = hit
            key = (node.lineno, node.col_offset)
            found.setdefault(key, Violation("forbid", what, detail, node.lineno,
                                            node.col_offset + 1, solution.line(node.lineno)))
    return [found[k] for k in sorted(found)]


def _imports(tree: ast.Module) -> tuple[dict[str, str], list[str]]:
    """Local name -> dotted path it is bound to by an import; modules star-imported."""
    aliases: dict[str, str] = {}
    stars: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name == "*":
                    stars.append(node.module)
                else:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases, stars


def _resolve(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The dotted path an expression names through imports, or None for a computed value."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    return None


def _equivalents(dotted: str) -> set[str]:
    module, name = dotted.rsplit(".", 1)
    return {dotted, *(f"{module}.{owner}.{name}" for owner in METHOD_OWNERS)}


def _forbidden(node, forbid, by_name, aliases, stars) -> tuple[str, str] | None:
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        path = aliases.get(node.id)
        if path is None and node.id in by_name and by_name[node.id].rsplit(".", 1)[0] in stars:
            path = by_name[node.id]
        return _match(path, forbid, f"{node.id} (imported as {path})" if path else "")
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
        path = _resolve(node, aliases)
        if path is not None:
            hit = _match(path, forbid, path)
            if hit is not None:
                return hit
        if node.attr in by_name:  # a method on a value: X.mean(), X.sum(0).mean()
            if path is not None:  # torch._C._VariableFunctions.mean: torch.mean by another path
                return by_name[node.attr], f"{path} ({by_name[node.attr]} under another name)"
            base = _short(ast.unparse(node.value))
            return by_name[node.attr], f"{base}.{node.attr} (the method form of {by_name[node.attr]})"
        private = [p for p in (path or "").split(".")[1:] if p.startswith("_") and not p.startswith("__")]
        if private:  # torch._C: where forbidden functions live under other names
            return (f"private internals ({path.split('.')[0]}.{private[0]})",
                    f"{path} (private internals reach forbidden functions under other names)")
        return None
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
            and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in by_name):
        name = node.args[1].value
        return by_name[name], f'getattr(..., "{name}")'
    return None


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _match(path: str | None, forbid: tuple[str, ...], detail: str) -> tuple[str, str] | None:
    if path is None:
        return None
    for f in forbid:
        if path in _equivalents(f):
            return f, detail
    return None


# -- one line -------------------------------------------------------------------------------


def one_line(solution: Solution) -> list[Violation]:
    node = solution.function
    if isinstance(node, ast.Assign):
        if node.lineno != node.end_lineno:
            return [_broken(solution, node, f"the assignment spans lines {node.lineno}-{node.end_lineno}")]
        return []
    body = list(node.body)
    if body and _is_docstring(body[0]):
        body = body[1:]
    besides = ""
    if len(body) >= 2 and _returns_a_name(body[-1]):
        besides = f" besides the final `return {body[-1].value.id}`"
        body = body[:-1]
    problems: list[Violation] = []
    if len(body) != 1:
        where = body[1] if len(body) > 1 else node
        problems.append(_broken(solution, where, f"the body has {len(body)} statements{besides}"))
    else:
        statement = body[0]
        if not _is_simple(statement):
            problems.append(_broken(solution, statement,
                                    f"a {type(statement).__name__.lower()} block is not one line"))
        elif statement.lineno != statement.end_lineno:
            problems.append(_broken(solution, statement,
                                    f"the statement spans lines {statement.lineno}-{statement.end_lineno}"))
    problems.extend(_helpers(solution, node))
    return problems


def _broken(solution: Solution, node: ast.AST, detail: str) -> Violation:
    return Violation("one_line", "one line of code", detail, node.lineno, node.col_offset + 1,
                     solution.line(node.lineno))


def _is_docstring(statement: ast.stmt) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def _returns_a_name(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Return) and isinstance(statement.value, ast.Name)


_BLOCKS = tuple(getattr(ast, name) for name in (
    "For", "AsyncFor", "While", "If", "With", "AsyncWith", "Try", "TryStar", "Match",
    "FunctionDef", "AsyncFunctionDef", "ClassDef") if hasattr(ast, name))


def _is_simple(statement: ast.stmt) -> bool:
    return not isinstance(statement, _BLOCKS)


def _helpers(solution: Solution, function: ast.AST) -> list[Violation]:
    """Calls from the function to functions, classes or lambdas defined in the same file."""
    local: dict[str, int] = {}
    for node in solution.tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node is not function:
            local[node.name] = node.lineno
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    local[target.id] = node.lineno
    out = []
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in local:
            out.append(Violation("one_line", "one line of code",
                                 f"calls {node.id}, defined at line {local[node.id]} of the file",
                                 node.lineno, node.col_offset + 1, solution.line(node.lineno)))
    return out


# -- dynamic code ---------------------------------------------------------------------------

DYNAMIC = "refused: dynamic code"
DYNAMIC_RULE = ("dynamic code is refused, since constraints are judged by reading the file: "
                "imports other than torch, math, numpy and a few standard modules; exec, eval, "
                "compile, open, getattr with a computed name; dunder and private attributes "
                "(torch._C); torch.ops, torch.library, torch.jit, torch.utils; frames")
# Modules a constrained solution may import (and their public submodules).
ALLOWED_MODULES = ("torch", "math", "numpy", "typing", "__future__", "functools", "itertools",
                   "collections", "dataclasses", "numbers")
# Builtins that run, reach or rebind code by name: with them no static check means anything.
DYNAMIC_BUILTINS = ("exec", "eval", "compile", "__import__", "setattr", "delattr", "globals",
                    "locals", "vars", "breakpoint", "open", "__build_class__")
# Attributes that load, compile or reach code outside the file's text (torch.ops.aten.mean,
# torch.library, torch.utils.cpp_extension, torch.jit, torch.load's pickles, numpy.ctypeslib).
DYNAMIC_ATTRIBUTES = ("ops", "library", "classes", "utils", "hub", "jit", "package", "compiler",
                      "ctypeslib", "f2py", "distutils", "load", "save", "compile", "fromfile",
                      "tofile", "import_module", "modules", "builtins", "system", "popen")
# Frames, code objects and generator internals (f_globals, gi_frame, tb_frame, co_code...).
FRAME_PREFIXES = ("f_", "gi_", "cr_", "ag_", "tb_", "co_")


def dynamic_code(solution: Solution) -> list[Violation]:
    """Everything that would let the file do what its text does not show: with constraints,
    a solution is judged by reading it, so what cannot be read is refused (an allow-list of
    imports, no code built at run time, no dunder or private attributes, no frames)."""
    found: dict[tuple[int, int], Violation] = {}

    def refuse(node: ast.AST, detail: str) -> None:
        key = (node.lineno, node.col_offset)
        found.setdefault(key, Violation("dynamic", DYNAMIC, detail, node.lineno,
                                        node.col_offset + 1, solution.line(node.lineno)))

    for node in ast.walk(solution.tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else ["." * node.level + (node.module or "")])
            for module in modules:
                why = _module_refused(module)
                if why:
                    refuse(node, f"import of {module} ({why})")
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name != "*" and _attribute_refused(alias.name):
                        refuse(node, f"import of {node.module}.{alias.name} "
                                     f"({_attribute_refused(alias.name)})")
        elif isinstance(node, ast.Name):
            if node.id in DYNAMIC_BUILTINS:
                refuse(node, f"{node.id} (runs or reaches code by name)")
            elif node.id.startswith("__") and node.id != "__name__":
                refuse(node, f"{node.id} (interpreter internals)")
            elif node.id in ("getattr", "hasattr"):
                call = _parent_call(solution.tree, node)
                name = call.args[1] if call is not None and len(call.args) >= 2 else None
                if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                    refuse(node, f"{node.id} with a name computed at run time")
                elif _attribute_refused(name.value):
                    refuse(node, f'{node.id}(..., "{name.value}") ({_attribute_refused(name.value)})')
        elif isinstance(node, ast.Attribute):
            why = _attribute_refused(node.attr)
            if why:
                refuse(node, f".{node.attr} ({why})")
        elif isinstance(node, ast.MatchClass) and node.kwd_attrs:
            refuse(node, "a class pattern with keywords (it reads attributes by name)")
    return [found[k] for k in sorted(found)]


def _module_refused(module: str) -> str:
    parts = module.split(".")
    if not parts[0] or parts[0] not in ALLOWED_MODULES:
        return "not one of " + ", ".join(ALLOWED_MODULES)
    for part in parts[1:]:
        why = _attribute_refused(part)
        if why:
            return why
    return ""


def _attribute_refused(name: str) -> str:
    if name.startswith("__") and name.endswith("__"):
        return "a dunder attribute reaches interpreter internals"
    if name.startswith("_"):
        return "private internals reach functions under other names"
    if name in DYNAMIC_ATTRIBUTES:
        return "loads or reaches code outside the file"
    if name.startswith(FRAME_PREFIXES):
        return "frames and code objects reach the runner's state"
    return ""


def _parent_call(tree: ast.Module, name: ast.Name) -> ast.Call | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.func is name:
            return node
    return None
