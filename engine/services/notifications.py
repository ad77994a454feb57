"""The platform inbox ("Thông báo"): notifications kept by the `local` channel for a signed-in user.

A notification is the user's when its recipient is their e-mail address (any case) or
`user:<username>` (how the platform addresses a person without an e-mail address).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.adapters.notifications import LOCAL, platform_user
from engine.domain.errors import NotFound
from engine.domain.messages import Message
from engine.persistence.models import Notification, User
from engine.persistence.uow import UnitOfWork

NO_NOTIFICATION = Message("Không tìm thấy thông báo.", "Notification not found.")


def addressed_to(user: User) -> ColumnElement[bool]:
    """The condition matching the user's own notifications kept in the platform."""
    names = [platform_user(user.username)]
    if user.email:
        names.append(user.email.strip().lower())
    return (Notification.channel == LOCAL) & or_(*(func.lower(Notification.recipient) == n for n in names))


def inbox(uow: UnitOfWork, user: User, limit: int = 100) -> list[Notification]:
    """The user's notifications, newest first."""
    return list(uow.session.scalars(select(Notification).where(addressed_to(user))
                                    .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def unread_count(session: Session, user: User) -> int:
    """How many of the user's notifications are unread (read-only: any open session will do)."""
    query: Any = select(func.count(Notification.id)).where(addressed_to(user), Notification.read_at.is_(None))
    return int(session.scalar(query) or 0)


def open_notification(uow: UnitOfWork, user: User, notification_id: int, now: datetime) -> Notification:
    """One of the user's notifications, marked read; NotFound for anyone else's (no hint it exists)."""
    found = uow.session.scalar(select(Notification).where(Notification.id == notification_id, addressed_to(user)))
    if found is None:
        raise NotFound(NO_NOTIFICATION)
    if found.read_at is None:
        found.read_at = now
        uow.commit()
    return found


def mark_all_read(uow: UnitOfWork, user: User, now: datetime) -> int:
    result = uow.session.execute(update(Notification).where(addressed_to(user), Notification.read_at.is_(None))
                                 .values(read_at=now).execution_options(synchronize_session=False))
    uow.commit()
    return int(getattr(result, "rowcount", 0) or 0)
