"""The child process that runs untrusted code: the only place gradcli executes a submission.

Started as `python -I -B <this file>` (isolated mode: no PYTHONPATH, no user site-packages)
by `gradcli.sandbox.process`. It reads one JSON job on stdin (trusted: written by gradcli),
imports torch, then isolates itself (`isolation.apply`: rlimits, landlock, seccomp) BEFORE
the submission is read, loads the submission, calls its function on each case's inputs and
sends back raw results as frames (`framing`) on the original stdout. The submission's prints
go to stderr (a file the parent keeps a short tail of).

`serve(job, fd)` is everything after torch's import; `runner.py --server FD` is a fork server
that imports torch once and forks a child per job, which calls `serve` (see `server`).

The job: {"solution": path, "function": name, "call": "positional" | "keywords",
"args": [names], "cases": [{"inputs": {name: nested lists}}], "forbid": [dotted names],
"audit": bool, "policy": {"read": [...], "write": dir, "memory_mb", "cpu_seconds"}}.
Case inputs only: the runner never sees expected answers, and says nothing about passing.

Two friendly layers sit on top of the OS boundary, for messages that name the student's
line: an audit hook refusing process, signal, socket and file-writing events (`audit`), and
wrappers that raise `ForbiddenCall` when the submission calls a forbidden function. Neither
is relied on for security or for the forbid rule (the parent's static analysis is).
"""

import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import traceback

if __name__ == "__main__":  # isolated mode: make this package importable, then forget the path
    _ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path.insert(0, _ROOT)
    from gradcli.sandbox import framing, isolation
    sys.path.remove(_ROOT)
else:
    from gradcli.sandbox import framing, isolation

MAX_TEXT = 500


class ForbiddenCall(BaseException):  # noqa: N818 - BaseException: `except Exception` cannot hide it
    """Raised when the submission calls a forbidden function or makes a refused audit event."""


class Job:
    def __init__(self, spec):
        self.path = os.path.realpath(spec["solution"])
        self.function = spec["function"]
        self.call = spec.get("call", "positional")
        self.args = spec["args"]
        self.cases = spec["cases"]
        self.forbid = spec.get("forbid", [])
        self.audit = spec.get("audit", True)
        self.policy = isolation.Policy(
            read=tuple(spec["policy"]["read"]) + (self.path,), write=spec["policy"]["write"],
            memory_mb=int(spec["policy"]["memory_mb"]),
            cpu_seconds=float(spec["policy"]["cpu_seconds"]))
        self.calls = []  # refused calls made by the submission: (name, line)


JOB = None


def user_line(tb):
    """The last line of the submission in a traceback: (line, source text)."""
    found = (None, "")
    for frame in traceback.extract_tb(tb):
        if os.path.realpath(frame.filename) == JOB.path:
            found = (frame.lineno, (frame.line or "").strip())
    return found


def solution_line(depth=1):
    """The innermost line of the submission on the stack, if any."""
    frame = sys._getframe(depth)
    while frame is not None:
        if os.path.realpath(frame.f_code.co_filename) == JOB.path:
            return frame.f_lineno
        frame = frame.f_back
    return None


# Audit events refused once the submission is loaded, and what they would do.
REFUSED = {
    "os.fork": "start a process", "os.forkpty": "start a process",
    "os.posix_spawn": "start a process", "os.spawn": "start a process",
    "os.exec": "run a program", "os.system": "run a shell command",
    "subprocess.Popen": "start a process", "os.kill": "send a signal",
    "os.killpg": "send a signal", "signal.pthread_kill": "send a signal",
    "socket.connect": "open a network connection", "socket.bind": "open a network socket",
    "socket.sendto": "send over the network", "os.truncate": "truncate a file",
    "os.remove": "delete a file", "os.rename": "rename a file", "os.rmdir": "delete a folder",
    "os.mkdir": "create a folder", "shutil.rmtree": "delete a folder",
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def refuse(event, args):
    what = REFUSED.get(event)
    if what is None and event == "open" and len(args) >= 3:
        mode, flags = args[1], args[2]
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & WRITE_FLAGS):
            what = "open a file for writing"
    if what is None:
        return
    JOB.calls.append((f"{event} (a solution may not {what})", solution_line(2)))
    raise ForbiddenCall(f"{event} is not allowed: a solution may not {what}")


def guard(name, original):
    def forbidden(*args, **kwargs):
        frame = sys._getframe(1)
        if frame is None or os.path.realpath(frame.f_code.co_filename) != JOB.path:
            return original(*args, **kwargs)
        JOB.calls.append((name, frame.f_lineno))
        raise ForbiddenCall(f"{name} is forbidden in this exercise")
    forbidden.__name__ = getattr(original, "__name__", name.rsplit(".", 1)[-1])
    forbidden.__doc__ = getattr(original, "__doc__", None)
    return forbidden


def resolve(dotted):
    """(owner, attribute) for a dotted path, importing the longest module prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:-1]:
            owner = getattr(owner, attr)
        if hasattr(owner, parts[-1]):
            return owner, parts[-1]
        return None
    return None


def patch(forbid):
    """Replace each forbidden function, and the tensor/array method of the same name."""
    for dotted in forbid:
        module = dotted.rsplit(".", 1)[0]
        if module.split(".")[0] not in sys.modules:
            try:
                importlib.import_module(module)
            except ImportError:
                continue
        method = dotted.rsplit(".", 1)[1]
        for target in (dotted, f"{module}.Tensor.{method}", f"{module}.ndarray.{method}"):
            try:
                found = resolve(target)
            except (AttributeError, ImportError):
                found = None
            if found is None:
                continue
            owner, attr = found
            try:
                setattr(owner, attr, guard(dotted, getattr(owner, attr)))
            except (TypeError, AttributeError):
                pass  # a C type that refuses (numpy.ndarray): the static check sees it


def describe_exception(exc):
    line, source = user_line(exc.__traceback__)
    try:
        message = str(exc)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        message = "<the exception's message could not be read>"
    return {"error": type(exc).__name__[:100], "message": message[:MAX_TEXT], "line": line,
            "source": source[:MAX_TEXT]}


def load(fd):
    loader = importlib.machinery.SourceFileLoader("solution", JOB.path)
    spec = importlib.util.spec_from_loader("solution", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["solution"] = module
    try:
        spec.loader.exec_module(module)
    except ForbiddenCall:
        name, line = JOB.calls[-1]
        framing.write(fd, {"event": "load_failed", "status": "forbidden", "call": name, "line": line})
        return None
    except BaseException as exc:  # noqa: BLE001 - the submission failed while loading; report it
        framing.write(fd, {"event": "load_failed", "status": "error", **describe_exception(exc)})
        return None
    function = getattr(module, JOB.function, None)
    if not callable(function):
        framing.write(fd, {"event": "no_function",
                           "found": type(function).__name__ if function is not None else None})
        return None
    framing.write(fd, {"event": "loaded"})
    return function


def tensor_bytes(torch, value):
    """(dtype name, shape, bytes) of a real tensor, or a status dict saying why not."""
    value = value.detach()
    dtype = str(value.dtype).replace("torch.", "")
    if value.is_complex():
        return {"status": "complex", "dtype": dtype}
    if dtype not in framing.DTYPES:
        return {"status": "bad_dtype", "dtype": dtype}
    if value.numel() > framing.MAX_ENTRIES:
        return {"status": "too_large", "shape": list(value.shape)}
    flat = value.to("cpu").contiguous().reshape(-1).view(torch.uint8)
    return dtype, list(value.shape), flat.numpy().tobytes()


def run_case(torch, function, case):
    """The result frame's header and payload for one case."""
    inputs = {name: torch.tensor(case["inputs"][name], dtype=torch.float64) for name in JOB.args}
    JOB.calls.clear()
    try:
        out = function(**inputs) if JOB.call == "keywords" else function(*inputs.values())
    except ForbiddenCall:
        out = None
    except BaseException as exc:  # noqa: BLE001 - the submission's exception is its verdict
        if not JOB.calls:
            return {"status": "error", **describe_exception(exc)}, b""
    if JOB.calls:  # even when the submission swallowed the exception
        name, line = JOB.calls[0]
        return {"status": "forbidden", "call": name, "line": line}, b""
    if isinstance(out, torch.Tensor):
        named = [("", out)]
    elif isinstance(out, dict) and JOB.call == "keywords":
        named = list(out.items())[:framing.MAX_TENSORS]
    else:
        return {"status": "not_tensor", "type": type(out).__name__[:100]}, b""
    specs, chunks = [], []
    for key, value in named:
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            return {"status": "not_tensor", "type": type(value).__name__[:100],
                    "key": str(key)[:64]}, b""
        packed = tensor_bytes(torch, value)
        if isinstance(packed, dict):
            return {**packed, "key": key[:64]}, b""
        dtype, shape, data = packed
        specs.append({"name": key[:64], "dtype": dtype, "shape": shape})
        chunks.append(data)
    return {"status": "ok", "tensors": specs}, b"".join(chunks)


def serve(spec, fd):
    """Isolate this process, then load and run the submission; frames go to `fd`."""
    global JOB
    import torch

    JOB = Job(spec)
    os.environ["TMPDIR"] = JOB.policy.write or "/nonexistent"
    os.chdir(JOB.policy.write or "/")
    patch(JOB.forbid)
    protections = isolation.apply(JOB.policy)
    sys.dont_write_bytecode = True
    if JOB.audit:
        sys.addaudithook(refuse)
    framing.write(fd, {"event": "ready", "protections": protections.to_json()})
    function = load(fd)
    if function is None:
        return
    for index, case in enumerate(JOB.cases):
        framing.write(fd, {"event": "start", "case": index})
        meta, payload = run_case(torch, function, case)
        framing.write(fd, {"event": "result", "case": index, **meta}, payload)
    framing.write(fd, {"event": "done"})


def server(control: int):
    """A fork server: torch is imported once; each job (one JSON line on stdin) runs in a
    child forked from here and isolated after the fork. The child writes its frames on this
    process's stdout (the parent reads them there) and its prints to `output.txt` in its
    private directory. On `control` (which children close at once, so they cannot forge on
    it) this process reports `forked` with the child's pid, then `exit` with its wait status.
    One job at a time; the parent starts one server per parallel job."""
    import torch

    torch.set_num_threads(1)
    frames = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    framing.write(control, {"event": "server"})
    for line in sys.stdin.buffer:
        spec = json.loads(line)
        go_read, go_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.close(control)
                os.close(go_write)
                os.read(go_read, 1)  # wait until the parent knows this pid
                os.close(go_read)
                os.setsid()
                output = os.open(os.path.join(spec["policy"]["write"], "output.txt"),
                                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(output, 1)
                os.dup2(output, 2)
                os.close(output)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.close(devnull)
                serve(spec, frames)
            except BaseException:  # noqa: BLE001 - report on stderr, never return into the loop
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        os.close(go_read)
        framing.write(control, {"event": "forked", "pid": pid})
        os.write(go_write, b"x")
        os.close(go_write)
        _, status = os.waitpid(pid, 0)
        framing.write(control, {"event": "exit", "status": status})


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--server":
        server(int(sys.argv[2]))
        return
    spec = json.load(sys.stdin)
    fd = os.dup(1)
    os.dup2(2, 1)  # the submission's prints (and os.write(1, ...)) go to stderr
    sys.stdout = sys.stderr
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    import torch

    torch.set_num_threads(1)
    serve(spec, fd)


if __name__ == "__main__":
    main()
