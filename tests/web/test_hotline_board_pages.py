"""Hotline 1022 ticket list, monitoring board and statistics pages, their Excel files and the statistics API."""
from __future__ import annotations

import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from engine.persistence.models import AuditEvent
from engine.services import hotline, hotline_board
from tests.web.conftest import PASSWORD, Browser, add_people
from webapp.platform import services, uow

CENTRE = {"ttpvhcc": "Trung tâm Phục vụ hành chính công"}


def centre(app: Flask) -> None:
    add_people(app, {"tongdai": ("Đinh Thị Thoại", "ttpvhcc", ["tong_dai_vien"]),
                     "ld_1022": ("Nguyễn Văn Thanh", "ttpvhcc", ["lanh_dao"])}, CENTRE)


def take(app: Flask, **fields: Any) -> str:
    values: dict[str, Any] = {"channel": "dien_thoai", "caller": "Phạm Minh Châu", "phone": "0912345678",
                              "content": "Hỏi thủ tục đăng ký kết hôn"}
    values.update(fields)
    with app.app_context(), uow() as work:
        return hotline.intake(work, services(), None, **values).code


def test_ticket_list_masks_contacts_for_a_leader(app: Flask, client: FlaskClient, browser: Browser) -> None:
    centre(app)
    code = take(app)
    take(app, channel="email", phone="", email="ba.hoa@gmail.com", caller="Lê Thị Hoa",
         content="Đèn đường hẻm 12 không sáng")
    browser.login("ld_1022")
    html = client.get("/hotline/danh-sach").get_data(as_text=True)
    assert f'href="/hotline/phieu/{code}"' in html and "091****678" in html and "b***@gmail.com" in html
    assert "0912345678" not in html and "Phạm M. C." in html and "Nghị định 13/2023/NĐ-CP" in html
    assert 'class="nav-link active" aria-current="page" href="/hotline/danh-sach"' in html
    only = client.get("/hotline/danh-sach?channel=email&q=%C4%91%C3%A8n").get_data(as_text=True)
    assert "Lê T. H." in only and code not in only
    assert 'href="/hotline/danh-sach.xlsx?channel=email&amp;q=' in only
    bad = client.get("/hotline/danh-sach?from=2026-13-01")
    assert bad.status_code == 400 and "không phải ngày hợp lệ" in bad.get_data(as_text=True)
    sheet = load_workbook(io.BytesIO(client.get("/hotline/danh-sach.xlsx").data)).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert "091****678" in cells and "0912345678" not in cells


def test_operator_sees_and_exports_full_contacts_audited(app: Flask, client: FlaskClient, browser: Browser) -> None:
    centre(app)
    take(app)
    browser.login("tongdai")
    assert "0912345678" in client.get("/hotline/danh-sach").get_data(as_text=True)
    reply = client.get("/hotline/danh-sach.xlsx?channel=dien_thoai")
    assert reply.status_code == 200 and "phieu-1022-" in reply.headers["Content-Disposition"]
    cells = [c for row in load_workbook(io.BytesIO(reply.data)).active.iter_rows(values_only=True) for c in row]
    assert "0912345678" in cells and "Phạm Minh Châu" in cells
    with app.app_context(), uow() as work:
        (event,) = work.session.scalars(select(AuditEvent).where(AuditEvent.action == "hotline.export_contacts"))
        assert event.after == {"filter": {"channel": "dien_thoai"}, "rows": 1}


def test_board_and_its_refreshing_fragment(app: Flask, client: FlaskClient, browser: Browser) -> None:
    centre(app)
    take(app)
    browser.login("ld_1022")
    page = client.get("/hotline/giam-sat").get_data(as_text=True)
    assert 'data-refresh-url="/hotline/giam-sat/noi-dung"' in page and "dist/hotline_board.js" in page
    assert "Cập nhật lúc" in page and "091****678" in page
    take(app, phone="0987000111")
    fragment = client.get("/hotline/giam-sat/noi-dung").get_data(as_text=True)
    assert "<html" not in fragment and "098****111" in fragment
    assert 'data-counter="received"><div class="small text-muted">Tiếp nhận hôm nay</div><div class="display-6 ' \
           'fw-semibold">2</div>' in fragment
    assert "Tự động (kênh trực tuyến)" in fragment


def test_statistics_page_excel_and_api(app: Flask, client: FlaskClient, browser: Browser) -> None:
    centre(app)
    take(app)
    take(app, channel="zalo", phone="0987000111")
    with app.app_context():
        today = hotline_board.today(services()).isoformat()
    browser.login("ld_1022")
    html = client.get(f"/hotline/thong-ke?from={today}&to={today}&group_by=kenh").get_data(as_text=True)
    assert "Điện thoại 1022" in html and "Zalo OA" in html and 'class="dti-chart hotline-stats-chart"' in html
    assert f'href="/hotline/thong-ke.xlsx?from={today}&amp;to={today}&amp;group_by=kenh"' in html
    assert client.get("/hotline/thong-ke").status_code == 200  # this month by default
    bad = client.get("/hotline/thong-ke?from=2026-11-02&to=2026-11-01")
    assert bad.status_code == 400 and "“Từ ngày” phải trước hoặc bằng “Đến ngày”" in bad.get_data(as_text=True)
    rows = list(load_workbook(io.BytesIO(client.get(
        f"/hotline/thong-ke.xlsx?from={today}&to={today}&group_by=kenh").data)).active.iter_rows(values_only=True))
    assert (None, "Tổng cộng", 2, 0, 0, 0, 0) in rows
    token = client.post("/api/v1/auth/token", json={"username": "ld_1022", "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get(f"/api/v1/hotline/statistics?from={today}&to={today}&group_by=kenh", headers=headers).get_json()
    assert body["total"]["received"] == 2 and body["from"] == today
    assert {r["key"]: r["counts"]["received"] for r in body["rows"]} == {"dien_thoai": 1, "zalo": 1}
    assert client.get("/api/v1/hotline/statistics?group_by=quy", headers=headers).status_code == 400
    other = client.post("/api/v1/auth/token", json={"username": "cv_stc", "password": PASSWORD}).get_json()["token"]
    assert client.get("/api/v1/hotline/statistics", headers={"Authorization": f"Bearer {other}"}).status_code == 403


def test_others_may_not_open_the_pages(app: Flask, client: FlaskClient, browser: Browser) -> None:
    assert client.get("/hotline/giam-sat").status_code == 302  # to the login page
    browser.login("cv_stc")
    for url in ("/hotline/danh-sach", "/hotline/danh-sach.xlsx", "/hotline/giam-sat", "/hotline/giam-sat/noi-dung",
                "/hotline/thong-ke", "/hotline/thong-ke.xlsx"):
        assert client.get(url).status_code == 403, url


def test_simulate_fills_the_last_day_for_the_board(app: Flask, client: FlaskClient, browser: Browser) -> None:
    centre(app)
    result = app.test_cli_runner().invoke(args=["hotline", "simulate", "--days", "1", "--count", "6", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Đã tạo 6 phiếu trong 24 giờ qua:")
    browser.login("ld_1022")
    listed = client.get("/hotline/danh-sach").get_data(as_text=True)
    assert listed.count('class="hotline-ticket-link"') == 6 and "1022-" in listed
    refused = app.test_cli_runner().invoke(args=["hotline", "simulate", "--count", "0"])
    assert refused.exit_code != 0 and "Invalid value for '--count'" in refused.output
