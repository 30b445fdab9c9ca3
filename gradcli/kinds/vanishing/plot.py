"""The optional plot of the experiment (matplotlib, the `plot` extra): Agg canvas, no pyplot."""

from __future__ import annotations

from pathlib import Path

from gradcli.errors import InputError
from gradcli.kinds.vanishing.result import VanishingResult


def check_plot_target(path: str) -> None:
    """Refuse a plot we could not write before spending time on the experiment."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise InputError(f"the plot is written as PNG; {path!r} does not end in .png",
                         hint="e.g. --plot vanishing.png")
    if not target.parent.is_dir():
        raise InputError(f"cannot write {path!r}: folder {str(target.parent)!r} does not exist")
    if target.is_dir():
        raise InputError(f"cannot write {path!r}: it is a folder")
    _matplotlib()


def _matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise InputError("--plot needs matplotlib, which is not installed",
                         hint="pip install 'gradcli[plot]'") from None
    return matplotlib


def figure(result: VanishingResult):
    """A matplotlib Figure (Agg canvas, no pyplot state): one line per activation, log y."""
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    layers = list(range(1, result.depth + 1))
    for s in result.series:
        ax.plot(layers, s.weight_grad_norms, marker="o", markersize=3, label=s.activation)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer (1 = first, nearest the input)")
    ax.set_ylabel("‖∂L/∂W‖ (Frobenius norm)")
    ax.set_title(f"Gradient norm by layer: depth {result.depth}, width {result.width}, "
                 f"init {result.init}, seed {result.seed}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def write_plot(result: VanishingResult, path: str) -> None:
    try:
        figure(result).savefig(path, format="png")
    except OSError as exc:
        raise InputError(f"cannot write {path!r}: {exc.strerror or exc}") from None
