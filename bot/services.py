"""What commands need, built once by the composition root and passed down (never module globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from bot.clusters import ClusterDirectory
from bot.config import Settings
from bot.gateways.connections import Connections
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
