"""Hotline 1022 tickets (phiếu): code per year, channel, caller, field, state, agency, answer, instance.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hotline_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("caller_name", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("locality", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answer_published", sa.Boolean(), nullable=False),
        sa.Column("recorded_call", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("closed_at", MOMENT, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_hotline_tickets"),
        sa.UniqueConstraint("code", name="uq_hotline_tickets_code"),
        sa.UniqueConstraint("external_id", name="uq_hotline_tickets_external_id"),
        sa.UniqueConstraint("instance_id", name="uq_hotline_tickets_instance_id"),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"],
                                name="fk_hotline_tickets_instance_id_process_instances"),
        sa.ForeignKeyConstraint(["operator_id"], ["users.id"], name="fk_hotline_tickets_operator_id_users"),
    )
    op.create_index("ix_hotline_tickets_channel", "hotline_tickets", ["channel"])
    op.create_index("ix_hotline_tickets_phone", "hotline_tickets", ["phone"])
    op.create_index("ix_hotline_tickets_field", "hotline_tickets", ["field"])
    op.create_index("ix_hotline_tickets_state", "hotline_tickets", ["state"])
    op.create_index("ix_hotline_tickets_created_at", "hotline_tickets", ["created_at"])


def downgrade() -> None:
    for column in ("created_at", "state", "field", "phone", "channel"):
        op.drop_index(f"ix_hotline_tickets_{column}", table_name="hotline_tickets")
    op.drop_table("hotline_tickets")
