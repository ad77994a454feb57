"""Sign-in lockout (identity.sign_in): failures counted per account and per address in fixed periods, the
account refused even with the right password while locked, every attempt in the audit log."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import select

from engine.domain.errors import AuthFailed, RateLimited
from engine.persistence.models import AuditEvent, User
from engine.persistence.uow import UnitOfWork
from engine.services import identity, rate_limits
from engine.settings import Settings
from tests.engine.conftest import Clock

Uow = Callable[[], UnitOfWork]
PASSWORD = "matkhau123"
HERE, ELSEWHERE = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, login_max_failures=3, login_lock_minutes=15)


def attempt(uow: Uow, settings: Settings, clock: Clock, password: str, *, username: str = "cv_stc",
            address: str = HERE) -> User:
    with uow() as u:
        return identity.sign_in(u, settings, username, password, address, clock())


def audit_actions(uow: Uow) -> list[str]:
    with uow() as u:
        return list(u.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("auth.%"))
                                      .order_by(AuditEvent.id)))


def period_start(clock: Clock, settings: Settings) -> datetime:
    return rate_limits.window_start(clock(), settings.login_lock_minutes * 60)


def test_the_account_locks_after_the_allowed_failures_and_opens_with_the_next_period(  # type: ignore[no-untyped-def]
        uow, settings, clock, people) -> None:
    clock.now = period_start(clock, settings)
    for _ in range(settings.login_max_failures):
        with pytest.raises(AuthFailed):
            attempt(uow, settings, clock, "sai-mat-khau")
    with pytest.raises(RateLimited) as locked:
        attempt(uow, settings, clock, PASSWORD)  # the right password, but the account is locked
    assert "tạm khóa" in locked.value.message.vi and "15 phút" in locked.value.message.vi
    with pytest.raises(RateLimited):
        attempt(uow, settings, clock, PASSWORD, address=ELSEWHERE)  # the lock is the account's, not the address's
    clock.advance(minutes=settings.login_lock_minutes)
    assert attempt(uow, settings, clock, PASSWORD).username == "cv_stc"
    assert audit_actions(uow) == ["auth.sign_in_failed"] * 3 + ["auth.sign_in_locked"] * 2 + ["auth.sign_in"]


def test_a_success_clears_the_accounts_failures(uow, settings, clock, people) -> None:  # type: ignore[no-untyped-def]
    clock.now = period_start(clock, settings)
    for _ in range(settings.login_max_failures - 1):
        with pytest.raises(AuthFailed):
            attempt(uow, settings, clock, "sai-mat-khau")
    attempt(uow, settings, clock, PASSWORD)
    for _ in range(settings.login_max_failures - 1):
        with pytest.raises(AuthFailed):
            attempt(uow, settings, clock, "sai-mat-khau")
    assert attempt(uow, settings, clock, PASSWORD).username == "cv_stc"


def test_one_address_trying_many_accounts_is_stopped(uow, settings, clock, people) -> None:  # type: ignore[no-untyped-def]
    clock.now = period_start(clock, settings)
    names = [f"khong_ton_tai_{i}" for i in range(4 * settings.login_max_failures)]
    for name in names:
        with pytest.raises(AuthFailed):
            attempt(uow, settings, clock, "doan-mo", username=name)
    with pytest.raises(RateLimited):
        attempt(uow, settings, clock, PASSWORD)  # a real account, from the guessing address
    assert attempt(uow, settings, clock, PASSWORD, address=ELSEWHERE).username == "cv_stc"
    with uow() as u:
        summaries = list(u.session.scalars(
            select(AuditEvent.summary).where(AuditEvent.action == "auth.sign_in_failed")))
    assert len(summaries) == len(names) and all(HERE in s for s in summaries)
