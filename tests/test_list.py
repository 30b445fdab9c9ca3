"""`gradcli list` and the bundled-problem finder behind it."""

from __future__ import annotations

import pytest

from gradcli.problems import bundled


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
