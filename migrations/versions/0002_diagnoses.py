"""diagnoses: one row per why-pending answer

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 09:12:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "diagnoses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("namespace", sa.String(length=253), nullable=False),
        sa.Column("pod", sa.String(length=253), nullable=False),
        sa.Column("node", sa.String(length=253), nullable=True),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("primary_code", sa.String(length=40), nullable=False),
        sa.Column("requester", sa.String(length=128), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("correlation_id", sa.String(length=32), nullable=False),
        sa.Column("could_not_check", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnoses")),
    )
    with op.batch_alter_table("diagnoses", schema=None) as batch_op:
        batch_op.create_index("ix_diagnoses_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_diagnoses_cluster_primary_code_created_at", ["cluster", "primary_code", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("diagnoses", schema=None) as batch_op:
        batch_op.drop_index("ix_diagnoses_cluster_primary_code_created_at")
        batch_op.drop_index("ix_diagnoses_created_at")

    op.drop_table("diagnoses")
