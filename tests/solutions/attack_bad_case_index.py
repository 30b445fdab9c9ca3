"""Writes forged frames whose case index is not an integer (once made gradcli exit 3)."""
import json
import os
import struct


def frame(meta, payload=b""):
    body = json.dumps(meta).encode()
    return struct.pack(">4sII", b"GC\x01\x00", len(body), len(payload)) + body + payload


def normalize_tensor(X):
    forged = frame({"event": "result", "case": "0", "status": "ok", "tensors": []})
    forged += frame({"event": "start", "case": 1.5}) + b'{"event": "case", "case": "x"}\n'
    for fd in range(3, 12):
        try:
            os.write(fd, forged)
        except OSError:
            pass
    return X * 0
