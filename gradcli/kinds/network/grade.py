"""`gradcli grade NETWORK_PROBLEM DIR`: a folder of students' `backward(**given)` files.

Each submission runs in a child forked from the pool's fork server (`gradcli.sandbox.grading`)
with the same job as `gradcli exercise` builds (`exercise_run.job`: the givens of each seeded
point, nothing else), and the parent judges the returned gradients exactly as `exercise` does
(`exercise.Exercise.judge`). Verdicts: pass (every gradient right at every point), fail (a
gradient wrong: first_wrong names it, the message is its hint), timeout (a point ran out of
time), error (no `backward`, not valid Python, a return value that is not a dict of tensors,
an exception or a crash). Score: the fraction of gradients right.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gradcli.kinds.network.exercise import Exercise
from gradcli.kinds.network.exercise_run import job, returned
from gradcli.sandbox.grading import GradeResult, Mark, run


def grade(problem, folder: Path, *, jobs: int = 1, seed: int = 0, allow_weaker: bool = False,
          progress=None) -> GradeResult:
    """Grade every backward pass in `folder`. `progress(done, total)` as they finish."""
    from gradcli.kinds.network.solve import Solver

    exercise = Exercise(problem, seed, "", Solver)  # one derivation and one set of points
    return run(problem, folder, lambda name, path, server: _one(problem, exercise, name, path, server),
               name=problem.name or "network", jobs=jobs, seed=seed,
               allow_weaker=allow_weaker, progress=progress)


def _one(problem, exercise: Exercise, name: str, path: Path, server) -> Mark:
    transcript = server().run(job(exercise, path.resolve(), timeout=problem.timeout,
                                  memory_mb=problem.memory_mb),
                              timeout=float(problem.timeout))
    answers = returned(transcript, len(exercise.points), path)
    result = replace(exercise.judge(answers), solution=name)
    marks = result.gradients
    score = sum(g.passed for g in marks) / len(marks) if marks else 0.0
    failures = [a.failure for a in answers if a.failure]
    if any(f.startswith("no answer within") for f in failures):
        return Mark("timeout", score, "", failures[0])
    if result.error or (failures and not marks):
        return Mark("error", score, "", result.error or failures[0])
    if result.first_wrong is not None:
        return Mark("fail", score, result.first_wrong, result.hint or "wrong values")
    if not result.passed:
        return Mark("fail", score, "", failures[0] if failures else "a gradient is wrong")
    return Mark("pass", score, "", f"all {len(marks)} gradients right at every point")
