"""The calendar from outside: the CLI, the JSON API and the admin page for overrides."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine.persistence.models import AuditEvent, CalendarOverride
from tests.web.conftest import Browser
from tests.web.test_api import API, assert_error, token_for
from webapp.extensions import db


def cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["calendar", *args])


# ---------------------------------------------------------------- CLI


@pytest.mark.parametrize(("args", "printed"), [
    (("--from", "2026-02-13T15:00", "--working-days", "3"), "2026-02-25T17:00:00+07:00"),
    (("--from", "2026-02-13T08:00:00Z", "--working-days", "3"), "2026-02-25T17:00:00+07:00"),
    (("--from", "2026-03-02T11:00", "--working-hours", "1"), "2026-03-02T14:00:00+07:00"),
    (("--from", "2026-02-25T09:00", "--working-days", "3", "--before"), "2026-02-13T17:00:00+07:00"),
])
def test_cli_prints_the_deadline(app: Flask, args: tuple[str, ...], printed: str) -> None:
    result = cli(app, "deadline", *args)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == printed


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "13/02/2026", "--working-days", "3"), "Thời điểm không hợp lệ"),
    (("--from", "2026-02-13T15:00", "--working-days", "-1"), "phải là số không âm"),
    (("--from", "2026-02-13T15:00"), "Cần đúng một trong hai"),
    (("--from", "2026-02-13T15:00", "--working-days", "1", "--working-hours", "2"), "Cần đúng một trong hai"),
])
def test_cli_refuses_bad_input_in_vietnamese(app: Flask, args: tuple[str, ...], message: str) -> None:
    result = cli(app, "deadline", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_cli_lists_a_years_days(app: Flask) -> None:
    result = cli(app, "days", "2025")
    assert result.exit_code == 0
    assert "2025-04-26\tlàm việc\tholidays" in result.output
    assert "2025-05-02\tnghỉ\tholidays" in result.output


# ---------------------------------------------------------------- API


@pytest.fixture
def headers(client: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(client, 'cv_stc')}"}


def test_api_deadline(client: Any, headers: dict[str, str]) -> None:
    def ask(query: str) -> Any:
        response = client.get(f"{API}/calendar/deadline?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["deadline"]

    assert ask("from=2026-02-13T15:00&working_days=3") == "2026-02-25T17:00:00+07:00"
    assert ask("from=2026-02-13T15:00%2B07:00&working_days=3") == "2026-02-25T17:00:00+07:00"
    assert ask("from=2026-03-06T16:00&working_hours=2") == "2026-03-09T08:30:00+07:00"
    assert ask("from=2026-02-25T09:00&working_days=3&before=1") == "2026-02-13T17:00:00+07:00"
    assert ask("from=2026-04-24&working_days=1") == "2026-04-28T17:00:00+07:00"  # Giỗ Tổ observed


@pytest.mark.parametrize(("query", "code"), [
    ("from=hom-qua&working_days=3", "invalid_data"),
    ("from=2026-02-30T10:00&working_days=3", "invalid_data"),
    ("from=2026-02-13T15:00&working_days=-3", "invalid_data"),
    ("from=2026-02-13T15:00&working_hours=-1", "invalid_data"),
    ("from=2026-02-13T15:00", "invalid_data"),
    ("from=2026-02-13T15:00&working_days=1&working_hours=1", "invalid_data"),
    ("from=2026-02-13T15:00&working_days=99999999", "invalid_data"),
    ("from=2099-12-30T10:00&working_days=10", "invalid_data"),
    ("from=2026-02-13T15:00&working_days=ba", "invalid_request"),
    ("working_days=3", "invalid_request"),
])
def test_api_deadline_bad_input_is_400_in_vietnamese(client: Any, headers: dict[str, str], query: str,
                                                     code: str) -> None:
    response = client.get(f"{API}/calendar/deadline?{query}", headers=headers)
    error = assert_error(response, 400, code)
    assert error["message"] != error["message_en"]


def test_api_year_lists_days_off_with_names_and_sources(client: Any, headers: dict[str, str]) -> None:
    response = client.get(f"{API}/calendar/2026", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["year"] == 2026
    assert body["working_hours"] == [{"start": "07:30", "end": "11:30"}, {"start": "13:30", "end": "17:00"}]
    days = {d["date"]: d for d in body["days"]}
    assert days["2026-02-17"] == {"date": "2026-02-17", "name": "Tết Nguyên Đán", "source": "holidays",
                                  "is_working": False, "decision": ""}
    assert "nghỉ bù" in days["2026-04-27"]["name"]
    assert days["2026-08-22"]["is_working"] is True  # Saturday worked for Monday 31 Aug


@pytest.mark.parametrize("year", ["1800", "123456", "-5"])
def test_api_year_out_of_range_is_400(client: Any, headers: dict[str, str], year: str) -> None:
    assert_error(client.get(f"{API}/calendar/{year}", headers=headers), 400, "invalid_data")


def test_api_calendar_needs_a_token(client: Any) -> None:
    assert_error(client.get(f"{API}/calendar/2026"), 401, "auth_failed")


# ---------------------------------------------------------------- admin page


def test_admin_adds_and_removes_an_override_audited(app: Flask, browser: Browser, client: Any,
                                                    headers: dict[str, str]) -> None:
    browser.login("qt")
    page = browser.client.get("/admin/calendar?year=2026")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-date="2026-02-17" title="Tết Nguyên Đán"' in html
    assert "Chưa có điều chỉnh nào." in html

    response = browser.post("/admin/calendar/overrides", {
        "year": "2026", "day": "2026-12-01", "kind": "nghi", "reason": "Kỷ niệm ngày thành lập tỉnh",
        "decision": "45/QĐ-UBND"}, page="/admin/calendar?year=2026")
    assert response.status_code == 302
    html = browser.client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="cal-override-off" data-date="2026-12-01" title="Kỷ niệm ngày thành lập tỉnh"' in html
    assert "45/QĐ-UBND" in html
    due = client.get(f"{API}/calendar/deadline?from=2026-11-30T09:00&working_days=1", headers=headers)
    assert due.get_json()["deadline"] == "2026-12-02T17:00:00+07:00"  # 1 Dec is now a day off

    with app.app_context():
        (row,) = db.session.scalars(select(CalendarOverride)).all()
        override_id = row.id
    response = browser.post(f"/admin/calendar/overrides/{override_id}/delete", {"year": "2026"},
                            page="/admin/calendar?year=2026")
    assert response.status_code == 302
    due = client.get(f"{API}/calendar/deadline?from=2026-11-30T09:00&working_days=1", headers=headers)
    assert due.get_json()["deadline"] == "2026-12-01T17:00:00+07:00"
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("calendar_override_%")).order_by(AuditEvent.id)).all()
        assert actions == ["calendar_override_add", "calendar_override_remove"]
        assert db.session.scalars(select(CalendarOverride)).all() == []


@pytest.mark.parametrize(("form", "message"), [
    ({"day": "2026-02-31", "kind": "nghi", "reason": "x"}, "Ngày không hợp lệ"),
    ({"day": "", "kind": "nghi", "reason": "x"}, "Ngày không hợp lệ"),
    ({"day": "2026-12-01", "kind": "lam_viec", "reason": "x"}, "vốn đã là ngày làm việc"),
    ({"day": "2026-12-01", "kind": "nghi", "reason": ""}, "Vui lòng nhập lý do"),
    ({"day": "2026-12-01", "kind": "khac", "reason": "x"}, "Chọn loại điều chỉnh"),
    ({"day": "3026-12-01", "kind": "nghi", "reason": "x"}, "Năm phải nằm trong khoảng"),
])
def test_admin_form_refuses_bad_overrides_with_400(browser: Browser, form: dict[str, str], message: str) -> None:
    browser.login("qt")
    response = browser.post("/admin/calendar/overrides", {"year": "2026", **form}, page="/admin/calendar")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_calendar_page_is_for_admins_only(browser: Browser) -> None:
    browser.login("cv_stc")
    assert browser.client.get("/admin/calendar").status_code == 403
    refused = browser.post("/admin/calendar/overrides", {"day": "2026-12-01", "kind": "nghi", "reason": "x"},
                           page="/")
    assert refused.status_code == 403
    html = browser.client.get("/").get_data(as_text=True)
    assert "Việc cần làm" in html
    assert "/admin/calendar" not in html


def test_calendar_page_in_english(browser: Browser) -> None:
    browser.login("qt")
    html = browser.client.get("/admin/calendar?year=2025&lang=en").get_data(as_text=True)
    assert "Working calendar 2025" in html and "February" in html
