"""Numeric grids from the command line, a file, stdin or a YAML list of lists.

A GRID is written inline (`"2 2 7 3; 9 4 6 1"`: rows split by `;` or newlines, values by
spaces, tabs or commas), as a path to a text/CSV file in the same syntax (`#` starts a
comment line), or as `-` for stdin. Values are decimal numbers or fractions (`1/4`), so an
exact claim such as g/9 can be typed. Kept light (no torch, no SymPy): the CLI reads grids
before any heavy import, and every complaint is an `InputError` naming the row and column.
"""

from __future__ import annotations

import math
import re
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from gradcli.errors import InputError

Grid = tuple[tuple[float, ...], ...]

# A 256×256 grid: pooling one costs about a second and a few hundred MB (it was 10^6 cells,
# 25 s and 1 GB); a grid is read for its printed formulas, not for bulk numerics.
MAX_CELLS = 65_536
MAX_BYTES = 8 * 1024 * 1024  # a 65,536-cell grid of long floats fits easily
# As for numbers in expressions: far beyond any gradient, and a window's sum of up to 65,536
# such values stays finite (1e308 cells overflowed to inf in the formula and failed the check).
MAX_MAGNITUDE = 1e100

_UNSIGNED = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"  # ASCII: not the fullwidth １
_NUMBER = re.compile(rf"[+-]?{_UNSIGNED}")
_FRACTION = re.compile(rf"([+-]?{_UNSIGNED})/({_UNSIGNED})")
_ROW_SPLIT = re.compile(r";|\r?\n")
_VALUE_SPLIT = re.compile(r"\s*,\s*|\s+")


def read(spec: str, *, what: str = "grid", stdin: TextIO | None = None) -> Grid:
    """A grid from an option value: `-` (stdin), an existing file, or inline text."""
    if spec == "-":
        return parse(_read_stdin(what, stdin or sys.stdin), what=what, file="<stdin>")
    path = Path(spec)
    if _looks_like_path(spec) and not _is_grid_text(spec):
        if not _is_file(path) and re.search(r"[;\n]", spec):
            # rows, not a path: "g11/4 g11/4; ..." is a grid with a bad value, not a missing file
            return parse(spec, what=what)
        if not _is_file(path):
            if path.is_dir():
                raise InputError(f"{what}: {spec} is a directory, not a grid file",
                                 hint="give a text/CSV file, '-' for stdin, or the grid inline")
            raise InputError(f"{what}: no such file: {spec}",
                             hint="give a path to a text/CSV file, '-' for stdin, "
                                  "or the grid inline, e.g. \"1 2; 3 4\"")
        return parse(_read_file(path, what), what=what, file=spec)
    return parse(spec, what=what)


def _is_file(path: Path) -> bool:
    """A regular file or a pipe (the shell's `<(...)`, which `check` reads too), without
    `Path.is_file`'s OSError on names too long to be paths (a long inline grid)."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(mode) or stat.S_ISFIFO(mode)


def _looks_like_path(spec: str) -> bool:
    return bool(re.search(r"[/\\]|\.(?:csv|txt|tsv|dat)$", spec)) or _is_file(Path(spec))


def _is_grid_text(spec: str) -> bool:
    """Inline grids with fractions contain `/` too: `1/4 1/4; 1/4 1/4` is not a path."""
    return not _is_file(Path(spec)) and all(
        _NUMBER.fullmatch(v) or _FRACTION.fullmatch(v)
        for row in _ROW_SPLIT.split(spec) for v in _VALUE_SPLIT.split(row.strip()) if v)


def _read_stdin(what: str, stream: TextIO) -> str:
    if stream.isatty():
        raise InputError(f"{what}: '-' reads the grid from stdin, but stdin is a terminal",
                         hint="pipe or redirect a grid in, e.g. `gradcli pool -i - < grid.txt`")
    buffer = getattr(stream, "buffer", None)  # bytes, so that non-UTF-8 input is named as such
    data = buffer.read(MAX_BYTES + 1) if buffer is not None else stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InputError(f"{what}: stdin holds more than {MAX_BYTES // 2**20} MiB")
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(f"{what}: not UTF-8 text (byte 0x{data[exc.start]:02x})",
                         file="<stdin>", line=line, column=column) from None


def _read_file(path: Path, what: str) -> str:
    try:
        with path.open(encoding="utf-8-sig") as handle:  # bounded: a pipe has no size
            text = handle.read(MAX_BYTES + 1)
        if len(text) > MAX_BYTES or path.stat().st_size > MAX_BYTES:
            raise InputError(f"{what}: file is larger than {MAX_BYTES // 2**20} MiB",
                             file=str(path))
        return text
    except UnicodeDecodeError:
        raise InputError(f"{what}: not a UTF-8 text file", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"{what}: cannot read the file: {exc.strerror}", file=str(path)) from None


def parse(text: str, *, what: str = "grid", file: str | None = None) -> Grid:
    """Text -> a rectangular, finite, non-empty grid of floats."""
    rows: list[tuple[float, ...]] = []
    cells = 0
    for line, column, row_text in _rows(text):
        if not row_text.strip() or (file and row_text.lstrip().startswith("#")):
            continue
        row = _row(row_text, len(rows) + 1, what, file, line, column)
        if rows and len(row) != len(rows[0]):
            raise InputError(f"{what}: row {len(rows) + 1} has {_values(len(row))} but row 1 has "
                             f"{len(rows[0])}; every row needs the same number of values",
                             file=file, line=line if file else None)
        cells += len(row)
        if cells > MAX_CELLS:
            raise InputError(f"{what}: more than {MAX_CELLS:,} cells", file=file)
        rows.append(row)
    if not rows:
        raise InputError(f"{what}: the grid is empty", file=file,
                         hint="write rows separated by ';' or newlines, e.g. \"1 2; 3 4\"")
    return tuple(rows)


def _values(n: int) -> str:
    return f"{n} value" if n == 1 else f"{n} values"


def _rows(text: str):
    """(1-based line, 0-based column where the row starts, row text) for each row."""
    for line, line_text in enumerate(text.splitlines() or [""], start=1):
        column = 0
        for part in line_text.split(";"):
            yield line, column, part
            column += len(part) + 1


def _row(text: str, row: int, what: str, file: str | None, line: int, start: int) -> tuple[float, ...]:
    values = []
    stripped = text.strip()
    position = start + len(text) - len(text.lstrip())  # 0-based column in the line
    for column, token in enumerate(_VALUE_SPLIT.split(stripped), start=1):
        if file:  # positions only mean something in a file; inline text names row/column
            position = text.find(token, position - start) + start if token else position
            where = {"file": file, "line": line, "column": position + 1}
        else:
            where = {}
        values.append(_value(token, f"{what}: row {row}, column {column}", where))
        position += len(token)
    return tuple(values)


def _value(token: str, place: str, where: dict) -> float:
    if not token:
        raise InputError(f"{place}: empty value", hint="remove the extra comma", **where)
    m = _FRACTION.fullmatch(token)
    if m:
        den = float(m.group(2))
        if den == 0:
            raise InputError(f"{place}: division by zero in {token!r}", **where)
        value = float(m.group(1)) / den
    elif _NUMBER.fullmatch(token):
        value = float(token)
    else:
        hint = ("NaN and infinity are not allowed" if token.lower().lstrip("+-") in
                ("nan", "inf", "infinity") else "write decimal numbers or fractions such as 1/4")
        raise InputError(f"{place}: {token!r} is not a number", hint=hint, **where)
    if not math.isfinite(value):
        _too_large(place, token, where)
    return _bounded(value, place, token, where)


def _bounded(value: float, place: str, shown: object, where: dict) -> float:
    if abs(value) > MAX_MAGNITUDE:
        _too_large(place, shown, where)
    return value


def _too_large(place: str, shown: object, where: dict) -> NoReturn:
    raise InputError(f"{place}: {shown!r} is too large (at most 1e100 in absolute value)",
                     **where)


def coerce(value: object, *, what: str = "grid", file: str | None = None) -> Grid:
    """A grid from YAML data: a list of lists of numbers, or a string in the inline syntax.

    For `problems/validate.py`; it adds the file position to any error it gets back.
    """
    if isinstance(value, str):
        return parse(value, what=what, file=file)
    if not isinstance(value, Sequence) or not value:
        raise InputError(f"{what}: expected a non-empty list of rows (lists of numbers)",
                         file=file)
    rows = []
    for i, row in enumerate(value, start=1):
        if not isinstance(row, Sequence) or isinstance(row, str) or not row:
            raise InputError(f"{what}: row {i} is not a non-empty list of numbers", file=file)
        rows.append(tuple(_yaml_number(v, f"{what}: row {i}, column {j}", file)
                          for j, v in enumerate(row, start=1)))
        if len(rows[-1]) != len(rows[0]):
            raise InputError(f"{what}: row {i} has {_values(len(rows[-1]))} but row 1 has "
                             f"{len(rows[0])}; every row needs the same number of values",
                             file=file)
    if sum(len(r) for r in rows) > MAX_CELLS:
        raise InputError(f"{what}: more than {MAX_CELLS:,} cells", file=file)
    return tuple(rows)


def _yaml_number(v: object, place: str, file: str | None) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise InputError(f"{place}: {v!r} is not a number", file=file)
    if isinstance(v, str):
        return _value(v.strip(), place, {"file": file})
    value = float(v)
    if not math.isfinite(value):
        raise InputError(f"{place}: {v!r} is not finite", hint="NaN and infinity are not allowed",
                         file=file)
    return _bounded(value, place, v, {"file": file})


def shape(grid: Grid) -> tuple[int, int]:
    return len(grid), len(grid[0]) if grid else 0


def text(grid: Grid) -> str:
    """The inline form, `1 2; 3 4`, readable back by `parse`."""
    return "; ".join(" ".join(number(v) for v in row) for row in grid)


def number(value: float) -> str:
    """Shortest text that reads back as the same float; integers without `.0`."""
    if not math.isfinite(value):  # int() would raise; grid values are bounded, results may not be
        return repr(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
