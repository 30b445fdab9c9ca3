"""gradcli: derive gradients symbolically, show every step, prove each answer numerically.

The package is a library first; `gradcli.cli` is a thin layer over `gradcli.api`.
Importing this module must stay cheap: SymPy and torch load only when a problem is solved.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "solve", "load"]


def __getattr__(name: str):  # lazy public API, so `import gradcli` stays light
    if name == "solve":
        from gradcli.api import solve

        return solve
    if name == "load":
        from gradcli.problems.load import load_problem

        return load_problem
    raise AttributeError(name)
