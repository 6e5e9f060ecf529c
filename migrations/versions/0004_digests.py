"""digests: subscriptions, claims, capacity samples

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 05:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "digest_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=80), nullable=False),
        sa.Column("schedule", sa.String(length=40), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_subscriptions")),
        sa.UniqueConstraint("cluster", "channel", name=op.f("uq_digest_subscriptions_cluster_channel")),
    )
    op.create_table(
        "digest_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("period", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=96), nullable=False),
        sa.Column("claimed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("finished_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["digest_subscriptions.id"],
            name=op.f("fk_digest_claims_subscription_id_digest_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_claims")),
        sa.UniqueConstraint("subscription_id", "period", name=op.f("uq_digest_claims_subscription_id_period")),
    )
    with op.batch_alter_table("digest_claims", schema=None) as batch_op:
        batch_op.create_index("ix_digest_claims_status_period", ["status", "period"], unique=False)

    op.create_table(
        "capacity_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("slot", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=96), nullable=False),
        sa.Column("taken_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settings_hash", sa.String(length=16), nullable=True),
        sa.Column("failed_pods", sa.JSON(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_samples")),
        sa.UniqueConstraint("cluster", "slot", name=op.f("uq_capacity_samples_cluster_slot")),
    )
    with op.batch_alter_table("capacity_samples", schema=None) as batch_op:
        batch_op.create_index("ix_capacity_samples_cluster_taken_at", ["cluster", "taken_at"], unique=False)

    op.create_table(
        "capacity_subnet_samples",
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("subnet_id", sa.String(length=32), nullable=False),
        sa.Column("az", sa.String(length=32), nullable=False),
        sa.Column("usable", sa.Integer(), nullable=False),
        sa.Column("free", sa.Integer(), nullable=False),
        sa.Column("warm_unused", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["capacity_samples.id"],
            name=op.f("fk_capacity_subnet_samples_sample_id_capacity_samples"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sample_id", "subnet_id", name=op.f("pk_capacity_subnet_samples")),
    )


def downgrade() -> None:
    op.drop_table("capacity_subnet_samples")
    with op.batch_alter_table("capacity_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_capacity_samples_cluster_taken_at")
    op.drop_table("capacity_samples")
    with op.batch_alter_table("digest_claims", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_claims_status_period")
    op.drop_table("digest_claims")
    op.drop_table("digest_subscriptions")
