"""Hotline 1022 channels: ticket answered/acknowledged times and recording, ticket events, rate limits,
webhook receipts (replay protection).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("hotline_tickets") as batch:
        batch.add_column(sa.Column("answered_at", MOMENT, nullable=True))
        batch.add_column(sa.Column("acknowledged_at", MOMENT, nullable=True))
        batch.add_column(sa.Column("recording_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_hotline_tickets_recording_id_attachments", "attachments",
                                 ["recording_id"], ["id"])
        batch.create_index("ix_hotline_tickets_answered_at", ["answered_at"])
    op.create_table(
        "hotline_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hotline_events"),
        sa.ForeignKeyConstraint(["ticket_id"], ["hotline_tickets.id"], name="fk_hotline_events_ticket_id_hotline_tickets"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name="fk_hotline_events_actor_id_users"),
    )
    op.create_index("ix_hotline_events_ticket_id", "hotline_events", ["ticket_id"])
    op.create_index("ix_hotline_events_kind", "hotline_events", ["kind"])
    op.create_index("ix_hotline_events_at", "hotline_events", ["at"])
    op.create_table(
        "rate_limit_hits",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("window_start", MOMENT, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name="pk_rate_limit_hits"),
    )
    op.create_table(
        "webhook_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=128), nullable=False),
        sa.Column("received_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_receipts"),
        sa.UniqueConstraint("digest", name="uq_webhook_receipts_digest"),
    )
    op.create_index("ix_webhook_receipts_received_at", "webhook_receipts", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_receipts_received_at", table_name="webhook_receipts")
    op.drop_table("webhook_receipts")
    op.drop_table("rate_limit_hits")
    for column in ("at", "kind", "ticket_id"):
        op.drop_index(f"ix_hotline_events_{column}", table_name="hotline_events")
    op.drop_table("hotline_events")
    with op.batch_alter_table("hotline_tickets") as batch:
        batch.drop_index("ix_hotline_tickets_answered_at")
        batch.drop_constraint("fk_hotline_tickets_recording_id_attachments", type_="foreignkey")
        batch.drop_column("recording_id")
        batch.drop_column("acknowledged_at")
        batch.drop_column("answered_at")
