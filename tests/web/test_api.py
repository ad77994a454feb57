"""The JSON API over the Flask test client: tokens, errors, the spec and email_account end to end."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.persistence.models import ProcessInstance
from tests.web.conftest import PASSWORD, PROCESS_DATA, REPLY_DATA, REQUEST_DATA
from tests.web.test_sla_pages import LATER, RECEIVED, use_clock
from webapp.api.schemas import JsonObject
from webapp.extensions import db

API = "/api/v1"


def token_for(client: FlaskClient, username: str) -> str:
    response = client.post(f"{API}/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["token"])


class ApiUser:
    """The test client with one user's bearer token on every call."""

    def __init__(self, client: FlaskClient, username: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token_for(client, username)}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(API + path, headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(API + path, headers=self.headers, **kwargs)

    def task_at(self, instance_id: int, element_id: str) -> int:
        tasks = self.get("/tasks").get_json()
        return next(t["id"] for t in tasks if t["instance_id"] == instance_id and t["element_id"] == element_id)


@pytest.fixture
def api(client: FlaskClient) -> Any:
    return lambda username: ApiUser(client, username)


def complete(user: ApiUser, instance_id: int, element_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Completes the user's ready task at `element_id` with `data`; the answer."""
    response = user.post(f"/tasks/{user.task_at(instance_id, element_id)}/complete", json={"data": data})
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"] and error["message_en"]
    return dict(error)


# ---------------------------------------------------------------- tokens and auth


def test_token_for_good_credentials(client: FlaskClient) -> None:
    response = client.post(f"{API}/auth/token", json={"username": "cv_stc", "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["token"]) >= 32
    assert datetime.fromisoformat(body["expires_at"]).utcoffset() is not None
    assert response.headers["Cache-Control"] == "no-store"


def test_wrong_password_is_401_in_vietnamese(client: FlaskClient) -> None:
    response = client.post(f"{API}/auth/token", json={"username": "cv_stc", "password": "sai-mat-khau"})
    error = assert_error(response, 401, "auth_failed")
    assert error["message"] == "Tên đăng nhập hoặc mật khẩu không đúng."
    assert_error(client.post(f"{API}/auth/token", json={"username": "khong_co", "password": "x"}),
                 401, "auth_failed")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer khong-hop-le"},
                                     {"Authorization": "Basic Y3Zfc3RjOm1hdGtoYXUxMjM="}])
def test_api_needs_a_valid_bearer_token(client: FlaskClient, headers: dict[str, str]) -> None:
    for path in ("/tasks", "/processes", "/process-instances/1", "/tasks/1"):
        response = client.get(API + path, headers=headers)
        assert_error(response, 401, "auth_failed")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_refused(app: Flask, client: FlaskClient) -> None:
    token = token_for(client, "cv_stc")
    platform = app.extensions["platform"]
    real_clock = platform.clock
    platform.clock = lambda: real_clock().replace(year=real_clock().year + 1)
    try:
        response = client.get(f"{API}/tasks", headers={"Authorization": f"Bearer {token}"})
    finally:
        platform.clock = real_clock
    assert_error(response, 401, "auth_failed")


def test_session_cookie_does_not_open_the_api(browser: Any, client: FlaskClient) -> None:
    assert browser.login("cv_stc").status_code == 302
    assert client.get("/").status_code == 200
    assert_error(client.get(f"{API}/tasks"), 401, "auth_failed")


def test_api_posts_need_no_csrf_token(client: FlaskClient) -> None:
    # CSRF protection is on in these tests; the API answers on its own terms.
    response = client.post(f"{API}/auth/token", json={"username": "cv_stc", "password": PASSWORD})
    assert response.status_code == 200


# ---------------------------------------------------------------- spec and request shape


def test_openapi_spec_lists_every_endpoint(client: FlaskClient) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.0.3"
    assert spec["info"] == {"title": "Quy trình nội bộ API", "version": "v1"}
    paths = spec["paths"]
    expected = {
        ("/api/v1/auth/token", "post"), ("/api/v1/processes", "get"),
        ("/api/v1/process-instances", "post"), ("/api/v1/process-instances/{instance_id}", "get"),
        ("/api/v1/tasks", "get"), ("/api/v1/tasks/{task_id}", "get"),
        ("/api/v1/tasks/{task_id}/complete", "post"),
        ("/api/v1/calendar/deadline", "get"), ("/api/v1/calendar/{year}", "get"),
        ("/api/v1/process-instances/{instance_id}/documents", "get"),
        ("/api/v1/documents/{document_id}/content", "get"),
        ("/api/v1/tasks/{task_id}/excel/{path}.xlsx", "get"), ("/api/v1/tasks/{task_id}/excel/{path}", "post"),
        ("/api/v1/tasks/{task_id}/attachments", "post"),
        ("/api/v1/process-instances/{instance_id}/attachments", "get"), ("/api/v1/attachments/{ref}/content", "get"),
        ("/api/v1/incidents", "get"), ("/api/v1/incidents/{incident_id}/retry", "post"),
        ("/api/v1/meetings", "get"),
        ("/api/v1/invitations", "get"), ("/api/v1/meetings/{meeting_id}/invitations", "get"),
        ("/api/v1/meetings/{meeting_id}/answer", "post"), ("/api/v1/meetings/{meeting_id}/postpone", "post"),
        ("/api/v1/meetings/{meeting_id}/cancel", "post"), ("/api/v1/meetings/{meeting_id}/documents", "get"),
        ("/api/v1/meetings/{meeting_id}/documents", "post"),
        ("/api/v1/meetings/{meeting_id}/documents/{ref}/content", "get"),
        ("/api/v1/dti/index-sets", "get"), ("/api/v1/dti/index-sets", "post"),
        ("/api/v1/dti/index-sets/{set_id}", "get"), ("/api/v1/dti/index-sets/{set_id}/indicators", "patch"),
        ("/api/v1/dti/rounds", "get"), ("/api/v1/dti/rounds", "post"), ("/api/v1/dti/rounds/{round_id}", "get"),
        ("/api/v1/dti/rounds/{round_id}/units/{unit_code}/sheet", "get"),
        ("/api/v1/dti/rounds/{round_id}/units/{unit_code}/scores/{code}", "put"),
        ("/api/v1/dti/rounds/{round_id}/units/{unit_code}/scores/{code}/expert", "put"),
        ("/api/v1/dti/rounds/{round_id}/units/{unit_code}/scores/{code}/response", "post"),
        ("/api/v1/dti/rounds/{round_id}/units/{unit_code}/scores/{code}/history", "get"),
        ("/api/v1/dti/rounds/{round_id}/units/{unit_code}/submit", "post"),
        ("/api/v1/dti/rounds/{round_id}/units/{unit_code}/scores/{code}/evidence", "post"),
        ("/api/v1/dti/rounds/{round_id}/units/{unit_code}/evidence", "get"),
        ("/api/v1/dti/rounds/{round_id}/units/{unit_code}/evidence/{evidence_id}/content", "get"),
        ("/api/v1/dti/rounds/{round_id}/units/{unit_code}/evidence/{evidence_id}", "delete"),
        ("/api/v1/dti/rounds/{round_id}/ranking", "get"), ("/api/v1/dti/rounds/{round_id}/ranking.xlsx", "get"),
        ("/api/v1/dti/rounds/{round_id}/units/{unit_code}/report.docx", "get"),
        ("/api/v1/kb/articles", "get"),
        ("/api/v1/hotline/tickets", "post"), ("/api/v1/hotline/callers/{phone}/tickets", "get"),
        ("/api/v1/hotline/webhook/{channel}", "post"),
        ("/api/v1/hotline/statistics", "get"),
    }
    assert {(p, m) for p, ops in paths.items() for m in ops if m != "parameters"} == expected
    for path, method in expected:
        responses = paths[path][method]["responses"]
        assert any(code.startswith("2") and "content" in r for code, r in responses.items()), path
        assert "422" not in responses
    assert paths["/api/v1/auth/token"]["post"]["security"] == []
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "error" in spec["components"]["schemas"]["Error"]["properties"]
    assert client.get(f"{API}/swagger-ui").status_code == 404


def test_malformed_json_is_400_json(api: Any) -> None:
    user = api("cv_stc")
    response = user.post("/process-instances", data="{khong phai json", content_type="application/json")
    error = assert_error(response, 400, "invalid_request")
    assert error["message"] == "Dữ liệu gửi lên không đúng định dạng."
    assert error["details"][0]["location"] == "json"


def test_body_of_wrong_shape_names_the_fields(api: Any) -> None:
    user = api("cv_stc")
    response = user.post("/process-instances", json={"data": [], "extra": 1})
    error = assert_error(response, 400, "invalid_request")
    by_path = {d["path"]: d["message"] for d in error["details"]}
    assert by_path["process"]["vi"] == "Thiếu trường bắt buộc."
    assert set(by_path) == {"process", "data", "extra"}
    assert_error(user.get("/tasks", query_string={"sort": "ten"}), 400, "invalid_request")
    assert_error(user.post("/tasks/1/complete", json=[1]), 400, "invalid_request")


def test_unknown_process_is_404(api: Any) -> None:
    assert_error(api("cv_stc").post("/process-instances", json={"process": "khong_co"}), 404, "not_found")


@pytest.mark.parametrize("data", [{"__class__": 1}, {"now": "2020-01-01"}, {"x": "a" * 300_000}])
def test_start_data_with_bad_names_or_size_is_refused(app: Flask, api: Any, data: dict[str, Any]) -> None:
    response = api("cv_stc").post("/process-instances", json={"process": "email_account", "data": data})
    assert_error(response, 400, "invalid_data")
    with app.app_context():
        assert db.session.scalar(select(func.count(ProcessInstance.id))) == 0


def test_unknown_task_and_instance_are_404(api: Any) -> None:
    user = api("cv_stc")
    assert_error(user.get("/tasks/999"), 404, "not_found")
    assert_error(user.get("/process-instances/999"), 404, "not_found")
    assert_error(user.post("/tasks/999/complete", json={"data": {}}), 404, "not_found")


def test_catalogue_lists_published_processes(api: Any) -> None:
    processes = api("cv_stc").get("/processes").get_json()
    email = next(p for p in processes if p["process_id"] == "email_account")
    assert email["version"] == 1 and len(email["content_hash"]) == 64
    assert datetime.fromisoformat(email["published_at"]).utcoffset() is not None


def test_process_data_is_dumped_as_plain_json() -> None:
    value = {"ngay": date(2026, 11, 26), "luc": datetime(2026, 11, 26, 8, 30, tzinfo=UTC),
             "tien": Decimal("1500000"), "ty_le": Decimal("0.5"), "nhom": ("a",)}
    assert JsonObject().serialize("data", {"data": value}) == {
        "ngay": "2026-11-26", "luc": "2026-11-26T08:30:00+00:00", "tien": 1500000, "ty_le": 0.5,
        "nhom": ["a"]}


# ---------------------------------------------------------------- email_account end to end


def test_email_account_over_the_api(api: Any, run_worker: Any) -> None:
    stc, syt, sttt = api("cv_stc"), api("cv_syt"), api("cv_sttt")

    started = stc.post("/process-instances", json={"process": "email_account", "data": {}})
    assert started.status_code == 201, started.get_json()
    instance = started.get_json()
    instance_id = instance["id"]
    assert started.headers["Location"].endswith(f"/api/v1/process-instances/{instance_id}")
    assert instance["status"] == "running" and instance["process_id"] == "email_account"
    assert instance["initiator"]["username"] == "cv_stc" and instance["initiator"]["unit"] == "so_tc"
    assert [t["element_id"] for t in instance["active_tasks"]] == ["Task_LapDeNghi"]
    assert datetime.fromisoformat(instance["created_at"]).utcoffset() is not None

    tasks = stc.get("/tasks").get_json()
    request_task = next(t for t in tasks if t["instance_id"] == instance_id)
    assert request_task["element_id"] == "Task_LapDeNghi"
    assert request_task["process_id"] == "email_account"
    assert request_task["form_key"] == "email_account_request"
    assert stc.get("/tasks", query_string={"sort": "created"}).status_code == 200
    assert not [t for t in syt.get("/tasks").get_json() if t["instance_id"] == instance_id]

    shown = stc.get(f"/tasks/{request_task['id']}").get_json()
    assert shown["form"]["id"] == "email_account_request" and shown["status"] == "ready"
    assert isinstance(shown["data"], dict)
    assert_error(syt.get(f"/tasks/{request_task['id']}"), 403, "forbidden")
    assert_error(syt.get(f"/process-instances/{instance_id}"), 403, "forbidden")

    before = stc.get(f"/process-instances/{instance_id}").get_json()
    incomplete = {k: v for k, v in REQUEST_DATA.items() if k not in ("noi_dung", "nguoi_ky")}
    refused = stc.post(f"/tasks/{request_task['id']}/complete", json={"data": incomplete})
    error = assert_error(refused, 400, "invalid_data")
    paths = {d["path"] for d in error["details"]}
    assert {"noi_dung", "nguoi_ky"} <= paths
    assert all(d["message"]["vi"] for d in error["details"])
    after = stc.get(f"/process-instances/{instance_id}").get_json()
    assert after["revision"] == before["revision"]
    assert after["active_tasks"] == before["active_tasks"]

    stale = stc.post(f"/tasks/{request_task['id']}/complete",
                     json={"data": REQUEST_DATA, "revision": before["revision"] - 1})
    assert_error(stale, 409, "conflict")

    done = stc.post(f"/tasks/{request_task['id']}/complete",
                    json={"data": REQUEST_DATA, "revision": before["revision"]})
    assert done.status_code == 200, done.get_json()
    assert [t["element_id"] for t in done.get_json()["active_tasks"]] == ["Task_XuLyDangKy"]
    assert_error(stc.post(f"/tasks/{request_task['id']}/complete", json={"data": REQUEST_DATA}),
                 409, "conflict")

    process_task = sttt.task_at(instance_id, "Task_XuLyDangKy")
    assert done.get_json()["active_tasks"][0]["due_at"] is not None
    listed = sttt.get(f"/tasks/{process_task}").get_json()["data"]  # rows made by Task_TongHopDanhSach
    assert [(r["stt"], r["thao_tac_ten"]) for r in listed["rows"]] == [(1, "Cấp mới"), (2, "Cấp mới")]
    assert not {"muc", "ten_thao_tac"} & set(listed)
    assert_error(syt.post(f"/tasks/{process_task}/complete", json={"data": PROCESS_DATA}), 403, "forbidden")
    assert sttt.post(f"/tasks/{process_task}/complete", json={"data": PROCESS_DATA}).status_code == 200

    assert run_worker() == len(REQUEST_DATA["ca_nhan"])

    reply_task = sttt.task_at(instance_id, "Task_PhucDap")
    opened = sttt.get(f"/tasks/{reply_task}").get_json()
    assert [r["dia_chi"] for r in opened["data"]["rows"]] == ["annv@dongthap.gov.vn", "hoapt@dongthap.gov.vn"]
    assert opened["form"]["id"] == "email_account_reply"
    finished = sttt.post(f"/tasks/{reply_task}/complete", json={"data": REPLY_DATA})
    assert finished.status_code == 200, finished.get_json()
    assert_error(sttt.post(f"/tasks/{reply_task}/complete", json={"data": REPLY_DATA}), 409, "conflict")
    assert run_worker() == 1  # the reply letter is numbered and issued

    final = stc.get(f"/process-instances/{instance_id}")
    body = final.get_json()
    assert body["status"] == "completed" and body["active_tasks"] == []
    assert datetime.fromisoformat(body["ended_at"]).utcoffset() is not None
    assert [h["action"] for h in body["history"]] == [
        "start", "complete", "complete", "service_call", "service_call", "complete", "service_call"]
    assert all(set(h) == {"at", "actor", "action", "element_id", "summary"} for h in body["history"])
    text = json.dumps(body, ensure_ascii=False).lower()
    assert "mat_khau" not in text and "password" not in text
    assert "Nguyễn Văn An" not in final.get_data(as_text=True)  # no form data in the instance view


def test_due_states_over_the_api(app: Flask, api: Any) -> None:
    clock = use_clock(app, RECEIVED)
    stc, sttt = api("cv_stc"), api("cv_sttt")
    instance_id = stc.post("/process-instances", json={"process": "email_account", "data": {}}).get_json()["id"]
    request_task = stc.task_at(instance_id, "Task_LapDeNghi")
    drafting = stc.get(f"/tasks/{request_task}").get_json()
    assert drafting["due_at"] is None and drafting["due_state"] is None
    started = stc.get(f"/process-instances/{instance_id}").get_json()
    # email_account: 4 working days from Thursday 26 Nov 09:00, i.e. Wednesday 2 Dec 17:00.
    assert datetime.fromisoformat(started["due_at"]) == datetime.fromisoformat("2026-12-02T17:00:00+07:00")
    assert (started["due_state"], started["sla_outcome"], started["paused"]) == ("dung_han", None, False)
    assert stc.post(f"/tasks/{request_task}/complete", json={"data": REQUEST_DATA}).status_code == 200

    process_task = sttt.task_at(instance_id, "Task_XuLyDangKy")
    listed = next(t for t in sttt.get("/tasks").get_json() if t["id"] == process_task)
    assert listed["due_at"] is not None and listed["due_state"] == "dung_han"
    assert sttt.get(f"/tasks/{process_task}").get_json()["due_state"] == "dung_han"

    clock.now = LATER  # past both deadlines; the tokens of a week ago have expired
    stc, sttt = api("cv_stc"), api("cv_sttt")
    listed = next(t for t in sttt.get("/tasks").get_json() if t["id"] == process_task)
    assert listed["due_state"] == "qua_han"
    assert sttt.get(f"/tasks/{process_task}").get_json()["due_state"] == "qua_han"
    assert stc.get(f"/process-instances/{instance_id}").get_json()["due_state"] == "qua_han"


def test_openapi_spec_documents_due_states(client: FlaskClient) -> None:
    schemas = client.get(f"{API}/openapi.json").get_json()["components"]["schemas"]
    for name in ("Task", "TaskDetail", "Instance"):
        assert schemas[name]["properties"]["due_state"]["enum"] == ["dung_han", "sap_den_han", "qua_han", None]
    instance = schemas["Instance"]["properties"]
    assert {"due_at", "sla_outcome", "paused"} <= set(instance)
    assert instance["sla_outcome"]["enum"] == ["truoc_han", "dung_han", "qua_han", None]
