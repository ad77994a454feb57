"""Initial schema: units, users, procedures, instances, tasks, calls, incidents, audit, mail.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Self-contained on purpose (nothing imported from `engine`): later model changes must not alter
what this revision creates. Constraint names follow one convention, `pk_<table>`,
`uq_<table>_<columns>`, `fk_<table>_<column>_<referred table>`, `ix_<table>_<column>`, so later
migrations can drop them by name, SQLite batch mode included. Status enums are VARCHAR(20)
without a CHECK constraint (the models use `native_enum=False`); UtcDateTime columns are
`DateTime(timezone=True)`.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_units"),
        sa.UniqueConstraint("code", name="uq_units_code"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_users_unit_id_units"),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role", name="pk_user_roles"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_roles_user_id_users"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_api_tokens_user_id_users"),
    )

    op.create_table(
        "procedure_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("forms", sa.JSON(), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_procedure_versions"),
        sa.UniqueConstraint("process_id", "version", name="uq_procedure_versions_process_id_version"),
        sa.ForeignKeyConstraint(
            ["published_by"], ["users.id"], name="fk_procedure_versions_published_by_users",
        ),
    )
    op.create_index("ix_procedure_versions_process_id", "procedure_versions", ["process_id"])
    op.create_index("ix_procedure_versions_content_hash", "procedure_versions", ["content_hash"])

    op.create_table(
        "process_instances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("initiator_id", sa.Integer(), nullable=False),
        sa.Column("initiator_unit_id", sa.Integer(), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("wake_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_process_instances"),
        sa.ForeignKeyConstraint(
            ["version_id"], ["procedure_versions.id"],
            name="fk_process_instances_version_id_procedure_versions",
        ),
        sa.ForeignKeyConstraint(
            ["initiator_id"], ["users.id"], name="fk_process_instances_initiator_id_users",
        ),
        sa.ForeignKeyConstraint(
            ["initiator_unit_id"], ["units.id"], name="fk_process_instances_initiator_unit_id_units",
        ),
    )
    op.create_index("ix_process_instances_version_id", "process_instances", ["version_id"])
    op.create_index(
        "ix_process_instances_initiator_unit_id", "process_instances", ["initiator_unit_id"],
    )
    op.create_index("ix_instances_due", "process_instances", ["status", "wake_at"])

    op.create_table(
        "human_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("spiff_task_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("lane", sa.String(length=255), nullable=True),
        sa.Column("form_key", sa.String(length=128), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_human_tasks"),
        sa.UniqueConstraint("spiff_task_id", name="uq_human_tasks_spiff_task_id"),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["process_instances.id"],
            name="fk_human_tasks_instance_id_process_instances",
        ),
        sa.ForeignKeyConstraint(["assignee_id"], ["users.id"], name="fk_human_tasks_assignee_id_users"),
        sa.ForeignKeyConstraint(["completed_by"], ["users.id"], name="fk_human_tasks_completed_by_users"),
    )
    op.create_index("ix_human_tasks_instance_id", "human_tasks", ["instance_id"])
    op.create_index("ix_human_tasks_due_at", "human_tasks", ["due_at"])
    op.create_index("ix_human_tasks_status", "human_tasks", ["status"])

    op.create_table(
        "task_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_task_candidates"),
        sa.ForeignKeyConstraint(
            ["task_id"], ["human_tasks.id"], name="fk_task_candidates_task_id_human_tasks",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_task_candidates_task_id", "task_candidates", ["task_id"])
    op.create_index("ix_candidates_role_unit", "task_candidates", ["role", "unit_id"])

    op.create_table(
        "service_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("element_id", sa.String(length=128), nullable=False),
        sa.Column("topic", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_calls"),
        sa.UniqueConstraint("idempotency_key", name="uq_service_calls_idempotency_key"),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["process_instances.id"],
            name="fk_service_calls_instance_id_process_instances",
        ),
    )
    op.create_index("ix_service_calls_instance_id", "service_calls", ["instance_id"])

    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=128), nullable=True),
        sa.Column("topic", sa.String(length=128), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["process_instances.id"],
            name="fk_incidents_instance_id_process_instances",
        ),
    )
    op.create_index("ix_incidents_instance_id", "incidents", ["instance_id"])

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("element_id", sa.String(length=128), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name="fk_audit_events_actor_id_users"),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["process_instances.id"],
            name="fk_audit_events_instance_id_process_instances",
        ),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_instance_id", "audit_events", ["instance_id"])

    op.create_table(
        "mail_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("unit_name", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mail_accounts"),
        sa.UniqueConstraint("address", name="uq_mail_accounts_address"),
    )

    op.create_table(
        "adapter_operations",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("adapter", sa.String(length=64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_adapter_operations"),
    )


def downgrade() -> None:
    # Referencing tables first; dropping a table drops its indexes.
    for table in (
        "adapter_operations", "mail_accounts", "audit_events", "incidents", "service_calls",
        "task_candidates", "human_tasks", "process_instances", "procedure_versions", "api_tokens", "user_roles",
        "users", "units",
    ):
        op.drop_table(table)
