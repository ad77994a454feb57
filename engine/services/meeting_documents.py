"""Meeting documents: the host side sends them to the endpoints at least 1 working day before (Huế 279, Điều 5.2).

A document is a file of the meeting's instance without a task (`attachments.task_id` is NULL),
checked like any attached file (engine/forms/files.py: kind by its bytes, the extension agreeing,
the size limit MAX_ATTACHMENT_BYTES). Uploading one tells every person of the invited units.

**Due**: at the end of the working hours of the working day before the meeting's day
(`WorkingCalendar.add_working_days(start, -1)`: a Monday 08:00 meeting's documents are due the
Friday before at 17:00, a holiday in between skipped). Urgent (đột xuất) meetings have no due time:
they are called at short notice. The state against the due time is `DocumentsState`; "Tài liệu
chậm" (the flag on the meeting page and the calendar) is either sent late or overdue with none.

**Reminder**: when the due time is `REMINDER_WORKING_HOURS` working hours away (or past) and no
document has come, the person who registered the meeting is reminded once per meeting time
(`remind_documents`, called on every run of the worker).
"""
from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.adapters.notifications import Notifier
from engine.adapters.registry import build_notifier
from engine.domain.errors import Conflict, InvalidData, NotFound
from engine.domain.messages import Message
from engine.persistence.models import Attachment, Meeting, Notification, ProcessInstance, User
from engine.persistence.uow import UnitOfWork
from engine.services import attachments, audit, invitations
from engine.services.context import Services
from engine.services.invitations import Delivery

#: How many working hours before the due time the host side is reminded.
REMINDER_WORKING_HOURS = 4
#: Meetings the reminder looks at: those starting within this time (the due time is a working day
#: before, and the longest run of days off, Tết, is about ten days).
REMINDER_HORIZON = timedelta(days=21)
REMINDER_KEY = "meeting-documents-reminder"


class DocumentsState(str, enum.Enum):
    EXEMPT = "khong_ap_dung"
    NOT_DUE = "chua_den_han"
    ON_TIME = "dung_han"
    LATE = "gui_muon"
    OVERDUE = "qua_han"

    @property
    def label(self) -> Message:
        return {"khong_ap_dung": Message("Không áp dụng", "Not applicable"),
                "chua_den_han": Message("Chưa đến hạn", "Not yet due"),
                "dung_han": Message("Đã gửi đúng hạn", "Sent on time"),
                "gui_muon": Message("Gửi muộn", "Sent late"),
                "qua_han": Message("Quá hạn, chưa gửi", "Overdue, none sent")}[self.value]

    @property
    def late(self) -> bool:
        """“Tài liệu chậm”."""
        return self in (DocumentsState.LATE, DocumentsState.OVERDUE)


LATE_FLAG = Message("Tài liệu chậm", "Documents late")
NO_DOCUMENT = Message("Không tìm thấy tài liệu của cuộc họp.", "Meeting document not found.")
CLOSED = Message("Cuộc họp đã kết thúc hoặc bị hủy: không nhận thêm tài liệu.",
                 "The meeting has ended or was cancelled: no more documents are taken.")
#: States in which documents are no longer taken.
NO_UPLOADS = ("huy", "tu_choi", "da_hop")


def due_at(services: Services, meeting: Meeting) -> datetime | None:
    """When the documents are due; None for an urgent meeting or one without a time."""
    if meeting.urgent or meeting.starts_at is None:
        return None
    return services.calendar().add_working_days(meeting.starts_at, -1)


def state_of(meeting: Meeting, due: datetime | None, first_at: datetime | None, now: datetime) -> DocumentsState:
    if due is None or meeting.state in ("huy", "tu_choi"):
        return DocumentsState.EXEMPT
    if first_at is not None:
        return DocumentsState.ON_TIME if first_at <= due else DocumentsState.LATE
    return DocumentsState.OVERDUE if now > due else DocumentsState.NOT_DUE


def first_sent(session: Session, instance_ids: Iterable[int]) -> dict[int, datetime]:
    """When each instance's first meeting document came."""
    ids = sorted(set(instance_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Attachment.instance_id, func.min(Attachment.created_at))
        .where(Attachment.instance_id.in_(ids), Attachment.task_id.is_(None)).group_by(Attachment.instance_id))
    return {row[0]: row[1] for row in rows}


def late_meetings(uow: UnitOfWork, services: Services, shown: Iterable[Meeting]) -> set[int]:
    """Ids of the meetings whose documents are late (“Tài liệu chậm”), for a list of meetings (one query)."""
    listed = list(shown)
    first = first_sent(uow.session, [m.instance_id for m in listed])
    now = services.now()
    return {m.id for m in listed if state_of(m, due_at(services, m), first.get(m.instance_id), now).late}


def _unused_sessions() -> Session:
    raise RuntimeError("meeting notifications are sent in the use case's own session")


def notifier_for(services: Services) -> Notifier:
    """The NOTIFICATIONS channel for the meeting use cases (each send joins the caller's session)."""
    return build_notifier(services.settings, _unused_sessions, services.clock)


# ---------------------------------------------------------------- listing and reading


@dataclass(frozen=True)
class MeetingDocument:
    ref: str
    name: str
    size: int
    type: str
    uploaded_by: str
    created_at: datetime
    #: Came after the due time.
    late: bool


@dataclass(frozen=True)
class DocumentsView:
    due_at: datetime | None
    state: DocumentsState
    files: list[MeetingDocument]


def documents_view(uow: UnitOfWork, services: Services, meeting: Meeting) -> DocumentsView:
    """The meeting's documents, oldest first, with the due time and the state (the caller checked visibility)."""
    rows = uow.session.execute(
        select(Attachment.ref, Attachment.file_name, Attachment.size, Attachment.content_type, User.full_name,
               Attachment.created_at)
        .outerjoin(User, User.id == Attachment.uploaded_by)
        .where(Attachment.instance_id == meeting.instance_id, Attachment.task_id.is_(None))
        .order_by(Attachment.created_at, Attachment.id)).all()
    due = due_at(services, meeting)
    shown = [MeetingDocument(r[0], r[1], r[2], r[3], r[4] or "", r[5], due is not None and r[5] > due) for r in rows]
    state = state_of(meeting, due, shown[0].created_at if shown else None, services.now())
    return DocumentsView(due, state, shown)


def documents_of(uow: UnitOfWork, services: Services, user: User, meeting_id: int) -> DocumentsView:
    return documents_view(uow, services, invitations.visible_meeting(uow, user, meeting_id))


def document_for(uow: UnitOfWork, user: User, meeting_id: int, ref: str) -> Attachment:
    """One document with its bytes, for the host side, the invited units and whoever sees the instance."""
    meeting = invitations.visible_meeting(uow, user, meeting_id)
    found = uow.session.scalar(select(Attachment).where(Attachment.ref == ref, Attachment.task_id.is_(None),
                                                        Attachment.instance_id == meeting.instance_id))
    if found is None:
        raise NotFound(NO_DOCUMENT)
    return found


# ---------------------------------------------------------------- sending


def upload(uow: UnitOfWork, services: Services, notifier: Notifier, actor: User, meeting_id: int, *,
           file_name: str, content: bytes) -> tuple[MeetingDocument, Delivery]:
    """The host side sends one document to the meeting; every person of the invited units is told.

    `content` may be read one byte past the limit, so an oversized file is told apart."""
    meeting, _instance = invitations.host_meeting(uow, actor, meeting_id)
    if meeting.state in NO_UPLOADS:
        raise Conflict(CLOSED)
    name, kind = attachments.checked_file(file_name, content, services.settings.max_attachment_bytes)
    limit = services.settings.max_attachment_bytes
    count, total = uow.session.execute(
        select(func.count(Attachment.id), func.coalesce(func.sum(Attachment.size), 0))
        .where(Attachment.instance_id == meeting.instance_id, Attachment.task_id.is_(None))).one()
    if count >= attachments.MAX_FILES_PER_TASK or total + len(content) > attachments.TASK_TOTAL_FACTOR * limit:
        raise InvalidData(attachments.task_full(attachments.MAX_FILES_PER_TASK, attachments.TASK_TOTAL_FACTOR * limit))
    now = services.now()
    stored = Attachment(ref=secrets.token_urlsafe(24), instance_id=meeting.instance_id, task_id=None,
                        uploaded_by=actor.id, file_name=name, content_type=kind.mime, size=len(content),
                        sha256=hashlib.sha256(content).hexdigest(), content=content, created_at=now)
    uow.add(stored)
    due = due_at(services, meeting)
    late = due is not None and now > due
    audit.record(uow.session, actor, "meeting_document", instance_id=meeting.instance_id,
                 summary=f"Gửi tài liệu cuộc họp: {name}" + (" (sau hạn gửi tài liệu)" if late else ""),
                 after={"file_name": name, "size": len(content), "type": kind.mime})
    uow.session.flush()
    body = (f"Tài liệu “{name}” của cuộc họp dưới đây đã được gửi tới các điểm cầu.\n"
            f"{invitations.meeting_lines(meeting, services.settings)}\n"
            f"Xem và tải tài liệu tại: {invitations.invitation_url(services.settings, meeting.id)}\n"
            "Sử dụng tài liệu theo đúng chỉ dẫn về phạm vi lưu hành của đơn vị chủ trì.")
    delivery = invitations.notify_invitees(uow.session, notifier, meeting, f"meeting-document:{stored.id}",
                                           f"Tài liệu họp: {meeting.title}"[:500], body)
    document = MeetingDocument(stored.ref, name, len(content), kind.mime, actor.full_name, now, late)
    uow.commit()
    return document, delivery


# ---------------------------------------------------------------- the reminder (worker)


def meeting_url(services: Services, meeting_id: int) -> str:
    """The meeting's page (the calendar's), where the host side sends the documents."""
    return f"{services.settings.public_base_url.rstrip('/')}/meetings/{meeting_id}"


def remind(uow: UnitOfWork, services: Services, notifier: Notifier) -> int:
    """Remind the registering person of each meeting starting soon whose documents have not come and are due
    within REMINDER_WORKING_HOURS working hours (or overdue); once per meeting time. Returns how many were
    sent; reads only (no write lock) when there is nothing to send."""
    now = services.now()
    soon = list(uow.session.scalars(select(Meeting).where(
        Meeting.starts_at > now, Meeting.starts_at <= now + REMINDER_HORIZON,
        Meeting.state.in_(invitations.OPEN_STATES), Meeting.urgent.is_(False))))
    if not soon:
        return 0
    first = first_sent(uow.session, [m.instance_id for m in soon])
    calendar = services.calendar()
    sent = 0
    for meeting in soon:
        due = due_at(services, meeting)
        if due is None or meeting.instance_id in first:
            continue
        if now < calendar.add_working_hours(due, -REMINDER_WORKING_HOURS):
            continue
        assert meeting.starts_at is not None
        key = f"{REMINDER_KEY}:{meeting.id}:{meeting.starts_at.isoformat()}"
        if uow.session.scalar(select(Notification.id).where(Notification.key == key)) is not None:
            continue
        instance = uow.session.get(ProcessInstance, meeting.instance_id)
        assert instance is not None
        zone = ZoneInfo(services.settings.timezone)
        overdue = now > due
        body = (f"Tài liệu của cuộc họp dưới đây {'đã quá hạn' if overdue else 'sắp đến hạn'} gửi tới các điểm cầu "
                f"(hạn: {due.astimezone(zone):%H:%M ngày %d/%m/%Y}, trước cuộc họp ít nhất 01 ngày làm việc) nhưng "
                f"chưa có tài liệu nào.\n{invitations.meeting_lines(meeting, services.settings)}\n"
                f"Gửi tài liệu tại trang cuộc họp: {meeting_url(services, meeting.id)}")
        delivery = Delivery()
        invitations.send(uow.session, notifier, delivery, key, invitations.recipient_of(instance.initiator),
                         f"{'Quá hạn' if overdue else 'Nhắc'} gửi tài liệu họp: {meeting.title}"[:500], body,
                         meeting.instance_id)
        sent += delivery.sent
    return sent


def remind_documents(uow: UnitOfWork, services: Services) -> int:
    """The worker's call: `remind` on the NOTIFICATIONS channel."""
    return remind(uow, services, notifier_for(services))
