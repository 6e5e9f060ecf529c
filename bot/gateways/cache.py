"""Short-TTL caches and a client-side rate limiter, shared by every request of a process.

The EC2 API budget is the account's, shared with every node's ipamd: the bot must stay far below it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from bot import metrics

T = TypeVar("T")


class TTLCache(Generic[T]):
    """A cache whose loads are single-flight: concurrent misses for one key make one call, not many."""

    def __init__(self, name: str, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.ttl = ttl
        self._clock = clock
        self._values: dict[Hashable, tuple[float, T]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        hit = self._fresh(key)
        if hit is not None:
            metrics.CACHE_LOOKUPS.labels(self.name, "hit").inc()
            return hit[1]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._fresh(key)  # another thread may have loaded it while we waited
            if hit is not None:
                metrics.CACHE_LOOKUPS.labels(self.name, "hit").inc()
                return hit[1]
            metrics.CACHE_LOOKUPS.labels(self.name, "miss").inc()
            # An expired value is never read again: let it go before the load builds its successor (a VPC's
            # ENI sweep is tens of MB), rather than hold both.
            self._values.pop(key, None)
            value = load()
            self._values[key] = (self._clock(), value)
            return value

    def refresh(self, key: Hashable, load: Callable[[], T], *, unless_younger_than: float = 0.0) -> bool:
        """Load the key again now under the key's lock (a reader that finds the value expired meanwhile waits
        for this load instead of making its own calls), unless the value is younger than `unless_younger_than`
        seconds: a load that finished while this one waited for the lock is not repeated. True if it loaded."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            entry = self._values.get(key)
            if entry is not None and self._clock() - entry[0] < unless_younger_than:
                return False
            if self._fresh(key) is None:
                self._values.pop(key, None)  # as in get(): an expired value is not held while its successor loads
            self._values[key] = (self._clock(), load())
            return True

    def peek(self, key: Hashable) -> T | None:
        hit = self._fresh(key)
        return hit[1] if hit else None

    def put(self, key: Hashable, value: T) -> None:
        self._values[key] = (self._clock(), value)

    def invalidate(self, key: Hashable | None = None) -> None:
        if key is None:
            self._values.clear()
        else:
            self._values.pop(key, None)

    def _fresh(self, key: Hashable) -> tuple[float, T] | None:
        entry = self._values.get(key)
        if entry is None or self._clock() - entry[0] > self.ttl:
            return None
        return entry


class RateLimiter:
    """Token bucket: `rate` calls per second on average, bursts of `burst`; callers wait for a token."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds callers have waited for tokens, in all (for benchmarks)

    def acquire(self) -> float:
        """Take a token; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    self.waited += waited
                    return waited
                delay = (1 - self._tokens) / self.rate
            time.sleep(delay)
            waited += delay
