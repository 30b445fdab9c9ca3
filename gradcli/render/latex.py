"""LaTeX: a complete document, ready for `pdflatex`, for answer keys and handouts.

Formulas are display maths (`\\[ ... \\]`, or one `align*` for a run of formulas so their `=`
line up); grids are `bmatrix` (wrong cells boxed); tables and bar charts are `tabular`.

Block text is user text and is escaped, every LaTeX special character included, so a problem
named `\\input{/etc/passwd}` prints those characters instead of reading the file. The `latex`
fields of blocks are LaTeX already (written by the layouts from parsed expressions, whose
names are identifiers) and are copied as they are. The Unicode the layouts use for course
notation (×, ⊙, ᵀ, σ, −, …) is mapped to maths commands, since pdflatex's default fonts have no
glyphs for them.
"""

from __future__ import annotations

import functools
import math
import re
from typing import TextIO

from gradcli.render.blocks import Bars, Block, Formula, Grid, Heading, Table, Text
from gradcli.render.plain import escape as escape_control

PREAMBLE = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage[margin=2.5cm]{geometry}
\usepackage{array}
\usepackage{amsmath}
\usepackage{amssymb}
\setcounter{MaxMatrixCols}{%d}
\begin{document}
"""
END = "\\end{document}\n"

_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "#": r"\#", "$": r"\$", "%": r"\%",
    "&": r"\&", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", "`": r"\textasciigrave{}",
    "\n": " ",
}
_UNICODE = {
    "×": r"\times", "⊙": r"\odot", "ᵀ": r"^{\top}", "σ": r"\sigma", "−": "-", "…": r"\ldots",
    "·": r"\cdot", "π": r"\pi", "Φ": r"\Phi", "φ": r"\phi", "∂": r"\partial", "≤": r"\leq",
    "≥": r"\geq", "≈": r"\approx", "∑": r"\sum", "√": r"\surd", "∞": r"\infty",
    "δ": r"\delta", "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "λ": r"\lambda",
    "μ": r"\mu", "ε": r"\varepsilon", "θ": r"\theta", "η": r"\eta", "→": r"\to", "∇": r"\nabla",
    "ω": r"\omega", "ρ": r"\rho", "τ": r"\tau", "ψ": r"\psi", "χ": r"\chi", "ξ": r"\xi",
    "ζ": r"\zeta", "κ": r"\kappa", "ν": r"\nu", "Σ": r"\Sigma", "Δ": r"\Delta", "Ω": r"\Omega",
    "ℓ": r"\ell", "⊤": r"\top", "⋅": r"\cdot", "∘": r"\circ", "⊗": r"\otimes", "≠": r"\neq",
    "′": r"^{\prime}", "‖": r"\|", "⊘": r"\oslash", "∈": r"\in", "𝟙": r"\mathbf{1}",
    "±": r"\pm", "ⁿ": "^{n}", "ᶠ": "^{f}", "ᵍ": "^{g}", "⁻": "^{-}", "⁺": "^{+}",
    **{chr(0x2070 + d) if d not in (1, 2, 3) else "¹²³"[d - 1]: f"^{{{d}}}" for d in range(10)},
    **{chr(0x2080 + d): f"_{{{d}}}" for d in range(10)},
    # subscript letters (Σⱼ, xᵢ) and hatted capitals (Ẑ, a normalised Z)
    **{c: f"_{{{letter}}}" for c, letter in zip("ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ", "aeoxhklmnpstijruv",
                                                strict=True)},
    "ᵦ": "_{b}",  # the index notation's Σₐ,ᵦ: Unicode has no subscript b, so it borrows β's
    "Ẑ": r"\hat{Z}", "Ĝ": r"\hat{G}", "Ĥ": r"\hat{H}", "Ŝ": r"\hat{S}", "Ŷ": r"\hat{Y}",
}
# A letter followed by the combining circumflex (X̂): one hatted letter.
_COMBINING_HAT = "\u0302"
# Typographic characters with a text-mode spelling.
_TEXT = {"–": "--", "—": "---", "“": "``", "”": "''", "‘": "`", "’": "'", "\u00a0": "~",
         "█": r"\rule{0.6em}{1.6ex}"}
# Latin-1 and Latin Extended-A have glyphs in T1 fonts; anything else unknown would stop
# pdflatex ("Unicode character not set up"), so it is shown as its code point instead.
_LAST_SAFE = 0x17F


_ASCII_SPECIAL = str.maketrans(_SPECIAL)


@functools.cache
def _escaped() -> re.Pattern:
    """What `escape` replaces: specials, known Unicode, anything above Latin Extended-A, a
    hatted letter, and a hyphen before a hyphen (`--seed` would print as `–seed`; it gets `{}`).

    Compiled on first use: the class spans all of Unicode, and a derive printing plain text
    (which imports this module for its step labels) need not pay ~3 ms for it."""
    return re.compile("[A-Za-z]" + _COMBINING_HAT + "|-(?=-)|["
                      + re.escape("".join(_SPECIAL) + "".join(_UNICODE) + "".join(_TEXT))
                      + chr(_LAST_SAFE + 1) + "-\U0010ffff]")


def _replace(match: re.Match, *, keep_unicode: bool = False) -> str:
    char = match.group()
    if char == "-":
        return "-{}"
    if char.endswith(_COMBINING_HAT):
        return char if keep_unicode else r"\ensuremath{\hat{" + char[0] + "}}"
    if char in _SPECIAL:
        return _SPECIAL[char]
    if keep_unicode:
        return char
    if char in _TEXT:
        return _TEXT[char]
    if char in _UNICODE:
        return r"\ensuremath{" + _UNICODE[char] + "}"
    return f"\\texttt{{<U+{ord(char):04X}>}}"


def escape(text: str, *, keep_unicode: bool = False) -> str:
    r"""User text as literal LaTeX text: special characters escaped, control characters shown.

    `keep_unicode` is for maths rendered by MathJax or KaTeX (Markdown), which have the glyphs
    and lack `\ensuremath`.
    """
    text = escape_control(text)
    if text.isascii():  # the common case, without compiling the Unicode-wide pattern
        out = text.translate(_ASCII_SPECIAL)
        while "--" in out:
            out = out.replace("--", "-{}-")
        return out
    return _escaped().sub(lambda m: _replace(m, keep_unicode=keep_unicode), text)


def text_in_math(text: str, *, keep_unicode: bool = False) -> str:
    return r"\text{" + escape(text, keep_unicode=keep_unicode) + "}"


def _heading(block: Heading) -> list[str]:
    command = "section" if block.level == 1 else "subsection"
    return [f"\\{command}*{{{escape(block.text)}}}"]


def _title(title: str) -> list[str]:
    return [f"\\noindent\\textbf{{{escape(title)}}}"] if title else []


def _formula_parts(block: Formula) -> tuple[str, str, str]:
    """(label, body, note) as maths."""
    label = block.latex_label or (text_in_math(block.label) if block.label else "")
    body = block.latex or r"\texttt{" + escape(block.text) + "}"
    note = text_in_math(block.note) if block.note else ""
    return label, body, note


def formula_text(block: Formula) -> list[str]:
    """A formula without LaTeX, as text: typewriter can break at spaces, display maths cannot."""
    label = f"{escape(block.label)} = " if block.label else ""
    note = f" \\quad [{escape(block.note)}]" if block.note else ""
    return [r"\begin{flushleft}", f"{label}\\texttt{{{escape(block.text)}}}{note}",
            r"\end{flushleft}"]


def formulas(blocks: list[Formula]) -> list[str]:
    """One formula in `\\[ \\]`; a run of them in one `align*`, aligned on `=`."""
    parts = [_formula_parts(b) for b in blocks]
    if len(parts) == 1:
        label, body, note = parts[0]
        main = f"{label} = {body}" if label else body
        return [f"\\[ {main}" + (f" \\qquad {note}" if note else "") + " \\]"]
    rows = [(f"{label} &= {body}" if label else f"& {body}") + (f" && {note}" if note else "")
            for label, body, note in parts]
    return ["\\begin{align*}", " \\\\\n".join(rows), "\\end{align*}"]


# About how many characters of roman 10pt text fit in a line of this page.
LINE_CHARS = 80
NARROW_COLUMN = 10
_COMMAND = re.compile(r"\\[a-zA-Z]+|[{}$\\]")


def _visible(cell: str) -> int:
    return len(_COMMAND.sub("", cell))


def column_spec(columns, rows, align: str = "") -> str:
    """`align` (default all `l`) when the table fits the line; otherwise wrapping columns,
    each as wide as its longest cell allows, so long text wraps instead of running off the page.
    """
    lengths = [max([len(columns[i]), *(_visible(r[i]) for r in rows)])
               for i in range(len(columns))]
    if sum(lengths) + 2 * len(lengths) <= LINE_CHARS:
        return align or "l" * len(columns)
    base = [min(n, NARROW_COLUMN) for n in lengths]
    excess = sum(lengths) - sum(base)
    room = max(0, LINE_CHARS - sum(base))
    widths = [b + (n - b) * room / excess for n, b in zip(lengths, base, strict=True)]
    scale = max(LINE_CHARS, sum(base))
    return "".join(f">{{\\raggedright\\arraybackslash}}p{{\\dimexpr {w / scale:.3f}\\linewidth"
                   f"-2\\tabcolsep\\relax}}" for w in widths)


def tabular(columns, rows, title: str = "", align: str = "") -> list[str]:
    """A centred `tabular`; `rows` are LaTeX already, `columns` and `title` user text."""
    align = column_spec(columns, rows, align)
    head = " & ".join(f"\\textbf{{{escape(c)}}}" if c else "" for c in columns) + r" \\"
    return [*_title(title), r"\begin{center}", f"\\begin{{tabular}}{{{align}}}", r"\hline",
            head, r"\hline", *(_row(row) + r" \\" for row in rows), r"\hline",
            r"\end{tabular}", r"\end{center}"]


def _row(cells) -> str:
    """A table row; one that starts with `[` (a problem named "[b] second") gets a leading
    `{}`, or the previous row's `\\\\` would read `[b]` as its optional space ("Illegal unit")."""
    row = " & ".join(cells)
    return "{}" + row if row.startswith("[") else row


def bmatrix(block: Grid, *, keep_unicode: bool = False) -> str:
    """The grid as a `bmatrix`, marked cells boxed; cells without LaTeX as `\\text{}`."""
    def cell(i: int, j: int) -> str:
        value = (block.latex_cells[i][j] if block.latex_cells is not None
                 else text_in_math(block.cells[i][j], keep_unicode=keep_unicode))
        return f"\\boxed{{{value}}}" if block.marks and block.marks[i][j] else value

    rows = [" & ".join(cell(i, j) for j in range(len(r))) for i, r in enumerate(block.cells)]
    return "\\begin{bmatrix} " + " \\\\ ".join(rows) + " \\end{bmatrix}"


def _grid(block: Grid) -> list[str]:
    out = [*_title(block.title), f"\\[ {bmatrix(block)} \\]"]
    if block.marks and any(any(r) for r in block.marks):
        out.append("A boxed cell is a wrong one.")
    return out


def scientific(value: float) -> str:
    """`2.500e-01` as `$2.500 \\times 10^{-1}$`."""
    if value == 0 or not math.isfinite(value):
        return f"${value:g}$" if value == 0 else escape(str(value))
    mantissa, exponent = f"{value:.3e}".split("e")
    return f"${mantissa} \\times 10^{{{int(exponent)}}}$"


def _bars(block: Bars) -> list[str]:
    rows = [(escape(label), scientific(value))
            for label, value in zip(block.labels, block.values, strict=True)]
    columns: tuple[str, ...] = ("", "value")
    if block.series and len(block.series) == len(block.values):
        columns = ("", *columns)
        rows = [(escape(s), *r) for s, r in zip(block.series, rows, strict=True)]
    return tabular(columns, rows, block.title, align="l" * (len(columns) - 1) + "r")


def lines(block: Block) -> list[str]:
    if isinstance(block, Heading):
        return _heading(block)
    if isinstance(block, Text):
        return [escape(block.text)]
    if isinstance(block, Formula):
        return formulas([block]) if block.latex else formula_text(block)
    if isinstance(block, Table):
        return tabular(block.columns, [[escape(c) for c in r] for r in block.rows], block.title)
    if isinstance(block, Grid):
        return _grid(block)
    if isinstance(block, Bars):
        return _bars(block)
    raise TypeError(f"no latex rendering for {type(block).__name__}")


def body(blocks: list[Block]) -> list[str]:
    """Paragraphs separated by blank lines; consecutive formulas share one `align*`."""
    out: list[str] = []
    i = 0
    while i < len(blocks):
        j = i
        while j < len(blocks) and isinstance(blocks[j], Formula) and blocks[j].latex:
            j += 1
        if j > i + 1:
            out.append("\n".join(formulas(blocks[i:j])))  # type: ignore[arg-type]
            i = j
            continue
        out.append("\n".join(lines(blocks[i])))
        i += 1
    return out


def write(blocks: list[Block], out: TextIO, *, color: bool = False, width: int | None = None) -> None:
    """A complete document; `color` and `width` do not apply to LaTeX."""
    # amsmath's matrices stop at 10 columns unless told otherwise.
    columns = max((len(r) for b in blocks if isinstance(b, Grid) for r in b.cells), default=0)
    out.write(PREAMBLE % max(10, columns) + "\n" + "\n\n".join(body(blocks)) + "\n\n" + END)
