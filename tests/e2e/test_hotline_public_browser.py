"""Hotline 1022 public pages in Chromium: a citizen sends a question without logging in and gets the ticket's
code; the centre and the agency answer it (through the use cases, on the app's moved clock) and publish the
answer; the citizen looks the ticket up with the code and phone number; a wrong number finds nothing."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.domain.enums import TaskStatus
from engine.persistence.models import HotlineTicket, HumanTask, User
from engine.persistence.uow import UnitOfWork
from engine.services import hotline_public, instances
from tests.e2e.conftest import artifact_path
from tests.web.conftest import add_people
from tests.web.test_sla_pages import as_user, use_clock
from webapp.platform import services

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
CONTENT = ("Trạm y tế xã Mỹ Hiệp đóng cửa vào buổi chiều thứ Sáu, người dân không tiêm chủng được cho trẻ. "
           "Đề nghị kiểm tra và bố trí trực đủ giờ hành chính.")
ANSWER = "Sở Y tế đã chỉ đạo Trạm y tế xã Mỹ Hiệp trực đủ giờ hành chính, kể cả chiều thứ Sáu, từ ngày 30/11/2026."


def work_on(app: Flask, username: str, code: str, element_id: str, data: dict[str, Any]) -> None:
    """`username` completes the ticket's ready task `element_id` with `data`, as the task page would."""
    def run(work: UnitOfWork, actor: User) -> None:
        ticket = work.session.scalar(select(HotlineTicket).where(HotlineTicket.code == code))
        assert ticket is not None
        task_id = work.session.scalar(select(HumanTask.id).where(
            HumanTask.instance_id == ticket.instance_id, HumanTask.element_id == element_id,
            HumanTask.status == TaskStatus.READY))
        assert task_id is not None, element_id
        instances.complete_task(work, services(), actor, task_id, data)
    as_user(app, username, run)


def solve(page: Page) -> str:
    words = page.locator(".ph-question").inner_text().lower().split()
    return str(hotline_public.DIGITS.index(words[0]) + hotline_public.DIGITS.index(words[2]))


def test_a_citizen_sends_a_question_and_looks_up_the_published_answer(page: Page, app: Flask) -> None:
    add_people(app, {"tongdai": ("Đinh Thị Thoại", "ttpvhcc", ["tong_dai_vien"])},
               {"ttpvhcc": "Trung tâm Phục vụ hành chính công"})
    clock = use_clock(app, NOW)

    page.goto("/cong-khai/hoi-dap")
    page.locator(".public-hotline-nav").get_by_role("link", name="Gửi câu hỏi, phản ánh, kiến nghị").click()
    expect(page.get_by_role("heading", name="Gửi câu hỏi, phản ánh, kiến nghị đến Tổng đài 1022")).to_be_visible()
    expect(page.locator(".user-badge")).to_have_count(0)
    page.get_by_label("Họ và tên").fill("Nguyễn Thị Thu")
    page.get_by_label("Số điện thoại").fill("0918 456 789")
    page.get_by_label("Lĩnh vực").select_option("y_te")
    page.get_by_label("Nội dung câu hỏi, phản ánh, kiến nghị").fill(CONTENT)
    expect(page.locator("#ph-content-count")).to_have_text(f"{len(CONTENT)} / 5.000")
    right = solve(page)
    page.get_by_label("Câu hỏi kiểm tra").fill(str(int(right) + 1))
    clock.advance(seconds=40)  # the citizen took her time (the form refuses what is sent within 3 seconds)
    page.get_by_role("button", name="Gửi", exact=True).click()
    expect(page.locator(".public-hotline-error")).to_have_text(
        "Kết quả phép tính kiểm tra chưa đúng. Vui lòng tính lại và nhập kết quả bằng chữ số.")
    expect(page.get_by_label("Nội dung câu hỏi, phản ánh, kiến nghị")).to_have_value(CONTENT)  # kept
    page.screenshot(path=str(artifact_path("hotline-public-01-form-refused.png")), full_page=True)
    page.get_by_label("Câu hỏi kiểm tra").fill(solve(page))
    page.get_by_role("button", name="Gửi", exact=True).click()

    expect(page.get_by_role("heading", name="Đã gửi câu hỏi, phản ánh, kiến nghị")).to_be_visible()
    code = page.locator(".ph-code").inner_text().strip()
    assert code == "1022-2026-000001"
    expect(page.locator(".ph-acknowledgement")).to_contain_text(
        "Tổng đài Thông tin dịch vụ công tỉnh Đồng Tháp đã nhận được thông tin góp ý, phản ánh của Quý khách, "
        f"xin cảm ơn. Mã phiếu của Quý khách: {code}.")
    page.screenshot(path=str(artifact_path("hotline-public-02-sent.png")), full_page=True)

    # The centre routes the ticket to Sở Y tế, whose focal point answers; the operator replies and publishes.
    work_on(app, "tongdai", code, "Task_PhanLoai", {"linh_vuc": "y_te", "cap_do": "thuong", "dia_ban": "tinh",
                                                    "huong_xu_ly": "chuyen_co_quan"})
    clock.advance(days=1)
    work_on(app, "cv_syt", code, "Task_CoQuanTraLoi", {"tra_loi": ANSWER, "nguoi_tra_loi": "Huỳnh Thị Lan"})
    work_on(app, "tongdai", code, "Task_PhanHoiCongDan", {
        "tra_loi": ANSWER, "cach_phan_hoi": "Gọi lại số 0918456789", "cong_khai": True})

    page.get_by_role("link", name="Tra cứu phiếu").last.click()
    expect(page.get_by_label("Mã phiếu")).to_have_value(code)
    page.get_by_label("Số điện thoại").fill("+84 918 456 789")
    page.get_by_role("button", name="Tra cứu", exact=True).click()
    result = page.locator(".public-lookup-result")
    expect(result).to_contain_text(f"Phiếu {code}")
    expect(result.locator(".pl-received")).to_have_text("26/11/2026")
    expect(result.locator(".pl-channel")).to_have_text("Cổng thông tin")
    expect(result.locator(".pl-field")).to_have_text("Y tế")
    expect(result.locator(".pl-state")).to_have_text("Đã trả lời")
    expect(result.locator(".pl-answered")).to_have_text("27/11/2026")
    expect(result.locator(".pl-answer")).to_have_text(ANSWER)
    expect(page.locator("body")).not_to_contain_text("Mỹ Hiệp đóng cửa")  # the question is not shown
    expect(page.locator("body")).not_to_contain_text("Huỳnh Thị Lan")
    expect(page.locator("body")).not_to_contain_text("Nguyễn Thị Thu")
    page.screenshot(path=str(artifact_path("hotline-public-03-lookup.png")), full_page=True)

    page.get_by_label("Số điện thoại").fill("0918 456 780")
    page.get_by_role("button", name="Tra cứu", exact=True).click()
    expect(page.locator(".public-lookup-error")).to_have_text("Không tìm thấy phiếu với mã và số điện thoại này.")
    expect(page.locator(".public-lookup-result")).to_have_count(0)
    page.screenshot(path=str(artifact_path("hotline-public-04-not-found.png")), full_page=True)
