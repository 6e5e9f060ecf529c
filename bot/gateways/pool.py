"""The connections of every configured cluster, made on first use. Light to import: the Kubernetes and AWS
clients (bot.gateways.connections) load when a command first reads a cluster, so `cnibot ask help` never
imports them."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import ClusterConfig
    from bot.gateways.connections import ClusterConnection
    from bot.scheduler import Scheduler

LIVE_REFRESH_JOB = "live:vpc-enis"


def install_live_refresh(connections: Connections, scheduler: Scheduler) -> None:
    """What `serve` runs in the background: the VPC ENI sweeps that commands read, kept fresh."""
    from bot.gateways.aws import LIVE_REFRESH_EVERY

    scheduler.every(LIVE_REFRESH_JOB, LIVE_REFRESH_EVERY, connections.refresh_live_state)


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

    def refresh_live_state(self) -> None:
        """Refresh each connection's short-lived EC2 state that commands read recently (`serve` runs it)."""
        with self._lock:
            connections = list(self._by_name.values())
        for conn in connections:
            conn.refresh_live_state()

    def close(self) -> None:
        with self._lock:
            for conn in self._by_name.values():
                conn.close()
