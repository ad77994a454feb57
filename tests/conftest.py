"""Fixtures every test folder shares: a throwaway database on SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, make_url, pool, text
from sqlalchemy.exc import OperationalError

from engine.services import identity
from tests.engine.mcu_server import McuPeer
from tests.engine.project_software_server import ProjectSoftwarePeer
from tests.smtp_server import SmtpServer, running_smtp

PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
)


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashing() -> Iterator[None]:
    """Argon2id with its smallest cost in tests: the same algorithm and checks, without the 0.2 s a
    production-strength hash takes, which every created user and every sign-in would pay.
    Hashes carry their parameters, so verification is unchanged."""
    strong, dummy = identity._HASHER, identity._DUMMY_HASH
    identity._HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    identity._DUMMY_HASH = identity._HASHER.hash("không-có-người-dùng")
    yield
    identity._HASHER, identity._DUMMY_HASH = strong, dummy


def throwaway_postgres() -> Iterator[str]:
    """A fresh database on the server at TEST_POSTGRES_URL, dropped afterwards (skips if unreachable)."""
    admin = create_engine(PG_ADMIN_URL, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    name = f"test_{uuid.uuid4().hex[:16]}"
    try:
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except OperationalError as exc:
            pytest.skip(f"PostgreSQL unreachable at {make_url(PG_ADMIN_URL)!r} "
                        f"(set TEST_POSTGRES_URL): {exc.orig}")
        try:
            yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database test runs on both; the SQLite folder does not exist yet (migrations create it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'instance' / 'platform.db'}"
    else:
        yield from throwaway_postgres()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) collecting the messages it receives."""
    with running_smtp() as server:
        yield server


@pytest.fixture
def peer() -> Iterator[ProjectSoftwarePeer]:
    """The project software's stand-in on 127.0.0.1; every request it got must have kept the contract of
    docs/adapters.md."""
    with ProjectSoftwarePeer() as running:
        yield running
    assert running.violations == []


@pytest.fixture
def mcu_peer() -> Iterator[McuPeer]:
    """An MCU's stand-in on 127.0.0.1; every request it got must have kept the contract of docs/adapters.md."""
    with McuPeer() as running:
        yield running
    assert running.violations == []
