"""The static half of `gradcli exercise`: forbidden uses and the one-line rule, read with ast.

Nothing here runs a solution; each test writes a small file and reads it.
"""

from __future__ import annotations

import textwrap

import pytest

from gradcli.errors import InputError
from gradcli.kinds.implementation import constraints

FORBID = ("torch.mean", "numpy.mean")


def solution(tmp_path, body: str, function: str = "f"):
    path = tmp_path / "solution.py"
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return constraints.read(path, function)


def forbidden(tmp_path, body: str) -> list[tuple[str, int, int]]:
    return [(v.what, v.line, v.column)
            for v in constraints.forbidden_uses(solution(tmp_path, body), FORBID)]


@pytest.mark.parametrize("body, found", [
    ("import torch\ndef f(X):\n    return torch.mean(X)\n", [("torch.mean", 3, 12)]),
    ("import torch as t\ndef f(X):\n    return t.mean(X)\n", [("torch.mean", 3, 12)]),
    ("from torch import mean as avg\ndef f(X):\n    return avg(X)\n", [("torch.mean", 3, 12)]),
    ("from torch import *\ndef f(X):\n    return mean(X)\n", [("torch.mean", 3, 12)]),
    ("def f(X):\n    return X.mean(dim=0)\n", [("torch.mean", 2, 12)]),
    ("def f(X):\n    return X.sum(0).mean()\n", [("torch.mean", 2, 12)]),
    ("import torch\ndef f(X):\n    return torch.Tensor.mean(X)\n", [("torch.mean", 3, 12)]),
    ("def f(X):\n    return getattr(X, 'mean')()\n", [("torch.mean", 2, 12)]),
    ("import torch\ng = torch.mean\ndef f(X):\n    return g(X)\n", [("torch.mean", 2, 5)]),
    ("import numpy as np\ndef f(X):\n    return np.mean(X)\n", [("numpy.mean", 3, 12)]),
])
def test_forbidden_call_is_found_under_every_alias(tmp_path, body, found):
    assert forbidden(tmp_path, body) == found


def test_allowed_calls_are_not_flagged(tmp_path):
    body = """
    import torch
    def f(X):
        X = X - X.sum(dim=0) / X.shape[0]
        return X / torch.linalg.norm(X, dim=0)
    """
    assert forbidden(tmp_path, body) == []


def test_violation_names_the_source_line(tmp_path):
    [v] = constraints.forbidden_uses(solution(tmp_path, "def f(X):\n    return X.mean()\n"), FORBID)
    assert (v.detail, v.source) == ("X.mean (the method form of torch.mean)", "return X.mean()")


def one_line(tmp_path, body: str) -> list[str]:
    return [v.detail for v in constraints.one_line(solution(tmp_path, body))]


@pytest.mark.parametrize("body", [
    "def f(X):\n    return X[:, [2, 1, 0]]\n",
    'def f(X):\n    """Docstring."""\n    return X.T\n',
    "def f(X):\n    ##### YOUR CODE HERE #####\n    X = X.T\n    #####\n    return X\n",
    "def f(X): return X.T\n",
    "f = lambda X: X.T\n",
])
def test_one_line_solutions_are_accepted(tmp_path, body):
    assert one_line(tmp_path, body) == []


@pytest.mark.parametrize("body, detail", [
    ("def f(X):\n    i = 1\n    X = X[:, i]\n    return X\n",
     "the body has 2 statements besides the final `return X`"),
    ("def f(X):\n    return (X\n            .T)\n", "the statement spans lines 2-3"),
    ("def f(X):\n    for i in range(2): X = X.T\n    return X\n", "a for block is not one line"),
    ("def g(X):\n    return X.T\ndef f(X):\n    return g(X)\n", "calls g, defined at line 1 of the file"),
    ("def f(X):\n    i = 1; X = X[:, i]; return X\n",
     "the body has 2 statements besides the final `return X`"),
])
def test_more_than_one_line_is_refused_with_the_reason(tmp_path, body, detail):
    assert one_line(tmp_path, body) == [detail]


def test_syntax_error_is_bad_input_with_line_and_column(tmp_path):
    with pytest.raises(InputError) as err:
        solution(tmp_path, "def f(X):\n    return (X +\n")
    assert (err.value.line, err.value.column) == (2, 12)
    assert err.value.message.startswith("syntax error in the solution")


def test_missing_function_is_bad_input_with_a_suggestion(tmp_path):
    with pytest.raises(InputError) as err:
        solution(tmp_path, "def normalise_tensor(X):\n    return X\n", function="normalize_tensor")
    assert err.value.hint == "did you mean 'normalise_tensor'?"


# -- dynamic code -----------------------------------------------------------------------------


def dynamic(tmp_path, body: str) -> list[tuple[int, str]]:
    return [(v.line, v.detail) for v in constraints.dynamic_code(solution(tmp_path, body))]


@pytest.mark.parametrize("body, found", [
    ("def f(X):\n    return eval('X')\n", [(2, "eval (runs or reaches code by name)")]),
    ("def f(X):\n    exec('pass')\n    return X\n", [(2, "exec (runs or reaches code by name)")]),
    ("def f(X):\n    return getattr(X, 'me' + 'an')()\n",
     [(2, "getattr with a name computed at run time")]),
    ("def f(X):\n    g = getattr\n    return X\n", [(2, "getattr with a name computed at run time")]),
    ("def f(X):\n    return getattr(X, '__class__')\n",
     [(2, 'getattr(..., "__class__") (a dunder attribute reaches interpreter internals)')]),
    ("def f(X):\n    return X.__class__\n",
     [(2, ".__class__ (a dunder attribute reaches interpreter internals)")]),
    ("import torch\ndef f(X):\n    return torch._C._nn\n",
     [(3, "._nn (private internals reach functions under other names)")]),
    ("import torch\ndef f(X):\n    return torch.ops.aten.flip(X, [1])\n",
     [(3, ".ops (loads or reaches code outside the file)")]),
    ("import importlib\ndef f(X):\n    return X\n",
     [(1, "import of importlib (not one of torch, math, numpy, typing, __future__, functools, "
          "itertools, collections, dataclasses, numbers)")]),
    ("from torch import _C\ndef f(X):\n    return X\n",
     [(1, "import of torch._C (private internals reach functions under other names)")]),
    ("import torch.utils.cpp_extension\ndef f(X):\n    return X\n",
     [(1, "import of torch.utils.cpp_extension (loads or reaches code outside the file)")]),
    ("def f(X):\n    return __builtins__\n", [(2, "__builtins__ (interpreter internals)")]),
    ("def f(X):\n    return (lambda: 0).__code__\n",
     [(2, ".__code__ (a dunder attribute reaches interpreter internals)")]),
    ("def f(X):\n    g = (x for x in X)\n    return g.gi_frame\n",
     [(3, ".gi_frame (frames and code objects reach the runner's state)")]),
    ("def f(X):\n    match X:\n        case object(mean=m):\n            return m(0)\n",
     [(3, "a class pattern with keywords (it reads attributes by name)")]),
    ("def f(X):\n    return open('/etc/passwd').read()\n",
     [(2, "open (runs or reaches code by name)")]),
])
def test_dynamic_code_is_refused_at_its_line(tmp_path, body, found):
    assert dynamic(tmp_path, body) == found


@pytest.mark.parametrize("fixture", ["q1_correct.py", "q1_guarded.py", "q1_wrong.py",
                                     "q2_correct.py", "q2_two_lines.py", "q2_raises.py"])
def test_ordinary_solutions_are_not_dynamic(fixture):
    from pathlib import Path

    path = Path(__file__).parent / "solutions" / fixture
    function = "normalize_tensor" if fixture.startswith("q1") else "reverse_rows"
    assert constraints.dynamic_code(constraints.read(path, function)) == []


def test_getattr_with_a_literal_public_name_is_left_to_the_forbid_check(tmp_path):
    assert dynamic(tmp_path, "def f(X):\n    return getattr(X, 'sum')()\n") == []
