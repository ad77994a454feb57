"""Builds the adapter registry from settings: configuration picks each implementation."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from engine.adapters.base import AdapterRegistry
from engine.adapters.mail_directory import LocalMailDirectory
from engine.settings import Settings

#: Every topic a diagram may name, for publishing checks without a database.
KNOWN_TOPICS = frozenset({"mail_directory.apply"})


def build_registry(settings: Settings, session_factory: Callable[[], Session]) -> AdapterRegistry:
    if settings.mail_directory != "local":
        raise ValueError(f"Unknown mail directory adapter: {settings.mail_directory}")
    mail = LocalMailDirectory(session_factory, settings.mail_domain)
    return AdapterRegistry({"mail_directory.apply": mail.apply})
