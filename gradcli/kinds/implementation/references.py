"""Built-in references and gradcli's own reference solutions.

A built-in reference (`reference: builtin:NAME` in a problem file) is for an exercise the
expression language cannot state: reversing the entries of each row needs indexing, which
the language leaves out on purpose. It runs in gradcli's process, never in the child, and may
use whatever torch offers (the constraints bind the user's solution, not the reference).

A reference solution is what `gradcli exercise PROBLEM --show-solution` prints. It is checked
like a user's solution (in the child, against the reference, with the same constraints), so
the one we print is known to obey the exercise's own rules; the tests hold us to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Builtin:
    doc: str
    compute: Callable[..., Any]


def _reverse_rows(X):
    import torch

    return torch.flip(X, dims=[-1])


BUILTINS: dict[str, Builtin] = {
    "reverse_rows": Builtin(
        "reverses the order of the entries within each row, X[i, j] -> X[i, n-1-j] "
        "(torch.flip(X, dims=[1])); the order of the rows is kept",
        _reverse_rows),
}

# Keyed by the exercise's function name.
SOLUTIONS: dict[str, str] = {
    "normalize_tensor": '''\
import torch


def normalize_tensor(X):
    """Centre each column, then divide it by the L2 norm of the centred column.

    The mean is the column sum over the number of rows, since torch.mean is not allowed.
    A constant column centres to zeros, and 0/0 gives NaN there, as in the reference.
    """
    X = X - X.sum(dim=0, keepdim=True) / X.shape[0]
    return X / torch.linalg.vector_norm(X, dim=0, keepdim=True)
''',
    "reverse_rows": '''\
import torch


def reverse_rows(X):
    """Reverse the entries of each row by indexing the columns from last to first."""
    return X[:, torch.arange(X.shape[1] - 1, -1, -1)]
''',
}
