"""The Huế meeting rules (279/QĐ-UBND): invitations and answers, postponement, cancellation, documents
with their due time and reminder, and the quarterly report, through the real use cases and the worker."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.adapters.base import AdapterError, AdapterRefused, CallContext
from engine.adapters.registry import build_registry
from engine.domain.enums import IncidentStatus, InstanceStatus
from engine.domain.errors import Conflict, Forbidden, InvalidData
from engine.persistence.models import (
    AdapterOperation,
    AuditEvent,
    HumanTask,
    Incident,
    Meeting,
    MeetingInvitation,
    Notification,
    ProcessInstance,
    User,
)
from engine.persistence.uow import UnitOfWork
from engine.services import instances, invitations, meeting_documents, meeting_report, meeting_rules
from engine.services.calendar import override_loader
from engine.services.context import Services
from engine.services.invitations import InviteOperation
from engine.services.meeting_documents import DocumentsState
from engine.settings import Settings
from engine.worker import run_once
from tests.engine.attachment_files import docx, pdf
from tests.engine.conftest import Clock, Publish, add_people
from tests.meeting_rules_procedure import book, meeting_id_of, procedure_files, ready_task_id, registration
from tests.smtp_server import SmtpServer

VN = ZoneInfo("Asia/Ho_Chi_Minh")
Uow = Callable[[], UnitOfWork]
#: People besides the engine fixtures' (cv_stc of Sở Tài chính registers the meetings).
MORE_PEOPLE = {  # username: (full name, unit, roles, e-mail)
    "ld_syt": ("Phan Văn Hòa", "so_yt", ["lanh_dao"], "hoapv@syt.example.vn"),
    "cv_sgd": ("Mai Thị Giáo", "so_gd", ["chuyen_vien"], None),
    "ld_ttcds": ("Trương Văn Khoa", "ttcds", ["lanh_dao"], None),
    "cv_ttcds": ("Ngô Thị Mai", "ttcds", ["chuyen_vien"], None),
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN)


@pytest.fixture
def everyone(uow: Uow, session_factory: sessionmaker[Session], people: dict[str, User]) -> dict[str, User]:
    return add_people(uow, session_factory, MORE_PEOPLE,
                      {"so_gd": "Sở Giáo dục và Đào tạo", "ttcds": "Trung tâm Chuyển đổi số"})


@pytest.fixture
def meeting(uow: Uow, services: Services, publish: Publish, everyone: dict[str, User]) -> int:
    """A meeting on Thursday 3 Dec 2026 08:00 registered by Sở Tài chính, inviting Sở Y tế and Sở TT&TT,
    its invitations sent by the worker; the meeting's id."""
    publish(procedure_files())
    instance_id = book(uow, services, everyone["cv_stc"], registration())
    assert run_once(uow, services) == 1
    return meeting_id_of(uow, instance_id)


def work(uow: Uow, action: Callable[[UnitOfWork], Any]) -> Any:
    with uow() as u:
        return action(u)


def inbox(uow: Uow, recipient: str) -> list[Notification]:
    with uow() as u:
        rows = list(u.session.scalars(select(Notification).where(Notification.recipient == recipient)
                                      .order_by(Notification.id)))
        u.session.expunge_all()
        return rows


def the_meeting(uow: Uow, meeting_id: int) -> Meeting:
    with uow() as u:
        row = u.session.get(Meeting, meeting_id)
        assert row is not None
        u.session.expunge(row)
        return row


def invitation_rows(uow: Uow, meeting_id: int) -> dict[str, MeetingInvitation]:
    with uow() as u:
        found = {item.unit.code: item.invitation for item in invitations.of_meeting(u.session, meeting_id)}
        u.session.expunge_all()
        return found


#: Every active person of Sở Y tế and of Sở TT&TT (its administrator too), by e-mail when they have one.
INVITEES = ("user:cv_syt", "hoapv@syt.example.vn", "user:cv_sttt", "user:qt")


# ---------------------------------------------------------------- meeting.invite


def test_the_invitation_goes_to_every_person_of_each_invited_unit_once(
        uow: Uow, services: Services, meeting: int, settings: Settings) -> None:
    rows = invitation_rows(uow, meeting)
    assert sorted(rows) == ["so_yt", "sttt"]
    assert {r.status for r in rows.values()} == {"cho_xac_nhan"}
    for recipient in INVITEES:
        (message,) = inbox(uow, recipient)
        assert message.subject == "Giấy mời họp: Hội nghị triển khai nhiệm vụ chuyển đổi số"
        assert "08:00 thứ Năm, ngày 03/12/2026 (đến 11:30)" in message.body
        assert "Phòng họp trực tuyến UBND tỉnh" in message.body
        assert f"{settings.public_base_url}/invitations/{meeting}" in message.body
    with uow() as u:
        told = u.session.scalars(select(Notification.recipient).where(Notification.subject.startswith("Giấy mời")))
        assert sorted(told) == sorted(INVITEES)
    with uow() as u:
        history = u.session.scalars(select(AuditEvent.summary).where(AuditEvent.action == "service_call")).all()
    assert history == ["Gửi giấy mời họp: Đã mời 2 đơn vị: Sở Y tế, Sở Thông tin và Truyền thông"]


def test_inviting_again_is_idempotent(uow: Uow, services: Services, meeting: int,
                                      session_factory: sessionmaker[Session], clock: Clock) -> None:
    instance_id = the_meeting(uow, meeting).instance_id
    operation = InviteOperation(session_factory, meeting_documents.notifier_for(services), services.settings, clock)
    with uow() as u:
        (key,) = u.session.scalars(select(AdapterOperation.key).where(AdapterOperation.adapter == "meeting.invite"))
        stored = u.session.get(AdapterOperation, key)
        assert stored is not None
        first = dict(stored.result)
    context = CallContext(instance_id, 0, "Task_MoiHop")
    assert operation(key, {"don_vi_moi": ["so_gd"]}, context) == first  # the same key: the stored result
    # Another call naming a unit already invited adds only the new unit and tells only its people.
    again = operation("other-key", {"don_vi_moi": ["so_yt", "so_gd"]}, context)
    assert again["loi_moi"] == [{"don_vi": "so_yt", "ten": "Sở Y tế"},
                                {"don_vi": "so_gd", "ten": "Sở Giáo dục và Đào tạo"}]
    assert sorted(invitation_rows(uow, meeting)) == ["so_gd", "so_yt", "sttt"]
    assert len(inbox(uow, "user:cv_syt")) == 1
    assert len(inbox(uow, "user:cv_sgd")) == 1


def test_the_invitation_waits_for_the_meeting_row(uow: Uow, services: Services, session_factory: sessionmaker[Session],
                                                  clock: Clock, publish: Publish, everyone: dict[str, User]) -> None:
    publish(procedure_files())
    with uow() as u:  # not registered yet: the register has no row for it
        instance_id = instances.start(u, services, everyone["cv_stc"], "hop_quy_che").id
    operation = InviteOperation(session_factory, meeting_documents.notifier_for(services), services.settings, clock)
    with pytest.raises(AdapterError) as caught:
        operation("k", {"don_vi_moi": ["so_yt"]}, CallContext(instance_id, 0, "Task_MoiHop"))
    assert not isinstance(caught.value, AdapterRefused)
    assert "chưa có trong lịch họp" in str(caught.value)


def test_an_unknown_unit_code_raises_the_incident_at_once(uow: Uow, services: Services, publish: Publish,
                                                          everyone: dict[str, User]) -> None:
    publish(procedure_files())
    instance_id = book(uow, services, everyone["cv_stc"], registration(invited=("so_yt", "khong_co")))
    assert run_once(uow, services) == 0
    with uow() as u:
        instance = u.session.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status == InstanceStatus.ERROR
        (incident,) = u.session.scalars(select(Incident).where(Incident.instance_id == instance_id))
        assert incident.status == IncidentStatus.OPEN and incident.topic == "meeting.invite"
        assert "Không có đơn vị mang mã: khong_co" in incident.message and "không thử lại" in incident.message
        assert u.session.scalar(select(func.count(MeetingInvitation.id))) == 0


@pytest.mark.parametrize("value", ["so_yt", [{"ma": "so_yt"}], [""]])
def test_don_vi_moi_must_be_a_list_of_codes(value: Any, uow: Uow, services: Services, meeting: int,
                                            session_factory: sessionmaker[Session], clock: Clock) -> None:
    operation = InviteOperation(session_factory, meeting_documents.notifier_for(services), services.settings, clock)
    with pytest.raises(AdapterRefused, match="don_vi_moi"):
        operation("k2", {"don_vi_moi": value}, CallContext(the_meeting(uow, meeting).instance_id, 0, "Task_MoiHop"))


# ---------------------------------------------------------------- answers


def answer(uow: Uow, services: Services, who: User, meeting_id: int, choice: str, **fields: str) -> MeetingInvitation:
    return work(uow, lambda u: invitations.answer(u, services, who, meeting_id, choice, **fields))


def test_a_unit_confirms_with_its_endpoint_chair_or_declines_with_a_reason(
        uow: Uow, services: Services, meeting: int, everyone: dict[str, User], clock: Clock) -> None:
    with pytest.raises(InvalidData) as missing:
        answer(uow, services, everyone["cv_syt"], meeting, "tham_du", chair_name="  ", chair_title="")
    assert missing.value.message.vi == ("Nhập họ tên người chủ trì tại điểm cầu của đơn vị. "
                                        "Nhập chức vụ người chủ trì tại điểm cầu của đơn vị.")
    with pytest.raises(InvalidData, match="reason"):
        answer(uow, services, everyone["cv_syt"], meeting, "tu_choi", reason=" ")
    with pytest.raises(InvalidData):
        answer(uow, services, everyone["cv_syt"], meeting, "co_the")
    assert invitation_rows(uow, meeting)["so_yt"].status == "cho_xac_nhan"  # nothing changed

    answer(uow, services, everyone["cv_syt"], meeting, "tham_du", chair_name="Lê  Thị Hà",
           chair_title="Phó Giám đốc Sở Y tế", reason="ignored")
    row = invitation_rows(uow, meeting)["so_yt"]
    assert (row.status, row.chair_name, row.chair_title, row.reason) == (
        "tham_du", "Lê Thị Hà", "Phó Giám đốc Sở Y tế", "")
    assert row.responded_by == everyone["cv_syt"].id and row.responded_at == clock.now

    clock.advance(hours=1)  # the answer may change until the meeting starts
    answer(uow, services, everyone["ld_syt"], meeting, "tu_choi", reason="Trùng lịch tiếp đoàn công tác của Bộ")
    row = invitation_rows(uow, meeting)["so_yt"]
    assert (row.status, row.chair_name, row.reason) == ("tu_choi", "", "Trùng lịch tiếp đoàn công tác của Bộ")
    with uow() as u:
        summaries = u.session.scalars(select(AuditEvent.summary).where(AuditEvent.action == "meeting_answer")
                                      .order_by(AuditEvent.id)).all()
    assert summaries == ["Sở Y tế xác nhận tham dự; chủ trì điểm cầu: Lê Thị Hà (Phó Giám đốc Sở Y tế)",
                         "Đổi trả lời: Sở Y tế không tham dự. Lý do: Trùng lịch tiếp đoàn công tác của Bộ"]

    clock.now = at("2026-12-03T08:00")
    with pytest.raises(Conflict) as late:
        answer(uow, services, everyone["cv_syt"], meeting, "tham_du", chair_name="A", chair_title="B")
    assert late.value.message.vi == "Cuộc họp đã bắt đầu."


def test_a_unit_not_invited_cannot_answer(uow: Uow, services: Services, meeting: int,
                                          everyone: dict[str, User]) -> None:
    for who in ("cv_sgd", "cv_stc"):  # another unit; the host unit is not among the invitees either
        with pytest.raises(Forbidden) as refused:
            answer(uow, services, everyone[who], meeting, "tham_du", chair_name="A", chair_title="B")
        assert "không có trong thành phần mời" in refused.value.message.vi
    with uow() as u:
        assert invitations.awaiting_count(u.session, everyone["cv_syt"], services.now()) == 1
        assert invitations.awaiting_count(u.session, everyone["cv_sgd"], services.now()) == 0
        listed = invitations.mine(u, services, everyone["cv_syt"])
        assert [(i.meeting.id, i.awaiting) for i in listed] == [(meeting, True)]


# ---------------------------------------------------------------- postponement and cancellation


def postpone(uow: Uow, services: Services, who: User, meeting_id: int, **fields: Any) -> meeting_rules.Outcome:
    notifier = meeting_documents.notifier_for(services)
    return work(uow, lambda u: meeting_rules.postpone(u, services, notifier, who, meeting_id, **fields))


def cancel(uow: Uow, services: Services, who: User, meeting_id: int, reason: str) -> meeting_rules.Outcome:
    notifier = meeting_documents.notifier_for(services)
    return work(uow, lambda u: meeting_rules.cancel(u, services, notifier, who, meeting_id, reason=reason))


def test_postponement_moves_the_waiting_timer_and_tells_every_invitee(
        uow: Uow, services: Services, meeting: int, everyone: dict[str, User], clock: Clock) -> None:
    instance_id = the_meeting(uow, meeting).instance_id
    with uow() as u:
        instance = u.session.get(ProcessInstance, instance_id)
        assert instance is not None and instance.wake_at == at("2026-12-03T06:00")  # two hours before

    outcome = postpone(uow, services, everyone["cv_stc"], meeting, day="2026-12-04", start="09:00", end="",
                       reason="Lãnh đạo tỉnh đi công tác đột xuất")
    assert outcome.timers == [("Timer_KiemTra", at("2026-12-04T07:00"))]
    assert outcome.delivery.sent == len(INVITEES) and outcome.delivery.failed == []
    row = the_meeting(uow, meeting)
    assert (row.starts_at, row.ends_at, row.state) == (at("2026-12-04T09:00"), at("2026-12-04T11:30"), "hoan")
    with uow() as u:
        instance = u.session.get(ProcessInstance, instance_id)
        assert instance is not None and instance.wake_at == at("2026-12-04T07:00")
        assert instance.facts is not None
        moved = ("ngay_hop", "gio_bat_dau", "hop_luc", "ket_thuc_luc", "trang_thai_hop")
        assert {k: instance.facts[k] for k in moved} == {
            "ngay_hop": "2026-12-04", "gio_bat_dau": "09:00", "hop_luc": "2026-12-04T09:00:00+07:00",
            "ket_thuc_luc": "2026-12-04T11:30:00+07:00", "trang_thai_hop": "hoan"}
        event = u.session.scalar(select(AuditEvent).where(AuditEvent.action == "meeting_postpone"))
        assert event is not None and event.actor_id == everyone["cv_stc"].id
        assert event.before["hop_luc"] == "2026-12-03T08:00:00+07:00"
    for recipient in INVITEES:  # every invitee at once, in the same transaction
        _invitation, moved = inbox(uow, recipient)
        assert moved.subject == "Hoãn họp: Hội nghị triển khai nhiệm vụ chuyển đổi số"
        assert "09:00 thứ Sáu, ngày 04/12/2026" in moved.body and "08:00 thứ Năm, ngày 03/12/2026" in moved.body
        assert "Lãnh đạo tỉnh đi công tác đột xuất" in moved.body

    clock.now = at("2026-12-03T06:30")  # the old moment has passed: nothing fires
    run_once(uow, services)
    assert ready_task_id(uow, instance_id) is None
    clock.now = at("2026-12-04T06:59")
    run_once(uow, services)
    assert ready_task_id(uow, instance_id) is None
    clock.now = at("2026-12-04T07:00")  # the new one
    run_once(uow, services)
    task_id = ready_task_id(uow, instance_id)
    assert task_id is not None
    with uow() as u:
        task = u.session.get(HumanTask, task_id)
        assert task is not None and task.due_at == at("2026-12-04T13:00")  # its deadline reads the new hop_luc


def test_a_postponement_needs_a_valid_future_time_and_a_reason(
        uow: Uow, services: Services, meeting: int, everyone: dict[str, User]) -> None:
    cases = [({"day": "2026-12-04", "start": "09:00", "reason": ""}, "Nêu rõ lý do."),
             ({"day": "04/12/2026", "start": "09:00", "reason": "x"}, "không phải ngày hợp lệ"),
             ({"day": "2026-12-04", "start": "9h", "reason": "x"}, "phải có dạng giờ:phút"),
             ({"day": "2026-12-04", "start": "09:00", "end": "08:00", "reason": "x"}, "Giờ kết thúc phải sau"),
             ({"day": "2026-11-20", "start": "09:00", "reason": "x"}, "phải sau thời điểm hiện tại"),
             ({"day": "2026-12-03", "start": "08:00", "reason": "x"}, "trùng với thời gian hiện tại")]
    for fields, expected in cases:
        with pytest.raises(InvalidData) as refused:
            postpone(uow, services, everyone["cv_stc"], meeting, **fields)
        assert expected in refused.value.message.vi
    assert the_meeting(uow, meeting).starts_at == at("2026-12-03T08:00")
    assert len(inbox(uow, "user:cv_syt")) == 1


def test_cancellation_notifies_all_invitees(uow: Uow, services: Services, meeting: int,
                                           everyone: dict[str, User]) -> None:
    instance_id = the_meeting(uow, meeting).instance_id
    outcome = cancel(uow, services, everyone["ld_ttcds"], meeting, "Thay đổi kế hoạch của UBND tỉnh")
    assert outcome.delivery.sent == len(INVITEES)
    for recipient in INVITEES:
        messages = inbox(uow, recipient)
        assert [m.subject for m in messages] == ["Giấy mời họp: Hội nghị triển khai nhiệm vụ chuyển đổi số",
                                                 "Hủy họp: Hội nghị triển khai nhiệm vụ chuyển đổi số"]
        assert "đã bị HỦY" in messages[1].body and "Thay đổi kế hoạch của UBND tỉnh" in messages[1].body
    assert inbox(uow, "user:cv_sgd") == []  # not invited: not told
    row = the_meeting(uow, meeting)
    assert (row.state, row.title, row.starts_at) == ("huy", "Hội nghị triển khai nhiệm vụ chuyển đổi số",
                                                    at("2026-12-03T08:00"))
    with uow() as u:
        instance = u.session.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status == InstanceStatus.CANCELLED and instance.wake_at is None
        assert instance.facts is not None and instance.facts["trang_thai_hop"] == "huy"
        actions = u.session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == instance_id)
                                    .order_by(AuditEvent.id)).all()
        assert actions[-2:] == ["cancel", "meeting_cancel"]
    with pytest.raises(Conflict) as again:
        cancel(uow, services, everyone["cv_stc"], meeting, "lần nữa")
    assert again.value.message.vi == "Cuộc họp đã bị hủy."
    with pytest.raises(Conflict):
        postpone(uow, services, everyone["cv_stc"], meeting, day="2026-12-05", start="08:00", reason="x")


def test_only_the_host_side_postpones_or_cancels_and_only_before_the_start(
        uow: Uow, services: Services, meeting: int, everyone: dict[str, User], clock: Clock) -> None:
    for who in ("cv_syt", "cv_sgd", "cv_ttcds"):  # an invitee, a stranger, a TTCĐS officer who is no leader
        with pytest.raises(Forbidden):
            cancel(uow, services, everyone[who], meeting, "x")
        with pytest.raises(Forbidden):
            postpone(uow, services, everyone[who], meeting, day="2026-12-05", start="08:00", reason="x")
    clock.now = at("2026-12-03T08:05")
    for who in ("cv_stc", "qt"):
        with pytest.raises(Conflict) as started:
            cancel(uow, services, everyone[who], meeting, "x")
        assert started.value.message.vi == "Cuộc họp đã bắt đầu."
    assert the_meeting(uow, meeting).state == "da_xac_nhan"


# ---------------------------------------------------------------- documents


def test_documents_are_due_at_the_end_of_the_working_day_before(services: Services) -> None:
    def due(start: str, urgent: bool = False) -> datetime | None:
        return meeting_documents.due_at(services, Meeting(starts_at=at(start), urgent=urgent, state="da_xac_nhan"))

    assert due("2026-12-03T08:00") == at("2026-12-02T17:00")
    assert due("2026-12-07T08:00") == at("2026-12-04T17:00")  # a Monday meeting: the Friday before
    assert due("2026-05-04T14:00") == at("2026-04-29T17:00")  # 30/4 and 1/5 are days off
    assert due("2026-12-03T08:00", urgent=True) is None


def upload(uow: Uow, services: Services, who: User, meeting_id: int, name: str, content: bytes) -> Any:
    notifier = meeting_documents.notifier_for(services)
    return work(uow, lambda u: meeting_documents.upload(u, services, notifier, who, meeting_id,
                                                        file_name=name, content=content))


def test_the_reminder_then_the_overdue_flag_with_the_clock_moving(
        uow: Uow, services: Services, meeting: int, everyone: dict[str, User], clock: Clock) -> None:
    def state() -> DocumentsState:
        return work(uow, lambda u: meeting_documents.documents_view(u, services, the_meeting(uow, meeting)).state)

    def reminders() -> list[Notification]:
        return [n for n in inbox(uow, "user:cv_stc") if "tài liệu họp" in n.subject]

    assert state() is DocumentsState.NOT_DUE
    clock.now = at("2026-12-02T10:59")  # the due time (Wed 17:00) is more than 4 working hours away
    run_once(uow, services)
    assert reminders() == []
    clock.now = at("2026-12-02T11:00")
    run_once(uow, services)
    run_once(uow, services)  # once only
    (reminder,) = reminders()
    assert reminder.subject == "Nhắc gửi tài liệu họp: Hội nghị triển khai nhiệm vụ chuyển đổi số"
    assert "hạn: 17:00 ngày 02/12/2026" in reminder.body and f"/meetings/{meeting}" in reminder.body
    assert state() is DocumentsState.NOT_DUE
    clock.now = at("2026-12-02T17:01")
    assert state() is DocumentsState.OVERDUE
    with uow() as u:
        assert meeting_documents.late_meetings(u, services, [the_meeting(uow, meeting)]) == {meeting}
    document, delivery = upload(uow, services, everyone["cv_stc"], meeting, "Báo cáo.pdf", pdf())
    assert document.late and delivery.sent == len(INVITEES)
    assert state() is DocumentsState.LATE  # still “Tài liệu chậm”: sent after the due time
    with uow() as u:
        assert meeting_documents.late_meetings(u, services, [the_meeting(uow, meeting)]) == {meeting}


def test_documents_on_time_reach_the_invitees_and_only_them(
        uow: Uow, services: Services, meeting: int, everyone: dict[str, User]) -> None:
    with pytest.raises(Forbidden):
        upload(uow, services, everyone["cv_syt"], meeting, "a.pdf", pdf())
    with pytest.raises(InvalidData) as bad:
        upload(uow, services, everyone["cv_stc"], meeting, "a.pdf", docx())
    assert "phần mở rộng phải là .docx" in bad.value.message.vi
    with pytest.raises(InvalidData):
        upload(uow, services, everyone["cv_stc"], meeting, "a.exe", b"MZ\x90\x00")
    outline = docx()
    document, _ = upload(uow, services, everyone["ld_ttcds"], meeting, "Đề cương.docx", outline)
    assert not document.late
    assert inbox(uow, "user:cv_syt")[-1].subject == "Tài liệu họp: Hội nghị triển khai nhiệm vụ chuyển đổi số"
    with uow() as u:
        view = meeting_documents.documents_of(u, services, everyone["cv_sttt"], meeting)
        assert view.state is DocumentsState.ON_TIME and [f.name for f in view.files] == ["Đề cương.docx"]
        found = meeting_documents.document_for(u, everyone["cv_syt"], meeting, document.ref)
        assert found.content == outline
        with pytest.raises(Forbidden):
            meeting_documents.document_for(u, everyone["cv_sgd"], meeting, document.ref)


# ---------------------------------------------------------------- the quarterly report


def test_the_quarterly_report_counts_meetings_answers_documents_and_incidents(
        uow: Uow, services: Services, meeting: int, everyone: dict[str, User], clock: Clock) -> None:
    host = everyone["cv_stc"]
    cancelled = meeting_id_of(uow, book(uow, services, host, registration("Họp bị hủy", "2026-12-10")))
    postponed = meeting_id_of(uow, book(uow, services, host, registration("Họp bị hoãn", "2026-12-11", invited=())))
    book(uow, services, host, registration("Họp đột xuất", "2026-12-15", dot_xuat=True, invited=("so_yt",)))
    next_year = book(uow, services, host, registration("Họp năm sau", "2027-01-05"))
    run_once(uow, services)
    answer(uow, services, everyone["cv_syt"], meeting, "tham_du", chair_name="Lê Thị Hà", chair_title="Phó Giám đốc")
    answer(uow, services, everyone["cv_sttt"], meeting, "tu_choi", reason="Trùng lịch")
    answer(uow, services, everyone["cv_syt"], cancelled, "tham_du", chair_name="Lê Thị Hà", chair_title="PGĐ")
    cancel(uow, services, host, cancelled, "Không còn cần thiết")
    postpone(uow, services, host, postponed, day="2026-12-18", start="14:00", reason="Chưa đủ tài liệu")
    upload(uow, services, host, meeting, "Báo cáo.pdf", pdf())
    # The first meeting is held, with an incident reported when it closes.
    clock.now = at("2026-12-03T06:00")
    run_once(uow, services)
    instance_id = the_meeting(uow, meeting).instance_id
    task_id = ready_task_id(uow, instance_id)
    assert task_id is not None
    work(uow, lambda u: instances.complete_task(u, services, everyone["cv_sttt"], task_id,
                                               {"trang_thai_hop": "da_hop", "su_co": "Mất tiếng điểm cầu huyện A"}))
    clock.now = at("2026-12-20T09:00")

    with pytest.raises(Forbidden):
        work(uow, lambda u: meeting_report.compute(u, services, host, 2026, 4))
    with uow() as u:
        report = meeting_report.compute(u, services, everyone["ld_syt"], 2026, 4)
        check_report(report, meeting, next_year)
        assert meeting_report.docx(report, services, "Phan Văn Hòa").startswith(b"PK")
        assert meeting_report.workbook(report, "stamp", services.settings.timezone).startswith(b"PK")


def check_report(report: meeting_report.QuarterReport, meeting: int, next_year: int) -> None:
    assert (report.total, report.held, report.cancelled, report.postponed, report.refused) == (4, 1, 1, 1, 0)
    assert {label.vi: n for label, n in report.held_by_level}["Tỉnh - Huyện"] == 1
    assert sum(n for _, n in report.held_by_level) == 1
    assert [(u.unit, u.invited, u.attending, u.declined, u.unanswered) for u in report.units] == [
        ("Sở Thông tin và Truyền thông", 1, 0, 1, 0), ("Sở Y tế", 2, 1, 0, 1)]  # the cancelled one left out
    assert report.documents[DocumentsState.ON_TIME] == 1
    assert report.documents[DocumentsState.OVERDUE] == 1  # the postponed one, due 17/12, none sent
    assert report.documents[DocumentsState.EXEMPT] == 1  # the urgent one
    assert [line.meeting.id for line in report.with_incidents] == [meeting]
    assert next_year not in [line.meeting.instance_id for line in report.lines]
    rows = meeting_report.summary_rows(report)
    assert ("Tổng hợp cuộc họp", "Bị hủy", 1) in rows
    assert ("Trả lời giấy mời: Sở Y tế", "Chưa trả lời", 1) in rows


def test_quarters_are_parsed_with_clear_errors() -> None:
    today = datetime(2026, 11, 26, tzinfo=UTC).date()
    assert meeting_report.parse_quarter(None, None, today) == (2026, 4)
    assert meeting_report.parse_quarter("2025", "II", today) == (2025, 2)
    assert meeting_report.parse_quarter("2025", "3", today) == (2025, 3)
    for year, quarter in (("2025", "5"), ("2025", "x"), ("abc", "1")):
        with pytest.raises(InvalidData):
            meeting_report.parse_quarter(year, quarter, today)



def test_the_page_tells_whether_the_meeting_is_recorded_and_by_whose_consent() -> None:
    chair = {"nguoi_chu_tri": "Nguyễn Văn Phương", "chuc_vu_chu_tri": "Chủ tịch UBND tỉnh"}
    consented = meeting_rules.recording_of({"ghi_hinh": True, "dong_y_ghi_hinh": True, **chair})
    assert consented == meeting_rules.Recording(True, True, "Nguyễn Văn Phương (Chủ tịch UBND tỉnh)")
    assert meeting_rules.recording_of({"ghi_hinh": True, **chair}).consented is False
    assert meeting_rules.recording_of({"ghi_hinh": "true", "dong_y_ghi_hinh": True}).recorded is False
    assert meeting_rules.recording_of(None) == meeting_rules.Recording(False, False, "")


def test_by_e_mail_a_refused_recipient_is_retried_and_a_change_still_happens(
        uow: Uow, settings: Settings, session_factory: sessionmaker[Session], clock: Clock, publish: Publish,
        everyone: dict[str, User], smtp_server: SmtpServer) -> None:
    mailing = replace(settings, notifications="smtp", smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    services = Services(mailing, build_registry(mailing, session_factory, clock), clock=clock,
                        calendar_overrides=override_loader(session_factory))
    publish(procedure_files())
    instance_id = book(uow, services, everyone["cv_stc"], registration())
    smtp_server.refuse_next(1)  # the one person with an address (the leader of Sở Y tế) is refused once
    assert run_once(uow, services) == 0
    meeting = meeting_id_of(uow, instance_id)
    assert sorted(invitation_rows(uow, meeting)) == ["so_yt", "sttt"]  # kept, with the messages that went
    assert len(inbox(uow, "user:cv_syt")) == 1 and inbox(uow, "hoapv@syt.example.vn") == []
    clock.advance(seconds=11)  # past the retry's backoff
    assert run_once(uow, services) == 1
    (mail,) = smtp_server.messages
    assert mail["To"] == "hoapv@syt.example.vn" and mail["Subject"] == f"Giấy mời họp: {registration()['noi_dung']}"
    assert len(inbox(uow, "user:cv_syt")) == 1  # not sent twice
    assert sorted(invitation_rows(uow, meeting)) == ["so_yt", "sttt"]

    smtp_server.refuse_next(1)
    outcome = postpone(uow, services, everyone["cv_stc"], meeting, day="2026-12-04", start="08:00", reason="Đổi lịch")
    assert outcome.delivery.failed == ["hoapv@syt.example.vn"]  # told to the host, who tells them another way
    assert outcome.delivery.sent == len(INVITEES) - 1
    assert the_meeting(uow, meeting).starts_at == at("2026-12-04T08:00")  # the postponement stands
    assert [n.subject for n in inbox(uow, "hoapv@syt.example.vn")] == [f"Giấy mời họp: {registration()['noi_dung']}"]
