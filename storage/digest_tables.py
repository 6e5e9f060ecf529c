"""The digest tables: subscriptions, per-period claims, capacity samples and their per-subnet rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class DigestSubscriptionRow(Base):
    __tablename__ = "digest_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(80))  # channel id (C.../G...) or #name as typed
    schedule: Mapped[str] = mapped_column(String(40))  # canonical: "daily 09:00", "weekly mon 09:00"
    timezone: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("cluster", "channel"),)


class DigestClaimRow(Base):
    __tablename__ = "digest_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("digest_subscriptions.id", ondelete="CASCADE"))
    period: Mapped[datetime]  # the scheduled instant this digest is for
    status: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[str] = mapped_column(String(96))  # replica: host:pid
    claimed_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    finished_at: Mapped[datetime | None]
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("subscription_id", "period"),
        Index("ix_digest_claims_status_period", "status", "period"),
    )


class CapacitySampleRow(Base):
    __tablename__ = "capacity_samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(64))
    slot: Mapped[datetime]  # start of the sampling interval: one sample per cluster and slot
    status: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[str] = mapped_column(String(96))
    taken_at: Mapped[datetime]
    settings_hash: Mapped[str | None] = mapped_column(String(16))
    # SQL NULL (not JSON null) when the events could not be read, so queries can tell.
    failed_pods: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    # Node rows, VPC subnets, aws-node env, limits: only the newest samples keep it (see strip_details).
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("cluster", "slot"),
        Index("ix_capacity_samples_cluster_taken_at", "cluster", "taken_at"),
    )


class SubnetSampleRow(Base):
    __tablename__ = "capacity_subnet_samples"

    sample_id: Mapped[int] = mapped_column(ForeignKey("capacity_samples.id", ondelete="CASCADE"), primary_key=True)
    subnet_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    az: Mapped[str] = mapped_column(String(32))
    usable: Mapped[int] = mapped_column(Integer)
    free: Mapped[int] = mapped_column(Integer)
    warm_unused: Mapped[int | None] = mapped_column(Integer)
