"""`gradcli grade` with fork servers against one `gradcli exercise` run.

Run: .venv/bin/python bench/grade.py [--submissions 40] [--jobs 2] [--runs 3]

Target (issue 15): 40 submissions with --jobs 2 in at most 8x the time of one exercise run.
The submissions are copies of q2's correct fixture and of a wrong one, alternating. Also
prints the per-submission overhead: (grade time - one exercise run) / submissions, and the
median `seconds` grade reports per submission (fork, isolate, load, 7 cases, compare).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "tests" / "solutions"


def timed(args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "gradcli", *args], capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - start, r.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        for i in range(options.submissions):
            source = "q2_correct.py" if i % 2 == 0 else "q2_reverses_rows_order.py"
            shutil.copy(SOLUTIONS / source, folder / f"student_{i:03d}.py")
        one = [timed(["exercise", "q2", "--solution", str(SOLUTIONS / "q2_correct.py"), "-f", "json"])[0]
               for _ in range(options.runs)]
        runs = [timed(["grade", "q2", str(folder), "--jobs", str(options.jobs), "-f", "json"])
                for _ in range(options.runs)]
    exercise_s = statistics.median(one)
    grade_s = statistics.median(t for t, _ in runs)
    doc = json.loads(runs[-1][1])
    per = statistics.median(s["seconds"] for s in doc["submissions"])
    print(f"one exercise run:        {exercise_s:6.2f} s (median of {options.runs})")
    print(f"grade {options.submissions} with --jobs {options.jobs}: {grade_s:6.2f} s "
          f"= {grade_s / exercise_s:.2f}x one exercise (target <= 8x)")
    print(f"overhead per submission: {(grade_s - exercise_s) / options.submissions:6.3f} s; "
          f"median reported seconds per submission {per:.3f} s")
    print(f"verdicts: {doc['counts']}")


if __name__ == "__main__":
    main()
