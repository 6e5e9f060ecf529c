"""The store's change log, which watch requests follow from a resourceVersion onwards.

Every write (internal or over HTTP) appends a `Change`; the log keeps the latest `capacity` changes,
and a watch from an older resourceVersion is answered with 410 Expired like etcd compaction would.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
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

    def __init__(self, lock: threading.RLock, capacity: int = 10_000) -> None:
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


def watch_event(
    change: Change, namespace: str | None, matches: Callable[[JsonObject], bool]
) -> tuple[str, JsonObject] | None:
    """What a watch sees of a change: objects that leave its selection arrive as DELETED, as in Kubernetes."""
    if namespace is not None and change.obj.get("metadata", {}).get("namespace") != namespace:
        return None
    now = matches(change.obj)
    if change.type == "DELETED":
        return ("DELETED", change.obj) if now else None
    was = change.before is not None and matches(change.before)
    if now:
        return ("MODIFIED" if was else "ADDED"), change.obj
    return ("DELETED", change.obj) if was else None


def expired_status(requested: str, floor: int) -> JsonObject:
    """The Status a watch streams when its resourceVersion is older than the change log keeps."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"too old resource version: {requested} ({floor})",
        "reason": "Expired",
        "code": 410,
    }
