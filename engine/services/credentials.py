"""One-time, expiring links that hand a generated password to a person (docs/credentials.md).

An adapter that sets a password hands it to a `PasswordDelivery`, which issues a link (`issue`)
and notifies the recipient, in the adapter operation's idempotency scope (the link's `call_key` is
the operation's key). The database keeps the SHA-256 of the link's token and the password sealed
with a keystream derived from the token: neither the database nor a backup alone reveals it.
`reveal` opens a link exactly once; expiry and opening clear the sealed password.
"""
from __future__ import annotations

import enum
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.adapters.base import AdapterError, CallContext
from engine.adapters.notifications import USER_PREFIX, Notifier, is_address, platform_user, session_scope
from engine.domain.errors import DomainError, NotFound
from engine.domain.messages import Message
from engine.persistence.models import CredentialLink, ProcessInstance, ServiceCall, User
from engine.persistence.uow import UnitOfWork
from engine.services import audit
from engine.settings import Settings

#: Where the link's page lives, below PUBLIC_BASE_URL (the web app's credentials blueprint).
LINK_PATH = "/credentials/"
#: A token as `secrets.token_urlsafe(32)` writes it (43 characters); anything else is unknown, not looked up.
TOKEN_PATTERN = r"[A-Za-z0-9_-]{43}"  # noqa: S105 - a pattern, not a secret
_TOKEN = re.compile(TOKEN_PATTERN)
_LINK_IN_TEXT = re.compile(re.escape(LINK_PATH) + f"({TOKEN_PATTERN})(?![A-Za-z0-9_-])")
#: Fixed label of the keystream: a token sealing for another purpose would give another stream.
_LABEL = b"dvc-quytrinh/credential-link/v1\x00"
#: Sealed passwords are padded to at least this many bytes, so their length is not stored either.
_PADDED = 64
MAIL, PROJECT, MCU = "mail_directory", "project_software", "mcu"
SYSTEMS = {MAIL: "thư điện tử công vụ", PROJECT: "phần mềm Quản lý tiến độ dự án",
           MCU: "hệ thống Hội nghị truyền hình trực tuyến (MCU)"}
SYSTEMS_EN = {MAIL: "official e-mail", PROJECT: "project progress software", MCU: "videoconference system (MCU)"}

UNKNOWN = Message("Liên kết nhận mật khẩu không tồn tại. Hãy kiểm tra lại địa chỉ liên kết trong thư.",
                  "This password link does not exist. Check the address in the message.")
USED = Message("Liên kết này đã được sử dụng: mật khẩu chỉ hiện một lần. Nếu không phải anh/chị đã mở "
               "liên kết, hãy báo ngay cho Trung tâm Chuyển đổi số để cấp lại mật khẩu.",
               "This link has already been used: the password is shown only once. If you did not open it, "
               "tell the Digital Transformation Centre at once so that a new password is issued.")
EXPIRED = Message("Liên kết này đã hết hạn, mật khẩu không còn được lưu. Hãy đề nghị cấp lại mật khẩu.",
                  "This link has expired and the password is no longer kept. Ask for a new password.")


class LinkGone(DomainError):
    """The link existed but can no longer be opened (used or expired): HTTP 410."""

    code = "gone"


class LinkState(enum.StrEnum):
    WAITING = "chua_mo"
    OPENED = "da_mo"
    EXPIRED = "het_han"


@dataclass(frozen=True)
class LinkInfo:
    """What a link's page and the instance's card show: never the token, never the password."""

    id: int
    system: str
    account: str
    recipient: str
    created_at: datetime
    expires_at: datetime
    opened_at: datetime | None
    state: LinkState

    @property
    def system_name(self) -> str:
        return SYSTEMS.get(self.system, self.system)


@dataclass(frozen=True)
class Revealed:
    account: str
    system: str
    password: str

    @property
    def system_name(self) -> str:
        return SYSTEMS.get(self.system, self.system)


# ---------------------------------------------------------------- sealing


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _keystream(token: str, size: int) -> bytes:
    return hashlib.shake_256(_LABEL + token.encode()).digest(size)


def seal(password: str, token: str) -> bytes:
    """The password XOR a keystream from the token, padded with NULs to hide its length."""
    data = password.encode("utf-8")
    data += b"\0" * max(0, _PADDED - len(data))
    return bytes(a ^ b for a, b in zip(data, _keystream(token, len(data)), strict=True))


def unseal(sealed: bytes, token: str) -> str:
    data = bytes(a ^ b for a, b in zip(sealed, _keystream(token, len(sealed)), strict=True))
    return data.rstrip(b"\0").decode("utf-8")


# ---------------------------------------------------------------- issuing and opening


def issue(session: Session, settings: Settings, *, call_key: str, instance_id: int | None, system: str,
          account: str, recipient: str, password: str, now: datetime) -> str | None:
    """A new link's token, its row added to `session` (the caller commits); None, and nothing done,
    when the operation `call_key` already has a link."""
    if session.scalar(select(CredentialLink.id).where(CredentialLink.call_key == call_key)) is not None:
        return None
    token = secrets.token_urlsafe(32)
    session.add(CredentialLink(
        token_hash=token_hash(token), call_key=call_key, instance_id=instance_id, system=system,
        account=account, recipient=recipient, sealed=seal(password, token), created_at=now,
        expires_at=now + timedelta(hours=settings.credential_link_hours)))
    session.flush()
    return token


def link_url(settings: Settings, token: str) -> str:
    return settings.public_base_url.rstrip("/") + LINK_PATH + token


def _state(link: CredentialLink, now: datetime) -> LinkState:
    if link.opened_at is not None:
        return LinkState.OPENED
    if link.expires_at <= now or link.sealed is None:
        return LinkState.EXPIRED
    return LinkState.WAITING


def _info(link: CredentialLink, now: datetime) -> LinkInfo:
    return LinkInfo(link.id, link.system, link.account, link.recipient, link.created_at, link.expires_at,
                    link.opened_at, _state(link, now))


def _check_open(link: CredentialLink | None, now: datetime) -> CredentialLink:
    if link is None:
        raise NotFound(UNKNOWN)
    state = _state(link, now)
    if state == LinkState.OPENED:
        raise LinkGone(USED, details="used")
    if state == LinkState.EXPIRED:
        raise LinkGone(EXPIRED, details="expired")
    return link


def _openable(uow: UnitOfWork, token: str, now: datetime) -> CredentialLink:
    """The token's link if it can still be opened. Unknown or malformed (not looked up) → NotFound;
    used or expired → LinkGone, and an expired link met here loses its sealed password."""
    link = None
    if _TOKEN.fullmatch(token):
        link = uow.session.scalar(select(CredentialLink).where(CredentialLink.token_hash == token_hash(token)))
    try:
        return _check_open(link, now)
    except LinkGone:
        _forget_if_expired(uow, link, now)
        raise


def peek(uow: UnitOfWork, token: str, now: datetime) -> LinkInfo:
    """Which account the link is for, without opening it (mail scanners fetch links too)."""
    return _info(_openable(uow, token, now), now)


def reveal(uow: UnitOfWork, token: str, now: datetime) -> Revealed:
    """The password, exactly once: the link is marked opened and its sealed password cleared in the
    same commit. Unknown → NotFound; used or expired → LinkGone."""
    link = _openable(uow, token, now)
    assert link.sealed is not None
    password = unseal(link.sealed, token)
    # Only the request whose update finds the link still unopened may show the password.
    claimed = uow.session.execute(
        update(CredentialLink)
        .where(CredentialLink.id == link.id, CredentialLink.opened_at.is_(None), CredentialLink.sealed.is_not(None))
        .values(opened_at=now, sealed=None)
        .execution_options(synchronize_session=False))
    if getattr(claimed, "rowcount", 0) != 1:
        uow.rollback()
        raise LinkGone(USED, details="used")
    event = audit.record(uow.session, None, "credential_opened", instance_id=link.instance_id,
                         summary=f"Người nhận đã mở liên kết nhận mật khẩu tài khoản {link.account} "
                                 f"({SYSTEMS.get(link.system, link.system)})")
    event.actor_name = f"Người nhận liên kết ({recipient_name(uow.session, link.recipient)})"
    uow.commit()
    return Revealed(link.account, link.system, password)


def _forget_if_expired(uow: UnitOfWork, link: CredentialLink | None, now: datetime) -> None:
    if link is not None and link.sealed is not None and link.expires_at <= now:
        link.sealed = None
        uow.commit()


def purge_expired(session: Session, now: datetime) -> int:
    """Clear the sealed password of every expired link (the worker calls it on each run); how many.
    Only reads when there is nothing to clear, so the worker's loop takes no write lock for it."""
    expired = (CredentialLink.expires_at <= now) & CredentialLink.sealed.is_not(None)
    if session.scalar(select(CredentialLink.id).where(expired).limit(1)) is None:
        return 0
    result = session.execute(update(CredentialLink).where(expired)
                             .values(sealed=None).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def links_of(session: Session, instance_id: int, now: datetime) -> list[LinkInfo]:
    """The instance's links for its page, oldest first, each recipient in words."""
    links = session.scalars(select(CredentialLink).where(CredentialLink.instance_id == instance_id)
                            .order_by(CredentialLink.id)).all()
    return [replace(_info(link, now), recipient=shown_recipient(session, link.recipient)) for link in links]


def token_in(text: str) -> str | None:
    """The token of the first password link in a message's text (the inbox links it within the platform)."""
    found = _LINK_IN_TEXT.search(text)
    return found.group(1) if found else None


# ---------------------------------------------------------------- recipients


@dataclass(frozen=True)
class Recipient:
    #: The notification's recipient: an e-mail address, or `user:<username>`.
    address: str
    #: How the message greets them.
    name: str = ""


def user_recipient(user: User) -> Recipient:
    """A platform user: by e-mail when they have one, otherwise in the platform's inbox."""
    email = (user.email or "").strip().lower()
    return Recipient(email or platform_user(user.username), user.full_name)


def recipient_name(session: Session, recipient: str) -> str:
    """The address, or the platform user's full name."""
    if is_address(recipient):
        return recipient
    username = recipient.removeprefix(USER_PREFIX)
    user = session.scalar(select(User).where(User.username == username))
    return user.full_name if user else username


def shown_recipient(session: Session, recipient: str) -> str:
    """Where a link went, in words for the results and the instance page."""
    if is_address(recipient):
        return recipient
    return f"mục Thông báo của {recipient_name(session, recipient)} trên hệ thống"


def _recipient_of(session: Session, call_key: str) -> str | None:
    """The recipient of operation `call_key`'s link, None when it has none."""
    return session.scalar(select(CredentialLink.recipient).where(CredentialLink.call_key == call_key))


def _instance_of(session: Session, key: str, context: CallContext | None) -> ProcessInstance | None:
    instance_id = context.instance_id if context is not None else session.scalar(
        select(ServiceCall.instance_id).where(ServiceCall.idempotency_key == key))
    return session.get(ProcessInstance, instance_id) if instance_id is not None else None


# ---------------------------------------------------------------- the message


def _local_time(settings: Settings, moment: datetime) -> str:
    local = moment.astimezone(ZoneInfo(settings.timezone))
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def link_message(settings: Settings, *, system: str, account: str, what: str, url: str, expires_at: datetime,
                 instance_id: int | None, greeting: str, for_owner: bool) -> tuple[str, str]:
    """Subject and body (Vietnamese) of a link's notification."""
    system_name = SYSTEMS.get(system, system)
    subject = f"Mật khẩu tài khoản {account} ({system_name}) — liên kết dùng một lần"
    dossier = f" theo hồ sơ số {instance_id}" if instance_id is not None else ""
    hand_over = ("" if for_owner else
                 "Anh/chị là người đề nghị: hãy chuyển mật khẩu cho người sử dụng tài khoản qua kênh an toàn "
                 "(trực tiếp hoặc điện thoại, không gửi qua thư điện tử).\n")
    body = (
        f"Kính gửi {greeting or 'anh/chị'},\n\n"
        f"Tài khoản {account} ({system_name}) đã được {what}{dossier}.\n\n"
        "Mật khẩu được giao qua liên kết dưới đây. Liên kết chỉ mở được MỘT LẦN và hết hạn lúc "
        f"{_local_time(settings, expires_at)} (giờ Việt Nam):\n\n"
        f"{url}\n\n"
        "Sau khi mở, hãy ghi lại mật khẩu ngay: trang sẽ không hiện lại mật khẩu lần nữa.\n"
        f"{hand_over}"
        "Hãy đổi mật khẩu ở lần đăng nhập đầu tiên. Nếu liên kết đã hết hạn, hoặc báo đã được sử dụng mà "
        "anh/chị chưa mở, hãy báo Trung tâm Chuyển đổi số để cấp lại mật khẩu.\n\n"
        "Thư gửi tự động từ Hệ thống quy trình nội bộ; vui lòng không trả lời thư này.\n")
    return subject, body


# ---------------------------------------------------------------- delivery: the adapters' password sinks

MAIL_ACTIONS = {"cap_moi": "cấp mới", "cap_lai_mat_khau": "cấp lại mật khẩu"}


class PasswordDelivery:
    """Issues the link and notifies the recipient; the adapters' password sinks (wired by the registry).

    With a `session` the link and the notification row join the caller's transaction (the local mail
    directory commits them with the mailbox); without one they commit on their own. The e-mail, if
    any, leaves before that commit: a failed send raises AdapterError and nothing is kept, so the
    retried operation issues a fresh link.
    """

    def __init__(self, settings: Settings, session_factory: Callable[[], Session], notifier: Notifier,
                 clock: Callable[[], datetime]) -> None:
        self._settings = settings
        self._sessions = session_factory
        self._notifier = notifier
        self._clock = clock

    def deliver(self, session: Session, *, key: str, instance_id: int | None, system: str, account: str,
                what: str, password: str, recipient: Recipient, for_owner: bool) -> str:
        """Where the link went, in words; an operation that already has a link keeps it (no second send)."""
        now = self._clock()
        token = issue(session, self._settings, call_key=key, instance_id=instance_id, system=system,
                      account=account, recipient=recipient.address, password=password, now=now)
        if token is None:  # the link of an earlier attempt stands, with its recipient
            return shown_recipient(session, _recipient_of(session, key) or recipient.address)
        expires_at = now + timedelta(hours=self._settings.credential_link_hours)
        subject, body = link_message(self._settings, system=system, account=account, what=what,
                                     url=link_url(self._settings, token), expires_at=expires_at,
                                     instance_id=instance_id, greeting=recipient.name, for_owner=for_owner)
        self._notifier.send(f"credential:{key}", recipient.address, subject, body, instance_id, session=session)
        return shown_recipient(session, recipient.address)

    # ------------------------------------------------------------ the mail directory's sink

    def __call__(self, key: str, context: CallContext | None, action: str, address: str, password: str,
                 session: Session | None = None) -> str:
        """Mail directory: the new mailbox cannot receive mail yet, so the link goes to the officer who
        requested it, the instance's initiator (by e-mail, or in the platform when they have none)."""
        with session_scope(self._sessions, session) as s:
            instance = _instance_of(s, key, context)
            if instance is None:
                raise AdapterError(f"Không xác định được hồ sơ của thao tác {key}: không biết gửi mật khẩu cho ai")
            return self.deliver(s, key=key, instance_id=instance.id, system=MAIL, account=address,
                                what=MAIL_ACTIONS.get(action, "cấp mật khẩu mới"), password=password,
                                recipient=user_recipient(instance.initiator), for_owner=False)

    def delivered(self, key: str) -> str | None:
        """Where the link of operation `key` went, or None when it has none."""
        with self._sessions() as s:
            recipient = _recipient_of(s, key)
            return shown_recipient(s, recipient) if recipient is not None else None

    # ------------------------------------------------------------ the project software's sink

    def to_owner(self, key: str, email: str, password: str) -> None:
        """Project software (`password_sink`): the link goes to the row's own Đồng Tháp address."""
        with session_scope(self._sessions, None) as s:
            instance = _instance_of(s, key, None)
            self.deliver(s, key=key, instance_id=instance.id if instance else None, system=PROJECT,
                         account=email, what="cấp mật khẩu mới", password=password,
                         recipient=Recipient(email.strip().lower()), for_owner=True)

    # ------------------------------------------------------------ the MCU's sink

    def to_requester(self, key: str, context: CallContext | None, account: str, email: str, password: str,
                     session: Session | None = None) -> str:
        """MCU (one call per endpoint account, `key` unique per account): the link goes to the officer
        who registered the meeting (`email_can_bo`), who hands each endpoint its own account; without a
        usable address, to the instance's initiator. Returns where it went, in words."""
        with session_scope(self._sessions, session) as s:
            instance = _instance_of(s, key, context)
            address = email.strip().lower()
            if is_address(address):
                recipient = Recipient(address)
            elif instance is not None:
                recipient = user_recipient(instance.initiator)
            else:
                raise AdapterError(f"Không xác định được người nhận mật khẩu tài khoản {account}: "
                                   "thiếu thư điện tử cán bộ phụ trách (email_can_bo)")
            return self.deliver(s, key=key, instance_id=instance.id if instance else None, system=MCU,
                                account=account, what="cấp mới", password=password, recipient=recipient,
                                for_owner=False)
