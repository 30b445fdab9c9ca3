"""ASCII spellings for an output stream that cannot encode Unicode (issue 16).

With `PYTHONIOENCODING=ascii`, or `LANG=C` on an old system, stdout's encoding is ASCII and
strict: the first `∂` raised `UnicodeEncodeError` halfway through a report (exit 3). Output
to such a stream goes through `AsciiStream`, which spells each character the way the course
would on a blackboard without Unicode (`∂` -> `d`, `×` -> `x`, `σ` -> `sigma`, `x²` -> `x^2`)
and backslash-escapes anything left, so writing never fails. JSON needs no spellings: it is
written with `ensure_ascii`, whose `\\u2202` escapes a JSON reader decodes back exactly.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TextIO

# A sample of what gradcli prints; a stream that can encode these can encode the rest.
_PROBE = "∂×σ⊙ᵀ²−≤→…—‖√"

SPELLINGS = {
    "∂": "d", "×": "x", "·": "*", "⋅": "*", "∗": "*", "⊙": "*", "⊘": "/", "÷": "/",
    "⊗": "(x)", "∘": "o", "−": "-", "–": "-", "—": "--", "±": "+/-", "√": "sqrt",
    "≤": "<=", "≥": ">=", "≠": "!=", "≈": "~", "→": "->", "∈": " in ", "∑": "sum",
    "∇": "grad", "∞": "inf", "‖": "||", "…": "...", "‘": "'", "’": "'", "“": '"', "”": '"',
    "′": "'", "½": "1/2", "¼": "1/4", "⅓": "1/3", "⊤": "T", "█": "#", "𝟙": "1", "ℓ": "l", "⁄": "/",
    "\u0302": "hat",  # combining circumflex: Ẑ, Ĝ (NFKD splits them off their letter)
    # Greek, as the course reads it aloud
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "eps", "ζ": "zeta",
    "η": "eta", "θ": "theta", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi",
    "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "φ": "phi", "χ": "chi", "ψ": "psi",
    "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Σ": "Sigma", "Φ": "Phi", "Ω": "Omega",
}
_SUPER = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁿᵀˣᵍᶠ", "0123456789+-nTxgf", strict=True))
_SUB = dict(zip("₀₁₂₃₄₅₆₇₈₉ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥᵦ", "0123456789aeoxhklmnpstijruvb", strict=True))
_SCRIPTS = re.compile(f"[{''.join(_SUPER)}]+|[{''.join(_SUB)}]+")


def _script(match: re.Match) -> str:
    run = match.group()
    table, mark = (_SUPER, "^") if run[0] in _SUPER else (_SUB, "_")
    text = "".join(table[c] for c in run)
    return f"{mark}{text}" if len(text) == 1 or text.isalnum() else f"{mark}({text})"


def spell(text: str) -> str:
    """`text` in ASCII: known spellings, then compatibility forms (fullwidth `ｘ` -> `x`), then
    backslash escapes for anything still not ASCII."""
    if text.isascii():
        return text
    text = "".join(SPELLINGS.get(c, c) for c in _SCRIPTS.sub(_script, text))
    text = "".join(SPELLINGS.get(c, c) for c in unicodedata.normalize("NFKD", text))
    return text.encode("ascii", "backslashreplace").decode("ascii")


def encodes_unicode(stream: TextIO) -> bool:
    """Whether `stream` can write gradcli's Unicode as it is."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        _PROBE.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class AsciiStream:
    """A text stream that writes `spell(text)` to the stream it wraps.

    It says its encoding is ASCII, so Rich draws tables with ASCII borders, and passes
    `isatty`/`fileno`/`flush` through, so colour and width detection see the real terminal.
    """

    encoding = "ascii"

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(spell(text))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def ascii_safe(stream: TextIO) -> TextIO:
    """`stream` itself when it can encode Unicode, else an `AsciiStream` around it."""
    return stream if encodes_unicode(stream) else AsciiStream(stream)  # type: ignore[return-value]
