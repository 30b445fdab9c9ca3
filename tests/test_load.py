"""Reading problem files safely: every refusal is `file:line:col: message`, all at once."""

from __future__ import annotations

import time

import pytest

from gradcli.errors import InputError
from gradcli.problems import load
from gradcli.problems.load import load_problem
from gradcli.problems.model import DerivativeProblem, Origin

HEADER = "format: 1\nkind: derivative\n"


@pytest.fixture
def complaints(tmp_path, monkeypatch):
    """complaints(text) -> the one-line messages of loading `p.yaml` holding `text`."""
    monkeypatch.chdir(tmp_path)

    def run(text: str | bytes, name: str = "p.yaml") -> list[str]:
        data = text.encode() if isinstance(text, str) else text
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputError) as info:
            load_problem(name)
        return [e.one_line() for e in info.value.all()]

    return run


def loaded(tmp_path, text: str):
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return load_problem(path)


def test_tags_are_refused_before_anything_is_constructed(complaints):
    assert complaints(HEADER + "function: !!python/object/apply:os.system ['ls']\n") == [
        "p.yaml:3:11: tags are not allowed (!!python/object/apply:os.system); nothing in a "
        "problem file is ever constructed or executed"]


def test_local_tags_are_refused_too(complaints):
    assert complaints(HEADER + "function: !expr x**2\n") == [
        "p.yaml:3:11: tags are not allowed (!expr); nothing in a problem file is ever "
        "constructed or executed"]


def test_anchors_and_aliases_are_refused_each_with_its_position(complaints):
    assert complaints(HEADER + "function: &f x**2\nclaim: *f\n") == [
        "p.yaml:3:11: anchors are not allowed (&f); write each value out",
        "p.yaml:4:8: aliases are not allowed (*f); write the value out"]


def test_billion_laughs_is_refused_at_once_without_expansion(complaints):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    started = time.perf_counter()
    found = complaints(HEADER + "\n".join(lines) + "\n")
    assert time.perf_counter() - started < 2
    assert found[0] == "p.yaml:3:5: anchors are not allowed (&a0); write each value out"
    assert found[2] == "p.yaml:4:10: aliases are not allowed (*a0); write the value out"
    # three of each kind, then a count: it listed all 100 (82 lines for a smaller file)
    assert found[-2:] == ["p.yaml: anchors are not allowed: 7 more like the above",
                          "p.yaml: aliases are not allowed: 87 more like the above"]
    assert len(found) == 3 + 3 + 2


def test_duplicate_keys_are_refused_at_the_second_one(complaints):
    assert complaints(HEADER + "function: x**2\nfunction: x**3\n") == [
        "p.yaml:4:1: duplicate key 'function' (first given on line 3) (each key may appear once)"]


def test_duplicate_keys_inside_a_nested_mapping_are_refused(complaints):
    text = "format: 1\nkind: network\ngiven:\n  x: []\n  x: [2]\nloss: x\nwrt: x\n"
    assert complaints(text) == [
        "p.yaml:5:3: duplicate key 'x' (first given on line 4) (each key may appear once)"]


def test_several_documents_are_refused_at_the_second(complaints):
    assert complaints(HEADER + "function: x\n---\nformat: 1\n") == [
        "p.yaml:4:1: a second YAML document starts here; a problem file holds one problem "
        "(split it into one file per problem)"]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_an_empty_file_is_refused(complaints, text):
    assert complaints(text) == [
        "p.yaml:1:1: the file is empty; expected a problem starting with `format: 1` and "
        "`kind: ...`"]


def test_a_file_that_is_not_a_mapping_is_refused(complaints):
    assert complaints("- 1\n- 2\n") == [
        "p.yaml:1:1: expected a mapping of keys (format: 1, kind: ...), got a list"]


def test_invalid_yaml_names_the_place_and_where_the_bracket_opened(complaints):
    assert complaints("format: 1\nkind: [derivative\n") == [
        "p.yaml:3:1: the file ends inside an unclosed quote or bracket (opened at line 2, "
        "column 7)"]


def test_yaml_1_1_directive_is_refused(complaints):
    assert complaints("%YAML 1.1\n---\n" + HEADER + "function: x\n") == [
        "p.yaml:2:1: %YAML 1.1 is not supported; problem files are YAML 1.2 "
        "(remove the %YAML line)"]


def test_non_utf8_bytes_are_refused_with_their_position(complaints):
    assert complaints(HEADER.encode() + b"name: caf\xe9\n") == [
        "p.yaml:3:10: not UTF-8 text: byte 0xe9 cannot be decoded (save the file as UTF-8)"]


def test_control_characters_are_refused(complaints):
    assert complaints(HEADER + 'name: "a\x07b"\n') == [
        "p.yaml:3:9: character U+0007 is not allowed in a YAML file"]


def test_an_oversized_file_is_refused_before_parsing(complaints):
    text = HEADER + "function: x\n" + "# padding\n" * (load.MAX_BYTES // 10 + 1)
    assert complaints(text) == ["p.yaml: file is larger than 1024 KiB; a problem file is a page "
                                "of text"]


def test_a_missing_file_is_named(complaints, tmp_path):
    with pytest.raises(InputError) as info:
        load_problem("nowhere.yaml")
    assert str(info.value) == "nowhere.yaml: no such file"


def test_a_directory_is_not_a_problem_file(tmp_path):
    with pytest.raises(InputError) as info:
        load_problem(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a directory, not a problem file"


def test_complex_keys_are_refused(complaints):
    assert complaints(HEADER + "function: x\n? [a]\n: 1\n") == [
        "p.yaml:4:3: keys must be plain names, not lists or mappings"]


def test_a_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER.encode() + b"function: x**2\n")
    assert load_problem(path).function == "x**2"


def test_yaml_1_2_core_schema_keeps_yes_as_text(tmp_path):
    assert loaded(tmp_path, HEADER + "function: x\nname: yes\n").name == "yes"


def test_quoted_numbers_are_text_not_numbers(complaints):
    assert complaints(HEADER + 'function: x\nat: ["1.5"]\n') == [
        "p.yaml:4:7: at[0]: expected a number, got the text '1.5'"]


def test_nan_and_infinity_are_refused(complaints):
    assert complaints(HEADER + "function: x\nat: [1, .nan, -.inf, 1e999]\n") == [
        "p.yaml:4:9: at[1]: .nan is not allowed; numbers must be finite",
        "p.yaml:4:15: at[2]: -.inf is not allowed; numbers must be finite",
        "p.yaml:4:22: at[3]: 1e999 is too large for a float64"]


def test_huge_integers_are_refused_as_numbers_and_hex_is_read(complaints, tmp_path):
    assert complaints(HEADER + "function: x\nat: [" + "9" * 400 + "]\n") == [
        "p.yaml:4:6: at[0]: " + "9" * 40 + " is too large for a float64"]
    assert loaded(tmp_path, HEADER + "function: x\nat: [0x10, 0o10, -3]\n").at == (16, 8, -3)


def test_yaml_1_1_booleans_get_a_hint(complaints):
    assert complaints(HEADER + "function: x\nsteps: yes\n") == [
        "p.yaml:4:8: steps: expected true or false, got the text 'yes' "
        "(YAML 1.2 writes true or false)"]


# -- where an expression error points ---------------------------------------------------------


def test_expression_error_column_in_a_plain_value(complaints):
    assert complaints(HEADER + "function: x * sigmod(x)\n") == [
        "p.yaml:3:15: function: unknown function 'sigmod' (did you mean 'sigmoid'?)"]


def test_expression_error_column_in_a_double_quoted_value_starts_after_the_quote(complaints):
    assert complaints(HEADER + 'function: "x * sigmod(x)"\n') == [
        "p.yaml:3:16: function: unknown function 'sigmod' (did you mean 'sigmoid'?)"]


def test_expression_error_column_in_a_single_quoted_value(complaints):
    assert complaints(HEADER + "function: 'x ^ 2'\n") == [
        "p.yaml:3:14: function: '^' is not allowed (write ** for powers)"]


def test_expression_error_in_a_literal_block_points_at_its_line(complaints):
    assert complaints(HEADER + "function: |\n  x * 2 +\n    sigmod(x)\n") == [
        "p.yaml:5:5: function: unknown function 'sigmod' (did you mean 'sigmoid'?)"]


def test_expression_error_in_a_folded_value_points_at_the_value(complaints):
    # Folding joins lines, so the exact character cannot be recovered: the value's start.
    assert complaints(HEADER + "function: x * 2 +\n  sigmod(x)\n") == [
        "p.yaml:3:11: function: unknown function 'sigmod' (did you mean 'sigmoid'?)"]


def test_expression_error_with_escapes_points_at_the_value(complaints):
    assert complaints(HEADER + 'function: "x\\t* sigmod(x)"\n') == [
        "p.yaml:3:12: function: unknown function 'sigmod' (did you mean 'sigmoid'?)"]


# -- the header ------------------------------------------------------------------------------


def test_format_and_kind_are_required(complaints):
    assert complaints("function: x\n") == [
        "p.yaml:1:1: missing key 'format' (write `format: 1` at the top)",
        "p.yaml:1:1: missing key 'kind' (one of derivative, network, pooling, vanishing, "
        "implementation)"]


def test_another_format_is_refused(complaints):
    assert complaints("format: 2\nkind: derivative\nfunction: x\n") == [
        "p.yaml:1:9: format: this gradcli reads format 1, not 2 "
        "(upgrade gradcli, or rewrite the file for format 1)"]


def test_an_unknown_kind_gets_a_suggestion(complaints):
    assert complaints("format: 1\nkind: netwrk\n") == [
        "p.yaml:2:7: kind: 'netwrk' is not one of derivative, network, pooling, vanishing, "
        "implementation (did you mean 'network'?)"]


def test_an_unknown_key_gets_a_suggestion(complaints):
    assert complaints(HEADER + "function: x\nclaims: 2*x\n") == [
        "p.yaml:4:1: unknown key 'claims' in a derivative problem (did you mean 'claim'?)"]


def test_a_key_of_another_kind_says_which_kind_it_belongs_to(complaints):
    assert complaints(HEADER + "function: x\nupstream: [[1]]\n") == [
        "p.yaml:4:1: unknown key 'upstream' in a derivative problem "
        "('upstream' belongs to kind pooling)"]


def test_an_unknown_key_without_a_near_match_lists_the_keys(complaints):
    assert complaints(HEADER + "function: x\nzzz: 1\n") == [
        "p.yaml:4:1: unknown key 'zzz' in a derivative problem (the keys of a derivative "
        "problem: format, kind, name, description, source, function, wrt, at, claim, steps, "
        "check, order)"]


def test_a_wrong_type_for_a_text_key(complaints):
    assert complaints(HEADER + "function: x\nname: [a, b]\n") == [
        "p.yaml:4:7: name: expected text, got a list"]


def test_every_complaint_is_reported_together_in_file_order(complaints):
    assert complaints("kind: derivative\nfunction: x ^ 2\nsteps: 3\nformat: 1.0\n") == [
        "p.yaml:2:13: function: '^' is not allowed (write ** for powers)",
        "p.yaml:3:8: steps: expected true or false, got the number 3",
        "p.yaml:4:9: format: expected a whole number, got the number 1.0"]


def test_the_name_defaults_to_the_file_stem(tmp_path):
    assert loaded(tmp_path, HEADER + "function: x\n").name == "p"


def test_origin_records_the_file_and_the_position_of_every_value(tmp_path):
    problem = loaded(tmp_path, HEADER + "function: 'x**2'\nat: [1, 2]\n")
    assert problem.origin == Origin(str(tmp_path / "p.yaml"), {
        "format": (1, 9), "kind": (2, 7), "function": (3, 12), "at": (4, 5), "at.0": (4, 6),
        "at.1": (4, 9)})


def test_origin_lets_a_solver_point_its_own_error_at_the_file(tmp_path):
    problem = loaded(tmp_path, HEADER + "function: 'x**2'\n")
    err = problem.locate("function", InputError("cannot differentiate this", column=3))
    assert err.one_line() == f"{tmp_path / 'p.yaml'}:3:14: cannot differentiate this"


def test_load_text_reads_a_problem_from_text():
    problem = load.load_text(HEADER + "function: gelu\n", "<stdin>")
    assert problem == DerivativeProblem(function="gelu", origin=problem.origin)
    assert problem.origin.file == "<stdin>"


def test_gradcli_load_is_the_public_loader(tmp_path):
    import gradcli

    (tmp_path / "p.yaml").write_text(HEADER + "function: x\n")
    assert gradcli.load(tmp_path / "p.yaml").function == "x"


def test_expression_columns_are_exact_in_crlf_files_too(complaints):
    text = HEADER + "function: x * sigmod(x)\nclaim: |\n  1 +\n    sigmod(x)\n"
    assert complaints(text.replace("\n", "\r\n")) == [
        "p.yaml:3:15: function: unknown function 'sigmod' (did you mean 'sigmoid'?)",
        "p.yaml:6:5: claim: unknown function 'sigmod' (did you mean 'sigmoid'?)"]

