"""Property-based fuzzing (issue 8): the expression parser and the problem loader return a
result or raise `InputError`, nothing else, whatever the text.

The default suite runs a few hundred examples per property; the `slow` tests run 10,000 each
(`pytest -m slow tests/test_hardening_fuzz.py -s` prints how many examples were a tree or a
Problem and how many an InputError). The parse -> print -> parse round trip lives in
tests/test_expr_properties.py and is not repeated here.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcli import catalog
from gradcli.errors import InputError
from gradcli.expr.ast import Node
from gradcli.expr.parse import parse
from gradcli.problems.load import load_text

BUNDLED = sorted((Path(__file__).parent.parent / "gradcli" / "bundled").glob("*.yaml"))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
OUTCOMES: Counter = Counter()


def well_formed(err: InputError, file: str | None) -> None:
    for e in err.all():
        assert isinstance(e.message, str) and e.message.strip()
        assert e.file == file or file is None
        assert e.line is None or e.line >= 1
        assert e.column is None or e.column >= 1
    json.dumps(err.to_json())
    assert str(err)


# -- the expression parser ------------------------------------------------------------------

TOKENS = [
    "x", "y", "W", "b", "z", "T", "pi", "e", "dim", "sigmoid", "gelu", "sum", "mean", "softmax",
    "leaky_relu", "slope", "reduction", "huber", "avg_pool2d", "kernel", "__import__", "lambda",
    "_x", "import", "os", "open", "0", "1", "2.5", ".5", "1e308", "1e-999", "9" * 50, "1e999",
    "+", "-", "*", "/", "**", "@", "(", ")", ".", ",", "=", "^", "[", "]", ":", "%", "<", "|",
    "'sum'", '"mean"', "'", '"', " ", "\t", "\n", "−", "×", "２", "х", "σ", "ｘ", "\x00", "\x1b",
    "\u202e", "\ufeff", "é",
]
VARIABLES = st.one_of(st.none(), st.sets(st.sampled_from(["x", "y", "W", "b", "z", "pi", "e",
                                                         "sigmoid", "n"])))
RANDOM_TEXT = st.text(max_size=80)
TOKEN_SOUP = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
FUNCTIONS = [e.name for e in catalog.ELEMENTWISE]
# Grammatical scalar expressions in x (and y): most parse, so the fuzz reaches deep states.
EXPRESSIONS = st.recursive(
    st.sampled_from(["x", "x", "x", "y", "pi", "e", "0", "1", "2", "0.5", "3", "1e-3", "10"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner)
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(FUNCTIONS), inner).map(lambda t: f"{t[0]}({t[1]})"),
        inner.map(lambda s: f"-{s}")),
    max_leaves=10)


@st.composite
def mutated_expression(draw) -> str:
    """A grammatical expression with one token cut, doubled or replaced (or left alone)."""
    text = draw(EXPRESSIONS)
    at = draw(st.integers(0, len(text)))
    return draw(st.sampled_from([
        text, text[:at] + text[at + 1:], text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]]))


ANY_TEXT = st.one_of(RANDOM_TEXT, TOKEN_SOUP, mutated_expression())


def check_parse(text: str, variables) -> None:
    try:
        tree = parse(text, variables=variables)
    except InputError as err:
        well_formed(err, None)
        OUTCOMES["parse: InputError"] += 1
        return
    assert isinstance(tree, Node)
    OUTCOMES["parse: tree"] += 1


@FAST
@given(ANY_TEXT, VARIABLES)
def test_parser_gives_a_tree_or_an_input_error_for_any_text(text, variables):
    check_parse(text, variables)


@pytest.mark.slow
@SLOW
@given(ANY_TEXT, VARIABLES)
def test_parser_fuzz_10000_examples(text, variables):
    check_parse(text, variables)


# -- the problem loader ---------------------------------------------------------------------

SNIPPETS = [
    "&a ", "*a", "!!python/object/apply:os.system ", "!x ", "<<: *a\n", "---\n", "...\n",
    "%YAML 1.1\n", "%TAG ! tag:x:\n", "\t", "\x07", "\x1b", "\ufeff", "１", "−", "х", "9" * 30,
    ".nan", ".inf", "-.inf", "1e999", "[", "]", "{", "}", ":", ": ", "- ", "\n  ", "\n", "'",
    '"', "|", ">", "#", "? ", ",", "~", "null", "yes", "0x1F", "0o17", "__import__('os')",
    "x.__class__", "sigmod(x)", "W @ W", "  ", "\\", "\r\n",
]
VALUES = [
    "0", "-1", "1", "3", "99999999999999999999", "1e999", "[]", "{}", "null", "~", "true",
    "yes", "[n]", "[n, n, n]", "[0]", "[-1, 2]", "sigmod(x)", "x.__class__", "W @ W", "x @ x.T",
    "[[1, 2], [3]]", "[[1, 2], [3, 4]]", '"x"', "'1 2; 3 4'", "!!binary aGk=", "&x [1]", "*x",
    "[x, y]", "{n: 4096}", "{n: 0}", "relu", "avg", "max", "he", "builtin:reverse_rows",
    "builtin:nope", "../../../etc/passwd", "[.nan]",
]


@st.composite
def mutated_bundled_file(draw) -> str:
    """A shipped problem file after a few random edits (characters, lines, values)."""
    text = draw(st.sampled_from(BUNDLED)).read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        op = draw(st.sampled_from(["cut", "insert", "drop", "duplicate", "swap", "indent",
                                   "dedent", "value"]))
        if op in ("cut", "insert"):
            at = draw(st.integers(0, len(text)))
            cut = draw(st.integers(0, 12)) if op == "cut" else 0
            text = text[:at] + (draw(st.sampled_from(SNIPPETS)) if op == "insert" else "") + \
                text[at + cut:]
            continue
        if op == "drop":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "indent":
            lines[i] = "  " + lines[i]
        elif op == "dedent":
            lines[i] = lines[i].lstrip()
        elif ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {draw(st.sampled_from(VALUES))}"
        text = "\n".join(lines)
    return text


KEYS = ["format", "kind", "name", "description", "source", "function", "wrt", "at", "claim",
        "steps", "check", "dims", "given", "forward", "loss", "claims", "values", "input", "mode",
        "kernel", "stride", "padding", "count_include_pad", "upstream", "activations", "depth",
        "width", "batch", "init", "seed", "inputs", "reference", "constraints", "notes",
        "fomat", "kindd", "x", "W"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10), st.integers(), st.floats(allow_nan=True),
    st.sampled_from(["x", "W @ x + b", "sigmoid(z)", "sum((y - t)**2)", "n", "m", "avg", "relu",
                     "derivative", "network", "pooling", "vanishing", "implementation",
                     "1 2; 3 4", "x**2", "sigmod(x)", "__import__('os')", "builtin:reverse_rows"]),
    st.text(max_size=12))
DOCUMENT_VALUES = st.recursive(
    SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                     st.dictionaries(st.sampled_from(KEYS + ["n", "m", "x", "z"]),
                                                     inner, max_size=4)),
    max_leaves=20)


@st.composite
def generated_document(draw) -> str:
    """A mapping of problem-file keys to random values, as YAML flow text (JSON is YAML 1.2)."""
    doc = {"format": draw(st.sampled_from([1, 1, 1, 2, "1"])),
           "kind": draw(st.sampled_from(["derivative", "network", "pooling", "vanishing",
                                         "implementation", "netwrk"]))}
    doc.update(draw(st.dictionaries(st.sampled_from(KEYS), DOCUMENT_VALUES, max_size=8)))
    text = json.dumps(doc, indent=draw(st.sampled_from([None, 2])), allow_nan=True)
    return text


def check_load(text: str) -> None:
    try:
        problem = load_text(text, "p.yaml")
    except InputError as err:
        well_formed(err, "p.yaml")
        OUTCOMES["load: InputError"] += 1
        return
    assert problem.kind in ("derivative", "network", "pooling", "vanishing", "implementation")
    for value in vars(problem).values():  # no NaN or infinity slips through as a number
        assert not (isinstance(value, float) and not math.isfinite(value))
    OUTCOMES["load: Problem"] += 1


@FAST
@given(st.one_of(mutated_bundled_file(), generated_document()))
def test_loader_gives_a_problem_or_an_input_error_for_edited_and_random_files(text):
    check_load(text)


@pytest.mark.slow
@SLOW
@given(st.one_of(mutated_bundled_file(), generated_document()))
def test_loader_fuzz_10000_examples(text):
    check_load(text)


# -- derive: any expression that parses is derived and checked, or refused; never a crash -------

def check_derive(text: str) -> None:
    from gradcli.kinds.derivative.solve import solve
    from gradcli.problems.model import DerivativeProblem

    try:
        result = solve(DerivativeProblem(function=text, steps=True, check=True))
    except InputError as err:
        well_formed(err, None)
        OUTCOMES["derive: InputError"] += 1
        return
    OUTCOMES["derive: passed" if result.passed else "derive: a check failed"] += 1
    if not result.passed:
        FAILED_CHECKS.append(text)


FAILED_CHECKS: list[str] = []


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(EXPRESSIONS)
def test_derive_gives_a_result_or_an_input_error_for_any_expression(text):
    check_derive(text)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(EXPRESSIONS)
def test_derive_fuzz_400_expressions(text):
    check_derive(text)


def test_every_bundled_file_is_in_the_fuzz_corpus_and_loads():
    assert len(BUNDLED) >= 7
    for path in BUNDLED:
        load_text(path.read_text(encoding="utf-8"), path.name)


@pytest.mark.slow
def test_fuzz_counts_are_reported():
    """Runs last in the slow file: the tally of every example above, for the issue's report."""
    print("\nfuzz outcomes:", dict(sorted(OUTCOMES.items())))
    print("derivations whose checks failed:", FAILED_CHECKS)
    assert sum(OUTCOMES.values()) > 0
