"""Officers book videoconferences on the real Phụ lục I form of videoconference_support in Chromium and see
them on the meeting calendar ("Lịch họp"): the day, level, room and state; a second booking of the same
room at the same time shows the conflict warning on both."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import artifact_path
from tests.e2e.test_attachments_browser import pick
from tests.e2e.test_email_account_browser import choose, complete_task, log_in, log_out, required_label
from tests.engine.attachment_files import pdf
from tests.web.test_sla_pages import use_clock

pytestmark = pytest.mark.e2e

#: Thursday 26 November 2026, 09:00: three working days later, a meeting may be on Wednesday 2 December.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
SCAN_LABEL = "Bản quét văn bản đăng ký (đã ký, đóng dấu)"


def field(form: Locator, field_id: str) -> Locator:
    """A form-js input by its field id (several fields share the label “Chức vụ”)."""
    return form.locator(f'[id$="-{field_id}"]')


def type_and_leave(box: Locator, value: str) -> None:
    """Types a date (dd/mm/yyyy) or a time (HH:MM) into a form-js date or time field, as a person would."""
    box.fill(value)
    box.press("Enter")


def book_on_phu_luc_i(page: Page, scan: Path, *, title: str, room: str, host: str, number: str) -> None:
    """From the catalogue to the instance page: Phụ lục I filled and completed, meeting on 03/12/2026 08:00."""
    page.get_by_role("link", name="Khởi tạo hồ sơ").click()
    page.locator(".procedure-card", has_text="Hội nghị truyền hình trực tuyến").get_by_role(
        "button", name="Tạo hồ sơ mới").click()
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
    form = page.locator("#form-root")
    expect(form.locator(".fjs-form")).to_be_visible()

    form.get_by_label("Văn bản liên thông trên hệ thống quản lý văn bản và điều hành iDesk").check()
    form.get_by_label(required_label("Số, ký hiệu văn bản đăng ký")).fill(number)
    type_and_leave(form.get_by_label(required_label("Ngày văn bản")), "25/11/2026")
    form.get_by_label(required_label("Thủ trưởng ký văn bản")).fill("Nguyễn Văn Giám")
    field(form, "Field_ChucVuNguoiKyDeNghi").fill("Giám đốc")
    pick(page, SCAN_LABEL, scan)
    expect(form.locator(".fjs-form-field-filepicker").get_by_role("link", name=scan.name)).to_be_visible()
    form.get_by_label(required_label("Tên cơ quan, đơn vị, địa phương đề nghị (chủ trì hội nghị)")).fill(host)
    form.get_by_label("Căn cứ (văn bản chỉ đạo tổ chức hội nghị)").fill("Kế hoạch số 120/KH-UBND ngày 10/11/2026")
    form.get_by_label(required_label("1. Nội dung hội nghị")).fill(title)
    form.get_by_label(required_label("2. Người chủ trì")).fill("Trần Văn Chủ")
    field(form, "Field_ChucVuChuTri").fill("Phó Chủ tịch UBND tỉnh")
    choose(form.locator(".fjs-form-field-select", has_text="3. Thời gian: buổi"), "Sáng")
    type_and_leave(form.get_by_label(required_label("Ngày họp")), "03/12/2026")
    type_and_leave(form.get_by_label(required_label("Bắt đầu lúc")), "08:00")
    form.get_by_label(required_label("4. Địa điểm tổ chức hội nghị (điểm cầu chính)")).fill(room)
    form.get_by_label(required_label("5. Cán bộ phụ trách")).fill("Lê Thị Phụ Trách")
    form.get_by_label(required_label("6. Số điện thoại liên hệ")).fill("0277 3851 234")
    form.get_by_label(required_label("Email")).fill("phutrach@dongthap.gov.vn")
    form.get_by_label("Tỉnh - Huyện - Xã", exact=True).check()
    endpoints = form.get_by_role("group", name=re.compile(r"Danh sách các điểm cầu vệ tinh"))
    endpoints.get_by_role("button", name="Thêm dòng").click()
    row = endpoints.locator(".fjs-repeat-row-container").first
    row.get_by_label(required_label("Điểm cầu vệ tinh (tên cơ quan)")).fill("UBND huyện Cao Lãnh")
    row.get_by_label(required_label("Địa chỉ")).fill("Thị trấn Mỹ Thọ, huyện Cao Lãnh")
    row.get_by_label(required_label("Số lượng người tham dự")).fill("30")
    row.get_by_label(required_label("Cán bộ phụ trách kỹ thuật (tên)")).fill("Phạm Văn Kỹ")
    row.get_by_label(required_label("Số điện thoại liên hệ")).fill("0277 3822 111")
    complete_task(page)
    expect(page.locator("#instance-status")).to_have_text("Đang xử lý")


def meeting_row(scope: Locator, title: str) -> Locator:
    """The calendar row whose content link is this title (another row's warning may name it too)."""
    return scope.locator("tr.meeting-row").filter(
        has=scope.page.locator("td.meeting-title > a.fw-semibold", has_text=re.compile(f"^{re.escape(title)}$")))


def test_officers_book_and_see_meetings_and_their_conflict_on_the_calendar(page: Page, app: Flask,
                                                                           tmp_path: Path) -> None:
    use_clock(app, NOW)
    page.emulate_media(reduced_motion="reduce")
    scan = tmp_path / "Công văn 215-STC-VP.pdf"
    scan.write_bytes(pdf("Cong van 215/STC-VP"))

    # ---- Sở Tài chính books a meeting on Phụ lục I ----
    log_in(page, "cv_stc", "Trần Thị Bình")
    book_on_phu_luc_i(page, scan, title="Hội nghị triển khai kế hoạch chuyển đổi số năm 2027",
                      room="Phòng họp số 1, UBND tỉnh", host="Sở Tài chính", number="215/STC-VP")
    page.get_by_role("link", name="Lịch họp").click()
    expect(page.get_by_role("heading", name="Lịch họp")).to_be_visible()
    expect(page.locator(".meetings-range")).to_have_text("Tuần từ Thứ Hai, 23/11/2026 đến Chủ nhật, 29/11/2026")
    page.get_by_role("link", name="Tuần sau ›").click()
    expect(page.locator(".meetings-range")).to_have_text("Tuần từ Thứ Hai, 30/11/2026 đến Chủ nhật, 06/12/2026")
    day = page.locator('section.meeting-day[data-date="2026-12-03"]')
    expect(day.locator("h2")).to_contain_text("Thứ Năm, 03/12/2026")
    first = meeting_row(day, "Hội nghị triển khai kế hoạch chuyển đổi số năm 2027")
    expect(first.locator(".meeting-time")).to_have_text("08:00–11:30")
    expect(first.locator(".meeting-level")).to_have_text("Tỉnh - Huyện - Xã")
    expect(first.locator(".meeting-room")).to_have_text("Phòng họp số 1, UBND tỉnh")
    expect(first.locator(".meeting-host")).to_have_text("Sở Tài chính")
    expect(first.locator(".meeting-endpoints")).to_have_text("2")
    expect(first.locator(".meeting-state")).to_have_text("Đã đăng ký")
    expect(page.locator(".meeting-warning")).to_have_count(0)
    expect(page.locator(".meetings-conflicts")).to_have_count(0)
    page.screenshot(path=artifact_path("meetings-01-week.png"), full_page=True)
    log_out(page)

    # ---- Sở Y tế books the same room at the same time ----
    log_in(page, "cv_syt", "Huỳnh Thị Lan")
    book_on_phu_luc_i(page, scan, title="Hội nghị giao ban công tác y tế cơ sở",
                      room="phòng họp số 1 – UBND Tỉnh", host="Sở Y tế", number="88/SYT-VP")
    page.get_by_role("link", name="Lịch họp").click()
    page.get_by_role("link", name="Tuần sau ›").click()
    day = page.locator('section.meeting-day[data-date="2026-12-03"]')
    expect(day.locator("tr.meeting-row")).to_have_count(2)
    first = meeting_row(day, "Hội nghị triển khai kế hoạch chuyển đổi số năm 2027")
    second = meeting_row(day, "Hội nghị giao ban công tác y tế cơ sở")
    expect(first.locator(".meeting-warning")).to_have_text(
        "⚠ Trùng phòng họp “Phòng họp số 1, UBND tỉnh” với “Hội nghị giao ban công tác y tế cơ sở” "
        "(08:00–11:30 03/12/2026).")
    expect(second.locator(".meeting-warning")).to_contain_text("Trùng phòng họp “phòng họp số 1 – UBND Tỉnh” với "
                                                               "“Hội nghị triển khai kế hoạch chuyển đổi số năm 2027”")
    expect(page.locator(".meetings-conflicts")).to_contain_text("Cảnh báo xung đột: 2 cuộc họp")
    page.screenshot(path=artifact_path("meetings-02-conflict.png"), full_page=True)

    # Sở Y tế opens its own booking's case, and only the calendar's page of the other unit's meeting.
    expect(second.locator("td.meeting-title a").first).to_have_attribute("href", re.compile(r"^/instances/\d+$"))
    expect(first.locator("td.meeting-title a").first).to_have_attribute("href", re.compile(r"^/meetings/\d+$"))
    first.locator("td.meeting-title a").first.click()
    expect(page.get_by_role("heading", name="Hội nghị triển khai kế hoạch chuyển đổi số năm 2027")).to_be_visible()
    expect(page.locator(".meeting-conflict-alert")).to_contain_text("Trùng phòng họp “Phòng họp số 1, UBND tỉnh”")
    expect(page.locator(".meeting-facts")).to_contain_text("Thứ Năm, 03/12/2026, 08:00–11:30")
    page.screenshot(path=artifact_path("meetings-03-detail.png"), full_page=True)

    # The day view of that Thursday, reached from the detail page's week.
    page.get_by_role("link", name="‹ Về lịch họp").click()
    page.get_by_role("link", name="Thứ Năm, 03/12/2026").click()
    expect(page.locator(".meetings-range")).to_have_text("Thứ Năm, 03/12/2026")
    expect(page.locator("tr.meeting-row")).to_have_count(2)
    page.screenshot(path=artifact_path("meetings-04-day.png"), full_page=True)
    page.get_by_role("link", name="Ngày sau ›").click()
    expect(page.locator(".meetings-range")).to_have_text("Thứ Sáu, 04/12/2026")
    expect(page.locator(".meeting-empty")).to_have_text("Không có cuộc họp.")
    page.get_by_role("link", name="Hôm nay").click()
    expect(page.locator(".meetings-range")).to_have_text("Thứ Năm, 26/11/2026")
