"""What commands need, built once by the composition root and passed down (never module globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from bot.clusters import ClusterDirectory
from bot.config import Settings
from bot.gateways.connections import Connections
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
    clock: Callable[[], datetime] = field(default=_utcnow)
