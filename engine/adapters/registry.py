"""Builds the adapter registry from settings: configuration picks each implementation."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from engine.adapters.base import AdapterRegistry
from engine.adapters.ldap_directory import LdapMailDirectory
from engine.adapters.mail_directory import LocalMailDirectory, MailDirectory, PasswordSink
from engine.adapters.mcu import TOPICS as MCU_TOPICS
from engine.adapters.mcu import AccountPasswordSink, LocalMcu, Mcu
from engine.adapters.mcu import operations as mcu_operations
from engine.adapters.mcu_http import HttpMcu
from engine.adapters.notifications import LOCAL, SMTP, LocalNotifier, NoticeOperation, Notifier, SmtpNotifier
from engine.adapters.project_software import HttpProjectSoftware
from engine.documents.issuer import DocumentIssuer
from engine.persistence.models import utcnow
from engine.services.credentials import PasswordDelivery
from engine.services.invitations import TOPIC as INVITE_TOPIC
from engine.services.invitations import InviteOperation
from engine.settings import Settings

#: Every topic a diagram may name, for publishing checks without a database.
KNOWN_TOPICS = frozenset({"mail_directory.apply", "document.render", "project_software.apply",
                          "notification.send", *MCU_TOPICS, INVITE_TOPIC})


def build_mail_directory(settings: Settings, session_factory: Callable[[], Session],
                         sink: PasswordSink | None = None) -> MailDirectory:
    """The mail directory MAIL_DIRECTORY names: `local` (database, the default) or `ldap`; new passwords
    go to `sink` (the one-time links; without one they are dropped)."""
    if settings.mail_directory == "local":
        return LocalMailDirectory(session_factory, settings.mail_domain, sink)
    if settings.mail_directory == "ldap":
        return LdapMailDirectory(settings, sink)
    raise ValueError(f"MAIL_DIRECTORY={settings.mail_directory!r}: use local or ldap")


def build_mcu(settings: Settings, session_factory: Callable[[], Session], sink: AccountPasswordSink | None = None,
              clock: Callable[[], datetime] = utcnow) -> Mcu:
    """The MCU that MCU names: `local` (database, the default) or `http`; account passwords go to `sink`
    (the one-time links; without one they are dropped)."""
    if settings.mcu == "local":
        return LocalMcu(session_factory, settings.mcu_capacity, settings.timezone, sink, clock)
    if settings.mcu == "http":
        return HttpMcu(settings.mcu_url, settings.mcu_token, settings.mcu_timeout_seconds, password_sink=sink)
    raise ValueError(f"MCU={settings.mcu!r}: use local or http")


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
    mcu = build_mcu(settings, session_factory, passwords.to_requester, clock)
    return AdapterRegistry({"mail_directory.apply": mail.apply, "document.render": documents.render,
                            "project_software.apply": project.apply,
                            "notification.send": NoticeOperation(notifier), **mcu_operations(mcu),
                            INVITE_TOPIC: InviteOperation(session_factory, notifier, settings, clock)},
                           lookups={"mail_directory": mail.exists})
