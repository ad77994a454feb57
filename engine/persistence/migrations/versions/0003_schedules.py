"""Timers: retry time of a failed external call; schedules of procedures with a timer start event.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service_calls") as batch:
        batch.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "procedure_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=128), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=128), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("initiator_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remaining", sa.Integer(), nullable=True),
        sa.Column("period_seconds", sa.Integer(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_procedure_schedules"),
        sa.UniqueConstraint("process_id", name="uq_procedure_schedules_process_id"),
        sa.ForeignKeyConstraint(["version_id"], ["procedure_versions.id"],
                                name="fk_procedure_schedules_version_id_procedure_versions"),
        sa.ForeignKeyConstraint(["initiator_id"], ["users.id"], name="fk_procedure_schedules_initiator_id_users"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_procedure_schedules_unit_id_units"),
    )
    op.create_index("ix_procedure_schedules_next_run_at", "procedure_schedules", ["next_run_at"])


def downgrade() -> None:
    op.drop_index("ix_procedure_schedules_next_run_at", table_name="procedure_schedules")
    op.drop_table("procedure_schedules")
    with op.batch_alter_table("service_calls") as batch:
        batch.drop_column("retry_at")
