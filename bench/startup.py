"""Cold-start timings of gradcli commands beside the imports they cannot avoid.

Run: .venv/bin/python bench/startup.py [--runs N] [--instructions]

Each command runs in a fresh process (as a user or a TA's script runs it), N times; the
median is reported with its ratio to the baseline and the target from the issues. Timing
targets live here, never in unit tests: a loaded CI machine must not fail the suite.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
GRADCLI = str(Path(PY).with_name("gradcli"))


PAUSED_IMPORTS = ("import sys; from gradcli.cli.gc_pause import install; install(sys.meta_path); "
                  "import sympy, torch")


def q3_with_width(n: int, folder: Path) -> str:
    text = (ROOT / "problems" / "q3.yaml").read_text()
    text = text.replace("dims: {n: 3}", f"dims: {{n: {n}}}")
    # Concrete values are for n = 3 only; the wider problem draws seeded random values.
    text = text.split("values:")[0]
    path = folder / f"q3_n{n}.yaml"
    path.write_text(text)
    return str(path)


def seconds(cmd: list[str]) -> float:
    """Wall time of one run; a command that fails is not timed (a fast crash is not speed)."""
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}: "
                         f"{done.stderr.decode(errors='replace').strip()[:300]}")
    return elapsed


def median_seconds(cmd: list[str], runs: int) -> float:
    return statistics.median(seconds(cmd) for _ in range(runs))


def paired_medians(cmd: list[str], base: list[str], runs: int) -> tuple[float, float]:
    """Command and baseline run alternately, so a change in the machine's load while the
    bench runs weighs on both sides alike instead of on whichever ran second."""
    pairs = [(seconds(cmd), seconds(base)) for _ in range(runs)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def compile_package() -> None:
    """Byte-compile gradcli as an installed package is. The baselines import SymPy, torch and
    Typer from compiled files in site-packages; an editable checkout run with
    PYTHONDONTWRITEBYTECODE (set on these machines) would recompile gradcli's source on every
    run instead (~50 ms), which no user of an installed gradcli pays."""
    import compileall

    import gradcli

    compileall.compile_dir(str(Path(gradcli.__file__).parent), quiet=1)


# Where `derive gelu --no-check` goes, stage by stage, from the baseline (Typer): the
# command needs Typer to parse its arguments and Rich (Typer's dependency) to print; what is
# above the last stage is gradcli itself (its modules, the derivation, the rendering).
FLOOR = [
    ("import typer", "import typer"),
    ("+ rich's console", "import typer, rich.console"),
]


def instructions(cmd: list[str]) -> int | None:
    """Instructions one run executes (valgrind), which a busy machine does not change."""
    import re
    import shutil

    if shutil.which("valgrind") is None:
        return None
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    return int(found.group(1)) if found else None


def floor(runs: int, count: bool) -> None:
    """The stages of FLOOR, then the command, as ratios to `import typer`."""
    rows = [(name, [PY, "-c", code]) for name, code in FLOOR]
    rows.append(("gradcli derive gelu --no-check", [GRADCLI, "derive", "gelu", "--no-check"]))
    print("\nwhere `derive gelu --no-check` goes (ratio to import typer; instructions: valgrind)")
    base_time = base_count = None
    for name, cmd in rows:
        t = median_seconds(cmd, runs)
        n = instructions(cmd) if count else None
        base_time = base_time or t
        base_count = base_count or n
        counted = f"{n / 1e9:6.3f} G instr  {n / base_count:5.2f}×" if n and base_count else ""
        print(f"  {name:32} {t * 1000:6.0f}ms  {t / base_time:5.2f}×   {counted}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions with valgrind (~20 s per stage)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    pairs = [
        # Issue 16: --no-check imports neither SymPy nor torch; the verified run costs little
        # more than the two libraries it needs; --help little more than Typer.
        ("derive gelu --no-check", [GRADCLI, "derive", "gelu", "--no-check"],
         "import typer", [PY, "-c", "import typer"], 2.5),
        ("derive gelu (verified)", [GRADCLI, "derive", "gelu"],
         "import sympy, torch", [PY, "-c", "import sympy, torch"], 1.05),
        # gradcli pauses the collector while SymPy and torch import (cli/gc_pause.py), which a
        # bare `import sympy, torch` does not: this pair is the same imports the same way, so
        # its ratio is what gradcli itself adds (its modules, Typer, the derivation, checks).
        ("derive gelu (verified)", [GRADCLI, "derive", "gelu"],
         "the same imports, gc paused", [PY, "-c", PAUSED_IMPORTS], 1.1),
        ("--help", [GRADCLI, "--help"], "import typer", [PY, "-c", "import typer"], 1.3),
        # Help and completion never load Rich (plain Click formatting) nor the problem model.
        ("check --help", [GRADCLI, "check", "--help"], "import typer", [PY, "-c", "import typer"], 1.3),
        ("--show-completion bash", [GRADCLI, "--show-completion", "bash"],
         "import typer", [PY, "-c", "import typer"], 1.3),
    ]
    q3 = ROOT / "problems" / "q3.yaml"
    if q3.exists():
        pairs += [
            ("check problems/q3.yaml", [GRADCLI, "check", str(q3)],
             "import sympy, torch", [PY, "-c", "import sympy, torch"], 1.2),
            # Issue 16: the whole folder (README's main job) in one process; q1 and q2 run in
            # children of one sandbox fork server. Also in bench/everyday.py (`many`).
            ("check problems/", [GRADCLI, "check", str(ROOT / "problems")],
             "check problems/q3.yaml", [GRADCLI, "check", str(q3)], 3.0),
        ]
    compile_package()
    subprocess.run([GRADCLI, "--version"], stdout=subprocess.DEVNULL)  # warm the disk cache
    print(f"{'command':28} {'median':>8}   {'baseline':24} {'median':>8}   {'ratio':>6}  target   ok")
    failed = False
    for name, cmd, base_name, base_cmd, target in pairs:
        t, b = paired_medians(cmd, base_cmd, args.runs)
        ratio = t / b
        ok = ratio <= target
        failed |= not ok
        print(f"{name:28} {t * 1000:6.0f}ms   {base_name:24} {b * 1000:6.0f}ms   {ratio:5.2f}×  "
              f"≤{target:g}×   {'yes' if ok else 'NO'}")
    if q3.exists():
        failed |= not derivation_scaling(folder)
    if (ROOT / "problems" / "net_logistic_hessian.yaml").exists():
        failed |= not hessian_scaling(folder)
    floor(args.runs, args.instructions)
    sys.exit(1 if failed else 0)


def derivation_scaling(folder: Path, runs: int = 20) -> bool:
    """The symbolic derivation of q3 at n = 3 and n = 1024, in-process (issue 3's target).

    The whole `check` grows with n because the numeric checks handle n×n matrices; the
    derivation itself works on dimension names and must not.
    """
    from gradcli.kinds.network.solve import Solver
    from gradcli.problems.load import load_problem

    timings = {}
    for n in (3, 1024):
        problem = load_problem(q3_with_width(n, folder))
        Solver(problem, 0)  # warm imports and caches
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            Solver(problem, 0)
            times.append(time.perf_counter() - start)
        timings[n] = statistics.median(times)
    ratio = timings[1024] / timings[3]
    ok = ratio <= 1.3
    print(f"{'derive q3, n = 1024':28} {timings[1024] * 1000:6.1f}ms   {'derive q3, n = 3':24} "
          f"{timings[3] * 1000:6.1f}ms   {ratio:5.2f}×  ≤1.3×   {'yes' if ok else 'NO'}")
    for n in (3, 1024):  # the whole command, for context (numeric checks grow with n)
        t = median_seconds([GRADCLI, "check", q3_with_width(n, folder)], 3)
        print(f"  (whole `check` with n = {n}: {t * 1000:.0f}ms)")
    return ok


def logistic_hessian_with_width(n: int, folder: Path) -> str:
    """The bundled logistic-regression Hessian at d = n, with a direction v for H·v too."""
    text = (ROOT / "problems" / "net_logistic_hessian.yaml").read_text()
    text = text.replace("dims: {N: 8, d: 3}", f"dims: {{N: 8, d: {n}}}")
    text = text.replace("  w: [d]\n", "  w: [d]\n  v: [d]\n", 1)
    text = text.replace("hessians: [w]\n", "hessians: [w]\nhvp: {w: v}\n", 1)
    path = folder / f"logistic_hessian_d{n}.yaml"
    path.write_text(text)
    return str(path)


def hessian_scaling(folder: Path, runs: int = 20) -> bool:
    """Issue 17: the Hessian of logistic regression (∂²L/∂w² and H·v), derived symbolically
    at d = 3 and d = 1024 in the same run. Only the derivation is timed (the gradient by
    reverse mode, then forward mode over it): the numeric checks build d×d matrices and
    grow with d by nature; the derivation works on names and must not."""
    from gradcli.kinds.network import hessian
    from gradcli.kinds.network.solve import Solver
    from gradcli.problems.load import load_problem

    def derive(problem) -> None:
        solver = Solver(problem, 0)
        for name in problem.hessians:
            hessian.derive(solver.graph, name, solver.expanded[name], solver.bp.pretty)
        for name, v in problem.hvp.items():
            hessian.derive(solver.graph, name, solver.expanded[name], solver.bp.pretty, v)

    timings = {}
    for n in (3, 1024):
        problem = load_problem(logistic_hessian_with_width(n, folder))
        assert problem.hessians and problem.hvp, "the bench file lost its hessians or hvp"
        derive(problem)  # warm imports and caches
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            derive(problem)
            times.append(time.perf_counter() - start)
        timings[n] = statistics.median(times)
    ratio = timings[1024] / timings[3]
    ok = ratio <= 1.3
    print(f"{'Hessian + H·v, d = 1024':28} {timings[1024] * 1000:6.1f}ms   "
          f"{'Hessian + H·v, d = 3':24} {timings[3] * 1000:6.1f}ms   {ratio:5.2f}×  ≤1.3×   "
          f"{'yes' if ok else 'NO'}")
    for n in (3, 1024):  # the whole command, for context (torch's d×d Hessian grows with d)
        t = median_seconds([GRADCLI, "check", logistic_hessian_with_width(n, folder)], 3)
        print(f"  (whole `check` with d = {n}: {t * 1000:.0f}ms)")
    return ok


if __name__ == "__main__":
    main()
