"""Hotline 1022 public pages through the test client (no login): the form and its thank-you page, the refusals,
the ticket lookup and the limits."""
from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.persistence.models import HotlineEvent, HotlineTicket
from engine.services import hotline_public
from engine.settings import Settings
from tests.engine.conftest import Clock
from tests.web.conftest import add_people
from tests.web.test_sla_pages import use_clock
from webapp.platform import uow
from webapp.public_hotline import MAX_POST_BYTES

FORM_URL, SENT_URL, LOOKUP_URL = "/cong-khai/1022", "/cong-khai/1022/da-gui", "/cong-khai/tra-cuu-phieu"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
CONTENT = "Xin hỏi thủ tục đăng ký khai sinh cho con cần giấy tờ gì?"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, hotline_public_per_hour=2, hotline_lookup_per_hour=3)


@pytest.fixture
def clock(app: Flask) -> Clock:
    add_people(app, {"tongdai": ("Đinh Thị Thoại", "ttpvhcc", ["tong_dai_vien"])},
               {"ttpvhcc": "Trung tâm Phục vụ hành chính công"})
    return use_clock(app, NOW)


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, name
    return html.unescape(found.group(1))


def open_form(client: FlaskClient, clock: Clock) -> dict[str, str]:
    """The form's CSRF token, signed token and the answer to its question; then ten seconds pass."""
    page = client.get(FORM_URL).get_data(as_text=True)
    question = re.search(r'class="ph-question">([^<]+)<', page)
    assert question
    words = html.unescape(question.group(1)).lower().split()
    clock.advance(seconds=10)
    return {"csrf_token": hidden(page, "csrf_token"), "token": hidden(page, "token"),
            "answer": str(hotline_public.DIGITS.index(words[0]) + hotline_public.DIGITS.index(words[2]))}


def post_form(client: FlaskClient, clock: Clock, **changes: Any) -> Any:
    data = {**open_form(client, clock), "name": "Lê Thị Hoa", "phone": "0912 345 678", "email": "",
            "field": "thu_tuc_hanh_chinh", "content": CONTENT, "website": ""}
    data.update(changes)
    return client.post(FORM_URL, data=data)


def tickets(app: Flask) -> list[HotlineTicket]:
    with app.app_context(), uow() as work:
        rows = list(work.session.scalars(select(HotlineTicket).order_by(HotlineTicket.id)))
        work.session.expunge_all()
        return rows


def events(app: Flask) -> int:
    with app.app_context(), uow() as work:
        return int(work.session.scalar(select(func.count()).select_from(HotlineEvent)) or 0)


def test_the_form_sends_a_question_without_login(app: Flask, client: FlaskClient, clock: Clock) -> None:
    page = client.get(FORM_URL)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    assert "Gửi câu hỏi, phản ánh, kiến nghị đến Tổng đài 1022" in body
    for label in ("Họ và tên", "Số điện thoại", "Thư điện tử", "Lĩnh vực", "Nội dung câu hỏi, phản ánh, kiến nghị"):
        assert label in body
    assert re.search(r'class="ph-question">[A-ZĐ][^<]* cộng [^<]* bằng mấy\?<', body)
    assert 'maxlength="5000"' in body and 'name="website"' in body and 'name="csrf_token"' in body
    assert 'href="/cong-khai/hoi-dap"' in body and f'href="{LOOKUP_URL}"' in body

    sent = post_form(client, clock, email="Hoa.Le@Example.vn")
    assert (sent.status_code, sent.headers["Location"]) == (302, SENT_URL)
    (ticket,) = tickets(app)
    assert (ticket.code, ticket.channel, ticket.phone, ticket.email, ticket.content) == (
        "1022-2026-000001", "web", "0912345678", "hoa.le@example.vn", CONTENT)
    thanks = client.get(SENT_URL).get_data(as_text=True)
    assert "1022-2026-000001" in thanks
    assert "đã nhận được thông tin góp ý, phản ánh của Quý khách, xin cảm ơn." in thanks
    assert "Thư xác nhận đã được gửi" not in thanks  # NOTIFICATIONS=local: no mail left
    assert f'href="{LOOKUP_URL}?ma=1022-2026-000001"' in thanks
    # Reloading the thank-you page sends nothing again.
    assert "1022-2026-000001" in client.get(SENT_URL).get_data(as_text=True)
    assert len(tickets(app)) == 1 and events(app) == 1
    # A visitor who sent nothing is taken to the form.
    assert app.test_client().get(SENT_URL).headers["Location"] == FORM_URL


@pytest.mark.parametrize(("changes", "status", "says"), [
    ({"website": "http://quang-cao.example"}, 400, hotline_public.REFUSED.vi),
    ({"answer": "100"}, 400, "Kết quả phép tính kiểm tra chưa đúng"),
    ({"token": "gia-mao"}, 400, "Biểu mẫu không hợp lệ"),
    ({"phone": "", "email": ""}, 400, "Vui lòng cho biết số điện thoại hoặc địa chỉ thư điện tử"),
    ({"phone": "123"}, 400, "Số điện thoại “123” không hợp lệ"),
    ({"csrf_token": ""}, 400, "CSRF"),
])
def test_refusals_say_why_keep_the_text_and_create_nothing(  # type: ignore[no-untyped-def]
        app, client, clock, changes, status, says) -> None:
    refused = post_form(client, clock, **changes)
    body = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == status and says in body
    if "csrf_token" not in changes:
        assert CONTENT in body and 'name="token"' in body  # the form again, as typed
    assert tickets(app) == [] and events(app) == 0


def test_a_form_sent_at_once_is_refused(app: Flask, client: FlaskClient, clock: Clock) -> None:
    page = client.get(FORM_URL).get_data(as_text=True)
    clock.advance(seconds=1)
    refused = client.post(FORM_URL, data={"csrf_token": hidden(page, "csrf_token"), "token": hidden(page, "token"),
                                          "answer": "2", "phone": "0912345678", "content": CONTENT})
    assert refused.status_code == 400 and "Biểu mẫu được gửi quá nhanh" in refused.get_data(as_text=True)
    assert tickets(app) == []


def test_oversized_posts_are_refused(app: Flask, client: FlaskClient, clock: Clock) -> None:
    refused = post_form(client, clock, content="x" * (MAX_POST_BYTES + 1))
    assert refused.status_code == 413 and tickets(app) == []


def test_the_form_is_limited_per_address(app: Flask, client: FlaskClient, clock: Clock) -> None:
    assert post_form(client, clock).status_code == 302
    assert post_form(client, clock).status_code == 302
    third = post_form(client, clock)
    assert third.status_code == 429
    assert "Đã có quá 2 lượt gửi câu hỏi từ địa chỉ mạng của Quý khách" in third.get_data(as_text=True)
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert post_form(other, clock).status_code == 302
    assert [t.code for t in tickets(app)] == [f"1022-2026-00000{n}" for n in (1, 2, 3)]


def lookup(client: FlaskClient, code: str, phone: str) -> Any:
    page = client.get(LOOKUP_URL).get_data(as_text=True)
    return client.post(LOOKUP_URL, data={"csrf_token": hidden(page, "csrf_token"), "code": code, "phone": phone})


def test_lookup_shows_the_ticket_to_its_phone_number_only(app: Flask, client: FlaskClient, clock: Clock) -> None:
    post_form(client, clock, name="Lê Thị Hoa")
    form = client.get(f"{LOOKUP_URL}?ma=1022-2026-000001").get_data(as_text=True)
    assert 'value="1022-2026-000001"' in form and 'href="/cong-khai/1022"' in form
    found = lookup(client, "1022-2026-000001", "+84912345678")
    body = found.get_data(as_text=True)
    assert found.status_code == 200
    for shown in ("Phiếu 1022-2026-000001", "26/11/2026", "Cổng thông tin", "Thủ tục hành chính các cấp",
                  "Đã tiếp nhận, đang chờ phân loại", "Câu trả lời sẽ được gửi đến Quý khách"):
        assert shown in body
    assert CONTENT not in body and "Lê Thị Hoa" not in body and "0912345678" not in body
    assert "Đinh Thị Thoại" not in body
    wrong = lookup(client, "1022-2026-000001", "0912345679").get_data(as_text=True)
    unknown = lookup(client, "1022-2026-000009", "0912345678").get_data(as_text=True)
    for page in (wrong, unknown):
        assert "Không tìm thấy phiếu với mã và số điện thoại này." in page and "public-lookup-result" not in page
    limited = lookup(client, "1022-2026-000001", "0912345678")  # the fourth lookup this hour
    assert limited.status_code == 429 and "Đã có quá 3 lượt tra cứu" in limited.get_data(as_text=True)


def test_the_public_pages_in_english(app: Flask, client: FlaskClient, clock: Clock) -> None:
    body = client.get(f"{FORM_URL}?lang=en").get_data(as_text=True)
    assert "Send a question, report or suggestion to the 1022 hotline" in body
    assert "Ticket lookup" in client.get(LOOKUP_URL).get_data(as_text=True)
