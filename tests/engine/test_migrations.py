"""Alembic migrations: they build the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    create_engine,
    inspect,
    pool,
    text,
)
from sqlalchemy.engine import Engine

from engine.persistence.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    upgrade,
)
from engine.persistence.models import Base


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def engine_for(url: str) -> Engine:
    return create_engine(url, poolclass=pool.NullPool)


def schema_diff(url: str, metadata: MetaData = Base.metadata) -> list[object]:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = engine_for(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


# ---------------------------------------------------------------- databases


# ---------------------------------------------------------------- tests


def test_single_head_named_0001_first() -> None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    assert len(script.get_heads()) == 1
    assert script.get_base() == "0001"


def test_upgrade_creates_every_table_and_is_idempotent(db_url: str) -> None:
    assert current_revision(db_url) is None
    upgrade(db_url)
    assert table_names(db_url) == set(Base.metadata.tables) | {"alembic_version"}
    assert current_revision(db_url) == head_revision()

    engine = engine_for(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO units (code, name) VALUES ('ubnd', 'UBND tỉnh')"))
        upgrade(db_url)  # nothing pending: no-op, data kept
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM units")).scalar_one() == "UBND tỉnh"
    finally:
        engine.dispose()
    assert current_revision(db_url) == head_revision()


def test_migrated_schema_matches_models(db_url: str) -> None:
    """Fails when a model changes without a migration (autogenerate would find something)."""
    upgrade(db_url)
    assert schema_diff(db_url) == []


def test_schema_check_sees_a_model_change(db_url: str) -> None:
    upgrade(db_url)
    changed = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["units"].append_column(Column("extra", Integer, nullable=True))
    diff = schema_diff(db_url, changed)
    assert [d[0] for d in diff if isinstance(d, tuple)] == ["add_column"]


def test_current_revision_of_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    assert current_revision(f"sqlite:///{path}") is None
    assert not path.exists()


def test_offline_mode_writes_sql() -> None:
    config = alembic_config("postgresql+psycopg://u@localhost/none")
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    sql = config.output_buffer.getvalue()
    assert "CREATE TABLE units" in sql
    assert "CONSTRAINT uq_procedure_versions_process_id_version UNIQUE (process_id, version)" in sql
    assert "status VARCHAR(20) NOT NULL" in sql
    assert "TIMESTAMP WITH TIME ZONE" in sql
