"""Defaults of problem keys that `--help` shows, in a module that imports nothing.

`gradcli vanish --help` prints the vanishing experiment's defaults; taking them from here
rather than from `model.VanishingProblem` spares `gradcli --help` (which registers every
command) building all the problem dataclasses, ~6 ms of a ~70 ms start-up. `model.py` uses
these same names, so a file without the key and a command line without the option agree.
"""

VANISH_ACTIVATIONS: tuple[str, ...] = ("sigmoid", "tanh", "relu", "gelu")
VANISH_DEPTH = 20
VANISH_WIDTH = 64
VANISH_BATCH = 16
