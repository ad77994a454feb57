"""Accounts: users' email, one-time password links, notifications, form attachments.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instance_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"],
                                   name=f"fk_{table}_instance_id_process_instances")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(length=255), nullable=True))
    op.create_table(
        "credential_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("call_key", sa.String(length=160), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("system", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("recipient", sa.String(length=255), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_credential_links"),
        sa.UniqueConstraint("token_hash", name="uq_credential_links_token_hash"),
        sa.UniqueConstraint("call_key", name="uq_credential_links_call_key"),
        _instance_fk("credential_links"),
    )
    op.create_index("ix_credential_links_instance_id", "credential_links", ["instance_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("key", name="uq_notifications_key"),
        _instance_fk("notifications"),
    )
    op.create_index("ix_notifications_instance_id", "notifications", ["instance_id"])
    op.create_index("ix_notifications_recipient", "notifications", ["recipient"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attachments"),
        sa.UniqueConstraint("ref", name="uq_attachments_ref"),
        _instance_fk("attachments"),
        sa.ForeignKeyConstraint(["task_id"], ["human_tasks.id"], name="fk_attachments_task_id_human_tasks"),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"], name="fk_attachments_uploaded_by_users"),
    )
    op.create_index("ix_attachments_instance_id", "attachments", ["instance_id"])
    op.create_index("ix_attachments_task_id", "attachments", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_attachments_task_id", table_name="attachments")
    op.drop_index("ix_attachments_instance_id", table_name="attachments")
    op.drop_table("attachments")
    op.drop_index("ix_notifications_recipient", table_name="notifications")
    op.drop_index("ix_notifications_instance_id", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_credential_links_instance_id", table_name="credential_links")
    op.drop_table("credential_links")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")
