"""The Huế meeting rules in Chromium: an invited unit's officer confirms attendance naming the endpoint's chair,
the host unit cancels the meeting from the calendar, and the invitee reads the cancellation in "Thông báo"."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in, log_out
from tests.web.test_meeting_rules_pages import TITLE, Booked, booked  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e


def test_an_invitee_confirms_the_host_cancels_and_the_invitee_is_told(page: Page, booked: Booked) -> None:  # noqa: F811
    log_in(page, "cv_syt", "Huỳnh Thị Lan")
    invitations_link = page.locator(".nav-invitations")
    expect(invitations_link.locator(".nav-awaiting")).to_have_text("1")
    invitations_link.click()
    expect(page.get_by_role("heading", name="Lời mời họp")).to_be_visible()
    row = page.locator(".invitation-item", has_text=TITLE)
    expect(row).to_contain_text("Cần trả lời")
    expect(row).to_contain_text("Chờ xác nhận")
    page.screenshot(path=artifact_path("meeting-rules-01-invitations.png"), full_page=True)

    row.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=f"Giấy mời họp: {TITLE}")).to_be_visible()
    form = page.locator(".answer-form")
    form.get_by_label("Tham dự", exact=True).check()
    form.get_by_label("Họ tên người chủ trì tại điểm cầu").fill("Lê Thị Hà")
    form.get_by_role("button", name="Gửi trả lời").click()
    expect(page.locator(".alert-danger")).to_contain_text("Nhập chức vụ người chủ trì tại điểm cầu của đơn vị.")
    page.locator(".answer-form").get_by_label("Chức vụ người chủ trì").fill("Phó Giám đốc Sở Y tế")
    page.locator(".answer-form").get_by_role("button", name="Gửi trả lời").click()
    expect(page.locator(".alert-success")).to_contain_text("Đã ghi nhận trả lời của đơn vị.")
    answered = page.locator(".invitation-row[data-unit='so_yt']")
    expect(answered.locator(".invitation-status")).to_have_text("Tham dự")
    expect(answered).to_contain_text("Lê Thị Hà — Phó Giám đốc Sở Y tế")
    expect(page.locator(".nav-awaiting")).to_have_count(0)
    page.screenshot(path=artifact_path("meeting-rules-02-confirmed.png"), full_page=True)
    log_out(page)

    log_in(page, "cv_stc", "Trần Thị Bình")
    page.locator(".nav-meetings").click()
    page.locator(".meetings-next").click()
    meeting_row = page.locator(f"#meeting-{booked.meeting_id}")
    expect(meeting_row).to_contain_text(TITLE)
    meeting_row.get_by_role("link", name="Chi tiết").click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    rules = page.locator("#quy-che-hop")
    expect(rules.locator(".invitation-row[data-unit='so_yt']")).to_contain_text("Lê Thị Hà")
    expect(rules.locator(".invitation-row[data-unit='sttt'] .invitation-status")).to_have_text("Chờ xác nhận")
    expect(rules.locator(".recording-state")).to_contain_text("người chủ trì đồng ý: Nguyễn Văn Phương")
    page.screenshot(path=artifact_path("meeting-rules-03-host-page.png"), full_page=True)
    cancel = rules.locator(".cancel-form")
    cancel.get_by_label("Lý do hủy").fill("UBND tỉnh thay đổi kế hoạch công tác")
    cancel.get_by_role("button", name="Hủy và thông báo các đơn vị").click()
    expect(page.locator(".alert-success")).to_contain_text("Đã hủy cuộc họp và thông báo tới 4 người được mời.")
    expect(page.locator(".meeting-state").first).to_have_text("Hủy")
    expect(page.locator(".meeting-closed")).to_contain_text("Cuộc họp đã bị hủy.")
    expect(page.locator(".cancel-form")).to_have_count(0)
    page.screenshot(path=artifact_path("meeting-rules-04-cancelled.png"), full_page=True)
    log_out(page)

    log_in(page, "cv_syt", "Huỳnh Thị Lan")
    inbox = page.locator(".nav-notifications")
    expect(inbox.locator(".nav-unread")).to_have_text("2")  # the invitation and the cancellation
    inbox.click()
    expect(page.get_by_role("heading", name="Thông báo")).to_be_visible()
    page.screenshot(path=artifact_path("meeting-rules-05-inbox.png"), full_page=True)
    page.get_by_role("link", name=f"Hủy họp: {TITLE}").click()
    body = page.locator(".notification-body")
    expect(body).to_contain_text("đã bị HỦY")
    expect(body).to_contain_text("Lý do hủy: UBND tỉnh thay đổi kế hoạch công tác")
    expect(body).to_contain_text(re.compile(r"08:00 thứ Năm, ngày 03/12/2026"))
    page.screenshot(path=artifact_path("meeting-rules-06-cancellation.png"), full_page=True)


def test_a_leader_reads_the_quarterly_report_and_downloads_it(page: Page, booked: Booked) -> None:  # noqa: F811
    log_in(page, "ld_syt", "Phan Văn Hòa")
    page.locator(".nav-meetings").click()
    page.get_by_role("link", name="Báo cáo quý").click()
    expect(page.get_by_role("heading", name="Báo cáo Hội nghị truyền hình theo quý")).to_be_visible()
    page.get_by_label("Năm").select_option("2026")
    page.get_by_label("Quý").select_option("4")
    page.get_by_role("button", name="Xem báo cáo").click()
    expect(page.locator(".report-period-text")).to_have_text("Từ ngày 01/10/2026 đến ngày 31/12/2026")
    expect(page.locator(".report-summary")).to_contain_text("Tổng số cuộc họp")
    expect(page.locator(".report-units tr", has_text="Sở Y tế")).to_contain_text("1")
    expect(page.locator(".report-meetings")).to_contain_text(TITLE)
    page.screenshot(path=artifact_path("meeting-rules-07-report.png"), full_page=True)
    with page.expect_download() as word:
        page.get_by_role("link", name="Tải báo cáo (DOCX)").click()
    assert word.value.suggested_filename == "Báo cáo Hội nghị truyền hình quý IV năm 2026.docx"
    with page.expect_download() as sheet:
        page.get_by_role("link", name="Xuất Excel").click()
    assert sheet.value.suggested_filename.endswith(".xlsx")
