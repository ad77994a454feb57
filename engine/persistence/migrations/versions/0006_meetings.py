"""Videoconferences: the meeting calendar, invitations, the local MCU's rooms and accounts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("starts_at", MOMENT, nullable=True),
        sa.Column("ends_at", MOMENT, nullable=True),
        sa.Column("room", sa.String(length=255), nullable=False),
        sa.Column("host_unit", sa.String(length=255), nullable=False),
        sa.Column("endpoints", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_meetings"),
        sa.UniqueConstraint("instance_id", name="uq_meetings_instance_id"),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"],
                                name="fk_meetings_instance_id_process_instances"),
    )
    op.create_index("ix_meetings_starts_at", "meetings", ["starts_at"])
    op.create_table(
        "meeting_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("chair_name", sa.String(length=255), nullable=False),
        sa.Column("chair_title", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("invited_at", MOMENT, nullable=False),
        sa.Column("responded_at", MOMENT, nullable=True),
        sa.Column("responded_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_meeting_invitations"),
        sa.UniqueConstraint("meeting_id", "unit_id", name="uq_meeting_invitations_meeting_id"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name="fk_meeting_invitations_meeting_id_meetings"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_meeting_invitations_unit_id_units"),
        sa.ForeignKeyConstraint(["responded_by"], ["users.id"], name="fk_meeting_invitations_responded_by_users"),
    )
    op.create_index("ix_meeting_invitations_meeting_id", "meeting_invitations", ["meeting_id"])
    op.create_table(
        "mcu_rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("starts_at", MOMENT, nullable=True),
        sa.Column("ends_at", MOMENT, nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("locked_at", MOMENT, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_mcu_rooms"),
        sa.UniqueConstraint("code", name="uq_mcu_rooms_code"),
    )
    op.create_table(
        "mcu_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mcu_accounts"),
        sa.UniqueConstraint("username", name="uq_mcu_accounts_username"),
        sa.ForeignKeyConstraint(["room_id"], ["mcu_rooms.id"], name="fk_mcu_accounts_room_id_mcu_rooms"),
    )
    op.create_index("ix_mcu_accounts_room_id", "mcu_accounts", ["room_id"])


def downgrade() -> None:
    op.drop_index("ix_mcu_accounts_room_id", table_name="mcu_accounts")
    op.drop_table("mcu_accounts")
    op.drop_table("mcu_rooms")
    op.drop_index("ix_meeting_invitations_meeting_id", table_name="meeting_invitations")
    op.drop_table("meeting_invitations")
    op.drop_index("ix_meetings_starts_at", table_name="meetings")
    op.drop_table("meetings")
