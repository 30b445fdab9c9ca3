"""`gradcli list` and the bundled-problem finder behind it."""

from __future__ import annotations

import io
import json
import re

import pytest

from gradcli.catalog import ENTRIES
from gradcli.problems import bundled
from gradcli.problems.listing import GROUPS, Listing
from gradcli.render import plain
from gradcli.render.layouts import catalog as catalog_layout


@pytest.mark.parametrize(("raw", "value"), [
    ("Column-normalise a tensor", "Column-normalise a tensor"),
    ("network   # the kind", "network"),
    ("a#b", "a#b"),
    ("'It''s q3'", "It's q3"),
    ('"Q3: a \\"net\\""  # quoted', 'Q3: a "net"'),
    ("", ""),
])
def test_header_scanner_reads_one_line_scalars(raw, value):
    assert bundled.scalar(raw) == value


@pytest.mark.parametrize("raw", ["|", ">-", "[a, b]", "{a: 1}", '"tab\\t"', "&anchor x", "*alias"])
def test_header_scanner_gives_up_on_values_that_need_a_yaml_parser(raw):
    assert bundled.scalar(raw) is None


def test_header_scanner_takes_the_first_top_level_name_and_kind_only():
    text = ("# q3\nformat: 1\nkind: network\nname: \"Q3: net\"\ngiven:\n  name: [n]\n"
            "name: second\n")
    assert bundled.scan_header(text) == {"kind": "network", "name": "Q3: net"}


def test_header_falls_back_to_yaml_for_a_block_scalar(tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text("kind: derivative\nname: >-\n  folded\n  name\n", encoding="utf-8")
    assert bundled.describe(path) == bundled.BundledProblem(
        key="odd", file="odd.yaml", name="folded name", kind="derivative")


def test_a_file_without_a_name_is_named_by_its_stem(tmp_path):
    path = tmp_path / "q9.yaml"
    path.write_text("format: 1\nkind: pooling\n", encoding="utf-8")
    assert bundled.describe(path).name == "q9"


def test_bundled_problems_are_sorted_files_of_the_package():
    found = bundled.problems()
    assert [p.file for p in found] == sorted(p.file for p in found)
    for p in found:
        assert p.file.endswith((".yaml", ".yml"))
        assert p.read_text().strip()
        assert bundled.find(p.key) == p
        assert bundled.find(p.file) == p


def test_find_returns_none_for_an_unknown_key():
    assert bundled.find("no-such-problem") is None


# --- gradcli list -----------------------------------------------------------------------------

def test_list_shows_every_catalog_group_in_the_spec_order_then_the_bundled_problems(cli):
    r = cli("list", "--format", "plain")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    headings = [line for line, under in zip(lines, lines[1:], strict=False)
                if under and set(under) <= {"=", "-"} and len(under) == len(line)]
    assert headings == ["Catalog", "elementwise", "reductions", "linalg", "layers", "losses",
                        "constants", "Bundled problems"]


def test_list_gives_each_function_its_signature_doc_and_torch_reference(cli):
    out = cli("list", "--format", "plain").stdout
    assert re.search(r"^gelu\(x\) +GELU, tanh approximation \(the worksheet's\) +"
                     r"torch\.nn\.functional\.gelu\(x, approximate='tanh'\)$", out, re.M)
    assert re.search(r"^leaky_relu\(x, slope=0\.01\) +ReLU with a small slope for x < 0 +"
                     r"torch\.nn\.functional\.leaky_relu\(x, slope\)$", out, re.M)
    assert re.search(r"^cross_entropy\(logits, target, reduction=\"mean\"\) +softmax cross-entropy over rows +"
                     r"torch\.nn\.functional\.cross_entropy$", out, re.M)


def test_list_names_each_bundled_problem_with_its_kind_and_file(cli):
    out = cli("list", "--format", "plain").stdout
    for p in bundled.problems():
        assert re.search(rf"^{p.key} +{re.escape(p.name)} +{p.kind} +{re.escape(p.file)}$", out,
                         re.M), p


def test_list_json_has_the_catalog_and_the_problems(cli):
    r = cli("list", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["kind"] == "catalog" and doc["passed"] is True
    assert [e["name"] for e in doc["catalog"]] == [
        e.name for g in GROUPS for e in ENTRIES.values() if e.group == g]
    gelu = next(e for e in doc["catalog"] if e["name"] == "gelu")
    assert gelu == {"name": "gelu", "group": "elementwise", "signature": "gelu(x)",
                    "doc": "GELU, tanh approximation (the worksheet's)",
                    "torch": "torch.nn.functional.gelu(x, approximate='tanh')",
                    "definition": ENTRIES["gelu"].definition,
                    "derivative": ENTRIES["gelu"].derivative, "kinks": [], "kink_note": "",
                    "domain": "real",
                    "arguments": [{"name": "x", "kind": "tensor", "required": True,
                                   "keyword_only": False}]}
    assert {e["group"] for e in doc["catalog"]} == {"elementwise", "reductions", "linalg",
                                                    "layers", "losses"}
    assert doc["problems"] == [{"problem": p.key, "name": p.name, "kind": p.kind, "file": p.file}
                               for p in bundled.problems()]


@pytest.mark.parametrize("fmt", ["rich", "markdown", "latex"])
def test_list_renders_in_every_format(cli, fmt):
    r = cli("list", "--format", fmt)
    assert r.exit_code == 0, r.output
    assert "sigmoid" in r.stdout and "torch.sigmoid" in r.stdout


def test_list_says_so_when_no_problems_are_bundled():
    out = io.StringIO()
    plain.write(catalog_layout.document(Listing(entries=(ENTRIES["exp"],))), out)
    assert out.getvalue().endswith(
        "Bundled problems\n================\nNo bundled problems were found.\n")


def test_list_takes_no_seed(cli):
    r = cli("list", "--seed", "3")
    assert r.exit_code == 2, r.output


def test_list_shows_definitions_in_the_expression_language(cli):
    out = cli("list", "--format", "plain").stdout
    assert "\nsigmoid(x) = 1/(1 + exp(-x))\n" in out
    assert "\ngelu(x) = 0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x**3)))\n" in out
