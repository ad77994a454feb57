"""Invitations to a meeting and their answers (Thừa Thiên Huế 279/QĐ-UBND, Điều 5; docs/meeting_rules.md).

The `meeting.invite` topic (`InviteOperation`) invites the units a meeting procedure names in
`don_vi_moi` (unit codes): one `meeting_invitations` row per unit and a notification to each
person of the unit. A signed-in person of an invited unit answers for the unit: attending, with
the name and title of whoever chairs the unit's endpoint, or not attending, with a reason. The
answer may change until the meeting starts. A unit that was not invited cannot answer: under the
rules it may not join without the chair's consent.

Who acts for the host side (postpones, cancels, sends the documents: engine/services/meeting_rules.py)
is `is_host`: people of the unit that registered the meeting (the instance's initiator unit),
the leaders (`lanh_dao`) of the Trung tâm Chuyển đổi số and of the Văn phòng UBND tỉnh, and
system administrators.
"""
from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.adapters.base import AdapterError, AdapterRefused, CallContext
from engine.adapters.notifications import Notifier, platform_user
from engine.domain.enums import Role
from engine.domain.errors import Conflict, Forbidden, InvalidData
from engine.domain.messages import Message
from engine.persistence.models import (
    AdapterOperation,
    Meeting,
    MeetingInvitation,
    Notification,
    ProcessInstance,
    Unit,
    User,
)
from engine.persistence.uow import UnitOfWork
from engine.services import audit, meetings, queries
from engine.services.context import Services
from engine.services.meetings import MeetingState
from engine.settings import Settings

log = logging.getLogger(__name__)

TOPIC = "meeting.invite"
#: Where an invited unit answers, below PUBLIC_BASE_URL (the web app's meeting_rules blueprint).
INVITATION_PATH = "/invitations/"
#: Units whose leaders act for the host side of every meeting: Trung tâm Chuyển đổi số, Văn phòng UBND tỉnh.
HOST_OFFICES = frozenset({"ttcds", "vpubnd"})
#: Meetings still ahead: they may be answered, postponed, cancelled and given documents.
OPEN_STATES = (MeetingState.REGISTERED.value, MeetingState.CONFIRMED.value, MeetingState.POSTPONED.value)
MAX_NAME, MAX_REASON = 255, 1000
LIST_LIMIT = 200
WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


class InvitationStatus(str, enum.Enum):
    PENDING = "cho_xac_nhan"
    ATTENDING = "tham_du"
    DECLINED = "tu_choi"

    @property
    def label(self) -> Message:
        return {"cho_xac_nhan": Message("Chờ xác nhận", "Awaiting answer"),
                "tham_du": Message("Tham dự", "Attending"),
                "tu_choi": Message("Không tham dự", "Not attending")}[self.value]


NOT_INVITED = Message("Đơn vị của bạn không có trong thành phần mời họp nên không trả lời được; muốn tham gia "
                      "phải được người chủ trì cuộc họp đồng ý.",
                      "Your unit is not among the invited units and cannot answer; joining needs the chair's consent.")
NOT_HOST = Message("Chỉ đơn vị đăng ký cuộc họp, lãnh đạo Trung tâm Chuyển đổi số, lãnh đạo Văn phòng UBND tỉnh "
                   "hoặc quản trị hệ thống được làm việc này.",
                   "Only the unit that registered the meeting, the leaders of the Digital Transformation Centre or "
                   "of the Provincial People's Committee Office, or an administrator may do this.")
BAD_ANSWER = Message("Hãy chọn “Tham dự” hoặc “Không tham dự”.", "Choose “Attending” or “Not attending”.")
NEED_CHAIR = Message("Nhập họ tên người chủ trì tại điểm cầu của đơn vị.",
                     "Enter the name of the person chairing your unit's endpoint.")
NEED_TITLE = Message("Nhập chức vụ người chủ trì tại điểm cầu của đơn vị.",
                     "Enter the title of the person chairing your unit's endpoint.")
NEED_REASON = Message("Nêu rõ lý do không tham dự.", "Give the reason for not attending.")


def _too_long(label: Message, limit: int) -> Message:
    return Message(f"{label.vi} dài quá {limit} ký tự.", f"{label.en} is longer than {limit} characters.")


def closed(meeting: Meeting) -> Message:
    """Why a meeting no longer takes answers, changes or documents."""
    state = meetings.state_of(meeting.state)
    if state is MeetingState.CANCELLED:
        return Message("Cuộc họp đã bị hủy.", "The meeting has been cancelled.")
    if state is MeetingState.REFUSED:
        return Message("Đăng ký cuộc họp đã bị từ chối.", "The meeting's registration was refused.")
    if state is MeetingState.HELD:
        return Message("Cuộc họp đã kết thúc.", "The meeting has ended.")
    return Message("Cuộc họp đã bắt đầu.", "The meeting has started.")


def is_open(meeting: Meeting, now: datetime) -> bool:
    """Still ahead: not refused, cancelled, in session or held, and its start not come."""
    return meeting.state in OPEN_STATES and (meeting.starts_at is None or now < meeting.starts_at)


def check_open(meeting: Meeting, now: datetime) -> None:
    if not is_open(meeting, now):
        raise Conflict(closed(meeting))


# ---------------------------------------------------------------- who may


def is_host(user: User, instance: ProcessInstance) -> bool:
    """The host side of the meeting the instance runs (module docstring)."""
    roles = user.role_codes
    return (Role.QUAN_TRI.value in roles or user.unit_id == instance.initiator_unit_id
            or (Role.LANH_DAO.value in roles and user.unit.code in HOST_OFFICES))


def host_meeting(uow: UnitOfWork, user: User, meeting_id: int) -> tuple[Meeting, ProcessInstance]:
    """The meeting and its instance, when the user acts for its host side (Forbidden otherwise)."""
    meeting = meetings.get(uow, meeting_id)
    instance = uow.session.get(ProcessInstance, meeting.instance_id)
    assert instance is not None
    if not is_host(user, instance):
        raise Forbidden(NOT_HOST)
    return meeting, instance


def invitation_of(session: Session, meeting_id: int, unit_id: int) -> MeetingInvitation | None:
    return session.scalar(select(MeetingInvitation).where(MeetingInvitation.meeting_id == meeting_id,
                                                          MeetingInvitation.unit_id == unit_id))


def may_see(uow: UnitOfWork, user: User, meeting: Meeting) -> bool:
    """The host side, the invited units, and whoever may see the meeting's instance."""
    instance = uow.session.get(ProcessInstance, meeting.instance_id)
    assert instance is not None
    return (is_host(user, instance) or invitation_of(uow.session, meeting.id, user.unit_id) is not None
            or queries.can_see(uow, user, instance))


def visible_meeting(uow: UnitOfWork, user: User, meeting_id: int) -> Meeting:
    meeting = meetings.get(uow, meeting_id)
    if not may_see(uow, user, meeting):
        raise Forbidden(queries.NOT_VISIBLE)
    return meeting


# ---------------------------------------------------------------- telling people


def when_text(meeting: Meeting, zone: ZoneInfo) -> str:
    """“08:00 thứ Năm, ngày 03/12/2026 (đến 11:30)”."""
    if meeting.starts_at is None:
        return "chưa xác định"
    start = meeting.starts_at.astimezone(zone)
    text = f"{start:%H:%M} {WEEKDAYS[start.weekday()]}, ngày {start:%d/%m/%Y}"
    if meeting.ends_at is not None and meeting.ends_at.astimezone(zone).date() == start.date():
        text += f" (đến {meeting.ends_at.astimezone(zone):%H:%M})"
    return text


def invitation_url(settings: Settings, meeting_id: int) -> str:
    return f"{settings.public_base_url.rstrip('/')}{INVITATION_PATH}{meeting_id}"


def meeting_lines(meeting: Meeting, settings: Settings) -> str:
    """The meeting as every message describes it."""
    zone = ZoneInfo(settings.timezone)
    return (f"- Nội dung: {meeting.title}\n- Thời gian: {when_text(meeting, zone)}\n"
            f"- Địa điểm (điểm cầu chính): {meeting.room or 'chưa xác định'}\n"
            f"- Cấp họp: {meetings.level_label(meeting.level).vi}\n"
            f"- Đơn vị chủ trì: {meeting.host_unit or '—'}\n")


def recipient_of(user: User) -> str:
    """A person's address for notifications: their e-mail, else their platform inbox."""
    return user.email.strip().lower() if user.email else platform_user(user.username)


def people_of(session: Session, unit_ids: Iterable[int]) -> list[User]:
    ids = sorted(set(unit_ids))
    if not ids:
        return []
    return list(session.scalars(select(User).where(User.unit_id.in_(ids), User.is_active.is_(True))
                                .order_by(User.unit_id, User.id)).unique())


@dataclass
class Delivery:
    """What a round of notifications did: messages handed over, and recipients the channel refused."""

    sent: int = 0
    failed: list[str] = field(default_factory=list)


def send(session: Session, notifier: Notifier, delivery: Delivery, key: str, recipient: str, subject: str,
         body: str, instance_id: int) -> None:
    """One message in the caller's transaction; a channel failure is noted in `delivery`, not raised, and
    leaves no row behind (so a later round sends it again)."""
    try:
        if notifier.send(key, recipient, subject, body, instance_id, session=session):
            delivery.sent += 1
    except AdapterError as exc:
        log.warning("notification %s to %s failed: %s", key, recipient, exc)
        session.execute(delete(Notification).where(Notification.key == key, Notification.sent_at.is_(None)))
        delivery.failed.append(recipient)


def notify_invitees(session: Session, notifier: Notifier, meeting: Meeting, key: str, subject: str,
                    body: str) -> Delivery:
    """The same message to every person of every invited unit, once per `key` and person."""
    unit_ids = session.scalars(select(MeetingInvitation.unit_id).where(MeetingInvitation.meeting_id == meeting.id))
    delivery = Delivery()
    for person in people_of(session, unit_ids):
        send(session, notifier, delivery, f"{key}:{person.id}", recipient_of(person), subject, body,
             meeting.instance_id)
    return delivery


# ---------------------------------------------------------------- the meeting.invite topic


def invite_codes(data: Mapping[str, Any]) -> list[str]:
    """The unit codes of `don_vi_moi` (a list of codes, or of rows with `don_vi`), each once, in order."""
    raw = data.get("don_vi_moi")
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list):
        raise AdapterRefused("Biến don_vi_moi phải là danh sách mã đơn vị được mời", 422, "")
    codes: list[str] = []
    for item in raw:
        code = item.get("don_vi") if isinstance(item, dict) else item
        if not isinstance(code, str) or not code.strip():
            raise AdapterRefused(f"don_vi_moi có phần tử không phải mã đơn vị: {str(item)[:60]!r}", 422, "")
        if code.strip() not in codes:
            codes.append(code.strip())
    return codes


class InviteOperation:
    """`meeting.invite`: invites the units of `don_vi_moi` to the instance's meeting and notifies their people.

    Idempotent by key (the result is kept in `adapter_operations`); a unit already invited is not
    invited or notified again. The meeting's row must exist (the register writes it when the instance is
    saved): until then the call fails and the worker tries again. An unknown unit code is a refusal
    (an incident at once, naming the codes): trying again cannot help.
    """

    def __init__(self, session_factory: Callable[[], Session], notifier: Notifier, settings: Settings,
                 clock: Callable[[], datetime]) -> None:
        self._sessions = session_factory
        self._notifier = notifier
        self._settings = settings
        self._clock = clock

    def __call__(self, key: str, data: Mapping[str, Any], context: CallContext) -> dict[str, Any]:
        codes = invite_codes(data)
        with self._sessions() as session:
            stored = session.get(AdapterOperation, key)
            if stored is not None:
                return dict(stored.result)
            meeting = session.scalar(select(Meeting).where(Meeting.instance_id == context.instance_id))
            if meeting is None:
                raise AdapterError(f"Hồ sơ #{context.instance_id} chưa có trong lịch họp; sẽ mời sau khi đăng ký "
                                   "cuộc họp được ghi nhận")
            units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))} if codes else {}
            unknown = [c for c in codes if c not in units]
            if unknown:
                raise AdapterRefused(f"Không có đơn vị mang mã: {', '.join(unknown)} (don_vi_moi)", 422, "")
            invited = [units[c] for c in codes]
            delivery = self._invite(session, meeting, invited)
            if delivery.failed:
                session.commit()  # the invitations and the messages sent stay; the rest go on the retry
                raise AdapterError("Không gửi được giấy mời tới: " + ", ".join(delivery.failed))
            names = ", ".join(u.name for u in invited)
            outcome = f"Đã mời {len(invited)} đơn vị: {names}" if invited else "Không có đơn vị nào được mời"
            result = {"loi_moi": [{"don_vi": u.code, "ten": u.name} for u in invited], "ket_qua": outcome}
            session.add(AdapterOperation(key=key, adapter=TOPIC, result=result))
            session.commit()
            return result

    def _invite(self, session: Session, meeting: Meeting, units: list[Unit]) -> Delivery:
        now = self._clock()
        delivery = Delivery()
        subject = f"Giấy mời họp: {meeting.title}"[:500]
        link = invitation_url(self._settings, meeting.id)
        for unit in units:
            if invitation_of(session, meeting.id, unit.id) is None:
                session.add(MeetingInvitation(meeting_id=meeting.id, unit_id=unit.id, invited_at=now,
                                              status=InvitationStatus.PENDING.value))
            body = (f"Kính gửi: {unit.name}\n\nTrân trọng kính mời đơn vị dự Hội nghị truyền hình:\n"
                    f"{meeting_lines(meeting, self._settings)}\n"
                    "Đề nghị đơn vị xác nhận tham dự ngay (họ tên, chức vụ người chủ trì tại điểm cầu của đơn vị) "
                    f"hoặc báo không tham dự và nêu rõ lý do, tại: {link}\n\n"
                    "Đơn vị, cá nhân không có trong thành phần mời không được tự ý tham gia cuộc họp khi chưa có sự "
                    "đồng ý của người chủ trì (Quy chế ban hành kèm Quyết định 279/QĐ-UBND).")
            for person in people_of(session, [unit.id]):
                send(session, self._notifier, delivery, f"meeting-invite:{meeting.id}:{unit.id}:{person.id}",
                     recipient_of(person), subject, body, meeting.instance_id)
        session.flush()
        return delivery


# ---------------------------------------------------------------- answering


def _required(value: str | None, label: Message, missing: Message, limit: int, problems: list[Message]) -> str:
    text = " ".join((value or "").split()) if limit == MAX_NAME else (value or "").strip()
    if not text:
        problems.append(missing)
    elif len(text) > limit:
        problems.append(_too_long(label, limit))
    return text


def answer(uow: UnitOfWork, services: Services, actor: User, meeting_id: int, choice: str, *,
           chair_name: str | None = None, chair_title: str | None = None, reason: str | None = None
           ) -> MeetingInvitation:
    """The actor's unit answers its invitation: `tham_du` with the endpoint chair's name and title, or
    `tu_choi` with a reason. Forbidden for a unit not invited; Conflict once the meeting has started."""
    meeting = meetings.get(uow, meeting_id)
    invitation = invitation_of(uow.session, meeting.id, actor.unit_id)
    if invitation is None:
        raise Forbidden(NOT_INVITED)
    check_open(meeting, services.now())
    if choice not in (InvitationStatus.ATTENDING.value, InvitationStatus.DECLINED.value):
        raise InvalidData(BAD_ANSWER)
    problems: list[Message] = []
    attending = choice == InvitationStatus.ATTENDING.value
    after: dict[str, str] = {"status": choice, "chair_name": "", "chair_title": "", "reason": ""}
    if attending:
        after["chair_name"] = _required(chair_name, Message("Họ tên người chủ trì", "The chair's name"),
                                        NEED_CHAIR, MAX_NAME, problems)
        after["chair_title"] = _required(chair_title, Message("Chức vụ người chủ trì", "The chair's title"),
                                         NEED_TITLE, MAX_NAME, problems)
    else:
        after["reason"] = _required(reason, Message("Lý do", "The reason"), NEED_REASON, MAX_REASON, problems)
    if problems:
        raise InvalidData(Message(" ".join(p.vi for p in problems), " ".join(p.en for p in problems)), problems)
    before = {"status": invitation.status, "chair_name": invitation.chair_name,
              "chair_title": invitation.chair_title, "reason": invitation.reason}
    if before == after:
        return invitation
    for name, value in after.items():
        setattr(invitation, name, value)
    invitation.responded_at = services.now()
    invitation.responded_by = actor.id
    unit = actor.unit.name
    summary = (f"{unit} xác nhận tham dự; chủ trì điểm cầu: {after['chair_name']} ({after['chair_title']})"
               if attending else f"{unit} không tham dự. Lý do: {after['reason']}")
    answered_before = before["status"] != InvitationStatus.PENDING.value
    audit.record(uow.session, actor, "meeting_answer", instance_id=meeting.instance_id,
                 summary=("Đổi trả lời: " if answered_before else "") + summary,
                 before=before if answered_before else None, after=after)
    uow.commit()
    return invitation


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class InvitationItem:
    """One invitation of a unit, with its meeting, as lists show it."""

    invitation: MeetingInvitation
    meeting: Meeting
    #: Still awaiting this unit's answer (pending, and the meeting still ahead).
    awaiting: bool
    #: The answer may still be given or changed.
    answerable: bool

    @property
    def status(self) -> InvitationStatus:
        return InvitationStatus(self.invitation.status)


def mine(uow: UnitOfWork, services: Services, user: User) -> list[InvitationItem]:
    """The invitations of the user's unit: those awaiting an answer first (soonest first), then the others
    (latest first)."""
    now = services.now()
    rows = uow.session.execute(select(MeetingInvitation, Meeting)
                               .join(Meeting, Meeting.id == MeetingInvitation.meeting_id)
                               .where(MeetingInvitation.unit_id == user.unit_id)
                               .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(LIST_LIMIT)).all()
    items = [InvitationItem(inv, meeting, inv.status == InvitationStatus.PENDING.value and is_open(meeting, now),
                            is_open(meeting, now)) for inv, meeting in rows]
    waiting = sorted((i for i in items if i.awaiting), key=lambda i: (i.meeting.starts_at is None, i.meeting.starts_at))
    return waiting + [i for i in items if not i.awaiting]


def awaiting_count(session: Session, user: User, now: datetime) -> int:
    """How many invitations of the user's unit await an answer (read only: any open session will do)."""
    query: Any = (select(func.count(MeetingInvitation.id)).join(Meeting, Meeting.id == MeetingInvitation.meeting_id)
                  .where(MeetingInvitation.unit_id == user.unit_id,
                         MeetingInvitation.status == InvitationStatus.PENDING.value,
                         Meeting.state.in_(OPEN_STATES), Meeting.starts_at > now))
    return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class InvitedUnit:
    """A row of the meeting's invitations table."""

    invitation: MeetingInvitation
    unit: Unit
    responder: str

    @property
    def status(self) -> InvitationStatus:
        return InvitationStatus(self.invitation.status)


def of_meeting(session: Session, meeting_id: int) -> list[InvitedUnit]:
    """The meeting's invited units in the order invited, each with its answer and who gave it."""
    rows = session.execute(select(MeetingInvitation, Unit, User.full_name)
                           .join(Unit, Unit.id == MeetingInvitation.unit_id)
                           .outerjoin(User, User.id == MeetingInvitation.responded_by)
                           .where(MeetingInvitation.meeting_id == meeting_id)
                           .order_by(MeetingInvitation.id)).all()
    return [InvitedUnit(inv, unit, name or "") for inv, unit, name in rows]
