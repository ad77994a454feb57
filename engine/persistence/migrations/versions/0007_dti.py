"""Digital transformation index (DTI): index sets, indicators, rounds, units, scores, history, evidence.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "dti_index_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=True),
        sa.Column("imported_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dti_index_sets"),
        sa.UniqueConstraint("year", "name", name="uq_dti_index_sets_year_name"),
        _fk("dti_index_sets", "imported_by", "users"),
    )
    op.create_table(
        "dti_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("index_set_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("group_name", sa.String(length=255), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("max_points", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("method_text", sa.Text(), nullable=False),
        sa.Column("evidence_text", sa.Text(), nullable=False),
        sa.Column("applies_to", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("is_leaf", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dti_indicators"),
        sa.UniqueConstraint("index_set_id", "code", name="uq_dti_indicators_index_set_id_code"),
        _fk("dti_indicators", "index_set_id", "dti_index_sets"),
    )
    op.create_index("ix_dti_indicators_index_set_id", "dti_indicators", ["index_set_id"])
    op.create_table(
        "dti_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("index_set_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("deadline", MOMENT, nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("evaluator_unit_id", sa.Integer(), nullable=False),
        sa.Column("approver_unit_id", sa.Integer(), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=True),
        sa.Column("opened_at", MOMENT, nullable=False),
        sa.Column("approved_at", MOMENT, nullable=True),
        sa.Column("published_at", MOMENT, nullable=True),
        sa.Column("decision_number", sa.String(length=100), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dti_rounds"),
        sa.UniqueConstraint("instance_id", name="uq_dti_rounds_instance_id"),
        _fk("dti_rounds", "index_set_id", "dti_index_sets"),
        _fk("dti_rounds", "instance_id", "process_instances"),
        _fk("dti_rounds", "evaluator_unit_id", "units"),
        _fk("dti_rounds", "approver_unit_id", "units"),
        _fk("dti_rounds", "opened_by", "users"),
    )
    op.create_index("ix_dti_rounds_index_set_id", "dti_rounds", ["index_set_id"])
    op.create_index("ix_dti_rounds_year", "dti_rounds", ["year"])
    op.create_table(
        "dti_round_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_group", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.String(length=24), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", MOMENT, nullable=True),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("settled_at", MOMENT, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dti_round_units"),
        sa.UniqueConstraint("round_id", "unit_id", name="uq_dti_round_units_round_id_unit_id"),
        _fk("dti_round_units", "round_id", "dti_rounds"),
        _fk("dti_round_units", "unit_id", "units"),
        _fk("dti_round_units", "task_id", "human_tasks"),
        _fk("dti_round_units", "submitted_by", "users"),
    )
    op.create_index("ix_dti_round_units_round_id", "dti_round_units", ["round_id"])
    op.create_table(
        "dti_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_unit_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("self_score", sa.Integer(), nullable=True),
        sa.Column("self_note", sa.Text(), nullable=False),
        sa.Column("self_by", sa.Integer(), nullable=True),
        sa.Column("self_at", MOMENT, nullable=True),
        sa.Column("expert_score", sa.Integer(), nullable=True),
        sa.Column("expert_reason", sa.Text(), nullable=False),
        sa.Column("expert_by", sa.Integer(), nullable=True),
        sa.Column("expert_at", MOMENT, nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("response_by", sa.Integer(), nullable=True),
        sa.Column("response_at", MOMENT, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dti_scores"),
        sa.UniqueConstraint("round_unit_id", "indicator_id", name="uq_dti_scores_round_unit_id_indicator_id"),
        _fk("dti_scores", "round_unit_id", "dti_round_units"),
        _fk("dti_scores", "indicator_id", "dti_indicators"),
        _fk("dti_scores", "self_by", "users"),
        _fk("dti_scores", "expert_by", "users"),
        _fk("dti_scores", "response_by", "users"),
    )
    op.create_table(
        "dti_score_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("old_value", sa.Integer(), nullable=True),
        sa.Column("new_value", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=255), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dti_score_changes"),
        _fk("dti_score_changes", "score_id", "dti_scores"),
        _fk("dti_score_changes", "actor_id", "users"),
    )
    op.create_index("ix_dti_score_changes_score_id", "dti_score_changes", ["score_id"])
    op.create_table(
        "dti_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_unit_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=24), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dti_evidence"),
        sa.UniqueConstraint("attachment_id", name="uq_dti_evidence_attachment_id"),
        _fk("dti_evidence", "round_unit_id", "dti_round_units"),
        _fk("dti_evidence", "indicator_id", "dti_indicators"),
        _fk("dti_evidence", "attachment_id", "attachments"),
        _fk("dti_evidence", "uploaded_by", "users"),
    )
    op.create_index("ix_dti_evidence_round_unit_indicator", "dti_evidence", ["round_unit_id", "indicator_id"])


def downgrade() -> None:
    op.drop_index("ix_dti_evidence_round_unit_indicator", table_name="dti_evidence")
    op.drop_table("dti_evidence")
    op.drop_index("ix_dti_score_changes_score_id", table_name="dti_score_changes")
    op.drop_table("dti_score_changes")
    op.drop_table("dti_scores")
    op.drop_index("ix_dti_round_units_round_id", table_name="dti_round_units")
    op.drop_table("dti_round_units")
    op.drop_index("ix_dti_rounds_year", table_name="dti_rounds")
    op.drop_index("ix_dti_rounds_index_set_id", table_name="dti_rounds")
    op.drop_table("dti_rounds")
    op.drop_index("ix_dti_indicators_index_set_id", table_name="dti_indicators")
    op.drop_table("dti_indicators")
    op.drop_table("dti_index_sets")
