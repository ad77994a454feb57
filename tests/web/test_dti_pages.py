"""The DTI pages (webapp/dti.py) through the test client: who sees what (403s), the index import with its row
errors, corrections, opening a round with bad input refused, the scoring sheet's JSON calls (CSRF, limits,
adjustment reasons), the refusal to submit with the missing count, and the ranking with its chart."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.persistence.models import DtiIndexSet, DtiScore
from tests.engine.attachment_files import pdf
from tests.engine.dti_files import SMALL, STAFF, UNITS, workbook
from tests.web.conftest import Browser, add_people
from webapp.platform import services, uow


@pytest.fixture
def people(app: Flask) -> None:
    add_people(app, STAFF, UNITS)


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


def token_of(browser: Browser, path: str) -> str:
    html = browser.client.get(path).get_data(as_text=True)
    found = re.search(r'data-csrf="([^"]+)"', html) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def import_set(browser: Browser, content: bytes, name: str = "Bộ chỉ số thử") -> Any:
    return browser.client.post("/dti/index-sets", data={
        "name": name, "year": "2026", "file": (io.BytesIO(content), "bo-chi-so.xlsx"),
        "csrf_token": token_of(browser, "/dti/index-sets")})


def set_count(app: Flask) -> int:
    with app.app_context(), uow() as work:
        return int(work.session.scalar(select(func.count(DtiIndexSet.id))) or 0)


def deadline(days: int = 20) -> str:
    return (services().now() + timedelta(days=days)).date().isoformat()


def open_round(app: Flask, browser: Browser) -> int:
    assert import_set(browser, workbook(SMALL)).status_code == 302
    with app.app_context(), uow() as work:
        set_id = work.session.scalar(select(DtiIndexSet.id))
        when = deadline()
    response = browser.client.post("/dti/rounds", data={
        "index_set_id": str(set_id), "deadline": when, "unit": ["so_tc", "so_yt"],
        "group-so_tc": "so_nganh", "group-so_yt": "so_nganh", "csrf_token": token_of(browser, "/dti/rounds/new")})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def put_json(browser: Browser, path: str, body: dict[str, Any], token: str | None) -> Any:
    headers = {"X-CSRFToken": token} if token else {}
    return browser.client.put(path, json=body, headers=headers)


def test_only_managers_see_index_sets_and_the_import_lists_row_errors(app: Flask, people: None) -> None:
    officer = signed_in(app, "cv_stc")
    assert officer.client.get("/dti/index-sets").status_code == 403
    assert officer.client.get("/dti/rounds/new").status_code == 403

    expert = signed_in(app, "cv_sttt")
    page = expert.client.get("/dti/index-sets").get_data(as_text=True)
    assert "Tải tệp mẫu" in page
    example = expert.client.get("/dti/index-sets/bo_chi_so_mau.xlsx")
    assert example.status_code == 200 and example.data[:2] == b"PK"

    bad = [*SMALL, ("1.1", "1", None, "Trùng mã", 1, None, None, None, None)]
    refused = import_set(expert, workbook(bad))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "dti-error-table" in html and "1.1" in html
    assert re.search(r'<td class="num">\d+</td>', html)  # the spreadsheet row of each problem
    assert set_count(app) == 0

    no_file = expert.client.post("/dti/index-sets", data={"name": "X", "year": "2026",
                                                          "csrf_token": token_of(expert, "/dti/index-sets")})
    assert no_file.status_code == 400 and "Chưa chọn tệp Excel" in no_file.get_data(as_text=True)
    no_csrf = expert.client.post("/dti/index-sets", data={"name": "X", "year": "2026",
                                                          "file": (io.BytesIO(workbook(SMALL)), "a.xlsx")})
    assert no_csrf.status_code == 400 and set_count(app) == 0

    done = import_set(expert, workbook(SMALL))
    assert done.status_code == 302 and set_count(app) == 1
    tree = expert.client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Kế hoạch chuyển đổi số" in tree and "Sửa chỉ số" in tree


def test_corrections_are_checked_together(app: Flask, people: None) -> None:
    expert = signed_in(app, "cv_sttt")
    location = import_set(expert, workbook(SMALL)).headers["Location"]
    edit = expert.client.get(location + "?edit=1").get_data(as_text=True)
    assert 'name="max-1.1"' in edit
    token = token_of(expert, location + "?edit=1")
    broken = expert.client.post(location, data={"max-1.1": "5", "csrf_token": token})
    assert broken.status_code == 400
    assert "tổng điểm các chỉ số con" in broken.get_data(as_text=True)
    fixed = expert.client.post(location, data={"max-1.1": "5", "max-1": "11", "csrf_token": token})
    assert fixed.status_code == 302
    page = expert.client.get(location).get_data(as_text=True)
    assert re.search(r"1\.1</td>\s*<td>.*?</td>\s*<td class=\"num\">5</td>", page, re.S)


def test_opening_a_round_refuses_bad_input(app: Flask, people: None) -> None:
    expert = signed_in(app, "cv_sttt")
    import_set(expert, workbook(SMALL))
    with app.app_context(), uow() as work:
        set_id = work.session.scalar(select(DtiIndexSet.id))
    form = expert.client.get("/dti/rounds/new").get_data(as_text=True)
    assert 'name="unit" value="so_tc"' in form and "Sở, ban, ngành tỉnh" in form
    refused = expert.client.post("/dti/rounds", data={"index_set_id": str(set_id), "deadline": "2000-01-01",
                                                      "csrf_token": token_of(expert, "/dti/rounds/new")})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Chọn ít nhất một đơn vị tham gia." in html and "phải sau thời điểm hiện tại" in html


def test_the_sheet_saves_lines_and_guards_access(app: Flask, people: None) -> None:
    expert = signed_in(app, "cv_sttt")
    round_id = open_round(app, expert)
    officer = signed_in(app, "cv_stc")
    sheet_path = f"/dti/rounds/{round_id}/units/so_tc"
    page = officer.client.get(sheet_path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'class="form-select form-select-sm dti-self-input"' in html  # 1.1 is full/half/zero: a select
    assert "Nộp bản tự đánh giá" in html and "dti_sheet.js" in html
    assert "Chỉ số DTI" in html  # the nav item for a participant

    other = signed_in(app, "cv_syt")
    forbidden = other.client.get(sheet_path)
    assert forbidden.status_code == 403 and "chỉ xem được điểm của chính mình" in forbidden.get_data(as_text=True)
    assert other.client.get(f"/dti/rounds/{round_id}/ranking").status_code == 403

    token = token_of(officer, sheet_path)
    assert put_json(officer, sheet_path + "/scores/1.2/self", {"score": "3"}, None).status_code == 400  # no CSRF
    over = put_json(officer, sheet_path + "/scores/1.2/self", {"score": "7"}, token)
    assert over.status_code == 400 and "tối đa là 6" in over.get_json()["error"]["message"]
    half = put_json(officer, sheet_path + "/scores/1.1/self", {"score": "1"}, token)
    assert half.status_code == 400 and "chỉ nhận 0, 2, 4 điểm" in half.get_json()["error"]["message"]
    saved = put_json(officer, sheet_path + "/scores/1.2/self", {"score": "2,5", "note": "10 tin bài"}, token)
    assert saved.status_code == 200
    assert saved.get_json()["self_score"] == 250 and saved.get_json()["self_total"] == 250
    with app.app_context(), uow() as work:
        assert work.session.scalar(select(func.count(DtiScore.id))) == 1
    assert put_json(other, sheet_path + "/scores/1.2/self", {"score": "1"}, token_of(other, "/")).status_code == 403

    history = officer.client.get(sheet_path + "/scores/1.2/history").get_json()
    assert [(h["actor"], h["new"], h["text"]) for h in history] == [("Trần Thị Bình", "2,5", "10 tin bài")]

    wrong = officer.client.post(sheet_path + "/scores/1.1/evidence", data={
        "file": (io.BytesIO(b"MZ not a document"), "ke-hoach.pdf"), "csrf_token": token})
    assert wrong.status_code == 400 and wrong.get_json()["error"]["message"]
    stored = officer.client.post(sheet_path + "/scores/1.1/evidence", data={
        "file": (io.BytesIO(pdf("Ke hoach")), "ke-hoach.pdf"), "csrf_token": token})
    assert stored.status_code == 201
    assert officer.client.get(stored.get_json()["url"]).data.startswith(b"%PDF")

    refused = officer.client.post(sheet_path + "/submit", data={"xac_nhan": "1", "csrf_token": token})
    assert refused.status_code == 400
    assert "còn 2 chỉ số chưa chấm điểm" in refused.get_data(as_text=True)
    assert "dti-missing" in refused.get_data(as_text=True)


def test_expert_needs_a_reason_and_the_ranking_draws_bars(app: Flask, people: None) -> None:
    expert = signed_in(app, "cv_sttt")
    round_id = open_round(app, expert)
    officer = signed_in(app, "cv_stc")
    path = f"/dti/rounds/{round_id}/units/so_tc"
    token = token_of(officer, path)
    for code, value in {"1.1": "4", "1.2": "6", "2.1": "5"}.items():
        assert put_json(officer, f"{path}/scores/{code}/self", {"score": value}, token).status_code == 200
    officer.client.post(f"{path}/scores/1.1/evidence", data={
        "file": (io.BytesIO(pdf("Ke hoach")), "ke-hoach.pdf"), "csrf_token": token})
    submitted = officer.client.post(path + "/submit", data={"xac_nhan": "1", "csrf_token": token})
    assert submitted.status_code == 302

    review = expert.client.get(path).get_data(as_text=True)
    assert "dti-expert-input" in review and "Hoàn thành đánh giá độc lập" in review
    expert_token = token_of(expert, path)
    no_reason = put_json(expert, f"{path}/scores/1.2/expert", {"score": "3"}, expert_token)
    assert no_reason.status_code == 400 and "phải nêu lý do điều chỉnh" in no_reason.get_json()["error"]["message"]
    adjusted = put_json(expert, f"{path}/scores/1.2/expert", {"score": "3", "reason": "Chỉ 6 tin bài."}, expert_token)
    assert adjusted.get_json()["final_total"] == 1200

    ranking = expert.client.get(f"/dti/rounds/{round_id}/ranking")
    html = ranking.get_data(as_text=True)
    assert ranking.status_code == 200
    assert "<svg" in html and "dti-chart-bar" in html and "Sở Tài chính" in html and "Dự thảo" in html
    assert "style=" not in html.split("<main", 1)[1]  # the CSP forbids inline styles
    workbook_file = expert.client.get(f"/dti/rounds/{round_id}/ranking.xlsx")
    assert workbook_file.status_code == 200 and workbook_file.data[:2] == b"PK"
    report = expert.client.get(f"{path}/report.docx")
    assert report.status_code == 200 and report.data[:2] == b"PK"


def test_the_nav_item_only_for_people_concerned(app: Flask, people: None, client: FlaskClient) -> None:
    outsider = signed_in(app, "cv_sxd")
    assert "nav-dti" not in outsider.client.get("/").get_data(as_text=True)
    assert outsider.client.get("/dti").status_code == 200  # an empty list, not an error
    assert "nav-dti" in signed_in(app, "cv_sttt").client.get("/").get_data(as_text=True)


def test_every_changing_sheet_call_needs_the_csrf_token(app: Flask, people: None) -> None:
    expert = signed_in(app, "cv_sttt")
    round_id = open_round(app, expert)
    officer = signed_in(app, "cv_stc")
    sheet_path = f"/dti/rounds/{round_id}/units/so_tc"
    token = token_of(officer, sheet_path)
    stored = officer.client.post(sheet_path + "/scores/1.1/evidence", data={
        "file": (io.BytesIO(pdf("Ke hoach")), "ke-hoach.pdf"), "csrf_token": token})
    assert stored.status_code == 201
    client = officer.client
    refused = [
        client.put(sheet_path + "/scores/1.2/self", json={"score": "1"}),
        client.put(sheet_path + "/scores/1.2/expert", json={"score": "1", "reason": "x"}),
        client.post(sheet_path + "/scores/1.2/response", json={"text": "x"}),
        client.post(sheet_path + "/scores/1.2/evidence", data={"file": (io.BytesIO(pdf("x")), "x.pdf")}),
        client.delete(stored.get_json()["remove"]),
        client.post(sheet_path + "/submit", data={"xac_nhan": "1"}),
    ]
    assert [r.status_code for r in refused] == [400] * len(refused)
    with app.app_context(), uow() as work:
        assert work.session.scalar(select(func.count(DtiScore.id))) == 1  # the evidence's line only
    assert client.get(stored.get_json()["url"]).status_code == 200
