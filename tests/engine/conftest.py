"""Engine fixtures: a database per test (SQLite and PostgreSQL), services with a hand-moved clock, people."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.adapters.registry import KNOWN_TOPICS, build_registry
from engine.persistence.db import make_engine, make_session_factory
from engine.persistence.models import ProcedureVersion, User
from engine.persistence.uow import UnitOfWork
from engine.services import identity, publishing
from engine.services.calendar import override_loader
from engine.services.context import Services
from engine.settings import ROOT, Settings
from tests.conftest import Databases

PROCESSES_DIR = ROOT / "processes"
FORMS_DIR = ROOT / "forms"
TEMPLATES_DIR = ROOT / "processes" / "templates"
#: Thursday 26 November 2026, 09:00 in Đồng Tháp: three working days later is Tuesday.
START = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


# ---------------------------------------------------------------- databases


@pytest.fixture
def db_engine(db_url: str, databases: Databases) -> Iterator[Engine]:
    """The database at `db_url`, migrated: the schema users get, not create_all's. It is a copy of
    this worker's template that the real `upgrade` migrated (tests/conftest.py `Databases`)."""
    databases.migrated(db_url)
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def session_factory(db_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(db_engine)


@pytest.fixture
def uow(session_factory: sessionmaker[Session]) -> Callable[[], UnitOfWork]:
    """A new unit of work per call: `with uow() as u: ...`."""
    return lambda: UnitOfWork(session_factory)


# ---------------------------------------------------------------- services


@dataclass
class Clock:
    """The time every use case sees; tests move it by hand."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, forms_dir=FORMS_DIR, processes_dir=PROCESSES_DIR,
                    max_attempts=3, retry_base_seconds=10, lease_seconds=60,
                    soffice_path="off")  # PDF conversion is tested in test_document_issuer


@pytest.fixture
def services(settings: Settings, session_factory: sessionmaker[Session], clock: Clock) -> Services:
    return Services(settings, build_registry(settings, session_factory, clock), clock=clock,
                    calendar_overrides=override_loader(session_factory))


# ---------------------------------------------------------------- people and procedures

UNITS = {
    "sttt": "Sở Thông tin và Truyền thông",
    "so_tc": "Sở Tài chính",
    "so_yt": "Sở Y tế",
}
USERS = {  # username: (full name, unit, roles)
    "cv_stc": ("Trần Thị Bình", "so_tc", ["chuyen_vien"]),
    "cv_syt": ("Võ Minh Dũng", "so_yt", ["chuyen_vien"]),
    "cv_sttt": ("Lê Văn Cường", "sttt", ["chuyen_vien"]),
    "qt": ("Nguyễn Thị Quản", "sttt", ["quan_tri"]),
}


def add_people(uow: Callable[[], UnitOfWork], session_factory: sessionmaker[Session],
               users: Mapping[str, tuple[Any, ...]], units: Mapping[str, str] | None = None) -> dict[str, User]:
    """Add `units` (code: name) and `users` (username: (full name, unit, roles[, e-mail])); then every user
    by username, detached with unit and roles loaded (actors for the use cases)."""
    with uow() as u:
        for code, name in (units or {}).items():
            identity.ensure_unit(u, code, name)
        for username, (full_name, unit, roles, *email) in users.items():
            identity.create_user(u, username, full_name, "matkhau123", unit, roles, email=email[0] if email else None)
        u.commit()
    with session_factory() as session:
        everyone = {user.username: user for user in session.scalars(select(User)).unique()}
        session.expunge_all()
    return everyone


@pytest.fixture
def people(uow: Callable[[], UnitOfWork], session_factory: sessionmaker[Session]) -> dict[str, User]:
    """Users by username, detached with unit and roles loaded (actors for the use cases)."""
    return add_people(uow, session_factory, USERS, UNITS)


Publish = Callable[..., tuple[ProcedureVersion, bool]]


def bundled_files(process_id: str) -> dict[str, bytes]:
    """A bundled procedure's file set, as an upload would carry it."""
    (files,) = (f for f in publishing.bundled_procedures(PROCESSES_DIR) if f"{process_id}.bpmn" in f)
    return files


def bundled(publish: Publish, process_id: str) -> ProcedureVersion:
    """The bundled procedure `process_id`, published."""
    version, _created = publish(bundled_files(process_id))
    return version


@pytest.fixture
def email_account_files() -> dict[str, bytes]:
    """The bundled procedure's file set, as an upload would carry it."""
    return bundled_files("email_account")


@pytest.fixture
def publish(uow: Callable[[], UnitOfWork], people: dict[str, User]) -> Publish:
    """`publish(files, topics=...)`: publishes as the administrator with the bundled forms."""

    def run(files: dict[str, bytes], topics: frozenset[str] = KNOWN_TOPICS) -> tuple[ProcedureVersion, bool]:
        with uow() as u:
            version, created = publishing.publish(u, files, people["qt"], forms_dir=FORMS_DIR,
                                                  topics=topics, max_bytes=Settings().max_upload_bytes,
                                                  templates_dir=TEMPLATES_DIR)
            # An unchanged republication returns a row read in the open transaction, which
            # leaving the unit of work would expire: keep it readable for the test.
            u.session.expunge(version)
            return version, created

    return run


@pytest.fixture
def published(publish: Publish, email_account_files: dict[str, bytes]) -> ProcedureVersion:
    """The bundled email_account procedure, published by the administrator."""
    version, _created = publish(email_account_files)
    return version
