"""Hotline 1022 knowledge base pages and API: editor, operators' search, public page, /api/v1/kb/articles."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import PASSWORD, Browser, add_people

PERMIT = {"field": "thu_tuc_hanh_chinh", "question": "Thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ?",
          "answer": "Nộp đơn đề nghị tại Bộ phận Một cửa cấp huyện.\nThời hạn giải quyết 15 ngày.", "keywords": ""}


def operator(app: Flask, browser: Browser) -> None:
    add_people(app, {"tongdai": ("Nguyễn Thị Tổng Đài", "ttpvhcc", ["tong_dai_vien"])},
               {"ttpvhcc": "Trung tâm Phục vụ hành chính công"})
    browser.login("tongdai")


def test_operator_writes_publishes_and_searches(app: Flask, client: FlaskClient, browser: Browser) -> None:
    operator(app, browser)
    assert "Tổng đài 1022" in client.get("/hotline/kb").get_data(as_text=True)
    draft = browser.post("/hotline/kb/moi", dict(PERMIT, action="save"))
    assert draft.status_code == 302
    edit_url = draft.headers["Location"]
    page = client.get("/hotline/kb?q=thu+tuc+cap+giay+phep").get_data(as_text=True)
    assert PERMIT["question"] in page and "Chưa công bố" in page
    # the public page does not show a draft
    public = FlaskClient(app, use_cookies=True)
    assert PERMIT["question"] not in public.get("/cong-khai/hoi-dap?q=giay+phep").get_data(as_text=True)
    assert browser.post(edit_url, dict(PERMIT, action="publish")).status_code == 302
    fragment = client.get("/hotline/kb/ket-qua?q=th%E1%BB%A7+t%E1%BB%A5c&field=thu_tuc_hanh_chinh")
    assert PERMIT["question"] in fragment.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)
    # no login: the published article, no editing link, no author
    shown = public.get("/cong-khai/hoi-dap?q=thu+tuc+cap+giay+phep")
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and PERMIT["question"] in html and "Thời hạn giải quyết 15 ngày." in html
    assert "Tổng Đài" not in html and "/hotline/kb/" not in html.replace("/hotline/kb/ket-qua", "")
    assert PERMIT["question"] in public.get("/cong-khai/hoi-dap/ket-qua?q=giay").get_data(as_text=True)
    assert PERMIT["question"] not in public.get("/cong-khai/hoi-dap?field=y_te").get_data(as_text=True)


def test_bad_input_and_permissions(app: Flask, client: FlaskClient, browser: Browser) -> None:
    public = FlaskClient(app, use_cookies=True)
    assert public.get("/hotline/kb").status_code == 302  # to the login page
    browser.login("cv_stc")
    assert client.get("/hotline/kb").status_code == 200  # everyone signed in searches
    assert client.get("/hotline/kb/moi").status_code == 403
    assert browser.post("/hotline/kb/moi", PERMIT, page="/hotline/kb").status_code == 403
    client.post("/logout", data={"csrf_token": browser.csrf("/hotline/kb")})
    operator(app, browser)
    refused = browser.post("/hotline/kb/moi", dict(PERMIT, question="", field="bong_da"))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Nhập câu hỏi." in html and "Chọn lĩnh vực trong danh mục." in html
    assert PERMIT["answer"].split("\n")[0] in html  # what was typed is kept
    assert "Không tìm thấy câu hỏi nào" in client.get("/hotline/kb?q=giay+phep").get_data(as_text=True)
    long = public.get("/cong-khai/hoi-dap?q=" + "a" * 201).get_data(as_text=True)
    assert "dài quá 200 ký tự" in long
    assert "Lĩnh vực không có trong danh mục." in public.get("/cong-khai/hoi-dap?field=x").get_data(as_text=True)


def test_api_search(app: Flask, client: FlaskClient, browser: Browser) -> None:
    operator(app, browser)
    browser.post("/hotline/kb/moi", dict(PERMIT, action="publish"))
    token = client.post("/api/v1/auth/token", json={"username": "cv_stc", "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    found = client.get("/api/v1/kb/articles?q=giay+phep+xay+dung&field=thu_tuc_hanh_chinh", headers=headers)
    body = found.get_json()
    assert found.status_code == 200 and body["total"] == 1
    assert body["articles"][0]["question"] == PERMIT["question"]
    assert body["articles"][0]["field_label"] == "Thủ tục hành chính các cấp" and body["articles"][0]["published"]
    assert client.get("/api/v1/kb/articles?q=giay", headers={}).status_code == 401
    bad = client.get("/api/v1/kb/articles?field=bong_da", headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["message"] == "Lĩnh vực không có trong danh mục."
