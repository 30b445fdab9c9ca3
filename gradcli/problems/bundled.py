"""The problem files shipped with gradcli (the worksheet's questions), found as package data.

Files are located with `importlib.resources`, so an installed wheel finds them as well as a
source checkout. `gradcli list` shows each file's `name` and `kind` and must stay instant, so
those two keys are read from the file's top-level lines by a tiny scanner instead of a YAML
parser; only a value too complex for it (a block scalar, a flow collection, an escape it does
not know) falls back to ruamel's safe loader, for that one file. Loading a problem for real
goes through `problems/load.py` like any user file: this module only finds files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

PACKAGE = "gradcli.bundled"
SUFFIXES = (".yaml", ".yml")

# A top-level `key: value` line: no indentation, the key, a colon, the rest of the line.
_TOP_KEY = re.compile(r"^(name|kind)\s*:(?:\s+(.*))?$")
_PLAIN_START = re.compile(r"[^'\"\[\]{}|>&*!%@`#,]")  # what a one-line plain scalar starts with


@dataclass(frozen=True)
class BundledProblem:
    """One shipped file: `key` is its stem (`q3`), what a user may type to name it."""

    key: str
    file: str  # the file name inside the package, e.g. "q3.yaml"
    name: str
    kind: str

    @property
    def resource(self) -> Traversable:
        return files(PACKAGE).joinpath(self.file)

    def read_text(self) -> str:
        return self.resource.read_text(encoding="utf-8")


def directory() -> Traversable:
    return files(PACKAGE)


def problems() -> tuple[BundledProblem, ...]:
    """Every shipped problem file, sorted by file name."""
    found = [entry for entry in directory().iterdir()
             if entry.is_file() and entry.name.endswith(SUFFIXES)]
    return tuple(describe(entry) for entry in sorted(found, key=lambda e: e.name))


def find(key: str) -> BundledProblem | None:
    """The shipped problem named by `key`: its stem (`q3`) or its file name (`q3.yaml`)."""
    for problem in problems():
        if key in (problem.key, problem.file):
            return problem
    return None


def describe(entry: Traversable) -> BundledProblem:
    text = entry.read_text(encoding="utf-8")
    header = scan_header(text)
    if header is None:
        header = _load_header(text)
    stem = entry.name.rsplit(".", 1)[0]
    return BundledProblem(key=stem, file=entry.name, name=header.get("name") or stem,
                          kind=header.get("kind") or "")


def scan_header(text: str) -> dict[str, str] | None:
    """`name` and `kind` from top-level lines; None when a value needs a real YAML parser."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _TOP_KEY.match(line.rstrip())
        if not match or match.group(1) in found:
            continue
        value = scalar(match.group(2) or "")
        if value is None:
            return None
        found[match.group(1)] = value
    return found


def scalar(raw: str) -> str | None:
    """A one-line YAML scalar (plain, 'single' or "double" quoted, with a trailing comment)."""
    raw = raw.strip()
    if raw.startswith("'"):
        match = re.fullmatch(r"'((?:[^']|'')*)'\s*(?:#.*)?", raw)
        return match.group(1).replace("''", "'") if match else None
    if raw.startswith('"'):
        match = re.fullmatch(r'"((?:[^"\\]|\\["\\/])*)"\s*(?:#.*)?', raw)
        return re.sub(r"\\([\"\\/])", r"\1", match.group(1)) if match else None
    value = re.sub(r"(^|\s)#.*$", "", raw).strip()
    if value == "" or _PLAIN_START.match(value):
        return value
    return None


def _load_header(text: str) -> dict[str, str]:
    # XXX: slow path (imports ruamel); only for a header the scanner cannot read.
    from ruamel.yaml import YAML

    data = YAML(typ="safe", pure=True).load(text)
    if not isinstance(data, dict):
        return {}
    return {key: str(data[key]) for key in ("name", "kind") if data.get(key) is not None}
