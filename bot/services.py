"""What commands need, built once by the composition root and passed down (never module globals)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.access import AccessGate
from bot.clusters import ClusterDirectory
from bot.config import Settings
from bot.gateways.pool import Connections  # light: the cluster clients load on first use
from bot.scheduler import Scheduler
from bot.work_pool import WorkPool
from storage.history import HistoryRepository
from storage.repositories import Repositories

if TYPE_CHECKING:  # Slack's SDK loads with the Slack edge, not for `cnibot ask help`
    from slack_sdk import WebClient

    from bot.slack_identity import SlackIdentity


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    repos: Repositories  # every repository, opened once
    clusters: ClusterDirectory
    connections: Connections = field(default_factory=Connections)
    # Started by `cnibot serve`; features register their periodic jobs on it at build time.
    scheduler: Scheduler = field(default_factory=Scheduler)
    clock: Callable[[], datetime] = field(default=_utcnow)
    # Found at start, reported by /readyz: why the history database cannot be used (None: it can), and the
    # clusters whose credentials do not load (name -> problem and fix).
    database_problem: str | None = None
    cluster_problems: dict[str, str] = field(default_factory=dict)
    # Slack command work after the ack (set when the Slack app is built).
    work: WorkPool | None = None
    slack_identity: SlackIdentity | None = None
    # Per-cluster access rules; the Slack edge (or the MCP server) gives it Slack to resolve user groups.
    access: AccessGate = field(default_factory=AccessGate)
    # Set on shutdown: applies stop watching and release their apply lease for another replica.
    stopping: threading.Event = field(default_factory=threading.Event)
    apply_threads: set[threading.Thread] = field(default_factory=set)
    # Built once: by `serve` at start (bot/app.py), by `cnibot ask` on first use.
    slack_client: WebClient | None = None
    # Feature services built once, by the feature's own accessor (e.g. bot.changes.service.change_service):
    # this layer sits below the features and names none of them.
    features: dict[str, Any] = field(default_factory=dict)

    @property
    def history(self) -> HistoryRepository:
        return self.repos.history
