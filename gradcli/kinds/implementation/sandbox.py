"""Run a solution file in a child process with a time limit and a memory limit.

The parent never imports, executes or evaluates the user's file: `_child.py` does, in a
separate `python -I -B` process, so an infinite loop, a crash, `sys.exit` or a runaway
allocation is reported as a verdict instead of taking gradcli down with it.

Time: the child reports an event when it is ready (torch imported), when the file is loaded,
and before and after each case. `timeout` applies to each step on its own (loading the file,
each case); torch's import gets `STARTUP_SECONDS`, generous because the machine may be busy.
When a step runs out of time the child is killed and the remaining cases are not run.
Memory: the child caps its own address space (RLIMIT_AS) at what torch needs plus
`memory_mb`; CPU time (RLIMIT_CPU) is a backstop for the wall clock; RLIMIT_FSIZE bounds what
it may print or write. The child runs in a session of its own, and the whole group is killed
at the end, so processes the solution starts do not outlive it.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_SECONDS = 120.0
CHILD = Path(__file__).with_name("_child.py")
STDERR_TAIL_LINES = 6


@dataclass
class Run:
    """What happened in the child. Case outcomes are the child's `case` events (dicts)."""

    cases: int
    loaded: bool = False
    load_failure: dict | None = None  # a load_failed / no_function event
    outcomes: dict[int, dict] = field(default_factory=dict)
    stopped: dict | None = None  # {"case": i or None, "reason": "timeout" | "crash", ...}
    stderr_tail: str = ""


class _Lines:
    """JSON lines from a pipe, with a deadline per read."""

    def __init__(self, stream):
        self.fd = stream.fileno()
        self.buffer = b""
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.fd, selectors.EVENT_READ)

    def next(self, deadline: float) -> dict | None:
        """The next event; None at end of stream; raises TimeoutError at the deadline."""
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                raise TimeoutError
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            event = json.loads(line)
        except ValueError:
            return {"event": "garbled"}
        return event if isinstance(event, dict) else {"event": "garbled"}


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return env


def _stderr_tail(err) -> str:
    err.seek(0)
    text = err.read().decode("utf-8", "replace")
    return "\n".join(text.strip().splitlines()[-STDERR_TAIL_LINES:])


def run(job: dict, *, timeout: float, startup: float = STARTUP_SECONDS) -> Run:
    """Run `job` (see `_child.py`) and collect the events it reports."""
    result = Run(cases=len(job["cases"]))
    cwd = Path(job["solution"]).resolve().parent
    with tempfile.TemporaryFile() as err:
        # A session of its own: stopping it also stops whatever the solution started.
        proc = subprocess.Popen([sys.executable, "-I", "-B", str(CHILD)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=err, cwd=cwd, env=_environment(),
                                start_new_session=True)
        previous = _stop_on_sigterm()
        try:
            _feed(proc, job)
            _collect(proc, result, timeout=timeout, startup=startup)
        finally:
            _stop(proc)
            proc.wait()
            proc.stdout.close()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        if result.stopped is not None and result.stopped["reason"] == "crash":
            result.stopped["exit"] = _exit_description(proc.returncode)
            result.stderr_tail = _stderr_tail(err)
    return result


def _stop_on_sigterm():
    """Make SIGTERM (what `timeout` and CI runners send) unwind like Ctrl-C, so the child's
    group is killed on the way out instead of left spinning. The previous handler, or None
    outside the main thread (where handlers cannot be set)."""
    def terminated(signum, frame):
        raise SystemExit(128 + signum)

    try:
        return signal.signal(signal.SIGTERM, terminated)
    except ValueError:
        return None


def _stop(proc: subprocess.Popen) -> None:
    """Kill the child's whole process group (its pid is the group id: a new session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _feed(proc: subprocess.Popen, job: dict) -> None:
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
    except BrokenPipeError:  # the child died at once; _collect reports it
        pass


def _collect(proc: subprocess.Popen, result: Run, *, timeout: float, startup: float) -> None:
    lines = _Lines(proc.stdout)
    deadline = time.monotonic() + startup
    started = False
    case: int | None = None
    while True:
        try:
            event = lines.next(deadline)
        except TimeoutError:
            _stop(proc)
            if not started:
                raise RuntimeError(f"the solution runner did not start within {startup:g} s") from None
            result.stopped = {"case": case, "reason": "timeout", "seconds": timeout}
            return
        if event is None or event.get("event") == "garbled":
            try:  # the stream ended: the child is exiting (or closed its output; then stop it)
                proc.wait(timeout=max(timeout, 1.0))
            except subprocess.TimeoutExpired:
                _stop(proc)
                proc.wait()
            if not started:
                raise RuntimeError(f"the solution runner failed to start: {_exit_description(proc.returncode)}")
            result.stopped = {"case": case, "reason": "crash"}
            return
        kind = event.get("event")
        if kind in ("ready", "start"):
            started = True
            case = event.get("case")
            deadline = time.monotonic() + timeout
        elif kind == "loaded":
            result.loaded = True
        elif kind in ("load_failed", "no_function"):
            result.load_failure = event
            return
        elif kind == "case":
            result.outcomes[int(event["case"])] = event
        elif kind == "done":
            return


def _exit_description(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        reasons = {"SIGKILL": " (killed; often the memory limit)", "SIGXCPU": " (CPU time limit)",
                   "SIGSEGV": " (segmentation fault)",
                   "SIGXFSZ": " (output size limit)"}
        return f"killed by {name}{reasons.get(name, '')}"
    return f"exited with status {code}"
