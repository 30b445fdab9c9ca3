"""Run a solution file in the sandbox (`gradcli.sandbox`) and turn its frames into a `Run`.

The parent never imports, executes or evaluates the user's file; `gradcli/sandbox/runner.py`
does, in a child isolated by rlimits, landlock and seccomp before the file is read (see
docs/SECURITY.md). The child gets the cases' inputs only and sends back raw tensors; the
parent decodes them here and `verdicts` compares them with the reference's answers.

Time: `timeout` applies to loading the file and to each case on its own; torch's import
gets `STARTUP_SECONDS`. Memory: RLIMIT_AS at what torch needs plus `memory_mb`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gradcli.sandbox import framing, isolation, process
from gradcli.sandbox.isolation import Protections

STARTUP_SECONDS = process.STARTUP_SECONDS


@dataclass
class Run:
    """What happened in the child, validated. Case outcomes are dicts with a `status`; an
    `ok` outcome carries the returned tensor as `values` (float64) and its `dtype`."""

    cases: int
    loaded: bool = False
    load_failure: dict | None = None  # a load_failed / no_function event
    outcomes: dict[int, dict] = field(default_factory=dict)
    stopped: dict | None = None  # {"case": i or None, "reason": "timeout" | "crash" | "malformed", ...}
    stderr_tail: str = ""
    protections: Protections | None = None


def run(job: dict, *, timeout: float, startup: float = STARTUP_SECONDS, audit: bool = True,
        server: process.Server | None = None) -> Run:
    """Run `job` ({solution, function, forbid, args, memory_mb, cpu_seconds, cases}) in a
    fresh runner, or in a child forked by `server` (a preloaded fork server)."""
    spec = {
        "solution": job["solution"], "function": job["function"], "call": "positional",
        "args": job["args"], "cases": job["cases"], "forbid": job["forbid"], "audit": audit,
        "policy": {"read": list(isolation.standard_read_paths()), "write": None,
                   "memory_mb": job["memory_mb"], "cpu_seconds": job["cpu_seconds"]},
    }
    transcript = (server.run(spec, timeout=timeout) if server is not None
                  else process.run(spec, timeout=timeout, startup=startup))
    result = Run(cases=transcript.cases, loaded=transcript.loaded,
                 load_failure=transcript.load_failure, stopped=transcript.stopped,
                 stderr_tail=transcript.stderr_tail, protections=transcript.protections)
    for index, (meta, tensors) in transcript.results.items():
        result.outcomes[index] = _outcome(meta, tensors)
    return result


def _outcome(meta: dict, tensors: dict) -> dict:
    if meta["status"] != "ok":
        return meta
    if set(tensors) != {""}:
        return {"status": "not_tensor", "type": "dict"}
    raw = tensors[""]
    return {"status": "ok", "values": framing.to_torch(raw).double(), "dtype": raw.dtype}
