"""Hotline 1022 knowledge base: question–answer articles by field, with normalised search text.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("keywords", sa.String(length=500), nullable=False),
        sa.Column("search_question", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("is_published", sa.Boolean(), nullable=False),
        sa.Column("published_at", MOMENT, nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=255), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_articles"),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name="fk_kb_articles_author_id_users"),
    )
    op.create_index("ix_kb_articles_field", "kb_articles", ["field"])
    op.create_index("ix_kb_articles_updated_at", "kb_articles", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_kb_articles_updated_at", table_name="kb_articles")
    op.drop_index("ix_kb_articles_field", table_name="kb_articles")
    op.drop_table("kb_articles")
