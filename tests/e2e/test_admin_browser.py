"""The admin's publishing page and the case list, clicked through in Chromium."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from engine.settings import ROOT
from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in

pytestmark = pytest.mark.e2e


def test_admin_sees_a_report_for_a_bad_diagram_and_publishes_a_changed_one(page: Page, tmp_path: Path) -> None:
    log_in(page, "qt", "Đặng Thanh Tâm")
    page.get_by_role("link", name="Quản trị quy trình").click()
    versions = page.locator("table.versions tbody tr", has_text="email_account")  # one row per version
    expect(versions).to_have_count(1)

    bpmn = (ROOT / "processes" / "email_account.bpmn").read_text(encoding="utf-8")
    broken = tmp_path / "email_account.bpmn"
    broken.write_text(bpmn.replace('camunda:topic="mail_directory.apply"', 'camunda:topic="khong_co"'),
                      encoding="utf-8")
    page.locator("#publish-files").set_input_files(str(broken))
    page.get_by_role("button", name="Kiểm tra và công bố").click()
    report = page.locator(".validation-report")
    expect(report).to_contain_text("Task_ThucHienTaiKhoan")
    expect(report).to_contain_text("không có bộ kết nối đã đăng ký")
    page.screenshot(path=str(artifact_path("07-admin-report.png")), full_page=True)
    expect(versions).to_have_count(1)  # nothing stored

    renamed = tmp_path / "renamed" / "email_account.bpmn"
    renamed.parent.mkdir()
    renamed.write_text(bpmn.replace('name="Phúc đáp công văn"', 'name="Phúc đáp công văn cho đơn vị"'),
                       encoding="utf-8")
    page.locator("#publish-files").set_input_files(str(renamed))
    page.get_by_role("button", name="Kiểm tra và công bố").click()
    expect(page.get_by_text(re.compile(r"Đã công bố .*phiên bản 2"))).to_be_visible()
    expect(versions).to_have_count(2)
    page.screenshot(path=str(artifact_path("08-admin-published.png")), full_page=True)


def test_case_list_shows_started_cases_to_their_unit(page: Page) -> None:
    log_in(page, "cv_stc", "Trần Thị Bình")
    page.get_by_role("link", name="Hồ sơ", exact=True).click()
    expect(page.get_by_text("Chưa có hồ sơ nào.")).to_be_visible()
    page.get_by_role("link", name="Khởi tạo hồ sơ").click()
    page.get_by_role("button", name="Tạo hồ sơ mới").first.click()
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
    page.get_by_role("link", name="Hồ sơ", exact=True).click()
    row = page.locator("table tbody tr").first
    expect(row).to_contain_text("Sở Tài chính")
    expect(row).to_contain_text("Đang xử lý")
    row.get_by_role("link").click()
    expect(page.locator("#diagram svg[data-element-id]")).to_be_visible()
    expect(page.locator("#diagram .marker-active")).not_to_have_count(0)
