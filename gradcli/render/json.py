"""JSON output: one document on stdout, with the SPEC's stable keys."""

from __future__ import annotations

import json
import math
from typing import TextIO


def _clean(value):
    """JSON has no NaN or infinity; write them as strings rather than invalid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str) and not value.isascii():  # a lone surrogate (non-UTF-8 file name)
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write(results, out: TextIO) -> None:
    from gradcli.render.layouts import payload

    if len(results) == 1:
        doc = payload(results[0])
    else:
        doc = {"results": [payload(r) for r in results], "passed": all(r.passed for r in results)}
    json.dump(_clean(doc), out, indent=2, ensure_ascii=False)
    out.write("\n")
