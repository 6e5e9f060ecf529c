"""Counts of the requests the simulator served, per API and operation, for API-budget assertions."""

from __future__ import annotations

import threading
from collections import Counter


class RequestCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._log: list[tuple[str, str, dict[str, object]]] = []

    def record(self, api: str, operation: str, detail: dict[str, object] | None = None) -> None:
        with self._lock:
            self._counts[(api, operation)] += 1
            self._log.append((api, operation, detail or {}))

    def count(self, api: str | None = None, operation: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (a, o), n in self._counts.items()
                if (api is None or a == api) and (operation is None or o == operation)
            )

    def snapshot(self) -> dict[str, int]:
        """{"ec2:DescribeSubnets": 3, "kube:GET pods": 5, ...}"""
        with self._lock:
            return {f"{a}:{o}": n for (a, o), n in sorted(self._counts.items())}

    def calls(self, api: str | None = None) -> list[tuple[str, str, dict[str, object]]]:
        with self._lock:
            return [c for c in self._log if api is None or c[0] == api]

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._log.clear()
