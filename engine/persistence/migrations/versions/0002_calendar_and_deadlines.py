"""Calendar overrides; process properties; instance deadline, clock pause and SLA outcome.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_working", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("decision", sa.String(length=255), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_overrides"),
        sa.UniqueConstraint("day", name="uq_calendar_overrides_day"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_calendar_overrides_created_by_users"),
    )
    with op.batch_alter_table("procedure_versions") as batch:
        batch.add_column(sa.Column("properties", sa.JSON(), nullable=True))
    with op.batch_alter_table("process_instances") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sla_outcome", sa.String(length=20), nullable=True))
        batch.create_index("ix_process_instances_due_at", ["due_at"])


def downgrade() -> None:
    with op.batch_alter_table("process_instances") as batch:
        batch.drop_index("ix_process_instances_due_at")
        batch.drop_column("sla_outcome")
        batch.drop_column("paused_at")
        batch.drop_column("due_at")
    with op.batch_alter_table("procedure_versions") as batch:
        batch.drop_column("properties")
    op.drop_table("calendar_overrides")
