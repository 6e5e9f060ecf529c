"""Reads for one answer, run in parallel: a failure is noted under "could not check", never raised, so the
answer goes on with what could be read."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from bot.domain.facts import Unchecked
from bot.errors import UpstreamError

log = logging.getLogger("cnibot.gather")
T = TypeVar("T")


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

    def attempt(self, what: str, fn: Callable[[], T]) -> T | None:
        """Run one read now; on failure note what could not be checked and carry on with None."""
        started = time.perf_counter()
        try:
            value = fn()
        except UpstreamError as exc:
            self._could_not_check.append(Unchecked(what, exc.api, exc.reason))
            return None
        except Exception as exc:  # a bug in one read must not lose the whole answer
            log.exception("gathering %s failed", what)
            self._could_not_check.append(Unchecked(what, "cnibot", f"internal error ({type(exc).__name__})"))
            return None
        finally:
            if self._seconds is not None:
                self._seconds[what] = round(time.perf_counter() - started, 3)
        self._checked.append(what)
        return value

    def later(self, what: str, fn: Callable[[], T]) -> Future[T | None]:
        """Start one read on the pool."""
        return self.pool.submit(self.attempt, what, fn)
