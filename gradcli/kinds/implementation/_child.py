"""The child process that runs a user's solution: the only place gradcli runs user code.

Started by `gradcli.kinds.implementation.sandbox` as `python -I <this file>` (isolated mode: no
PYTHONPATH, no user site-packages, the script's directory not on sys.path). It imports
nothing from gradcli, so it stays small and independent of the parent's state.

Protocol: one JSON job on stdin; JSON lines on the original stdout, one per event
(`ready`, `loaded` / `load_failed` / `no_function`, then `start` and `case` per case, `done`).
The parent restarts its clock at every event, so its time limit applies to loading the file
and to each case separately, never to torch's own import. The user's prints go to stderr,
so they cannot corrupt the protocol.

Limits are set here, after torch is imported (torch alone maps ~600 MB of address space):
RLIMIT_AS caps what the solution may add, RLIMIT_CPU is a backstop for the parent's wall
clock. Forbidden functions are replaced by wrappers that raise `ForbiddenCall` when called
from the solution file; calls made by library code (torch calling itself) pass through.

Before the solution is loaded, an audit hook (which nothing can remove) refuses what no
exercise needs: starting or signalling processes, sockets, and opening files for writing.
Without it a solution could fork a daemon that outlives gradcli (`setsid` escapes the process
group the parent kills), kill the parent, or write files. The hook refuses these whoever
asks, since a solution can run code under another file name (`exec`); the runner itself does
none of them once the hook is in place. It is no security boundary against a determined
attacker (Python's audit hooks are not), but it stops every escape we know of in the way.
"""

import importlib.machinery
import importlib.util
import json
import os
import resource
import sys
import traceback

MAX_OUTPUT_ENTRIES = 1_000_000
MAX_FILE_BYTES = 64 * 2**20  # what the solution may print (to a temporary file) or write


class ForbiddenCall(BaseException):  # noqa: N818 - BaseException: `except Exception` cannot hide it
    """Raised when the solution calls a forbidden function."""


class Job:
    def __init__(self, spec):
        self.path = os.path.realpath(spec["solution"])
        self.function = spec["function"]
        self.forbid = spec["forbid"]
        self.cases = spec["cases"]
        self.args = spec["args"]
        self.memory_mb = spec["memory_mb"]
        self.cpu_seconds = spec["cpu_seconds"]
        self.calls = []  # forbidden calls made by the solution: (name, line)


def emit(stream, **event):
    stream.write(json.dumps(event) + "\n")
    stream.flush()


def user_line(tb):
    """The last line of the solution file in a traceback: (line, source text)."""
    found = (None, "")
    for frame in traceback.extract_tb(tb):
        if os.path.realpath(frame.filename) == JOB.path:
            found = (frame.lineno, (frame.line or "").strip())
    return found


def caller_line():
    """The line of the solution that made the current call, or None for library code."""
    frame = sys._getframe(2)
    if frame is not None and os.path.realpath(frame.f_code.co_filename) == JOB.path:
        return frame.f_lineno
    return None


# Audit events refused once the solution is loaded, and what they would do.
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
    """The audit hook: the first refused event becomes a forbidden call at the solution's line."""
    what = REFUSED.get(event)
    if what is None and event == "open" and len(args) >= 3:
        mode, flags = args[1], args[2]
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & WRITE_FLAGS):
            what = "open a file for writing"
    if what is None:
        return
    JOB.calls.append((f"{event} (a solution may not {what})", solution_line()))
    raise ForbiddenCall(f"{event} is not allowed: a solution may not {what}")


def solution_line():
    """The innermost line of the solution file on the stack, if any."""
    frame = sys._getframe(1)
    while frame is not None:
        if os.path.realpath(frame.f_code.co_filename) == JOB.path:
            return frame.f_lineno
        frame = frame.f_back
    return None


def guard(name, original):
    def forbidden(*args, **kwargs):
        line = caller_line()
        if line is None:
            return original(*args, **kwargs)
        JOB.calls.append((name, line))
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
            try:  # e.g. numpy: patch it only if the solution could import it
                importlib.import_module(module)
            except ImportError:
                continue
        targets = [dotted, f"{module}.Tensor.{dotted.rsplit('.', 1)[1]}",
                   f"{module}.ndarray.{dotted.rsplit('.', 1)[1]}"]
        for target in targets:
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
                pass  # a C type that refuses (numpy.ndarray): the static check still sees it


def limit(memory_mb, cpu_seconds):
    with open("/proc/self/status") as status:
        vm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    cap = vm_kb * 1024 + memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime + cpu_seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))


def describe_exception(exc):
    line, source = user_line(exc.__traceback__)
    message = str(exc)
    if len(message) > 500:
        message = message[:500] + "…"
    return {"error": type(exc).__name__, "message": message, "line": line, "source": source}


def load(proto):
    # Any file name, not only *.py: the loader is chosen explicitly.
    loader = importlib.machinery.SourceFileLoader("solution", JOB.path)
    spec = importlib.util.spec_from_loader("solution", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["solution"] = module
    try:
        spec.loader.exec_module(module)
    except ForbiddenCall:
        name, line = JOB.calls[-1]
        emit(proto, event="load_failed", status="forbidden", call=name, line=line)
        return None
    except BaseException as exc:  # the user's code failed while loading; report, never crash
        emit(proto, event="load_failed", status="error", **describe_exception(exc))
        return None
    function = getattr(module, JOB.function, None)
    if not callable(function):
        emit(proto, event="no_function", found=type(function).__name__ if function is not None else None)
        return None
    emit(proto, event="loaded")
    return function


def run_case(torch, function, case):
    args = [torch.tensor(case["inputs"][name], dtype=torch.float64) for name in JOB.args]
    JOB.calls.clear()
    try:
        out = function(*args)
    except ForbiddenCall:
        out = None
    except BaseException as exc:  # the user's exception is the verdict, with its message and line
        if not JOB.calls:
            return {"status": "error", **describe_exception(exc)}
    if JOB.calls:  # even when the solution swallowed the exception
        name, line = JOB.calls[0]
        return {"status": "forbidden", "call": name, "line": line}
    if not isinstance(out, torch.Tensor):
        return {"status": "not_tensor", "type": type(out).__name__}
    if out.is_complex():  # converting to float64 would drop the imaginary part
        return {"status": "complex", "dtype": str(out.dtype).replace("torch.", "")}
    if out.numel() > MAX_OUTPUT_ENTRIES:
        return {"status": "too_large", "shape": list(out.shape)}
    return {"status": "ok", "shape": list(out.shape), "dtype": str(out.dtype).replace("torch.", ""),
            "values": out.detach().to("cpu", torch.float64).tolist()}


def main():
    global JOB
    JOB = Job(json.load(sys.stdin))
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the solution's prints (and os.write(1, ...)) go to stderr
    sys.stdout = sys.stderr
    import torch

    torch.set_num_threads(1)
    patch(JOB.forbid)
    limit(JOB.memory_mb, JOB.cpu_seconds)
    sys.dont_write_bytecode = True  # loading the solution must not write its .pyc
    sys.addaudithook(refuse)
    emit(proto, event="ready")
    function = load(proto)
    if function is None:
        return
    for index, case in enumerate(JOB.cases):
        emit(proto, event="start", case=index)
        emit(proto, event="case", case=index, **run_case(torch, function, case))
    emit(proto, event="done")


JOB = None

if __name__ == "__main__":
    main()
