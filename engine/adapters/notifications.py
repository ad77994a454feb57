"""Notifications to people: the `local` channel (kept in the platform, read under "Thông báo") and `smtp`.

Every send is idempotent by key: a `notifications` row per key, so a retried operation does not
notify twice. `NOTIFICATIONS` picks the channel (engine.adapters.registry.build_notifier). A
recipient is an e-mail address or, for a platform user without one, `user:<username>`
(`platform_user`); the latter always stays in the platform, whatever the channel.

The `notification.send` topic (`NoticeOperation`) lets a diagram send a plain notice
(docs/adapters.md).
"""
from __future__ import annotations

import logging
import smtplib
import ssl
import string
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.adapters.base import AdapterError, CallContext
from engine.domain.secrets import is_secret
from engine.persistence.models import Notification
from engine.settings import Settings

log = logging.getLogger(__name__)

LOCAL, SMTP = "local", "smtp"
#: Prefix of a recipient that is a platform user (by username) rather than an e-mail address.
USER_PREFIX = "user:"
MAX_SUBJECT = 500
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def platform_user(username: str) -> str:
    """The recipient naming a platform user who has no e-mail address: read in the platform only."""
    return USER_PREFIX + username


def is_address(recipient: str) -> bool:
    """Whether `recipient` is an e-mail address (a platform user's recipient never holds an @)."""
    return not recipient.startswith(USER_PREFIX) and "@" in recipient


class Notifier(Protocol):
    """Sends one message per key; `session` joins the caller's transaction (the row commits with it)."""

    channel: str

    def send(self, key: str, recipient: str, subject: str, body: str, instance_id: int | None = None, *,
             session: Session | None = None) -> bool:
        """Send once per `key`; False when a message with this key was already sent (nothing done).
        Raise AdapterError when the message could not be handed over (the caller retries)."""


@contextmanager
def session_scope(sessions: Callable[[], Session], session: Session | None) -> Iterator[Session]:
    """The caller's session as is (it commits), or an own one from `sessions` committed at the end."""
    if session is not None:
        yield session
        return
    with sessions() as own:
        yield own
        own.commit()


def _sent_before(session: Session, key: str) -> bool:
    return session.scalar(select(Notification.id).where(Notification.key == key)) is not None


class LocalNotifier:
    """Keeps the message, body included, for the recipient to read in the platform."""

    channel = LOCAL

    def __init__(self, session_factory: Callable[[], Session], clock: Callable[[], datetime]) -> None:
        self._sessions = session_factory
        self._clock = clock

    def send(self, key: str, recipient: str, subject: str, body: str, instance_id: int | None = None, *,
             session: Session | None = None) -> bool:
        with session_scope(self._sessions, session) as s:
            if _sent_before(s, key):
                return False
            now = self._clock()
            s.add(Notification(key=key, instance_id=instance_id, recipient=recipient, subject=subject[:MAX_SUBJECT],
                               body=body, channel=LOCAL, created_at=now, sent_at=now))
            s.flush()
        return True


class SmtpNotifier:
    """Sends e-mail through the SMTP server of the settings; the row keeps no body (it may hold a
    one-time link). Recipients who are platform users without an address go to `fallback`."""

    channel = SMTP

    def __init__(self, settings: Settings, session_factory: Callable[[], Session],
                 clock: Callable[[], datetime], fallback: Notifier) -> None:
        if not settings.smtp_host or not settings.smtp_from or "@" not in settings.smtp_from:
            raise ValueError("NOTIFICATIONS=smtp: set SMTP_HOST and SMTP_FROM (an e-mail address)")
        if settings.smtp_user and not settings.smtp_starttls and settings.smtp_host not in LOOPBACK:
            raise ValueError("SMTP_USER is set without SMTP_STARTTLS=1: the password would cross the network in clear")
        self._settings = settings
        self._sessions = session_factory
        self._clock = clock
        self._fallback = fallback

    def __repr__(self) -> str:  # the SMTP password stays out of reprs and tracebacks
        return f"SmtpNotifier(host={self._settings.smtp_host!r}, port={self._settings.smtp_port})"

    def send(self, key: str, recipient: str, subject: str, body: str, instance_id: int | None = None, *,
             session: Session | None = None) -> bool:
        if not is_address(recipient):
            return self._fallback.send(key, recipient, subject, body, instance_id, session=session)
        with session_scope(self._sessions, session) as s:
            if _sent_before(s, key):
                return False
            now = self._clock()
            row = Notification(key=key, instance_id=instance_id, recipient=recipient, subject=subject[:MAX_SUBJECT],
                               body="", channel=SMTP, created_at=now)
            s.add(row)
            s.flush()  # a concurrent send of the same key fails here, before any mail leaves
            self._deliver(self.message(recipient, subject, body, now))
            row.sent_at = now
            s.flush()
        return True

    def message(self, recipient: str, subject: str, body: str, now: datetime) -> EmailMessage:
        """A UTF-8 message; the Vietnamese subject is encoded for the header by the email package."""
        msg = EmailMessage()
        msg["From"] = self._settings.smtp_from
        msg["To"] = recipient
        msg["Subject"] = subject
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = make_msgid(domain=self._settings.smtp_from.rpartition("@")[2])
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(body, charset="utf-8")
        return msg

    def _deliver(self, msg: EmailMessage) -> None:
        settings = self._settings
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.smtp_user:
                    smtp.login(settings.smtp_user, settings.smtp_password)
                smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise AdapterError("Máy chủ thư (SMTP) từ chối tài khoản gửi thư: kiểm tra SMTP_USER và "
                               f"SMTP_PASSWORD ({exc.smtp_code})") from exc
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("SMTP %s:%s failed: %s", settings.smtp_host, settings.smtp_port, type(exc).__name__)
            raise AdapterError(f"Không gửi được thư qua máy chủ SMTP {settings.smtp_host}:{settings.smtp_port}: "
                               f"{_reason(exc)}") from exc


def _reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "máy chủ từ chối người nhận " + ", ".join(sorted(exc.recipients))
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        return f"{exc.smtp_code} {error.decode('utf-8', 'replace') if isinstance(error, bytes) else error}"
    return f"{type(exc).__name__}: {exc}"


# ---------------------------------------------------------------- the notification.send topic

PLAIN = (str, int, float, bool, date)


class NoticeOperation:
    """`notification.send`: a plain notice from a diagram's service task.

    Properties (camunda:properties): `to` names the variable holding the recipient (an e-mail
    address, or a platform username), `subject` and `body` are texts with `{variable}` fields
    filled from the task's plain values (text, numbers, dates; never a variable naming a secret).
    """

    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    def __call__(self, key: str, data: Mapping[str, Any], context: CallContext) -> dict[str, Any]:
        props = context.properties
        variable = str(props.get("to") or "").strip()
        if not variable:
            raise AdapterError(f"Bước {context.element_id}: thiếu thuộc tính `to` (biến chứa người nhận)")
        recipient = str(data.get(variable) or "").strip()
        if not recipient:
            raise AdapterError(f"Bước {context.element_id}: biến {variable} không có người nhận")
        recipient = recipient.lower() if "@" in recipient else platform_user(recipient)
        values = {k: v for k, v in data.items() if isinstance(v, PLAIN) and not is_secret(k)}
        subject = fill(str(props.get("subject") or context.element_name or "Thông báo"), values, context)
        body = fill(str(props.get("body") or ""), values, context)
        self._notifier.send(f"notice:{key}", recipient, subject, body, context.instance_id)
        shown = recipient if is_address(recipient) else recipient.removeprefix(USER_PREFIX)
        return {"thong_bao_da_gui": {"ket_qua": f"Đã gửi thông báo tới {shown}", "nguoi_nhan": shown}}


def fill(template: str, values: Mapping[str, Any], context: CallContext) -> str:
    """`template` with each `{name}` replaced; only plain names (no attribute, index or format spec
    that could reach into objects), and an unknown name is a modelling error."""
    out: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise AdapterError(f"Bước {context.element_id}: mẫu thông báo sai cú pháp ({exc})") from exc
    for literal, name, spec, conversion in parsed:
        out.append(literal)
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise AdapterError(f"Bước {context.element_id}: trường {{{name}}} không hợp lệ, chỉ dùng {{tên_biến}}")
        if name not in values:
            raise AdapterError(f"Bước {context.element_id}: không có biến {name} để điền vào thông báo")
        value = values[name]
        plain_day = isinstance(value, date) and not isinstance(value, datetime)
        out.append(value.strftime("%d/%m/%Y") if plain_day else str(value))
    return "".join(out)
