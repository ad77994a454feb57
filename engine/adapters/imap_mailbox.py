"""The hotline's mailbox: reads unread messages over IMAP (HOTLINE_IMAP_*), flags them once handled.

- TLS from the start (IMAPS) with the system's certificate checks when HOTLINE_IMAP_TLS=1 (the default);
  plain IMAP only to a server on this machine (the password would otherwise cross the network in clear).
- Messages are addressed by UID and read with BODY.PEEK[], which leaves them unread: a message is marked
  \\Seen only by `mark_seen`, after its ticket was committed, so a crash in between leaves it unread for the
  next poll (whose intake finds the ticket by Message-ID instead of making a second one).
- A message larger than `max_bytes` is not downloaded (`Fetched.raw` is None).
- Every failure is an AdapterError with a Vietnamese message; the password never appears in one, in a log
  line or in the reader's repr.
"""
from __future__ import annotations

import imaplib
import logging
import re
import ssl
from contextlib import suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from engine.adapters.base import AdapterError
from engine.adapters.notifications import LOOPBACK
from engine.settings import Settings

log = logging.getLogger(__name__)

#: Messages above this size are not read (flagged for a person to open in a mail client).
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
TIMEOUT_SECONDS = 30.0
SEEN, FLAGGED = "\\Seen", "\\Flagged"
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass(frozen=True)
class Fetched:
    uid: str
    size: int
    #: The whole message as received; None when it is larger than the reader's limit.
    raw: bytes | None


class MailboxReader(Protocol):
    """What the hotline's mail intake needs from a mailbox (engine.services.hotline_mail)."""

    max_bytes: int

    def __enter__(self) -> MailboxReader: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def unseen(self) -> list[str]:
        """UIDs of the unread messages, oldest first."""

    def fetch(self, uid: str) -> Fetched:
        """The message, left unread."""

    def mark_seen(self, uid: str, *, flag: bool = False) -> None:
        """Mark the message read; `flag` also flags it (\\Flagged) for a person to look at."""


class ImapMailbox:
    """`with ImapMailbox(settings) as box:` logs in and opens HOTLINE_IMAP_FOLDER; logs out on the way out."""

    def __init__(self, settings: Settings, *, max_bytes: int = MAX_MESSAGE_BYTES,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        if not settings.hotline_imap_host:
            raise AdapterError("Chưa cấu hình hộp thư của Tổng đài 1022 (HOTLINE_IMAP_HOST).")
        if not settings.hotline_imap_tls and settings.hotline_imap_host not in LOOPBACK:
            raise AdapterError("HOTLINE_IMAP_TLS=0 chỉ dùng được với máy chủ thư trên cùng máy (127.0.0.1, ::1, "
                               "localhost): mật khẩu hộp thư không được gửi qua mạng mà không mã hóa.")
        self._settings = settings
        self.max_bytes = max_bytes
        self._timeout = timeout
        self._conn: imaplib.IMAP4 | None = None

    def __repr__(self) -> str:  # the password stays out of reprs and tracebacks
        s = self._settings
        return (f"ImapMailbox(host={s.hotline_imap_host!r}, port={s.hotline_imap_port}, "
                f"user={s.hotline_imap_user!r}, folder={s.hotline_imap_folder!r})")

    @property
    def _where(self) -> str:
        return f"{self._settings.hotline_imap_host}:{self._settings.hotline_imap_port}"

    def __enter__(self) -> ImapMailbox:
        s = self._settings
        try:
            if s.hotline_imap_tls:
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(s.hotline_imap_host, s.hotline_imap_port,
                                                        ssl_context=ssl.create_default_context(),
                                                        timeout=self._timeout)
            else:
                conn = imaplib.IMAP4(s.hotline_imap_host, s.hotline_imap_port, timeout=self._timeout)
        except (OSError, imaplib.IMAP4.error) as exc:
            log.warning("IMAP %s: cannot connect (%s)", self._where, type(exc).__name__)
            raise AdapterError(f"Không kết nối được máy chủ thư IMAP {self._where}: {_reason(exc)}") from None
        self._conn = conn
        try:
            conn.login(s.hotline_imap_user, s.hotline_imap_password)
        except imaplib.IMAP4.error:
            self._close()
            log.warning("IMAP %s: login refused for %s", self._where, s.hotline_imap_user)
            # `from None`: the exception chain would carry the login call's arguments into tracebacks.
            raise AdapterError(f"Máy chủ thư IMAP {self._where} từ chối đăng nhập tài khoản "
                               f"“{s.hotline_imap_user}”: kiểm tra HOTLINE_IMAP_USER và HOTLINE_IMAP_PASSWORD."
                               ) from None
        except OSError as exc:
            self._close()
            raise AdapterError(f"Mất kết nối với máy chủ thư IMAP {self._where}: {_reason(exc)}") from None
        typ, data = self._call("SELECT", lambda: conn.select(_quoted(s.hotline_imap_folder)))
        if typ != "OK":
            self._close()
            raise AdapterError(f"Không mở được thư mục “{s.hotline_imap_folder}” của hộp thư trên {self._where} "
                               f"(HOTLINE_IMAP_FOLDER): {_text(data)}")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._conn is not None:
            with suppress(OSError, imaplib.IMAP4.error):  # the server is gone: nothing left to close politely
                self._conn.logout()
            self._conn = None

    def _close(self) -> None:
        self.__exit__(None, None, None)

    def _call(self, what: str, command):  # type: ignore[no-untyped-def]
        try:
            return command()
        except (OSError, imaplib.IMAP4.error) as exc:
            raise AdapterError(f"Lỗi khi đọc hộp thư IMAP {self._where} ({what}): {_reason(exc)}") from None

    def _uid(self, *args: str) -> list:  # type: ignore[type-arg]
        conn = self._conn
        if conn is None:
            raise AdapterError("Hộp thư IMAP chưa được mở.")
        typ, data = self._call(args[0], lambda: conn.uid(*args))
        if typ != "OK":
            raise AdapterError(f"Máy chủ thư IMAP {self._where} không thực hiện lệnh {args[0]}: {_text(data)}")
        return list(data)

    def unseen(self) -> list[str]:
        (found, *_rest) = self._uid("SEARCH", "UNSEEN") or [b""]
        uids = [int(u) for u in (found or b"").split() if u.isdigit()]
        return [str(u) for u in sorted(uids)]

    def fetch(self, uid: str) -> Fetched:
        size = self._size(uid)
        if size > self.max_bytes:
            return Fetched(uid, size, None)
        for item in self._uid("FETCH", uid, "(BODY.PEEK[])"):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return Fetched(uid, size, item[1])
        raise AdapterError(f"Máy chủ thư IMAP {self._where} không trả về nội dung thư UID {uid}.")

    def _size(self, uid: str) -> int:
        for item in self._uid("FETCH", uid, "(RFC822.SIZE)"):
            head = item[0] if isinstance(item, tuple) else item
            if isinstance(head, bytes) and (match := _SIZE.search(head)):
                return int(match.group(1))
        raise AdapterError(f"Máy chủ thư IMAP {self._where} không còn thư UID {uid}.")

    def mark_seen(self, uid: str, *, flag: bool = False) -> None:
        flags = f"({SEEN} {FLAGGED})" if flag else f"({SEEN})"
        self._uid("STORE", uid, "+FLAGS.SILENT", flags)


def _quoted(folder: str) -> str:
    """A mailbox name as an IMAP quoted string (names may hold spaces)."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: object) -> str:
    if isinstance(data, list | tuple):
        return " ".join(_text(d) for d in data if d is not None)[:300]
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")[:300]
    return str(data)[:300]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "hết thời gian chờ máy chủ trả lời"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"chứng chỉ TLS của máy chủ không hợp lệ ({exc.verify_message})"
    if isinstance(exc, ConnectionRefusedError):
        return "máy chủ từ chối kết nối (ConnectionRefusedError)"
    return f"{type(exc).__name__}: {_text(exc.args[0]) if exc.args else ''}".rstrip(": ")
