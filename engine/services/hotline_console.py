"""The hotline operator's console and the ticket page (docs/hotline.md, *Operator console and ticket page*).

- `take_call`: one phone call typed by an operator: the ticket (hotline.intake) and, if sent, its recording;
  the recording is checked before anything is created, so a refused file creates nothing.
- `forward_call`: an urgent call put through to an agency's number, written to the ticket's log and audited.
- `attach_recording`: the call's recording (MP3, WAV, OGG, M4A, told by its bytes) filed with the ticket's
  instance.
- `ticket_view`: one ticket as a signed-in user may see it. Contacts are personal data (Nghị định
  13/2023/NĐ-CP): masked unless the viewer's role needs them and asks, and every full view is audited.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import defer

from engine.domain.enums import Role, TaskStatus
from engine.domain.errors import Forbidden, InvalidData, NotFound
from engine.domain.hotline import BOARD_ROLES, FIELDS_BY_CODE, may_see_contacts, shown_contact
from engine.domain.messages import Message
from engine.forms import files
from engine.persistence.models import (
    Attachment,
    HotlineEvent,
    HotlineTicket,
    HumanTask,
    ProcessInstance,
    Unit,
    User,
)
from engine.persistence.uow import UnitOfWork
from engine.services import attachments, audit, hotline, queries
from engine.services.context import Services

OPERATOR_ROLE = Role.TONG_DAI_VIEN.value
MAX_NOTE = 1000
MAX_AGENCY = 255
#: An internal extension of the province's switchboard (3 to 6 digits), besides full phone numbers.
_EXTENSION = re.compile(r"\d{3,6}")
#: Words of the content the caller's earlier tickets show.
EXCERPT_WORDS = 12

ONLY_OPERATORS = Message("Chỉ điện thoại viên Tổng đài 1022 được làm việc này.",
                         "Only hotline 1022 operators may do this.")
NO_TICKET = Message("Không tìm thấy phiếu.", "Ticket not found.")
NO_CONTACTS = Message("Chỉ điện thoại viên được xem đầy đủ thông tin liên hệ của người dân.",
                      "Only operators may see a citizen's full contact details.")
NO_RECORDING = Message("Phiếu này chưa có tệp ghi âm cuộc gọi.", "This ticket has no call recording.")
NO_AGENCY = Message("Chọn hoặc nhập cơ quan nhận cuộc gọi chuyển.", "Choose or type the agency the call goes to.")
NO_NUMBER = Message("Nhập số điện thoại (hoặc số máy lẻ) của cơ quan nhận cuộc gọi.",
                    "Type the agency's phone number (or internal extension).")

_EVENT_LABELS = {
    hotline.EventKind.FORWARDED_CALL: Message("Chuyển cuộc gọi khẩn", "Urgent call forwarded"),
    hotline.EventKind.ACKNOWLEDGED: Message("Xác nhận tự động", "Automatic acknowledgement"),
    hotline.EventKind.RECORDING: Message("Ghi âm cuộc gọi", "Call recording"),
}


def is_operator(user: User | None) -> bool:
    return user is not None and OPERATOR_ROLE in user.role_codes


def _operator(user: User) -> None:
    if not is_operator(user):
        raise Forbidden(ONLY_OPERATORS)


def _ticket(uow: UnitOfWork, code: str) -> HotlineTicket:
    ticket = uow.session.scalar(select(HotlineTicket).where(HotlineTicket.code == (code or "").strip()))
    if ticket is None:
        raise NotFound(NO_TICKET)
    return ticket


# ---------------------------------------------------------------- taking a call


def take_call(uow: UnitOfWork, services: Services, operator: User, *, caller: str, phone: str, field: str,
              content: str, recorded: bool, recording: tuple[str, bytes] | None = None) -> HotlineTicket:
    """The operator's console: a phone ticket, then its recording if one was sent (a recording means the call
    was recorded). The file is checked first: a refused file or contact creates nothing."""
    _operator(operator)
    if recording is not None:
        attachments.checked_file(*recording, services.settings.max_attachment_bytes, detect=files.detect_audio)
    ticket = hotline.intake(uow, services, operator, channel=hotline.Channel.PHONE.value, caller=caller,
                            phone=phone, content=content, field=field or None,
                            recorded_call=recorded or recording is not None)
    if recording is not None:
        attach_recording(uow, services, operator, ticket.code, *recording)
    return ticket


def first_task_id(uow: UnitOfWork, ticket: HotlineTicket) -> int | None:
    """The ticket instance's first task (the classification) if still open, for the console's link."""
    return uow.session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == ticket.instance_id, HumanTask.status == TaskStatus.READY)
        .order_by(HumanTask.id).limit(1)) if ticket.instance_id is not None else None


@dataclass(frozen=True)
class EarlierTicket:
    code: str
    created_at: datetime
    state: str
    state_label: Message
    field: str
    field_label: Message | None
    excerpt: str


def excerpt(text: str, words: int = EXCERPT_WORDS) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def caller_history(uow: UnitOfWork, operator: User, phone: str) -> list[EarlierTicket]:
    """The caller's earlier tickets for the operator on the call (newest first; InvalidData for a bad number)."""
    _operator(operator)
    return [EarlierTicket(t.code, t.created_at, t.state, hotline.state_label(t.state), t.field, _field_label(t.field),
                          excerpt(t.content)) for t in hotline.earlier_tickets(uow, phone)]


def _field_label(code: str) -> Message | None:
    field = FIELDS_BY_CODE.get(code)
    return Message(field.label_vi, field.label_en) if field else None


# ---------------------------------------------------------------- forwarding an urgent call


def _agency(uow: UnitOfWork, value: str) -> tuple[str, str]:
    """(unit code, name) for a known unit's code, ("", the text) for an agency named in free text."""
    text = " ".join((value or "").split())
    if not text:
        raise InvalidData(NO_AGENCY)
    if len(text) > MAX_AGENCY:
        raise InvalidData(Message(f"Tên cơ quan dài quá {MAX_AGENCY} ký tự.",
                                  f"The agency's name is longer than {MAX_AGENCY} characters."))
    unit = uow.session.scalar(select(Unit).where(Unit.code == text))
    return (unit.code, unit.name) if unit is not None else ("", text)


def _dialled(value: str) -> str:
    raw = (value or "").strip()
    if not raw:
        raise InvalidData(NO_NUMBER)
    if _EXTENSION.fullmatch(raw):
        return raw
    try:
        return hotline.normalize_phone(raw)
    except InvalidData:
        raise InvalidData(Message(
            f"Số “{raw[:40]}” không hợp lệ: nhập số điện thoại (10–11 chữ số bắt đầu bằng 0 hoặc +84) "
            "hoặc số máy lẻ 3–6 chữ số.",
            f"Number “{raw[:40]}” is not valid: a phone number (10–11 digits starting with 0 or +84) "
            "or an extension of 3–6 digits.")) from None


def forward_call(uow: UnitOfWork, services: Services, operator: User, ticket_code: str, agency_code: str,
                 number: str, recorded: bool, note: str) -> HotlineEvent:
    """Log (and audit) an urgent call put through to an agency's number; committed."""
    _operator(operator)
    ticket = _ticket(uow, ticket_code)
    code, name = _agency(uow, agency_code)
    dialled = _dialled(number)
    remark = (note or "").strip()
    if len(remark) > MAX_NOTE:
        raise InvalidData(Message(f"Ghi chú dài quá {MAX_NOTE} ký tự.",
                                  f"The note is longer than {MAX_NOTE} characters."))
    detail = {"agency": code or name, "agency_name": name, "number": dialled, "recorded": bool(recorded),
              "note": remark, "operator": operator.username}
    summary = f"Chuyển cuộc gọi khẩn đến {name} (số {dialled}){', có ghi âm' if recorded else ''}."
    event = hotline.log_event(uow, services, ticket, hotline.EventKind.FORWARDED_CALL, summary, detail, operator)
    audit.record(uow.session, operator, "hotline.forward_call", instance_id=ticket.instance_id,
                 summary=f"Phiếu {ticket.code}: {summary}", after=detail)
    uow.commit()
    return event


# ---------------------------------------------------------------- the call's recording


def attach_recording(uow: UnitOfWork, services: Services, operator: User, ticket_code: str, file_name: str,
                     content: bytes) -> Attachment:
    """File the call's recording with the ticket's instance; it becomes the ticket's recording (an earlier one
    stays stored, named in the log). `content` may be read one byte past the limit; committed."""
    _operator(operator)
    ticket = _ticket(uow, ticket_code)
    if ticket.instance_id is None:
        raise NotFound(NO_TICKET)
    name, kind = attachments.checked_file(file_name, content, services.settings.max_attachment_bytes,
                                          detect=files.detect_audio)
    attachment = Attachment(ref=secrets.token_urlsafe(24), instance_id=ticket.instance_id, task_id=None,
                            uploaded_by=operator.id, file_name=name, content_type=kind.mime, size=len(content),
                            sha256=hashlib.sha256(content).hexdigest(), content=content, created_at=services.now())
    uow.add(attachment)
    uow.session.flush()
    ticket.recording_id, ticket.recorded_call = attachment.id, True
    detail = {"attachment_id": attachment.id, "name": name, "size": len(content), "type": kind.mime}
    summary = f"Đính kèm ghi âm cuộc gọi “{name}” ({attachments.size_text(len(content))})."
    hotline.log_event(uow, services, ticket, hotline.EventKind.RECORDING, summary, detail, operator)
    audit.record(uow.session, operator, "hotline.attach_recording", instance_id=ticket.instance_id,
                 summary=f"Phiếu {ticket.code}: {summary}", after=detail)
    uow.commit()
    return attachment


# ---------------------------------------------------------------- the ticket page


def visible_ticket(uow: UnitOfWork, viewer: User, code: str) -> HotlineTicket:
    """The ticket if the viewer may see it: operators, leaders and administrators any ticket, an agency's staff
    the tickets routed to their agency. Anyone else is told there is no such ticket (codes are guessable)."""
    ticket = _ticket(uow, code)
    if not BOARD_ROLES.isdisjoint(viewer.role_codes):
        return ticket
    if ticket.agency_code and viewer.unit is not None and viewer.unit.code == ticket.agency_code:
        return ticket
    raise NotFound(NO_TICKET)


def _audit_contact_view(uow: UnitOfWork, viewer: User, ticket: HotlineTicket, what: str) -> None:
    audit.record(uow.session, viewer, "hotline.view_contact", instance_id=ticket.instance_id,
                 summary=f"{what} của phiếu {ticket.code}.")


@dataclass(frozen=True)
class EventView:
    at: datetime
    kind: str
    label: Message
    summary: str
    actor: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class OpenTask:
    id: int
    name: str
    due_at: datetime | None


@dataclass(frozen=True)
class RecordingView:
    name: str
    size: int
    type: str
    created_at: datetime


@dataclass(frozen=True)
class TicketView:
    code: str
    channel_label: Message
    state: str
    state_label: Message
    field: str
    field_label: Message | None
    level: str
    locality: str
    content: str
    caller_name: str
    phone: str
    email: str
    #: Contacts shown whole (asked for, allowed and audited); otherwise masked.
    full: bool
    #: The viewer may ask for the full contacts and download the recording.
    contact_role: bool
    operator: bool
    agency_code: str
    agency_name: str
    answer: str
    created_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None
    instance_id: int | None
    #: The viewer may open the instance's page (its process history).
    instance_visible: bool
    recorded_call: bool
    recording: RecordingView | None
    open_tasks: list[OpenTask]
    events: list[EventView]


def ticket_view(uow: UnitOfWork, services: Services, viewer: User, code: str, full: bool) -> TicketView:
    """One ticket for the ticket page; `full` (contact roles only, Forbidden otherwise) shows the contacts whole
    and writes an audit event (committed)."""
    ticket = visible_ticket(uow, viewer, code)
    contact_role = may_see_contacts(viewer.role_codes)
    if full and not contact_role:
        raise Forbidden(NO_CONTACTS)
    if full:
        _audit_contact_view(uow, viewer, ticket, "Xem đầy đủ thông tin liên hệ")
        uow.commit()
    agency = uow.session.scalar(select(Unit.name).where(Unit.code == ticket.agency_code)) \
        if ticket.agency_code else None
    instance = uow.session.get(ProcessInstance, ticket.instance_id) if ticket.instance_id is not None else None
    return TicketView(
        code=ticket.code, channel_label=hotline.Channel(ticket.channel).label, state=ticket.state,
        state_label=hotline.state_label(ticket.state), field=ticket.field, field_label=_field_label(ticket.field),
        level=ticket.level, locality=ticket.locality, content=ticket.content,
        **shown_contact(ticket.caller_name, ticket.phone, ticket.email, masked=not full),
        full=full, contact_role=contact_role, operator=is_operator(viewer), agency_code=ticket.agency_code,
        agency_name=agency or ticket.agency_code, answer=ticket.answer, created_at=ticket.created_at,
        answered_at=ticket.answered_at, closed_at=ticket.closed_at, instance_id=ticket.instance_id,
        instance_visible=instance is not None and queries.can_see(uow, viewer, instance),
        recorded_call=ticket.recorded_call, recording=_recording(uow, ticket),
        open_tasks=_open_tasks(uow, ticket), events=_events(uow, ticket))


def _recording(uow: UnitOfWork, ticket: HotlineTicket) -> RecordingView | None:
    if ticket.recording_id is None:
        return None
    found = uow.session.scalar(select(Attachment).options(defer(Attachment.content))
                               .where(Attachment.id == ticket.recording_id))
    return RecordingView(found.file_name, found.size, found.content_type, found.created_at) if found else None


def _open_tasks(uow: UnitOfWork, ticket: HotlineTicket) -> list[OpenTask]:
    if ticket.instance_id is None:
        return []
    rows = uow.session.execute(select(HumanTask.id, HumanTask.name, HumanTask.due_at).where(
        HumanTask.instance_id == ticket.instance_id, HumanTask.status == TaskStatus.READY).order_by(HumanTask.id))
    return [OpenTask(*row) for row in rows]


def _events(uow: UnitOfWork, ticket: HotlineTicket) -> list[EventView]:
    entries = hotline.events(uow, ticket)
    ids = {e.actor_id for e in entries if e.actor_id is not None}
    names: dict[int, str] = dict(uow.session.execute(select(User.id, User.full_name)  # type: ignore[arg-type]
                                                     .where(User.id.in_(ids))).all()) if ids else {}
    views = []
    for entry in entries:
        try:
            label = _EVENT_LABELS[hotline.EventKind(entry.kind)]
        except ValueError:
            label = Message(entry.kind, entry.kind)
        views.append(EventView(entry.at, entry.kind, label, entry.summary, names.get(entry.actor_id or 0, ""),
                               dict(entry.detail or {})))
    return views


def recording_file(uow: UnitOfWork, viewer: User, code: str) -> Attachment:
    """The recording's bytes for a contact role (a recorded voice is personal data: audited as a view)."""
    ticket = visible_ticket(uow, viewer, code)
    if not may_see_contacts(viewer.role_codes):
        raise Forbidden(NO_CONTACTS)
    found = uow.session.get(Attachment, ticket.recording_id) if ticket.recording_id is not None else None
    if found is None:
        raise NotFound(NO_RECORDING)
    _audit_contact_view(uow, viewer, ticket, f"Tải ghi âm cuộc gọi “{found.file_name}”")
    uow.commit()
    return found
