"""A leader reads the deadline report in Chromium; an expert sees deadline badges on the tasklist."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in, log_out
from tests.web.conftest import REQUEST_DATA
from tests.web.test_sla_pages import LATER, LEADER, VN, build_scenario, do_task, start

pytestmark = pytest.mark.e2e


def test_leader_filters_the_report_by_unit_and_sees_the_overdue_dossier(
        page: Page, app: Flask, run_worker: Callable[[], int]) -> None:
    scenario = build_scenario(app, run_worker)
    # One more dossier at "Xử lý nội dung đăng ký", due this afternoon, for the tasklist.
    scenario.clock.now = datetime(2026, 11, 30, 9, 0, tzinfo=VN)
    due_soon = start(app, "cv_syt")
    do_task(app, "cv_syt", due_soon, REQUEST_DATA)
    scenario.clock.now = LATER

    log_in(page, *LEADER)
    page.get_by_role("link", name="Báo cáo hạn xử lý").click()
    expect(page.get_by_role("heading", name="Báo cáo hạn xử lý")).to_be_visible()
    page.get_by_label("Quy trình").select_option("email_account")
    page.get_by_label("Đơn vị đề nghị").select_option(label="Sở Tài chính")
    page.get_by_role("button", name="Xem").click()
    expect(page).to_have_url(re.compile(r"unit=so_tc"))

    running = page.locator(".sla-running")
    expect(running.locator('tr[data-state="qua_han"] td.num')).to_have_text("1")
    expect(running.locator('tr[data-state="dung_han"] td.num')).to_have_text("1")
    expect(page.locator('.sla-finished tr[data-outcome="truoc_han"] td.num')).to_have_text("1")
    rows = page.locator(".sla-overdue tbody tr")
    expect(rows).to_have_count(2)
    whole = rows.filter(has_text="Toàn hồ sơ")
    expect(whole.locator(".due-badge.due-qua_han")).to_have_text(re.compile("Quá hạn"))
    expect(whole.get_by_role("link", name=re.compile(f"#{scenario.overdue_stc}"))).to_be_visible()
    expect(rows.filter(has_text="Sở Y tế")).to_have_count(0)
    page.screenshot(path=artifact_path("sla_report.png"), full_page=True)

    whole.get_by_role("link", name=re.compile(f"#{scenario.overdue_stc}")).click()
    expect(page.locator(".instance-deadline .due-badge")).to_have_text(re.compile("Quá hạn"))
    page.screenshot(path=artifact_path("sla_instance.png"), full_page=True)
    log_out(page)

    log_in(page, "cv_sttt", "Lê Văn Cường")
    rows = page.locator(".tasklist tbody tr")
    expect(rows).to_have_count(3)
    # Sorted by deadline: overdue, due this afternoon, due next week.
    expect(rows.nth(0).locator(".due-badge")).to_have_text(re.compile("Quá hạn"))
    expect(rows.nth(1).locator(".due-badge")).to_have_text(re.compile("Sắp đến hạn"))
    expect(rows.nth(2).locator(".due-badge")).to_have_text(re.compile("Đúng hạn"))
    page.screenshot(path=artifact_path("sla_tasklist.png"), full_page=True)
