"""Postponing and cancelling a meeting, and what its page shows of the Huế rules (docs/meeting_rules.md).

Both are the host side's (engine.services.invitations.is_host) and only while the meeting is still
ahead: refused with a clear message once it has started, ended, been refused or cancelled. Either
one tells every person of every invited unit at once, in the same transaction.

* **Postponement**: a new day and start (an end is optional) and a reason. The instance's variables
  ngay_hop, gio_bat_dau, gio_ket_thuc, hop_luc, ket_thuc_luc take the new time, trang_thai_hop
  becomes `hoan` and ly_do_hoan keeps the reason (engine.bpmn.variables.set_variables); the
  script tasks named by the process property `meeting_time_scripts` that have already run compute
  again from the new time (`thoi_gian_hop`, the marks' texts…) and what they set is written too;
  waiting date timers computed from the old time compute their moment again (`rearm_timers`),
  deadlines of ready tasks computed from it too; saving the instance moves the calendar's row
  (engine.services.meetings.sync). Answers already given stay; units may change them. Documents
  already issued and an MCU room already created keep the old time: the message says so.
* **Cancellation**: a reason; trang_thai_hop becomes `huy` (ly_do_huy the reason) and the instance
  is cancelled where it stands (`instances.stop`, as an administrator's cancel).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.adapters.notifications import Notifier
from engine.bpmn.functions import SESSIONS, as_aware, session_end
from engine.bpmn.runtime import WorkflowError
from engine.bpmn.sandbox import SandboxError
from engine.bpmn.timers import TimerValueError
from engine.bpmn.variables import reads_any, rearm_timers, set_variables, time_scripts
from engine.domain.enums import InstanceStatus, TaskStatus
from engine.domain.errors import Conflict, InvalidData
from engine.domain.messages import Message
from engine.persistence.models import Document, HumanTask, Meeting, MeetingInvitation, ProcessInstance, User
from engine.persistence.uow import UnitOfWork
from engine.services import audit, instances, invitations, meeting_documents, meetings
from engine.services.context import Services
from engine.services.invitations import Delivery, InvitedUnit
from engine.services.meetings import MeetingState

#: The variables holding the meeting's time: a postponement writes them, and what reads them is recomputed.
TIME_VARIABLES = ("ngay_hop", "gio_bat_dau", "gio_ket_thuc", "hop_luc", "ket_thuc_luc")
MAX_REASON = 1000
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

NEED_REASON = Message("Nêu rõ lý do.", "Give the reason.")
REASON_TOO_LONG = Message(f"Lý do dài quá {MAX_REASON} ký tự.", f"The reason is longer than {MAX_REASON} characters.")
NOT_IN_FUTURE = Message("Thời gian họp mới phải sau thời điểm hiện tại.", "The new time must be in the future.")
SAME_TIME = Message("Thời gian mới trùng với thời gian hiện tại của cuộc họp.",
                    "The new time is the meeting's current time.")
END_BEFORE_START = Message("Giờ kết thúc phải sau giờ bắt đầu.", "The end must be after the start.")
NOT_RUNNING = Message("Hồ sơ của cuộc họp không còn đang xử lý.", "The meeting's instance is no longer running.")


def _reason(text: str | None, problems: list[Message]) -> str:
    value = (text or "").strip()
    if not value:
        problems.append(NEED_REASON)
    elif len(value) > MAX_REASON:
        problems.append(REASON_TOO_LONG)
    return value


def _clock_time(text: str | None, label: Message, problems: list[Message]) -> time | None:
    found = _CLOCK.match((text or "").strip())
    if found is None:
        problems.append(Message(f"{label.vi} “{(text or '').strip()[:20]}” phải có dạng giờ:phút, ví dụ 08:00.",
                                f"{label.en} “{(text or '').strip()[:20]}” must be hours:minutes, e.g. 08:00."))
        return None
    return time(int(found.group(1)), int(found.group(2)))


def _raise(problems: list[Message]) -> None:
    if problems:
        raise InvalidData(Message(" ".join(p.vi for p in problems), " ".join(p.en for p in problems)), problems)


@dataclass(frozen=True)
class NewTime:
    start: datetime
    end: datetime
    #: The variables as the registration form writes them.
    day: str
    start_text: str
    end_text: str


def new_time(services: Services, day: str | None, start: str | None, end: str | None,
             buoi: str | None = None) -> NewTime:
    """The postponed meeting's time; the end, when not given, is the end of its session (`buoi` as
    registered: engine.bpmn.functions.session_end, the rule of `meeting_end`)."""
    problems: list[Message] = []
    zone = ZoneInfo(services.settings.timezone)
    try:
        when: date | None = meetings.parse_day(day, Message("Ngày họp mới", "The new date"))
    except InvalidData as err:
        problems.append(err.message)
        when = None
    begins = _clock_time(start, Message("Giờ bắt đầu", "The start"), problems)
    ends = _clock_time(end, Message("Giờ kết thúc", "The end"), problems) if (end or "").strip() else None
    _raise(problems)
    assert when is not None and begins is not None
    start_at = datetime.combine(when, begins, tzinfo=zone)
    end_at = datetime.combine(when, ends, tzinfo=zone) if ends else session_end(start_at, buoi)
    if end_at <= start_at:
        raise InvalidData(END_BEFORE_START, [END_BEFORE_START])
    return NewTime(start_at, end_at, when.isoformat(), f"{begins:%H:%M}", f"{ends:%H:%M}" if ends else "")


@dataclass
class Outcome:
    """What a postponement or cancellation did."""

    meeting: Meeting
    delivery: Delivery
    #: Timers moved by a postponement: (element id, new moment).
    timers: list[tuple[str, datetime]] = field(default_factory=list)


def _acting(uow: UnitOfWork, services: Services, actor: User, meeting_id: int) -> tuple[Meeting, ProcessInstance]:
    meeting, instance = invitations.host_meeting(uow, actor, meeting_id)
    invitations.check_open(meeting, services.now())
    if instance.status not in (InstanceStatus.RUNNING, InstanceStatus.ERROR):
        raise Conflict(NOT_RUNNING)
    return meeting, instance


def _refresh_due_dates(uow: UnitOfWork, services: Services, instance: ProcessInstance, workflow: Any,
                       names: tuple[str, ...]) -> None:
    """Deadlines of ready tasks written from the meeting's time (`shift(hop_luc, hours=-2)`) follow it."""
    rows = {t.spiff_task_id: t for t in uow.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.READY))}
    for ready in services.runtime.ready_human_tasks(workflow):
        row = rows.get(ready.task_id)
        if row is not None and ready.due_expression and reads_any(ready.due_expression, names):
            row.due_at = as_aware(services.runtime.evaluate(workflow, ready.task_id, ready.due_expression))


def _rerun_time_scripts(services: Services, instance: ProcessInstance, workflow: Any,
                        written: Mapping[str, Any]) -> dict[str, Any]:
    """The procedure's `meeting_time_scripts` already run compute again from the new time; what they
    set is written into the workflow and returned. The postponement's own values (`written`: the
    time, `hoan`, the reason) stand over what a script sets (its `trang_thai_hop = "da_xac_nhan"`)."""
    try:
        _ran, values = services.runtime.rerun_scripts(workflow, time_scripts(instance.version.properties))
    except WorkflowError as exc:
        raise Conflict(Message(
            f"Không tính lại được các giá trị theo thời gian mới (kịch bản {exc.element_id}): {exc}",
            f"The values derived from the meeting's time could not be computed (script {exc.element_id}): "
            f"{exc}")) from exc
    derived = {k: v for k, v in values.items() if k not in written}
    set_variables(workflow, derived)
    return derived


def _plain(values: Mapping[str, Any]) -> Any:
    """JSON for the audit: a value a script set as a date or datetime becomes its ISO text."""
    return json.loads(json.dumps(dict(values), default=lambda v: v.isoformat() if hasattr(v, "isoformat")
                                 else str(v)))


def _kept_old_time(uow: UnitOfWork, instance: ProcessInstance, variables: Mapping[str, Any]) -> list[str]:
    """What a postponement does not change, when the instance has it: documents it has issued (the
    Phụ lục II notice) and a room created on the MCU keep the old time."""
    kept = [f"văn bản đã phát hành số {d.reference}" + (f" ({d.title})" if d.title else "")
            for d in uow.session.scalars(select(Document).where(Document.instance_id == instance.id)
                                         .order_by(Document.id))]
    room = variables.get("phong_hop_ao")
    if isinstance(room, Mapping) and room:
        code = str(room.get("ma") or "").strip()
        kept.append("phòng họp trực tuyến đã khởi tạo trên MCU" + (f" (mã {code})" if code else ""))
    return kept


def postpone(uow: UnitOfWork, services: Services, notifier: Notifier, actor: User, meeting_id: int, *,
             day: str | None, start: str | None, end: str | None = None, reason: str | None) -> Outcome:
    """Move the meeting to a new time (module docstring); every invitee is told at once."""
    meeting, instance = _acting(uow, services, actor, meeting_id)
    problems: list[Message] = []
    why = _reason(reason, problems)
    _raise(problems)
    workflow = services.runtime.restore(instance.version.spec_json, instance.state_json)
    current = services.runtime.variables(workflow)
    buoi = current.get("buoi")
    moved_to = new_time(services, day, start, end, buoi if buoi in SESSIONS else None)
    if moved_to.start <= services.now():
        raise InvalidData(NOT_IN_FUTURE, [NOT_IN_FUTURE])
    if meeting.starts_at is not None and moved_to.start == meeting.starts_at:
        raise InvalidData(SAME_TIME, [SAME_TIME])
    zone = ZoneInfo(services.settings.timezone)
    was = invitations.when_text(meeting, zone)
    before = {k: current.get(k) for k in (*TIME_VARIABLES, "trang_thai_hop")}
    after = {"ngay_hop": moved_to.day, "gio_bat_dau": moved_to.start_text, "gio_ket_thuc": moved_to.end_text,
             "hop_luc": moved_to.start.isoformat(), "ket_thuc_luc": moved_to.end.isoformat(),
             "trang_thai_hop": MeetingState.POSTPONED.value, "ly_do_hoan": why}
    snapshot = dict(current)  # set_variables replaces values: the old objects stay here
    set_variables(workflow, after)
    derived = _rerun_time_scripts(services, instance, workflow, after)
    after.update(derived)
    before.update({k: snapshot.get(k) for k in derived})
    moved_names = (*TIME_VARIABLES, *derived)
    try:
        timers = rearm_timers(workflow, moved_names)
        _refresh_due_dates(uow, services, instance, workflow, moved_names)
    except (SandboxError, TimerValueError, ValueError, TypeError) as exc:
        raise Conflict(Message(f"Không tính lại được hẹn giờ của quy trình theo thời gian mới: {exc}",
                               f"The procedure's timers could not be computed for the new time: {exc}")) from exc
    instances.save_state(uow, services, instance, workflow)  # wake-up time, facts, the calendar's row
    event = audit.record(uow.session, actor, "meeting_postpone", instance_id=instance.id,
                         summary=f"Hoãn cuộc họp từ {was} đến {invitations.when_text(meeting, zone)}. Lý do: {why}",
                         before=_plain(before), after=_plain(after))
    uow.session.flush()
    body = ("Cuộc họp dưới đây được HOÃN, chuyển sang thời gian mới.\n"
            f"{invitations.meeting_lines(meeting, services.settings)}- Thời gian cũ: {was}\n- Lý do hoãn: {why}\n\n"
            "Đơn vị đã trả lời giấy mời có thể thay đổi trả lời trước giờ họp tại: "
            f"{invitations.invitation_url(services.settings, meeting.id)}")
    kept = _kept_old_time(uow, instance, snapshot)
    if kept:
        body += (f"\n\nLưu ý: {'; '.join(kept)} vẫn ghi thời gian cũ ({was}); "
                 "thời gian họp là thời gian mới nêu trên.")
    delivery = invitations.notify_invitees(uow.session, notifier, meeting, f"meeting-postpone:{event.id}",
                                           f"Hoãn họp: {meeting.title}"[:500], body)
    uow.commit()
    return Outcome(meeting, delivery, timers)


def cancel(uow: UnitOfWork, services: Services, notifier: Notifier, actor: User, meeting_id: int, *,
           reason: str | None) -> Outcome:
    """Cancel the meeting and its instance (module docstring); every invitee is told at once."""
    meeting, instance = _acting(uow, services, actor, meeting_id)
    problems: list[Message] = []
    why = _reason(reason, problems)
    _raise(problems)
    workflow = services.runtime.restore(instance.version.spec_json, instance.state_json)
    values = {"trang_thai_hop": MeetingState.CANCELLED.value, "ly_do_huy": why}
    # Once cancelled, the workflow's own data is what the register reads: it keeps the meeting's variables.
    workflow.data.update(dict(services.runtime.variables(workflow)))
    set_variables(workflow, values)
    instances.stop(uow, services, actor, instance, workflow)
    instance.facts = {**(instance.facts or {}), **values}
    event = audit.record(uow.session, actor, "meeting_cancel", instance_id=instance.id,
                         summary=f"Hủy cuộc họp {invitations.when_text(meeting, ZoneInfo(services.settings.timezone))}."
                                 f" Lý do: {why}", after=values)
    uow.session.flush()
    body = (f"Cuộc họp dưới đây đã bị HỦY.\n{invitations.meeting_lines(meeting, services.settings)}"
            f"- Lý do hủy: {why}")
    delivery = invitations.notify_invitees(uow.session, notifier, meeting, f"meeting-cancel:{event.id}",
                                           f"Hủy họp: {meeting.title}"[:500], body)
    uow.commit()
    return Outcome(meeting, delivery)


# ---------------------------------------------------------------- the meeting page's rules


@dataclass(frozen=True)
class Recording:
    """Whether the meeting is recorded (`ghi_hinh`), whether the chair's consent was recorded with the
    registration (`dong_y_ghi_hinh`), and who the chair is (`nguoi_chu_tri`, `chuc_vu_chu_tri`)."""

    recorded: bool
    consented: bool
    chair: str


def recording_of(facts: Mapping[str, Any] | None) -> Recording:
    values = facts or {}
    name = str(values.get("nguoi_chu_tri") or "").strip()
    title = str(values.get("chuc_vu_chu_tri") or "").strip()
    return Recording(values.get("ghi_hinh") is True, values.get("dong_y_ghi_hinh") is True,
                     f"{name} ({title})" if name and title else name)


@dataclass(frozen=True)
class RulesView:
    """What the meeting page shows of the rules to this user, and what they may do there."""

    meeting: Meeting
    invited: list[InvitedUnit]
    #: The user's unit's invitation, when invited.
    mine: MeetingInvitation | None
    is_host: bool
    #: The meeting is still ahead: answers, postponement, cancellation and uploads are taken.
    open: bool
    closed_reason: Message
    documents: meeting_documents.DocumentsView
    recording: Recording


def rules_view(uow: UnitOfWork, services: Services, user: User, meeting_id: int) -> RulesView:
    meeting = invitations.visible_meeting(uow, user, meeting_id)
    instance = uow.session.get(ProcessInstance, meeting.instance_id)
    assert instance is not None
    return RulesView(meeting=meeting, invited=invitations.of_meeting(uow.session, meeting.id),
                     mine=invitations.invitation_of(uow.session, meeting.id, user.unit_id),
                     is_host=invitations.is_host(user, instance), open=invitations.is_open(meeting, services.now()),
                     closed_reason=invitations.closed(meeting),
                     documents=meeting_documents.documents_view(uow, services, meeting),
                     recording=recording_of(instance.facts))
