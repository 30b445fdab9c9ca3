"""Run a student's `backward(**given)` in the sandbox and judge what comes back.

`solve(problem, seed=)` is what `api.solve` reaches for a network problem that carries a
`solution` (the `exercise` command sets it): draw the points (`exercise.Exercise`), run the
file in `gradcli.sandbox` (a child isolated before the file is read; it receives the givens
of each point and sends back raw tensors by name, in frames the parent validates), decode
each point's dict here, and let the parent's judge decide. Nothing the child sends is
trusted beyond what `gradcli.sandbox.process` has validated: names and shapes are checked
again by the judge, text is already escaped to one line.

What is bad input (exit 2) and what is a wrong answer (exit 1) is decided in `exercise.py`'s
docstring; this module maps the child's reports onto it: a syntax error or no `backward`
function is bad input, as is a return value that is not a dict of tensors; an exception,
a refused call, a time-out or a crash at a point is that point's failure.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gradcli.errors import InputError
from gradcli.kinds.network.exercise import FUNCTION, Exercise, Returned
from gradcli.kinds.network.exercise_result import BackwardResult
from gradcli.problems.model import NetworkProblem


def solve(problem: NetworkProblem, *, seed: int = 0, derive) -> BackwardResult:
    """`derive`: the network's `solve.Solver`, see `exercise.Exercise`."""
    path = _solution_path(problem)
    exercise = Exercise(problem, seed, str(problem.solution), derive)
    returned, protections = _run(exercise, path, timeout=problem.timeout, memory_mb=problem.memory_mb)
    result = exercise.judge(returned, limits={"timeout_seconds": problem.timeout,
                                              "memory_mb": problem.memory_mb})
    return replace(result, sandbox=protections.to_json()) if protections is not None else result


def _solution_path(problem: NetworkProblem) -> Path:
    path = Path(str(problem.solution)).expanduser()
    if not path.is_file():
        # The child opens the file again by its path: only a regular file can be run.
        what = ("is a directory" if path.is_dir() else
                "is not a regular file (a pipe or device cannot be read twice)" if path.exists()
                else "not found")
        raise InputError(f"solution file {what}: {path}", hint="give the path to a .py file")
    return path.resolve()


def _run(exercise: Exercise, path: Path, *, timeout: float, memory_mb: int):
    from gradcli.sandbox import process

    transcript = process.run(job(exercise, path, timeout=timeout, memory_mb=memory_mb),
                             timeout=float(timeout))
    return returned(transcript, len(exercise.points), path), transcript.protections


def job(exercise: Exercise, path: Path, *, timeout: float, memory_mb: int) -> dict:
    """The sandbox job: call `backward` by keyword at each point; inputs only, no answers.
    (Public so that a grader running many submissions builds the same job.)"""
    from gradcli.sandbox import isolation

    inputs = exercise.inputs()
    return {
        "solution": str(path), "function": FUNCTION, "call": "keywords",
        "args": list(inputs[0]) if inputs else [], "forbid": [], "audit": True,
        "cases": [{"inputs": {k: v.tolist() for k, v in given.items()}} for given in inputs],
        "policy": {"read": list(isolation.standard_read_paths()), "write": None,
                   "memory_mb": int(memory_mb),
                   "cpu_seconds": float(timeout) * (len(inputs) + 1) + 5},
    }


def returned(transcript, points: int, path: Path) -> list[Returned]:
    """Each point's validated dict (or why there is none) from a `process.Transcript`;
    InputError where the submission cannot be judged at all (see the module docstring)."""
    _refuse_unloadable(transcript, path)
    return [_returned(transcript, k, path) for k in range(points)]


def _refuse_unloadable(transcript, path: Path) -> None:
    """No function to call is bad input; a file whose top level raised is a failed run."""
    failure = transcript.load_failure
    if failure is None:
        return
    if failure["event"] == "no_function":
        found = failure.get("found")
        raise InputError(f"{FUNCTION!r} is not a function after loading the solution"
                         + (f" (it is a {found})" if found else ""), file=str(path),
                         hint=f"define def {FUNCTION}(...) with the problem's given names as "
                              "parameters")
    if failure.get("error") in ("SyntaxError", "IndentationError", "TabError"):
        raise InputError(f"the solution is not valid Python: {failure.get('message')}",
                         file=str(path), line=failure.get("line"))


def _returned(transcript, k: int, path: Path) -> Returned:
    if transcript.load_failure is not None:
        return Returned(failure="the file did not load: " + _load_text(transcript.load_failure))
    if k in transcript.results:
        meta, tensors = transcript.results[k]
        return _decode(meta, tensors, path)
    stopped = transcript.stopped or {}
    if stopped.get("case") != k:
        return Returned(failure="not run: the process was stopped at an earlier point")
    if stopped.get("reason") == "timeout":
        return Returned(failure=f"no answer within {stopped['seconds']:g} s; it was stopped")
    if stopped.get("reason") == "malformed":
        return Returned(failure=f"the process broke the result protocol ({stopped.get('detail', '')})")
    tail = transcript.stderr_tail.splitlines()[-1][:200] if transcript.stderr_tail else ""
    return Returned(failure=f"the process {stopped.get('exit', 'ended')}"
                            + (f"; last output: {tail}" if tail else ""))


def _decode(meta: dict, tensors: dict, path: Path) -> Returned:
    from gradcli.sandbox import framing

    status = meta["status"]
    if status == "ok":
        if set(tensors) == {""}:
            raise InputError(f"{FUNCTION} returned a tensor, not a dict of gradients by name",
                             file=str(path), hint='return {"W": ..., "b": ...}, keyed by '
                                                  "variable name")
        return Returned({key: framing.to_torch(raw) for key, raw in tensors.items()})
    if status == "not_tensor":
        key = meta.get("key")
        what = f"the value for {key!r} is a {meta.get('type')}" if key else f"it is a {meta.get('type')}"
        raise InputError(f"{FUNCTION} must return a dict of torch tensors by name; {what}",
                         file=str(path), hint="return torch tensors (float64), e.g. torch.outer(d, x)")
    if status == "error":
        return Returned(failure=_error_text(meta))
    if status == "forbidden":
        return Returned(failure=f"called {meta.get('call')} at line {meta.get('line')}")
    key = meta.get("key") or "?"
    if status == "too_large":
        shape = "×".join(map(str, meta.get("shape", ())))
        return Returned(failure=f"the value for {key!r} is too large ({shape})")
    return Returned(failure=f"the value for {key!r} is a {meta.get('dtype')} tensor, not a real one")


def _error_text(meta: dict) -> str:
    text = f"{meta.get('error')}: {meta.get('message')}"
    if meta.get("line"):
        text += f" (line {meta['line']}" + (f": {meta['source']}" if meta.get("source") else "") + ")"
    return text


def _load_text(failure: dict) -> str:
    if failure.get("status") == "forbidden":
        return f"loading it called {failure.get('call')} at line {failure.get('line')}"
    return _error_text(failure)
