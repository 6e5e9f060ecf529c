"""The connections of every configured cluster, made on first use. Light to import: the Kubernetes and AWS
clients (bot.gateways.connections) load when a command first reads a cluster, so `cnibot ask help` never
imports them."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import ClusterConfig
    from bot.gateways.connections import ClusterConnection


class Connections:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_name: dict[str, ClusterConnection] = {}

    def get(self, cluster: ClusterConfig) -> ClusterConnection:
        from bot.gateways.connections import ClusterConnection

        with self._lock:
            conn = self._by_name.get(cluster.name)
            if conn is None:
                conn = self._by_name[cluster.name] = ClusterConnection(cluster)
            return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._by_name.values():
                conn.close()
