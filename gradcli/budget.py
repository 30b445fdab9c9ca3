"""Time budgets for symbolic work that can blow up (simplify, equivalence proofs).

SymPy is pure Python, so a SIGALRM timer interrupts it cleanly between bytecodes; the caller
catches `OverBudget` and falls back (shows the unsimplified form and says so). Signals only
work in the main thread: elsewhere (a library user's worker thread) the work runs unbounded
but the size limits checked before it still apply.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class OverBudget(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    usable = (hasattr(signal, "setitimer") and
              threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise OverBudget(f"over the {seconds:g} s budget")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
