"""The meeting calendar through the test client: week and day views, navigation, conflicts, the detail
page, bad input, and the JSON API."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lxml.html
import pytest
from flask import Flask
from sqlalchemy import select

from engine.persistence.models import Meeting, User
from tests.meeting_procedure import book, procedure_files, registration, take_to
from tests.web.conftest import Browser
from tests.web.test_api import API, assert_error, token_for
from tests.web.test_sla_pages import RECEIVED, use_clock
from webapp import platform
from webapp.extensions import db
from webapp.platform import services, uow

# RECEIVED is Thursday 26 November 2026, 09:00: its week runs from Monday 23 to Sunday 29 November.
Book = Callable[..., int]


def person(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


@pytest.fixture
def booked(app: Flask) -> Book:
    """`booked(data, state="da_xac_nhan", requester="cv_stc")`: a meeting of the test procedure, taken to
    that state through the real use cases; returns the meeting's id."""
    use_clock(app, RECEIVED)
    with app.app_context(), uow() as work:
        platform.publish(work, procedure_files(), None)

    def run(data: dict[str, Any], state: str = "da_xac_nhan", requester: str = "cv_stc") -> int:
        with app.app_context():
            instance_id = book(uow, services(), person(requester), data)
            take_to(uow, services(), person(requester), person("cv_sttt"), instance_id, state)
            meeting_id = db.session.scalar(select(Meeting.id).where(Meeting.instance_id == instance_id))
            assert meeting_id is not None
            return meeting_id
    return run


@pytest.fixture
def week(booked: Book) -> dict[str, int]:
    """The week of 23–29 November 2026 and its neighbours."""
    return {
        "morning": booked(registration("Giao ban trực tuyến tháng 11", "2026-11-26", "08:00", level="tinh_huyen_xa",
                                       room="Phòng họp số 1, UBND tỉnh", satellites=2, dot_xuat=True)),
        "same_room": booked(registration("Họp Ban chỉ đạo chuyển đổi số", "2026-11-26", "09:00",
                                         room="phòng họp SỐ 1,  UBND tỉnh", gio_ket_thuc="10:30"),
                            requester="cv_syt"),
        "big_a": booked(registration("Hội nghị triển khai Nghị quyết", "2026-11-28", "14:00", level="tw_tinh",
                                     room="Hội trường A", satellites=24)),
        "big_b": booked(registration("Tập huấn phần mềm một cửa", "2026-11-28", "15:00", level="huyen_xa",
                                     room="Hội trường B", satellites=19)),
        "refused": booked(registration("Họp bị từ chối", "2026-11-26", "08:00", room="Phòng họp số 1, UBND tỉnh",
                                       satellites=30), "tu_choi"),
        "last_week": booked(registration("Họp tuần trước", "2026-11-20", "08:00")),
        "next_week": booked(registration("Họp tuần sau", "2026-11-30", "13:30"), "dang_ky"),
    }


def html_of(response: Any) -> Any:
    return lxml.html.fromstring(response.get_data(as_text=True))


def texts(page: Any, xpath: str) -> list[str]:
    return [" ".join(node.text_content().split()) for node in page.xpath(xpath)]


def row(page: Any, meeting_id: int) -> dict[str, str]:
    (tr,) = page.xpath(f'//tr[@data-meeting-id="{meeting_id}"]')
    cells = [" ".join(td.text_content().split()) for td in tr.xpath("./td")]
    return dict(zip(("time", "title", "level", "room", "host", "endpoints", "state"), cells, strict=True))


def hrefs(page: Any, css_class: str) -> list[str]:
    return page.xpath(f'//a[contains(concat(" ", @class, " "), " {css_class} ")]/@href')


# ---------------------------------------------------------------- the week and the day


def test_the_week_lists_every_day_with_its_meetings(browser: Browser, week: dict[str, int]) -> None:
    browser.login("cv_stc")
    assert 'href="/meetings"' in browser.client.get("/").get_data(as_text=True)  # "Lịch họp" in the menu
    response = browser.client.get("/meetings")
    assert response.status_code == 200
    page = html_of(response)
    assert texts(page, "//h1") == ["Lịch họp"]
    assert texts(page, '//*[contains(@class, "meetings-range")]') == [
        "Tuần từ Thứ Hai, 23/11/2026 đến Chủ nhật, 29/11/2026"]
    assert page.xpath('//section[contains(@class, "meeting-day")]/@data-date') == [
        f"2026-11-{d}" for d in range(23, 30)]
    today = page.xpath('//section[contains(@class, "meeting-today")]')
    assert [s.get("data-date") for s in today] == ["2026-11-26"]
    assert texts(page, '//section[@data-date="2026-11-26"]//h2') == ["Thứ Năm, 26/11/2026 Hôm nay 3 cuộc họp"]
    assert texts(page, '//section[@data-date="2026-11-23"]//p') == ["Không có cuộc họp."]
    listed = [int(i) for i in page.xpath("//tr/@data-meeting-id")]
    assert listed == [week["morning"], week["refused"], week["same_room"], week["big_a"], week["big_b"]]

    morning = row(page, week["morning"])
    assert morning["time"] == "08:00–11:30"  # no end given: the end of the morning session
    assert morning["title"].startswith("Giao ban trực tuyến tháng 11 Đột xuất Chi tiết")
    assert (morning["level"], morning["room"], morning["host"]) == (
        "Tỉnh - Huyện - Xã", "Phòng họp số 1, UBND tỉnh", "Văn phòng UBND tỉnh")
    assert (morning["endpoints"], morning["state"]) == ("3", "Đã xác nhận")
    assert row(page, week["refused"])["state"] == "Từ chối"
    assert row(page, week["same_room"])["time"] == "09:00–10:30"

    assert hrefs(page, "meetings-prev") == ["/meetings?view=week&date=2026-11-19"]
    assert hrefs(page, "meetings-next") == ["/meetings?view=week&date=2026-12-03"]
    assert hrefs(page, "meetings-today") == ["/meetings?view=week&date=2026-11-26"]
    assert hrefs(page, "meetings-day-view") == ["/meetings?view=day&date=2026-11-26"]


def test_conflicts_are_warned_on_both_meetings(browser: Browser, week: dict[str, int]) -> None:
    browser.login("cv_sttt")
    page = html_of(browser.client.get("/meetings"))
    warnings = {mid: texts(page, f'//tr[@data-meeting-id="{mid}"]//*[contains(@class, "meeting-warning")]')
                for mid in week.values() if page.xpath(f'//tr[@data-meeting-id="{mid}"]')}
    assert warnings[week["morning"]] == [
        "⚠ Trùng phòng họp “Phòng họp số 1, UBND tỉnh” với “Họp Ban chỉ đạo chuyển đổi số” (09:00–10:30 26/11/2026)."]
    assert warnings[week["same_room"]] == [
        "⚠ Trùng phòng họp “phòng họp SỐ 1, UBND tỉnh” với “Giao ban trực tuyến tháng 11” (08:00–11:30 26/11/2026)."]
    assert warnings[week["big_a"]] == [
        "⚠ Vượt dung lượng MCU: 45 điểm cầu cùng lúc (tối đa 40), cùng với “Tập huấn phần mềm một cửa” "
        "(15:00–17:00 28/11/2026)."]
    assert warnings[week["big_b"]][0].startswith("⚠ Vượt dung lượng MCU: 45 điểm cầu cùng lúc (tối đa 40)")
    assert warnings[week["refused"]] == []  # a refused meeting holds no room
    assert page.xpath(f'//tr[@data-meeting-id="{week["morning"]}"]/@class') == ["meeting-row meeting-conflict"]
    summary = texts(page, '//*[contains(@class, "meetings-conflicts")]/strong')
    assert summary == ["⚠ Cảnh báo xung đột: 4 cuộc họp cần cùng phòng họp hoặc vượt dung lượng MCU."]


def test_everyone_sees_the_calendar_but_opens_only_their_instances(browser: Browser, week: dict[str, int],
                                                                   app: Flask) -> None:
    with app.app_context():
        instance_of = dict(db.session.execute(select(Meeting.id, Meeting.instance_id)).all())
    browser.login("cv_syt")  # Sở Y tế booked only the second meeting
    page = html_of(browser.client.get("/meetings"))
    own = page.xpath(f'//tr[@data-meeting-id="{week["same_room"]}"]//td[2]/a[1]/@href')
    other = page.xpath(f'//tr[@data-meeting-id="{week["morning"]}"]//td[2]/a[1]/@href')
    assert own == [f"/instances/{instance_of[week['same_room']]}"]
    assert other == [f"/meetings/{week['morning']}"]
    assert browser.client.get(f"/instances/{instance_of[week['morning']]}").status_code == 403
    assert browser.client.get(f"/meetings/{week['morning']}").status_code == 200


def test_the_day_view_and_moving_between_days_and_weeks(browser: Browser, week: dict[str, int]) -> None:
    browser.login("cv_stc")
    page = html_of(browser.client.get("/meetings?view=day&date=2026-11-28"))
    assert texts(page, '//*[contains(@class, "meetings-range")]') == ["Thứ Bảy, 28/11/2026"]
    assert [int(i) for i in page.xpath("//tr/@data-meeting-id")] == [week["big_a"], week["big_b"]]
    assert hrefs(page, "meetings-prev") == ["/meetings?view=day&date=2026-11-27"]
    assert hrefs(page, "meetings-next") == ["/meetings?view=day&date=2026-11-29"]
    assert hrefs(page, "meetings-week-view") == ["/meetings?view=week&date=2026-11-28"]
    assert texts(page, '//a[contains(@class, "meetings-prev")]') == ["‹ Ngày trước"]
    # The day's two big meetings together need more endpoints than the MCU carries.
    assert len(page.xpath('//*[contains(@class, "meeting-warning")]')) == 2

    next_week = html_of(browser.client.get("/meetings?view=week&date=2026-12-03"))
    assert texts(next_week, '//*[contains(@class, "meetings-range")]') == [
        "Tuần từ Thứ Hai, 30/11/2026 đến Chủ nhật, 06/12/2026"]
    assert [int(i) for i in next_week.xpath("//tr/@data-meeting-id")] == [week["next_week"]]
    assert row(next_week, week["next_week"])["state"] == "Đã đăng ký"
    assert next_week.xpath('//section[contains(@class, "meeting-today")]') == []
    earlier = html_of(browser.client.get("/meetings?date=2026-11-19"))
    assert [int(i) for i in earlier.xpath("//tr/@data-meeting-id")] == [week["last_week"]]
    assert texts(html_of(browser.client.get("/meetings?view=day&date=2026-11-24")), "//section//p") == [
        "Không có cuộc họp."]


@pytest.mark.parametrize(("query", "message"), [
    ("date=2026-13-01", "Ngày “2026-13-01” không phải ngày hợp lệ; hãy viết theo dạng năm-tháng-ngày"),
    ("date=26/11/2026", "Ngày “26/11/2026” không phải ngày hợp lệ"),
    ("view=day&date=1999-12-31", "năm 2000–2099"),
    ("view=month", "Chế độ xem phải là “week” (tuần) hoặc “day” (ngày)."),
])
@pytest.mark.usefixtures("booked")
def test_bad_input_gets_a_vietnamese_message(browser: Browser, query: str, message: str) -> None:
    browser.login("cv_stc")
    response = browser.client.get(f"/meetings?{query}")
    assert response.status_code == 400
    page = html_of(response)
    (error,) = texts(page, '//*[contains(@class, "meetings-error")]')
    assert message in error
    # The page still shows this week, so the user can go on.
    assert texts(page, '//*[contains(@class, "meetings-range")]') == [
        "Tuần từ Thứ Hai, 23/11/2026 đến Chủ nhật, 29/11/2026"]


def test_the_calendar_needs_a_login_and_speaks_english(browser: Browser, week: dict[str, int]) -> None:
    response = browser.client.get("/meetings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert browser.client.get(f"/meetings/{week['morning']}").status_code == 302
    browser.login("cv_stc")
    page = html_of(browser.client.get("/meetings?lang=en"))
    assert texts(page, "//h1") == ["Meeting calendar"]
    assert texts(page, '//*[contains(@class, "meetings-range")]') == [
        "Week from Monday, 23 Nov 2026 to Sunday, 29 Nov 2026"]
    assert row(page, week["morning"])["state"] == "Confirmed"
    assert row(page, week["morning"])["level"] == "Province - District - Commune"
    assert "Room “Phòng họp số 1, UBND tỉnh” is also booked for" in page.text_content()
    browser.client.get("/meetings?lang=vi")


# ---------------------------------------------------------------- one meeting


def test_the_meeting_page_shows_details_and_conflicts(browser: Browser, week: dict[str, int]) -> None:
    browser.login("cv_stc")
    page = html_of(browser.client.get(f"/meetings/{week['big_a']}"))
    assert texts(page, "//h1") == ["Hội nghị triển khai Nghị quyết"]
    facts = dict(zip(texts(page, "//dl/dt"), texts(page, "//dl/dd"), strict=True))
    assert facts["Thời gian"] == "Thứ Bảy, 28/11/2026, 14:00–17:00"
    assert facts["Cấp họp"] == "TW - Tỉnh"
    assert facts["Phòng họp (điểm cầu chính)"] == "Hội trường A"
    assert facts["Số điểm cầu"] == "25 (1 điểm cầu chính và 24 điểm cầu vệ tinh)"
    assert facts["Hồ sơ"].startswith("Hồ sơ số ")
    (alert,) = page.xpath('//*[contains(@class, "meeting-conflict-alert")]')
    assert alert.get("data-kind") == "vuot_mcu"
    assert "Vượt dung lượng MCU: 45 điểm cầu cùng lúc (tối đa 40)" in alert.text_content()
    assert alert.xpath(".//a/@href") == [f"/meetings/{week['big_b']}"]
    assert page.xpath('//a[contains(@class, "meeting-back")]/@href') == [
        f"/meetings?view=week&date=2026-11-28#meeting-{week['big_a']}"]

    quiet = html_of(browser.client.get(f"/meetings/{week['next_week']}"))
    assert texts(quiet, '//*[contains(@class, "meeting-no-conflict")]') == [
        "Không trùng phòng họp và không vượt dung lượng MCU (tối đa 40 điểm cầu cùng lúc)."]
    refused = html_of(browser.client.get(f"/meetings/{week['refused']}"))
    assert refused.xpath('//*[contains(@class, "meeting-no-conflict")]') == []
    assert texts(refused, '//*[contains(@class, "meeting-state")]') == ["Từ chối"]
    missing = browser.client.get("/meetings/999999")
    assert missing.status_code == 404 and "Không tìm thấy cuộc họp." in missing.get_data(as_text=True)


def test_a_cancelled_meeting_shows_as_cancelled_and_frees_its_room(browser: Browser, booked: Book) -> None:
    first = booked(registration("Họp sẽ hủy", "2026-11-27", "08:00", room="Phòng họp số 2"), "cancelled")
    second = booked(registration("Họp cùng phòng", "2026-11-27", "08:00", room="Phòng họp số 2"))
    browser.login("cv_stc")
    page = html_of(browser.client.get("/meetings?view=day&date=2026-11-27"))
    assert row(page, first)["state"] == "Hủy" and row(page, second)["state"] == "Đã xác nhận"
    assert page.xpath('//*[contains(@class, "meeting-warning")]') == []


# ---------------------------------------------------------------- the API


@pytest.fixture
def headers(client: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(client, 'cv_syt')}"}


def test_api_lists_the_range_with_conflicts(client: Any, headers: dict[str, str], week: dict[str, int]) -> None:
    response = client.get(f"{API}/meetings?from=2026-11-23&to=2026-11-29", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert (body["from"], body["to"], body["mcu_capacity"]) == ("2026-11-23", "2026-11-29", 40)
    listed = {m["id"]: m for m in body["meetings"]}
    assert list(listed) == [week["morning"], week["refused"], week["same_room"], week["big_a"], week["big_b"]]
    morning = listed[week["morning"]]
    assert {k: morning[k] for k in ("title", "level", "level_label", "starts_at", "ends_at", "room", "host_unit",
                                    "endpoints", "state", "state_label", "urgent", "process_id")} == {
        "title": "Giao ban trực tuyến tháng 11", "level": "tinh_huyen_xa", "level_label": "Tỉnh - Huyện - Xã",
        "starts_at": "2026-11-26T08:00:00+07:00", "ends_at": "2026-11-26T11:30:00+07:00",
        "room": "Phòng họp số 1, UBND tỉnh", "host_unit": "Văn phòng UBND tỉnh", "endpoints": 3,
        "state": "da_xac_nhan", "state_label": "Đã xác nhận", "urgent": True, "process_id": "hop_thu_nghiem"}
    assert morning["conflicts"] == [{
        "kind": "trung_phong", "meetings": [week["same_room"]], "endpoints": None, "capacity": None,
        "message": "Trùng phòng họp “Phòng họp số 1, UBND tỉnh” với “Họp Ban chỉ đạo chuyển đổi số” "
                   "(09:00–10:30 26/11/2026).",
        "message_en": "Room “Phòng họp số 1, UBND tỉnh” is also booked for “Họp Ban chỉ đạo chuyển đổi số” "
                      "(09:00–10:30 26/11/2026)."}]
    (capacity,) = listed[week["big_b"]]["conflicts"]
    assert (capacity["kind"], capacity["endpoints"], capacity["capacity"], capacity["meetings"]) == (
        "vuot_mcu", 45, 40, [week["big_a"]])
    assert listed[week["refused"]]["conflicts"] == []
    one_day = client.get(f"{API}/meetings?from=2026-11-30&to=2026-11-30", headers=headers).get_json()
    assert [m["id"] for m in one_day["meetings"]] == [week["next_week"]]


@pytest.mark.parametrize(("query", "code", "message"), [
    ("from=2026-11-23&to=29/11/2026", "invalid_data", "Đến ngày “29/11/2026” không phải ngày hợp lệ"),
    ("from=hom-nay&to=2026-11-29", "invalid_data", "Từ ngày “hom-nay” không phải ngày hợp lệ"),
    ("from=2026-11-29&to=2026-11-23", "invalid_data", "“Từ ngày” phải trước hoặc bằng “Đến ngày”."),
    ("from=2026-11-01&to=2027-01-02", "invalid_data", "Mỗi lần chỉ xem được tối đa 62 ngày."),
    ("from=2026-11-23", "invalid_request", "Dữ liệu gửi lên không đúng định dạng."),
])
def test_api_refuses_bad_ranges_in_vietnamese(client: Any, headers: dict[str, str], app: Flask, query: str,
                                              code: str, message: str) -> None:
    error = assert_error(client.get(f"{API}/meetings?{query}", headers=headers), 400, code)
    assert message in error["message"]


def test_api_needs_a_token(client: Any) -> None:
    assert_error(client.get(f"{API}/meetings?from=2026-11-23&to=2026-11-29"), 401, "auth_failed")
