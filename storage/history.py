"""History of handled commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import session_scope
from storage.models import CommandRecord


@dataclass(frozen=True)
class CommandEntry:
    created_at: datetime
    user_id: str
    user_name: str | None
    channel_id: str | None
    cluster: str | None
    subcommand: str
    text: str
    outcome: str
    duration_ms: int
    correlation_id: str
    source: str


class HistoryRepository:
    def __init__(self, sessions: sessionmaker[Session], writes: sessionmaker[Session] | None = None) -> None:
        self._sessions = sessions
        # Rows are written after the answer, through sessions that wait less for a locked database.
        self._writes = writes or sessions

    def record_command(
        self,
        *,
        correlation_id: str,
        source: str,
        user_id: str,
        user_name: str | None,
        team_id: str | None,
        channel_id: str | None,
        cluster: str | None,
        subcommand: str,
        text: str,
        outcome: str,
        duration_ms: int,
        detail: dict[str, Any] | None = None,
        created_at: datetime | None = None,
    ) -> int:
        row = CommandRecord(
            correlation_id=correlation_id,
            source=source,
            user_id=user_id,
            user_name=user_name,
            team_id=team_id,
            channel_id=channel_id,
            cluster=cluster,
            subcommand=subcommand,
            text=text,
            outcome=outcome,
            duration_ms=duration_ms,
            detail=detail,
        )
        if created_at is not None:
            row.created_at = created_at
        with session_scope(self._writes) as session:
            session.add(row)
            session.flush()
            return row.id

    def recent_commands(self, *, user_id: str | None = None, limit: int = 20) -> list[CommandEntry]:
        query = select(CommandRecord).order_by(CommandRecord.created_at.desc(), CommandRecord.id.desc())
        if user_id:
            query = query.where(CommandRecord.user_id == user_id)
        with self._sessions() as session:
            rows = session.scalars(query.limit(limit)).all()
            return [
                CommandEntry(
                    created_at=r.created_at,
                    user_id=r.user_id,
                    user_name=r.user_name,
                    channel_id=r.channel_id,
                    cluster=r.cluster,
                    subcommand=r.subcommand,
                    text=r.text,
                    outcome=r.outcome,
                    duration_ms=r.duration_ms,
                    correlation_id=r.correlation_id,
                    source=r.source,
                )
                for r in rows
            ]
