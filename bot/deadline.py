"""A command's deadline: when it must answer with what it has, and which reads were still out by then.

The runner opens a deadline around each command; the parallel reads (bot/gather/reads.py) take it when they
are made, stop waiting for a read once it has passed, and say what they could not check.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

DEFAULT_SECONDS = 20.0
# Reads give up this much before the command's deadline, so rendering the partial answer still fits in it.
MARGIN_SECONDS = 2.0


@dataclass
class Deadline:
    at: float  # time.monotonic()
    seconds: float
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pending: dict[str, int] = field(default_factory=dict)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def reads_remaining(self) -> float:
        """How long a read may still be waited for."""
        margin = min(MARGIN_SECONDS, self.seconds / 4)
        return max(0.0, self.at - margin - time.monotonic())

    def started(self, what: str) -> None:
        with self._lock:
            self._pending[what] = self._pending.get(what, 0) + 1

    def finished(self, what: str) -> None:
        with self._lock:
            left = self._pending.get(what, 0) - 1
            if left > 0:
                self._pending[what] = left
            else:
                self._pending.pop(what, None)

    def pending(self) -> list[str]:
        with self._lock:
            return sorted(self._pending)


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("cnibot_deadline", default=None)


def current() -> Deadline | None:
    return _current.get()


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    limit = Deadline(time.monotonic() + seconds, seconds)
    token = _current.set(limit)
    try:
        yield limit
    finally:
        _current.reset(token)
