"""Issued documents on the instance page and templates on the admin page, clicked through in Chromium."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in
from tests.web.test_documents_pages import TEMPLATE_NAME, seed_documents

pytestmark = pytest.mark.e2e


def test_requester_downloads_an_issued_document(page: Page, app: Flask, tmp_path: Path) -> None:
    issued = seed_documents(app)
    log_in(page, "cv_stc", "Trần Thị Bình")
    page.get_by_role("link", name="Hồ sơ", exact=True).click()
    page.get_by_role("link", name=f"#{issued.instance_id}", exact=True).click()

    card = page.locator("#issued-documents")
    expect(card.get_by_role("heading", name="Văn bản đã phát hành")).to_be_visible()
    rows = card.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("12/TB-TTCĐS")
    expect(rows.nth(0)).to_contain_text("27/11/2026")
    expect(rows.nth(0).get_by_role("link", name="Tải PDF")).to_be_visible()
    expect(rows.nth(1)).to_contain_text("125/STTTT-CĐS")
    expect(rows.nth(1).get_by_role("link", name="Tải PDF")).to_have_count(0)
    expect(rows.nth(1)).to_contain_text("Chưa có bản PDF (máy chủ chưa cài LibreOffice)")
    expect(page.locator("table.history")).to_contain_text("Phát hành văn bản")
    page.screenshot(path=str(artifact_path("documents-instance.png")), full_page=True)

    with page.expect_download() as info:
        rows.nth(0).get_by_role("link", name="Tải DOCX").click()
    download = info.value
    assert download.suggested_filename == "Thông báo 12-TB-TTCĐS.docx"
    saved = tmp_path / "thong_bao.docx"
    download.save_as(saved)
    assert saved.read_bytes() == issued.notice_docx

    with page.expect_download() as info:
        rows.nth(0).get_by_role("link", name="Tải PDF").click()
    assert info.value.suggested_filename == "Thông báo 12-TB-TTCĐS.pdf"


def test_admin_sees_and_downloads_templates(page: Page, app: Flask, tmp_path: Path) -> None:
    issued = seed_documents(app)
    log_in(page, "qt", "Đặng Thanh Tâm")
    page.get_by_role("link", name="Quản trị quy trình").click()
    expect(page.get_by_text("Mẫu văn bản .docx soạn bằng Word")).to_be_visible()
    expect(page.locator("#publish-files")).to_have_attribute("accept", ".bpmn,.dmn,.form,.docx")
    row = page.locator("table.versions tbody tr").filter(has=page.locator("code", has_text="email_account"))
    cell = row.locator("td.version-templates")
    expect(cell).to_contain_text(TEMPLATE_NAME)
    expect(cell).to_contain_text(hashlib.sha256(issued.template).hexdigest()[:12])
    page.screenshot(path=str(artifact_path("documents-admin-templates.png")), full_page=True)

    with page.expect_download() as info:
        cell.get_by_role("link", name=TEMPLATE_NAME).click()
    saved = tmp_path / TEMPLATE_NAME
    info.value.save_as(saved)
    assert saved.read_bytes() == issued.template
