"""`kind: implementation`: check a user's Python solution to a tensor exercise.

The flow: read the solution file statically (`constraints`: syntax, the function, forbidden
uses, one line), build seeded cases and the reference's answers in this process (`cases`),
run the solution on the same inputs in a child process with time and memory limits
(`sandbox`, `gradcli/sandbox/runner.py`: the only place gradcli runs user code), and compare in float64.

Comparison, precisely: per entry, |got - expected| <= atol + rtol·|expected| (named tolerance
IMPLEMENTATION below); shapes must match exactly. Where the reference is NaN (0/0, e.g. a
constant column in question 1) the entry is undefined and not judged, whatever the solution
returns there, and the case says so; a NaN from the solution where the reference is a number
is wrong. Infinities must match exactly. The first differing entry (row-major) is reported.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from gradcli.errors import InputError
from gradcli.kinds.implementation import cases as case_module
from gradcli.kinds.implementation import constraints, references
from gradcli.kinds.implementation.result import CaseResult, ExerciseResult
from gradcli.results import Check

__all__ = ["solve", "ExerciseResult", "CaseResult"]

RTOL, ATOL = 1e-7, 1e-9
TOLERANCE_NAME = "float64 implementation"
NAN_RULE = ("NaN: where the reference is NaN (0/0) the entry is undefined and not judged; "
            "NaN from the solution where the reference is a number is wrong")


def solve(problem, seed: int = 0) -> ExerciseResult:
    case_module.check_inputs(problem)
    constraints.check_forbid_names(tuple(problem.forbid))
    if not problem.function or not problem.function.isidentifier():
        raise problem.locate("function", InputError(
            f"`function` must be a Python name, got {problem.function!r}"))
    ref = case_module.reference(problem)
    reference_code = references.SOLUTIONS.get(problem.function, "")
    path = _solution_path(problem)
    if path is None:
        if not reference_code:
            named = any("was not run" in note for note in problem.notes)  # check's consent note
            raise InputError(
                f"no solution to check for {problem.function!r} (gradcli has no reference "
                f"solution of it)",
                hint="the file names a solution, which gradcli check runs only with "
                     "--run-solutions" if named else
                     "gradcli exercise FILE --solution SOLUTION.py runs one")
        with tempfile.TemporaryDirectory(prefix="gradcli-solution-") as tmp:
            path = Path(tmp) / "reference_solution.py"
            path.write_text(reference_code, encoding="utf-8")
            return _check(problem, ref, path, seed, label="gradcli's reference solution",
                          shown=reference_code)
    shown = reference_code if problem.show_solution else ""
    return _check(problem, ref, path, seed, label=str(problem.solution), shown=shown)


def _solution_path(problem) -> Path | None:
    if not problem.solution:
        return None
    path = Path(problem.solution).expanduser()
    if not path.is_absolute() and problem.origin.file and not path.exists():
        path = Path(problem.origin.file).parent / path  # `solution:` is relative to its file
    return path


def _check(problem, ref, path: Path, seed: int, *, label: str, shown: str,
           server=None) -> ExerciseResult:
    from gradcli.kinds.implementation import verdicts

    solution = constraints.read(path, problem.function)
    violations = []
    if problem.forbid or problem.one_line:  # judged by reading the file: what cannot be read is refused
        violations += constraints.dynamic_code(solution)
    violations += constraints.forbidden_uses(solution, tuple(problem.forbid))
    if problem.one_line:
        violations += constraints.one_line(solution)
    cases = case_module.make_cases(problem, seed)
    expected = [case_module.expected(problem, ref, c) for c in cases]
    run = _run(problem, path, cases, server)
    if run.load_failure is not None and run.load_failure.get("event") == "no_function":
        found = run.load_failure.get("found")
        raise InputError(f"{problem.function!r} is not a function after loading the solution"
                         + (f" (it is a {found})" if found else ""), file=str(path))
    case_results = verdicts.judge(cases, expected, run, RTOL, ATOL)
    return ExerciseResult(
        kind="implementation", name=problem.name or problem.function, seed=seed,
        function=problem.function, description=problem.description, reference=ref.text, reference_note=ref.describe,
        interpretation=tuple(problem.notes), forbid=tuple(problem.forbid),
        one_line=problem.one_line, rules=_rules(problem), solution=label,
        violations=tuple(violations), cases=tuple(case_results),
        load_error=verdicts.load_error(run), shown_solution=shown,
        limits={"timeout_seconds": problem.timeout, "memory_mb": problem.memory_mb},
        sandbox=run.protections.to_json() if run.protections is not None else {},
        checks=_checks(violations, case_results, ref.text, run, problem),
    )


def _run(problem, path: Path, cases, server=None):
    from gradcli.kinds.implementation import sandbox

    job = {
        "solution": str(path.resolve()), "function": problem.function,
        "forbid": list(problem.forbid), "args": list(problem.inputs),
        "memory_mb": int(problem.memory_mb),
        "cpu_seconds": float(problem.timeout) * (len(cases) + 1) + 5,
        "cases": [{"inputs": {k: v.tolist() for k, v in c.inputs.items()}} for c in cases],
    }
    return sandbox.run(job, timeout=float(problem.timeout), server=server)


def _rules(problem) -> tuple[str, ...]:
    rules = [f"comparison: float64, per entry |got - expected| <= {ATOL:g} + {RTOL:g}·|expected| "
             f"({TOLERANCE_NAME}); shapes must match", NAN_RULE]
    if problem.forbid:
        method = problem.forbid[0].rsplit(".", 1)[1]
        rules.append("forbidden: " + ", ".join(problem.forbid) + " — under any import alias, "
                     f"as a tensor method (X.{method}()), or via getattr; checked in the file "
                     "and when called")
    if problem.one_line:
        rules.append(constraints.ONE_LINE_RULE)
    if problem.forbid or problem.one_line:
        rules.append(constraints.DYNAMIC_RULE)
    rules.append(f"limits: {problem.timeout:g} s to load the file and for each case, "
                 f"{problem.memory_mb} MB of memory beyond torch's own")
    return tuple(rules)


def _checks(violations, case_results, reference: str, run, problem) -> tuple[Check, ...]:
    """The generic view of the verdicts, for summaries and JSON `checks`."""
    checks = [Check(what=f"case {c.name}", passed=c.passed, max_abs_error=c.max_abs_error,
                    max_rel_error=c.max_rel_error, points=c.entries, reference=reference,
                    where=c.where, expected=c.expected, got=c.got,
                    notes=(f"{c.verdict}: {c.detail}" if c.detail else c.verdict,))
              for c in case_results]
    if problem.forbid or problem.one_line:
        first = violations[0] if violations else None
        checks.append(Check(
            what="constraints in the file", passed=not violations, max_abs_error=0.0,
            max_rel_error=0.0, points=len(violations), reference="static analysis (ast)",
            where=f"line {first.line}, column {first.column}" if first else "",
            notes=tuple(f"{v.what}: {v.detail}" for v in violations)))
    return tuple(checks)
