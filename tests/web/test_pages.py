"""Pages through the Flask test client: sign-in, catalogue, tasks, instance, admin publishing."""
from __future__ import annotations

import io
import json
import re
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from engine.persistence.models import AuditEvent, HumanTask, ProcedureVersion, ProcessInstance
from tests.web.conftest import PROCESS_DATA, REPLY_DATA, REQUEST_DATA, Browser
from webapp.extensions import db


def ready_task_id(app: Flask, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(HumanTask.id).where(HumanTask.name == name,
                                                            HumanTask.status == "ready"))


def start_request(browser: Browser) -> int:
    response = browser.post("/procedures/email_account/start", page="/procedures")
    assert response.status_code == 302
    match = re.search(r"/tasks/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def submit(browser: Browser, task_id: int, data: Any) -> Any:
    return browser.post(f"/tasks/{task_id}", {"data": json.dumps(data)}, page=f"/tasks/{task_id}")


def test_login_wrong_password_is_refused_in_vietnamese(browser: Browser) -> None:
    response = browser.login("cv_stc", "sai-mat-khau")
    assert response.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.get_data(as_text=True)
    assert browser.client.get("/").status_code == 302  # still signed out


def test_pages_need_login_and_english_is_available(browser: Browser) -> None:
    assert browser.client.get("/").headers["Location"].startswith("/login")
    browser.login("cv_stc")
    page = browser.client.get("/").get_data(as_text=True)
    assert "Việc cần làm" in page
    english = browser.client.get("/?lang=en").get_data(as_text=True)
    assert "Tasks" in english


def test_post_without_csrf_token_changes_nothing(app: Flask, browser: Browser) -> None:
    browser.login("cv_stc")
    response = browser.client.post("/procedures/email_account/start")
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(ProcessInstance.id))) == 0


def test_request_with_missing_field_shows_errors_and_keeps_state(app: Flask, browser: Browser) -> None:
    browser.login("cv_stc")
    task_id = start_request(browser)
    with app.app_context():
        revision = db.session.scalar(select(ProcessInstance.revision))
    bad = {**REQUEST_DATA, "noi_dung": ""}
    response = submit(browser, task_id, bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Trường này là bắt buộc." in page and "noi_dung" in page
    with app.app_context():
        assert db.session.scalar(select(ProcessInstance.revision)) == revision
        assert db.session.get(HumanTask, task_id).status.value == "ready"


def test_other_units_task_is_forbidden_and_double_completion_conflicts(
        app: Flask, client: Any, browser: Browser) -> None:
    browser.login("cv_stc")
    task_id = start_request(browser)
    assert submit(browser, task_id, REQUEST_DATA).status_code == 302
    # The same request task again: already done.
    assert submit(browser, task_id, REQUEST_DATA).status_code == 409
    expert_task = ready_task_id(app, "Xử lý nội dung đăng ký")
    other = Browser(app.test_client())
    other.login("cv_syt")
    response = other.post(f"/tasks/{expert_task}", {"data": json.dumps(PROCESS_DATA)}, page="/")
    assert response.status_code == 403


def test_full_procedure_through_pages(app: Flask, browser: Browser, run_worker: Any) -> None:
    browser.login("cv_stc")
    task_id = start_request(browser)
    page = browser.client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="form-schema"' in page and "email_account_request" in page
    response = submit(browser, task_id, REQUEST_DATA)
    assert response.status_code == 302
    instance_url = response.headers["Location"]

    expert = Browser(app.test_client())
    expert.login("cv_sttt")
    listing = expert.client.get("/").get_data(as_text=True)
    assert "Xử lý nội dung đăng ký" in listing
    expert_task = ready_task_id(app, "Xử lý nội dung đăng ký")
    assert submit(expert, expert_task, PROCESS_DATA).status_code == 302
    assert run_worker() == 2
    reply_task = ready_task_id(app, "Phúc đáp công văn")
    reply_page = expert.client.get(f"/tasks/{reply_task}").get_data(as_text=True)
    assert "annv@dongthap.gov.vn" in reply_page
    assert submit(expert, reply_task, REPLY_DATA).status_code == 302

    detail = browser.client.get(instance_url).get_data(as_text=True)
    assert "Hoàn thành" in detail and "hoapt@dongthap.gov.vn" in detail
    # history in words: the procedure's name, then each call's step and outcome
    assert "Tạo hồ sơ theo quy trình “Cấp mới, đổi tên" in detail
    assert "Thực hiện trên hệ thống thư điện tử — dòng 2: Đã cấp mới" in detail
    assert 'id="diagram-data"' in detail
    with app.app_context():
        events = db.session.scalars(select(AuditEvent)).all()
        assert {"start", "complete", "service_call"} <= {e.action for e in events}
        assert not any("mat_khau" in json.dumps(e.after or {}) for e in events)


def test_admin_publish_refuses_bad_files_and_stores_nothing(app: Flask, browser: Browser) -> None:
    browser.login("qt")
    with app.app_context():
        published = db.session.scalar(select(func.count(ProcedureVersion.id)))  # the bundled procedures
    evil = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><definitions>&b;</definitions>')
    for name, content in (("broken.bpmn", b"<definitions"), ("evil.bpmn", evil)):
        token = browser.csrf("/admin/procedures")
        response = browser.client.post("/admin/procedures", data={
            "csrf_token": token, "files": (io.BytesIO(content), name)}, content_type="multipart/form-data")
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Báo cáo kiểm tra" in page
        assert name in page
    with app.app_context():
        assert db.session.scalar(select(func.count(ProcedureVersion.id))) == published


def test_admin_page_is_for_admins_only(browser: Browser) -> None:
    browser.login("cv_stc")
    assert browser.client.get("/admin/procedures").status_code == 403


def test_security_headers_and_health(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
