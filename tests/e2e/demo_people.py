"""Browser steps as the demo people of engine/services/demo.py (`make run`'s organisation) take them."""
from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect

from engine.services import demo
from tests.e2e.test_email_account_browser import log_in as log_in_with
from webapp.platform import uow


def demo_passwords(app: Flask) -> dict[str, str]:
    """The demo organisation as `make run` creates it: username → password."""
    with app.app_context(), uow() as work:
        return {a.username: a.password for a in demo.load(work) if a.password}


def log_in(page: Page, passwords: dict[str, str], username: str) -> None:
    """As a demo person, with the password demo.load gave them."""
    log_in_with(page, username, next(p[1] for p in demo.PEOPLE if p[0] == username), passwords[username])


def start_demo_dossier(page: Page, passwords: dict[str, str], username: str, procedure: str) -> None:
    """The demo person logs in, starts a dossier of the procedure whose card reads `procedure` and lands on
    its first task."""
    log_in(page, passwords, username)
    page.get_by_role("link", name="Khởi tạo hồ sơ").click()
    page.locator(".procedure-card", has_text=procedure).get_by_role("button", name="Tạo hồ sơ mới").click()
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
