"""The videoconference_support procedure (810/QĐ-UBND-HC, thủ tục 4) driven through the engine's use cases
and the worker on a moved clock: registration on Phụ lục I with the 3-working-day rule (urgent bookings by
phone recorded by a TTCĐS operator), TTCĐS's reply within 2–4 working hours and its escalation, the numbered
Phụ lục II notice for meetings of three levels or more, the room and accounts on the `local` MCU, the
timer before the meeting, closing, and the Phụ lục III report when there were incidents. Confirmations go
through a real SMTP server on 127.0.0.1 in the full run, through the `local` channel elsewhere."""
from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import worker
from engine.adapters.registry import build_registry
from engine.domain.enums import InstanceStatus
from engine.persistence.models import (
    Document,
    McuAccount,
    McuRoom,
    Meeting,
    MeetingInvitation,
    Notification,
    ProcedureVersion,
    User,
)
from engine.persistence.uow import UnitOfWork
from engine.services import attachments, instances, invitations, list_import
from engine.services.calendar import override_loader
from engine.services.context import Services
from engine.settings import Settings
from tests.engine.attachment_files import pdf
from tests.engine.conftest import Clock, Publish, add_people, bundled
from tests.engine.docx_files import docx_text
from tests.engine.mcu_server import McuPeer
from tests.engine.test_instances import (
    assert_save_restore_round_trips,
    complete,
    instance_row,
    ready_tasks,
    refused,
    the_ready_task,
    vn,
)
from tests.smtp_server import SmtpServer

Uow = Callable[[], UnitOfWork]
PROCESS = "videoconference_support"
STAFF = {  # username: (full name, unit, roles), besides the engine fixtures' people
    "cv_ttcds": ("Ngô Thị Mai", "ttcds", ["chuyen_vien"]),
    "ld_ttcds": ("Trương Văn Khoa", "ttcds", ["lanh_dao"]),
    "kt_ttcds": ("Phan Thanh Kỹ", "ttcds", ["ky_thuat"]),
}
EMAIL = "binh.tt@dongthap.gov.vn"
ENDPOINTS = [
    {"ten_diem_cau": "UBND huyện Cao Lãnh", "dia_chi": "Thị trấn Mỹ Thọ, huyện Cao Lãnh", "so_nguoi": 30,
     "can_bo_ky_thuat": "Trần Văn Bé", "dien_thoai": "0909 000 002"},
    {"ten_diem_cau": "UBND xã Mỹ Hiệp", "dia_chi": "Ấp 3, xã Mỹ Hiệp", "so_nguoi": 15,
     "can_bo_ky_thuat": "Ngô Thị Lan", "dien_thoai": "0909 000 004"},
]
LETTER = {"kenh_dang_ky": "idesk", "so_cong_van": "215/STC-VP", "ngay_cong_van": "2026-11-25",
          "nguoi_ky_de_nghi": "Nguyễn Văn Giám", "chuc_vu_nguoi_ky_de_nghi": "Giám đốc"}
MEETING = {
    "don_vi_chu_tri": "Sở Tài chính",
    "can_cu_chi_dao": "Căn cứ Kế hoạch số 45/KH-UBND ngày 10/11/2026 của Ủy ban nhân dân tỉnh.",
    "noi_dung": "Hội nghị triển khai công tác quyết toán ngân sách năm 2026",
    "nguoi_chu_tri": "Võ Minh Đức", "chuc_vu_chu_tri": "Phó Giám đốc Sở Tài chính",
    "buoi": "sang", "ngay_hop": "2026-12-02", "gio_bat_dau": "08:00",
    "dia_diem": "Hội trường Sở Tài chính", "can_bo_phu_trach": "Trần Thị Bình", "chuc_vu_can_bo": "Chuyên viên",
    "dien_thoai_can_bo": "0277 3851 234", "email_can_bo": "Binh.TT@dongthap.gov.vn",
    "cap_hop": "tinh_huyen_xa", "diem_cau": ENDPOINTS, "yeu_cau": ["trinh_chieu_slide"],
}
ACCEPT = {"ket_qua_xu_ly": "xac_nhan", "y_kien_phoi_hop": "Đề nghị gửi tài liệu trình chiếu trước 01 ngày làm việc."}
SIGNER = {"quyen_han_ky": "", "chuc_vu_ky": "", "nguoi_ky": "Lê Minh Tâm"}
SCAN_FIELD = "Field_VanBanDangKy"


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Settings a test changes before the services are built (SMTP notifications, an HTTP MCU)."""
    return {}


@pytest.fixture
def services(settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
             overrides: dict[str, Any]) -> Services:
    configured = dataclasses.replace(settings, **overrides)
    return Services(configured, build_registry(configured, session_factory, clock), clock=clock,
                    calendar_overrides=override_loader(session_factory))


@pytest.fixture
def staff(uow: Uow, session_factory: sessionmaker[Session], people: dict[str, User]) -> dict[str, User]:
    """The requesting unit's officer (people's cv_stc), TTCĐS's operator, leader and technician."""
    return add_people(uow, session_factory, STAFF, {"ttcds": "Trung tâm Chuyển đổi số"})


@pytest.fixture
def procedure(publish: Publish, staff: dict[str, User]) -> ProcedureVersion:
    return bundled(publish, PROCESS)


# ---------------------------------------------------------------- helpers


def opening(uow: Uow, services: Services, task_id: int) -> dict[str, Any]:
    with uow() as u:
        return instances.task_data(u, services, instances.get_task(u, task_id))


def begin(uow: Uow, services: Services, actor: User) -> tuple[int, int]:
    """A new instance and its registration task."""
    with uow() as u:
        instance_id = instances.start(u, services, actor, PROCESS).id
    return instance_id, the_ready_task(uow, instance_id, "Task_DangKy").id


def scanned(uow: Uow, services: Services, actor: User, task_id: int) -> list[Any]:
    with uow() as u:
        return [attachments.upload(u, services, actor, task_id, field_id=SCAN_FIELD, key="",
                                   file_name="Công văn 215-STC-VP.pdf", content=pdf("Cong van 215/STC-VP"))]


def register(uow: Uow, services: Services, officer: User, **changes: Any) -> int:
    """Sở Tài chính registers the meeting by a letter on iDesk; returns the instance."""
    instance_id, task_id = begin(uow, services, officer)
    letter = {**LETTER, "van_ban_dang_ky": scanned(uow, services, officer, task_id)}
    complete(uow, services, officer, task_id, {**letter, **MEETING, **changes})
    return instance_id


def data_of(uow: Uow, services: Services, instance_id: int) -> dict[str, Any]:
    row = instance_row(uow, instance_id)
    workflow = services.runtime.restore(row.version.spec_json, row.state_json)
    return dict(workflow.last_task.data) if workflow.last_task else {}


def documents(uow: Uow, instance_id: int) -> list[tuple[str, str, str]]:
    with uow() as u:
        return [(d.reference, d.doc_type, docx_text(d.docx)) for d in u.session.scalars(
            select(Document).where(Document.instance_id == instance_id).order_by(Document.id))]


def meeting_state(uow: Uow, instance_id: int) -> str | None:
    with uow() as u:
        return u.session.scalar(select(Meeting.state).where(Meeting.instance_id == instance_id))


def local_messages(uow: Uow, recipient: str) -> list[tuple[str, str]]:
    with uow() as u:
        return [(n.subject, n.body) for n in u.session.scalars(
            select(Notification).where(Notification.recipient == recipient).order_by(Notification.id))]


def run_worker(uow: Uow, services: Services) -> int:
    return worker.run_once(uow, services, owner="worker-test")


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A wall-clock time in Đồng Tháp with minutes, as aware UTC."""
    return datetime(year, month, day, hour - 7, minute, tzinfo=UTC)


def groups(task: Any) -> list[tuple[int | None, str]]:
    return [(c.unit_id, c.role) for c in task.candidates]


# ---------------------------------------------------------------- the 3-working-day rule


def test_a_booking_needs_three_full_working_days_unless_urgent(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, clock) -> None:
    officer = staff["cv_stc"]
    instance_id, task_id = begin(uow, services, officer)
    assert clock.now == vn(2026, 11, 26, 9)  # Thursday 09:00
    letter = {**LETTER, "van_ban_dang_ky": scanned(uow, services, officer, task_id)}
    # Tuesday 01/12: only Friday and Monday lie between — two working days.
    assert refused(uow, services, officer, task_id, {**letter, **MEETING, "ngay_hop": "2026-12-01"}) == {
        "ngay_hop": "Phải đăng ký trước ngày họp ít nhất 03 ngày làm việc (họp từ ngày 02/12/2026 trở đi), hoặc "
                    "đánh dấu “Đột xuất, khẩn cấp”."}
    # Only TTCĐS's operators record an urgent booking (by phone): an officer cannot tick it to skip the rule.
    assert refused(uow, services, officer, task_id, {**letter, **MEETING, "ngay_hop": "2026-12-01", "dot_xuat": True,
                                                     "nguoi_goi": "Trần Thị Bình",
                                                     "thoi_diem_goi": "2026-11-26T08:45"}) == {
        "dot_xuat": "Chỉ cán bộ của Trung tâm Chuyển đổi số được đánh dấu “Đột xuất, khẩn cấp”.",
        "ngay_hop": "Phải đăng ký trước ngày họp ít nhất 03 ngày làm việc (họp từ ngày 02/12/2026 trở đi), hoặc "
                    "đánh dấu “Đột xuất, khẩn cấp”."}
    assert refused(uow, services, officer, task_id, {**letter, **MEETING, "ngay_hop": "2026-11-25"}) == {
        "ngay_hop": "Ngày này đã qua; chọn từ ngày 26/11/2026 trở đi."}
    # The letter is required when the booking is not urgent.
    assert refused(uow, services, officer, task_id, {**MEETING, "van_ban_dang_ky": []}) == {
        "kenh_dang_ky": "Trường này là bắt buộc.", "so_cong_van": "Trường này là bắt buộc.",
        "ngay_cong_van": "Trường này là bắt buộc.", "nguoi_ky_de_nghi": "Trường này là bắt buộc.",
        "van_ban_dang_ky": "Trường này là bắt buộc."}

    # Wednesday 02/12: Friday, Monday and Tuesday lie between — exactly three full working days.
    complete(uow, services, officer, task_id, {**letter, **MEETING})
    reply = the_ready_task(uow, instance_id, "Task_XuLyDangKy")
    assert groups(reply) == [(staff["cv_ttcds"].unit_id, "chuyen_vien")]
    assert reply.due_at == vn(2026, 11, 26, 11)  # 2 working hours
    data = data_of(uow, services, instance_id)
    assert (data["hop_luc"], data["ket_thuc_luc"]) == ("2026-12-02T08:00:00+07:00", "2026-12-02T11:30:00+07:00")
    assert (data["trang_thai_hop"], data["dot_xuat"], data["ten_cap_hop"]) == ("dang_ky", False, "Tỉnh - Huyện - Xã")
    assert data["email_can_bo"] == EMAIL
    assert data["hinh_thuc_dang_ky"] == "Văn bản liên thông iDesk số 215/STC-VP ngày 25/11/2026 do Nguyễn Văn Giám ký"
    assert [d["so_nguoi"] for d in data["diem_cau"]] == [30, 15]
    assert meeting_state(uow, instance_id) == "dang_ky"


def test_an_urgent_booking_by_phone_is_recorded_by_the_ttcds_operator(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, clock) -> None:
    operator = staff["cv_ttcds"]
    instance_id, task_id = begin(uow, services, operator)
    urgent = {**MEETING, "dot_xuat": True, "ngay_hop": "2026-11-26", "buoi": "chieu", "gio_bat_dau": "14:00",
              "cap_hop": "noi_tinh", "diem_cau": [], "can_cu_chi_dao": ""}
    assert refused(uow, services, operator, task_id, urgent) == {
        "nguoi_goi": "Trường này là bắt buộc.", "thoi_diem_goi": "Trường này là bắt buộc."}
    # The same afternoon: no letter, no 3-day rule; who called and when is recorded.
    complete(uow, services, operator, task_id,
             {**urgent, "nguoi_goi": "Trần Thị Bình, chuyên viên Sở Tài chính", "thoi_diem_goi": "2026-11-26T08:50"})
    data = data_of(uow, services, instance_id)
    assert data["dot_xuat"] is True and data["hop_luc"] == "2026-11-26T14:00:00+07:00"
    assert data["ket_thuc_luc"] == "2026-11-26T17:00:00+07:00"  # the afternoon session
    assert data["hinh_thuc_dang_ky"] == ("Đột xuất, khẩn cấp – qua điện thoại: Trần Thị Bình, chuyên viên Sở Tài "
                                         "chính, lúc 08:50 ngày 26/11/2026")
    reply = the_ready_task(uow, instance_id, "Task_XuLyDangKy")
    assert reply.due_at == vn(2026, 11, 26, 11)  # handled within the day, well before the meeting
    with uow() as u:
        assert u.session.scalar(select(Meeting.urgent).where(Meeting.instance_id == instance_id)) is True

    complete(uow, services, operator, reply.id, {"ket_qua_xu_ly": "xac_nhan", "y_kien_phoi_hop": ""})
    assert run_worker(uow, services) == 3  # the confirmation, the room, the accounts
    ((_subject, body),) = [m for m in local_messages(uow, EMAIL) if m[0].startswith("Xác nhận")]
    assert "14:00 – 17:00 ngày 26/11/2026 (buổi chiều)" in body and "Ý kiến phối hợp của Trung tâm: Không có." in body
    assert [t.element_id for t in ready_tasks(uow, instance_id)] == ["Task_VanHanhThu"]


# ---------------------------------------------------------------- the whole procedure, three levels


@pytest.fixture
def smtp_notifications(smtp_server: SmtpServer, overrides: dict[str, Any]) -> SmtpServer:
    overrides.update(notifications="smtp", smtp_host=smtp_server.host, smtp_port=smtp_server.port,
                         smtp_from="ttcds@dongthap.gov.vn")
    return smtp_server


def test_a_tinh_huyen_xa_meeting_from_registration_to_the_incident_report(  # type: ignore[no-untyped-def]
        uow, smtp_notifications, services, staff, procedure, clock) -> None:
    officer, operator, leader, technician = (staff[n] for n in ("cv_stc", "cv_ttcds", "ld_ttcds", "kt_ttcds"))
    instance_id, task_id = begin(uow, services, officer)

    # The satellite endpoints come from Excel (Phụ lục I, mục 8).
    with uow() as u:
        blank, _name = list_import.list_template(u, services, officer, task_id, "diem_cau")
    book = openpyxl.load_workbook(io.BytesIO(blank))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == ["Điểm cầu vệ tinh (tên cơ quan) *", "Địa chỉ *",
                                           "Số lượng người tham dự *", "Cán bộ phụ trách kỹ thuật (tên) *",
                                           "Số điện thoại liên hệ *"]
    for row in ENDPOINTS:
        sheet.append([row["ten_diem_cau"], row["dia_chi"], row["so_nguoi"], row["can_bo_ky_thuat"],
                      row["dien_thoai"]])
    out = io.BytesIO()
    book.save(out)
    with uow() as u:
        rows = list_import.list_rows(u, services, officer, task_id, "diem_cau", out.getvalue())
    assert rows == ENDPOINTS

    # Recording needs the chair's consent (Huế 279).
    letter = {**LETTER, "van_ban_dang_ky": scanned(uow, services, officer, task_id)}
    recorded = {**letter, **MEETING, "diem_cau": rows, "yeu_cau": ["trinh_chieu_slide", "ghi_video_hoi_nghi"]}
    assert refused(uow, services, officer, task_id, recorded) == {"dong_y_ghi_hinh": "Trường này là bắt buộc."}
    complete(uow, services, officer, task_id, {**recorded, "dong_y_ghi_hinh": True})
    assert data_of(uow, services, instance_id)["ghi_hinh"] is True

    # TTCĐS confirms within the 2 working hours; the officer is told by e-mail.
    clock.now = vn(2026, 11, 26, 10)
    complete(uow, services, operator, the_ready_task(uow, instance_id, "Task_XuLyDangKy").id, ACCEPT)
    assert meeting_state(uow, instance_id) == "da_xac_nhan"
    assert run_worker(uow, services) == 1
    (confirmation,) = smtp_notifications.messages
    assert confirmation["To"] == EMAIL
    assert confirmation["Subject"] == ("Xác nhận đăng ký hội nghị truyền hình trực tuyến: Hội nghị triển khai công "
                                       "tác quyết toán ngân sách năm 2026")
    body = confirmation.get_content()
    for part in ("- Thời gian: 08:00 – 11:30 ngày 02/12/2026 (buổi sáng)", "- Cấp họp: Tỉnh - Huyện - Xã",
                 "- Địa điểm (điểm cầu chính): Hội trường Sở Tài chính", "- Số điểm cầu vệ tinh: 2",
                 "- Yêu cầu chuẩn bị: Trình chiếu slide; Ghi lại video hội nghị",
                 "Đề nghị gửi tài liệu trình chiếu trước 01 ngày làm việc."):
        assert part in body

    # Three levels: the script and staff list (Phụ lục II), prefilled from the registration.
    script = the_ready_task(uow, instance_id, "Task_LapKichBan")
    assert groups(script) == [(operator.unit_id, "chuyen_vien")] and script.due_at == vn(2026, 11, 26, 16)
    draft = opening(uow, services, script.id)
    assert [(r["vi_tri"], r["diem_cau"], r["ho_ten"], r["thoi_gian"]) for r in draft["ky_thuat"]] == [
        ("giam_sat_mcu", "Trung tâm Chuyển đổi số", "", "08:00 – 11:30"),
        ("diem_cau_chinh", "Hội trường Sở Tài chính", "", "08:00 – 11:30"),
        ("diem_cau_ve_tinh", "UBND huyện Cao Lãnh", "Trần Văn Bé", "08:00 – 11:30"),
        ("diem_cau_ve_tinh", "UBND xã Mỹ Hiệp", "Ngô Thị Lan", "08:00 – 11:30")]
    assert [r["lan"] for r in draft["lich_van_hanh_thu"]] == ["lan_1", "lan_2", "truoc_hoi_nghi"]
    assert draft["lich_van_hanh_thu"][2]["thoi_diem"] == "2026-12-02T07:00"
    staff_list = [dict(draft["ky_thuat"][0], ho_ten="Phan Thanh Kỹ", dien_thoai="0909 000 001"),
                  dict(draft["ky_thuat"][1], ho_ten="Võ Thành Công", dien_thoai="0909 000 003"),
                  *draft["ky_thuat"][2:]]
    runs = [{"lan": "lan_1", "thoi_diem": "2026-11-30T14:00", "ghi_chu": ""},
            {"lan": "lan_2", "thoi_diem": "2026-12-01T14:00", "ghi_chu": "Có trình chiếu slide"},
            {"lan": "truoc_hoi_nghi", "thoi_diem": "2026-12-02T07:00", "ghi_chu": ""}]
    complete(uow, services, operator, script.id, {"can_cu": draft["can_cu"], "ky_thuat": staff_list,
                                                  "lich_van_hanh_thu": runs, **SIGNER, "noi_nhan": ""})
    # The numbered notice, then the room and an account per endpoint on the MCU.
    assert run_worker(uow, services) == 3
    ((reference, doc_type, text),) = documents(uow, instance_id)
    assert (reference, doc_type) == ("01/TB-TTCĐS", "TB")
    for part in ("Số: 01/TB-TTCĐS", "TRUNG TÂM CHUYỂN ĐỔI SỐ TỈNH ĐỒNG THÁP", "Kính gửi:",
                 "- Căn cứ Kế hoạch số 45/KH-UBND ngày 10/11/2026 của Ủy ban nhân dân tỉnh.",
                 "Căn cứ phiếu đăng ký sử dụng hệ thống Hội nghị truyền hình trực tuyến của Sở Tài chính (văn bản số "
                 "215/STC-VP).", "Cấp họp: Tỉnh - Huyện - Xã.", "Giám sát hệ thống MCU", "Phan Thanh Kỹ",
                 "0909 000 001", "Võ Thành Công", "Trần Văn Bé", "Ngô Thị Lan", "14h00 ngày 30/11/2026",
                 "07h00 ngày 02/12/2026", "Trước khi diễn ra hội nghị chính thức", "Lê Minh Tâm"):
        assert part in text, part
    data = data_of(uow, services, instance_id)
    room = data["phong_hop_ao"]
    assert (room["so_diem_cau"], room["ghi_hinh"], room["da_khoa"]) == (3, True, False)
    assert [a["diem_cau"] for a in data["tai_khoan_hop"]] == ["Hội trường Sở Tài chính", "UBND huyện Cao Lãnh",
                                                              "UBND xã Mỹ Hiệp"]
    with uow() as u:
        stored = u.session.scalar(select(McuRoom).where(McuRoom.code == room["ma"]))
        assert stored is not None and not stored.locked
        assert stored.starts_at == vn(2026, 12, 2, 8)
    # Each account's password went to the officer by a one-time link, never into the data.
    assert len(smtp_notifications.messages) == 4
    assert all(m["To"] == EMAIL for m in smtp_notifications.messages[1:])
    assert "mat_khau" not in instance_row(uow, instance_id).state_json

    # Preparation: the technicians record the test runs per endpoint.
    test_runs = the_ready_task(uow, instance_id, "Task_VanHanhThu")
    assert groups(test_runs) == [(technician.unit_id, "ky_thuat")]
    assert test_runs.due_at == at(2026, 12, 2, 7, 30)
    shown = opening(uow, services, test_runs.id)
    assert [o["value"] for o in shown["ds_diem_cau"]] == ["Hội trường Sở Tài chính", "UBND huyện Cao Lãnh",
                                                          "UBND xã Mỹ Hiệp"]
    results = [dict(r, am_thanh="dat", hinh_anh="dat", duong_truyen="dat") for r in shown["van_hanh_thu"]]
    results[2].update(duong_truyen="khong_dat", ghi_chu="Mất gói tin, đổi đường truyền dự phòng")
    results.append(dict(results[2], lan="lan_2", duong_truyen="dat", ghi_chu=""))
    wrong = [dict(results[0], diem_cau="UBND xã Không Có")]
    assert list(refused(uow, services, technician, test_runs.id, {"van_hanh_thu": wrong})) == [
        "van_hanh_thu.0.diem_cau"]
    clock.now = vn(2026, 12, 1, 15)
    complete(uow, services, technician, test_runs.id, {"van_hanh_thu": results, "san_sang": True})

    # On the day: the timer waits until 30 minutes before the meeting.
    assert instance_row(uow, instance_id).wake_at == at(2026, 12, 2, 7, 30)
    assert run_worker(uow, services) == 0 and ready_tasks(uow, instance_id) == []
    clock.now = at(2026, 12, 2, 7, 30)
    assert run_worker(uow, services) == 1  # the participants' list from the MCU
    assert meeting_state(uow, instance_id) == "dang_hop"
    operate = the_ready_task(uow, instance_id, "Task_VanHanhGiamSat")
    assert groups(operate) == [(technician.unit_id, "ky_thuat")]
    listed = opening(uow, services, operate.id)["nguoi_tham_gia"]
    assert [p["diem_cau"] for p in listed] == ["Hội trường Sở Tài chính", "UBND huyện Cao Lãnh", "UBND xã Mỹ Hiệp"]
    assert_save_restore_round_trips(uow, services, instance_id)
    assert refused(uow, services, technician, operate.id, {"co_su_co": True, "su_co_ghi_nhan": []}) == {
        "su_co_ghi_nhan": "Cần ít nhất một dòng."}
    clock.now = at(2026, 12, 2, 11, 40)
    complete(uow, services, technician, operate.id, {"co_su_co": True, "su_co_ghi_nhan": [
        {"diem_cau": "UBND xã Mỹ Hiệp", "thoi_diem": "09:15", "mo_ta": "Mất tiếng tại điểm cầu trong 5 phút.",
         "xu_ly": "Thay micro dự phòng."}], "ghi_chu_van_hanh": ""})

    # Closing: the room and the accounts are locked on the MCU.
    assert run_worker(uow, services) == 2
    with uow() as u:
        stored = u.session.scalar(select(McuRoom).where(McuRoom.code == room["ma"]))
        assert stored is not None and stored.locked
        assert [a.locked for a in u.session.scalars(select(McuAccount).where(McuAccount.room_id == stored.id))] == [
            True, True, True]
    data = data_of(uow, services, instance_id)
    assert data["phong_hop_ao"]["da_khoa"] is True and all(a["da_khoa"] for a in data["tai_khoan_hop"])

    # Incidents: the room unit reports on Phụ lục III, TTCĐS's leader signs, the report is numbered.
    report = the_ready_task(uow, instance_id, "Task_BaoCaoSuCo")
    assert groups(report) == [(officer.unit_id, "chuyen_vien")]
    draft = opening(uow, services, report.id)
    assert draft["su_co"] == ("- 09:15, UBND xã Mỹ Hiệp: Mất tiếng tại điểm cầu trong 5 phút. Khắc phục: Thay micro "
                              "dự phòng.")
    assert [r["ten_co_quan"] for r in draft["diem_cau_tham_du"]] == ["Sở Tài chính", "UBND huyện Cao Lãnh",
                                                                    "UBND xã Mỹ Hiệp"]
    equipment = [dict(r, thiet_bi="Camera, micro, màn hình") for r in draft["diem_cau_tham_du"]]
    complete(uow, services, officer, report.id, {
        "can_cu": draft["can_cu"], "thoi_gian": draft["thoi_gian"], "diem_cau_tham_du": equipment,
        "su_co": draft["su_co"], "danh_gia": "Hệ thống hoạt động ổn định, sự cố được khắc phục kịp thời.",
        "de_xuat": "Trang bị micro dự phòng cho các điểm cầu cấp xã."})
    approve = the_ready_task(uow, instance_id, "Task_DuyetBaoCao")
    assert groups(approve) == [(leader.unit_id, "lanh_dao")]
    complete(uow, services, leader, approve.id, {"danh_gia": opening(uow, services, approve.id)["danh_gia"],
                                                 "de_xuat": "Trang bị micro dự phòng cho các điểm cầu cấp xã.",
                                                 "quyen_han_ky": "", "chuc_vu_ky": "", "nguoi_ky": "Trương Văn Khoa"})
    assert run_worker(uow, services) == 1
    (_notice, (reference, doc_type, text)) = documents(uow, instance_id)
    assert (reference, doc_type) == ("01/BC-TTCĐS", "BC")
    for part in ("Số: 01/BC-TTCĐS", "Sự cố hội nghị truyền hình trực tuyến",
                 "1. Nội dung hội nghị: Hội nghị triển khai công tác quyết toán ngân sách năm 2026.",
                 "2. Đơn vị chủ trì hội nghị: Sở Tài chính.", "UBND xã Mỹ Hiệp", "Camera, micro, màn hình",
                 "Mất tiếng tại điểm cầu trong 5 phút.", "Trang bị micro dự phòng", "Trương Văn Khoa"):
        assert part in text, part

    done = instance_row(uow, instance_id)
    assert done.status == InstanceStatus.COMPLETED
    assert data_of(uow, services, instance_id)["trang_thai_hop"] == "da_hop"
    assert meeting_state(uow, instance_id) == "da_hop"


# ---------------------------------------------------------------- a Nội tỉnh meeting without incidents


def test_a_noi_tinh_meeting_has_no_phu_luc_ii_and_no_report_without_incidents(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, clock) -> None:
    instance_id = register(uow, services, staff["cv_stc"], cap_hop="noi_tinh", diem_cau=[], buoi="chieu",
                           ngay_hop="2026-12-03", gio_bat_dau="14:00", gio_ket_thuc="16:00")
    data = data_of(uow, services, instance_id)
    assert (data["ba_cap_tro_len"], data["ket_thuc_luc"]) == (False, "2026-12-03T16:00:00+07:00")
    complete(uow, services, staff["cv_ttcds"], the_ready_task(uow, instance_id, "Task_XuLyDangKy").id, ACCEPT)
    assert run_worker(uow, services) == 3  # confirmation, room, accounts — no Phụ lục II
    assert documents(uow, instance_id) == []
    (subject, _body), *_links = local_messages(uow, EMAIL)
    assert subject.startswith("Xác nhận đăng ký hội nghị")
    test_runs = the_ready_task(uow, instance_id, "Task_VanHanhThu")
    shown = opening(uow, services, test_runs.id)
    complete(uow, services, staff["kt_ttcds"], test_runs.id, {"van_hanh_thu": [
        dict(r, am_thanh="dat", hinh_anh="dat", duong_truyen="dat") for r in shown["van_hanh_thu"]]})
    clock.now = at(2026, 12, 3, 13, 30)
    assert run_worker(uow, services) == 1
    complete(uow, services, staff["kt_ttcds"], the_ready_task(uow, instance_id, "Task_VanHanhGiamSat").id,
             {"co_su_co": False})
    assert run_worker(uow, services) == 2  # lock the room, lock the accounts
    done = instance_row(uow, instance_id)
    assert done.status == InstanceStatus.COMPLETED and ready_tasks(uow, instance_id) == []
    assert documents(uow, instance_id) == []
    assert data_of(uow, services, instance_id)["trang_thai_hop"] == "da_hop"
    completed, _active = services.runtime.element_states(services.runtime.restore(done.version.spec_json,
                                                                                  done.state_json))
    assert "Task_LapKichBan" not in completed and "Task_BaoCaoSuCo" not in completed


# ---------------------------------------------------------------- invited units (Huế 279)


def test_units_named_on_phu_luc_i_are_invited_once_ttcds_confirms(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, clock) -> None:
    officer = staff["cv_stc"]
    instance_id, task_id = begin(uow, services, officer)
    offered = {o["value"] for o in opening(uow, services, task_id)["ds_don_vi"]}
    assert {"so_yt", "sttt", "ttcds"} <= offered
    letter = {**LETTER, "van_ban_dang_ky": scanned(uow, services, officer, task_id)}
    booking = {**letter, **MEETING, "cap_hop": "noi_tinh", "diem_cau": [], "ngay_hop": "2026-12-03"}
    assert list(refused(uow, services, officer, task_id, {**booking, "don_vi_moi": ["so_yt", "khong_co"]})) == [
        "don_vi_moi"]
    complete(uow, services, officer, task_id, {**booking, "don_vi_moi": ["so_yt", "sttt"]})
    with uow() as u:
        assert u.session.scalars(select(MeetingInvitation)).all() == []  # not before TTCĐS confirms

    complete(uow, services, staff["cv_ttcds"], the_ready_task(uow, instance_id, "Task_XuLyDangKy").id, ACCEPT)
    assert run_worker(uow, services) == 4  # confirmation, invitations, room, accounts
    data = data_of(uow, services, instance_id)
    assert data["loi_moi"] == [{"don_vi": "so_yt", "ten": "Sở Y tế"},
                               {"don_vi": "sttt", "ten": "Sở Thông tin và Truyền thông"}]
    with uow() as u:
        meeting_id = u.session.scalar(select(Meeting.id).where(Meeting.instance_id == instance_id))
        assert [(i.unit.code, i.status) for i in invitations.of_meeting(u.session, meeting_id)] == [
            ("so_yt", "cho_xac_nhan"), ("sttt", "cho_xac_nhan")]
    for person in ("user:cv_syt", "user:cv_sttt", "user:qt"):  # every person of each invited unit
        ((subject, body),) = local_messages(uow, person)
        assert subject.startswith("Giấy mời họp: Hội nghị triển khai") and f"/invitations/{meeting_id}" in body
    assert local_messages(uow, "user:ld_ttcds") == []

    # An invitee answers on the meeting's page.
    with uow() as u:
        invitations.answer(u, services, staff["cv_syt"], meeting_id, "tham_du", chair_name="Võ Minh Dũng",
                           chair_title="Phó Giám đốc Sở Y tế")
    with uow() as u:
        assert [i.status for i in invitations.of_meeting(u.session, meeting_id)] == ["tham_du", "cho_xac_nhan"]
    assert [t.element_id for t in ready_tasks(uow, instance_id)] == ["Task_VanHanhThu"]


# ---------------------------------------------------------------- an MCU over HTTP


@pytest.fixture
def http_mcu(mcu_peer: McuPeer, overrides: dict[str, Any]) -> McuPeer:
    overrides.update(mcu="http", mcu_url=mcu_peer.url, mcu_token=mcu_peer.token)
    return mcu_peer


def test_the_room_accounts_and_connections_on_an_mcu_over_http(  # type: ignore[no-untyped-def]
        uow, http_mcu, services, staff, procedure, clock) -> None:
    instance_id = register(uow, services, staff["cv_stc"], cap_hop="tinh_huyen", ngay_hop="2026-12-03",
                           diem_cau=ENDPOINTS[:1])
    complete(uow, services, staff["cv_ttcds"], the_ready_task(uow, instance_id, "Task_XuLyDangKy").id, ACCEPT)
    assert run_worker(uow, services) == 3
    (room,) = http_mcu.rooms.values()
    assert (room["name"], room["capacity"]) == ("Hội nghị triển khai công tác quyết toán ngân sách năm 2026", 2)
    accounts = data_of(uow, services, instance_id)["tai_khoan_hop"]
    assert [a["diem_cau"] for a in accounts] == ["Hội trường Sở Tài chính", "UBND huyện Cao Lãnh"]
    test_runs = the_ready_task(uow, instance_id, "Task_VanHanhThu")
    complete(uow, services, staff["kt_ttcds"], test_runs.id, {"van_hanh_thu": [
        dict(r, am_thanh="dat", hinh_anh="dat", duong_truyen="dat")
        for r in opening(uow, services, test_runs.id)["van_hanh_thu"]]})

    # The main endpoint joined at 07:20; the district's has not yet when the timer fires.
    http_mcu.connect(accounts[0]["ten_dang_nhap"], "2026-12-03T00:20:00+00:00")
    clock.now = at(2026, 12, 3, 7, 30)
    assert run_worker(uow, services) == 1
    shown = opening(uow, services, the_ready_task(uow, instance_id, "Task_VanHanhGiamSat").id)
    assert [(p["diem_cau"], p["trang_thai"], p["tu_luc"]) for p in shown["diem_cau_ket_noi"]] == [
        ("Hội trường Sở Tài chính", "Đang kết nối", "07:20"), ("UBND huyện Cao Lãnh", "Chưa kết nối", "")]
    complete(uow, services, staff["kt_ttcds"], the_ready_task(uow, instance_id, "Task_VanHanhGiamSat").id,
             {"co_su_co": False})
    assert run_worker(uow, services) == 2
    assert room["locked"] is True and all(http_mcu.accounts[a["ten_dang_nhap"]]["locked"] for a in accounts)
    assert instance_row(uow, instance_id).status == InstanceStatus.COMPLETED


# ---------------------------------------------------------------- escalation and refusal


def test_no_reply_within_4_working_hours_escalates_to_the_ttcds_leader(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, clock) -> None:
    instance_id = register(uow, services, staff["cv_stc"])  # Thursday 09:00
    reply = the_ready_task(uow, instance_id, "Task_XuLyDangKy")
    assert instance_row(uow, instance_id).wake_at == vn(2026, 11, 26, 15)  # 09:00–11:30, 13:30–15:00
    clock.now = vn(2026, 11, 26, 14)
    assert run_worker(uow, services) == 0
    assert [t.element_id for t in ready_tasks(uow, instance_id)] == ["Task_XuLyDangKy"]  # late, not yet escalated
    clock.now = vn(2026, 11, 26, 15)
    run_worker(uow, services)
    tasks = {t.element_id: t for t in ready_tasks(uow, instance_id)}
    assert set(tasks) == {"Task_XuLyDangKy", "Task_DonDoc"} and tasks["Task_XuLyDangKy"].id == reply.id
    assert groups(tasks["Task_DonDoc"]) == [(staff["ld_ttcds"].unit_id, "lanh_dao")]
    complete(uow, services, staff["ld_ttcds"], tasks["Task_DonDoc"].id,
             {"y_kien_chi_dao": "Đề nghị phản hồi đơn vị ngay.", "da_don_doc": True})

    # The operator refuses: a reason is required and reaches the officer.
    assert refused(uow, services, staff["cv_ttcds"], reply.id, {"ket_qua_xu_ly": "tu_choi"}) == {
        "ly_do_tu_choi": "Trường này là bắt buộc."}
    complete(uow, services, staff["cv_ttcds"], reply.id, {
        "ket_qua_xu_ly": "tu_choi", "ly_do_tu_choi": "MCU đã kín lịch buổi sáng 02/12/2026.", "y_kien_phoi_hop": ""})
    assert meeting_state(uow, instance_id) == "tu_choi"
    assert run_worker(uow, services) == 1
    ((subject, body),) = local_messages(uow, EMAIL)
    assert subject == ("Từ chối đăng ký hội nghị truyền hình trực tuyến: Hội nghị triển khai công tác quyết toán "
                       "ngân sách năm 2026")
    assert "Lý do: MCU đã kín lịch buổi sáng 02/12/2026." in body
    done = instance_row(uow, instance_id)
    assert done.status == InstanceStatus.COMPLETED
    completed, _active = services.runtime.element_states(services.runtime.restore(done.version.spec_json,
                                                                                  done.state_json))
    assert {"EndEvent_TuChoi", "EndEvent_DaDonDoc"} <= set(completed) and "Task_TaoPhongHop" not in completed
    with uow() as u:
        assert u.session.scalar(select(McuRoom.id)) is None


def test_a_reply_in_time_leaves_no_escalation(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, clock) -> None:
    instance_id = register(uow, services, staff["cv_stc"])
    clock.now = vn(2026, 11, 26, 14)
    complete(uow, services, staff["cv_ttcds"], the_ready_task(uow, instance_id, "Task_XuLyDangKy").id, ACCEPT)
    clock.now = vn(2026, 11, 27, 9)
    run_worker(uow, services)
    assert [t.element_id for t in ready_tasks(uow, instance_id)] == ["Task_LapKichBan"]

