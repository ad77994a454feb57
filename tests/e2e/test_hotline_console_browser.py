"""Hotline 1022 operator console in Chromium: an operator types a call with the keyboard, sees the caller's earlier
ticket appear, submits with Ctrl+Enter, opens the new ticket and forwards an urgent call; a leader then opens the
ticket and sees the contacts masked."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from engine.services import hotline
from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in, log_out
from tests.web.conftest import add_people
from webapp.platform import services, uow

pytestmark = pytest.mark.e2e


def earlier_call(app: Flask) -> str:
    """Yesterday's ticket from the same caller (taken through the engine, as the console would)."""
    with app.app_context(), uow() as work:
        ticket = hotline.intake(work, services(), None, channel="dien_thoai", caller="Nguyễn Văn An",
                                phone="0913123456", content="Hỏi lệ phí cấp bản sao giấy khai sinh",
                                field="thu_tuc_hanh_chinh")
        return ticket.code


def test_operator_takes_a_call_and_forwards_it_and_a_leader_sees_it_masked(page: Page, app: Flask) -> None:
    add_people(app, {"tongdai": ("Đinh Thị Thoại", "ttpvhcc", ["tong_dai_vien"]),
                     "ld_tinh": ("Châu Văn Minh", "so_tc", ["lanh_dao"])},
               {"ttpvhcc": "Trung tâm Phục vụ hành chính công"})
    first = earlier_call(app)
    log_in(page, "tongdai", "Đinh Thị Thoại")
    page.locator("a.nav-hotline").click()  # the operator's first tab is the console
    expect(page.get_by_role("heading", name=re.compile("Tiếp nhận cuộc gọi"))).to_be_visible()
    expect(page.locator(".hotline-tabs .nav-link.active")).to_have_text("Tiếp nhận")
    phone = page.get_by_label("Số điện thoại người gọi")
    expect(phone).to_be_focused()
    expect(page.locator("#caller-history")).to_contain_text("Nhập số điện thoại")

    page.keyboard.type("0913 123 456", delay=20)
    history = page.locator("#caller-history .hotline-earlier")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text(first)
    expect(history.first).to_contain_text("Hỏi lệ phí cấp bản sao giấy khai sinh")
    expect(history.first).to_contain_text("Mới tiếp nhận")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Họ tên người gọi")).to_be_focused()
    page.keyboard.type("Nguyễn Văn An")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Lĩnh vực")).to_be_focused()
    page.get_by_label("Lĩnh vực").select_option("an_toan_thuc_pham")
    page.keyboard.press("Tab")
    page.keyboard.type("Phản ánh nhiều người bị ngộ độc sau tiệc cưới ở xã Mỹ Trà, cần hỗ trợ khẩn.")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # the call is recorded
    expect(page.get_by_label("Cuộc gọi có ghi âm")).to_be_checked()
    page.screenshot(path=str(artifact_path("hotline-console-01-typing.png")), full_page=True)
    page.keyboard.press("Control+Enter")

    flash = page.get_by_role("alert").filter(has_text="Đã tạo phiếu")
    expect(flash).to_have_text(re.compile(r"Đã tạo phiếu 1022-\d{4}-000002"))
    code = re.search(r"1022-\d{4}-\d{6}", flash.inner_text()).group(0)  # type: ignore[union-attr]
    expect(phone).to_be_focused()
    expect(phone).to_have_value("")  # an empty console for the next call
    expect(page.get_by_role("link", name="Phân loại phiếu")).to_be_visible()
    page.screenshot(path=str(artifact_path("hotline-console-02-created.png")), full_page=True)

    page.get_by_role("link", name=f"Mở phiếu {code}").click()
    expect(page.get_by_role("heading", name=f"Phiếu {code}")).to_be_visible()
    expect(page.locator(".hotline-phone")).to_have_text("091****456")
    expect(page.locator(".hotline-recording")).to_contain_text("Cuộc gọi có ghi âm; chưa tải tệp lên.")
    page.get_by_role("button", name="Xem đầy đủ thông tin liên hệ").click()
    expect(page.locator(".hotline-phone")).to_have_text("0913123456")
    expect(page.locator(".hotline-full-note")).to_be_visible()

    forward = page.locator(".hotline-forward")
    forward.get_by_label("Cơ quan nhận").select_option(label="Sở Y tế")
    forward.get_by_label("Số điện thoại chuyển đến").fill("12")
    forward.get_by_role("button", name="Ghi nhận chuyển cuộc gọi").click()
    expect(page.locator(".hotline-forward-error")).to_contain_text("số máy lẻ 3–6 chữ số")
    forward.get_by_label("Số điện thoại chuyển đến").fill("0277 3851 234")
    forward.get_by_label("Cuộc gọi chuyển có ghi âm").check()
    forward.get_by_label("Ghi chú").fill("Đã nối máy cho trực ban Sở Y tế.")
    forward.get_by_role("button", name="Ghi nhận chuyển cuộc gọi").click()
    expect(page.get_by_role("alert").filter(has_text="Đã ghi nhận chuyển cuộc gọi khẩn.")).to_be_visible()
    row = page.locator(".hotline-log .hotline-event-chuyen_cuoc_goi")
    expect(row).to_contain_text("Chuyển cuộc gọi khẩn đến Sở Y tế (số 02773851234), có ghi âm.")
    expect(row).to_contain_text("Đã nối máy cho trực ban Sở Y tế.")
    expect(row).to_contain_text("Đinh Thị Thoại")
    expect(page.locator(".hotline-phone")).to_have_text("091****456")  # masked again after the page reloads
    page.screenshot(path=str(artifact_path("hotline-console-03-ticket.png")), full_page=True)
    ticket_url = page.url.split("#")[0]
    log_out(page)

    log_in(page, "ld_tinh", "Châu Văn Minh")
    page.goto(ticket_url)
    expect(page.get_by_role("heading", name=f"Phiếu {code}")).to_be_visible()
    expect(page.locator(".hotline-phone")).to_have_text("091****456")
    expect(page.locator(".hotline-caller")).to_have_text("Nguyễn V. A.")
    expect(page.get_by_role("button", name="Xem đầy đủ thông tin liên hệ")).to_have_count(0)
    expect(page.locator(".hotline-forward")).to_have_count(0)
    expect(page.locator(".hotline-log")).to_contain_text("Chuyển cuộc gọi khẩn đến Sở Y tế")
    expect(page.locator("body")).not_to_contain_text("0913123456")
    page.screenshot(path=str(artifact_path("hotline-console-04-leader.png")), full_page=True)
