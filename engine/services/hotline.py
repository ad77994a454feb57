"""Tickets (phiếu) of the public-service hotline 1022: intake from any channel, and the ticket kept in step
with its `hotline_1022` instance (docs/hotline.md).

- `intake` validates a contact (channel known, content required and bounded, phone and e-mail well formed,
  a way to reply), takes the next code `1022-YYYY-NNNNNN` and starts the ticket's instance, all in one
  transaction. A message delivered twice (the same `external_id`: a mail's Message-ID, a webhook's event
  id) gives back the first ticket.
- Codes are numbered per year by engine.documents.registers (issuer `1022`, register `PHIEU`): an atomic
  increment of the register row, serialised by the database on SQLite and PostgreSQL alike, given back
  when the transaction rolls back; so concurrent intakes get distinct, consecutive codes.
- `sync`, after every save of a `hotline_1022` instance (engine.services.instances, like meetings.sync):
  the ticket takes the instance's variables — linh_vuc, cap_do, dia_ban, co_quan, tra_loi, cong_khai and
  `trang_thai_phieu`, the state the diagram's script tasks set; a finished instance closes the ticket.
"""
from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from engine.documents.registers import next_number
from engine.domain.enums import InstanceStatus, Role
from engine.domain.errors import Conflict, InvalidData
from engine.domain.hotline import FIELDS_BY_CODE
from engine.domain.messages import Message
from engine.persistence.models import HotlineEvent, HotlineTicket, ProcessInstance, Unit, User, UserRole
from engine.persistence.uow import UnitOfWork
from engine.services import instances
from engine.services.context import Services

PROCESS_ID = "hotline_1022"
#: The register numbering tickets (engine.documents.registers): one sequence per year.
ISSUER, REGISTER = "1022", "PHIEU"
#: The unit whose operators (role tong_dai_vien) take the tickets: the centre the demo names.
OPERATOR_UNIT = "ttpvhcc"
MAX_CONTENT = 5000
MAX_NAME = 255
MAX_EXTERNAL_ID = 255


class Channel(str, enum.Enum):
    PHONE = "dien_thoai"
    EMAIL = "email"
    WEB = "web"
    ZALO = "zalo"
    FACEBOOK = "facebook"
    CHAT = "chat"
    OTHER = "khac"

    @property
    def label(self) -> Message:
        return _CHANNEL_LABELS[self]


_CHANNEL_LABELS = {
    Channel.PHONE: Message("Điện thoại 1022", "Phone 1022"),
    Channel.EMAIL: Message("Thư điện tử", "E-mail"),
    Channel.WEB: Message("Cổng thông tin", "Web form"),
    Channel.ZALO: Message("Zalo OA", "Zalo OA"),
    Channel.FACEBOOK: Message("Facebook", "Facebook"),
    Channel.CHAT: Message("Trò chuyện trực tuyến", "Live chat"),
    Channel.OTHER: Message("Kênh khác", "Other"),
}


class TicketState(str, enum.Enum):
    NEW = "moi"
    IN_PROGRESS = "dang_xu_ly"
    REFERRED = "chuyen_kenh"
    WITH_AGENCY = "chuyen_co_quan"
    ANSWERED = "da_tra_loi"
    CANCELLED = "huy"

    @property
    def label(self) -> Message:
        return _STATE_LABELS[self]


_STATE_LABELS = {
    TicketState.NEW: Message("Mới tiếp nhận", "New"),
    TicketState.IN_PROGRESS: Message("Đang xử lý", "In progress"),
    TicketState.REFERRED: Message("Đã chuyển kênh", "Referred"),
    TicketState.WITH_AGENCY: Message("Đã chuyển cơ quan", "With the agency"),
    TicketState.ANSWERED: Message("Đã trả lời", "Answered"),
    TicketState.CANCELLED: Message("Đã hủy", "Cancelled"),
}
_STATES = {s.value for s in TicketState}


def state_label(code: str) -> Message:
    """The ticket state's label; an unknown code as itself."""
    return TicketState(code).label if code in _STATES else Message(code, code)


def channel_label(code: str) -> Message:
    """The channel's label; an unknown code as itself."""
    try:
        return Channel(code).label
    except ValueError:
        return Message(code, code)
LEVELS = ("thuong", "khan")

#: A Vietnamese number once spaces, dots, dashes and brackets are gone: 0 or +84, then 9 or 10 digits.
_PHONE = re.compile(r"(?:\+?84|0)(\d{9,10})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def normalize_phone(text: str | None) -> str:
    """The number as 0XXXXXXXXX (a +84 or 84 prefix becomes 0); empty for none; InvalidData when malformed."""
    raw = (text or "").strip()
    if not raw:
        return ""
    compact = re.sub(r"[\s.\-()]", "", raw)
    match = _PHONE.fullmatch(compact)
    if match is None:
        raise InvalidData(Message(
            f"Số điện thoại “{raw[:40]}” không hợp lệ: cần 10 hoặc 11 chữ số bắt đầu bằng 0 (hoặc +84).",
            f"Phone number “{raw[:40]}” is not valid: 10 or 11 digits starting with 0 (or +84)."))
    return "0" + match.group(1)


def _channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        known = ", ".join(c.value for c in Channel)
        raise InvalidData(Message(f"Kênh tiếp nhận “{str(value)[:40]}” không được hỗ trợ (chọn một trong: {known}).",
                                  f"Channel “{str(value)[:40]}” is not supported (one of: {known}).")) from None


def _checked(channel: str, caller: str, phone: str | None, email: str | None, content: str,
             field: str | None, external_id: str | None) -> dict[str, Any]:
    kind = _channel(channel)
    text = (content or "").strip()
    if not text:
        raise InvalidData(Message("Nội dung phản ánh, kiến nghị không được để trống.",
                                  "The content of the question or report is required."))
    if len(text) > MAX_CONTENT:
        raise InvalidData(Message(f"Nội dung dài quá {MAX_CONTENT} ký tự ({len(text)} ký tự).",
                                  f"The content is longer than {MAX_CONTENT} characters ({len(text)})."))
    name = " ".join((caller or "").split())
    if len(name) > MAX_NAME:
        raise InvalidData(Message(f"Họ tên người liên hệ dài quá {MAX_NAME} ký tự.",
                                  f"The caller's name is longer than {MAX_NAME} characters."))
    number = normalize_phone(phone)
    address = (email or "").strip().lower()
    if address and (len(address) > 255 or not _EMAIL.fullmatch(address)):
        raise InvalidData(Message(f"Địa chỉ thư điện tử “{address[:60]}” không hợp lệ.",
                                  f"E-mail address “{address[:60]}” is not valid."))
    if kind == Channel.PHONE and not number:
        raise InvalidData(Message("Cuộc gọi đến tổng đài cần số điện thoại người gọi.",
                                  "A call needs the caller's number."))
    if kind == Channel.EMAIL and not address:
        raise InvalidData(Message("Phiếu từ thư điện tử cần địa chỉ thư của người gửi.",
                                  "A ticket from e-mail needs the sender's address."))
    if field and field not in FIELDS_BY_CODE:
        raise InvalidData(Message(f"Lĩnh vực “{field[:40]}” không có trong danh mục lĩnh vực của Tổng đài 1022.",
                                  f"Field “{field[:40]}” is not one of the hotline's fields."))
    key = (external_id or "").strip() or None
    if key is not None and len(key) > MAX_EXTERNAL_ID:
        raise InvalidData(Message(f"Mã tin nhắn của kênh dài quá {MAX_EXTERNAL_ID} ký tự.",
                                  f"The channel's message id is longer than {MAX_EXTERNAL_ID} characters."))
    return {"channel": kind, "caller": name, "phone": number, "email": address, "content": text,
            "field": field or "", "external_id": key}


def by_external_id(uow: UnitOfWork, external_id: str) -> HotlineTicket | None:
    return uow.session.scalar(select(HotlineTicket).where(HotlineTicket.external_id == external_id))


def of_instance(uow: UnitOfWork, instance_id: int) -> HotlineTicket | None:
    return uow.session.scalar(select(HotlineTicket).where(HotlineTicket.instance_id == instance_id))


def duty_operator(uow: UnitOfWork) -> User:
    """Who a contact without an operator (mail, webhook, public form) is taken in the name of: the centre's
    first active operator (by id). Without one no ticket can be taken."""
    user = uow.session.scalar(
        select(User).join(Unit, Unit.id == User.unit_id).join(UserRole, UserRole.user_id == User.id)
        .where(Unit.code == OPERATOR_UNIT, UserRole.role == Role.TONG_DAI_VIEN.value, User.is_active.is_(True))
        .order_by(User.id).limit(1))
    if user is None:
        raise InvalidData(Message(
            "Chưa có điện thoại viên nào đang hoạt động ở Trung tâm Phục vụ hành chính công để nhận phiếu.",
            "No active hotline operator at the service centre to take the ticket."))
    return user


def intake(uow: UnitOfWork, services: Services, actor: User | None, *, channel: str, caller: str = "",
           phone: str | None = None, email: str | None = None, content: str, field: str | None = None,
           external_id: str | None = None, recorded_call: bool = False) -> HotlineTicket:
    """Take one contact: a new ticket and its running `hotline_1022` instance, committed together.

    `actor` is the operator typing the call, or None for a contact that arrived by itself (the duty
    operator then starts the instance). The same `external_id` again returns the first ticket unchanged.
    """
    values = _checked(channel, caller, phone, email, content, field, external_id)
    key = values["external_id"]
    if key is not None and (known := by_external_id(uow, key)) is not None:
        return known
    try:
        return _create(uow, services, actor, values, recorded_call)
    except (IntegrityError, Conflict):
        # Another intake of the same message committed first (the flush or the commit met the unique
        # external id): give back its ticket.
        uow.rollback()
        if key is not None and (known := by_external_id(uow, key)) is not None:
            return known
        raise


def _create(uow: UnitOfWork, services: Services, actor: User | None, values: dict[str, Any],
            recorded_call: bool) -> HotlineTicket:
    initiator = actor or duty_operator(uow)
    now = services.now()
    year = now.astimezone(ZoneInfo(services.settings.timezone)).year
    _register, number = next_number(uow.session, ISSUER, REGISTER, year)
    channel: Channel = values["channel"]
    ticket = HotlineTicket(
        code=f"1022-{year}-{number:06d}", channel=channel.value, caller_name=values["caller"],
        phone=values["phone"], email=values["email"], field=values["field"], level="thuong", locality="",
        content=values["content"], state=TicketState.NEW.value, agency_code="", answer="",
        answer_published=False, recorded_call=bool(recorded_call), external_id=values["external_id"],
        operator_id=actor.id if actor else None, created_at=now)
    uow.add(ticket)
    uow.session.flush()
    contact = ", ".join(p for p in (values["caller"], values["phone"], values["email"]) if p) or "—"
    data = {"ma_phieu": ticket.code, "kenh": channel.value, "kenh_ten": channel.label.vi,
            "nguoi_lien_he": contact, "noi_dung": values["content"], "linh_vuc": values["field"],
            "cap_do": "thuong", "dia_ban": "tinh", "huong_xu_ly": "", "kenh_chuyen": "", "co_quan": "",
            "tra_loi": "", "cach_phan_hoi": "", "cong_khai": False, "giam_sat": initiator.username}
    # instances.start saves the instance (sync links the ticket by its code) and commits both.
    instances.start(uow, services, initiator, PROCESS_ID, data, by_service=True)
    return ticket


def earlier_tickets(uow: UnitOfWork, phone: str, limit: int = 20) -> list[HotlineTicket]:
    """The caller's tickets, newest first (for the operator while on the call); a malformed number is refused."""
    number = normalize_phone(phone)
    if not number:
        return []
    return list(uow.session.scalars(select(HotlineTicket).where(HotlineTicket.phone == number)
                                    .order_by(HotlineTicket.created_at.desc(), HotlineTicket.id.desc())
                                    .limit(max(1, min(limit, 100)))))


# ---------------------------------------------------------------- the hook


def _text(value: Any, limit: int) -> str:
    return str(value).strip()[:limit] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def apply_variables(ticket: HotlineTicket, variables: Mapping[str, Any]) -> None:
    """Copy the instance's classification, agency, answer and state onto the ticket."""
    field = variables.get("linh_vuc")
    if isinstance(field, str) and field in FIELDS_BY_CODE:
        ticket.field = field
    level = variables.get("cap_do")
    if level in LEVELS:
        ticket.level = str(level)
    ticket.locality = _text(variables.get("dia_ban"), 64)
    ticket.agency_code = _text(variables.get("co_quan"), 64)
    ticket.answer = _text(variables.get("tra_loi"), MAX_CONTENT)
    ticket.answer_published = variables.get("cong_khai") is True and bool(ticket.answer)
    state = variables.get("trang_thai_phieu")
    if state in _STATES:
        ticket.state = str(state)
    elif variables.get("huong_xu_ly"):
        ticket.state = TicketState.IN_PROGRESS.value


def sync(uow: UnitOfWork, services: Services, instance: ProcessInstance, workflow: Any) -> HotlineTicket | None:
    """Keep the instance's ticket in step (in the caller's transaction); nothing for other procedures."""
    if instance.version.process_id != PROCESS_ID:
        return None
    ticket = of_instance(uow, instance.id)
    if instance.status == InstanceStatus.CANCELLED:
        if ticket is not None and ticket.closed_at is None:
            ticket.state, ticket.closed_at = TicketState.CANCELLED.value, services.now()
        return ticket
    variables = services.runtime.variables(workflow)
    if ticket is None:
        code = variables.get("ma_phieu")
        ticket = uow.session.scalar(select(HotlineTicket).where(
            HotlineTicket.code == code, HotlineTicket.instance_id.is_(None))) if isinstance(code, str) else None
        if ticket is None:
            return None
        ticket.instance_id = instance.id
        instance.title = f"Phiếu {ticket.code}"
    apply_variables(ticket, variables)
    if ticket.state == TicketState.ANSWERED.value and ticket.answered_at is None:
        ticket.answered_at = services.now()
    if instance.status == InstanceStatus.COMPLETED and ticket.closed_at is None:
        ticket.closed_at = services.now()
    return ticket


# ---------------------------------------------------------------- the ticket's log and the acknowledgement

#: The automatic acknowledgement of QĐ 1244 for contacts that arrive as messages (e-mail, web form, chat).
ACKNOWLEDGEMENT = ("Tổng đài Thông tin dịch vụ công tỉnh Đồng Tháp đã nhận được thông tin góp ý, phản ánh của "
                   "Quý khách, xin cảm ơn.")
#: Channels whose contacts get the acknowledgement (a phone call is answered by a person).
MESSAGE_CHANNELS = frozenset({Channel.EMAIL, Channel.WEB, Channel.ZALO, Channel.FACEBOOK, Channel.CHAT})


class EventKind(str, enum.Enum):
    FORWARDED_CALL = "chuyen_cuoc_goi"
    ACKNOWLEDGED = "xac_nhan"
    RECORDING = "ghi_am"


def acknowledgement_text(ticket: HotlineTicket) -> str:
    """The acknowledgement with the code the citizen quotes to look the ticket up."""
    return f"{ACKNOWLEDGEMENT} Mã phiếu của Quý khách: {ticket.code}."


def log_event(uow: UnitOfWork, services: Services, ticket: HotlineTicket, kind: EventKind, summary: str,
              detail: Mapping[str, Any] | None = None, actor: User | None = None) -> HotlineEvent:
    """Add one entry to the ticket's log (in the caller's transaction)."""
    event = HotlineEvent(ticket_id=ticket.id, kind=kind.value, summary=summary[:500],
                         detail=dict(detail) if detail else None, actor_id=actor.id if actor else None,
                         at=services.now())
    uow.add(event)
    return event


def acknowledge(uow: UnitOfWork, services: Services, ticket: HotlineTicket, via: str) -> str | None:
    """Record that the acknowledgement went out on `via` (e-mail, the web page, the chat gateway) and return
    its text; None when the ticket's channel gets none or it was already acknowledged (a redelivered
    message is acknowledged once, even when two deliveries race). The caller delivers the text and commits."""
    if Channel(ticket.channel) not in MESSAGE_CHANNELS or ticket.acknowledged_at is not None:
        return None
    # Claimed by a conditional update, which the database serialises: when deliveries of one message race,
    # one of them acknowledges.
    now = services.now()
    claimed = uow.session.execute(
        update(HotlineTicket).where(HotlineTicket.id == ticket.id, HotlineTicket.acknowledged_at.is_(None))
        .values(acknowledged_at=now).execution_options(synchronize_session=False))
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    text = acknowledgement_text(ticket)
    ticket.acknowledged_at = now
    log_event(uow, services, ticket, EventKind.ACKNOWLEDGED, f"Đã gửi tin nhắn xác nhận tự động ({via}).",
              {"via": via, "text": text})
    return text


def events(uow: UnitOfWork, ticket: HotlineTicket) -> list[HotlineEvent]:
    return list(uow.session.scalars(select(HotlineEvent).where(HotlineEvent.ticket_id == ticket.id)
                                    .order_by(HotlineEvent.at, HotlineEvent.id)))
