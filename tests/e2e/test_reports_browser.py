"""A leader reads the Phụ lục V statistics in Chromium and downloads it; an expert downloads the tasklist."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in
from tests.web.test_exports import meetings, settings  # noqa: F401 - the definition counting the test procedure
from tests.web.test_sla_pages import LEADER, add_leader, build_scenario

pytestmark = pytest.mark.e2e


def cells(page: Page, label: str) -> list[str]:
    return page.locator(f'.stats-table tr[data-row="{label}"] td.num').all_inner_texts()


def downloaded(page: Page, button: Any, folder: Path) -> tuple[str, Any]:
    """Click the button, wait for the file, and open it as Excel would."""
    with page.expect_download() as info:
        button.click()
    download = info.value
    path = folder / download.suggested_filename
    download.save_as(path)
    return download.suggested_filename, openpyxl.load_workbook(path).active


def test_leader_opens_statistics_switches_year_and_downloads_excel(page: Page, app: Flask,
                                                                   tmp_path: Path) -> None:
    meetings(app)
    add_leader(app)
    log_in(page, *LEADER)
    page.get_by_role("link", name="Báo cáo thống kê").click()
    expect(page.get_by_role("heading", name="Báo cáo thống kê")).to_be_visible()
    expect(page.locator(".stats-title")).to_have_text("THỐNG KÊ SỐ LƯỢNG CUỘC HỌP CÁC CẤP")
    expect(page.locator(".stats-year")).to_have_text("Năm 2026")
    assert cells(page, "Huyện - Xã") == ["1", "1", "0", "0", "2"]
    assert cells(page, "Khác") == ["0", "0", "0", "1", "1"]
    assert cells(page, "TỔNG CỘNG") == ["1", "1", "1", "1", "4"]
    expect(page.locator(".stats-note")).to_contain_text("không đếm hồ sơ đang xử lý, đang có sự cố hoặc đã hủy")
    page.screenshot(path=artifact_path("statistics_2026.png"), full_page=True)

    page.get_by_label("Năm", exact=True).select_option("2025")
    page.get_by_role("button", name="Xem").click()
    expect(page).to_have_url(re.compile(r"year=2025"))
    expect(page.locator(".stats-year")).to_have_text("Năm 2025")
    assert cells(page, "Tỉnh - Huyện") == ["0", "0", "0", "1", "1"]
    expect(page.locator('.stats-table tr[data-row="Khác"]')).to_have_count(0)
    page.screenshot(path=artifact_path("statistics_2025.png"), full_page=True)

    page.get_by_role("link", name="2026 ›").click()
    expect(page.locator(".stats-year")).to_have_text("Năm 2026")
    name, ws = downloaded(page, page.get_by_role("link", name="Xuất Excel"), tmp_path)
    assert name == "Thống kê Phụ lục V năm 2026.xlsx"
    assert ws["A1"].value == "THỐNG KÊ SỐ LƯỢNG CUỘC HỌP CÁC CẤP" and ws.freeze_panes == "A7"
    body = {row[0]: row[1:6] for row in ws.iter_rows(min_row=7, values_only=True) if row[1] is not None}
    assert body["Huyện - Xã"] == (1, 1, 0, 0, 2)
    assert body["TỔNG CỘNG"] == (1, 1, 1, 1, 4)


def test_expert_downloads_the_tasklist_as_shown(page: Page, app: Flask, run_worker: Callable[[], int],
                                                tmp_path: Path) -> None:
    build_scenario(app, run_worker)
    log_in(page, "cv_sttt", "Lê Văn Cường")
    page.get_by_role("link", name="Mới nhất").click()
    rows = page.locator(".tasklist tbody tr")
    expect(rows).to_have_count(2)
    shown = [(name, case) for name, case in zip(rows.locator("td:nth-child(1)").all_inner_texts(),
                                                 rows.locator("td:nth-child(2)").all_inner_texts(), strict=True)]
    page.screenshot(path=artifact_path("tasklist_export_button.png"), full_page=True)
    name, ws = downloaded(page, page.get_by_role("link", name="Xuất Excel"), tmp_path)
    assert name.startswith("Việc cần làm ") and name.endswith(".xlsx")
    assert [c.value for c in ws[4]][:2] == ["Công việc", "Số hồ sơ"]
    listed = list(ws.iter_rows(min_row=5, values_only=True))
    assert [(row[0], row[1]) for row in listed] == shown
    assert {row[5] for row in listed} == {"Quá hạn", "Đúng hạn"}
