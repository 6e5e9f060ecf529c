"""The store's change log, which watch requests follow from a resourceVersion onwards.

Every write (internal or over HTTP) appends a `Change`; the log keeps the latest `capacity` changes,
and a watch from an older resourceVersion is answered with 410 Expired like etcd compaction would.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from simulator.kube.documents import JsonObject


@dataclass(frozen=True)
class Change:
    resource_version: int
    kind: tuple[str, str]  # the storage (apiVersion, kind)
    type: str  # ADDED, MODIFIED or DELETED
    obj: JsonObject  # stored object after the change (for DELETED: the last state, at the deletion's version)
    before: JsonObject | None


class ChangeLog:
    """Bounded log of changes; all methods but wake() expect the caller to hold the store's lock."""

    def __init__(self, lock: threading.RLock, capacity: int = 20_000) -> None:
        self._changes: deque[Change] = deque(maxlen=capacity)
        self._condition = threading.Condition(lock)
        # Changes at or below this resourceVersion have been dropped from the log.
        self.floor = 0

    def record(self, change: Change) -> None:
        if len(self._changes) == self._changes.maxlen:
            self.floor = self._changes[0].resource_version
        self._changes.append(change)
        self._condition.notify_all()

    def since(self, resource_version: int) -> list[Change]:
        newer: list[Change] = []
        for change in reversed(self._changes):
            if change.resource_version <= resource_version:
                break
            newer.append(change)
        newer.reverse()
        return newer

    def wait(self, timeout: float) -> None:
        self._condition.wait(timeout)

    def wake(self) -> None:
        """Wake every waiting watch (the server is stopping)."""
        with self._condition:
            self._condition.notify_all()
