"""The hotline's e-mail channel: each unread message in the mailbox becomes a ticket, acknowledged by e-mail.

`poll` reads the unread messages (engine.adapters.imap_mailbox) one by one:
- an automatic message (Auto-Submitted other than "no", Precedence bulk/junk/list, a delivery report, an
  empty, MAILER-DAEMON or postmaster sender, or the platform's own address) is marked read: no ticket and
  never an acknowledgement, so two robots cannot answer each other forever;
- any other message is parsed (the text part, else the HTML part stripped to text; attachments named, not
  kept), taken in by `hotline.intake` (channel email, the Message-ID as the external id, or a digest of the
  whole message when it has none), acknowledged (`hotline.acknowledge`) and the acknowledgement sent to
  the sender on the NOTIFICATIONS channel — then, and only then, marked read;
- a message that can never become a ticket (too large, unreadable, refused by the intake's checks, e.g. a
  malformed sender address) is marked read and flagged (\\Flagged) so a person sees it in the mailbox;
- a technical failure on our side (the database, the SMTP server of the acknowledgement) leaves the
  message unread: the next poll takes it again, finds its ticket by Message-ID and retries what is left.
One message's failure never stops the others. `MailPolling` is the worker's timer around `poll`.
"""
from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import cast

from sqlalchemy.exc import SQLAlchemyError

from engine.adapters.base import AdapterError
from engine.adapters.imap_mailbox import ImapMailbox, MailboxReader
from engine.domain.errors import DomainError, InvalidData
from engine.persistence.models import HotlineTicket
from engine.persistence.uow import UnitOfWork
from engine.services import hotline
from engine.services.context import Services
from engine.services.meeting_documents import notifier_for

log = logging.getLogger(__name__)

UowFactory = Callable[[], UnitOfWork]
#: At most this many messages per poll; the rest wait for the next one (a flood cannot hold the worker).
MAX_PER_POLL = 200
MAX_SUBJECT = 300
_ROBOT_SENDERS = ("mailer-daemon", "postmaster")
_BULK = frozenset({"bulk", "junk", "list"})


@dataclass
class PollSummary:
    """What one read of the mailbox did."""

    #: Codes of the tickets made from new messages.
    tickets: list[str] = field(default_factory=list)
    #: Messages already taken (the same Message-ID again): no second ticket.
    repeated: int = 0
    #: Automatic replies and delivery reports: read, no ticket, no acknowledgement.
    automatic: int = 0
    #: Messages flagged for a person (too large, unreadable, or refused by the intake's checks).
    flagged: int = 0
    #: Messages left unread after a technical failure, taken again at the next poll.
    retry: int = 0
    acknowledged: int = 0

    def text(self) -> str:
        """The summary in Vietnamese (the CLI prints it, the worker logs it)."""
        made = f"{len(self.tickets)} phiếu mới" + (f" ({', '.join(self.tickets)})" if self.tickets else "")
        return (f"Đã đọc hộp thư: {made}; {self.repeated} thư đã có phiếu; {self.acknowledged} thư xác nhận "
                f"đã gửi; {self.automatic} thư tự động bỏ qua; {self.flagged} thư gắn cờ cần xem; "
                f"{self.retry} thư để lần sau.")


@dataclass(frozen=True)
class MailContact:
    """What a message says, as the intake takes it."""

    sender: str
    name: str
    subject: str
    content: str
    external_id: str


# ---------------------------------------------------------------- reading a message


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, message_from_bytes(raw, policy=policy.default))


def _header(msg: Message, name: str) -> str:
    value = msg.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def sender_of(msg: Message) -> tuple[str, str]:
    """(address, display name) of the From header; ("", "") when there is no single address."""
    pairs = [(n, a) for n, a in getaddresses([_header(msg, "From")]) if a]
    if len(pairs) != 1:
        return "", ""
    name, address = pairs[0]
    return address.strip(), " ".join(name.split())[:hotline.MAX_NAME]


def is_automatic(msg: Message, own_addresses: frozenset[str]) -> bool:
    """An auto-reply, a bulk/list message or a delivery report: never a ticket, never answered (RFC 3834)."""
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return True
    if _header(msg, "Precedence").lower() in _BULK:
        return True
    if msg.get("X-Autoreply") is not None or msg.get("X-Autorespond") is not None:
        return True
    if msg.get_content_type() == "multipart/report" or _header(msg, "Return-Path") == "<>":
        return True
    address, _name = sender_of(msg)
    local = address.partition("@")[0].lower()
    return not address or local in _ROBOT_SENDERS or address.lower() in own_addresses


class _TextOfHtml(HTMLParser):
    """The text of an HTML body: tags dropped, script and style skipped, entities decoded, blocks as lines.
    Python's own tokenizer: no external parser and no network access on hostile input."""

    _SKIP = frozenset({"script", "style", "head", "title"})
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _content_of(part: Message) -> str:
    try:
        return str(cast(EmailMessage, part).get_content())
    except (LookupError, ValueError, AssertionError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _tidy(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.replace("\r", "").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def body_of(msg: EmailMessage) -> tuple[str, list[str]]:
    """(text of the message, names of its attachments): the text/plain part preferred, else the HTML one."""
    part = msg.get_body(preferencelist=("plain", "html"))
    text = ""
    if part is not None:
        text = _content_of(part)
        if part.get_content_type() == "text/html":
            text = html_to_text(text)
    names = [" ".join((a.get_filename() or "không tên").split())[:100] for a in msg.iter_attachments()]
    return _tidy(text), names


def contact_of(raw: bytes, msg: EmailMessage) -> MailContact:
    sender, name = sender_of(msg)
    subject = _header(msg, "Subject")[:MAX_SUBJECT]
    body, attachments = body_of(msg)
    note = ""
    if attachments:
        note = (f"\n\n[Thư có {len(attachments)} tệp đính kèm, không lưu vào phiếu: "
                f"{', '.join(attachments)[:500]}]")
    text = "\n\n".join(p for p in (subject, body) if p) or "(Thư không có tiêu đề và nội dung)"
    room = hotline.MAX_CONTENT - len(note)
    if len(text) > room:
        cut = f"\n[… đã cắt bớt: thư dài {len(text)} ký tự, phiếu giữ {hotline.MAX_CONTENT} ký tự đầu]"
        text = text[:room - len(cut)].rstrip() + cut
    message_id = _header(msg, "Message-ID")
    if not message_id or len(message_id) > hotline.MAX_EXTERNAL_ID:
        message_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    return MailContact(sender, name, subject, text + note, message_id)


# ---------------------------------------------------------------- the poll


def poll(uow_factory: UowFactory, services: Services, reader: MailboxReader) -> PollSummary:
    """Read the unread messages once (see the module's docstring); AdapterError when the mailbox cannot be
    read at all (nothing is marked then)."""
    summary = PollSummary()
    with uow_factory() as uow:
        hotline.duty_operator(uow)  # no operator: nothing could be taken, so leave every message unread
    settings = services.settings
    own = frozenset(a.lower() for a in (settings.smtp_from, settings.hotline_imap_user) if "@" in a)
    with reader as box:
        for uid in box.unseen()[:MAX_PER_POLL]:
            _one(uow_factory, services, box, uid, own, summary)
    log.info("hotline mail: %s", summary.text())
    return summary


def _one(uow_factory: UowFactory, services: Services, box: MailboxReader, uid: str, own: frozenset[str],
         summary: PollSummary) -> None:
    fetched = box.fetch(uid)
    if fetched.raw is None:
        log.warning("hotline mail UID %s: %d bytes, over the limit of %d: flagged", uid, fetched.size,
                    box.max_bytes)
        box.mark_seen(uid, flag=True)
        summary.flagged += 1
        return
    try:
        msg = parse(fetched.raw)
        if is_automatic(msg, own):
            box.mark_seen(uid)
            summary.automatic += 1
            return
        contact = contact_of(fetched.raw, msg)
    except (ValueError, LookupError, TypeError, IndexError, AttributeError) as exc:  # a malformed message
        log.warning("hotline mail UID %s: cannot be read (%s): flagged", uid, type(exc).__name__)
        box.mark_seen(uid, flag=True)
        summary.flagged += 1
        return
    try:
        done = take(uow_factory, services, contact)
    except InvalidData as err:  # the message itself can never pass (e.g. a malformed sender address)
        log.warning("hotline mail UID %s from %s: refused (%s): flagged", uid, contact.sender, err.message.en)
        box.mark_seen(uid, flag=True)
        summary.flagged += 1
        return
    except (DomainError, AdapterError, SQLAlchemyError, OSError) as exc:  # ours: a race, the process, SMTP
        log.warning("hotline mail UID %s: %s; left unread for the next poll", uid, exc)
        summary.retry += 1
        return
    except Exception:  # e.g. the process's script failing: the other messages still go in
        log.exception("hotline mail UID %s: intake failed; left unread for the next poll", uid)
        summary.retry += 1
        return
    code, new, acknowledged = done
    box.mark_seen(uid)
    if new:
        summary.tickets.append(code)
    else:
        summary.repeated += 1
    summary.acknowledged += acknowledged


def take(uow_factory: UowFactory, services: Services, contact: MailContact) -> tuple[str, bool, bool]:
    """Intake and acknowledgement of one message: (ticket code, whether the ticket is new, whether an
    acknowledgement went out now). Repeating it for the same message changes nothing more."""
    with uow_factory() as uow:
        new = hotline.by_external_id(uow, contact.external_id) is None
        ticket = hotline.intake(uow, services, None, channel=hotline.Channel.EMAIL.value, caller=contact.name,
                                email=contact.sender, content=contact.content, external_id=contact.external_id)
        code = ticket.code
    with uow_factory() as uow:  # the ticket is committed; the acknowledgement is a transaction of its own
        fresh = hotline.by_external_id(uow, contact.external_id)
        assert fresh is not None
        acknowledged = _acknowledge(uow, services, fresh, contact)
        uow.commit()
    return code, new, acknowledged


def _acknowledge(uow: UnitOfWork, services: Services, ticket: HotlineTicket, contact: MailContact) -> bool:
    text = hotline.acknowledge(uow, services, ticket, via="email")
    if text is None:
        return False
    subject = f"[{ticket.code}] Tổng đài 1022 đã nhận thư của Quý khách"
    if contact.subject:
        subject += f": {contact.subject}"[:200]
    body = (f"Kính gửi Quý khách,\n\n{text}\n\nTổng đài sẽ trả lời Quý khách theo địa chỉ thư này. Khi liên hệ "
            f"lại, xin Quý khách ghi mã phiếu {ticket.code}.\n\nĐây là thư trả lời tự động, xin đừng trả lời "
            "thư này.\n\nTổng đài Thông tin dịch vụ công 1022 tỉnh Đồng Tháp")
    notifier_for(services).send(f"hotline-ack:{ticket.code}", ticket.email, subject, body, ticket.instance_id,
                                session=uow.session)
    return True


def read_mail(uow_factory: UowFactory, services: Services, reader: MailboxReader | None = None) -> PollSummary:
    """One poll of the mailbox the settings name (the CLI's `flask hotline read-mail`)."""
    return poll(uow_factory, services, reader or ImapMailbox(services.settings))


class MailPolling:
    """The worker's reading of the mailbox: one poll every HOTLINE_IMAP_POLL_SECONDS when HOTLINE_IMAP_HOST
    is set. A failure (mailbox unreachable, database down) is logged and the poll tried again at the next
    turn; it never reaches the worker's loop, whose other duties go on."""

    def __init__(self, services: Services, reader: Callable[[], MailboxReader] | None = None,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self._services = services
        self._reader = reader or (lambda: ImapMailbox(services.settings))
        self._timer = timer
        self._next = timer()

    @property
    def enabled(self) -> bool:
        return bool(self._services.settings.hotline_imap_host)

    def tick(self, uow_factory: UowFactory) -> PollSummary | None:
        """Poll when the time has come; the summary, or None when it was not time or the poll failed."""
        now = self._timer()
        if not self.enabled or now < self._next:
            return None
        self._next = now + self._services.settings.hotline_imap_poll_seconds
        try:
            return poll(uow_factory, self._services, self._reader())
        except (AdapterError, DomainError, SQLAlchemyError, OSError) as exc:
            reason = exc.message.en if isinstance(exc, DomainError) else str(exc)
            log.warning("hotline mail: poll failed, trying again in %d s: %s",
                        self._services.settings.hotline_imap_poll_seconds, reason)
        except Exception:  # whatever happens here must not stop the worker's other duties
            log.exception("hotline mail: poll failed, trying again in %d s",
                          self._services.settings.hotline_imap_poll_seconds)
        return None
