"""Documents: templates published with a version, register numbering, issued documents; instance facts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("process_instances") as batch:
        batch.add_column(sa.Column("facts", sa.JSON(), nullable=True))
    op.create_table(
        "procedure_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_procedure_files"),
        sa.UniqueConstraint("version_id", "name", name="uq_procedure_files_version_id_name"),
        sa.ForeignKeyConstraint(["version_id"], ["procedure_versions.id"],
                                name="fk_procedure_files_version_id_procedure_versions"),
    )
    op.create_index("ix_procedure_files_version_id", "procedure_files", ["version_id"])
    op.create_table(
        "document_registers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=64), nullable=False),
        sa.Column("register", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_document_registers"),
        sa.UniqueConstraint("issuer", "register", "year", name="uq_document_registers_issuer_register_year"),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=128), nullable=False),
        sa.Column("call_key", sa.String(length=160), nullable=True),
        sa.Column("register_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("doc_type", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("template", sa.String(length=255), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("docx", sa.LargeBinary(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        sa.UniqueConstraint("call_key", name="uq_documents_call_key"),
        sa.UniqueConstraint("register_id", "number", name="uq_documents_register_id_number"),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"],
                                name="fk_documents_instance_id_process_instances"),
        sa.ForeignKeyConstraint(["register_id"], ["document_registers.id"],
                                name="fk_documents_register_id_document_registers"),
    )
    op.create_index("ix_documents_instance_id", "documents", ["instance_id"])


def downgrade() -> None:
    op.drop_index("ix_documents_instance_id", table_name="documents")
    op.drop_table("documents")
    op.drop_table("document_registers")
    op.drop_index("ix_procedure_files_version_id", table_name="procedure_files")
    op.drop_table("procedure_files")
    with op.batch_alter_table("process_instances") as batch:
        batch.drop_column("facts")
