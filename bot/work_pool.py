"""Command work after the ack: a fixed set of threads behind a bounded queue.

Acks never wait here. Bolt acks on the request's own thread, and what takes longer (a command's answer, a
click's decision, a form's request) is handed to this pool. When threads and queue are all taken the
request is refused at once, so the ack can say "busy, try again" instead of Slack timing out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger("cnibot.work")


class WorkPool:
    def __init__(self, threads: int, queue: int) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="cni-work")
        self._slots = threading.BoundedSemaphore(threads + queue)  # running + waiting

    def try_submit(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run `fn(*args)` on the pool; False (and nothing runs) when the pool is full."""
        if not self._slots.acquire(blocking=False):
            return False
        try:
            future = self._executor.submit(self._run, fn, *args)
        except RuntimeError:  # shutting down: no new work
            self._slots.release()
            return False
        future.add_done_callback(self._done)
        return True

    @staticmethod
    def _run(fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("command work failed after its ack")

    def _done(self, _: Future[None]) -> None:
        self._slots.release()

    def shutdown(self, wait: bool = True) -> None:
        """Queued work still runs: every request in it was acked, so someone is waiting for its answer."""
        self._executor.shutdown(wait=wait, cancel_futures=False)
