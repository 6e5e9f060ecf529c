"""The change flow's tables: requests, approvals, the append-only audit, and the per-cluster apply lock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class ChangeRequestRow(Base):
    __tablename__ = "change_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    # Bumped by every write; approvals serialise on it (the UPDATE takes the row lock first).
    version: Mapped[int] = mapped_column(Integer, default=0)
    requester_id: Mapped[str] = mapped_column(String(64))
    requester_name: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    risk: Mapped[str] = mapped_column(String(8))
    approvals_needed: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    diff_hash: Mapped[str] = mapped_column(String(64))
    base: Mapped[dict[str, Any]] = mapped_column(JSON)
    target: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    rollback_of: Mapped[int | None] = mapped_column(ForeignKey("change_requests.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    applied_at: Mapped[datetime | None]
    revert_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    origin_channel_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))  # where the approval message is
    message_ts: Mapped[str | None] = mapped_column(String(32))
    tracking_nodes: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_change_requests_status", "status"),
        Index("ix_change_requests_cluster_created_at", "cluster", "created_at"),
        Index("ix_change_requests_revert_at", "revert_at"),
    )


class ChangeApprovalRow(Base):
    __tablename__ = "change_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id"))
    user_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    # One approval per person per request: two distinct approvers means two rows.
    __table_args__ = (UniqueConstraint("change_id", "user_id"),)


class ChangeEventRow(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "change_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id"))
    cluster: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))  # Slack user id, or "cnibot"
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_change_events_change_id", "change_id"),
        Index("ix_change_events_at", "at"),
    )


class ApplyLockRow(Base):
    """One row per cluster: the change being applied there, by which replica, until when (a lease)."""

    __tablename__ = "change_apply_locks"

    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    change_id: Mapped[int | None] = mapped_column(Integer)
    owner: Mapped[str | None] = mapped_column(String(128))
    acquired_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
