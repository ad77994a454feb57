"""The admin's working calendar page, clicked through in Chromium: add a day off, see it, remove it."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in

pytestmark = pytest.mark.e2e


def test_admin_adds_a_day_off_sees_it_in_the_grid_and_removes_it(page: Page) -> None:
    log_in(page, "qt", "Đặng Thanh Tâm")
    page.get_by_role("link", name="Lịch làm việc").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lịch làm việc năm")
    page.goto("/admin/calendar?year=2026")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lịch làm việc năm 2026")
    tet = page.locator('td[data-date="2026-02-17"]')
    expect(tet).to_have_class("cal-holiday")
    expect(tet).to_have_attribute("title", "Tết Nguyên Đán")
    expect(page.locator("#month-2 .cal-names")).to_contain_text("17/02 Tết Nguyên Đán")

    day = page.locator('td[data-date="2026-12-01"]')
    expect(day).to_have_class("cal-workday")
    page.get_by_label("Ngày", exact=True).fill("2026-12-01")
    page.get_by_label("Loại").select_option("nghi")
    page.get_by_label("Lý do").fill("Kỷ niệm ngày thành lập tỉnh")
    page.get_by_label("Số quyết định").fill("45/QĐ-UBND")
    page.get_by_role("button", name="Thêm điều chỉnh").click()

    expect(page.get_by_text("Đã lưu điều chỉnh ngày 01/12/2026.")).to_be_visible()
    expect(day).to_have_class("cal-override-off")
    expect(day).to_have_attribute("title", "Kỷ niệm ngày thành lập tỉnh")
    expect(page.locator("#month-12 .cal-names")).to_contain_text("01/12 Kỷ niệm ngày thành lập tỉnh")
    row = page.locator('table.overrides tr[data-date="2026-12-01"]')
    expect(row).to_contain_text("45/QĐ-UBND")
    page.locator("#month-12").scroll_into_view_if_needed()
    page.screenshot(path=str(artifact_path("20-calendar-override.png")), full_page=True)

    row.get_by_role("button", name="Xóa").click()
    expect(page.get_by_text("Đã xóa điều chỉnh.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/calendar\?year=2026$"))
    expect(day).to_have_class("cal-workday")
    expect(page.get_by_text("Chưa có điều chỉnh nào.")).to_be_visible()
