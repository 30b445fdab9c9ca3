"""Givens declared as class labels, one-hot rows or distributions (SPEC, second round).

Issue 13: assumptions about a given came from a pattern guess (a cross-entropy target was
drawn as a distribution), so gradcli's own answer for label smoothing failed its check and a
wrong `g - softmax(z)` passed. Now only the file says what a given is; the declaration holds at
every sample point and a plain [N, C] given is an unconstrained real matrix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_schema import _yaml, conforms

from gradcli.api import solve
from gradcli.kinds.network import verify as V
from gradcli.kinds.network.graph import build
from gradcli.problems.load import load_problem
from gradcli.problems.model import NetworkProblem
from gradcli.problems.schema import json_schema

LABELS = """\
format: 1
kind: network
name: softmax regression with class labels
dims: {N: 5, d: 3, C: 4}
given:
  X: [N, d]
  y: {shape: [N], labels: C}
  W: [d, C]
forward:
  Z: X @ W
loss:
  L: LOSS
wrt: [W]
claims:
  W: CLAIM
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def labels_problem(tmp_path, loss="cross_entropy(Z, y)",
                   claim="X.T @ (softmax(Z) - onehot(y, C)) / N"):
    return write(tmp_path, LABELS.replace("LOSS", loss).replace("CLAIM", claim))


# -- sampling: the declaration holds at every point ---------------------------------------

def _points(**kinds) -> list[V.Point]:
    given = {"y": ("N",), "H": ("N", "C"), "D": ("N", "C"), "R": ("N", "C"), "Z": ("N", "C")}
    p = NetworkProblem(dims={"N": 6, "C": 3}, given=given, given_kinds=kinds,
                       loss=("L", "sum(Z * (H + D + R)) + sum(y)"), wrt=("Z",))
    return V.points(build(p), p, seed=3)


def test_labels_onehot_and_distribution_hold_at_every_sample_point():
    pts = _points(y=("labels", "C"), H=("onehot", None), D=("distribution", None))
    assert len(pts) == 4
    for p in pts:
        y, h, d = p.values["y"], p.values["H"], p.values["D"]
        assert y.shape == (6, 1) and bool(((y == y.round()) & (y >= 0) & (y <= 2)).all())
        assert bool(((h == 0) | (h == 1)).all()) and torch.equal(h.sum(dim=1), torch.ones(6, dtype=h.dtype))
        assert bool((d > 0).all()) and torch.allclose(d.sum(dim=1), torch.ones(6, dtype=d.dtype))


def test_a_plain_matrix_given_is_unconstrained_even_where_a_cross_entropy_uses_it():
    p = NetworkProblem(dims={"N": 6, "C": 3}, given={"Z": ("N", "C"), "R": ("N", "C")},
                       loss=("L", "cross_entropy(Z, R)"), wrt=("Z",))
    for pt in V.points(build(p), p, seed=0):
        r = pt.values["R"]
        assert bool((r < 0).any()) and not torch.allclose(r.sum(dim=1), torch.ones(6, dtype=r.dtype))


# -- cross-entropy and nll with class labels ------------------------------------------------

def test_cross_entropy_with_labels_derives_softmax_minus_onehot_and_a_claim_is_correct(cli, tmp_path):
    r = cli("check", labels_problem(tmp_path), "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["gradients"]["W"]["expression"] == "X.T @ ((softmax(Z) - onehot(y, 4))/5)"
    assert doc["claims"][0]["verdict"] == "correct"
    assert "random values: y is drawn as integer class labels 0 to 3 (declared labels: C)" \
        in doc["notes"]


def test_a_labels_claim_missing_1_over_N_is_wrong_by_that_factor(cli, tmp_path):
    r = cli("check", labels_problem(tmp_path, claim="X.T @ (softmax(Z) - onehot(y, C))"),
            "--format", "json")
    assert r.exit_code == 1, r.output
    assert json.loads(r.stdout)["claims"][0]["hint"].startswith(
        "off by a constant factor: the claim is 5 × ∂L/∂W")


def test_nll_of_log_softmax_with_labels_equals_torchs_cross_entropy():
    p = NetworkProblem(dims={"N": 5, "C": 4}, given={"Z": ("N", "C"), "y": ("N",)},
                       given_kinds={"y": ("labels", "C")},
                       forward=(("Q", "log_softmax(Z, dim=1)"),),
                       loss=("L", "nll(Q, y)"), wrt=("Z",),
                       claims={"Z": "(softmax(Z) - onehot(y, 4)) / 5"})
    graph = build(p)
    pt = V.points(graph, p, seed=0, count=1)[0]
    env = V.forward(graph, pt.values)
    expected = torch.nn.functional.cross_entropy(pt.values["Z"], pt.values["y"].reshape(-1).long())
    assert float(env["L"]) == pytest.approx(float(expected), rel=1e-14)
    r = solve(p)
    assert r.passed and r.claims[0].correct


def test_nll_of_a_target_not_declared_as_labels_is_refused_with_a_hint(cli, tmp_path):
    text = LABELS.replace("  y: {shape: [N], labels: C}", "  y: [N]").replace(
        "LOSS", "nll(log_softmax(Z, dim=1), y)").replace("CLAIM", "X")
    r = cli("check", write(tmp_path, text))
    assert r.exit_code == 2, r.output
    assert "nll takes class labels as its target, declared as {shape: [N], labels: C}" in r.output


def test_a_cross_entropy_target_of_N_reals_suggests_declaring_labels(cli, tmp_path):
    text = LABELS.replace("  y: {shape: [N], labels: C}", "  y: [N]").replace(
        "LOSS", "cross_entropy(Z, y)").replace("CLAIM", "X")
    r = cli("check", write(tmp_path, text))
    assert r.exit_code == 2, r.output
    assert "for integer class labels declare the target as {shape: [N], labels: C}" in r.output


# -- the two misjudgements ----------------------------------------------------------

SMOOTHING = """\
format: 1
kind: network
name: label smoothing
dims: {N: 4, C: 3}
given:
  Z: [N, C]
  Y: YSHAPE
forward:
  T: 0.9 * Y + 0.1 / C
loss:
  L: cross_entropy(Z, T)
wrt: [Z]
claims:
  Z: CLAIM
values:
  Y: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]
"""


def test_label_smoothing_with_an_undeclared_target_passes_its_own_check_at_every_point(cli, tmp_path):
    text = SMOOTHING.replace("YSHAPE", "[N, C]").replace(
        "CLAIM", "(softmax(Z) * sum(T, dim=1) - T) / N")
    r = cli("check", write(tmp_path, text), "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["checks"][0]["passed"] and doc["checks"][0]["max_rel_error"] < 1e-12
    assert doc["claims"][0]["verdict"] == "correct"


def test_label_smoothing_of_a_declared_onehot_target_accepts_softmax_minus_t(cli, tmp_path):
    text = SMOOTHING.replace("YSHAPE", "{shape: [N, C], onehot: true}").replace(
        "CLAIM", "(softmax(Z) - T) / N")
    r = cli("check", write(tmp_path, text), "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["claims"][0]["verdict"] == "correct"


def test_softmax_minus_t_for_an_undeclared_target_is_wrong(cli, tmp_path):
    text = SMOOTHING.replace("YSHAPE", "[N, C]").replace("CLAIM", "(softmax(Z) - T) / N")
    r = cli("check", write(tmp_path, text), "--format", "json")
    assert r.exit_code == 1, r.output
    assert json.loads(r.stdout)["claims"][0]["verdict"] == "wrong"


# -- bad declarations: exit 2 at file:line:col ---------------------------------------------

@pytest.mark.parametrize("given, where, message", [
    ("y: {shape: [N], labels: }", "7:26", "given.y.labels: labels needs the number of classes"),
    ("y: {shape: [N], labels: K}", "7:27", "given.y.labels: 'K' is not a declared dim"),
    ("y: {shape: [N], labels: 1}", "7:27", "given.y.labels: must be at least 2, got 1"),
    ("y: {shape: [N, C], labels: C}", "7:22", "given.y: class labels are one per sample: the "
                                              "shape must be [N], not [N, C]"),
    ("y: {shape: [N], onehot: true}", "7:19", "given.y: onehot rows need a 2-D shape [N, C]"),
    ("y: {shape: [N, 1], distribution: rows}", "7:22", "given.y: distribution rows need a 2-D"),
    ("y: {shape: [N, C], distribution: columns}", "7:36", "given.y.distribution: 'columns' is "
                                                          "not one of rows"),
    ("y: {shape: [N, C], onehot: false}", "7:30", "given.y: onehot: false declares nothing"),
    ("y: {shape: [N, C], onehot: true, distribution: rows}", "7:36",
     "given.y: declare one of labels, onehot or distribution, not onehot and distribution"),
    ("y: {shape: [N], label: C}", "7:19", "given.y: 'label' is not a key of a given"),
    ("y: {labels: C}", "7:6", "given.y: a declared given needs its shape"),
])
def test_a_bad_declaration_is_exit_2_at_its_line_and_column(cli, tmp_path, given, where, message):
    text = LABELS.replace("  y: {shape: [N], labels: C}", f"  {given}").replace(
        "LOSS", "sum(Z)").replace("CLAIM", "X")
    r = cli("check", write(tmp_path, text))
    assert r.exit_code == 2, r.output
    assert f"p.yaml:{where}: {message}" in r.output, r.output


def test_labels_in_wrt_are_refused_they_are_never_differentiated(cli, tmp_path):
    text = labels_problem(tmp_path)
    Path(text).write_text(Path(text).read_text().replace("wrt: [W]", "wrt: [W, y]")
                          .replace("claims:\n  W: X.T @ (softmax(Z) - onehot(y, C)) / N\n", ""))
    r = cli("check", text)
    assert r.exit_code == 2, r.output
    assert "p.yaml:13:10: wrt: 'y' is class labels: it is never differentiated" in r.output


@pytest.mark.parametrize("values, where, message", [
    ("  y: [0, 1, 4, 2, 3]", "17:13", "values.y[2]: a class label is a whole number from 0 to 3, "
                                      "got 4"),
    ("  y: [0, 1, 0.5, 2, 3]", "17:13", "values.y[2]: a class label is a whole number"),
])
def test_values_of_declared_labels_are_checked_at_the_entry(cli, tmp_path, values, where, message):
    path = labels_problem(tmp_path)
    Path(path).write_text(Path(path).read_text() + f"values:\n{values}\n")
    r = cli("check", path)
    assert r.exit_code == 2, r.output
    assert f"p.yaml:{where}: {message}" in r.output, r.output


def test_values_of_a_declared_onehot_given_are_checked_per_row(cli, tmp_path):
    text = SMOOTHING.replace("YSHAPE", "{shape: [N, C], onehot: true}").replace(
        "CLAIM", "Z").replace("[0, 0, 1], [1, 0, 0]]", "[0, 0, 1], [1, 1, 0]]")
    r = cli("check", write(tmp_path, text))
    assert r.exit_code == 2, r.output
    assert "p.yaml:16:40: values.Y[3]: a one-hot row has a single 1 and 0 elsewhere" in r.output


# -- the JSON Schema -------------------------------------------------------------------------

@pytest.mark.parametrize("given, ok", [
    ("{shape: [N], labels: C}", True), ("{shape: [N], labels: 10}", True),
    ("{shape: [N, C], onehot: true}", True), ("{shape: [N, C], distribution: rows}", True),
    ("[N, C]", True), ("{labels: C}", False), ("{shape: [N], labels: 1}", False),
    ("{shape: [N, C], onehot: false}", False), ("{shape: [N, C], distribution: cols}", False),
    ("{shape: [N], labels: C, onehot: true}", False), ("{shape: [N], colour: red}", False),
])
def test_the_schema_describes_declared_givens(given, ok):
    text = f"format: 1\nkind: network\ndims: {{N: 3, C: 2}}\ngiven:\n  y: {given}\nloss: sum(y)\nwrt: [y]\n"
    assert conforms(_yaml(text), json_schema()) is ok


def test_a_bundled_file_with_declared_labels_loads_with_its_declaration():
    p = load_problem(str(Path(__file__).resolve().parent.parent / "gradcli" / "bundled" /
                         "net_labels_nll.yaml"))
    assert p.given_kinds == {"y": ("labels", "C")}


@pytest.mark.parametrize("shape, kind", [(("N", "C"), ("labels", "C")), (("N",), ("onehot", None)),
                                         (("N", "C"), ("softmax", None))])
def test_a_problem_built_in_python_with_a_bad_declaration_is_an_input_error(shape, kind):
    from gradcli.errors import InputError

    p = NetworkProblem(dims={"N": 3, "C": 2}, given={"Z": ("N", "C"), "y": shape},
                       given_kinds={"y": kind}, loss=("L", "sum(Z)"), wrt=("Z",))
    with pytest.raises(InputError) as e:
        solve(p)
    assert e.value.message.startswith(f"given: y cannot be declared {kind[0]} with the shape")
