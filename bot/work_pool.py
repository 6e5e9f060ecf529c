"""Command work after the ack: a fixed set of threads behind a bounded queue.

Acks never wait here. Bolt acks on the request's own thread, and what takes longer (a command's answer, a
click's decision, a form's request) is handed to this pool. When threads and queue are all taken the
request is refused at once, so the ack can say "busy, try again" instead of Slack timing out.

Acks also come first for the CPU: the work is Python and shares the interpreter lock with the ack path, so a
burst of commands would slow each other's acks. Work waits to start until no ack has been served for
QUIET_SECONDS (a burst's requests do not all arrive at once), at most ACK_PRIORITY_SECONDS, so that a
steady stream of requests cannot hold it back for long. A request that comes alone (no other ack in the
QUIET_SECONDS before it, none while it is acked, none arriving before its work starts) starts at once: every
answer used to pay the 50 ms, a third of a one-call diagnosis (bench/why_pending.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("cnibot.work")

ACK_PRIORITY_SECONDS = 1.0
QUIET_SECONDS = 0.05


class WorkPool:
    def __init__(self, threads: int, queue: int) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="cni-work")
        self._slots = threading.BoundedSemaphore(threads + queue)  # running + waiting
        self._acking = 0
        self._arrivals = 0  # requests that entered the ack path, ever
        self._last_ack = -QUIET_SECONDS  # monotonic
        self._quiet = threading.Condition()

    @contextmanager
    def serving_ack(self) -> Iterator[None]:
        """Around the handling of one Slack request, from its arrival to its ack."""
        with self._quiet:
            self._acking += 1
            self._arrivals += 1
        try:
            yield
        finally:
            with self._quiet:
                self._acking -= 1
                self._last_ack = time.monotonic()
                self._quiet.notify_all()

    def try_submit(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run `fn(*args)` on the pool; False (and nothing runs) when the pool is full."""
        if not self._slots.acquire(blocking=False):
            return False
        with self._quiet:
            # Alone: at most the handing request's own ack in progress (a scheduled job's has none), and no other
            # ack finished in the last QUIET_SECONDS. `arrivals` tells later whether another came since.
            alone = self._acking <= 1 and time.monotonic() - self._last_ack >= QUIET_SECONDS
            arrivals = self._arrivals
        try:
            future = self._executor.submit(self._run, alone, arrivals, fn, *args)
        except RuntimeError:  # shutting down: no new work
            self._slots.release()
            return False
        future.add_done_callback(self._done)
        return True

    def _run(self, alone: bool, arrivals: int, fn: Callable[..., Any], *args: Any) -> None:
        deadline = time.monotonic() + ACK_PRIORITY_SECONDS
        with self._quiet:
            while (now := time.monotonic()) < deadline:
                if alone and self._arrivals == arrivals:
                    # No other request around it: it waits only for its own ack to be out.
                    if not self._acking:
                        break
                    self._quiet.wait(deadline - now)
                    continue
                quiet_for = now - self._last_ack
                if not self._acking and quiet_for >= QUIET_SECONDS:
                    break
                self._quiet.wait(min(deadline - now, QUIET_SECONDS - quiet_for if not self._acking else QUIET_SECONDS))
        try:
            fn(*args)
        except Exception:
            log.exception("command work failed after its ack")

    def _done(self, _: Future[None]) -> None:
        self._slots.release()

    def shutdown(self, wait: bool = True) -> None:
        """Queued work still runs: every request in it was acked, so someone is waiting for its answer."""
        self._executor.shutdown(wait=wait, cancel_futures=False)
