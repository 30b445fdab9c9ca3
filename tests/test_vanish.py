"""gradcli vanish: the experiment's numbers, their two routes, the reason, and the command."""

from __future__ import annotations

import io
import json
import math
import sys

import pytest
import torch

from gradcli.kinds.vanishing.solve import solve
from gradcli.problems.load import load_problem
from gradcli.problems.model import VanishingProblem

SMALL = dict(depth=20, width=32, batch=8)


@pytest.fixture(scope="module")
def he_run():
    return solve(VanishingProblem(activations=("sigmoid", "relu"), init="he", **SMALL), seed=0)


@pytest.fixture(scope="module")
def default_run():
    return solve(VanishingProblem(activations=("sigmoid", "relu"), init="default", **SMALL), seed=0)


def by_name(result):
    return {s.activation: s for s in result.series}


def test_sigmoid_first_layer_gradient_is_orders_of_magnitude_below_the_last_at_depth_20(he_run):
    sigmoid = by_name(he_run)["sigmoid"]
    assert sigmoid.ratio == pytest.approx(2.789018876877331e-10, rel=1e-9)
    assert math.log10(sigmoid.ratio) < -9


def test_relu_with_he_init_stays_within_one_order_of_magnitude_at_depth_20(he_run):
    relu = by_name(he_run)["relu"]
    assert relu.ratio == pytest.approx(1.1195785909219174, rel=1e-9)
    assert all(0.1 < n / relu.weight_grad_norms[-1] < 10 for n in relu.weight_grad_norms)


def test_relu_with_torch_default_init_vanishes_too(default_run):
    assert by_name(default_run)["relu"].ratio == pytest.approx(5.758785218756342e-07, rel=1e-9)
    assert by_name(default_run)["sigmoid"].ratio == pytest.approx(9.569471263138127e-17, rel=1e-9)


def test_norms_are_listed_for_every_layer_first_to_last(he_run):
    s = by_name(he_run)["sigmoid"]
    assert len(s.weight_grad_norms) == len(s.activation_grad_norms) == 20
    assert s.weight_grad_norms[0] == pytest.approx(4.302089383042493e-11, rel=1e-9)
    assert s.weight_grad_norms[-1] == pytest.approx(0.1542509955278338, rel=1e-9)


def test_autograd_and_manual_backprop_agree_on_every_layer(he_run):
    assert he_run.passed
    assert [c.points for c in he_run.checks] == [40, 40]
    assert max(c.max_rel_error for c in he_run.checks) < 1e-13
    assert "product of local Jacobians" in he_run.checks[0].notes[1]


def test_same_seed_reproduces_the_numbers_exactly_and_never_touches_the_global_rng(he_run):
    torch.manual_seed(1234)
    state = torch.get_rng_state()
    again = solve(VanishingProblem(activations=("sigmoid", "relu"), init="he", **SMALL), seed=0)
    assert torch.equal(state, torch.get_rng_state())
    assert [s.weight_grad_norms for s in again.series] == [s.weight_grad_norms for s in he_run.series]
    other = solve(VanishingProblem(activations=("relu",), init="he", **SMALL), seed=1)
    assert other.series[0].weight_grad_norms != by_name(he_run)["relu"].weight_grad_norms
    assert other.seed == 1


def test_the_problems_own_seed_wins_over_the_command_seed():
    r = solve(VanishingProblem(activations=("tanh",), depth=3, width=4, batch=2, seed=7), seed=0)
    assert r.seed == 7


def test_every_activation_gets_the_same_weights_so_only_f_differs():
    r = solve(VanishingProblem(activations=("relu", "relu6"), depth=4, width=8, batch=4,
                               init="xavier"), seed=3)
    relu, relu6 = r.series  # relu6 = relu below 6, and these activations stay below 6
    assert relu.weight_grad_norms == relu6.weight_grad_norms


def test_exploding_gradients_fail_the_check_instead_of_passing_vacuously():
    r = solve(VanishingProblem(activations=("exp",), depth=30, width=16, batch=4, init="he"), seed=0)
    assert not r.passed
    assert any("not finite" in n for n in r.checks[0].notes)


# -- the analytic bound, computed from the catalog ---------------------------------------


def test_sigmoid_derivative_bound_is_a_quarter_at_zero_so_depth_20_allows_at_most_quarter_to_the_20th(he_run):
    bound = by_name(he_run)["sigmoid"].bound
    assert bound.sup == 0.25
    assert bound.argmax == 0.0
    assert bound.depth_factor == 0.25 ** 20
    z = torch.linspace(-30, 30, 600_001, dtype=torch.float64)  # E[σ′(z)²] independently
    s = torch.sigmoid(z)
    moment = float(torch.trapezoid((s * (1 - s)) ** 2 * torch.exp(-z ** 2 / 2), z)) / math.sqrt(2 * math.pi)
    assert bound.gaussian_moment == pytest.approx(moment, rel=1e-9)
    assert bound.gain("he") == pytest.approx(math.sqrt(2 * moment), rel=1e-9)


def test_relu_derivative_takes_only_zero_and_one_and_he_init_gives_gain_one(he_run):
    bound = by_name(he_run)["relu"].bound
    assert bound.values == (0.0, 1.0)
    assert bound.attained_on == (0.0, math.inf)
    assert bound.gaussian_moment == pytest.approx(0.5, abs=1e-12)
    assert bound.gain("he") == pytest.approx(1.0, abs=1e-12)
    assert bound.gain("default") == pytest.approx(math.sqrt(1 / 6), abs=1e-12)


def test_tanh_and_gelu_bounds_match_an_independent_autograd_maximum():
    from gradcli import catalog
    from gradcli.kinds.vanishing.bounds import derivative_bound

    x = torch.linspace(1.3, 1.5, 200_001, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.gelu(x, approximate="tanh").sum().backward()
    gelu = derivative_bound(catalog.lookup("gelu"), 20)
    assert gelu.sup == pytest.approx(float(x.grad.max()), rel=1e-12)
    assert gelu.argmax == pytest.approx(float(x.detach()[x.grad.argmax()]), abs=1e-5)
    tanh = derivative_bound(catalog.lookup("tanh"), 20)
    assert (tanh.sup, tanh.argmax) == (1.0, 0.0)


def test_an_activation_with_unbounded_derivative_has_no_bound():
    from gradcli import catalog
    from gradcli.kinds.vanishing.bounds import derivative_bound

    assert derivative_bound(catalog.lookup("exp"), 5).sup == math.inf


# -- the command ---------------------------------------------------------------------------


def test_vanish_prints_table_chart_and_reason(cli):
    r = cli("vanish", "--activations", "sigmoid,relu", "--depth", "20", "--width", "32",
            "--batch", "8", "--init", "he", "--format", "plain")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "‖∂L/∂W_l‖ by layer, last to first" in out
    assert "first/last  2.79e-10  1.12e+00" in out
    assert "‖∂L/∂W_l‖, log scale (layers 20, 16, 12, 9, 5, 1)" in out
    assert "sigmoid: max |sigmoid′| = 0.25 at x = 0, so through 20 sigmoid layers the " \
           "activation factor alone is at most 0.25^20 = 9.09e-13" in out
    assert "relu: |relu′| ∈ {0, 1}: a unit passes its gradient unchanged or blocks it" in out
    assert "seed 0" in out
    assert r.stderr == ""  # no progress bar when stderr is not a terminal


def test_vanish_json_has_grad_norms_by_layer_and_the_bound(cli):
    r = cli("vanish", "-a", "sigmoid,tanh", "--depth", "5", "--width", "8", "--batch", "4",
            "--seed", "3", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert (doc["kind"], doc["passed"], doc["seed"], doc["depth"]) == ("vanishing", True, 3, 5)
    assert doc["layers"] == [1, 2, 3, 4, 5]
    sigmoid = doc["activations"]["sigmoid"]
    assert len(sigmoid["grad_norms"]) == 5
    assert sigmoid["ratio_first_last"] == pytest.approx(sigmoid["grad_norms"][0] / sigmoid["grad_norms"][-1])
    assert sigmoid["bound"]["max_abs_derivative"] == 0.25
    assert sigmoid["bound"]["depth_factor"] == 0.25 ** 5
    assert sigmoid["bound"]["derivative"] == "sigmoid(x)*(1 - sigmoid(x))"
    assert list(doc["activations"]) == ["sigmoid", "tanh"]


def test_repeated_activations_options_add_up_instead_of_the_last_one_winning(cli):
    r = cli("vanish", "-a", "sigmoid", "--activations", "relu,tanh", "--depth", "3",
            "--width", "4", "--batch", "2", "--format", "json")
    assert r.exit_code == 0, r.output
    assert list(json.loads(r.stdout)["activations"]) == ["sigmoid", "relu", "tanh"]


def test_vanish_renders_in_rich(cli):
    r = cli("vanish", "-a", "relu", "--depth", "3", "--width", "4", "--batch", "2", "-f", "rich")
    assert r.exit_code == 0, r.output
    assert "log10 scale" in r.stdout


@pytest.mark.parametrize("args, message", [
    (("-a", "sigmod"), "unknown activation 'sigmod' (did you mean 'sigmoid'?)"),
    (("-a", "relu,softmax"), "'softmax' is not an elementwise function"),
    (("-a", "log"), "'log' is defined only for positive inputs"),
    (("-a", " , "), "no activations given"),
    (("--depth", "0"), "depth must be between 1 and 1000, got 0"),
    (("--batch", "5000"), "batch must be between 1 and 4096, got 5000"),
    (("--depth", "1000", "--width", "4096"), "depth × width² = 16,777,216,000 weights is more than 20,000,000"),
    (("--init", "kaimng"), "unknown init 'kaimng'"),
    (("--plot", "out.jpg"), "'out.jpg' does not end in .png"),
    (("--plot", "no/such/folder/out.png"), "folder 'no/such/folder' does not exist"),
])
def test_bad_input_exits_2_with_one_clear_message(cli, args, message):
    r = cli("vanish", *args, "--format", "plain")
    assert r.exit_code == 2, r.output
    assert message in r.stderr
    assert "Traceback" not in r.output


def test_missing_matplotlib_is_a_clear_exit_2_before_any_work(cli, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    r = cli("vanish", "-a", "relu", "--depth", "2", "--width", "4", "--plot", str(tmp_path / "v.png"))
    assert r.exit_code == 2, r.output
    assert "--plot needs matplotlib, which is not installed (pip install 'gradcli[plot]')" in r.stderr
    assert not (tmp_path / "v.png").exists()


def test_plot_is_a_png_with_one_line_per_activation_on_a_log_axis(cli, tmp_path):
    import matplotlib.image

    from gradcli.kinds.vanishing.plot import figure

    target = tmp_path / "vanish.png"
    r = cli("vanish", "-a", "sigmoid,tanh,relu", "--depth", "6", "--width", "8", "--batch", "4",
            "--init", "he", "--plot", str(target), "-f", "plain")
    assert r.exit_code == 0, r.output
    assert f"Plot written to {target}" in r.stdout
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.image.imread(str(target)).shape == (450, 700, 4)
    result = solve(VanishingProblem(activations=("sigmoid", "tanh", "relu"), depth=6, width=8,
                                    batch=4, init="he"), seed=0)
    ax = figure(result).axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["sigmoid", "tanh", "relu"]
    assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 3, 4, 5, 6]
    assert list(ax.get_lines()[2].get_ydata()) == list(result.series[2].weight_grad_norms)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel().startswith("layer") and ax.get_ylabel().startswith("‖∂L/∂W‖")


def test_progress_shows_on_a_terminal_and_stays_silent_otherwise():
    from gradcli.cli.vanish import progress_reporter

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    report, stop = progress_reporter(io.StringIO())
    assert report is None
    screen = Terminal()
    report, stop = progress_reporter(screen)
    report(3, 10, "sigmoid")
    stop()
    assert "vanish: sigmoid" in screen.getvalue()


def test_a_long_run_when_piped_prints_no_progress(cli):
    r = cli("vanish", "-a", "relu", "--depth", "20", "--width", "320", "--batch", "2", "-f", "json")
    assert r.exit_code == 0, r.output
    assert r.stderr == ""


def test_bundled_q4_solves_and_shows_sigmoid_vanishing_while_relu_holds():
    from gradcli.api import solve as api_solve

    problem = load_problem("problems/q4.yaml")
    result = api_solve(problem, seed=99)
    assert result.passed and result.seed == 0
    ratios = {s.activation: s.ratio for s in result.series}
    assert ratios["sigmoid"] < 1e-9 and 0.1 < ratios["relu"] < 10


def test_importing_the_command_stays_light_and_python_m_runs_it(tmp_path):
    import subprocess

    probe = ("import sys; import gradcli.cli.vanish; "
             "print(sorted(m for m in ('torch', 'sympy', 'matplotlib', 'numpy') if m in sys.modules))")
    light = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert light.stdout.strip() == "[]"
    run = subprocess.run([sys.executable, "-m", "gradcli", "vanish", "-a", "sigmoid", "--depth", "2",
                          "--width", "2", "--batch", "1", "-f", "json"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["activations"]["sigmoid"]["bound"]["max_abs_derivative"] == 0.25
    assert run.stderr == ""


def test_activations_without_a_torch_graph_or_with_zero_derivative_report_zero_gradients(cli):
    r = cli("vanish", "-a", "step,sign,softplus", "--depth", "4", "--width", "4", "--batch", "2",
            "-f", "plain")
    assert r.exit_code == 0, r.output
    assert "step: |step′| ∈ {0}; through 4 step layers the activation factor alone is at most 0^4 = 0." in r.stdout
    assert "softplus: max |softplus′| = 1 approached as x → +∞" in r.stdout
    assert "first/last  n/a   n/a   1.42e-02" in r.stdout


def test_a_bad_activation_in_a_file_is_reported_at_its_line_and_column(tmp_path):
    from gradcli.api import solve as api_solve
    from gradcli.errors import InputError

    path = tmp_path / "bad.yaml"
    path.write_text("format: 1\nkind: vanishing\nactivations: [relu, log]\n")
    with pytest.raises(InputError) as caught:
        api_solve(load_problem(str(path)))
    assert (caught.value.line, caught.value.column) == (3, 21)
    assert caught.value.message.startswith("'log' is defined only for positive inputs")


def test_a_misspelt_activation_in_a_file_is_offered_only_usable_activations(tmp_path):
    from gradcli.errors import InputError
    from gradcli.problems.load import load_problem

    path = tmp_path / "v.yaml"
    path.write_text("format: 1\nkind: vanishing\nactivations: [sigmoidd]\n")
    with pytest.raises(InputError) as err:
        load_problem(str(path))
    message = str(err.value)
    assert "'sigmoidd' is not one of exp, abs, sin" in message  # log and sqrt are not offered
    assert " log," not in message and "sqrt" not in message


def test_softsign_bound_is_exactly_one_at_zero_so_it_is_not_said_to_shrink_every_layer():
    from gradcli import catalog
    from gradcli.kinds.vanishing.bounds import derivative_bound

    bound = derivative_bound(catalog.lookup("softsign"), 20)
    assert (bound.sup, bound.argmax) == (1.0, 0.0)  # was 0.9999999999999973: "shrinks it at every layer"
