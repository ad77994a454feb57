"""Access to the engine's services from request handlers and CLI commands."""
from __future__ import annotations

from flask import current_app
from flask_babel import get_locale

from engine.adapters.registry import KNOWN_TOPICS, build_registry
from engine.domain.messages import Message
from engine.persistence.models import ProcedureVersion, User
from engine.persistence.uow import UnitOfWork
from engine.services import publishing
from engine.services.calendar import override_loader
from engine.services.context import Services
from engine.settings import Settings
from webapp.extensions import db


def build_services(settings: Settings) -> Services:
    # Adapters and the calendar open their own sessions from Flask-SQLAlchemy's session
    # factory. The lambda defers the lookup to call time, inside an app context.
    sessions = lambda: db.session.session_factory()  # noqa: E731, PLW0108
    return Services(settings, build_registry(settings, sessions), calendar_overrides=override_loader(sessions))


def services() -> Services:
    return current_app.extensions["platform"]


class RequestUnitOfWork(UnitOfWork):
    """Uses the request's session and leaves it open: the template still reads current_user."""

    def __exit__(self, *exc: object) -> None:
        self.session.rollback()


def uow() -> UnitOfWork:
    return RequestUnitOfWork(lambda: db.session)


def text(message: Message) -> str:
    return message.text(str(get_locale() or "vi"))


def publish(work: UnitOfWork, files: dict[str, bytes], actor: User | None) -> tuple[ProcedureVersion, bool]:
    """Publish with this installation's forms and templates folders, adapters and upload limit."""
    settings = services().settings
    return publishing.publish(work, files, actor, forms_dir=settings.forms_dir, topics=KNOWN_TOPICS,
                              max_bytes=settings.max_upload_bytes, templates_dir=settings.templates_dir)
