"""On a 60-column terminal no word is broken mid-word (issue 16: "gradie" / "nt" in a table)."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest

from gradcli.api import solve
from gradcli.problems.load import load_any
from gradcli.render import render

RULES = re.compile(r"[─━│┃┌┐└┘├┤┬┴┼╭╮╰╯═║]+")


def words(results, width: int) -> Counter:
    out = io.StringIO()
    render(results, "rich", out, color=False, width=width)
    # A record line reads `column: value`: its colon is not part of the word.
    return Counter(w.removesuffix(":") for w in RULES.sub(" ", out.getvalue()).split())


@pytest.fixture(scope="module")
def solved():
    return {name: [solve(load_any(f"bundled:{name}.yaml"), seed=0)]
            for name in ("q3", "q5", "q6", "net_mlp2", "net_batch_norm")}


@pytest.mark.parametrize("name", ["q3", "q5", "q6", "net_mlp2", "net_batch_norm"])
def test_every_word_at_60_columns_is_a_word_of_the_wide_output(solved, name):
    narrow, wide = words(solved[name], 60), words(solved[name], 400)
    broken = sorted(set(narrow) - set(wide))
    assert broken == [], broken


def test_a_table_too_wide_for_60_columns_becomes_one_record_per_row(solved):
    out = io.StringIO()
    render(solved["q3"], "rich", out, color=False, width=60)
    assert "  route (got vs expected): closed form vs autograd\n" in out.getvalue()
