"""Start a sandboxed runner, read what it reports, and leave nothing behind (the parent side).

`run(job, timeout=...)` starts `runner.py` in `python -I -B` with a clean environment, a
private temporary directory (its only writable place, removed afterwards) and its own
session, feeds it the job and reads frames under deadlines: torch's import gets `startup`
seconds, loading the submission and each case get `timeout` seconds each on the wall clock.

The parent alone decides. It expects exactly this order: `ready`, then `loaded` (or
`load_failed` / `no_function`, which end the run), then `start i` and `result i` for each
case in turn, then `done`. Any other frame, a bad field, an oversized frame or bytes that are
not frames stop the run there: the case in progress is marked malformed and the rest are not
run. Nothing the child sends can end gradcli with an error.

At the end the child is killed by pid (its seccomp filter lets it create no process, so
that is its whole tree; where seccomp is missing, the process group is killed too) and its
temporary directory is deleted.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from gradcli.sandbox import framing
from gradcli.sandbox.isolation import Protections

STARTUP_SECONDS = 120.0
RUNNER = Path(__file__).with_name("runner.py")
STDERR_TAIL_LINES = 6
ENV_KEPT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")


@dataclass
class Transcript:
    """What the child reported, validated. `results[i]` = (header, tensors) of case i."""

    cases: int
    protections: Protections | None = None
    loaded: bool = False
    load_failure: dict | None = None  # validated load_failed / no_function header
    results: dict[int, tuple[dict, dict]] = field(default_factory=dict)
    stopped: dict | None = None  # {"case": i or None, "reason": "timeout"|"crash"|"malformed", ...}
    stderr_tail: str = ""


class StartupError(RuntimeError):
    """The runner itself failed before any submission code ran (gradcli's fault or the machine's)."""


def environment(tmp: str) -> dict[str, str]:
    """What the child sees of the environment: no tokens, no credentials, no PYTHON* settings."""
    env = {k: os.environ[k] for k in ENV_KEPT if k in os.environ}
    env.update(HOME=tmp, TMPDIR=tmp, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def run(job: dict, *, timeout: float, startup: float = STARTUP_SECONDS) -> Transcript:
    """Run `job` (see runner.py; `policy.write` is filled in here) and collect its frames.

    Inside `shared_server()` the job runs in a child of that block's fork server instead (the
    same isolation, applied after the fork; the server's own `startup` deadline applies)."""
    shared = _SHARED.get()
    if shared is not None:
        return shared.run(job, timeout=timeout)
    transcript = Transcript(cases=len(job["cases"]))
    tmp = tempfile.mkdtemp(prefix="gradcli-sandbox-")
    job = {**job, "policy": {**job["policy"], "write": tmp}}
    try:
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen([sys.executable, "-I", "-B", str(RUNNER)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=err, cwd=tmp,
                                    env=environment(tmp), start_new_session=True, close_fds=True)
            previous = _stop_on_sigterm()
            reader = framing.Reader(proc.stdout.fileno())
            try:
                _feed(proc, job)
                _collect(proc, reader, transcript, timeout=timeout, startup=startup)
            finally:
                _stop(proc)
                proc.wait()
                reader.close()
                proc.stdout.close()
                if previous is not None:
                    signal.signal(signal.SIGTERM, previous)
            if transcript.stopped is not None and transcript.stopped["reason"] == "crash":
                transcript.stopped["exit"] = exit_description(proc.returncode)
                transcript.stderr_tail = _stderr_tail(err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return transcript


def _stop_on_sigterm():
    """SIGTERM (what `timeout` and CI runners send) unwinds like Ctrl-C, so the child is
    killed on the way out. The previous handler, or None outside the main thread."""
    def terminated(signum, frame):
        raise SystemExit(128 + signum)

    try:
        return signal.signal(signal.SIGTERM, terminated)
    except ValueError:
        return None


def _stop(proc) -> None:
    for kill in (lambda: os.killpg(proc.pid, signal.SIGKILL), proc.kill):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass


def _feed(proc: subprocess.Popen, job: dict) -> None:
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
    except BrokenPipeError:  # the child died at once; _collect reports it
        pass


class _Stop(Exception):
    def __init__(self, reason: str, detail: str = ""):
        self.reason, self.detail = reason, detail


def _collect(proc, reader: framing.Reader, out: Transcript, *, timeout: float, startup: float) -> None:
    """Read frames in the one order the protocol allows; record where and why it stopped.

    `proc` has kill(), wait(timeout=None) (raising subprocess.TimeoutExpired), pid and
    returncode: a Popen, or a `_Forked` child of a fork server."""
    case: int | None = None
    try:
        frame = _next(proc, reader, time.monotonic() + startup, started=False, timeout=timeout)
        if frame.event != "ready":
            raise StartupError(f"the runner sent {framing.text(frame.event, 40)!r} before 'ready'")
        out.protections = _protections(frame.meta)
        frame = _next(proc, reader, time.monotonic() + timeout, timeout=timeout)
        if frame.event in ("load_failed", "no_function"):
            out.load_failure = _load_failure(frame.meta)
            return
        _expect(frame, "loaded")
        out.loaded = True
        for case in range(out.cases):
            _expect(_next(proc, reader, time.monotonic() + timeout, timeout=timeout), "start", case)
            frame = _next(proc, reader, time.monotonic() + timeout, timeout=timeout)
            _expect(frame, "result", case)
            out.results[case] = _result(frame)
        _expect(_next(proc, reader, time.monotonic() + timeout, timeout=timeout), "done")
    except _Stop as stop:
        out.stopped = {"case": case, "reason": stop.reason, "seconds": timeout, "detail": stop.detail}
    except framing.Malformed as exc:
        out.stopped = {"case": case, "reason": "malformed", "seconds": timeout,
                       "detail": framing.text(str(exc), 200)}


def _next(proc, reader, deadline: float, *, timeout: float, started: bool = True) -> framing.Frame:
    try:
        frame = reader.next(deadline)
    except TimeoutError:
        _stop(proc)
        if not started:
            raise StartupError("the sandboxed runner did not start in time") from None
        raise _Stop("timeout") from None
    if frame is None:
        try:  # the stream ended: the child is exiting (or closed its output; then stop it)
            proc.wait(timeout=max(timeout, 1.0))
        except subprocess.TimeoutExpired:
            _stop(proc)
            proc.wait()
        if not started:
            raise StartupError(f"the sandboxed runner failed to start: {exit_description(proc.returncode)}")
        raise _Stop("crash")
    return frame


def _expect(frame: framing.Frame, event: str, case: int | None = None) -> None:
    if frame.event != event:
        raise framing.Malformed(f"expected {event!r}, got {framing.text(frame.event, 40)!r}")
    if case is not None and framing.integer(frame.meta, "case") != case:
        raise framing.Malformed(f"expected case {case}, got {framing.text(repr(frame.meta.get('case')), 40)}")


def _protections(meta: dict) -> Protections:
    """The runner reports its isolation before any submission code runs, so this is trusted."""
    report = meta.get("protections")
    if not isinstance(report, dict):
        raise StartupError("the runner did not report its protections")
    missing = report.get("missing") or {}
    return Protections(tuple(str(a) for a in report.get("active", ())),
                       tuple((str(k), str(v)) for k, v in dict(missing).items()),
                       int(report.get("landlock_abi") or 0))


def _load_failure(meta: dict) -> dict:
    if meta["event"] == "no_function":
        return {"event": "no_function", "found": framing.name(meta, "found") if meta.get("found") else None}
    status = meta.get("status")
    if status == "forbidden":
        return {"event": "load_failed", "status": "forbidden", "call": framing.string(meta, "call"),
                "line": framing.integer(meta, "line", low=1, optional=True)}
    return {"event": "load_failed", "status": "error", **_error_fields(meta)}


def _error_fields(meta: dict) -> dict:
    return {"error": framing.name(meta, "error"), "message": framing.string(meta, "message"),
            "line": framing.integer(meta, "line", low=1, optional=True),
            "source": framing.string(meta, "source", limit=120)}


def _result(frame: framing.Frame) -> tuple[dict, dict]:
    """(validated header, tensors by name) of a result frame."""
    meta = frame.meta
    status = meta.get("status")
    if status == "ok":
        return {"status": "ok"}, framing.tensors(frame)
    if frame.payload:
        raise framing.Malformed(f"a {framing.text(str(status), 20)!r} result carries a payload")
    if status == "error":
        return {"status": "error", **_error_fields(meta)}, {}
    if status == "forbidden":
        return {"status": "forbidden", "call": framing.string(meta, "call"),
                "line": framing.integer(meta, "line", low=1, optional=True)}, {}
    if status in ("not_tensor", "complex", "bad_dtype"):
        return {"status": status, "type": framing.name(meta, "type"),
                "dtype": framing.string(meta, "dtype", limit=40),
                "key": framing.string(meta, "key", limit=64)}, {}
    if status == "too_large":
        shape = meta.get("shape")
        if not isinstance(shape, list) or len(shape) > 32 or any(type(n) is not int or n < 0 for n in shape):
            raise framing.Malformed("a too_large result without a valid shape")
        return {"status": "too_large", "shape": shape, "key": framing.string(meta, "key", limit=64)}, {}
    raise framing.Malformed(f"unknown result status {framing.text(repr(status), 40)}")


def _stderr_tail(err) -> str:
    err.seek(0, os.SEEK_END)
    size = err.tell()
    err.seek(max(0, size - 64 * 1024))
    text = err.read().decode("utf-8", "replace")
    return "\n".join(framing.text(line, 200) for line in text.strip().splitlines()[-STDERR_TAIL_LINES:])


def exit_description(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        reasons = {"SIGKILL": " (killed; often the memory limit)", "SIGXCPU": " (CPU time limit)",
                   "SIGSEGV": " (segmentation fault)", "SIGSYS": " (a forbidden system call)",
                   "SIGXFSZ": " (output size limit)"}
        return f"killed by {name}{reasons.get(name, '')}"
    return f"exited with status {code}"


# -- a fork server: torch imported once, a child forked per job -------------------------------


class _Forked:
    """A child of the fork server, seen from gradcli: killed by pid (its own session), waited
    for through the server's control pipe (it is the server's child, not ours)."""

    def __init__(self, pid: int, control: framing.Reader):
        self.pid = pid
        self.control = control
        self.returncode: int | None = None

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is not None:
            return self.returncode
        deadline = time.monotonic() + (timeout if timeout is not None else 3600.0)
        try:
            frame = self.control.next(deadline)
        except TimeoutError:
            raise subprocess.TimeoutExpired("sandboxed child", timeout) from None
        if frame is None or frame.event != "exit":
            raise StartupError("the fork server stopped")
        self.returncode = os.waitstatus_to_exitcode(int(frame.meta["status"]))
        return self.returncode


class Server:
    """A preloaded worker that forks one sandboxed child per job. Use as a context manager;
    `run(job, timeout=...)` behaves like `process.run`. One job at a time per server."""

    def __init__(self, startup: float = STARTUP_SECONDS):
        self.startup = startup
        control_read, control_write = os.pipe()
        self.errors = tempfile.TemporaryFile()
        self.home = tempfile.mkdtemp(prefix="gradcli-server-")
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-B", str(RUNNER), "--server", str(control_write)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors, cwd=self.home,
            env=environment(self.home), start_new_session=True, pass_fds=(control_write,))
        os.close(control_write)
        self.control_fd = control_read
        self.control = framing.Reader(control_read)
        self.frames = framing.Reader(self.proc.stdout.fileno(), ended_fd=control_read)
        self.ready = False

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        _stop(self.proc)
        self.proc.wait()
        for reader in (self.frames, self.control):
            reader.close()
        self.proc.stdout.close()
        self.proc.stdin.close()
        os.close(self.control_fd)
        self.errors.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def _started(self) -> None:
        if self.ready:
            return
        try:
            frame = self.control.next(time.monotonic() + self.startup)
        except TimeoutError:
            raise StartupError("the fork server did not start in time") from None
        if frame is None or frame.event != "server":
            self.proc.wait()
            raise StartupError(f"the fork server failed to start: {exit_description(self.proc.returncode)}")
        self.ready = True

    def run(self, job: dict, *, timeout: float) -> Transcript:
        self._started()
        transcript = Transcript(cases=len(job["cases"]))
        tmp = tempfile.mkdtemp(prefix="gradcli-sandbox-")
        job = {**job, "policy": {**job["policy"], "write": tmp}}
        child = None
        try:
            self.proc.stdin.write(json.dumps(job).encode() + b"\n")
            self.proc.stdin.flush()
            frame = self.control.next(time.monotonic() + self.startup)
            if frame is None or frame.event != "forked":
                raise StartupError("the fork server did not fork")
            child = _Forked(framing.integer(frame.meta, "pid", low=1), self.control)
            try:
                _collect(child, self.frames, transcript, timeout=timeout, startup=self.startup)
            finally:
                child.kill()
                child.wait()
                self.frames.drain()  # the dead child's leftovers, if it wrote more than asked
            if transcript.stopped is not None and transcript.stopped["reason"] == "crash":
                transcript.stopped["exit"] = exit_description(child.returncode)
                transcript.stderr_tail = _output_tail(Path(tmp) / "output.txt")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return transcript


_SHARED: ContextVar[Server | None] = ContextVar("gradcli_sandbox_shared_server", default=None)


@contextmanager
def shared_server() -> Iterator[Server]:
    """Within this block, `run` forks each job's child from one fork server, started here.

    `gradcli check problems/` runs the solutions of several implementation problems (q1, q2):
    a fresh runner each paid a Python start and torch's import (~1 s, more under load), one
    after the other; now torch is imported once, by a server that starts when the block does,
    so the import overlaps the caller's own work (loading torch, solving the other problems).
    The children are isolated exactly as `grade`'s are (`runner.server`): rlimits, landlock
    and seccomp after the fork, before the submission is read, a fresh private directory each.
    """
    server = Server()
    token = _SHARED.set(server)
    try:
        yield server
    finally:
        _SHARED.reset(token)
        server.close()


def _output_tail(path: Path) -> str:
    try:
        with open(path, "rb") as output:
            return _stderr_tail(output)
    except OSError:
        return ""
