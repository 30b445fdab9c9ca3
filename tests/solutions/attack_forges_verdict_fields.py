"""Writes a complete, well-formed forged transcript whose frames say 'passed' in every way a
header could (verdict, passed, max_abs_error 0) but carry X*0, then exits before the runner
can answer: the parent ignores the claims and judges the values."""
import json
import os
import struct
import sys

import torch


def frame(meta, payload=b""):
    body = json.dumps(meta).encode()
    return struct.pack(">4sII", b"GC\x01\x00", len(body), len(payload)) + body + payload


def normalize_tensor(X):
    out = b""
    for index, case in enumerate(sys.modules["__main__"].JOB.cases):
        zeros = torch.zeros_like(torch.tensor(case["inputs"]["X"], dtype=torch.float64))
        if index:
            out += frame({"event": "start", "case": index})
        out += frame({"event": "result", "case": index, "status": "ok", "verdict": "passed",
                      "passed": True, "max_abs_error": 0.0,
                      "tensors": [{"name": "", "dtype": "float64", "shape": list(zeros.shape)}]},
                     zeros.numpy().tobytes())
    out += frame({"event": "done", "passed": True})
    for fd in range(3, 12):
        try:
            os.write(fd, out)
        except OSError:
            pass
    os._exit(0)
