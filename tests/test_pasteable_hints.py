"""Suggested expressions paste back as meant (issue 16): a shape error suggested
`did you mean H.T @ softmax(Z2) - Y`, which parses as (H.T @ softmax(Z2)) - Y."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gradcli.expr.ast import Binary, Call, Name, Transpose
from gradcli.expr.parse import parse
from gradcli.kinds.network.shapes import product_hint

PROBLEM = """\
format: 1
kind: network
name: softmax read-out
dims: {b: 4, h: 3, k: 2}
given:
  H: [b, h]
  Z2: [b, k]
  Y: [b, k]
forward:
  G: {expr}
loss:
  L: sum(G)
wrt: [Z2]
"""


def suggested(text: str) -> str:
    found = re.search(r"did you mean (.*)\?\)", text)
    assert found, text
    return found[1]


def test_a_shape_error_suggests_the_product_with_its_parentheses(cli, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(PROBLEM.replace("{expr}", "H @ (softmax(Z2) - Y)"))
    r = cli("check", str(path), "-f", "plain")
    assert r.exit_code == 2, r.output
    hint = suggested(r.stderr)
    assert hint == "H.T @ (softmax(Z2) - Y)"
    path.write_text(PROBLEM.replace("{expr}", hint))
    assert cli("check", str(path), "-f", "plain").exit_code == 0  # the suggestion works


names = st.sampled_from([Name("A"), Name("B"), Name("x")])


def _extend(children):
    return st.one_of(
        st.builds(lambda op, a, b: Binary(op, a, b), st.sampled_from(["+", "-", "*", "/", "@"]),
                  children, children),
        st.builds(Transpose, children),
        st.builds(lambda a: Call("softmax", (a,)), children),
    )


trees = st.recursive(names, _extend, max_leaves=6)


@given(trees, trees)
@settings(max_examples=300, deadline=None)
def test_every_suggested_product_parses_back_to_the_product_meant(left, right):
    text = product_hint(left, right)
    assert text.startswith("did you mean ") and text.endswith("?")
    assert parse(text[len("did you mean "):-1]) == Binary("@", left, right)
