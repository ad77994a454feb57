"""A postponed meeting's derived values follow its new time (docs/meeting_rules.md, docs/modeling.md).

The script tasks a procedure names in its process property `meeting_time_scripts` computed texts and
marks from the meeting's time (`thoi_gian_hop`, `moc_2_gio_hien_thi`…); a postponement runs those
already run again over the new time, so forms, e-mails and timers show and use the new one. What the
instance has already issued (the Phụ lục II notice) or created (the MCU room) keeps the old time: the
postponement's message says so. Publishing refuses a `meeting_time_scripts` naming anything but a
script task.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.domain.errors import Conflict, PublishRefused
from engine.persistence.models import AuditEvent, Meeting, Notification, User
from engine.persistence.uow import UnitOfWork
from engine.services import meeting_documents, meeting_rules
from engine.services.context import Services
from tests.engine import test_meeting_sessions as sessions
from tests.engine import test_videoconference_support as support
from tests.engine.conftest import Clock, Publish, add_people, bundled, bundled_files
from tests.engine.test_instances import complete, instance_row, ready_tasks, task_row, the_ready_task

Uow = Callable[[], UnitOfWork]


@pytest.fixture
def staff(uow: Uow, session_factory: sessionmaker[Session], people: dict[str, User]) -> dict[str, User]:
    """The people of both meeting suites: Văn phòng UBND tỉnh, a district, VNPT, TTCĐS."""
    add_people(uow, session_factory, sessions.STAFF, sessions.UNITS)
    return add_people(uow, session_factory, support.STAFF)


def postpone(uow: Uow, services: Services, who: User, meeting_id: int, **fields: Any) -> meeting_rules.Outcome:
    notifier = meeting_documents.notifier_for(services)
    with uow() as u:
        return meeting_rules.postpone(u, services, notifier, who, meeting_id, **fields)


def meeting_of(uow: Uow, instance_id: int) -> int:
    with uow() as u:
        found = u.session.scalar(select(Meeting.id).where(Meeting.instance_id == instance_id))
    assert found is not None
    return int(found)


def bodies(uow: Uow, recipient: str, subject_starts: str) -> list[str]:
    with uow() as u:
        return [n.body for n in u.session.scalars(select(Notification).where(
            Notification.recipient == recipient).order_by(Notification.id)) if n.subject.startswith(subject_starts)]


# ---------------------------------------------------------------- meeting_planned


def test_a_planned_meeting_postponed_after_the_notice_shows_and_times_the_new_hour(
        uow: Uow, services: Services, staff: dict[str, User], publish: Publish, clock: Clock) -> None:
    version = bundled(publish, sessions.PLANNED)
    assert version.properties is not None and version.properties["meeting_time_scripts"] == "Task_GhiLichHop"
    instance_id = sessions.start_planned(uow, services, staff)  # 27/11 14:00; the rehearsal is under way
    assert sessions.opening(uow, services, instance_id, "Task_KiemTraNoiBo")["thoi_gian_hop"] == "14:00 ngày 27/11/2026"

    outcome = postpone(uow, services, staff["cv_vp"], meeting_of(uow, instance_id), day="2026-11-30",
                       start="09:00", reason="Chính phủ dời phiên họp")
    assert outcome.timers == [("BoundaryEvent_TongDuyet2Gio", sessions.at(30, 7))]
    shown = sessions.opening(uow, services, instance_id, "Task_KiemTraNoiBo")
    assert {k: shown[k] for k in ("thoi_gian_hop", "moc_2_gio_hien_thi", "moc_30_phut_hien_thi", "hop_luc",
                                  "ket_thuc_luc", "trang_thai_hop", "ap_dung_moc_2_gio")} == {
        "thoi_gian_hop": "09:00 ngày 30/11/2026", "moc_2_gio_hien_thi": "07:00 ngày 30/11/2026",
        "moc_30_phut_hien_thi": "08:30 ngày 30/11/2026", "hop_luc": "2026-11-30T09:00:00+07:00",
        "ket_thuc_luc": "2026-11-30T11:30:00+07:00",
        "trang_thai_hop": "hoan",  # the postponement's state stands over the script's da_xac_nhan
        "ap_dung_moc_2_gio": True}
    # The rehearsal's own time is the notice's, not derived from the meeting's: it stays.
    assert shown["tong_duyet_luc"] == "2026-11-27T09:00:00+07:00"
    assert task_row(uow, sessions.task_at(uow, instance_id, "Task_KiemTraNoiBo")).due_at == sessions.at(30, 7)
    with uow() as u:
        event = u.session.scalar(select(AuditEvent).where(AuditEvent.action == "meeting_postpone"))
        assert event is not None
        assert (event.before["thoi_gian_hop"], event.after["thoi_gian_hop"]) == ("14:00 ngày 27/11/2026",
                                                                                 "09:00 ngày 30/11/2026")
    # Nothing issued, no MCU room: the message has no note about the old time.
    (message,) = bodies(uow, "user:cv_huyen", "Hoãn họp")
    assert "Thời gian cũ: 14:00" in message and "Lưu ý" not in message

    # The old 2-hour mark passes without a warning; the new one warns with the new texts.
    clock.now = sessions.at(27, 12)
    assert sessions.run_worker(uow, services) == 0
    assert sessions.ready(uow, instance_id) == ["Task_KiemTraNoiBo"]
    clock.now = sessions.at(30, 6, 59, 59)
    assert sessions.run_worker(uow, services) == 0
    clock.now = sessions.at(30, 7)
    assert sessions.run_worker(uow, services) == 1  # the notice to the leader
    (warning,) = bodies(uow, "user:ld_vp", "Chưa hoàn thành tổng duyệt")
    assert "lúc 09:00 ngày 30/11/2026" in warning and "đến 07:00 ngày 30/11/2026" in warning
    chase = sessions.opening(uow, services, instance_id, "Task_ChiDaoTongDuyet")
    assert (chase["thoi_gian_hop"], chase["moc_2_gio_hien_thi"]) == ("09:00 ngày 30/11/2026", "07:00 ngày 30/11/2026")
    assert task_row(uow, sessions.task_at(uow, instance_id, "Task_ChiDaoTongDuyet")).due_at == (
        sessions.at(30, 8, 30))


def test_an_unscheduled_meeting_postponed_judges_its_marks_again_at_the_postponement(
        uow: Uow, services: Services, staff: dict[str, User], publish: Publish, clock: Clock) -> None:
    bundled(publish, sessions.UNSCHEDULED)
    clock.now = sessions.at(26, 13)  # called at 13:00 for 14:00: neither mark applies
    instance_id = sessions.start_unscheduled(uow, services, staff, ngay_hop="2026-11-26", gio_bat_dau="14:00")
    before = sessions.opening(uow, services, instance_id, "Task_KiemTraNoiBo")
    assert (before["ap_dung_moc_2_gio"], before["ap_dung_moc_30_phut"]) == (False, True)

    clock.now = sessions.at(26, 13, 10)
    postpone(uow, services, staff["cv_vp"], meeting_of(uow, instance_id), day="2026-11-27", start="08:00",
             reason="Lãnh đạo bận đột xuất")
    shown = sessions.opening(uow, services, instance_id, "Task_KiemTraNoiBo")
    assert (shown["ap_dung_moc_2_gio"], shown["ap_dung_moc_30_phut"]) == (True, True)  # time allows now
    assert (shown["thoi_gian_hop"], shown["moc_2_gio_hien_thi"]) == ("08:00 ngày 27/11/2026", "06:00 ngày 27/11/2026")
    assert shown["dot_xuat"] is True and shown["trang_thai_hop"] == "hoan"


# ---------------------------------------------------------------- videoconference_support


def test_a_videoconference_postponed_after_phu_luc_ii_and_the_room(
        uow: Uow, services: Services, staff: dict[str, User], publish: Publish, clock: Clock) -> None:
    bundled(publish, support.PROCESS)
    officer, operator = staff["cv_stc"], staff["cv_ttcds"]
    instance_id = support.register(uow, services, officer, don_vi_moi=["so_yt"])  # 02/12 08:00, three levels
    clock.now = support.vn(2026, 11, 26, 10)
    complete(uow, services, operator, the_ready_task(uow, instance_id, "Task_XuLyDangKy").id, support.ACCEPT)
    assert support.run_worker(uow, services) == 2  # confirmation, invitation
    script = the_ready_task(uow, instance_id, "Task_LapKichBan")
    draft = support.opening(uow, services, script.id)
    on_duty = [dict(draft["ky_thuat"][0], ho_ten="Phan Thanh Kỹ", dien_thoai="0909 000 001"),
               dict(draft["ky_thuat"][1], ho_ten="Võ Thành Công", dien_thoai="0909 000 003"), *draft["ky_thuat"][2:]]
    complete(uow, services, operator, script.id, {"can_cu": draft["can_cu"], "ky_thuat": on_duty,
                                                  "lich_van_hanh_thu": [
                                                      {"lan": "lan_1", "thoi_diem": "2026-11-30T14:00", "ghi_chu": ""},
                                                      {"lan": "lan_2", "thoi_diem": "2026-12-01T14:00", "ghi_chu": ""},
                                                      {"lan": "truoc_hoi_nghi", "thoi_diem": "2026-12-02T07:00",
                                                       "ghi_chu": ""}],
                                                  **support.SIGNER, "noi_nhan": ""})
    assert support.run_worker(uow, services) == 3  # the Phụ lục II notice, the room, the accounts
    room = support.data_of(uow, services, instance_id)["phong_hop_ao"]["ma"]

    outcome = postpone(uow, services, officer, meeting_of(uow, instance_id), day="2026-12-03", start="08:30",
                       end="11:00", reason="Trùng lịch họp của UBND tỉnh")
    assert outcome.timers == []  # the technicians' test runs are open; the timer waits after them
    runs = the_ready_task(uow, instance_id, "Task_VanHanhThu")
    assert runs.due_at == support.at(2026, 12, 3, 8, 0)
    shown = support.opening(uow, services, runs.id)
    assert {k: shown[k] for k in ("thoi_gian_hop", "ngay_hop_vn", "ket_thuc_luc", "trang_thai_hop")} == {
        "thoi_gian_hop": "08:30 – 11:00 ngày 03/12/2026 (buổi sáng)", "ngay_hop_vn": "03/12/2026",
        "ket_thuc_luc": "2026-12-03T11:00:00+07:00", "trang_thai_hop": "hoan"}
    # What the registration recorded stays as it was (the scripts compute only from their inputs).
    assert (shown["email_can_bo"], shown["so_diem_cau"], shown["ghi_hinh"]) == (support.EMAIL, 2, False)
    assert [d["stt"] for d in shown["diem_cau"]] == [1, 2]

    (message,) = bodies(uow, "user:cv_syt", "Hoãn họp")
    assert ("Lưu ý: văn bản đã phát hành số 01/TB-TTCĐS (Kịch bản triển khai và danh sách kỹ thuật trực hội nghị "
            f"truyền hình trực tuyến); phòng họp trực tuyến đã khởi tạo trên MCU (mã {room}) vẫn ghi thời gian cũ "
            "(08:00 thứ Tư, ngày 02/12/2026 (đến 11:30)); thời gian họp là thời gian mới nêu trên.") in message

    complete(uow, services, staff["kt_ttcds"], runs.id, {"van_hanh_thu": [
        dict(r, am_thanh="dat", hinh_anh="dat", duong_truyen="dat") for r in shown["van_hanh_thu"]],
        "san_sang": True})
    clock.now = support.at(2026, 12, 2, 7, 30)  # the old moment: nothing
    assert support.run_worker(uow, services) == 0 and ready_tasks(uow, instance_id) == []
    clock.now = support.at(2026, 12, 3, 8, 0)  # 30 minutes before the new start
    assert support.run_worker(uow, services) == 1  # the participants' list from the MCU
    assert support.meeting_state(uow, instance_id) == "dang_hop"


def test_a_time_script_failing_on_the_new_time_refuses_the_postponement_and_changes_nothing(
        uow: Uow, services: Services, staff: dict[str, User], publish: Publish) -> None:
    files = bundled_files(support.PROCESS)
    name = f"{support.PROCESS}.bpmn"
    # A time script that divides by zero on the 4th of a month: registered for the 2nd, postponed to the 4th.
    files[name] = files[name].replace(b"<bpmn:script>ten_cap = {",
                                      b"<bpmn:script>so_ngay = 1 // (int(ngay_hop[8:10]) - 4)\nten_cap = {", 1)
    publish(files)
    instance_id = support.register(uow, services, staff["cv_stc"])
    meeting_id = meeting_of(uow, instance_id)
    state_before = instance_row(uow, instance_id).state_json
    with pytest.raises(Conflict) as caught:
        postpone(uow, services, staff["cv_stc"], meeting_id, day="2026-12-04", start="08:00", reason="Đổi lịch")
    assert caught.value.message.vi.startswith(
        "Không tính lại được các giá trị theo thời gian mới (kịch bản Task_GhiNhanDangKy): ZeroDivisionError")
    assert instance_row(uow, instance_id).state_json == state_before
    with uow() as u:
        row = u.session.get(Meeting, meeting_id)
        assert row is not None and row.state == "dang_ky" and row.starts_at == support.at(2026, 12, 2, 8, 0)
        assert u.session.scalar(select(AuditEvent).where(AuditEvent.action == "meeting_postpone")) is None


# ---------------------------------------------------------------- publishing


def test_publishing_refuses_meeting_time_scripts_naming_anything_but_a_script_task(publish: Publish) -> None:
    files = bundled_files(sessions.PLANNED)
    name = f"{sessions.PLANNED}.bpmn"
    files[name] = files[name].replace(b'value="Task_GhiLichHop"',
                                      b'value="Task_GhiLichHop, Task_TiepNhan, Task_KhongCo"')
    with pytest.raises(PublishRefused) as caught:
        publish(files)
    said = [p.message.vi for p in caught.value.details]
    assert said == [
        "Thuộc tính meeting_time_scripts: \"Task_TiepNhan\" (Tiếp nhận, xử lý thông tin phiên họp) không phải công "
        "việc kịch bản (scriptTask); chỉ nêu các kịch bản tính giá trị từ thời gian họp",
        "Thuộc tính meeting_time_scripts: quy trình không có phần tử \"Task_KhongCo\""]
    files[name] = files[name].replace(b'value="Task_GhiLichHop, Task_TiepNhan, Task_KhongCo"', b'value=" , "')
    with pytest.raises(PublishRefused) as caught:
        publish(files)
    assert [p.message.vi for p in caught.value.details] == [
        "Thuộc tính meeting_time_scripts không nêu công việc kịch bản nào (mã các scriptTask, cách nhau bởi dấu phẩy)"]


def test_the_three_meeting_diagrams_name_their_time_scripts() -> None:
    for process_id, scripts in (("meeting_planned", "Task_GhiLichHop"), ("meeting_unscheduled", "Task_GhiLichHop"),
                                ("videoconference_support", "Task_GhiNhanDangKy")):
        text = Path(f"processes/{process_id}.bpmn").read_text(encoding="utf-8")
        assert f'<camunda:property name="meeting_time_scripts" value="{scripts}" />' in text
