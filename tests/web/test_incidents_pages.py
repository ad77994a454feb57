"""Incidents through the Flask test client: the admin page, the retry button (here and on the instance
page), who may use them, CSRF, and the JSON API."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from engine.domain.enums import IncidentStatus, InstanceStatus
from engine.persistence.models import AuditEvent, Incident, ProcessInstance, ServiceCall
from tests.engine.test_incidents import RefusesFirst
from tests.web.conftest import PROCESS_DATA, REQUEST_DATA, Browser
from tests.web.test_api import API, ApiUser, assert_error
from tests.web.test_pages import ready_task_id, start_request, submit
from webapp.extensions import db

TOPIC = "mail_directory.apply"
REFUSAL = '{"error": "Đơn vị chưa có trong danh bạ"}'


@pytest.fixture
def stopped(app: Flask, run_worker: Callable[[], int]) -> tuple[int, RefusesFirst]:
    """(instance id, the operation): email_account stopped at its mail-directory step by a refusal."""
    registry = app.extensions["platform"].adapters
    refusing = RefusesFirst(registry.operations[TOPIC], "Danh bạ thư từ chối cấp mới", REFUSAL)
    registry.operations[TOPIC] = refusing
    requester = Browser(app.test_client())
    requester.login("cv_stc")
    response = submit(requester, start_request(requester), REQUEST_DATA)
    instance_id = int(response.headers["Location"].rsplit("/", 1)[1])
    expert = Browser(app.test_client())
    expert.login("cv_sttt")
    assert submit(expert, ready_task_id(app, "Xử lý nội dung đăng ký"), PROCESS_DATA).status_code == 302
    assert run_worker() == 0
    return instance_id, refusing


def state(app: Flask, instance_id: int) -> dict[str, Any]:
    """What a refused retry must leave untouched."""
    with app.app_context():
        instance = db.session.get(ProcessInstance, instance_id)
        assert instance is not None
        return {"status": instance.status, "revision": instance.revision, "wake_at": instance.wake_at,
                "incidents": [(i.id, i.status, i.resolved_at) for i in db.session.scalars(select(Incident))],
                "calls": [(c.status, c.attempts) for c in db.session.scalars(select(ServiceCall))],
                "audit": db.session.scalar(select(func.count()).select_from(AuditEvent)  # sign-ins aside
                                           .where(AuditEvent.action.not_like("auth.%")))}


def incident_id_of(app: Flask, instance_id: int) -> int:
    with app.app_context():
        return int(db.session.scalar(select(Incident.id).where(Incident.instance_id == instance_id)))


@pytest.fixture
def api(client: Any) -> Callable[[str], ApiUser]:
    return lambda username: ApiUser(client, username)


def admin(app: Flask) -> Browser:
    browser = Browser(app.test_client())
    browser.login("qt")
    return browser


# ---------------------------------------------------------------- the admin page


def test_admin_page_lists_the_incident_and_the_retry_moves_the_instance_on(
        app: Flask, stopped: tuple[int, RefusesFirst], run_worker: Callable[[], int]) -> None:
    instance_id, refusing = stopped
    qt = admin(app)
    home = qt.client.get("/").get_data(as_text=True)
    assert 'href="/admin/incidents"' in home and "Sự cố <span" in home
    assert 'title="1 sự cố đang mở">1</span>' in home  # the badge on the menu entry
    page = qt.client.get("/admin/incidents").get_data(as_text=True)
    assert "1 đang mở" in page
    assert f"Hồ sơ số {instance_id}" in page and f'href="/instances/{instance_id}"' in page
    assert "Thực hiện trên hệ thống thư điện tử" in page and "Task_ThucHienTaiKhoan" in page
    assert "Lỗi gọi hệ thống" in page and TOPIC in page
    assert "Danh bạ thư từ chối cấp mới: HTTP 400" in page and "Đơn vị chưa có trong danh bạ" in page
    assert "(bị từ chối, không thử lại)" in page
    assert '<td class="num">1</td>' in page  # one attempt: a refusal is not retried
    assert "Thử lại" in page and "Chưa có sự cố nào được xử lý." in page

    incident_id = incident_id_of(app, instance_id)
    response = qt.post(f"/admin/incidents/{incident_id}/retry", page="/admin/incidents")
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/incidents")
    after = qt.client.get("/admin/incidents").get_data(as_text=True)
    assert f"Đã thử lại sự cố của hồ sơ số {instance_id}: hệ thống sẽ gọi lại ngay" in after
    assert "Không có sự cố nào đang mở." in after and "0 đang mở" in after
    assert "Đặng Thanh Tâm" in after and "Sự cố đã xử lý gần đây" in after  # who retried it
    assert "nav-open-incidents" not in after

    assert run_worker() == 2  # both rows, the refused one replayed with its key
    assert refusing.keys[0] == refusing.keys[1]
    detail = qt.client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Thử lại sự cố" in detail and "Đang xử lý" in detail
    assert "incident-alert" not in detail
    assert ready_task_id(app, "Phúc đáp công văn") is not None


def test_admin_page_in_english(app: Flask, stopped: tuple[int, RefusesFirst]) -> None:
    page = admin(app).client.get("/admin/incidents?lang=en").get_data(as_text=True)
    assert "Incidents" in page and "Retry" in page and "1 open" in page and "System call failed" in page


@pytest.mark.parametrize("who", ["cv_stc", "cv_sttt"])
def test_others_get_403_and_change_nothing(app: Flask, stopped: tuple[int, RefusesFirst], who: str) -> None:
    instance_id, _refusing = stopped
    before = state(app, instance_id)
    browser = Browser(app.test_client())
    browser.login(who)
    home = browser.client.get("/").get_data(as_text=True)
    assert 'href="/admin/incidents"' not in home and "nav-open-incidents" not in home
    listing = browser.client.get("/admin/incidents")
    assert listing.status_code == 403
    assert "Chỉ quản trị hệ thống được xem và thử lại sự cố." in listing.get_data(as_text=True)
    response = browser.post(f"/admin/incidents/{incident_id_of(app, instance_id)}/retry", page="/")
    assert response.status_code == 403
    assert state(app, instance_id) == before


def test_retry_without_csrf_token_is_refused(app: Flask, stopped: tuple[int, RefusesFirst]) -> None:
    instance_id, _refusing = stopped
    before = state(app, instance_id)
    response = admin(app).client.post(f"/admin/incidents/{incident_id_of(app, instance_id)}/retry")
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert state(app, instance_id) == before


def test_unknown_or_resolved_incidents_are_refused_clearly(app: Flask, stopped: tuple[int, RefusesFirst]) -> None:
    instance_id, _refusing = stopped
    qt = admin(app)
    missing = qt.post("/admin/incidents/999999/retry", page="/admin/incidents")
    assert missing.status_code == 404 and "Không tìm thấy sự cố." in missing.get_data(as_text=True)
    incident_id = incident_id_of(app, instance_id)
    assert qt.post(f"/admin/incidents/{incident_id}/retry", page="/admin/incidents").status_code == 302
    retried = state(app, instance_id)
    again = qt.post(f"/admin/incidents/{incident_id}/retry", page="/admin/incidents")
    assert again.status_code == 302
    assert "Sự cố này đã được xử lý" in qt.client.get("/admin/incidents").get_data(as_text=True)
    assert state(app, instance_id) == retried


# ---------------------------------------------------------------- the instance page


def test_instance_page_offers_the_retry_to_admins_only(app: Flask, stopped: tuple[int, RefusesFirst]) -> None:
    instance_id, _refusing = stopped
    requester = Browser(app.test_client())
    requester.login("cv_stc")
    theirs = requester.client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "incident-alert" in theirs and "Đơn vị chưa có trong danh bạ" in theirs
    assert "Sự cố tại <strong>Thực hiện trên hệ thống thư điện tử</strong>" in theirs
    assert "/retry" not in theirs

    qt = admin(app)
    page = f"/instances/{instance_id}"
    assert f"/admin/incidents/{incident_id_of(app, instance_id)}/retry" in qt.client.get(page).get_data(as_text=True)
    response = qt.post(f"/admin/incidents/{incident_id_of(app, instance_id)}/retry",
                       {"back": "instance", "instance_id": str(instance_id)}, page=page)
    assert (response.status_code, response.headers["Location"]) == (302, page)
    shown = qt.client.get(page).get_data(as_text=True)
    assert f"Đã thử lại sự cố của hồ sơ số {instance_id}" in shown and "incident-alert" not in shown
    assert state(app, instance_id)["status"] == InstanceStatus.RUNNING


# ---------------------------------------------------------------- the API


def test_api_lists_and_retries_incidents_for_admins(client: Any, api: Any, app: Flask,
                                                    stopped: tuple[int, RefusesFirst],
                                                    run_worker: Callable[[], int]) -> None:
    instance_id, _refusing = stopped
    qt = api("qt")
    (listed,) = qt.get("/incidents").get_json()
    assert listed == {**listed, "instance_id": instance_id, "process_id": "email_account", "version": 1,
                      "element_id": "Task_ThucHienTaiKhoan", "step": "Thực hiện trên hệ thống thư điện tử",
                      "kind": "service_call", "topic": TOPIC, "status": "open", "attempts": 1,
                      "instance_status": "error", "resolved_at": None, "resolved_by": None}
    assert "HTTP 400" in listed["message"] and "Đơn vị chưa có trong danh bạ" in listed["message"]
    assert qt.get("/incidents?status=resolved").get_json() == []
    assert_error(qt.get("/incidents?status=bat_ky"), 400, "invalid_request")

    retried = qt.post(f"/incidents/{listed['id']}/retry")
    assert retried.status_code == 200
    body = retried.get_json()
    assert (body["status"], body["resolved_by"], body["instance_status"]) == ("resolved", "Đặng Thanh Tâm", "running")
    assert qt.get("/incidents").get_json() == []
    assert [i["id"] for i in qt.get("/incidents?status=resolved").get_json()] == [listed["id"]]
    assert run_worker() == 2

    error = assert_error(qt.post(f"/incidents/{listed['id']}/retry"), 409, "conflict")
    assert error["message"].startswith("Sự cố này đã được xử lý")
    assert_error(qt.post("/incidents/999999/retry"), 404, "not_found")


def test_api_refuses_incidents_to_others(api: Any, app: Flask, stopped: tuple[int, RefusesFirst]) -> None:
    instance_id, _refusing = stopped
    before = state(app, instance_id)
    expert = api("cv_sttt")
    error = assert_error(expert.get("/incidents"), 403, "forbidden")
    assert error["message"] == "Chỉ quản trị hệ thống được xem và thử lại sự cố."
    assert_error(expert.post(f"/incidents/{incident_id_of(app, instance_id)}/retry"), 403, "forbidden")
    assert_error(app.test_client().get(f"{API}/incidents"), 401, "auth_failed")
    assert state(app, instance_id) == before
    with app.app_context():
        assert db.session.scalar(select(Incident.status)) == IncidentStatus.OPEN
