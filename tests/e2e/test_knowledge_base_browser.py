"""Hotline 1022 knowledge base in Chromium: an operator writes and publishes an article, finds it typing without
diacritics, opens the answer from the keyboard; the public page shows it without login."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in, log_out
from tests.web.conftest import add_people

pytestmark = pytest.mark.e2e

QUESTION = "Thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ cần những giấy tờ gì?"
ANSWER = ("Nộp tại Bộ phận Một cửa UBND cấp huyện hoặc trên Cổng dịch vụ công: đơn đề nghị cấp giấy phép, bản sao "
          "giấy chứng nhận quyền sử dụng đất, hai bộ bản vẽ thiết kế.\nThời hạn giải quyết: 15 ngày.")


def open_knowledge_base(page: Page) -> None:
    page.locator("a.nav-hotline").click()
    page.locator(".hotline-tabs").get_by_role("link", name="Hỏi đáp").click()


def test_operator_publishes_and_finds_an_article_and_the_public_sees_it(page: Page, app: Flask) -> None:
    add_people(app, {"tongdai": ("Nguyễn Thị Tổng Đài", "ttpvhcc", ["tong_dai_vien"])},
               {"ttpvhcc": "Trung tâm Phục vụ hành chính công"})
    log_in(page, "tongdai", "Nguyễn Thị Tổng Đài")
    open_knowledge_base(page)
    expect(page.get_by_role("heading", name=re.compile("Cơ sở dữ liệu hỏi đáp"))).to_be_visible()
    expect(page.get_by_label("Tìm câu hỏi, câu trả lời")).to_be_focused()

    page.get_by_role("link", name="Thêm câu hỏi – trả lời").click()
    page.get_by_role("button", name="Lưu và công bố").click()  # nothing filled in: refused, explained
    expect(page.locator(".invalid-feedback").filter(has_text="Nhập câu hỏi.")).to_be_visible()
    expect(page.locator(".invalid-feedback").filter(has_text="Chọn lĩnh vực trong danh mục.")).to_be_visible()
    page.get_by_label("Lĩnh vực").select_option("thu_tuc_hanh_chinh")
    page.get_by_label("Câu hỏi").fill(QUESTION)
    page.get_by_label("Câu trả lời").fill(ANSWER)
    page.get_by_label("Từ khóa").fill("giấy phép xây dựng, cấp phép nhà ở")
    page.screenshot(path=str(artifact_path("kb-01-editor.png")), full_page=True)
    page.get_by_role("button", name="Lưu và công bố").click()
    expect(page.get_by_role("alert").filter(has_text="Đã công bố câu hỏi – trả lời.")).to_be_visible()
    expect(page.locator(".kb-state")).to_have_text("Đã công bố")

    open_knowledge_base(page)
    box = page.get_by_label("Tìm câu hỏi, câu trả lời")
    expect(box).to_be_focused()
    box.press_sequentially("thu tuc cap giay phep", delay=20)  # results follow the typing, no Enter
    expect(page).to_have_url(re.compile(r"q=thu\+tuc\+cap\+giay\+phep"))
    results = page.locator("#kb-results .kb-article")
    expect(results).to_have_count(1)
    expect(results.first.locator(".kb-question")).to_contain_text(QUESTION)
    expect(results.first.locator(".kb-answer")).not_to_be_visible()
    box.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(results.first.locator(".kb-answer")).to_contain_text("Thời hạn giải quyết: 15 ngày.")
    page.screenshot(path=str(artifact_path("kb-02-operator-search.png")), full_page=True)
    page.get_by_label("Lĩnh vực").select_option("y_te")
    expect(page.locator("#kb-results .kb-empty")).to_have_text("Không tìm thấy câu hỏi nào phù hợp.")
    log_out(page)

    page.goto("/cong-khai/hoi-dap")
    expect(page.get_by_role("heading", name="Hỏi đáp dịch vụ công")).to_be_visible()
    expect(page.locator(".user-badge")).to_have_count(0)
    page.get_by_label("Tìm câu hỏi, câu trả lời").press_sequentially("giấy phép xây dựng", delay=20)
    public = page.locator("#kb-results .kb-article")
    expect(public).to_have_count(1)
    public.first.locator("summary").click()
    expect(public.first.locator(".kb-answer")).to_contain_text("hai bộ bản vẽ thiết kế")
    expect(page.locator("body")).not_to_contain_text("Nguyễn Thị Tổng Đài")
    expect(page.locator(".kb-edit-link")).to_have_count(0)
    page.screenshot(path=str(artifact_path("kb-03-public.png")), full_page=True)
