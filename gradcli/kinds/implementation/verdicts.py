"""Turn what the child reported into one verdict per case.

passed / wrong (the first differing entry, expected and got) / constraint broken (the call
and the solution's line) / error (the solution's own exception type, message and line; never
a traceback) / timed out / crashed / not run (the process was stopped earlier).
"""

from __future__ import annotations

from gradcli.kinds.implementation.cases import Case
from gradcli.kinds.implementation.result import CaseResult
from gradcli.kinds.implementation.sandbox import Run


def shape_text(shape) -> str:
    return "×".join(str(int(n)) for n in shape) if len(shape) else "scalar"


def _inputs_text(case: Case) -> str:
    return ", ".join(f"{k} {shape_text(v.shape)}" for k, v in case.inputs.items())


def judge(cases: list[Case], expected: list, run: Run, rtol: float, atol: float) -> list[CaseResult]:
    out = []
    for index, (case, want) in enumerate(zip(cases, expected, strict=True)):
        base = {"name": case.name, "why": case.why, "shape": _inputs_text(case)}
        event = run.outcomes.get(index)
        if event is not None:
            out.append(_from_event(base, event, want, rtol, atol))
        else:
            out.append(CaseResult(**base, **_missing(run, index)))
    return out


def _missing(run: Run, index: int) -> dict:
    stopped = run.stopped
    if stopped is None or stopped.get("case") is None or stopped["case"] != index:
        why = "the solution did not load" if run.load_failure or not run.loaded else \
            "the solution process was stopped in an earlier case"
        return {"verdict": "not run", "detail": why}
    if stopped["reason"] == "timeout":
        return {"verdict": "timed out",
                "detail": f"no answer within {stopped['seconds']:g} s; the solution was stopped"}
    if stopped["reason"] == "malformed":
        return {"verdict": "crashed",
                "detail": f"the solution process broke the result protocol ({stopped.get('detail', '')}); "
                          "it was stopped"}
    detail = f"the solution process {stopped.get('exit', 'ended')}"
    if run.stderr_tail:
        detail += "; last output: " + run.stderr_tail.splitlines()[-1][:200]
    return {"verdict": "crashed", "detail": detail}


def _from_event(base: dict, event: dict, want, rtol: float, atol: float) -> CaseResult:
    status = event.get("status")
    if status == "forbidden":
        return CaseResult(**base, verdict="constraint broken", line=event.get("line"),
                          detail=f"called {event.get('call')} at line {event.get('line')}")
    if status == "error":
        return CaseResult(**base, verdict="error", line=event.get("line"), detail=_error_text(event))
    if status == "not_tensor":
        return CaseResult(**base, verdict="wrong",
                          detail=f"returned a {event.get('type')}, not a torch.Tensor")
    if status == "complex":
        return CaseResult(**base, verdict="wrong",
                          detail=f"returned a complex tensor ({event.get('dtype')}); the exercise "
                                 "expects real values (an imaginary part is not dropped)")
    if status == "bad_dtype":
        return CaseResult(**base, verdict="wrong",
                          detail=f"returned a tensor of dtype {event.get('dtype')}, not a real number type")
    if status != "ok" and status != "too_large":
        return CaseResult(**base, verdict="crashed", detail="the solution process sent an unknown result")
    if status == "too_large":
        return CaseResult(**base, verdict="wrong",
                          detail=f"returned a tensor of shape {shape_text(event['shape'])}, "
                                 f"expected {shape_text(want.shape)}")
    return _compare(base, event, want, rtol, atol)


def _error_text(event: dict) -> str:
    message = event.get("message") or ""
    text = f"{event.get('error')}: {message}" if message else str(event.get("error"))
    if event.get("line"):
        text += f" (line {event['line']}: {event.get('source', '')})"
    return text


def _compare(base: dict, event: dict, want, rtol: float, atol: float) -> CaseResult:
    import torch

    from gradcli.verify.compare import describe_index, errors

    got = event["values"]
    if not isinstance(got, torch.Tensor):
        got = torch.tensor(got, dtype=torch.float64)
    if tuple(got.shape) != tuple(want.shape):
        return CaseResult(**base, verdict="wrong",
                          detail=f"shape: expected {shape_text(want.shape)}, got {shape_text(got.shape)}")
    undefined = torch.isnan(want)
    abs_err, rel_err = errors(want, got)
    bad = ((abs_err > atol + rtol * want.abs()) | (torch.isinf(want) & (got != want))) & ~undefined
    judged = ~undefined
    max_abs = float(abs_err[judged].max()) if judged.any() else 0.0
    max_rel = float(rel_err[judged].max()) if judged.any() else 0.0
    common = {"undefined": int(undefined.sum()), "max_abs_error": max_abs,
              "max_rel_error": max_rel, "entries": int(want.numel())}
    dtype_note = f"; returned {event['dtype']}" if event.get("dtype") not in ("float64", None) else ""
    if bad.any():
        index = tuple(int(i) for i in torch.nonzero(bad)[0]) if bad.dim() else ()
        e, g = float(want[index]), float(got[index])
        where = describe_index(index)
        count = int(bad.sum())
        return CaseResult(**base, verdict="wrong", where=where, expected=e, got=g, **common,
                          detail=f"first differing entry {where or '(scalar)'}: expected {e!r}, "
                                 f"got {g!r} ({count} of {want.numel()} entries differ){dtype_note}")
    detail = "all entries match" if not undefined.any() else _undefined_text(undefined, got)
    return CaseResult(**base, verdict="passed", detail=detail + dtype_note, **common)


def _undefined_text(undefined, got) -> str:
    import torch

    n = int(undefined.sum())
    values = got[undefined]
    if bool(torch.isnan(values).all()):
        gave = "NaN"
    else:
        shown = sorted({repr(float(v)) for v in values[:5]})
        gave = ", ".join(shown)
    judged = "the other entries match" if n < undefined.numel() else "no entry is defined"
    return (f"{n} entr{'y' if n == 1 else 'ies'} undefined (reference 0/0 = NaN), not judged; "
            f"the solution gave {gave} there; {judged}")


def load_error(run: Run) -> str:
    failure = run.load_failure
    if failure is not None and failure.get("event") == "load_failed":
        if failure.get("status") == "forbidden":
            return f"loading the file called {failure.get('call')} at line {failure.get('line')}"
        return "loading the file raised " + _error_text(failure)
    stopped = run.stopped
    if stopped is not None and stopped.get("case") is None:
        if stopped["reason"] == "timeout":
            return f"loading the file took longer than {stopped['seconds']:g} s; it was stopped"
        if stopped["reason"] == "malformed":
            return (f"the solution process broke the result protocol while loading the file "
                    f"({stopped.get('detail', '')}); it was stopped")
        return f"the solution process {stopped.get('exit', 'ended')} while loading the file"
    return ""
