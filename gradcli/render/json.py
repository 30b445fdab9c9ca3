"""JSON output: one document on stdout, with the SPEC's stable keys.

Strict JSON (RFC 8259): no NaN or Infinity, which Python's json writes by default and most
other readers refuse (issue 16: `vanish --depth 60 -f json` wrote NaN). A non-finite number is
written as null, and the document's top-level `notes` says which keys held what, so nothing
is lost silently.
"""

from __future__ import annotations

import json
import math
from typing import TextIO


def _clean(value, path: str, notes: list[str]):
    """`value` with non-finite floats as None (each named in `notes`) and lone surrogates
    (a file name that is not UTF-8) escaped."""
    if isinstance(value, float) and not math.isfinite(value):
        notes.append(f"{path} is {_spelled(value)}, written as null (JSON has no NaN or infinity)")
        return None
    if isinstance(value, str) and not value.isascii():
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {k: _clean(v, f"{path}.{k}" if path else str(k), notes) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, f"{path}[{i}]", notes) for i, v in enumerate(value)]
    return value


def _spelled(value: float) -> str:
    return "NaN" if math.isnan(value) else ("infinity" if value > 0 else "-infinity")


MAX_NOTES = 20  # a 60-layer NaN run would otherwise list every layer


def strict(doc: dict) -> dict:
    """`doc` as strict JSON data: non-finite numbers null, with notes saying where."""
    notes: list[str] = []
    clean = _clean(doc, "", notes)
    if notes:
        shown = notes[:MAX_NOTES]
        if len(notes) > MAX_NOTES:
            shown.append(f"... and {len(notes) - MAX_NOTES} more non-finite numbers written as null")
        existing = clean.get("notes")  # every payload's notes is a list; anything else is kept
        if existing is not None and not isinstance(existing, list):
            shown.insert(0, f"notes: {existing}")
        clean["notes"] = [*(existing if isinstance(existing, list) else []), *shown]
    return clean


def write(results, out: TextIO) -> None:
    from gradcli.render.ascii import encodes_unicode
    from gradcli.render.layouts import payload

    if len(results) == 1:
        doc = payload(results[0])
    else:
        doc = {"results": [payload(r) for r in results], "passed": all(r.passed for r in results)}
    # An output encoding that cannot hold Unicode (PYTHONIOENCODING=ascii) gets \\u escapes,
    # which every JSON reader decodes back to the same text.
    json.dump(strict(doc), out, indent=2, ensure_ascii=not encodes_unicode(out),
              allow_nan=False)
    out.write("\n")
