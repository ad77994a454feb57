"""The requester receives the new mailboxes' passwords by one-time links, in Chromium: the inbox
"Thông báo", the link's page, "Hiện mật khẩu", copying it, and the link refusing a second look."""
from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from engine.persistence.models import MailAccount
from engine.services import identity
from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in
from tests.web.conftest import browser, client  # noqa: F401 - fixtures the provisioning uses
from tests.web.test_credentials_pages import Provisioned, provisioned  # noqa: F401 - the fixture
from webapp.extensions import db

pytestmark = pytest.mark.e2e


def test_the_requester_opens_a_password_link_once(page: Page, app: Flask, provisioned: Provisioned,  # noqa: F811
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, "cv_stc", "Trần Thị Bình")
    inbox_link = page.locator(".nav-notifications")
    expect(inbox_link).to_contain_text("Thông báo")
    expect(inbox_link.locator(".nav-unread")).to_have_text("2")

    inbox_link.click()
    expect(page.get_by_role("heading", name="Thông báo")).to_be_visible()
    rows = page.locator(".notification-list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Chưa đọc")).to_have_count(2)
    page.screenshot(path=artifact_path("credentials-01-inbox.png"), full_page=True)

    page.get_by_role("link", name=re.compile(r"Mật khẩu tài khoản annv@dongthap\.gov\.vn")).click()
    expect(page.locator(".notification-body")).to_contain_text("chỉ mở được MỘT LẦN")
    expect(page.locator(".nav-unread")).to_have_text("1")
    page.screenshot(path=artifact_path("credentials-02-notification.png"), full_page=True)

    page.get_by_role("link", name="Mở liên kết nhận mật khẩu").click()
    expect(page.get_by_role("heading", name="Nhận mật khẩu tài khoản")).to_be_visible()
    expect(page.locator(".credential-account")).to_have_text("annv@dongthap.gov.vn")
    link_url = page.url
    page.screenshot(path=artifact_path("credentials-03-link.png"), full_page=True)

    page.get_by_role("button", name="Hiện mật khẩu").click()
    expect(page.get_by_role("heading", name="Mật khẩu tài khoản")).to_be_visible()
    field = page.get_by_label("Mật khẩu", exact=True)
    password = field.input_value()
    assert len(password) >= 12
    with app.app_context():
        mailbox = db.session.query(MailAccount).filter_by(address="annv@dongthap.gov.vn").one()
        assert identity.verify_password(mailbox.password_hash or "", password)
    page.get_by_role("button", name="Sao chép").click()
    expect(page.get_by_role("button", name="Đã sao chép")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == password
    page.screenshot(path=artifact_path("credentials-04-revealed.png"), full_page=True)

    page.reload()
    expect(page.get_by_role("heading", name="Liên kết đã được sử dụng")).to_be_visible()
    expect(page.locator(".error-message")).to_contain_text("đã được sử dụng")
    assert password not in page.content()
    page.screenshot(path=artifact_path("credentials-05-used.png"), full_page=True)
    page.goto(link_url)  # opening the link from the message again
    expect(page.get_by_role("heading", name="Liên kết đã được sử dụng")).to_be_visible()

    page.goto(f"/instances/{provisioned.instance_id}")
    card = page.locator("#credential-links")
    expect(card.locator("tr", has_text="annv@dongthap.gov.vn")).to_contain_text("Đã mở lúc")
    expect(card.locator("tr", has_text="hoapt@dongthap.gov.vn")).to_contain_text("Chưa mở")
    card.scroll_into_view_if_needed()
    page.screenshot(path=artifact_path("credentials-06-instance-card.png"), full_page=True)

    logged = caplog.text
    assert "/credentials/***" in logged  # the server logged the requests …
    assert not [token for token in provisioned.tokens.values() if token in logged]  # … never a token
