"""Requests already handled, so that Slack's retries (X-Slack-Retry-Num) and replays run nothing twice.

Per process: each replica remembers what it handled itself. Slack retries to the same URL, so behind a load
balancer a retry can reach another replica; the approvals themselves stay exactly-once through the database.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

# Slack retries up to three times: at once, after 1 minute and after 5 minutes; ten minutes covers them.
WINDOW_SECONDS = 600.0
MAX_KEYS = 100_000


class RecentRequests:
    def __init__(self, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        """True the first time `key` is seen within the window (and remembers it)."""
        now = self._clock()
        with self._lock:
            while self._seen and (next(iter(self._seen.values())) < now - self._window or len(self._seen) > MAX_KEYS):
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True
