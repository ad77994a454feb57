"""The hotline 1022's pages open to everyone (no login): the public form and the public ticket lookup.

- `new_form` / `form_for` give the form a signed token (itsdangerous, the app's secret key): the time the form
  was shown and the two numbers of a simple Vietnamese sum ("Bảy cộng hai bằng mấy?").
- `submit` refuses, creating nothing, a filled hidden honeypot field (with a generic message), a forged token,
  a form sent less than MIN_AGE after it was shown or more than MAX_AGE after, a wrong sum, more than
  `settings.hotline_public_per_hour` contacts from one client address in an hour, and a contact without a
  phone number or an e-mail address to reply to. Otherwise it takes a `web` ticket (hotline.intake, no
  operator), records the automatic acknowledgement and, for a given e-mail address, mails it once.
- `lookup` finds a ticket by its code AND the phone number given with it, at most
  `settings.hotline_lookup_per_hour` times an hour per address, and shows only what the citizen may see.
"""
from __future__ import annotations

import logging
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import delete, select

from engine.adapters.base import AdapterError
from engine.adapters.notifications import SMTP
from engine.domain.errors import InvalidData, RateLimited
from engine.domain.hotline import FIELDS_BY_CODE
from engine.domain.messages import Message
from engine.persistence.models import HotlineTicket, Notification
from engine.persistence.uow import UnitOfWork
from engine.services import hotline, meeting_documents, rate_limits
from engine.services.context import Services

log = logging.getLogger(__name__)

#: The form may be sent no sooner than this after it was shown (people read and type; scripts do not)…
MIN_AGE = timedelta(seconds=3)
#: …and no later (a token is not kept for ever).
MAX_AGE = timedelta(hours=2)
HOUR = 3600
SALT = "hotline-public-form"
#: The page's path for the lookup, named in the acknowledgement mail.
LOOKUP_PATH = "/cong-khai/tra-cuu-phieu"
MAX_ADDRESS = 100

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
#: The sums' results as words, besides digits: 2..18.
ANSWER_WORDS = {**{DIGITS[n]: n for n in range(2, 10)}, "mười": 10, "mười một": 11, "mười hai": 12, "mười ba": 13,
          "mười bốn": 14, "mười lăm": 15, "mười năm": 15, "mười sáu": 16, "mười bảy": 17, "mười tám": 18}


REFUSED = Message("Không gửi được câu hỏi. Vui lòng tải lại trang và gửi lại, hoặc gọi Tổng đài 1022.",
                  "The question could not be sent. Reload the page and try again, or call 1022.")
FORGED = Message("Biểu mẫu không hợp lệ. Vui lòng tải lại trang và gửi lại câu hỏi.",
                 "The form is not valid. Reload the page and send the question again.")
TOO_FAST = Message("Biểu mẫu được gửi quá nhanh. Vui lòng kiểm tra lại nội dung rồi bấm “Gửi” lần nữa.",
                   "The form was sent too quickly. Check what you wrote and press “Send” again.")
TOO_OLD = Message("Biểu mẫu đã mở quá 2 giờ nên đã hết hạn. Vui lòng trả lời câu hỏi kiểm tra mới rồi gửi lại.",
                  "The form was open for more than 2 hours and expired. Answer the new check question and "
                  "send again.")
WRONG_ANSWER = Message("Kết quả phép tính kiểm tra chưa đúng. Vui lòng tính lại và nhập kết quả bằng chữ số.",
                       "The answer to the check question is wrong. Work it out again and type it in digits.")
NO_CONTACT = Message("Vui lòng cho biết số điện thoại hoặc địa chỉ thư điện tử để Tổng đài trả lời Quý khách.",
                     "Give a phone number or an e-mail address so the hotline can reply.")
NOT_FOUND = Message("Không tìm thấy phiếu với mã và số điện thoại này.",
                    "No ticket with this code and phone number.")
LOOKUP_EMPTY = Message("Vui lòng nhập mã phiếu và số điện thoại đã cung cấp khi gửi.",
                       "Enter the ticket code and the phone number given with it.")


def _too_many(limit: int, what: str, what_en: str) -> RateLimited:
    return RateLimited(Message(
        f"Đã có quá {limit} lượt {what} từ địa chỉ mạng của Quý khách trong một giờ. Vui lòng thử lại sau "
        "hoặc gọi Tổng đài 1022.",
        f"More than {limit} {what_en} from your network address within an hour. Try again later or call 1022."))


# ---------------------------------------------------------------- the form's token and check question


@dataclass(frozen=True)
class PublicForm:
    token: str
    #: The check question, e.g. "Bảy cộng hai bằng mấy?".
    question: str


def _serializer(secret: str) -> URLSafeSerializer:
    if not secret:
        raise ValueError("the public form needs the application's secret key")
    return URLSafeSerializer(secret, salt=SALT)


def question_text(x: int, y: int) -> str:
    return f"{DIGITS[x].capitalize()} cộng {DIGITS[y]} bằng mấy?"


def new_form(secret: str, now: datetime, rng: random.Random | None = None) -> PublicForm:
    """A form shown at `now`: its token signs the time and the sum's two numbers (1–9 each)."""
    pick = rng or random.SystemRandom()
    x, y = pick.randint(1, 9), pick.randint(1, 9)
    token = str(_serializer(secret).dumps({"t": int(now.timestamp()), "x": x, "y": y}))
    return PublicForm(token, question_text(x, y))


def _read(secret: str, token: str) -> tuple[datetime, int, int]:
    """The signed (time shown, x, y); FORGED for a token that was not made here or was changed."""
    try:
        payload: Any = _serializer(secret).loads(token or "")
        shown, x, y = payload["t"], payload["x"], payload["y"]
    except (BadData, KeyError, TypeError):
        raise InvalidData(FORGED) from None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (shown, x, y)) or not (
            1 <= x <= 9 and 1 <= y <= 9):
        raise InvalidData(FORGED)
    return datetime.fromtimestamp(shown, tz=UTC), x, y


def form_for(secret: str, token: str, now: datetime) -> PublicForm:
    """The form to show again after a refusal: the same token and question while it is valid, else a new one."""
    try:
        shown, x, y = _read(secret, token)
    except InvalidData:
        return new_form(secret, now)
    if now - shown > MAX_AGE:
        return new_form(secret, now)
    return PublicForm(token, question_text(x, y))


def parse_answer(text: str) -> int | None:
    """The number typed: digits ("9") or, as a courtesy, the Vietnamese word ("chín", "mười lăm")."""
    cleaned = " ".join(unicodedata.normalize("NFC", text or "").lower().split())
    if re.fullmatch(r"\d{1,3}", cleaned):
        return int(cleaned)
    return ANSWER_WORDS.get(cleaned)


# ---------------------------------------------------------------- the public form


@dataclass(frozen=True)
class Submitted:
    ticket: HotlineTicket
    #: The acknowledgement of QĐ 1244 with the ticket's code (shown on the thank-you page).
    acknowledgement: str
    #: The acknowledgement was also mailed to the address given.
    emailed: bool


def client_key(prefix: str, address: str | None) -> str:
    return f"{prefix}:{(address or 'unknown').strip()[:MAX_ADDRESS]}"


def check_form(secret: str, token: str, honeypot: str, now: datetime) -> tuple[int, int]:
    """The anti-abuse checks that need no database: the honeypot, the token's signature and age. Returns the
    check question's two numbers."""
    if (honeypot or "").strip():
        # A field people never see was filled in: a script. Say nothing of why.
        raise InvalidData(REFUSED)
    shown, x, y = _read(secret, token)
    age = now - shown
    if age < MIN_AGE:
        raise InvalidData(TOO_FAST)
    if age > MAX_AGE:
        raise InvalidData(TOO_OLD)
    return x, y


def submit(uow: UnitOfWork, services: Services, *, secret: str, name: str, phone: str, email: str, field: str,
           content: str, address: str | None, answer: str, token: str, honeypot: str) -> Submitted:
    """A citizen's question or report from the public form: a `web` ticket and its acknowledgement.

    Refusals raise InvalidData (RateLimited past the hourly limit) with the reason in Vietnamese and
    create nothing. Every submission that passes the token checks counts towards the address's hourly
    limit when its answer is wrong or it is taken (so the sum cannot be guessed by trying every number);
    one refused for its content (a malformed phone number) does not.
    """
    now = services.now()
    x, y = check_form(secret, token, honeypot, now)
    if not (phone or "").strip() and not (email or "").strip():
        raise InvalidData(NO_CONTACT)
    limit = services.settings.hotline_public_per_hour
    if not rate_limits.hit(uow, client_key("hotline-form", address), limit, HOUR, now):
        uow.rollback()
        raise _too_many(limit, "gửi câu hỏi", "questions sent")
    if parse_answer(answer) != x + y:
        uow.commit()  # the wrong answer counts
        raise InvalidData(WRONG_ANSWER)
    try:
        ticket = hotline.intake(uow, services, None, channel=hotline.Channel.WEB.value, caller=name, phone=phone,
                                email=email, content=content, field=field or None)
    except InvalidData:
        uow.rollback()  # the hit goes with it: a mistake in the form does not count
        raise
    text = hotline.acknowledge(uow, services, ticket, via="web") or hotline.acknowledgement_text(ticket)
    uow.commit()
    emailed = bool(ticket.email) and mail_acknowledgement(uow, services, ticket, text)
    return Submitted(ticket, text, emailed)


def mail_acknowledgement(uow: UnitOfWork, services: Services, ticket: HotlineTicket, text: str) -> bool:
    """Mail the acknowledgement once (keyed by the code); True when a mail left now. A mail server that fails
    does not undo the ticket."""
    key = f"hotline-ack:{ticket.code}"
    lookup_url = services.settings.public_base_url.rstrip("/") + LOOKUP_PATH
    body = (f"{text}\n\nNội dung Quý khách đã gửi:\n{ticket.content}\n\nQuý khách có thể tra cứu tình trạng "
            f"phiếu bằng mã phiếu và số điện thoại đã cung cấp tại: {lookup_url}\n\n"
            "Đây là thư tự động, vui lòng không trả lời thư này.")
    notifier = meeting_documents.notifier_for(services)
    try:
        sent = notifier.send(key, ticket.email, f"Tổng đài 1022 đã nhận phiếu {ticket.code}", body,
                             ticket.instance_id, session=uow.session)
    except AdapterError as exc:
        log.warning("hotline acknowledgement %s not mailed: %s", ticket.code, exc)
        uow.session.execute(delete(Notification).where(Notification.key == key, Notification.sent_at.is_(None)))
        uow.commit()
        return False
    uow.commit()
    # The `local` channel keeps the message in the platform only: the citizen got no mail.
    return sent and notifier.channel == SMTP


# ---------------------------------------------------------------- the public lookup

_CITIZEN_STATES = {
    hotline.TicketState.NEW: Message("Đã tiếp nhận, đang chờ phân loại", "Received, awaiting review"),
    hotline.TicketState.IN_PROGRESS: Message("Đang xử lý", "Being handled"),
    hotline.TicketState.REFERRED: Message("Đã hướng dẫn chuyển đến kênh tiếp nhận phù hợp",
                                          "Referred to the appropriate channel"),
    hotline.TicketState.WITH_AGENCY: Message("Đã chuyển cơ quan có thẩm quyền giải quyết",
                                             "Sent to the responsible agency"),
    hotline.TicketState.ANSWERED: Message("Đã trả lời", "Answered"),
    hotline.TicketState.CANCELLED: Message("Đã dừng xử lý", "Closed without an answer"),
}
WILL_BE_SENT = Message("Câu trả lời sẽ được gửi đến Quý khách qua số điện thoại hoặc thư điện tử Quý khách đã "
                       "cung cấp.", "The answer will be sent to you by the phone number or e-mail address you gave.")
SENT_PRIVATELY = Message("Câu trả lời đã được gửi đến Quý khách qua số điện thoại hoặc thư điện tử Quý khách đã "
                         "cung cấp.", "The answer was sent to you by the phone number or e-mail address you gave.")
_CODE = re.compile(r"1022-\d{4}-\d{6}")


@dataclass(frozen=True)
class PublicTicket:
    """What the public lookup shows of a ticket: nothing else (no content, no contact, no staff)."""

    code: str
    received_on: date
    channel: Message
    field: Message | None
    state: Message
    answered_on: date | None
    #: The answer, when it is published; else None and `note` says how it reaches the citizen.
    answer: str | None
    note: Message | None


def lookup(uow: UnitOfWork, services: Services, code: str, phone: str, address: str | None) -> PublicTicket:
    """The ticket with this code AND this phone number, as the public may see it. An unknown code and a
    wrong number give the same NOT_FOUND, so codes cannot be probed; every lookup counts towards the
    address's hourly limit (RateLimited beyond it)."""
    wanted = (code or "").strip().upper()
    if not wanted or not (phone or "").strip():
        raise InvalidData(LOOKUP_EMPTY)
    limit = services.settings.hotline_lookup_per_hour
    allowed = rate_limits.hit(uow, client_key("hotline-lookup", address), limit, HOUR, services.now())
    uow.commit()
    if not allowed:
        raise _too_many(limit, "tra cứu", "lookups")
    number = hotline.normalize_phone(phone)
    ticket = uow.session.scalar(select(HotlineTicket).where(
        HotlineTicket.code == wanted, HotlineTicket.phone == number)) if _CODE.fullmatch(wanted) else None
    if ticket is None or not number:
        raise InvalidData(NOT_FOUND)
    return public_view(ticket, services.settings.timezone)


def public_view(ticket: HotlineTicket, timezone: str) -> PublicTicket:
    zone = ZoneInfo(timezone)
    state = hotline.TicketState(ticket.state)
    found = FIELDS_BY_CODE.get(ticket.field)
    published = ticket.answer if ticket.answer_published and ticket.answer else None
    note = None
    if published is None:
        note = SENT_PRIVATELY if state == hotline.TicketState.ANSWERED else WILL_BE_SENT
    if state in (hotline.TicketState.REFERRED, hotline.TicketState.CANCELLED) and published is None:
        note = None
    return PublicTicket(
        code=ticket.code, received_on=ticket.created_at.astimezone(zone).date(),
        channel=hotline.Channel(ticket.channel).label,
        field=Message(found.label_vi, found.label_en) if found else None, state=_CITIZEN_STATES[state],
        answered_on=ticket.answered_at.astimezone(zone).date() if ticket.answered_at else None,
        answer=published, note=note)
