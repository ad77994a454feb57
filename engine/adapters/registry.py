"""Builds the adapter registry from settings: configuration picks each implementation."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from engine.adapters.base import AdapterRegistry
from engine.adapters.ldap_directory import LdapMailDirectory
from engine.adapters.mail_directory import LocalMailDirectory, MailDirectory
from engine.adapters.project_software import HttpProjectSoftware
from engine.documents.issuer import DocumentIssuer
from engine.persistence.models import utcnow
from engine.settings import Settings

#: Every topic a diagram may name, for publishing checks without a database.
KNOWN_TOPICS = frozenset({"mail_directory.apply", "document.render", "project_software.apply"})


def build_mail_directory(settings: Settings, session_factory: Callable[[], Session]) -> MailDirectory:
    """The mail directory MAIL_DIRECTORY names: `local` (database, the default) or `ldap`."""
    if settings.mail_directory == "local":
        return LocalMailDirectory(session_factory, settings.mail_domain)
    if settings.mail_directory == "ldap":
        return LdapMailDirectory(settings)
    raise ValueError(f"MAIL_DIRECTORY={settings.mail_directory!r}: use local or ldap")


def build_registry(settings: Settings, session_factory: Callable[[], Session],
                   clock: Callable[[], datetime] = utcnow) -> AdapterRegistry:
    """Every topic's operation; `clock` dates the documents issued (pass the Services clock)."""
    mail = build_mail_directory(settings, session_factory)
    documents = DocumentIssuer(session_factory, settings, clock=clock)
    project = HttpProjectSoftware(settings.project_software_url, settings.project_software_token,
                                  settings.project_software_timeout_seconds)
    return AdapterRegistry({"mail_directory.apply": mail.apply, "document.render": documents.render,
                            "project_software.apply": project.apply})
