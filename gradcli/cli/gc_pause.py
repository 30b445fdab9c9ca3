"""Python's cyclic garbage collector paused while SymPy and torch import (issue 16, start-up).

Importing SymPy and torch makes about a million objects that live as long as the process.
The collector, triggered every 700 allocations, walks them again and again while they are
being made and frees nothing: about a tenth of those imports' time on this machine (paired
runs of `import sympy, torch`). So for exactly those imports the collector is paused, and what
they made is then frozen (`gc.freeze`: later collections skip it, which also speeds up the
SymPy work that follows). Every other allocation of the run is collected as usual.

Installed by `cli.app.main` only, at the edge like the thread limit: a library user importing
gradcli keeps their interpreter's collector as they set it.
"""

from __future__ import annotations

import gc
from importlib.machinery import ModuleSpec, PathFinder

HEAVY = frozenset({"sympy", "torch"})


class GcPause:
    """Finds nothing itself: wraps the loader of each top-level module in `names`. (A meta path
    finder needs only `find_spec`; importlib.abc's base class would cost `--help` ~12 ms of
    importlib.resources.)"""

    def __init__(self, names: frozenset[str] = HEAVY):
        self.names = names

    def find_spec(self, name: str, path=None, target=None) -> ModuleSpec | None:
        if name not in self.names:
            return None
        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader.exec_module = _paused(spec.loader.exec_module)
        return spec


def _paused(exec_module):
    def run(module) -> None:
        enabled = gc.isenabled()
        gc.disable()
        try:
            exec_module(module)
        finally:
            gc.freeze()
            if enabled:
                gc.enable()
    return run


def install(meta_path: list) -> None:
    if not any(isinstance(f, GcPause) for f in meta_path):
        meta_path.insert(0, GcPause())
