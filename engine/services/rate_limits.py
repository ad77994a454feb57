"""Fixed-window rate limits kept in the database (table `rate_limit_hits`), for pages open to everyone.

A key (e.g. `hotline-form:<client address>`) has one row per window of `window_seconds`; each hit adds one
to the row's count with a single `INSERT … ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1
RETURNING count` (SQLite and PostgreSQL alike): concurrent hits of the same key are serialised by the
database on the row, none is lost and none fails on the unique key. The hit joins the caller's
transaction, so the caller commits it (or a rollback takes the hit back).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from engine.persistence.models import RateLimitHit
from engine.persistence.uow import UnitOfWork

_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
MAX_KEY = 160
#: How long a window's row is kept after the window ended (then `purge` drops it).
KEEP = timedelta(days=1)


def window_start(now: datetime, window_seconds: int) -> datetime:
    """The start of the fixed window holding `now`: windows are aligned on the epoch (UTC)."""
    seconds = int(now.timestamp())
    return datetime.fromtimestamp(seconds - seconds % window_seconds, UTC)


def hit(uow: UnitOfWork, key: str, limit: int, window_seconds: int, now: datetime) -> bool:
    """Count one use of `key` in the window holding `now`; True while the window's count is at most
    `limit` (allowed), False beyond it. In the caller's transaction (the caller commits)."""
    if not 0 < window_seconds <= KEEP.total_seconds() or limit < 0:
        raise ValueError("a rate limit needs a window of one second to one day and a limit of zero or more")
    key = key[:MAX_KEY]
    start = window_start(now, window_seconds)
    dialect = uow.session.get_bind().dialect.name
    if dialect not in _INSERTS:
        raise RuntimeError(f"Rate limits need SQLite or PostgreSQL, not {dialect}")
    # Both dialects' insert() have on_conflict_do_update with the same arguments.
    statement = _INSERTS[dialect](RateLimitHit).values(key=key, window_start=start, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": RateLimitHit.count + 1},
    ).returning(RateLimitHit.count)
    count = int(uow.session.execute(statement).scalar_one())
    if count == 1:
        # A new window for this key: the moment to drop the windows that ended long ago (no scheduler
        # needed; at most once per key and window).
        purge(uow, now - KEEP)
    return count <= limit


def count(uow: UnitOfWork, key: str, window_seconds: int, now: datetime) -> int:
    """How many times `key` was hit in the window holding `now` (read only)."""
    found = uow.session.scalar(select(RateLimitHit.count).where(
        RateLimitHit.key == key[:MAX_KEY], RateLimitHit.window_start == window_start(now, window_seconds)))
    return int(found or 0)


def clear(uow: UnitOfWork, key: str) -> None:
    """Forget every window of `key` (in the caller's transaction)."""
    uow.session.execute(delete(RateLimitHit).where(RateLimitHit.key == key[:MAX_KEY])
                        .execution_options(synchronize_session=False))


def purge(uow: UnitOfWork, before: datetime) -> int:
    """Drop the windows that started before `before`; how many rows went. In the caller's transaction."""
    result = uow.session.execute(delete(RateLimitHit).where(RateLimitHit.window_start < before)
                                 .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
