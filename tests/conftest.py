"""Fixtures every test folder shares: a throwaway database on SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, make_url, pool, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from engine.persistence.migrate import upgrade
from engine.services import identity
from tests.engine.mcu_server import McuPeer
from tests.engine.project_software_server import ProjectSoftwarePeer
from tests.imap_server import ImapServer, running_imap
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


#: The fixtures that make the database at `db_url` themselves, as a copy of a template (`Databases`):
#: for their tests `db_url` names a PostgreSQL database without creating it (CREATE DATABASE … TEMPLATE does).
COPYING_FIXTURES = frozenset({"db_engine", "app"})


def _admin() -> Engine:
    return create_engine(PG_ADMIN_URL, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")


def _postgres_url(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def throwaway_postgres(create: bool = True) -> Iterator[str]:
    """A database on the server at TEST_POSTGRES_URL, dropped afterwards (skips if unreachable).

    With `create=False` only the name is chosen (the server is still reached, so the test skips
    if it is down): the caller creates the database, e.g. with `Databases.copy`."""
    admin = _admin()
    name = f"test_{uuid.uuid4().hex[:16]}"
    try:
        try:
            with admin.connect() as conn:
                if create:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
        except OperationalError as exc:
            pytest.skip(f"PostgreSQL unreachable at {make_url(PG_ADMIN_URL)!r} "
                        f"(set TEST_POSTGRES_URL): {exc.orig}")
        try:
            yield _postgres_url(name)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


class Databases:
    """This worker process's template databases, made on first use and copied for each test.

    Migrating a database costs ~0.4 s and seeding the web tests' data ~0.5 s; copying one costs
    little. So per backend the first test migrates a template with the real `upgrade` (the tests
    see the schema users get), and the web `app` fixture keeps one migrated-and-seeded template per
    (backend, folders, upload limit) of its Settings; every test gets its own copy:

    - SQLite: the template is a file in this session's temporary folder, its WAL checkpointed and
      every connection closed before it is copied to the file the test's URL names (whose folder
      may not exist yet);
    - PostgreSQL: the template is a database on the server at TEST_POSTGRES_URL with a name unique
      to this process, every connection to it closed; the test's database is made by
      `CREATE DATABASE "<test db>" TEMPLATE "<template>"` (so `db_url` leaves it to the fixtures
      in COPYING_FIXTURES). Templates are dropped at the end of the session.

    Templates live for one session only: changed migrations or bundled procedures are seen by the
    next run. Tests of the migrations themselves (tests/engine/test_migrations.py) and anything that
    calls `upgrade` on its own URL still run the real migrations on an empty database.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.templates: dict[tuple[str, Hashable], str] = {}
        self.postgres: list[str] = []

    def template(self, like_url: str, key: Hashable, fill: Callable[[str], None]) -> str:
        """The URL of the template for `key` on `like_url`'s backend. Made on first use: `fill(url)`
        brings an empty database (a SQLite file not created yet) to what every copy holds, and
        must close every connection it opened."""
        backend = make_url(like_url).get_backend_name()
        if (backend, key) not in self.templates:
            if backend == "sqlite":
                file = self.folder / f"template-{len(self.templates)}" / "platform.db"
                fill(f"sqlite:///{file}")
                with closing(sqlite3.connect(file)) as conn:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                url = f"sqlite:///{file}"
            else:
                name = f"template_{os.getpid()}_{uuid.uuid4().hex[:8]}"
                admin = _admin()
                try:
                    with admin.connect() as conn:
                        conn.execute(text(f'CREATE DATABASE "{name}"'))
                finally:
                    admin.dispose()
                self.postgres.append(name)
                url = _postgres_url(name)
                fill(url)
            self.templates[backend, key] = url
        return self.templates[backend, key]

    def copy(self, template_url: str, url: str) -> None:
        """Make the database `url` names (not existing yet) a copy of the template at `template_url`."""
        target = make_url(url)
        if target.get_backend_name() == "sqlite":
            file = Path(str(target.database))
            file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(str(make_url(template_url).database), file)
        else:
            admin = _admin()
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{target.database}" '
                                      f'TEMPLATE "{make_url(template_url).database}"'))
            finally:
                admin.dispose()

    def migrated(self, url: str) -> None:
        """Make the database `url` names a migrated one: a copy of the template `upgrade` made.
        An existing SQLite file (something wrote to it already) is migrated in place instead."""
        target = make_url(url)
        if target.get_backend_name() == "sqlite" and Path(str(target.database)).exists():
            upgrade(url)
            return
        self.copy(self.template(url, "migrated", upgrade), url)

    def drop(self) -> None:
        if not self.postgres:
            return
        admin = _admin()
        try:
            with admin.connect() as conn:
                for name in self.postgres:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """This worker's template databases (see `Databases`), dropped at the end of the session."""
    made = Databases(tmp_path_factory.mktemp("db-templates"))
    yield made
    made.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database test runs on both. The database is empty: the SQLite folder does not exist yet
    (migrations create it); on PostgreSQL it is created empty, except for the tests that use a
    fixture in COPYING_FIXTURES, which creates it as a copy of a template (`Databases`)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'instance' / 'platform.db'}"
    else:
        yield from throwaway_postgres(create=COPYING_FIXTURES.isdisjoint(request.fixturenames))


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) collecting the messages it receives."""
    with running_smtp() as server:
        yield server


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """A real IMAP server on 127.0.0.1 (Dovecot), one per test session (xdist worker); each test takes
    an account of its own with `imap_server.new_mailbox()`."""
    with running_imap() as server:
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
