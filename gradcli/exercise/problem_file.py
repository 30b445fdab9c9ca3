"""Read an implementation problem for `gradcli exercise`: a path, or a bundled name like q1.

XXX: a stopgap. The shared loader (`gradcli.problems.load` / `validate`) reads expression
references only, so it refuses `reference: builtin:reverse_rows` (question 2, which the
expression language cannot state). Until it accepts `builtin:NAME`, `exercise` reads its files
here, with ruamel's safe loader (nothing in a file is constructed or executed) and strict
keys, but without per-key line numbers for errors found after parsing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradcli.errors import InputError
from gradcli.problems.model import ImplementationProblem, Origin

MAX_BYTES = 1024 * 1024
KEYS = ("format", "kind", "name", "description", "source", "function", "inputs", "reference",
        "constraints", "solution", "notes")
CONSTRAINT_KEYS = ("forbid", "one_line")


def locate(spec: str) -> tuple[str, str, Path | None]:
    """(display name, text, directory for relative paths) of a path or a bundled name."""
    path = Path(spec)
    if path.is_file():
        if path.stat().st_size > MAX_BYTES:
            raise InputError("file is larger than 1 MiB; a problem file is a page of text", file=spec)
        try:
            return spec, path.read_text(encoding="utf-8-sig"), path.parent
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text", file=spec, hint="save the file as UTF-8") from None
    if path.is_dir():
        raise InputError("is a directory; give one problem file", file=spec)
    from gradcli.problems import bundled

    shipped = bundled.find(spec)
    if shipped is None:
        import difflib

        keys = [p.key for p in bundled.problems() if p.kind == "implementation"]
        match = difflib.get_close_matches(spec, keys, n=1, cutoff=0.6)
        raise InputError("no such file or bundled problem", file=spec,
                         hint=f"did you mean {match[0]!r}?" if match else
                         f"bundled exercises: {', '.join(keys) or 'none'}")
    return shipped.file, shipped.read_text(), None


def load(spec: str) -> ImplementationProblem:
    name, text, base = locate(spec)
    data = _parse(text, name)
    return _problem(data, name, base)


def _parse(text: str, name: str) -> dict:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        data = YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise InputError(f"invalid YAML: {exc.problem or exc.context}", file=name,
                         line=mark.line + 1 if mark else None,
                         column=mark.column + 1 if mark else None) from None
    except YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", file=name) from None
    if not isinstance(data, dict):
        raise InputError("expected a mapping of keys (format: 1, kind: implementation, ...)",
                         file=name)
    return data


def _problem(data: dict, name: str, base: Path | None) -> ImplementationProblem:
    def bad(message: str, hint: str | None = None) -> InputError:
        return InputError(message, file=name, hint=hint)

    if data.get("format") != 1:
        raise bad("expected `format: 1`")
    if data.get("kind") != "implementation":
        raise bad(f"is a {data.get('kind')!r} problem; gradcli exercise runs implementation problems",
                  "use gradcli check for the other kinds")
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise bad(f"unknown key {unknown[0]!r} in an implementation problem",
                  f"the keys: {', '.join(KEYS)}")
    for key in ("function", "inputs", "reference"):
        if data.get(key) in (None, ""):
            raise bad(f"missing key {key!r} (required in an implementation problem)")
    constraints = data.get("constraints") or {}
    if not isinstance(constraints, dict) or any(k not in CONSTRAINT_KEYS for k in constraints):
        raise bad("constraints: expected a mapping with forbid (a list) and one_line (true/false)")
    return ImplementationProblem(
        name=_text(data.get("name", ""), "name", bad), description=_text(data.get("description", ""), "description", bad),
        source=_text(data.get("source", ""), "source", bad),
        function=_text(data["function"], "function", bad), inputs=_inputs(data["inputs"], bad),
        reference=_text(data["reference"], "reference", bad),
        forbid=tuple(_texts(constraints.get("forbid") or [], "constraints.forbid", bad)),
        one_line=_boolean(constraints.get("one_line", False), bad),
        solution=_solution(data.get("solution"), base, bad),
        notes=tuple(_texts(data.get("notes") or [], "notes", bad)),
        origin=Origin(name),
    )


def _text(value: Any, key: str, bad) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise bad(f"{key}: expected text, got {type(value).__name__}")
    return str(value)


def _texts(value: Any, key: str, bad) -> list[str]:
    if not isinstance(value, list):
        raise bad(f"{key}: expected a list")
    return [_text(v, key, bad) for v in value]


def _boolean(value: Any, bad) -> bool:
    if not isinstance(value, bool):
        raise bad("constraints.one_line: expected true or false")
    return value


def _inputs(value: Any, bad) -> dict[str, tuple[str | int, ...]]:
    if not isinstance(value, dict) or not value:
        raise bad("inputs: expected a mapping of argument names to shapes, e.g. {X: [m, n]}")
    out = {}
    for key, shape in value.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise bad(f"inputs: {key!r} is not a Python name")
        if shape is None:
            shape = []
        if not isinstance(shape, list) or any(isinstance(d, bool) or not isinstance(d, str | int)
                                               for d in shape):
            raise bad(f"inputs.{key}: expected a shape, a list of names or sizes such as [m, n]")
        out[key] = tuple(shape)
    return out


def _solution(value: Any, base: Path | None, bad) -> str | None:
    if value in (None, ""):
        return None
    path = Path(_text(value, "solution", bad))
    if base is not None and not path.is_absolute():
        path = base / path
    return str(path)
