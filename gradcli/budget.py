"""Time budgets for symbolic work that can blow up (simplify, equivalence proofs).

SymPy is pure Python, so a SIGALRM timer interrupts it cleanly between bytecodes; the caller
catches `OverBudget` and falls back (shows the unsimplified form and says so). Signals only
work in the main thread: elsewhere (a library user's worker thread) the work runs unbounded
but the size limits checked before it still apply.

The timer repeats until the block ends: Python drops an exception raised while it runs a
garbage-collector callback (hypothesis installs one), so a single alarm could be swallowed and
the work would run unbounded. Each later alarm raises again until one lands in the work itself.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

REPEAT = 0.05  # seconds between alarms once the budget is spent


class OverBudget(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    usable = (hasattr(signal, "setitimer") and
              threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    ended = [False]

    def expire(signum, frame):
        if not ended[0]:
            raise OverBudget(f"over the {seconds:g} s budget")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT)
    try:
        yield
    finally:
        ended[0] = True  # an alarm between here and the reset must not raise in the caller's handler
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
