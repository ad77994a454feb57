"""One-time password link pages, the "Thông báo" inbox and the instance's link card, over the test client;
and the API, the pages and the request log never showing a password or a token."""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from engine.adapters.notifications import LocalNotifier
from engine.persistence.models import CredentialLink, MailAccount, Notification, User
from engine.services import identity
from tests.web.conftest import PROCESS_DATA, REQUEST_DATA, Browser
from tests.web.test_api import ApiUser
from tests.web.test_pages import ready_task_id, start_request, submit
from webapp.extensions import db

TOKEN = re.compile(r"/credentials/([A-Za-z0-9_-]{43})")


@dataclass
class Provisioned:
    instance_id: int
    tokens: dict[str, str]  # account → token, read from the requester's notifications


@pytest.fixture
def provisioned(app: Flask, browser: Browser, run_worker: Any) -> Provisioned:
    """email_account carried out by the worker for cv_stc (no e-mail address): two links in their inbox."""
    browser.login("cv_stc")
    task_id = start_request(browser)
    response = submit(browser, task_id, REQUEST_DATA)
    assert response.status_code == 302
    instance_id = int(response.headers["Location"].rsplit("/", 1)[1])
    expert = Browser(app.test_client())
    expert.login("cv_sttt")
    assert submit(expert, ready_task_id(app, "Xử lý nội dung đăng ký"), PROCESS_DATA).status_code == 302
    assert run_worker() == 2
    with app.app_context():
        notes = db.session.scalars(select(Notification).order_by(Notification.id)).all()
        tokens = {}
        for note in notes:
            assert note.recipient == "user:cv_stc" and note.channel == "local"
            account = re.search(r"tài khoản (\S+@\S+) ", note.subject)
            found = TOKEN.search(note.body)
            assert account and found
            tokens[account.group(1)] = found.group(1)
    assert sorted(tokens) == ["annv@dongthap.gov.vn", "hoapt@dongthap.gov.vn"]
    return Provisioned(instance_id, tokens)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def opened(app: Flask, account: str) -> Any:
    with app.app_context():
        return db.session.scalar(select(CredentialLink.opened_at).where(CredentialLink.account == account))


def verifies(app: Flask, account: str, password: str) -> bool:
    with app.app_context():
        mailbox = db.session.scalar(select(MailAccount).where(MailAccount.address == account))
        return mailbox is not None and identity.verify_password(mailbox.password_hash or "", password)


def shown_password(html: str) -> str:
    found = re.search(r'id="credential-password"[^>]*value="([^"]+)"', html, re.S)
    assert found, html
    return found.group(1)


# ---------------------------------------------------------------- the link's pages


def test_get_shows_the_account_without_consuming_and_post_reveals_once(app: Flask, provisioned: Provisioned) -> None:
    token = provisioned.tokens["annv@dongthap.gov.vn"]
    visitor = app.test_client()  # no sign-in: the person may have no platform account
    for _prefetch in range(2):  # a mail scanner, then the person
        page = visitor.get(f"/credentials/{token}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert "annv@dongthap.gov.vn" in html and "Hiện mật khẩu" in html and "credential-password" not in html
    assert opened(app, "annv@dongthap.gov.vn") is None

    revealed = visitor.post(f"/credentials/{token}", data={"csrf_token": csrf_of(html)})
    assert revealed.status_code == 200 and revealed.headers["Cache-Control"] == "no-store"
    password = shown_password(revealed.get_data(as_text=True))
    assert verifies(app, "annv@dongthap.gov.vn", password)
    assert opened(app, "annv@dongthap.gov.vn") is not None
    assert opened(app, "hoapt@dongthap.gov.vn") is None  # the other row's link is untouched

    again = visitor.post(f"/credentials/{token}", data={"csrf_token": csrf_of(html)})
    assert again.status_code == 410
    assert "đã được sử dụng" in again.get_data(as_text=True) and password not in again.get_data(as_text=True)
    later = visitor.get(f"/credentials/{token}")
    assert later.status_code == 410 and "Liên kết đã được sử dụng" in later.get_data(as_text=True)


def test_a_post_without_csrf_is_refused_and_keeps_the_link(app: Flask, provisioned: Provisioned) -> None:
    token = provisioned.tokens["hoapt@dongthap.gov.vn"]
    visitor = app.test_client()
    refused = visitor.post(f"/credentials/{token}")
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    assert "credential-password" not in refused.get_data(as_text=True)
    assert opened(app, "hoapt@dongthap.gov.vn") is None
    page = visitor.get(f"/credentials/{token}").get_data(as_text=True)
    assert visitor.post(f"/credentials/{token}", data={"csrf_token": csrf_of(page)}).status_code == 200


def test_unknown_malformed_and_expired_links_get_a_vietnamese_page(app: Flask, provisioned: Provisioned) -> None:
    visitor = app.test_client()
    for path in ("/credentials/" + "A" * 43, "/credentials/ngan", "/credentials/" + "%3Cscript%3E" * 4):
        page = visitor.get(path)
        assert page.status_code == 404 and "Không tìm thấy liên kết" in page.get_data(as_text=True)
    with app.app_context():
        db.session.execute(update(CredentialLink).where(CredentialLink.account == "hoapt@dongthap.gov.vn")
                           .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        db.session.commit()
    token = provisioned.tokens["hoapt@dongthap.gov.vn"]
    expired = visitor.get(f"/credentials/{token}")
    assert expired.status_code == 410 and "Liên kết đã hết hạn" in expired.get_data(as_text=True)
    with app.app_context():  # met expired: the sealed password is gone
        assert db.session.scalar(select(CredentialLink.sealed).where(
            CredentialLink.account == "hoapt@dongthap.gov.vn")) is None


# ---------------------------------------------------------------- the inbox and the instance card


def test_the_inbox_lists_the_users_own_notifications_with_an_unread_count(
        app: Flask, browser: Browser, provisioned: Provisioned) -> None:
    inbox = browser.client.get("/notifications").get_data(as_text=True)
    assert 'class="badge rounded-pill nav-unread"' in inbox and ">2</span>" in inbox
    assert inbox.count("notification-subject") == 2 and "annv@dongthap.gov.vn" in inbox
    with app.app_context():
        first = db.session.scalars(select(Notification.id).order_by(Notification.id)).first()
    note = browser.client.get(f"/notifications/{first}")
    html = note.get_data(as_text=True)
    assert note.status_code == 200 and note.headers["Cache-Control"] == "no-store"
    token = provisioned.tokens["annv@dongthap.gov.vn"]
    assert f'href="/credentials/{token}"' in html and "Mở liên kết nhận mật khẩu" in html
    assert ">1</span>" in browser.client.get("/notifications").get_data(as_text=True)

    other = Browser(app.test_client())
    other.login("cv_sttt")
    assert "notification-subject" not in other.client.get("/notifications").get_data(as_text=True)
    assert other.client.get(f"/notifications/{first}").status_code == 404

    # addressed by e-mail: whoever has that address in the platform reads it
    with app.app_context():
        db.session.execute(update(User).where(User.username == "cv_sttt").values(email="cuong.sttt@dongthap.gov.vn"))
        db.session.commit()
        LocalNotifier(db.session.session_factory, app.extensions["platform"].now).send(
            "test:1", "Cuong.STTT@dongthap.gov.vn", "Thông báo thử", "Nội dung")
    listed = other.client.get("/notifications").get_data(as_text=True)
    assert "Thông báo thử" in listed and ">1</span>" in listed
    assert browser.post("/notifications/read", page="/notifications").status_code == 302
    assert "nav-unread" not in browser.client.get("/notifications").get_data(as_text=True)


def test_the_instance_page_lists_the_links_without_secrets(app: Flask, browser: Browser,
                                                          provisioned: Provisioned) -> None:
    url = f"/instances/{provisioned.instance_id}"
    html = browser.client.get(url).get_data(as_text=True)
    card = html[html.index('id="credential-links"'):]
    assert "Liên kết nhận mật khẩu" in card and "annv@dongthap.gov.vn" in card
    assert "mục Thông báo của Trần Thị Bình trên hệ thống" in card and card.count("Chưa mở") == 2
    assert "mật khẩu gửi qua liên kết dùng một lần tới mục Thông báo của Trần Thị Bình" in html
    visitor = app.test_client()
    token = provisioned.tokens["annv@dongthap.gov.vn"]
    page = visitor.get(f"/credentials/{token}").get_data(as_text=True)
    password = shown_password(visitor.post(f"/credentials/{token}", data={"csrf_token": csrf_of(page)})
                              .get_data(as_text=True))
    html = browser.client.get(url).get_data(as_text=True)
    assert "Đã mở lúc" in html and "Mở liên kết mật khẩu" in html  # the state, and the history line
    for secret in (*provisioned.tokens.values(), password):
        assert secret not in html


def test_the_api_never_returns_a_password_or_a_token(app: Flask, client: FlaskClient,
                                                     provisioned: Provisioned) -> None:
    visitor = app.test_client()
    passwords = []
    for token in provisioned.tokens.values():
        page = visitor.get(f"/credentials/{token}").get_data(as_text=True)
        passwords.append(shown_password(visitor.post(f"/credentials/{token}", data={"csrf_token": csrf_of(page)})
                                        .get_data(as_text=True)))
    api = ApiUser(client, "cv_sttt")
    instance = api.get(f"/process-instances/{provisioned.instance_id}")
    reply_task = api.get(f"/tasks/{api.task_at(provisioned.instance_id, 'Task_PhucDap')}")
    assert instance.status_code == 200 and reply_task.status_code == 200
    for body in (instance.get_data(as_text=True), reply_task.get_data(as_text=True)):
        assert "annv@dongthap.gov.vn" in body  # the rows are there …
        for secret in (*provisioned.tokens.values(), *passwords):
            assert secret not in body  # … their secrets are not
        assert not re.search(r'"[^"]*(mat_khau|password|token)[^"]*"\s*:\s*"', json.dumps(json.loads(body)))


def test_request_log_lines_hide_the_token(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    token = "Q" * 43
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        # what werkzeug's request handler logs for each request
        logging.getLogger("werkzeug").info('%s - - [%s] "%s" %s %s', "127.0.0.1", "01/Dec/2026 09:00:00",
                                           f"POST /credentials/{token} HTTP/1.1", "200", "-")
    assert '"POST /credentials/*** HTTP/1.1" 200' in caplog.text and token not in caplog.text
