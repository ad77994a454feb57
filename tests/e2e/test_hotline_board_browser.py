"""Hotline 1022 board in Chromium: a leader watches the board (a new ticket appears at the next refresh, without
reloading the page), reads the statistics for a period and downloads them, and sees the ticket list masked."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from flask import Flask
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from engine.services import hotline_board
from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in
from tests.web.conftest import add_people
from tests.web.test_hotline_board_pages import take
from webapp.platform import services

pytestmark = pytest.mark.e2e


def test_leader_watches_the_board_reads_statistics_and_the_masked_list(page: Page, app: Flask) -> None:
    add_people(app, {"tongdai": ("Đinh Thị Thoại", "ttpvhcc", ["tong_dai_vien"]),
                     "ld_1022": ("Nguyễn Văn Thanh", "ttpvhcc", ["lanh_dao"])},
               {"ttpvhcc": "Trung tâm Phục vụ hành chính công"})
    take(app, caller="Trần Văn Bảy", phone="0912345678", content="Hỏi thủ tục cấp đổi giấy phép lái xe")
    take(app, channel="zalo", caller="Lê Thị Hoa", phone="0987000111", content="Rác tồn đọng ở chợ phường 1")
    with app.app_context():
        today = hotline_board.today(services())
    page.clock.install()  # the board's 15-second timer runs on a clock the test moves
    log_in(page, "ld_1022", "Nguyễn Văn Thanh")
    page.locator("a.nav-hotline").click()
    expect(page.locator(".hotline-tabs .nav-link.active")).to_have_text("Danh sách phiếu")

    # The ticket list: the caller's number is masked for a leader.
    rows = page.locator("table.hotline-tickets tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Trần V. B.").locator(".hotline-phone")).to_have_text("091****678")
    expect(page.get_by_text("0912345678")).to_have_count(0)
    page.get_by_label("Kênh").select_option("zalo")
    page.get_by_role("button", name="Lọc").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Rác tồn đọng ở chợ phường 1")
    page.screenshot(path=str(artifact_path("hotline-board-01-list.png")), full_page=True)

    # The board: a ticket taken meanwhile shows at the next refresh, the page is not reloaded.
    page.locator(".hotline-tabs").get_by_role("link", name="Giám sát trực tuyến").click()
    received = page.locator('[data-counter="received"] .display-6')
    expect(received).to_have_text("2")
    expect(page.locator(".hotline-updated")).to_contain_text(re.compile(r"Cập nhật lúc \d\d:\d\d:\d\d"))
    page.evaluate("window.hotlineBoardMarker = 'same page'")
    code = take(app, caller="Võ Thị Mai", phone="0903555777", content="Đèn tín hiệu ngã tư hỏng")
    expect(received).to_have_text("2")  # not yet: the board waits for its timer
    page.clock.run_for(15_000)
    expect(received).to_have_text("3")
    expect(page.locator(".hotline-recent-table tbody tr").first).to_contain_text(code)
    expect(page.locator(".hotline-recent-table tbody tr").first.locator(".hotline-phone")).to_have_text("090****777")
    assert page.evaluate("window.hotlineBoardMarker") == "same page"
    page.screenshot(path=str(artifact_path("hotline-board-02-board.png")), full_page=True)

    # Statistics: a period with nothing, then today by channel, downloaded as Excel.
    page.locator(".hotline-tabs").get_by_role("link", name="Thống kê").click()
    empty_day = (today - timedelta(days=40)).isoformat()
    page.get_by_label("Từ ngày").fill(empty_day)
    page.get_by_label("Đến ngày").fill(empty_day)
    page.get_by_role("button", name="Xem").click()
    expect(page.locator(".hotline-stats-total [data-metric='received']")).to_have_text("0")
    page.get_by_label("Từ ngày").fill(today.replace(day=1).isoformat())
    page.get_by_label("Đến ngày").fill(today.isoformat())
    page.get_by_label("Thống kê theo").select_option("kenh")
    page.get_by_role("button", name="Xem").click()
    expect(page.locator(".hotline-stats-total [data-metric='received']")).to_have_text("3")
    expect(page.locator("tr[data-key='dien_thoai'] [data-metric='received']")).to_have_text("2")
    expect(page.locator(".hotline-stats-chart .hotline-bar")).to_have_count(2)
    page.screenshot(path=str(artifact_path("hotline-board-03-statistics.png")), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Xuất Excel").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    values = list(sheet.iter_rows(values_only=True))
    assert (1, "Điện thoại 1022", 2, 0, 0, 0, 0) in values and (None, "Tổng cộng", 3, 0, 0, 0, 0) in values
