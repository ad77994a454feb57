"""videoconference_support in Chromium: Sở Tài chính's officer fills Phụ lục I (its satellite endpoints
imported from Excel, the signed letter attached), is refused a date too close, corrects it; a TTCĐS
operator confirms the booking; the officer reads the confirmation under "Thông báo". Demo people of
engine/services/demo.py, on a clock set to Thursday 26/11/2026 09:00."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from engine.persistence.models import HumanTask, User
from engine.services import attachments, instances
from engine.settings import Settings
from tests.e2e.conftest import artifact_path
from tests.e2e.demo_people import demo_passwords, log_in, start_demo_dossier
from tests.e2e.test_attachments_browser import pick
from tests.e2e.test_email_account_browser import choose, log_out, open_task, required_label
from tests.engine.attachment_files import pdf
from tests.engine.test_videoconference_support import ACCEPT, ENDPOINTS, LETTER, MEETING, SCAN_FIELD
from tests.web.test_sla_pages import use_clock
from webapp.platform import services, uow

pytestmark = pytest.mark.e2e

PROCEDURE = "Hội nghị truyền hình trực tuyến"
LIST_LABEL = "8. Danh sách các điểm cầu vệ tinh tham dự hội nghị"
SCAN_LABEL = "Bản quét văn bản đăng ký (đã ký, đóng dấu)"
TOO_SOON = ("Phải đăng ký trước ngày họp ít nhất 03 ngày làm việc (họp từ ngày 02/12/2026 trở đi), hoặc đánh dấu "
            "“Đột xuất, khẩn cấp”.")


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, soffice_path="off")


@pytest.fixture
def passwords(app: Flask) -> dict[str, str]:
    """The demo organisation as `make run` creates it: username → password."""
    return demo_passwords(app)


def type_into(field: Locator, text: str) -> None:
    """Types into a form-js date or time input as a person would, then leaves the field."""
    field.fill(text)
    field.press("Enter")


def label(text: str) -> re.Pattern[str]:
    return required_label(text)


def endpoints_file(page: Page, tmp_path: Path) -> Path:
    """The blank template downloaded from the task page, filled in as the unit would."""
    toolbar = page.get_by_role("region", name="Nhập danh sách từ Excel")
    with page.expect_download() as download:
        toolbar.get_by_role("link", name=f"Tải mẫu Excel: {LIST_LABEL}").click()
    template = tmp_path / "mau-diem-cau.xlsx"
    download.value.save_as(template)
    book = openpyxl.load_workbook(template)
    for row in ENDPOINTS:
        book.worksheets[0].append([row["ten_diem_cau"], row["dia_chi"], row["so_nguoi"], row["can_bo_ky_thuat"],
                                   row["dien_thoai"]])
    target = tmp_path / "diem-cau-ve-tinh.xlsx"
    book.save(target)
    return target


def test_the_officer_registers_on_phu_luc_i_and_ttcds_confirms(
        page: Page, app: Flask, passwords: dict[str, str], run_worker: Callable[[], int], tmp_path: Path) -> None:
    use_clock(app, datetime(2026, 11, 26, 2, 0, tzinfo=UTC))  # Thursday 09:00 in Đồng Tháp
    page.emulate_media(reduced_motion="reduce")
    scan = tmp_path / "Công văn 215-STC-VP.pdf"
    scan.write_bytes(pdf("Cong van 215/STC-VP"))

    # ---- Sở Tài chính's officer fills Phụ lục I ----
    start_demo_dossier(page, passwords, "donvi", PROCEDURE)
    expect(page.get_by_role("heading", name="Đăng ký hội nghị (Phụ lục I)")).to_be_visible()
    form = page.locator("#form-root")
    expect(form.locator(".fjs-form")).to_be_visible()
    expect(form.get_by_text("Ghi nhận cuộc gọi (đột xuất, khẩn cấp)")).to_be_hidden()

    form.get_by_label("Văn bản liên thông trên hệ thống quản lý văn bản và điều hành iDesk").check()
    form.get_by_label(label("Số, ký hiệu văn bản đăng ký")).fill("215/STC-VP")
    type_into(form.get_by_label(label("Ngày văn bản")), "25/11/2026")
    form.get_by_label(label("Thủ trưởng ký văn bản")).fill("Nguyễn Văn Giám")
    titles = form.get_by_label(label("Chức vụ"))  # of the head who signs, the chair, the officer in charge
    titles.nth(0).fill("Giám đốc")
    pick(page, SCAN_LABEL, scan)
    # Uploaded once the file is offered as a link (the form is redrawn then: type nothing before).
    expect(form.locator(".fjs-form-field-filepicker", has_text=SCAN_LABEL).get_by_role("link", name=scan.name)
           ).to_be_visible()
    form.get_by_label(label("Tên cơ quan, đơn vị, địa phương đề nghị (chủ trì hội nghị)")).fill("Sở Tài chính")
    form.get_by_label("Căn cứ (văn bản chỉ đạo tổ chức hội nghị)").fill(
        "Căn cứ Kế hoạch số 45/KH-UBND ngày 10/11/2026 của Ủy ban nhân dân tỉnh.")
    form.get_by_label(label("1. Nội dung hội nghị")).fill("Hội nghị triển khai công tác quyết toán ngân sách năm 2026")
    form.get_by_label(label("2. Người chủ trì")).fill("Võ Minh Đức")
    titles.nth(1).fill("Phó Giám đốc Sở Tài chính")
    choose(form.locator(".fjs-form-field-select", has_text="3. Thời gian: buổi"), "Sáng")
    type_into(form.get_by_label(label("Ngày họp")), "01/12/2026")
    type_into(form.get_by_label(label("Bắt đầu lúc")), "08:00")
    form.get_by_label(label("4. Địa điểm tổ chức hội nghị (điểm cầu chính)")).fill("Hội trường Sở Tài chính")
    form.get_by_label(label("5. Cán bộ phụ trách")).fill("Trần Thị Bình")
    titles.nth(2).fill("Chuyên viên")
    form.get_by_label(label("6. Số điện thoại liên hệ")).fill("0277 3851 234")
    form.get_by_label(label("Email")).fill("donvi@dongthap.gov.vn")
    form.get_by_label("Tỉnh - Huyện - Xã", exact=True).check()

    # The satellite endpoints come from Excel (the template the page offers).
    workbook = endpoints_file(page, tmp_path)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name=f"Nhập từ Excel: {LIST_LABEL}").click()
    chooser.value.set_files(str(workbook))
    expect(page.locator("#excel-status .alert-success")).to_contain_text("Đã nhập 2 dòng")
    rows = form.get_by_role("group", name=LIST_LABEL).locator(".fjs-repeat-row-container")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).get_by_label(label("Điểm cầu vệ tinh (tên cơ quan)"))).to_have_value("UBND xã Mỹ Hiệp")

    # Recording asks for the chair's consent.
    consent = form.get_by_label(label("Người chủ trì hội nghị đồng ý ghi lại video hội nghị"))
    expect(consent).to_be_hidden()
    form.get_by_label("Trình chiếu slide").check()
    form.get_by_label("Ghi lại video hội nghị").check()
    consent.check()

    # Tuesday 01/12 leaves only two working days: refused with the earliest date.
    page.get_by_role("button", name="Hoàn thành").click()
    expect(page.get_by_text(TOO_SOON).first).to_be_visible()
    page.screenshot(path=artifact_path("videoconference-01-too-soon.png"), full_page=True)
    type_into(form.get_by_label(label("Ngày họp")), "02/12/2026")
    page.screenshot(path=artifact_path("videoconference-02-phu-luc-i.png"), full_page=True)
    page.get_by_role("button", name="Hoàn thành").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    expect(page.get_by_text("Đã hoàn thành công việc.")).to_be_visible()
    log_out(page)

    # ---- a TTCĐS operator confirms within the 2 working hours ----
    log_in(page, passwords, "chuyenvien_ttcds")
    open_task(page, "Xử lý nội dung đăng ký")
    form = page.locator("#form-root")
    expect(form).to_contain_text("08:00 – 11:30 ngày 02/12/2026 (buổi sáng)")
    expect(form).to_contain_text("Tỉnh - Huyện - Xã")
    expect(form).to_contain_text("Văn bản liên thông iDesk số 215/STC-VP ngày 25/11/2026 do Nguyễn Văn Giám ký")
    expect(form.get_by_role("table")).to_contain_text("UBND xã Mỹ Hiệp")
    form.get_by_label("Xác nhận, lập lịch hội nghị").check()
    form.get_by_label("Ý kiến phối hợp chuẩn bị (gửi kèm thư xác nhận)").fill(
        "Đề nghị gửi tài liệu trình chiếu trước 01 ngày làm việc.")
    page.screenshot(path=artifact_path("videoconference-03-ttcds-confirms.png"), full_page=True)
    page.get_by_role("button", name="Hoàn thành").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    expect(page.get_by_text("Đã hoàn thành công việc.")).to_be_visible()
    assert run_worker() == 1  # the confirmation e-mail
    page.reload()
    diagram = page.locator("#diagram")
    expect(diagram.locator('[data-element-id="Task_GuiXacNhan"].marker-done')).to_be_attached()
    expect(diagram.locator('[data-element-id="Task_LapKichBan"].marker-active')).to_be_attached()
    diagram.screenshot(path=artifact_path("videoconference-05-diagram.png"))
    log_out(page)

    # ---- the officer reads the confirmation ----
    log_in(page, passwords, "donvi")
    page.get_by_role("link", name=re.compile("Thông báo")).click()
    expect(page.get_by_text("Xác nhận đăng ký hội nghị truyền hình trực tuyến: Hội nghị triển khai công tác "
                            "quyết toán ngân sách năm 2026")).to_be_visible()
    page.screenshot(path=artifact_path("videoconference-04-confirmation.png"), full_page=True)


# ---------------------------------------------------------------- the later steps' forms


def act(app: Flask, username: str, element_id: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """As `username`: the ready task `element_id`'s opening data, completed with `data` when given."""
    with app.app_context(), uow() as work:
        actor = work.session.scalar(select(User).where(User.username == username))
        task = work.session.scalar(select(HumanTask).where(HumanTask.element_id == element_id,
                                                           HumanTask.status == "ready"))
        assert actor is not None and task is not None, element_id
        opened = instances.task_data(work, services(), task)
        if data is not None:
            instances.complete_task(work, services(), actor, task.id, data)
        return opened


def shows(page: Page, task: str, *texts: str, shot: str) -> None:
    open_task(page, task)
    form = page.locator("#form-root")
    for text in texts:
        expect(form).to_contain_text(text)
    page.screenshot(path=artifact_path(shot), full_page=True)


def test_the_script_test_runs_operation_and_report_forms(
        page: Page, app: Flask, passwords: dict[str, str], run_worker: Callable[[], int]) -> None:
    """Each later step's form as its actor sees it (the steps before done through the use cases)."""
    clock = use_clock(app, datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
    page.emulate_media(reduced_motion="reduce")
    with app.app_context(), uow() as work:
        officer = work.session.scalar(select(User).where(User.username == "donvi"))
        assert officer is not None
        instance_id = instances.start(work, services(), officer, "videoconference_support").id
        task = work.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        assert task is not None
        scan = attachments.upload(work, services(), officer, task.id, field_id=SCAN_FIELD, key="",
                                  file_name="Công văn 215-STC-VP.pdf", content=pdf("Cong van 215/STC-VP"))
    act(app, "donvi", "Task_DangKy", {**LETTER, **MEETING, "email_can_bo": "donvi@dongthap.gov.vn",
                                      "van_ban_dang_ky": [scan]})
    act(app, "chuyenvien_ttcds", "Task_XuLyDangKy", ACCEPT)
    assert run_worker() == 1

    # Phụ lục II, prefilled from the booking.
    log_in(page, passwords, "chuyenvien_ttcds")
    shows(page, "Xây dựng kịch bản, danh sách kỹ thuật (Phụ lục II)", "PHỤ LỤC II", "III. Điểm cầu vệ tinh",
          shot="videoconference-06-phu-luc-ii.png")
    technicians = page.locator("#form-root").get_by_label(required_label("Tên cán bộ kỹ thuật"))
    expect(technicians).to_have_count(4)
    expect(technicians.nth(2)).to_have_value("Trần Văn Bé")
    expect(page.get_by_role("region", name="Nhập danh sách từ Excel")).to_contain_text(
        "1. Danh sách cán bộ kỹ thuật trực vận hành tại các điểm cầu")
    log_out(page)
    draft = act(app, "chuyenvien_ttcds", "Task_LapKichBan")
    act(app, "chuyenvien_ttcds", "Task_LapKichBan", {
        "can_cu": draft["can_cu"], "nguoi_ky": "Lê Minh Tâm",
        "ky_thuat": [dict(r, ho_ten=r["ho_ten"] or "Phan Thanh Kỹ", dien_thoai=r["dien_thoai"] or "0909 000 001")
                     for r in draft["ky_thuat"]],
        "lich_van_hanh_thu": [dict(r, thoi_diem=r["thoi_diem"] or "2026-11-30T14:00")
                              for r in draft["lich_van_hanh_thu"]]})
    assert run_worker() == 3  # the notice, the room, the accounts

    # The technician records the test runs per endpoint.
    log_in(page, passwords, "kythuat_ttcds")
    shows(page, "Kiểm tra, vận hành thử các điểm cầu", "Phòng họp trực tuyến:", "UBND xã Mỹ Hiệp",
          "Âm thanh", shot="videoconference-07-test-runs.png")
    log_out(page)
    runs = act(app, "kythuat_ttcds", "Task_VanHanhThu")["van_hanh_thu"]
    act(app, "kythuat_ttcds", "Task_VanHanhThu", {"van_hanh_thu": [
        dict(r, am_thanh="dat", hinh_anh="dat", duong_truyen="dat") for r in runs], "san_sang": True})
    clock.now = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)  # 07:30, half an hour before the meeting
    assert run_worker() == 1

    # On the day: the endpoints the MCU lists, incidents noted.
    log_in(page, passwords, "kythuat_ttcds")
    open_task(page, "Vận hành, giám sát")
    form = page.locator("#form-root")
    expect(form.get_by_role("table")).to_contain_text("UBND huyện Cao Lãnh")
    expect(form.get_by_text("Các sự cố")).to_be_hidden()
    form.get_by_label("Có sự cố trong thời gian triển khai hội nghị").check()
    expect(form.get_by_text("Các sự cố")).to_be_visible()
    page.screenshot(path=artifact_path("videoconference-08-operation.png"), full_page=True)
    log_out(page)
    act(app, "kythuat_ttcds", "Task_VanHanhGiamSat", {"co_su_co": True, "su_co_ghi_nhan": [
        {"diem_cau": "UBND xã Mỹ Hiệp", "thoi_diem": "09:15", "mo_ta": "Mất tiếng 5 phút.", "xu_ly": "Thay micro."}]})
    assert run_worker() == 2  # the room and the accounts locked

    # The room unit's report on Phụ lục III.
    log_in(page, passwords, "donvi")
    shows(page, "Báo cáo sự cố (Phụ lục III)", "PHỤ LỤC III", shot="videoconference-09-phu-luc-iii.png")
    expect(page.locator("#form-root").get_by_label(required_label(
        "5. Sự cố xảy ra trong thời gian triển khai hội nghị (mỗi dòng một sự cố)"))).to_have_value(
        "- 09:15, UBND xã Mỹ Hiệp: Mất tiếng 5 phút. Khắc phục: Thay micro.")
