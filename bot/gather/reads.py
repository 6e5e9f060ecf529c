"""Reads for one answer, run in parallel: a failure is noted under "could not check", never raised, so the
answer goes on with what could be read. Under a command deadline (bot/deadline.py) a read not back in time is
noted the same way ("no answer within N s") and the answer goes on without it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Any, TypeVar

from bot import deadline as deadlines
from bot.domain.facts import Unchecked
from bot.errors import UpstreamError

log = logging.getLogger("cnibot.gather")
T = TypeVar("T")


@contextmanager
def reads_pool(max_workers: int, prefix: str) -> Iterator[ThreadPoolExecutor]:
    """The pool of one answer's reads. Under a deadline it is not waited for at the end: a read still hanging
    then has already been given up, and finishes (or times out) on its own."""
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=prefix)
    try:
        yield pool
    finally:
        pool.shutdown(wait=deadlines.current() is None, cancel_futures=deadlines.current() is not None)


class _Read(Future[Any]):
    """A read's future whose result() waits no longer than the command's deadline allows."""

    def __init__(self, reads: Reads, what: str) -> None:
        super().__init__()
        self._reads = reads
        self._what = what

    def result(self, timeout: float | None = None) -> Any:
        limit = self._reads.deadline
        if timeout is None and limit is not None:
            timeout = limit.reads_remaining()
        try:
            return super().result(timeout)
        except FutureTimeout:
            if limit is None:
                raise
            self._reads.late(self._what, limit.seconds)
            return None


class Reads:
    def __init__(
        self,
        pool: ThreadPoolExecutor,
        checked: list[str],
        could_not_check: list[Unchecked],
        seconds: dict[str, float] | None = None,
    ) -> None:
        self.pool = pool
        self._checked = checked
        self._could_not_check = could_not_check
        self._seconds = seconds
        # Taken here, in the command's thread: the pool's threads do not see its context.
        self.deadline = deadlines.current()
        self._lock = threading.Lock()
        self._late: set[str] = set()

    def attempt(self, what: str, fn: Callable[[], T]) -> T | None:
        """Run one read now; on failure note what could not be checked and carry on with None."""
        started = time.perf_counter()
        if self.deadline is not None:
            self.deadline.started(what)
        try:
            value = fn()
        except UpstreamError as exc:
            self._note(what, Unchecked(what, exc.api, exc.reason))
            return None
        except Exception as exc:  # a bug in one read must not lose the whole answer
            log.exception("gathering %s failed", what)
            self._note(what, Unchecked(what, "cnibot", f"internal error ({type(exc).__name__})"))
            return None
        finally:
            if self.deadline is not None:
                self.deadline.finished(what)
            if self._seconds is not None:
                self._seconds[what] = round(time.perf_counter() - started, 3)
        with self._lock:
            if what not in self._late:
                self._checked.append(what)
        return value

    def later(self, what: str, fn: Callable[[], T]) -> Future[T | None]:
        """Start one read on the pool."""
        future = _Read(self, what)

        def run() -> None:
            if future.set_running_or_notify_cancel():
                future.set_result(self.attempt(what, fn))

        self.pool.submit(run)
        return future

    def late(self, what: str, seconds: float) -> None:
        """A read not back by the deadline: the answer goes on without it."""
        with self._lock:
            if what in self._late:
                return
            self._late.add(what)
        self._could_not_check.append(Unchecked(what, "deadline", f"no answer within {seconds:g} s"))

    def _note(self, what: str, unchecked: Unchecked) -> None:
        with self._lock:
            if what not in self._late:
                self._could_not_check.append(unchecked)
