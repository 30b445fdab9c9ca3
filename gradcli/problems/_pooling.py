"""`kind: pooling`: grids (lists of rows or inline text) and window sizes that fit together."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from gradcli.errors import InputError
from gradcli.problems import schema as fmt
from gradcli.problems._reader import INVALID, Reader
from gradcli.problems.nodes import Mapping, Node, Scalar, Sequence


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
    from gradcli.problems import grid

    try:
        return grid.parse(node.text, what=key, file=r.file or "<text>")
    except InputError as err:
        line, column = node.line, node.column
        if err.line is not None and node.lines and err.line <= len(node.lines):
            line, column = node.lines[err.line - 1]
            column += (err.column or 1) - 1
        r.errors.append(replace(err, file=r.file, line=line, column=column))
        return INVALID


def pooling(r: Reader, m: Mapping, base: Path | None) -> dict[str, Any]:
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
