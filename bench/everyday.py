"""Everyday-use timings (issue 16): a loaded machine, and `check` of a whole directory.

Run: .venv/bin/python bench/everyday.py [--runs N] [--only load|many]

load: `check` of q3 at n = 1024 while two other processes keep the CPUs busy, gradcli's
      default against the same run with OMP_NUM_THREADS=1 (goal ≤ 1.2×). Before gradcli
      chose one intra-op thread itself, torch's pool fought the busy processes: 2.1-3.3×.
many: `check` of the 26 bundled problems against one `check q3` (goal ≤ 3×): one process's
      imports serve every problem.

Ratios, not seconds, are the targets; each pair runs alternately so load drifts hit both.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import GRADCLI, PY, ROOT, compile_package, q3_with_width, seconds  # noqa: E402


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    if env is None:
        return seconds(cmd)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return seconds(cmd)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def busy(processes: int):
    """`processes` Python loops spinning on the CPU, stopped (by their own ids) afterwards."""
    spinners = [subprocess.Popen([PY, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield
    finally:
        for p in spinners:
            p.kill()
            p.wait()


def median_pair(a, b, runs: int) -> tuple[float, float]:
    pairs = [(a(), b()) for _ in range(runs)]
    return (sorted(p[0] for p in pairs)[runs // 2], sorted(p[1] for p in pairs)[runs // 2])


def report(name: str, t: float, base_name: str, b: float, target: float) -> bool:
    ok = t / b <= target
    print(f"{name:34} {t * 1000:7.0f}ms   {base_name:34} {b * 1000:7.0f}ms   {t / b:5.2f}×  "
          f"≤{target:.1f}×  {'yes' if ok else 'NO'}")
    return ok


def load(runs: int) -> bool:
    q3 = q3_with_width(1024, Path(tempfile.mkdtemp()))
    cmd = [GRADCLI, "check", q3]
    default = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    one = {**default, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    threads = os.cpu_count() or 1
    with busy(2):
        t, b = median_pair(lambda: timed(cmd, default), lambda: timed(cmd, one), runs)
        old, b2 = median_pair(lambda: timed([*cmd, "--threads", str(threads)], default),
                              lambda: timed(cmd, one), runs)
    ok = report("check q3 (n=1024), 2 busy, default", t, "same with OMP_NUM_THREADS=1", b, 1.2)
    # For context: one thread per core, torch's default before gradcli chose one (no target).
    print(f"  (with --threads {threads}, as before issue 16: {old * 1000:.0f}ms, "
          f"{old / b2:.2f}× the OMP_NUM_THREADS=1 run)")
    return ok


def many(runs: int) -> bool:
    t, b = median_pair(lambda: seconds([GRADCLI, "check", str(ROOT / "gradcli" / "bundled")]),
                       lambda: seconds([GRADCLI, "check", "q3"]), runs)
    return report("check (26 bundled files)", t, "check q3", b, 3.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("load", "many"))
    args = parser.parse_args()
    compile_package()
    ok = True
    if args.only in (None, "load"):
        ok &= load(args.runs)
    if args.only in (None, "many"):
        ok &= many(args.runs)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
