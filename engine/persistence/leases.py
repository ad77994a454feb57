"""Leases: how a worker claims due rows (instances, schedules) so that many workers share them."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, or_

from engine.persistence.uow import UnitOfWork


class Leasable(Protocol):
    id: Any
    lease_owner: Any
    lease_until: Any


def claim(uow: UnitOfWork, query: Select[Any], model: Any, owner: str, now: datetime,
          seconds: int, limit: int) -> list[int]:
    """Lease up to `limit` rows of `query` whose lease is free or expired, and commit.

    SKIP LOCKED lets concurrent workers pass over rows another one is claiming (PostgreSQL;
    SQLite serialises writers). OF: eager-loaded relationships add outer joins, which
    PostgreSQL cannot lock.
    """
    rows = uow.session.scalars(
        query.where(or_(model.lease_until.is_(None), model.lease_until < now))
        .limit(limit).with_for_update(skip_locked=True, of=model)
    ).all()
    for row in rows:
        row.lease_owner, row.lease_until = owner, now + timedelta(seconds=seconds)
    uow.commit()
    return [r.id for r in rows]


def release(row: Leasable) -> None:
    row.lease_owner, row.lease_until = None, None
