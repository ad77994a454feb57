"""videoconference_support end to end through /api/v1 only, on a clock the test moves (the technique of
tests/web/test_sla_pages.py): registration on Phụ lục I with its endpoints imported from Excel and the
3-working-day rule, TTCĐS's confirmation by e-mail (a real SMTP server on 127.0.0.1), the numbered
Phụ lục II notice, the room and accounts on the `local` MCU, the timer before the meeting, closing, the
Phụ lục III report, and the meeting's state on the calendar."""
from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select

from engine.persistence.models import McuAccount, McuRoom
from engine.settings import Settings
from tests.engine.attachment_files import pdf
from tests.engine.docx_files import docx_text
from tests.engine.test_videoconference_support import ACCEPT, EMAIL, ENDPOINTS, LETTER, MEETING, SCAN_FIELD, STAFF
from tests.smtp_server import SmtpServer
from tests.web.conftest import add_people
from tests.web.test_api import ApiUser, assert_error, complete
from tests.web.test_attachments_pages import multipart
from tests.web.test_sla_pages import use_clock
from webapp.platform import uow

PROCESS = "videoconference_support"


def vn(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time of 2026 in Đồng Tháp, as aware UTC."""
    return datetime(2026, month, day, hour - 7, minute, tzinfo=UTC)


@pytest.fixture
def settings(db_url: str, smtp_server: SmtpServer) -> Settings:
    return Settings(database_url=db_url, soffice_path="off", notifications="smtp", smtp_host=smtp_server.host,
                    smtp_port=smtp_server.port, smtp_from="ttcds@dongthap.gov.vn")


@pytest.fixture
def api(app: Flask) -> Any:
    add_people(app, STAFF, {"ttcds": "Trung tâm Chuyển đổi số"})
    client = app.test_client()
    return lambda username: ApiUser(client, username)


def active(user: ApiUser, instance_id: int) -> list[str]:
    shown = user.get(f"/process-instances/{instance_id}")
    assert shown.status_code == 200, shown.get_json()
    return [t["element_id"] for t in shown.get_json()["active_tasks"]]


def endpoints_workbook(user: ApiUser, task_id: int) -> bytes:
    blank = user.get(f"/tasks/{task_id}/excel/diem_cau.xlsx")
    assert blank.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(blank.get_data()))
    sheet = book.worksheets[0]
    for row in ENDPOINTS:
        sheet.append([row["ten_diem_cau"], row["dia_chi"], row["so_nguoi"], row["can_bo_ky_thuat"], row["dien_thoai"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_videoconference_support_over_the_api(app: Flask, api: Any, run_worker: Any,
                                              smtp_server: SmtpServer) -> None:
    clock = use_clock(app, vn(26, 11, 9))  # Thursday 09:00
    officer, operator, leader, technician = api("cv_stc"), api("cv_ttcds"), api("ld_ttcds"), api("kt_ttcds")

    catalogue = {p["process_id"]: p for p in officer.get("/processes").get_json()}
    assert catalogue[PROCESS]["name"] == ("Cung cấp tài nguyên và hỗ trợ sử dụng hệ thống Hội nghị truyền hình "
                                          "trực tuyến")
    started = officer.post("/process-instances", json={"process": PROCESS, "data": {}})
    assert started.status_code == 201, started.get_json()
    instance_id = started.get_json()["id"]
    assert [t["element_id"] for t in started.get_json()["active_tasks"]] == ["Task_DangKy"]
    task_id = officer.task_at(instance_id, "Task_DangKy")
    opened = officer.get(f"/tasks/{task_id}").get_json()
    assert opened["form"]["id"] == "videoconference_support_register"
    assert opened["data"]["dot_xuat"] is False and opened["data"]["diem_cau"] == []

    # Phụ lục I: the satellite endpoints from Excel, the signed letter uploaded.
    imported = officer.post(f"/tasks/{task_id}/excel/diem_cau",
                            **multipart(endpoints_workbook(officer, task_id), "diem-cau.xlsx"))
    assert imported.status_code == 200, imported.get_json()
    rows = imported.get_json()["rows"]
    assert rows == ENDPOINTS
    uploaded = officer.post(f"/tasks/{task_id}/attachments",
                            **multipart(pdf("Cong van 215/STC-VP"), "Công văn 215-STC-VP.pdf", field=SCAN_FIELD))
    assert uploaded.status_code == 201, uploaded.get_json()
    booking = {**LETTER, **MEETING, "diem_cau": rows, "van_ban_dang_ky": [uploaded.get_json()]}

    # Two working days ahead is refused, naming the earliest date; nothing changes.
    revision = started.get_json()["revision"]
    error = assert_error(officer.post(f"/tasks/{task_id}/complete",
                                      json={"data": {**booking, "ngay_hop": "2026-12-01"}}), 400, "invalid_data")
    assert [(d["path"], d["message"]["vi"]) for d in error["details"]] == [(
        "ngay_hop", "Phải đăng ký trước ngày họp ít nhất 03 ngày làm việc (họp từ ngày 02/12/2026 trở đi), hoặc "
                    "đánh dấu “Đột xuất, khẩn cấp”.")]
    assert error["details"][0]["message"]["en"] == (
        "Register at least 3 working days before the date (from 02/12/2026 on), or tick “Đột xuất, khẩn cấp”.")
    assert officer.get(f"/process-instances/{instance_id}").get_json()["revision"] == revision
    assert active(officer, instance_id) == ["Task_DangKy"]
    registered = complete(officer, instance_id, "Task_DangKy", booking)
    assert [t["element_id"] for t in registered["active_tasks"]] == ["Task_XuLyDangKy"]

    # TTCĐS replies within 2 working hours and confirms: the officer gets the e-mail.
    reply = operator.get(f"/tasks/{operator.task_at(instance_id, 'Task_XuLyDangKy')}").get_json()
    assert reply["due_at"].startswith("2026-11-26T04:00")  # 11:00 in Đồng Tháp
    assert reply["data"]["thoi_gian_hop"] == "08:00 – 11:30 ngày 02/12/2026 (buổi sáng)"
    clock.now = vn(26, 11, 10)
    complete(operator, instance_id, "Task_XuLyDangKy", ACCEPT)
    assert run_worker() == 1
    (confirmation,) = smtp_server.messages
    assert confirmation["To"] == EMAIL and confirmation["Subject"].startswith("Xác nhận đăng ký hội nghị")
    assert "- Cấp họp: Tỉnh - Huyện - Xã" in confirmation.get_content()

    # Tỉnh – Huyện – Xã: the script and staff list, issued as a numbered notice.
    draft = operator.get(f"/tasks/{operator.task_at(instance_id, 'Task_LapKichBan')}").get_json()["data"]
    staff_list = [dict(row, ho_ten=row["ho_ten"] or "Phan Thanh Kỹ", dien_thoai=row["dien_thoai"] or "0909 000 001")
                  for row in draft["ky_thuat"]]
    runs = [{"lan": "lan_1", "thoi_diem": "2026-11-30T14:00", "ghi_chu": ""},
            {"lan": "lan_2", "thoi_diem": "2026-12-01T14:00", "ghi_chu": ""},
            {"lan": "truoc_hoi_nghi", "thoi_diem": "2026-12-02T07:00", "ghi_chu": ""}]
    complete(operator, instance_id, "Task_LapKichBan", {"can_cu": draft["can_cu"], "ky_thuat": staff_list,
                                                         "lich_van_hanh_thu": runs, "nguoi_ky": "Lê Minh Tâm"})
    assert run_worker() == 3  # the notice, the room, the accounts
    (notice,) = officer.get(f"/process-instances/{instance_id}/documents").get_json()
    assert (notice["reference"], notice["doc_type"], notice["template"]) == (
        "01/TB-TTCĐS", "TB", "phu_luc_ii_kich_ban.docx")
    text = docx_text(officer.get(f"/documents/{notice['id']}/content").get_data())
    assert "Số: 01/TB-TTCĐS" in text and "Phan Thanh Kỹ" in text and "Trần Văn Bé" in text
    assert "Cấp họp: Tỉnh - Huyện - Xã." in text
    assert len(smtp_server.messages) == 4  # and a one-time link per endpoint account

    # Test runs, then the timer 30 minutes before the meeting.
    test_runs = technician.get(f"/tasks/{technician.task_at(instance_id, 'Task_VanHanhThu')}").get_json()
    results = [dict(r, am_thanh="dat", hinh_anh="dat", duong_truyen="dat") for r in test_runs["data"]["van_hanh_thu"]]
    complete(technician, instance_id, "Task_VanHanhThu", {"van_hanh_thu": results, "san_sang": True})
    clock.now = vn(2, 12, 7, 29)  # days later: access tokens expire, each person signs in again
    officer, leader, technician = api("cv_stc"), api("ld_ttcds"), api("kt_ttcds")
    assert run_worker() == 0 and active(officer, instance_id) == []
    clock.now = vn(2, 12, 7, 30)
    assert run_worker() == 1
    meetings = officer.get("/meetings?from=2026-12-01&to=2026-12-03").get_json()["meetings"]
    (listed,) = [m for m in meetings if m["instance_id"] == instance_id]
    assert listed["state"] == "dang_hop"

    clock.now = vn(2, 12, 11, 40)
    complete(technician, instance_id, "Task_VanHanhGiamSat", {"co_su_co": True, "su_co_ghi_nhan": [
        {"diem_cau": "UBND huyện Cao Lãnh", "thoi_diem": "10:05", "mo_ta": "Hình ảnh bị đứng 2 phút.", "xu_ly": ""}]})
    assert run_worker() == 2  # the room and the accounts locked
    with app.app_context(), uow() as work:
        room = work.session.scalar(select(McuRoom))
        assert room is not None and room.locked
        assert all(a.locked for a in work.session.scalars(select(McuAccount)))

    # The room unit's Phụ lục III report, signed by TTCĐS's leader and numbered.
    report = officer.get(f"/tasks/{officer.task_at(instance_id, 'Task_BaoCaoSuCo')}").get_json()["data"]
    assert report["su_co"] == "- 10:05, UBND huyện Cao Lãnh: Hình ảnh bị đứng 2 phút."
    complete(officer, instance_id, "Task_BaoCaoSuCo", {
        "can_cu": report["can_cu"], "thoi_gian": report["thoi_gian"], "su_co": report["su_co"],
        "diem_cau_tham_du": [dict(r, thiet_bi="Camera, micro") for r in report["diem_cau_tham_du"]],
        "danh_gia": "Hệ thống hoạt động ổn định.", "de_xuat": ""})
    complete(leader, instance_id, "Task_DuyetBaoCao", {"danh_gia": "Hệ thống hoạt động ổn định.",
                                                        "nguoi_ky": "Trương Văn Khoa"})
    assert run_worker() == 1
    final = officer.get(f"/process-instances/{instance_id}").get_json()
    assert final["status"] == "completed"
    documents = officer.get(f"/process-instances/{instance_id}/documents").get_json()
    assert [(d["reference"], d["template"]) for d in documents] == [  # the latest first
        ("01/BC-TTCĐS", "phu_luc_iii_bao_cao_su_co.docx"), ("01/TB-TTCĐS", "phu_luc_ii_kich_ban.docx")]
    report_text = docx_text(officer.get(f"/documents/{documents[0]['id']}/content").get_data())
    assert "Hình ảnh bị đứng 2 phút." in report_text and "Trương Văn Khoa" in report_text
    meetings = officer.get("/meetings?from=2026-12-01&to=2026-12-03").get_json()["meetings"]
    assert [m["state"] for m in meetings if m["instance_id"] == instance_id] == ["da_hop"]
