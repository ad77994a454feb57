"""The sign-in page and the API's token call refuse an account after repeated wrong passwords (429, in
Vietnamese), even with the right password, until the period ends."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from engine.persistence.models import AuditEvent
from tests.web.conftest import PASSWORD, Browser
from webapp.extensions import db

LOCKED = "Đăng nhập sai quá nhiều lần: tài khoản tạm khóa"


def test_the_page_locks_the_account_after_five_wrong_passwords(app: Flask, browser: Browser) -> None:
    for _ in range(5):
        assert browser.login("cv_stc", "sai-mat-khau").status_code == 401
    refused = browser.login("cv_stc", PASSWORD)
    assert refused.status_code == 429 and LOCKED in refused.get_data(as_text=True)
    assert browser.client.get("/").status_code == 302  # still signed out
    assert browser.login("cv_syt", PASSWORD).status_code == 302  # another account signs in
    token = app.test_client().post("/api/v1/auth/token", json={"username": "cv_stc", "password": PASSWORD})
    assert token.status_code == 429 and token.get_json()["error"]["code"] == "rate_limited"
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("auth.%"))))
    assert actions.count("auth.sign_in_failed") == 5 and actions.count("auth.sign_in_locked") == 2
    assert "auth.sign_in" in actions
