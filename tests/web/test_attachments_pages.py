"""Files in task forms over HTTP: the upload, remove and download routes and their API twins."""
from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from engine.persistence.models import Attachment, HumanTask
from engine.settings import Settings
from tests.engine import attachment_files as samples
from tests.web.conftest import Browser
from tests.web.test_api import ApiUser
from webapp import platform
from webapp.extensions import db
from webapp.platform import uow

#: Small enough to test the limits without big bodies, large enough for every sample file.
LIMIT = 64 * 1024


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, max_attachment_bytes=LIMIT)


@pytest.fixture
def published(app: Flask) -> Iterator[None]:
    with app.app_context(), uow() as work:
        platform.publish(work, samples.procedure(), None)
    yield


def start(browser: Browser) -> int:
    response = browser.post(f"/procedures/{samples.PROCESS_ID}/start", page="/procedures")
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"/tasks/(\d+)$", response.headers["Location"])
    assert match
    return int(match.group(1))


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


def multipart(content: bytes | None, name: str = "", **fields: str) -> dict[str, Any]:
    """Keyword arguments of a test-client call with a multipart body built in memory (the client's own
    builder spools bodies over 500 KB to a temporary file it never closes)."""
    values: dict[str, Any] = dict(fields)
    if content is not None:
        values["file"] = FileStorage(io.BytesIO(content), name, content_type="application/octet-stream")
    boundary, body = encode_multipart(values)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def upload(browser: Browser, task_id: int, content: bytes, name: str, key: str = "ho_so",
           csrf: bool = True) -> Any:
    fields = {"key": key, "field": ""}
    if csrf:
        fields["csrf_token"] = browser.csrf(f"/tasks/{task_id}")
    return browser.client.post(f"/tasks/{task_id}/attachments", headers={"Accept": "application/json"},
                               **multipart(content, name, **fields))


def stored(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count(Attachment.id))) or 0)


def error_of(response: Any, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    return str(response.get_json()["error"]["message"])


def instance_of(app: Flask, task_id: int) -> int:
    with app.app_context():
        return int(db.session.scalar(select(HumanTask.instance_id).where(HumanTask.id == task_id)))


# ---------------------------------------------------------------- the task page's calls


def test_task_page_tells_the_form_where_to_upload(app: Flask, published: None) -> None:
    requester = signed_in(app, "cv_stc")
    task_id = start(requester)
    instance_id = instance_of(app, task_id)
    page = requester.client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f'data-attachment-upload="/tasks/{task_id}/attachments"' in page
    assert f'data-attachment-remove="/tasks/{task_id}/attachments/__ref__"' in page
    assert f'data-attachment-download="/instances/{instance_id}/attachments/__ref__"' in page
    assert f'data-attachment-max-bytes="{LIMIT}"' in page
    onlooker = signed_in(app, "qt").client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-readonly="true"' in onlooker and "data-attachment-upload" not in onlooker


def test_upload_answers_the_file_value(app: Flask, published: None) -> None:
    requester = signed_in(app, "cv_stc")
    task_id = start(requester)
    response = upload(requester, task_id, samples.pdf(), "Hồ sơ quét.pdf")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"ref", "name", "size", "type"}
    assert (body["name"], body["size"], body["type"]) == ("Hồ sơ quét.pdf", len(samples.pdf()), "application/pdf")
    assert stored(app) == 1


def test_upload_needs_the_csrf_token(app: Flask, published: None) -> None:
    requester = signed_in(app, "cv_stc")
    task_id = start(requester)
    message = error_of(upload(requester, task_id, samples.pdf(), "ho-so.pdf", csrf=False), 400)
    assert message.startswith("Phiên làm việc đã hết hạn hoặc yêu cầu không hợp lệ (CSRF)")
    assert stored(app) == 0


def test_upload_refuses_wrong_kind_and_size_in_vietnamese(app: Flask, published: None) -> None:
    requester = signed_in(app, "cv_stc")
    task_id = start(requester)
    assert error_of(upload(requester, task_id, samples.png(), "ho-so.pdf"), 400) == (
        "Tên tệp “ho-so.pdf” không khớp nội dung: đây là tệp PNG, phần mở rộng phải là .png.")
    assert error_of(upload(requester, task_id, b"#!/bin/sh\nrm -rf /\n", "ho-so.pdf"), 400).startswith(
        "Loại tệp không được hỗ trợ")
    assert error_of(upload(requester, task_id, samples.pdf() + b"%" * LIMIT, "lon.pdf"), 400) == (
        "Tệp quá lớn: tối đa 64 KB mỗi tệp.")
    # Far past the limit the body itself is refused before it is read.
    assert error_of(upload(requester, task_id, samples.pdf() + b"%" * (LIMIT + 200_000), "rat-lon.pdf"),
                    413) == "Tệp hoặc dữ liệu gửi lên quá lớn."
    assert error_of(upload(requester, task_id, b"", ""), 400) == "Chưa chọn tệp để tải lên."
    assert stored(app) == 0


def test_not_your_task_is_403_and_nothing_is_stored(app: Flask, published: None) -> None:
    task_id = start(signed_in(app, "cv_stc"))
    for username in ("cv_syt", "cv_sttt"):
        message = error_of(upload(signed_in(app, username), task_id, samples.pdf(), "ho-so.pdf"), 403)
        assert message == "Công việc này không thuộc quyền xử lý của bạn."
    assert stored(app) == 0


def test_remove_needs_csrf_and_deletes_the_pending_file(app: Flask, published: None) -> None:
    requester = signed_in(app, "cv_stc")
    task_id = start(requester)
    ref = upload(requester, task_id, samples.pdf(), "ho-so.pdf").get_json()["ref"]
    path = f"/tasks/{task_id}/attachments/{ref}"
    assert error_of(requester.client.delete(path), 400).startswith("Phiên làm việc đã hết hạn")
    other = signed_in(app, "cv_syt")
    assert error_of(other.client.delete(path, headers={"X-CSRFToken": other.csrf("/procedures")}), 403) == (
        "Công việc này không thuộc quyền xử lý của bạn.")
    assert stored(app) == 1
    token = requester.csrf(f"/tasks/{task_id}")
    assert requester.client.delete(path, headers={"X-CSRFToken": token}).status_code == 204
    assert stored(app) == 0
    assert error_of(requester.client.delete(path, headers={"X-CSRFToken": token}), 404).startswith(
        "Chỉ xóa được tệp vừa tải lên")


def test_submitted_dossier_is_listed_and_downloads_the_same_bytes(app: Flask, published: None) -> None:
    requester = signed_in(app, "cv_stc")
    task_id = start(requester)
    instance_id = instance_of(app, task_id)
    content = samples.pdf("Ho so cua So Tai chinh")
    scan = upload(requester, task_id, content, "Hồ sơ quét số 1.pdf").get_json()
    spare = upload(requester, task_id, samples.png(), "anh.png").get_json()
    response = requester.post(f"/tasks/{task_id}", {"data": json.dumps({"ho_so": [scan]})}, page=f"/tasks/{task_id}")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = requester.client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Hồ sơ đính kèm" in page and "Hồ sơ quét số 1.pdf" in page and "anh.png" not in page
    link = f"/instances/{instance_id}/attachments/{scan['ref']}"
    assert f'href="{link}"' in page
    for username in ("cv_stc", "cv_sttt", "qt"):
        download = signed_in(app, username).client.get(link)
        assert download.status_code == 200 and download.data == content
        assert download.mimetype == "application/pdf"
        assert download.headers["Content-Disposition"].startswith('attachment; filename="Ho_so_quet_so_1.pdf"')
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.headers["Cache-Control"] == "private, no-store"
    assert signed_in(app, "cv_syt").client.get(link).status_code == 403
    assert requester.client.get(f"/instances/{instance_id}/attachments/{spare['ref']}").status_code == 404
    assert requester.client.get(f"/instances/{instance_id + 1}/attachments/{scan['ref']}").status_code == 404


def test_forged_ref_on_submission_is_refused_and_changes_nothing(app: Flask, published: None) -> None:
    other = signed_in(app, "cv_syt")
    theirs = upload(other, start(other), samples.pdf("Bi mat"), "bi-mat.pdf").get_json()
    requester = signed_in(app, "cv_stc")
    task_id = start(requester)
    response = requester.post(f"/tasks/{task_id}", {"data": json.dumps({"ho_so": [theirs]})}, page=f"/tasks/{task_id}")
    assert response.status_code == 400
    assert "Tệp đính kèm không tồn tại hoặc không thuộc hồ sơ và bước xử lý này" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(HumanTask, task_id).status.value == "ready"  # type: ignore[union-attr]


def test_a_file_larger_than_the_apps_default_body_limit_is_accepted(app: Flask, published: None) -> None:
    services = app.extensions["platform"]
    services.settings = replace(services.settings, max_attachment_bytes=Settings().max_attachment_bytes)
    requester = signed_in(app, "cv_stc")
    task_id = start(requester)
    big = samples.pdf() + b"%" + b"0" * (9 * 1024 * 1024)  # over the 8 MB of other requests, under 10 MB
    response = upload(requester, task_id, big, "ho-so-day.pdf")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["size"] == len(big)


# ---------------------------------------------------------------- the API


def test_api_upload_list_and_download(client: FlaskClient, app: Flask, published: None) -> None:
    requester, reviewer = ApiUser(client, "cv_stc"), ApiUser(client, "cv_sttt")
    started = requester.post("/process-instances", json={"process": samples.PROCESS_ID, "data": {}})
    instance_id = started.get_json()["id"]
    task_id = requester.task_at(instance_id, "Task_NopHoSo")
    response = requester.post(f"/tasks/{task_id}/attachments", **multipart(samples.pdf(), "ho-so.pdf",
                                                                             field="Field_HoSo"))
    assert response.status_code == 201, response.get_data(as_text=True)
    scan = response.get_json()
    refused = ApiUser(client, "cv_syt").post(f"/tasks/{task_id}/attachments",
                                             **multipart(samples.pdf(), "ho-so.pdf", key="ho_so"))
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    bad = requester.post(f"/tasks/{task_id}/attachments", **multipart(samples.docx(), "cv.docx", key="ho_so"))
    assert bad.status_code == 400 and bad.get_json()["error"] == {
        "code": "invalid_data", "message": "Trường này chỉ nhận tệp PDF, JPEG, PNG.",
        "message_en": "This field only accepts PDF, JPEG, PNG files."}
    missing = requester.post(f"/tasks/{task_id}/attachments", **multipart(None, key="ho_so"))
    assert missing.status_code == 400 and missing.get_json()["error"]["code"] == "invalid_request"
    assert requester.get(f"/process-instances/{instance_id}/attachments").get_json() == []
    done = requester.post(f"/tasks/{task_id}/complete", json={"data": {"ho_so": [scan]}})
    assert done.status_code == 200, done.get_data(as_text=True)
    (listed,) = reviewer.get(f"/process-instances/{instance_id}/attachments").get_json()
    assert {k: listed[k] for k in ("ref", "name", "size", "type", "element_id", "step", "uploaded_by")} == {
        **scan, "element_id": "Task_NopHoSo", "step": "Nộp hồ sơ", "uploaded_by": "Trần Thị Bình"}
    assert listed["links"]["content"] == f"/api/v1/attachments/{scan['ref']}/content"
    content = reviewer.client.get(listed["links"]["content"], headers=reviewer.headers)
    assert content.status_code == 200 and content.data == samples.pdf()
    assert content.headers["Content-Disposition"].startswith("attachment;")
    outsider = ApiUser(client, "cv_syt")
    assert outsider.get(f"/attachments/{scan['ref']}/content").status_code == 403
    assert outsider.get(f"/process-instances/{instance_id}/attachments").status_code == 403
    assert requester.get("/attachments/khong-co/content").status_code == 404
