"""Units, users, roles, password checks and API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from engine.domain.enums import Role
from engine.domain.errors import AuthFailed, Conflict, InvalidData, RateLimited
from engine.domain.messages import Message
from engine.persistence.models import ApiToken, Unit, User, UserRole
from engine.persistence.uow import UnitOfWork
from engine.services import audit, rate_limits
from engine.settings import Settings

_HASHER = PasswordHasher()
# Verified against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _HASHER.hash("không-có-người-dùng")
TOKEN_TTL = timedelta(hours=8)

BAD_LOGIN = Message("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong username or password.")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def ensure_unit(uow: UnitOfWork, code: str, name: str) -> Unit:
    unit = uow.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        unit = Unit(code=code, name=name)
        uow.add(unit)
        uow.session.flush()
    return unit


def normal_email(email: str | None) -> str | None:
    """An e-mail address as stored (lower case, trimmed), None for none; InvalidData when malformed."""
    text = (email or "").strip().lower()
    if not text:
        return None
    local, at, domain = text.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in text) or "@" in domain:
        raise InvalidData(Message(f"Địa chỉ thư điện tử không hợp lệ: {text}", f"Invalid e-mail address: {text}"))
    return text


def create_user(uow: UnitOfWork, username: str, full_name: str, password: str,
                unit_code: str, roles: list[str], *, email: str | None = None) -> User:
    """A new account; `email` is where the platform's notifications to the person go (optional)."""
    unknown = [r for r in roles if r not in {x.value for x in Role}]
    if unknown:
        raise InvalidData(Message(f"Vai trò không hợp lệ: {', '.join(unknown)}",
                                  f"Unknown roles: {', '.join(unknown)}"))
    if len(password) < 8:
        raise InvalidData(Message("Mật khẩu phải có ít nhất 8 ký tự.",
                                  "The password must have at least 8 characters."))
    unit = uow.session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise InvalidData(Message(f"Không có đơn vị mã {unit_code}.", f"No unit with code {unit_code}."))
    if uow.session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(Message(f"Tên đăng nhập {username} đã tồn tại.", f"Username {username} exists."))
    user = User(username=username, full_name=full_name, email=normal_email(email),
                password_hash=hash_password(password), unit_id=unit.id, roles=[UserRole(role=r) for r in roles])
    uow.add(user)
    uow.session.flush()
    return user


def authenticate(uow: UnitOfWork, username: str, password: str) -> User:
    user = uow.session.scalar(select(User).where(User.username == username))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise AuthFailed(BAD_LOGIN)
    if not user.is_active or not verify_password(user.password_hash, password):
        raise AuthFailed(BAD_LOGIN)
    return user


def _locked(minutes: int) -> RateLimited:
    return RateLimited(Message(
        f"Đăng nhập sai quá nhiều lần: tài khoản tạm khóa, vui lòng thử lại sau {minutes} phút hoặc liên hệ quản "
        "trị hệ thống.",
        f"Too many failed sign-ins: the account is locked for now; try again in {minutes} minutes or ask an "
        "administrator."))


def sign_in(uow: UnitOfWork, settings: Settings, username: str, password: str, address: str, now: datetime,
            *, via: str = "web") -> User:
    """`authenticate` with a lock against guessing, and every attempt in the audit log.

    Failed attempts are counted per account and per client address in fixed periods of
    settings.login_lock_minutes: an account that failed settings.login_max_failures times in the period (or an
    address that failed four times as often, across accounts) is refused without checking the password until
    the period ends, even with the right password. A successful sign-in clears the account's count. Each
    success, failure and refusal is an audit event (`auth.sign_in`, `auth.sign_in_failed`, `auth.sign_in_locked`),
    committed here.
    """
    window = settings.login_lock_minutes * 60
    name = username.strip()[:64]
    account_key, address_key = f"login:user:{name.lower()}", f"login:addr:{address}"
    where = f"{name or '—'} từ {address or '?'} ({via})"
    if (rate_limits.count(uow, account_key, window, now) >= settings.login_max_failures
            or rate_limits.count(uow, address_key, window, now) >= 4 * settings.login_max_failures):
        audit.record(uow.session, None, "auth.sign_in_locked", summary=f"Từ chối đăng nhập (đang khóa): {where}")
        uow.commit()
        raise _locked(settings.login_lock_minutes)
    try:
        user = authenticate(uow, name, password)
    except AuthFailed:
        rate_limits.hit(uow, account_key, 10**6, window, now)
        rate_limits.hit(uow, address_key, 10**6, window, now)
        audit.record(uow.session, None, "auth.sign_in_failed", summary=f"Đăng nhập sai: {where}")
        uow.commit()
        raise
    rate_limits.clear(uow, account_key)
    audit.record(uow.session, user, "auth.sign_in", summary=f"Đăng nhập: {where}")
    uow.commit()
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(uow: UnitOfWork, user: User, now: datetime) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires = now + TOKEN_TTL
    uow.add(ApiToken(token_hash=_token_hash(token), user_id=user.id, expires_at=expires))
    return token, expires


def user_for_token(uow: UnitOfWork, token: str, now: datetime) -> User | None:
    row = uow.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.expires_at <= now or not row.user.is_active:
        return None
    return row.user
