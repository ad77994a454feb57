"""Excel import on the task page and in the API: template download, upload checks, permissions."""
from __future__ import annotations

import io
import json
from typing import Any

import openpyxl
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.persistence.models import AuditEvent, HumanTask, ProcessInstance
from tests.web.conftest import REQUEST_DATA, Browser
from tests.web.test_api import API, ApiUser
from tests.web.test_pages import ready_task_id, start_request, submit
from webapp.extensions import db

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filled(template: bytes, rows: list[list[Any]]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(template))
    for row in rows:
        book.worksheets[0].append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(browser: Browser, task_id: int, content: bytes, path: str = "ca_nhan", name: str = "ca_nhan.xlsx") -> Any:
    return browser.post(f"/tasks/{task_id}/excel/{path}", {"file": (io.BytesIO(content), name)},
                        page=f"/tasks/{task_id}")


def state(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(ProcessInstance.revision)),
                # sign-ins are audited too; what must not change is the audit of the work
                db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action.not_like("auth.%"))))


GOOD_ROWS = [
    ["Nguyễn Văn An", "Phòng Kế hoạch", "Chuyên viên", "Cấp mới"],
    ["Lê Thị Thu", "Văn phòng Sở", None, "Thu hồi", "thult@dongthap.gov.vn", "Nghỉ hưu"],
]


def test_task_page_offers_each_list_and_the_template_downloads(browser: Browser) -> None:
    browser.login("cv_stc")
    task_id = start_request(browser)
    page = browser.client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Nhập danh sách từ Excel" in page
    for path in ("ca_nhan", "tap_the"):
        assert f'href="/tasks/{task_id}/excel/{path}.xlsx"' in page
        assert f'data-upload-url="/tasks/{task_id}/excel/{path}"' in page
    response = browser.client.get(f"/tasks/{task_id}/excel/ca_nhan.xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX_MIME
    assert 'filename="danh-sach-tai-khoan-ca-nhan.xlsx"' in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[:2] == ["Danh sách tài khoản cá nhân", "Hướng dẫn"]
    assert book.worksheets[0]["A1"].value == "Họ và tên *"
    assert browser.client.get(f"/tasks/{task_id}/excel/khong_co.xlsx").status_code == 404
    assert browser.client.get("/tasks/9999/excel/ca_nhan.xlsx").status_code == 404


def test_template_needs_sign_in_and_a_person_who_may_see_the_task(app: Flask, browser: Browser) -> None:
    browser.login("cv_stc")
    task_id = start_request(browser)
    anonymous = app.test_client().get(f"/tasks/{task_id}/excel/ca_nhan.xlsx")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    other = Browser(app.test_client())
    other.login("cv_syt")
    assert other.client.get(f"/tasks/{task_id}/excel/ca_nhan.xlsx").status_code == 403
    assert upload(other, task_id, b"x").status_code == 403


def test_good_upload_returns_the_rows_and_changes_nothing(app: Flask, browser: Browser) -> None:
    browser.login("cv_stc")
    task_id = start_request(browser)
    template = browser.client.get(f"/tasks/{task_id}/excel/ca_nhan.xlsx").data
    before = state(app)
    response = upload(browser, task_id, filled(template, GOOD_ROWS))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"rows": [
        {"ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch", "chuc_vu": "Chuyên viên", "thao_tac": "cap_moi",
         "dia_chi_hien_tai": "", "ly_do": ""},
        {"ho_ten": "Lê Thị Thu", "don_vi": "Văn phòng Sở", "chuc_vu": "", "thao_tac": "thu_hoi",
         "dia_chi_hien_tai": "thult@dongthap.gov.vn", "ly_do": "Nghỉ hưu"},
    ]}
    assert state(app) == before
    with app.app_context():
        assert db.session.get(HumanTask, task_id).status.value == "ready"


def test_bad_upload_is_400_with_each_cell_in_vietnamese(app: Flask, browser: Browser) -> None:
    browser.login("cv_stc")
    task_id = start_request(browser)
    template = browser.client.get(f"/tasks/{task_id}/excel/ca_nhan.xlsx").data
    before = state(app)
    response = upload(browser, task_id, filled(template, [
        ["Nguyễn Văn An", "Phòng Kế hoạch", None, "Cấp mới"],
        [None, "Văn phòng Sở", None, "Xin cấp", "khong-phai-email"],
    ]))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_data"
    assert error["message"] == "Tệp Excel có 3 lỗi; chưa nhập dòng nào. Hãy sửa tệp và tải lên lại."
    assert error["message_en"].startswith("The Excel file has 3 error(s)")
    assert [(d["row"], d["column"], d["label"], d["message"]["vi"]) for d in error["details"]] == [
        (3, "A", "Họ và tên", "Trường này là bắt buộc."),
        (3, "D", "Nội dung đề nghị (ghi chú)", "“Xin cấp” không có trong danh sách cho phép: Cấp mới; "
                                               "Đổi tên / thay đổi thông tin; Cấp lại mật khẩu; Thu hồi."),
        (3, "E", "Địa chỉ thư hiện tại (khi đổi tên, cấp lại mật khẩu, thu hồi)",
         "Địa chỉ thư điện tử không hợp lệ (ví dụ: nguyenvana@dongthap.gov.vn)."),
    ]
    assert error["details"][0]["path"] == "ca_nhan.1.ho_ten"
    not_excel = upload(browser, task_id, b"ho_ten,don_vi\nAn,KH\n", name="ca_nhan.csv")
    assert not_excel.status_code == 400
    assert not_excel.get_json()["error"]["message"] == "Tệp không phải bảng tính Excel .xlsx hợp lệ."
    no_file = browser.post(f"/tasks/{task_id}/excel/ca_nhan", {}, page=f"/tasks/{task_id}")
    assert no_file.status_code == 400
    assert no_file.get_json()["error"]["message"] == "Chưa chọn tệp Excel (.xlsx) để nhập."
    assert upload(browser, task_id, b"x", path="khong_co").status_code == 404
    assert state(app) == before


def test_upload_needs_the_csrf_token(app: Flask, browser: Browser) -> None:
    browser.login("cv_stc")
    task_id = start_request(browser)
    template = browser.client.get(f"/tasks/{task_id}/excel/ca_nhan.xlsx").data
    response = browser.client.post(f"/tasks/{task_id}/excel/ca_nhan",
                                   data={"file": (io.BytesIO(filled(template, GOOD_ROWS)), "a.xlsx")})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_upload_is_only_for_who_may_complete_the_task(app: Flask, browser: Browser) -> None:
    browser.login("cv_stc")
    task_id = start_request(browser)
    template = browser.client.get(f"/tasks/{task_id}/excel/ca_nhan.xlsx").data
    assert submit(browser, task_id, REQUEST_DATA).status_code == 302
    done = upload(browser, task_id, filled(template, GOOD_ROWS))
    assert done.status_code == 409
    assert done.get_json()["error"]["message"] == "Công việc này đã được xử lý."
    # The requesting unit still sees the expert's task, but it is not theirs to do.
    expert_task = ready_task_id(app, "Xử lý nội dung đăng ký")
    page = browser.client.get(f"/tasks/{expert_task}").get_data(as_text=True)
    assert "Nhập từ Excel" not in page
    refused = upload(browser, expert_task, filled(template, GOOD_ROWS))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"


def test_api_template_and_upload(app: Flask, client: FlaskClient, browser: Browser) -> None:
    browser.login("cv_stc")
    task_id = start_request(browser)
    api = ApiUser(client, "cv_stc")
    response = api.get(f"/tasks/{task_id}/excel/ca_nhan.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX_MIME
    content = filled(response.data, GOOD_ROWS)
    before = state(app)
    good = api.post(f"/tasks/{task_id}/excel/ca_nhan", data={"file": (io.BytesIO(content), "a.xlsx")})
    assert good.status_code == 200, good.get_data(as_text=True)
    assert [row["thao_tac"] for row in good.get_json()["rows"]] == ["cap_moi", "thu_hoi"]
    bad = api.post(f"/tasks/{task_id}/excel/ca_nhan",
                   data={"file": (io.BytesIO(filled(response.data, [["An"]])), "a.xlsx")})
    assert bad.status_code == 400
    details = bad.get_json()["error"]["details"]
    assert [(d["row"], d["column"]) for d in details] == [(2, "B"), (2, "D")]
    missing = api.post(f"/tasks/{task_id}/excel/ca_nhan", data={})
    assert missing.status_code == 400 and missing.get_json()["error"]["code"] == "invalid_request"
    assert api.get(f"/tasks/{task_id}/excel/khong_co.xlsx").status_code == 404
    assert client.get(f"{API}/tasks/{task_id}/excel/ca_nhan.xlsx").status_code == 401
    other = ApiUser(client, "cv_syt")
    assert other.post(f"/tasks/{task_id}/excel/ca_nhan",
                      data={"file": (io.BytesIO(content), "a.xlsx")}).status_code == 403
    assert state(app) == before
    spec = json.dumps(client.get(f"{API}/openapi.json").get_json())
    assert "/api/v1/tasks/{task_id}/excel/{path}" in spec
