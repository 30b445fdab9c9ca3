"""`gradcli.sandbox.process`: the generic runner API (keyword calls returning a dict of
tensors, as backward-code exercises need) and the fork server across jobs."""

from __future__ import annotations

import struct

import pytest

from gradcli.sandbox import framing, isolation, process

pytestmark = pytest.mark.skipif(not isolation.probe().complete,
                                reason=f"a protection is missing here: {isolation.probe().report()}")


def job(path, function, cases, *, call="keywords", args=("x", "W")):
    return {"solution": str(path), "function": function, "call": call, "args": list(args),
            "cases": cases, "forbid": [], "audit": False,
            "policy": {"read": list(isolation.standard_read_paths()), "write": None,
                       "memory_mb": 512, "cpu_seconds": 30}}


CASES = [{"inputs": {"x": [1.0, 2.0], "W": [[1.0, 2.0], [3.0, 4.0]]}},
         {"inputs": {"x": [0.5, -1.0], "W": [[0.0, 1.0], [1.0, 0.0]]}}]


def test_a_keyword_call_returning_a_dict_of_tensors_comes_back_as_raw_tensors(tmp_path):
    path = tmp_path / "backward.py"
    path.write_text("import torch\n\ndef backward(x, W):\n"
                    "    return {'W': torch.outer(W @ x, x), 'x': (W.T @ x).float(), 'n': torch.tensor(3)}\n")
    t = process.run(job(path, "backward", CASES), timeout=20)
    assert t.protections.complete and t.stopped is None
    meta, tensors = t.results[0]
    assert meta == {"status": "ok"} and list(tensors) == ["W", "x", "n"]
    assert (tensors["W"].dtype, tensors["W"].shape) == ("float64", (2, 2))
    assert struct.unpack("<4d", tensors["W"].data) == (5.0, 10.0, 11.0, 22.0)  # (Wx) xᵀ
    assert (tensors["x"].dtype, struct.unpack("<2f", tensors["x"].data)) == ("float32", (7.0, 10.0))  # Wᵀx
    assert (tensors["n"].dtype, tensors["n"].shape, framing.to_torch(tensors["n"]).item()) == ("int64", (), 3)


def test_a_dict_with_a_non_tensor_value_is_reported_with_its_key(tmp_path):
    path = tmp_path / "backward.py"
    path.write_text("def backward(x, W):\n    return {'W': W, 'x': [1, 2]}\n")
    t = process.run(job(path, "backward", CASES[:1]), timeout=20)
    assert t.results[0][0] == {"status": "not_tensor", "type": "list", "dtype": "", "key": "x"}


def test_the_fork_server_runs_jobs_in_turn_after_a_crash_a_timeout_and_a_forger(tmp_path):
    good = tmp_path / "good.py"
    good.write_text("def backward(x, W):\n    return {'W': W * 2}\n")
    crash = tmp_path / "crash.py"
    crash.write_text("import os\n\ndef backward(x, W):\n    os._exit(5)\n")
    slow = tmp_path / "slow.py"
    slow.write_text("def backward(x, W):\n    while True:\n        pass\n")
    forger = tmp_path / "forger.py"  # leaves well-formed frames behind for the next job
    forger.write_text(
        "import json, os, struct\n\ndef frame(m):\n    b = json.dumps(m).encode()\n"
        "    return struct.pack('>4sII', b'GC\\x01\\x00', len(b), 0) + b\n\n"
        "def backward(x, W):\n    junk = frame({'event': 'ready', 'protections': {}})\n"
        "    junk += frame({'event': 'loaded'}) + frame({'event': 'done'})\n"
        "    for fd in range(3, 12):\n        try:\n            os.write(fd, junk * 50)\n"
        "        except OSError:\n            pass\n    os._exit(0)\n")
    with process.Server() as server:
        runs = [server.run(job(p, "backward", CASES), timeout=2)
                for p in (good, crash, good, slow, good, forger, good)]
    ok = {"W": (2.0, 4.0, 6.0, 8.0)}
    for t in runs[0], runs[2], runs[4], runs[6]:
        assert t.stopped is None and len(t.results) == 2
        assert struct.unpack("<4d", t.results[0][1]["W"].data) == ok["W"]
        assert t.protections.complete
    assert runs[1].stopped["reason"] == "crash" and runs[1].stopped["exit"] == "exited with status 5"
    assert runs[3].stopped["reason"] == "timeout"
    assert runs[5].stopped["reason"] == "malformed"
    assert "expected 'result', got 'ready'" in runs[5].stopped["detail"]


def test_inside_shared_server_every_run_is_a_child_of_one_server_closed_at_the_end(tmp_path, monkeypatch):
    """`check problems/` (q1, q2): one Python start and torch import for all runs of a block."""
    path = tmp_path / "double.py"
    path.write_text("def backward(x, W):\n    return {'W': W * 2}\n")
    started = []
    popen = process.subprocess.Popen

    def counting(*args, **kwargs):
        started.append(args[0])
        return popen(*args, **kwargs)

    monkeypatch.setattr(process.subprocess, "Popen", counting)
    with process.shared_server() as server:
        runs = [process.run(job(path, "backward", CASES), timeout=20) for _ in range(3)]
    assert len(started) == 1 and "--server" in started[0]
    assert server.proc.returncode is not None  # stopped when the block ends
    for t in runs:
        assert t.stopped is None and t.protections.complete
        assert struct.unpack("<4d", t.results[0][1]["W"].data) == (2.0, 4.0, 6.0, 8.0)
    process.run(job(path, "backward", CASES[:1]), timeout=20)  # after the block: a fresh runner
    assert len(started) == 2 and "--server" not in started[1]
