"""`gradcli list NAME`: one catalog entry or one bundled problem in full (issue 16)."""

from __future__ import annotations

import json

import pytest

from gradcli.catalog import ENTRIES
from gradcli.problems.bundled import problems


def test_a_catalog_function_shows_definition_derivative_torch_reference_and_domain(cli):
    r = cli("list", "relu", "-f", "plain")
    assert r.exit_code == 0, r.output
    assert r.stdout.split("\n")[:9] == [
        "relu(x)", "=======", "rectified linear unit max(0, x)", "relu(x) = x*step(x)",
        "d/dx relu(x) = step(x)", "torch reference: torch.relu(x)", "domain: all real x",
        "group: elementwise", "not differentiable at x = 0: torch takes relu'(0) = 0"]


def test_a_function_on_a_positive_domain_says_so(cli):
    r = cli("list", "log", "-f", "plain")
    assert "domain: x > 0" in r.stdout and "d/dx log(x) = 1/x" in r.stdout


def test_a_bundled_problem_shows_its_file_and_how_to_run_it(cli):
    r = cli("list", "q3", "-f", "plain")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("q3: One-layer sigmoid network, squared loss\n")
    assert "kind: network" in r.stdout
    assert "kind: network; file: q3.yaml" in r.stdout
    assert r.stdout.rstrip().endswith("run it: gradcli check q3")


def test_an_exercise_is_run_with_gradcli_exercise(cli):
    r = cli("list", "q2", "-f", "plain")
    assert r.stdout.rstrip().endswith("run it: gradcli exercise q2 --solution FILE.py")


@pytest.mark.parametrize("name", [*ENTRIES, *(p.key for p in problems())])
def test_every_catalog_entry_and_problem_can_be_listed_in_every_format(cli, name):
    for fmt in ("plain", "markdown", "latex", "json"):
        r = cli("list", name, "-f", fmt)
        assert r.exit_code == 0, (fmt, r.output)
    doc = json.loads(r.stdout)
    assert doc["focus"] == name
    assert len(doc["catalog"]) + len(doc["problems"]) >= 1


def test_a_typo_suggests_the_nearest_name_and_exits_2(cli):
    r = cli("list", "gleu")
    assert r.exit_code == 2, r.output
    assert r.stderr == ("error: NAME: no catalog function or bundled problem is named 'gleu' "
                        "(did you mean 'gelu'?)\n")


def test_a_typo_of_a_problem_suggests_the_problem(cli):
    r = cli("list", "q33")
    assert r.exit_code == 2 and "did you mean 'q3'?" in r.stderr
