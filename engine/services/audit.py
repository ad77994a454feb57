"""Audit events: every action, with secrets scrubbed from before/after data."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.domain.secrets import scrub
from engine.persistence.models import AuditEvent, User


def record(session: Session, actor: User | None, action: str, *, instance_id: int | None = None,
           element_id: str | None = None, summary: str = "", before: Any = None,
           after: Any = None) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_name=actor.full_name if actor else "Hệ thống",
        action=action, instance_id=instance_id, element_id=element_id, summary=summary[:500],
        before=scrub(before), after=scrub(after),
    )
    session.add(event)
    return event
