"""The one channel from a sandboxed child to its parent: length-prefixed frames, validated.

The child runs hostile code in its own address space, so everything it sends may be forged:
the parent reads each frame with bounded sizes and a deadline, checks its type and every
field, and turns anything else into `Malformed` (the caller makes that a failed case, never a
crash). Frames carry raw results only (dtype, shape and bytes of each tensor): the parent
compares them with what it expects; the child never says whether it passed.

A frame is `GC` + 1 byte version + 1 byte 0, then the lengths of the JSON header and of the
binary payload (unsigned 32-bit, big-endian), the UTF-8 JSON header (an object with a string
`event`) and the payload.

Child text (exception messages, type names, source lines) is cut to a few hundred characters
and escaped to one printable line by `text()`, so it can never look like a line gradcli
prints (such as a verdict).
"""

from __future__ import annotations

import json
import math
import os
import selectors
import struct
import time
from dataclasses import dataclass

MAGIC = b"GC\x01\x00"
HEADER = struct.Struct(">4sII")
MAX_META_BYTES = 64 * 1024
MAX_PAYLOAD_BYTES = 64 * 2**20
MAX_DIMS = 8
MAX_ENTRIES = 1_000_000  # per tensor
MAX_TENSORS = 64  # per result
MAX_TEXT = 300

# dtype name -> bytes per entry; what a result may be made of (no complex, no objects).
DTYPES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int64": 8, "int32": 4,
          "int16": 2, "int8": 1, "uint8": 1, "bool": 1}


class Malformed(Exception):
    """A frame or a field that breaks the protocol (its message says how)."""


@dataclass(frozen=True)
class Frame:
    meta: dict
    payload: bytes = b""

    @property
    def event(self) -> str:
        return self.meta["event"]


@dataclass(frozen=True)
class RawTensor:
    """A tensor as the child sent it: validated dtype and shape, and exactly its bytes."""

    dtype: str
    shape: tuple[int, ...]
    data: bytes

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


def encode(meta: dict, payload: bytes = b"") -> bytes:
    body = json.dumps(meta, ensure_ascii=True, allow_nan=False).encode()
    return HEADER.pack(MAGIC, len(body), len(payload)) + body + payload


def write(fd: int, meta: dict, payload: bytes = b"") -> None:
    """Write one frame to `fd` whole (the child side)."""
    view = memoryview(encode(meta, payload))
    while view:
        view = view[os.write(fd, view):]


class Reader:
    """Frames from a pipe, each within a deadline; sizes are checked before reading."""

    def __init__(self, fd: int, ended_fd: int | None = None):
        """`ended_fd`: a descriptor that becomes readable when the writer is gone (a fork
        server's control pipe, where the frames' pipe itself never reaches end of stream):
        when it is readable and `fd` is not, the stream has ended."""
        self.fd = fd
        self.ended_fd = ended_fd
        self.buffer = bytearray()
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ)
        if ended_fd is not None:
            self.selector.register(ended_fd, selectors.EVENT_READ)

    def close(self) -> None:
        self.selector.close()

    def drain(self) -> None:
        """Discard whatever is buffered or waiting in the pipe (a finished writer's leftovers)."""
        self.buffer.clear()
        while self.selector.select(0) and any(key.fd == self.fd for key, _ in self.selector.select(0)):
            if not os.read(self.fd, 1 << 20):
                return

    def _fill(self, n: int, deadline: float) -> bool:
        """Buffer at least n bytes; False at end of stream. TimeoutError at the deadline."""
        while len(self.buffer) < n:
            left = deadline - time.monotonic()
            ready = self.selector.select(left) if left > 0 else []
            if not ready:
                raise TimeoutError
            if all(key.fd != self.fd for key, _ in ready):
                return False  # the writer is gone and left nothing unread
            chunk = os.read(self.fd, min(1 << 20, max(n - len(self.buffer), 1 << 16)))
            if not chunk:
                return False
            self.buffer += chunk
        return True

    def next(self, deadline: float) -> Frame | None:
        """The next frame; None at a clean end of stream; raises Malformed or TimeoutError."""
        if not self._fill(HEADER.size, deadline):
            if self.buffer:
                raise Malformed("the stream ended inside a frame header")
            return None
        magic, meta_len, payload_len = HEADER.unpack(bytes(self.buffer[:HEADER.size]))
        if magic != MAGIC:
            raise Malformed("not a frame (bad magic bytes)")
        if meta_len > MAX_META_BYTES or payload_len > MAX_PAYLOAD_BYTES:
            raise Malformed(f"a frame of {meta_len} + {payload_len} bytes is over the limit")
        total = HEADER.size + meta_len + payload_len
        if not self._fill(total, deadline):
            raise Malformed("the stream ended inside a frame")
        body = bytes(self.buffer[HEADER.size:HEADER.size + meta_len])
        payload = bytes(self.buffer[HEADER.size + meta_len:total])
        del self.buffer[:total]
        try:
            meta = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # deep nesting too
            raise Malformed(f"a frame header is not JSON ({exc.__class__.__name__})") from None
        if not isinstance(meta, dict) or not isinstance(meta.get("event"), str):
            raise Malformed("a frame header is not an object with an event name")
        return Frame(meta, payload)


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


# -- field validation (the parent side) -----------------------------------------------------


def integer(meta: dict, key: str, *, low: int = 0, high: int = 2**31, optional: bool = False):
    value = meta.get(key)
    if value is None and optional:
        return None
    if type(value) is not int or not low <= value <= high:
        raise Malformed(f"field {key!r} is not an integer in [{low}, {high}]: {text(repr(value), 40)}")
    return value


def string(meta: dict, key: str, *, limit: int = MAX_TEXT, optional: bool = True) -> str:
    value = meta.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise Malformed(f"field {key!r} is not text")
    return text(value, limit)


def name(meta: dict, key: str) -> str:
    """An identifier such as an exception's type name; anything else is shown as escaped text."""
    value = meta.get(key)
    if isinstance(value, str) and value.isidentifier() and len(value) <= 64 and value.isascii():
        return value
    return "<unnamed>" if value is None else f"<odd name {text(str(value), 40)}>"


def text(value: str, limit: int = MAX_TEXT) -> str:
    """One printable line: control and non-ASCII-space characters escaped, at most `limit`."""
    out = []
    for ch in value:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or 0x7F <= code < 0xA0 or ch in "\u2028\u2029\u200b\u200e\u200f\ufeff" \
                or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{code:02x}" if code < 0x100
                                                                   else f"\\u{code:04x}"))
        else:
            out.append(ch)
        if len(out) > limit:
            break
    line = "".join(out)
    return line if len(line) <= limit else line[:limit - 1] + "…"


def tensors(frame: Frame) -> dict[str, RawTensor]:
    """The tensors of a result frame: meta `tensors` = [{name, dtype, shape}] in payload order."""
    specs = frame.meta.get("tensors")
    if not isinstance(specs, list) or not 1 <= len(specs) <= MAX_TENSORS:
        raise Malformed(f"a result must list 1 to {MAX_TENSORS} tensors")
    out: dict[str, RawTensor] = {}
    offset = 0
    for spec in specs:
        if not isinstance(spec, dict):
            raise Malformed("a tensor description is not an object")
        key = spec.get("name")
        if not isinstance(key, str) or len(key) > 64 or key in out:
            raise Malformed("a tensor's name is not text of at most 64 characters, or repeats")
        dtype = spec.get("dtype")
        if dtype not in DTYPES:
            raise Malformed(f"a tensor's dtype is not one of {', '.join(DTYPES)}")
        shape = spec.get("shape")
        if (not isinstance(shape, list) or len(shape) > MAX_DIMS
                or any(type(n) is not int or not 0 <= n <= MAX_ENTRIES for n in shape)):
            raise Malformed(f"a tensor's shape is not a list of at most {MAX_DIMS} sizes")
        numel = math.prod(shape)
        if numel > MAX_ENTRIES:
            raise Malformed(f"a tensor of {numel} entries is over the limit of {MAX_ENTRIES}")
        size = numel * DTYPES[dtype]
        if offset + size > len(frame.payload):
            raise Malformed("the payload is shorter than the tensors it describes")
        out[key] = RawTensor(dtype, tuple(shape), frame.payload[offset:offset + size])
        offset += size
    if offset != len(frame.payload):
        raise Malformed("the payload is longer than the tensors it describes")
    return out


def to_torch(raw: RawTensor):
    """The tensor itself, in the dtype the child gave (torch is imported here, lazily)."""
    import torch

    dtype = getattr(torch, raw.dtype)
    if raw.numel == 0:
        return torch.empty(raw.shape, dtype=dtype)
    return torch.frombuffer(bytearray(raw.data), dtype=dtype).reshape(raw.shape).clone()
