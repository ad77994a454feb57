"""Builds the adapter registry from settings: configuration picks each implementation."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from engine.adapters.base import AdapterRegistry
from engine.adapters.ldap_directory import LdapMailDirectory
from engine.adapters.mail_directory import LocalMailDirectory, MailDirectory, PasswordSink
from engine.adapters.notifications import LOCAL, SMTP, LocalNotifier, NoticeOperation, Notifier, SmtpNotifier
from engine.adapters.project_software import HttpProjectSoftware
from engine.documents.issuer import DocumentIssuer
from engine.persistence.models import utcnow
from engine.services.credentials import PasswordDelivery
from engine.settings import Settings

#: Every topic a diagram may name, for publishing checks without a database.
KNOWN_TOPICS = frozenset({"mail_directory.apply", "document.render", "project_software.apply",
                          "notification.send"})


def build_mail_directory(settings: Settings, session_factory: Callable[[], Session],
                         sink: PasswordSink | None = None) -> MailDirectory:
    """The mail directory MAIL_DIRECTORY names: `local` (database, the default) or `ldap`; new passwords
    go to `sink` (the one-time links; without one they are dropped)."""
    if settings.mail_directory == "local":
        return LocalMailDirectory(session_factory, settings.mail_domain, sink)
    if settings.mail_directory == "ldap":
        return LdapMailDirectory(settings, sink)
    raise ValueError(f"MAIL_DIRECTORY={settings.mail_directory!r}: use local or ldap")


def build_notifier(settings: Settings, session_factory: Callable[[], Session],
                   clock: Callable[[], datetime] = utcnow) -> Notifier:
    """The channel NOTIFICATIONS names: `local` (kept in the platform, the default) or `smtp`."""
    local = LocalNotifier(session_factory, clock)
    if settings.notifications == LOCAL:
        return local
    if settings.notifications == SMTP:
        return SmtpNotifier(settings, session_factory, clock, fallback=local)
    raise ValueError(f"NOTIFICATIONS={settings.notifications!r}: use local or smtp")


def build_registry(settings: Settings, session_factory: Callable[[], Session],
                   clock: Callable[[], datetime] = utcnow) -> AdapterRegistry:
    """Every topic's operation; `clock` dates the documents issued and the links sent (pass the Services
    clock). Passwords the adapters set reach people by one-time links (engine.services.credentials)."""
    notifier = build_notifier(settings, session_factory, clock)
    passwords = PasswordDelivery(settings, session_factory, notifier, clock)
    mail = build_mail_directory(settings, session_factory, passwords)
    documents = DocumentIssuer(session_factory, settings, clock=clock)
    project = HttpProjectSoftware(settings.project_software_url, settings.project_software_token,
                                  settings.project_software_timeout_seconds, password_sink=passwords.to_owner)
    return AdapterRegistry({"mail_directory.apply": mail.apply, "document.render": documents.render,
                            "project_software.apply": project.apply,
                            "notification.send": NoticeOperation(notifier)},
                           lookups={"mail_directory": mail.exists})
