"""`gradcli grade PROBLEM DIR`: judge a folder of submissions to an implementation problem.

Each `*.py` in DIR is one submission, and so is the single `.py` of each subfolder (a
subfolder with none or several is an `error`). Every submission is read statically first:
with constraints, dynamic code is `refused` without running it. The others run in the
sandbox, in children forked from `jobs` preloaded fork servers (torch is imported once per
server, not once per submission), and are judged exactly as `gradcli exercise` judges one.

Verdicts: pass (every case passed, constraints kept), fail (a case wrong or a constraint
broken), error (the file does not parse or load, has no such function, or its process
crashed), timeout (a case ran out of time), refused (dynamic code under constraints).
Score: the fraction of cases passed, 0 when a constraint is broken or the file is refused.

Grading other people's code needs the whole sandbox (`gradcli.sandbox.grading` runs the pool): when the kernel lacks landlock or
seccomp it refuses to start unless the caller accepts a weaker sandbox.
"""

from __future__ import annotations

from pathlib import Path

from gradcli.sandbox.grading import GradeResult, Mark, Submission, run

__all__ = ["GradeResult", "Submission", "grade"]


def grade(problem, folder: Path, *, jobs: int = 1, seed: int = 0, allow_weaker: bool = False,
          progress=None) -> GradeResult:
    """Grade every submission in `folder`. `progress(done, total)` is called as they finish."""
    return run(problem, folder, lambda name, path, server: _one(problem, seed, name, path, server),
               name=problem.name or problem.function, jobs=jobs, seed=seed,
               allow_weaker=allow_weaker, progress=progress)


def _one(problem, seed: int, name: str, path: Path, server) -> Mark:
    from gradcli.kinds.implementation import cases as case_module
    from gradcli.kinds.implementation import constraints, solve

    solution = constraints.read(path, problem.function)
    if problem.forbid or problem.one_line:
        dynamic = constraints.dynamic_code(solution)
        if dynamic:
            v = dynamic[0]
            return Mark("refused", 0.0, f"line {v.line}", f"{v.what}: {v.detail} (line {v.line})")
    ref = case_module.reference(problem)
    result = solve._check(problem, ref, path, seed, label=name, shown="", server=server())
    cases = result.cases
    passed = sum(c.passed for c in cases)
    score = passed / len(cases) if cases and not result.violations else 0.0
    failing = next((c for c in cases if not c.passed), None)
    if result.load_error:
        return Mark("error", 0.0, "", result.load_error)
    if any(c.verdict == "timed out" for c in cases):
        slow = next(c for c in cases if c.verdict == "timed out")
        return Mark("timeout", score, slow.name, f"{slow.name}: {slow.detail}")
    if any(c.verdict == "crashed" for c in cases):
        crashed = next(c for c in cases if c.verdict == "crashed")
        return Mark("error", score, crashed.name, f"{crashed.name}: {crashed.detail}")
    if result.violations:
        v = result.violations[0]
        return Mark("fail", 0.0, f"line {v.line}", f"{v.what}: {v.detail} (line {v.line})")
    if failing is not None:
        return Mark("fail", score, failing.name, f"{failing.name}: {failing.verdict}: {failing.detail}")
    return Mark("pass", score, "", f"all {len(cases)} cases passed")
