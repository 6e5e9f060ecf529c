"""SQLAlchemy 2 typed tables. One naming convention so constraint names match on SQLite and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, MetaData, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both backends.

    Postgres stores timestamptz; SQLite has no timezone type, so values are stored as naive UTC and made
    aware again on the way out. Naive values are refused: they are always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class CommandRecord(Base):
    """One handled /cni command (or `cnibot ask`), whatever its outcome."""

    __tablename__ = "command_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    correlation_id: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # slack | cli | mcp
    user_id: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str | None] = mapped_column(String(128))
    team_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    cluster: Mapped[str | None] = mapped_column(String(64))
    subcommand: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))  # ok | partial | user_error | error
    duration_ms: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_command_log_created_at", "created_at"),
        Index("ix_command_log_user_id_created_at", "user_id", "created_at"),
    )


class DiagnosisRecord(Base):
    """One why-pending diagnosis: which pod, what was found, for whom, how long it took."""

    __tablename__ = "diagnoses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cluster: Mapped[str] = mapped_column(String(64))
    namespace: Mapped[str] = mapped_column(String(253))
    pod: Mapped[str] = mapped_column(String(253))
    node: Mapped[str | None] = mapped_column(String(253))
    codes: Mapped[list[str]] = mapped_column(JSON)  # ranked, primary first
    primary_code: Mapped[str] = mapped_column(String(40))
    requester: Mapped[str] = mapped_column(String(128))  # Slack user id, or cli:<login>
    duration_ms: Mapped[int] = mapped_column(Integer)
    correlation_id: Mapped[str] = mapped_column(String(32))
    could_not_check: Mapped[list[dict[str, str]]] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_diagnoses_created_at", "created_at"),
        Index("ix_diagnoses_cluster_primary_code_created_at", "cluster", "primary_code", "created_at"),
    )
