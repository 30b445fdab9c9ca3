"""Every output format on one fixed document that holds every kind of block.

The document includes hostile user text (Rich markup, an ANSI escape, LaTeX commands, a `|`)
because block text comes from problem files: no format may interpret it.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradcli.render import latex, markdown, plain
from gradcli.render import rich as rich_format
from gradcli.render.blocks import Bars, Formula, Grid, Heading, Table, Text
from gradcli.render.layouts import summary
from gradcli.results import Check, Outcome, Verdict

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "gradcli" / "bundled"

BLOCKS = [
    Heading("Q3 [bold]net[/bold] \x1b[31m", 1),
    Text("Given x: n×1, W: n×n."),
    Text("all checks passed", "good"),
    Formula("dL/dW", "((y - t)*y*(1 - y)) @ x.T", pretty="((y − t) ⊙ y ⊙ (1 − y)) xᵀ",
            latex=r"\left((y - t) \odot y \odot (1 - y)\right) x^{\top}",
            latex_label=r"\frac{\partial L}{\partial W}", note="n×n"),
    Formula("", "x*sigmoid(x)"),
    Heading("Checks", 2),
    Table(("what", "max rel error", "verdict"),
          (("dL/dW | autograd", "1.2e-16", "PASS"), ("b_1", "3e-2", "FAIL")),
          title="checks", tones=("good", "bad")),
    Grid("grad input", (("g11/4", "g11/4"), ("g21/4", "0")), groups=((0, 0), (1, None)),
         latex_cells=((r"\frac{g_{11}}{4}", r"\frac{g_{11}}{4}"), (r"\frac{g_{21}}{4}", "0")),
         marks=((False, True), (False, False))),
    Bars("gradient norm by layer", ("layer 1", "layer 2", "layer 3"), (0.25, 1.5e-4, 0.0),
         series=("sigmoid", "sigmoid", "tanh")),
]

ANSI = re.compile(r"\x1b\[")


def rich(blocks=BLOCKS, *, color=False, width=60, force_terminal=None) -> str:
    out = io.StringIO()
    rich_format.write(blocks, out, color=color, width=width, force_terminal=force_terminal)
    return out.getvalue()


# --- rich -------------------------------------------------------------------------------------

RICH_60 = """\
Q3 [bold]net[/bold] \\x1b[31m ───────────────────────────────
Given x: n×1, W: n×n.
all checks passed
dL/dW = ((y − t) ⊙ y ⊙ (1 − y)) xᵀ    n×n
x*sigmoid(x)

Checks
checks
 what               max rel error   verdict
────────────────────────────────────────────
 dL/dW | autograd   1.2e-16         PASS
 b_1                3e-2            FAIL
grad input
┌───────┬───────┐
│ g11/4 │ g11/4*│
│ g21/4 │     0 │
└───────┴───────┘
* marks a wrong cell
gradient norm by layer
 sigmoid  layer 1  █████████████████████████  2.50e-01
 sigmoid  layer 2  █                          1.50e-04
 tanh     layer 3                                    0
log10 scale, 1e-4 to 1e0
"""


def test_rich_without_colour_prints_the_whole_document_at_a_pinned_width():
    # Rich pads tables to their width with spaces; trailing spaces are not part of the contract.
    assert "".join(line.rstrip() + "\n" for line in rich().splitlines()) == RICH_60


def test_rich_without_colour_writes_no_escape_codes_even_on_a_terminal():
    assert not ANSI.search(rich(force_terminal=True))


def test_rich_never_interprets_user_text_as_markup():
    out = rich(color=True, force_terminal=True)
    assert "[bold]net[/bold]" in out
    assert "\\x1b[31m" in out  # the user's escape is shown, not obeyed
    assert "\x1b[31m\n" not in out


def test_rich_keeps_lines_within_the_pinned_width():
    for width in (40, 60, 100):
        assert max(len(line) for line in rich(width=width).splitlines()) <= width


def test_rich_wraps_a_long_title_instead_of_cutting_it():
    out = rich([Heading("a problem title far too long to fit on one narrow line")], width=30)
    assert " ".join(out.split()).startswith("a problem title far too long to fit on one narrow line")


def test_rich_colours_each_pooling_window_and_marks_wrong_cells_bold_red():
    # The exact codes depend on the terminal's colour system (and Rich caches them per style),
    # so compare the codes of cells with each other rather than with fixed numbers.
    out = rich(BLOCKS[7:8], color=True, force_terminal=True)
    cell = re.compile(r"│?\x1b\[([0-9;]+)m( g\d\d/4[ *])\x1b\[0m")
    codes = {text: code for code, text in cell.findall(out)}
    assert set(codes) == {" g11/4 ", " g11/4*", " g21/4 "}
    assert codes[" g11/4*"] == "1;31;" + codes[" g11/4 "]  # bold red on its window's colour
    assert codes[" g11/4 "] != codes[" g21/4 "]  # two windows, two backgrounds
    assert "│     0 │" in out  # in no window: no colour
    assert "each background colour is one window" in out


def test_rich_without_colour_leaves_out_the_window_legend():
    assert "background colour" not in rich(BLOCKS[7:8])


@pytest.mark.parametrize(("values", "lengths"), [
    ((1.0, 0.1, 0.01, 0.001), [30, 20, 10, 1]),
    ((1e-12, 1e-6, 1e-3), [1, 20, 30]),
    ((0.0, 5.0), [0, 21]),
    ((0.0, float("nan")), [0, 0]),
])
def test_bars_are_on_a_log10_scale_and_a_nonzero_value_always_shows(values, lengths):
    assert rich_format.bar_lengths(values, 30) == lengths


def test_bars_of_zeros_say_so():
    assert "all values are 0" in rich([Bars("", ("a",), (0.0,))])


# --- summary layout ---------------------------------------------------------------------------

def _check(passed: bool) -> Check:
    return Check("d/dx", passed, 0.0, 0.0, 8, "autograd")


def test_summary_counts_checks_and_claims_and_gives_a_verdict_per_result():
    results = [
        Outcome("derivative", "GELU", checks=(_check(True), _check(True))),
        Outcome("network", "Q3 | net", checks=(_check(True),),
                claims=(Verdict("W", "x", True), Verdict("b", "y", False))),
        Outcome("pooling", "", checks=(_check(False),)),
    ]
    out = io.StringIO()
    plain.write(summary.document(results), out)
    assert out.getvalue() == """\
Summary
=======
problem    kind        verdict  checks passed  claims correct
---------  ----------  -------  -------------  --------------
GELU       derivative  PASS     2/2            none
Q3 | net   network     FAIL     1/1            1/2
(unnamed)  pooling     FAIL     0/1            none
"""


# --- plain ------------------------------------------------------------------------------------

def write(module, blocks=BLOCKS) -> str:
    out = io.StringIO()
    module.write(blocks, out)
    return out.getvalue()


PLAIN = """\
Q3 [bold]net[/bold] \\x1b[31m
============================
Given x: n×1, W: n×n.
all checks passed
dL/dW = ((y - t)*y*(1 - y)) @ x.T    [n×n]
x*sigmoid(x)

Checks
------
checks
what              max rel error  verdict
----------------  -------------  -------
dL/dW | autograd  1.2e-16        PASS
b_1               3e-2           FAIL
grad input
   g11/4  g11/4*
   g21/4       0
  (* marks a wrong cell)
gradient norm by layer
                  value
-------  -------  ---------
sigmoid  layer 1  2.500e-01
sigmoid  layer 2  1.500e-04
tanh     layer 3  0.000e+00
"""


def test_plain_prints_every_block_with_expressions_in_the_expression_language():
    assert write(plain) == PLAIN


# --- markdown ---------------------------------------------------------------------------------

MARKDOWN = r"""# Q3 \[bold\]net\[/bold\] \\x1b\[31m

Given x: n×1, W: n×n.

all checks passed

$$ \frac{\partial L}{\partial W} = \left((y - t) \odot y \odot (1 - y)\right) x^{\top} \qquad \text{n×n} $$

`x*sigmoid(x)`

## Checks

**checks**

| what | max rel error | verdict |
| --- | --- | --- |
| dL/dW \| autograd | 1.2e-16 | PASS |
| b\_1 | 3e-2 | FAIL |

**grad input**

$$ \begin{bmatrix} \frac{g_{11}}{4} & \boxed{\frac{g_{11}}{4}} \\ \frac{g_{21}}{4} & 0 \end{bmatrix} $$

A boxed cell is a wrong one.

**gradient norm by layer**

|   |   | value |
| --- | --- | --- |
| sigmoid | layer 1 | 2.500e-01 |
| sigmoid | layer 2 | 1.500e-04 |
| tanh | layer 3 | 0.000e+00 |
"""


def test_markdown_prints_headings_display_maths_and_github_tables():
    assert write(markdown) == MARKDOWN


def test_markdown_grid_without_latex_is_a_table_with_marked_cells():
    grid = Grid("g", (("1", "2|3"), ("4", "5")), marks=((False, True), (False, False)))
    assert write(markdown, [grid]) == (
        "**g**\n\n|   | 1 | 2 |\n| --- | --- | --- |\n| 1 | 1 | 2\\|3\\* |\n| 2 | 4 | 5 |\n\n"
        "\\* marks a wrong cell.\n")


def test_markdown_formula_without_latex_is_a_code_span_that_survives_backticks():
    assert write(markdown, [Formula("f", "a`b", note="1×1")]) == "``f = a`b`` \\[1×1\\]\n"


@pytest.mark.parametrize(("text", "shown"), [
    ("*[click](javascript:alert(1))*", r"\*\[click\](javascript:alert(1))\*"),
    ("<img src=x onerror=alert(1)>", r"\<img src=x onerror=alert(1)\>"),
    ("1. not a list", r"1\. not a list"),
    ("- not a list", r"\- not a list"),
    ("$x$ and ~~y~~ & #", r"\$x\$ and \~\~y\~\~ \& \#"),
    ("y - t, 1.2e-16", "y - t, 1.2e-16"),
])
def test_markdown_user_text_never_becomes_syntax(text, shown):
    assert markdown.escape(text) == shown


# --- latex ------------------------------------------------------------------------------------

HOSTILE = r"\input{/etc/passwd} 100% $x$ #1 a_b ~ ^ & | <>"
HOSTILE_ESCAPED = (r"\textbackslash{}input\{/etc/passwd\} 100\% \$x\$ \#1 a\_b \textasciitilde{} "
                   r"\textasciicircum{} \& \textbar{} \textless{}\textgreater{}")


def balanced(document: str) -> bool:
    stack: list[str] = []
    for kind, name in re.findall(r"\\(begin|end)\{([^}]*)\}", document):
        if kind == "begin":
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack and document.count(r"\[") == document.count(r"\]")


def test_latex_is_a_complete_document_with_balanced_environments():
    doc = write(latex)
    assert doc.startswith("\\documentclass{article}\n")
    assert "\\usepackage{amsmath}\n\\usepackage{amssymb}\n" in doc
    assert doc.endswith("\\end{document}\n")
    assert balanced(doc)


def test_latex_escapes_every_special_character_of_user_text():
    assert latex.escape(HOSTILE) == HOSTILE_ESCAPED
    doc = write(latex, [Heading(HOSTILE), Text(HOSTILE), Table(("a",), ((HOSTILE,),), title=HOSTILE),
                        Formula(HOSTILE, HOSTILE, note=HOSTILE), Grid(HOSTILE, ((HOSTILE,),)),
                        Bars(HOSTILE, (HOSTILE,), (1.0,), series=(HOSTILE,))])
    assert "\\input" not in doc
    assert doc.count(HOSTILE_ESCAPED) == 12  # every place user text appears
    assert balanced(doc)


def test_latex_shows_control_characters_and_unknown_unicode_as_text():
    assert latex.escape("a\x1b[2Jb 😀") == r"a\textbackslash{}x1b[2Jb \texttt{<U+1F600>}"


def test_latex_maps_course_notation_to_maths():
    assert latex.escape("n×n, y ⊙ xᵀ, σ") == (
        r"n\ensuremath{\times}n, y \ensuremath{\odot} x\ensuremath{^{\top}}, \ensuremath{\sigma}")


def test_latex_maps_hats_and_subscript_letters_of_the_index_notation_to_maths():
    # batch_norm's Ẑ and X̂, conv's Σⱼ and Σₐ,ᵦ printed as <U+1E90>, <U+0302>, <U+2C7C>
    assert latex.escape("Ẑ, X̂, Σⱼ, Σₐ,ᵦ") == (
        r"\ensuremath{\hat{Z}}, \ensuremath{\hat{X}}, \ensuremath{\Sigma}\ensuremath{_{j}}, "
        r"\ensuremath{\Sigma}\ensuremath{_{a}},\ensuremath{_{b}}")
    assert latex.escape("X̂", keep_unicode=True) == "X̂"


def test_bundled_problems_print_no_raw_unicode_in_latex(cli):
    r = cli("check", str(BUNDLED_DIR), "--format", "latex")
    assert "<U+" not in r.stdout
    assert "·" not in "".join(re.findall(r"\\\[.*?\\\]", r.stdout, flags=re.S))  # N·m in maths
    assert "{N·m}" not in r.stdout


def test_latex_aligns_a_run_of_formulas_and_sets_one_alone_in_display_maths():
    one = Formula("L", "0.5*sum((y - t)**2)", latex=r"\frac{1}{2}\|y - t\|^2", note="1×1")
    two = Formula("dL/dy", "y - t", latex="y - t", latex_label=r"\frac{\partial L}{\partial y}")
    assert latex.formulas([one]) == [
        r"\[ \text{L} = \frac{1}{2}\|y - t\|^2 \qquad \text{1\ensuremath{\times}1} \]"]
    assert "\n".join(latex.body([one, two])) == (
        "\\begin{align*}\n"
        "\\text{L} &= \\frac{1}{2}\\|y - t\\|^2 && \\text{1\\ensuremath{\\times}1} \\\\\n"
        "\\frac{\\partial L}{\\partial y} &= y - t\n"
        "\\end{align*}")


def test_latex_grid_is_a_bmatrix_with_wrong_cells_boxed():
    assert latex.bmatrix(BLOCKS[7]) == (
        r"\begin{bmatrix} \frac{g_{11}}{4} & \boxed{\frac{g_{11}}{4}} \\ "
        r"\frac{g_{21}}{4} & 0 \end{bmatrix}")


def test_latex_bars_are_in_scientific_notation():
    assert [latex.scientific(v) for v in (0.25, 1.5e-4, 0.0, 12345.0)] == [
        r"$2.500 \times 10^{-1}$", r"$1.500 \times 10^{-4}$", "$0$", r"$1.234 \times 10^{4}$"]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_document_compiles_with_pdflatex(tmp_path):
    (tmp_path / "doc.tex").write_text(write(latex, [*BLOCKS, Heading(HOSTILE), Text(HOSTILE)]),
                                      encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                          "-no-shell-escape", "doc.tex"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "doc.pdf").exists()


def test_latex_spells_dashes_and_primes_so_pdflatex_can_print_them():
    assert latex.escape("--seed, rows 1–2, σ′ ≤ ¼, 10⁻⁹") == (
        r"-{}-seed, rows 1--2, \ensuremath{\sigma}\ensuremath{^{\prime}} \ensuremath{\leq} ¼, "
        r"10\ensuremath{^{-}}\ensuremath{^{9}}")


def test_latex_allows_matrices_as_wide_as_the_widest_grid():
    wide = Grid("", (tuple(str(i) for i in range(12)),))
    assert "\\setcounter{MaxMatrixCols}{12}\n" in write(latex, [wide])
    assert "\\setcounter{MaxMatrixCols}{10}\n" in write(latex, [Text("no grid")])


def test_latex_formula_without_latex_is_typewriter_text_that_can_wrap():
    doc = write(latex, [Formula("f'(x)", "0.5*(1 + tanh(x))", note="1×1")])
    assert ("\\begin{flushleft}\nf'(x) = \\texttt{0.5*(1 + tanh(x))} \\quad "
            "[1\\ensuremath{\\times}1]\n\\end{flushleft}") in doc


def test_latex_table_wider_than_the_page_gets_wrapping_columns():
    narrow = latex.column_spec(("a", "b"), [("x", "y")])
    wide = latex.column_spec(("name", "doc"), [("x" * 8, "long words " * 12)])
    assert narrow == "ll"
    assert wide == (r">{\raggedright\arraybackslash}p{\dimexpr 0.100\linewidth-2\tabcolsep\relax}"
                    r">{\raggedright\arraybackslash}p{\dimexpr 0.900\linewidth-2\tabcolsep\relax}")


def test_markdown_table_cells_keep_a_lone_dash():
    assert write(markdown, [Table(("a",), (("-",), ("1. x",)))]) == (
        "| a |\n| --- |\n| - |\n| 1. x |\n")


def test_latex_table_row_starting_with_a_bracket_is_not_read_as_the_previous_rows_spacing():
    # `\\` followed by `[b]` on the next line is `\\[b]`: a length, so pdflatex stops with
    # "Illegal unit of measure" (a summary of problems named "[red]x" and "[b] second").
    doc = write(latex, [Table(("problem", "verdict"), (("[red]x", "PASS"), ("[b] second", "PASS")))])
    lines = doc.splitlines()
    after_break = [b for a, b in zip(lines, lines[1:], strict=False) if a.endswith("\\\\")]
    assert "{}[b] second & PASS \\\\" in lines
    assert not any(line.lstrip().startswith("[") for line in after_break)


def test_latex_text_of_every_catalog_derivation_escapes_underscores(cli):
    # `\text{known derivative of leaky_relu}` and `\text{catalog form (gelu_erf')}` stopped
    # pdflatex ("Missing $ inserted"): rule names and form labels carry catalog names.
    from gradcli import catalog

    names = [e.name for e in catalog.ELEMENTWISE if "_" in e.name]
    assert names  # leaky_relu, gelu_erf, ...
    for name in names:
        r = cli("derive", name, "--no-check", "--format", "latex")
        assert r.exit_code == 0, r.output
        texts = re.findall(r"\\text\{((?:[^{}]|\{[^{}]*\})*)\}", r.stdout)
        assert texts, name
        assert not [t for t in texts if re.search(r"(?<!\\)_", t)], name


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_latex_escape_of_ascii_text_takes_a_fast_path_with_the_same_result(text):
    from gradcli.render.plain import escape as escape_control

    slow = latex._escaped().sub(lambda m: latex._replace(m), escape_control(text))
    assert latex.escape(text) == slow
