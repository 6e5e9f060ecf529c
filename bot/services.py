"""What commands need, built once by the composition root and passed down (never module globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from bot.clusters import ClusterDirectory
from bot.config import Settings
from bot.gateways.pool import Connections  # light: the cluster clients load on first use
from bot.scheduler import Scheduler
from storage.history import HistoryRepository


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    history: HistoryRepository
    clusters: ClusterDirectory
    connections: Connections = field(default_factory=Connections)
    # Started by `cnibot serve`; features register their periodic jobs on it at build time.
    scheduler: Scheduler = field(default_factory=Scheduler)
    clock: Callable[[], datetime] = field(default=_utcnow)
    # Found at start, reported by /readyz: why the history database cannot be used (None: it can), and the
    # clusters whose credentials do not load (name -> problem and fix).
    database_problem: str | None = None
    cluster_problems: dict[str, str] = field(default_factory=dict)
