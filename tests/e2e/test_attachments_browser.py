"""Attaching the scanned dossier in Chromium: pick, upload, refuse, remove, submit, list and download."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select

from engine.persistence.models import Attachment
from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in, log_out
from tests.engine import attachment_files as samples
from webapp import platform
from webapp.extensions import db
from webapp.platform import uow

pytestmark = pytest.mark.e2e


@pytest.fixture
def published(app: Flask) -> None:
    with app.app_context(), uow() as work:
        platform.publish(work, samples.procedure(), None)


def pick(page: Page, field_label: str, path: Path) -> None:
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name=f"Chọn tệp: {field_label}").click()
    chooser.value.set_files(str(path))


def start_dossier(page: Page) -> None:
    """The requester starts the test procedure and lands on its first task."""
    log_in(page, "cv_stc", "Trần Thị Bình")
    page.get_by_role("link", name="Khởi tạo hồ sơ").click()
    page.locator(".procedure-card", has_text="Hồ sơ có tệp đính kèm (thử)").get_by_role(
        "button", name="Tạo hồ sơ mới").click()
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))


def test_scanned_dossier_is_uploaded_submitted_listed_and_downloaded(
        page: Page, app: Flask, published: None, tmp_path: Path) -> None:
    scan = tmp_path / "Hồ sơ quét.pdf"
    scan.write_bytes(samples.pdf("Ho so quet cua So Tai chinh"))
    spare = tmp_path / "anh-chup.png"
    spare.write_bytes(samples.png())
    fake = tmp_path / "gia-mao.pdf"
    fake.write_bytes(samples.png())

    start_dossier(page)
    form = page.locator("#form-root")
    field = form.locator(".fjs-form-field-filepicker").first
    expect(field).to_contain_text("Chưa có tệp nào.")
    expect(field).to_contain_text("Nhận tệp PDF, JPEG, PNG; tối đa 10 MB mỗi tệp.")

    # A required file field left empty: form-js stops the submission, in Vietnamese.
    page.get_by_role("button", name="Hoàn thành").click()
    expect(field.locator(".fjs-form-field-error")).to_have_text("Trường này là bắt buộc.")

    # A PNG named .pdf is refused by the server, next to the field; nothing is added.
    pick(page, "Hồ sơ quét", fake)
    expect(field.locator(".fjs-form-field-error")).to_contain_text(
        "Không tải lên được “gia-mao.pdf”: Tên tệp “gia-mao.pdf” không khớp nội dung: đây là tệp PNG")
    expect(field.locator(".fjs-attachment")).to_have_count(0)

    pick(page, "Hồ sơ quét", scan)
    expect(field.get_by_role("link", name="Hồ sơ quét.pdf")).to_be_visible()
    expect(field.locator(".fjs-form-field-error")).to_have_count(0)
    pick(page, "Hồ sơ quét", spare)
    expect(field.locator(".fjs-attachment")).to_have_count(2)
    form.get_by_label("Tiêu đề").fill("Hồ sơ đề nghị cấp tài khoản")
    page.screenshot(path=str(artifact_path("40-attachments-task.png")), full_page=True)

    with page.expect_response(lambda r: r.request.method == "DELETE") as deleted:
        field.get_by_role("button", name="Xóa tệp anh-chup.png").click()
    assert deleted.value.status == 204
    expect(field.locator(".fjs-attachment")).to_have_count(1)
    with app.app_context():  # the remove button deleted the upload on the server too
        assert [a.file_name for a in db.session.scalars(select(Attachment))] == ["Hồ sơ quét.pdf"]

    page.get_by_role("button", name="Hoàn thành").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    card = page.locator("#dossier-attachments")
    expect(card.get_by_role("heading", name="Hồ sơ đính kèm")).to_be_visible()
    expect(card.locator(".attachment-row")).to_have_count(1)
    expect(card.locator(".attachment-row")).to_contain_text("Nộp hồ sơ")
    expect(card.locator(".attachment-row")).to_contain_text("Trần Thị Bình")
    with page.expect_download() as download:
        card.get_by_role("link", name="Hồ sơ quét.pdf").click()
    assert download.value.suggested_filename == "Hồ sơ quét.pdf"
    assert Path(download.value.path()).read_bytes() == scan.read_bytes()
    page.screenshot(path=str(artifact_path("41-attachments-instance.png")), full_page=True)
    with app.app_context():
        assert [a.file_name for a in db.session.scalars(select(Attachment))] == ["Hồ sơ quét.pdf"]

    # The next step (the centre) sees the dossier read-only, as links; in English too.
    log_out(page)
    log_in(page, "cv_sttt", "Lê Văn Cường")
    page.get_by_role("link", name="Xem xét hồ sơ").first.click()
    review = page.locator("#form-root")
    dossier = review.locator(".fjs-form-field-filepicker").first
    expect(dossier.get_by_role("link", name="Hồ sơ quét.pdf")).to_be_visible()
    expect(dossier.get_by_role("button")).to_have_count(0)
    page.goto(page.url + "?lang=en")
    expect(page.get_by_role("button", name="Choose a file: Bảng kê")).to_have_text("Choose a file…")
    expect(page.locator("#form-root")).to_contain_text("Accepts Excel (.xlsx) files; at most 10 MB each.")
    page.screenshot(path=str(artifact_path("42-attachments-review-en.png")), full_page=True)


def test_complete_waits_while_a_file_is_uploading(page: Page, app: Flask, published: None, tmp_path: Path) -> None:
    scan = tmp_path / "Hồ sơ quét.pdf"
    scan.write_bytes(samples.pdf())
    held: list[Route] = []
    # Held until the test lets it go (Playwright needs a Python function here, not a bound builtin).
    page.route("**/tasks/*/attachments", lambda route: held.append(route))  # noqa: PLW0108
    start_dossier(page)
    pick(page, "Hồ sơ quét", scan)
    expect(page.get_by_role("progressbar", name="Đang tải lên “Hồ sơ quét.pdf”")).to_be_visible()
    expect(page.get_by_role("button", name="Hoàn thành")).to_be_disabled()
    page.screenshot(path=str(artifact_path("43-attachments-uploading.png")), full_page=True)
    held[0].continue_()
    expect(page.get_by_role("link", name="Hồ sơ quét.pdf")).to_be_visible()
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(page.get_by_role("button", name="Hoàn thành")).to_be_enabled()
