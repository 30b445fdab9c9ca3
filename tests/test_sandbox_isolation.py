"""`gradcli.sandbox.isolation` and `framing` on their own: fast, no torch.

The probe script applies the isolation in a fresh Python process and tries what a hostile
submission would: everything it is allowed by file permissions (a world-readable secret, a
world-writable folder) must be refused by the sandbox. It runs as the current user, and, when
the tests run as root, once more as an unprivileged user (what users have: no capabilities).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from gradcli.sandbox import framing, isolation

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import ctypes, json, os, signal, socket, sys, threading
from gradcli.sandbox import isolation as I
outside, write_dir, parent = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = I.apply(I.Policy(read=I.standard_read_paths(), write=write_dir, memory_mb=256, cpu_seconds=20))
libc = ctypes.CDLL(None, use_errno=True)
def attempt(f):
    try:
        f()
        return "done"
    except (OSError, ValueError) as exc:
        return type(exc).__name__
def thread():
    t = threading.Thread(target=lambda: None); t.start(); t.join()
def c_call(result):
    if result == -1 or result == 127 << 8:
        raise OSError(ctypes.get_errno(), "refused")
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
out = {
    "protections": p.to_json(),
    "uid": os.getuid(), "capabilities": status["CapEff"].strip(),
    "thread": attempt(thread),
    "fork": attempt(os.fork),
    "ctypes fork": attempt(lambda: c_call(libc.fork())),
    "system": attempt(lambda: c_call(libc.system(f"touch {outside}/by_system".encode()))),
    "exec": attempt(lambda: os.execv("/bin/true", ["true"])),
    "read secret": attempt(lambda: open(f"{outside}/secret.txt").read()),
    "list outside": attempt(lambda: os.listdir(outside)),
    "write outside": attempt(lambda: open(f"{outside}/written", "w").write("x")),
    "unlink outside": attempt(lambda: os.unlink(f"{outside}/secret.txt")),
    "chmod outside": attempt(lambda: os.chmod(f"{outside}/secret.txt", 0o600)),
    "symlink outside": attempt(lambda: os.symlink("/etc/passwd", f"{outside}/link")),
    "write private": attempt(lambda: open(f"{write_dir}/ok", "w").write("x")),
    "udp": attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)),
    "unix": attempt(lambda: socket.socket(socket.AF_UNIX)),
    "kill parent": attempt(lambda: os.kill(parent, 0)),
    "ctypes kill parent": attempt(lambda: c_call(libc.kill(parent, signal.SIGSTOP))),
    "pidfd": attempt(lambda: os.pidfd_open(parent)),
    "kill self": attempt(lambda: os.kill(os.getpid(), 0)),
    "raise cpu limit": attempt(lambda: __import__("resource").setrlimit(
        __import__("resource").RLIMIT_CPU, (10**6, 10**6))),
    "read parent memory": attempt(lambda: open(f"/proc/{parent}/mem", "rb").read(1)),
    "read /proc/self": attempt(lambda: open("/proc/self/status").read()),
}
print(json.dumps(out))
"""

EXPECTED = {
    "thread": "done", "fork": "PermissionError", "ctypes fork": "PermissionError",
    "system": "PermissionError", "exec": "PermissionError", "read secret": "PermissionError",
    "list outside": "PermissionError", "write outside": "PermissionError",
    "unlink outside": "PermissionError", "chmod outside": "PermissionError",
    "symlink outside": "PermissionError", "write private": "done", "udp": "PermissionError",
    "unix": "PermissionError", "kill parent": "PermissionError",
    "ctypes kill parent": "PermissionError", "pidfd": "PermissionError", "kill self": "done",
    "raise cpu limit": "ValueError", "read parent memory": "PermissionError",
    "read /proc/self": "done",
}


def _pyseccomp_dir() -> str:
    import pyseccomp

    return str(Path(pyseccomp.__file__).parent)


def _probe(python: str, prefix: list[str], owner: tuple[int, int] | None, tmp: Path) -> dict:
    outside = tmp / "outside"
    outside.mkdir(mode=0o777)
    os.chmod(outside, 0o777)  # world-writable: only the sandbox stops the writes
    (outside / "secret.txt").write_text("SECRET")
    os.chmod(outside / "secret.txt", 0o666)
    private = tmp / "private"
    private.mkdir()
    if owner is not None:
        os.chown(private, *owner)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT}:{_pyseccomp_dir()}"}
    r = subprocess.run([*prefix, python, "-B", "-c", PROBE, str(outside),
                        str(private), str(os.getpid())], capture_output=True, text=True,
                       timeout=120, env=env, cwd="/")
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "SECRET"
    assert (outside / "secret.txt").stat().st_mode & 0o777 == 0o666
    return out


needs_all = pytest.mark.skipif(not isolation.probe().complete,
                               reason=f"a protection is missing here: {isolation.probe().report()}")


@needs_all
def test_isolation_refuses_what_file_permissions_would_allow(tmp_path):
    out = _probe(sys.executable, [], None, tmp_path)
    assert out["protections"]["complete"] is True, out["protections"]
    assert {k: out[k] for k in EXPECTED} == EXPECTED


def _unprivileged_python() -> tuple[str, tuple[int, int]] | None:
    """A Python and an unprivileged (uid, gid) that can run it, or None."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return None
    uid = gid = 65534  # nobody
    for python in (sys.executable, "/usr/bin/python3"):
        check = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                                python, "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True, timeout=60)
        if check.returncode == 0 and check.stdout.strip() == str(sys.version_info[:2]):
            return python, (uid, gid)
    return None


@needs_all
def test_isolation_holds_for_an_unprivileged_user(tmp_path):
    found = _unprivileged_python()
    if found is None:
        pytest.skip("needs root (to switch to an unprivileged user) and a Python that user can run")
    python, owner = found
    tmp = Path(tempfile.mkdtemp())
    os.chmod(tmp, 0o755)
    try:
        out = _probe(python, ["setpriv", f"--reuid={owner[0]}", f"--regid={owner[1]}",
                              "--clear-groups"], owner, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert (out["uid"], out["capabilities"]) == (owner[0], "0000000000000000")
    assert out["protections"]["complete"] is True, out["protections"]
    assert {k: out[k] for k in EXPECTED} == EXPECTED


def test_probe_names_every_protection_once():
    p = isolation.probe()
    names = list(p.active) + [name for name, _ in p.missing]
    assert sorted(names) == sorted(isolation.PROTECTIONS)


def test_a_missing_protection_is_reported_with_its_reason():
    p = isolation.Protections(active=("rlimits",), missing=(("seccomp", "no libseccomp"),))
    assert not p.complete
    assert p.report() == "rlimits: active; seccomp: MISSING (no libseccomp)"
    assert p.to_json()["missing"] == {"seccomp": "no libseccomp"}


# -- framing ----------------------------------------------------------------------------------


def _read_all(data: bytes) -> list:
    r, w = os.pipe()
    os.write(w, data)
    os.close(w)
    reader = framing.Reader(r)
    out = []
    try:
        while True:
            frame = reader.next(time.monotonic() + 30)
            if frame is None:
                return out
            out.append(frame)
    finally:
        reader.close()
        os.close(r)


def test_a_frame_round_trips_with_its_tensors():
    payload = struct.pack("<3d", 1.0, 2.0, 3.0)
    [frame] = _read_all(framing.encode(
        {"event": "result", "case": 0, "status": "ok",
         "tensors": [{"name": "", "dtype": "float64", "shape": [3]}]}, payload))
    [(name, raw)] = framing.tensors(frame).items()
    assert (name, raw.dtype, raw.shape, raw.data) == ("", "float64", (3,), payload)


@pytest.mark.parametrize("data, message", [
    (b'{"event": "case", "case": 0}\n', "not a frame (bad magic bytes)"),
    (framing.HEADER.pack(framing.MAGIC, 10**6, 0), "over the limit"),
    (framing.HEADER.pack(framing.MAGIC, 4, 0) + b"[1]x", "not JSON"),
    (framing.HEADER.pack(framing.MAGIC, 2, 0) + b"[]", "not an object with an event name"),
    (framing.HEADER.pack(framing.MAGIC, 20, 0) + b'{"event": "x"', "ended inside a frame"),
    (framing.encode({"event": "x", "v": 1})[:-3].replace(b"1", b"N") + b"NaN}", "not JSON"),
    (framing.HEADER.pack(framing.MAGIC, 60000, 0) + b"[" * 60000, "not JSON (RecursionError)"),
])
def test_malformed_bytes_are_refused_with_a_reason(data, message):
    with pytest.raises(framing.Malformed, match=re.escape(message)):
        _read_all(data)


@pytest.mark.parametrize("tensors, payload, message", [
    ([{"name": "", "dtype": "complex128", "shape": [1]}], b"\0" * 16, "dtype"),
    ([{"name": "", "dtype": "float64", "shape": [2]}], b"\0" * 8, "shorter"),
    ([{"name": "", "dtype": "float64", "shape": [1]}], b"\0" * 16, "longer"),
    ([{"name": "", "dtype": "float64", "shape": [1.5]}], b"\0" * 8, "shape"),
    ([{"name": "", "dtype": "float64", "shape": [10**6, 10**6]}], b"", "over the limit"),
    ([{"name": "a", "dtype": "float64", "shape": []}] * 2, b"\0" * 16, "repeats"),
    ([], b"", "1 to"),
])
def test_tensor_descriptions_must_match_the_payload(tensors, payload, message):
    frame = framing.Frame({"event": "result", "tensors": tensors}, payload)
    with pytest.raises(framing.Malformed, match=message):
        framing.tensors(frame)


@pytest.mark.parametrize("value", ["0", 1.5, True, None, -1, 2**40])
def test_a_case_index_must_be_a_small_integer(value):
    with pytest.raises(framing.Malformed, match="'case' is not an integer"):
        framing.integer({"case": value}, "case")


def test_child_text_is_one_escaped_truncated_line():
    text = framing.text("a\nPASSED: 7 of 7\r\x1b[2K\u202e" + "x" * 1000, 60)
    assert "\n" not in text and "\r" not in text and "\x1b" not in text and "\u202e" not in text
    assert text.startswith("a\\nPASSED: 7 of 7\\r\\x1b[2K\\u202e")
    assert len(text) == 60 and text.endswith("…")
    assert framing.name({"error": "PASSED: 7"}, "error") == "<odd name PASSED: 7>"
    assert framing.name({"error": "ValueError"}, "error") == "ValueError"
