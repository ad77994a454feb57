"""Alembic environment: run by engine.persistence.migrate (no Flask) or by Flask-Migrate's `flask db`."""
from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Enum, create_engine, pool
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from engine.persistence.db import engine_options
from engine.persistence.models import Base
from engine.settings import Settings

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Autogenerate writes plain `sa.` types, so a revision never imports `engine`."""
    if type_ != "type":
        return False
    if isinstance(obj, Enum) and not obj.native_enum:
        return f"sa.String(length={obj.length})"
    if isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


# Shared by online and offline mode. Batch mode lets ALTERs work on SQLite (table copy-and-move);
# it is a no-op on PostgreSQL.
CONFIGURE_OPTS: dict[str, Any] = {
    "target_metadata": target_metadata,
    "render_as_batch": True,
    "compare_type": True,
    "render_item": render_item,
}


def database_url() -> str:
    # Set by migrate.py, or by a Flask-Migrate `@migrate.configure` callback; else the environment.
    return config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def run_migrations_offline() -> None:
    """Write the SQL to stdout instead of running it (`alembic upgrade --sql`)."""
    context.configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"},
                      **CONFIGURE_OPTS)
    with context.begin_transaction():
        context.run_migrations()


def run_with(connection: Connection) -> None:
    context.configure(connection=connection, **CONFIGURE_OPTS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        # The caller owns the connection and its transaction (commit is theirs).
        run_with(connection)
        return
    url = database_url()
    # SQLite: engine_options' timeout waits on a lock held by a running worker; foreign_keys stays OFF
    # here (SQLite's default) so batch-mode table rebuilds are not blocked by references.
    engine = create_engine(url, poolclass=pool.NullPool, **engine_options(url))
    try:
        with engine.connect() as connection:
            run_with(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
