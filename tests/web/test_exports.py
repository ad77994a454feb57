"""Excel downloads: the task and case lists as each user sees them, and the statistics pages and files."""
from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select

from engine.persistence.models import User
from engine.settings import Settings
from tests.engine.test_reports import MEETING_PROCESS, Meeting, hold_meeting, meeting_procedure
from tests.web.conftest import Browser, settings_counting_meetings
from tests.web.test_sla_pages import LEADER, RECEIVED, Scenario, add_leader, build_scenario, use_clock
from webapp import platform
from webapp.extensions import db
from webapp.platform import services, uow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_ROW = 4  # title, "exported by" line, an empty row, then the header


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """The shipped Phụ lục V definition, counting the small test meeting procedure."""
    return settings_counting_meetings(db_url, tmp_path, MEETING_PROCESS)


@pytest.fixture
def scenario(app: Flask, run_worker: Callable[[], int]) -> Scenario:
    return build_scenario(app, run_worker)


# ---------------------------------------------------------------- helpers


def download(browser: Browser, path: str) -> tuple[Any, Any]:
    response = browser.client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == XLSX
    assert response.headers["Cache-Control"] == "private, no-store"  # lists hold personal data
    return response, openpyxl.load_workbook(io.BytesIO(response.data)).active


def file_names(response: Any) -> tuple[str, str]:
    """(filename, the decoded filename*) of the download."""
    header = response.headers["Content-Disposition"]
    plain = re.search(r'filename="([^"]+)"', header)
    utf8 = re.search(r"filename\*=UTF-8''(\S+)", header)
    assert header.startswith("attachment;") and plain and utf8, header
    return plain.group(1), unquote(utf8.group(1))


def sheet_rows(ws: Any) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True)]


def page_rows(page: str, table_class: str) -> list[list[str]]:
    """The cells of a table's body as a reader sees them: tags removed, spaces collapsed."""
    table = re.search(rf'<table[^>]*{table_class}.*?<tbody>(.*?)</tbody>', page, re.S)
    if not table:
        return []
    return [[" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)]


def shown(value: Any) -> str:
    """A cell as the page prints it (dates on the Vietnamese pattern)."""
    return value.strftime("%d/%m/%Y %H:%M") if value is not None else "—"


# ---------------------------------------------------------------- task and case lists


@pytest.mark.parametrize("sort", ["due", "created"])
def test_task_export_has_the_rows_and_columns_of_the_tasklist(browser: Browser, scenario: Scenario,
                                                              sort: str) -> None:
    browser.login("cv_sttt")
    page = browser.client.get(f"/?sort={sort}").get_data(as_text=True)
    assert f'href="/tasks/export.xlsx?sort={sort}"' in page and "Xuất Excel" in page
    response, ws = download(browser, f"/tasks/export.xlsx?sort={sort}")
    assert ws["A1"].value == "Việc cần làm" and "Lê Văn Cường" in ws["A2"].value
    assert [c.value for c in ws[HEADER_ROW]] == ["Công việc", "Số hồ sơ", "Đơn vị đề nghị", "Nhận lúc",
                                                 "Hạn xử lý", "Tình trạng hạn"]
    on_page, in_file = page_rows(page, "tasklist"), sheet_rows(ws)
    assert len(in_file) == len(on_page) == 2
    for (name, case, unit, received, due, state), cells in zip(in_file, on_page, strict=True):
        assert [name, case, unit, shown(received)] == cells[:4]
        assert cells[4] == f"{shown(due)} {'!' if state == 'Quá hạn' else '✓'} {state}"
    assert {row[5] for row in in_file} == {"Quá hạn", "Đúng hạn"}
    assert file_names(response) == ("viec-can-lam-2026-12-03.xlsx", "Việc cần làm 2026-12-03.xlsx")


def test_each_user_exports_only_their_own_tasks(browser: Browser, scenario: Scenario) -> None:
    browser.login("cv_syt")
    _response, ws = download(browser, "/tasks/export.xlsx")
    (only,) = sheet_rows(ws)
    assert only[1].startswith(f"#{scenario.overdue_syt} · ") and only[2] == "Sở Y tế"
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/")})
    browser.login("cv_stc")  # every dossier of Sở Tài chính is with Sở TT&TT or finished
    _response, ws = download(browser, "/tasks/export.xlsx")
    assert sheet_rows(ws) == []
    assert ws.cell(row=HEADER_ROW, column=1).value == "Công việc"


def test_case_export_has_the_rows_of_the_case_list(browser: Browser, scenario: Scenario) -> None:
    browser.login("cv_stc")
    page = browser.client.get("/instances").get_data(as_text=True)
    assert 'href="/instances/export.xlsx"' in page
    response, ws = download(browser, "/instances/export.xlsx")
    assert [c.value for c in ws[HEADER_ROW]] == ["Số", "Quy trình", "Đơn vị đề nghị", "Người tạo", "Ngày tạo",
                                                 "Hạn xử lý", "Tình trạng hạn", "Trạng thái"]
    on_page, in_file = page_rows(page, "instances"), sheet_rows(ws)
    assert sorted(row[0] for row in in_file) == sorted([scenario.fresh_stc, scenario.finished_stc,
                                                        scenario.overdue_stc])
    assert ws.cell(row=HEADER_ROW + 1, column=1).number_format == '"#"0'  # shows #12, stays a number
    for (number, title, unit, creator, created, due, state, status), cells in zip(in_file, on_page, strict=True):
        assert [f"#{number}", title, unit, creator, shown(created)] == cells[:5]
        assert cells[5].startswith(shown(due)) and cells[5].endswith(state)
        assert cells[6] == status
    states = {row[0]: (row[6], row[7]) for row in in_file}
    assert states[scenario.overdue_stc] == ("Quá hạn", "Đang xử lý")
    assert states[scenario.finished_stc] == ("Xong trước hạn", "Hoàn thành")
    assert scenario.overdue_syt not in states  # another unit's dossier
    assert file_names(response)[0] == "ho-so-2026-12-03.xlsx"


def test_exports_speak_the_users_language_and_need_a_login(browser: Browser, scenario: Scenario) -> None:
    assert browser.client.get("/tasks/export.xlsx").status_code in (302, 401)
    assert browser.client.get("/instances/export.xlsx").status_code in (302, 401)
    browser.login("cv_sttt")
    browser.client.get("/?lang=en")
    response, ws = download(browser, "/tasks/export.xlsx")
    assert [c.value for c in ws[HEADER_ROW]][:2] == ["Task", "Case"]
    assert {row[5] for row in sheet_rows(ws)} == {"Overdue", "On time"}
    assert file_names(response) == ("viec-can-lam-2026-12-03.xlsx", "Tasks 2026-12-03.xlsx")


# ---------------------------------------------------------------- statistics


def meetings(app: Flask) -> None:
    """Meetings of the test procedure held in 2026: two Huyện - Xã, one TW - Tỉnh, one of an unknown level; one
    held in 2025; and three that are not counted: cancelled, still running, refused."""
    use_clock(app, RECEIVED)
    with app.app_context(), uow() as work:
        platform.publish(work, meeting_procedure(), None)
    for meeting in (Meeting("Huyện - Xã", "2026-02-10", "completed"), Meeting("Huyện - Xã", "2026-04-02", "completed"),
                    Meeting("tw_tinh", "2026-08-20", "completed"), Meeting("lien_tinh", "2026-11-30", "completed"),
                    Meeting("Huyện - Xã", "2026-03-01", "cancelled"), Meeting("tinh_huyen", "2025-10-01", "completed"),
                    Meeting("Huyện - Xã", "2026-05-05"), Meeting("tw_tinh", "2026-06-01", "refused")):
        with app.app_context():
            actor = db.session.scalar(select(User).where(User.username == "cv_stc"))
            hold_meeting(uow, services(), actor, meeting)


def stat_row(page: str, label: str) -> list[int]:
    match = re.search(rf'data-row="{re.escape(label)}">(.*?)</tr>', page, re.S)
    assert match, label
    return [int(v) for v in re.findall(r'<td class="num[^"]*">(\d+)</td>', match.group(1))]


def test_statistics_page_shows_the_table_with_totals(app: Flask, browser: Browser) -> None:
    meetings(app)
    add_leader(app)
    browser.login(LEADER[0])
    assert 'href="/reports/statistics"' in browser.client.get("/").get_data(as_text=True)
    first = browser.client.get("/reports/statistics")
    assert first.status_code == 302 and first.headers["Location"].endswith("/reports/statistics/phu_luc_v")
    page = browser.client.get("/reports/statistics/phu_luc_v").get_data(as_text=True)
    assert "THỐNG KÊ SỐ LƯỢNG CUỘC HỌP CÁC CẤP" in page and "Năm 2026" in page
    assert stat_row(page, "Huyện - Xã") == [1, 1, 0, 0, 2]
    assert stat_row(page, "Trung Ương - Tỉnh") == [0, 0, 1, 0, 1]
    assert stat_row(page, "Nội tỉnh") == [0, 0, 0, 0, 0]
    assert stat_row(page, "Khác") == [0, 0, 0, 1, 1]
    assert stat_row(page, "TỔNG CỘNG") == [1, 1, 1, 1, 4]
    assert "không đếm hồ sơ đang xử lý, đang có sự cố hoặc đã hủy" in page
    assert "có trạng thái cuộc họp “Đã họp”" in page
    assert 'href="/reports/statistics/phu_luc_v.xlsx?year=2026"' in page

    english = browser.client.get("/reports/statistics/phu_luc_v?lang=en").get_data(as_text=True)
    assert "Number of videoconference meetings by level" in english and "How it is counted:" in english
    assert "cancelled dossiers are not counted" in english
    browser.client.get("/?lang=vi")

    last_year = browser.client.get("/reports/statistics/phu_luc_v?year=2025").get_data(as_text=True)
    assert stat_row(last_year, "Tỉnh - Huyện") == [0, 0, 0, 1, 1]
    assert 'data-row="Khác"' not in last_year
    assert stat_row(last_year, "TỔNG CỘNG") == [0, 0, 0, 1, 1]


def test_statistics_download_is_the_same_table(app: Flask, browser: Browser) -> None:
    meetings(app)
    browser.login("qt")
    response, ws = download(browser, "/reports/statistics/phu_luc_v.xlsx?year=2026")
    assert file_names(response) == ("thong-ke-phu-luc-v-2026.xlsx", "Thống kê Phụ lục V năm 2026.xlsx")
    assert ws["A1"].value == "THỐNG KÊ SỐ LƯỢNG CUỘC HỌP CÁC CẤP" and ws["A3"].value == "NĂM 2026"
    body = {row[0]: row[1:6] for row in ws.iter_rows(min_row=7, values_only=True) if row[1] is not None}
    assert body["Huyện - Xã"] == (1, 1, 0, 0, 2)
    assert body["Khác"] == (0, 0, 0, 1, 1)
    assert body["TỔNG CỘNG"] == (1, 1, 1, 1, 4)


def test_statistics_are_for_leaders_and_administrators(app: Flask, browser: Browser) -> None:
    browser.login("cv_stc")
    assert 'href="/reports/statistics"' not in browser.client.get("/").get_data(as_text=True)
    for path in ("/reports/statistics", "/reports/statistics/phu_luc_v", "/reports/statistics/phu_luc_v.xlsx",
                 "/reports/statistics/khong_co?year=x"):
        response = browser.client.get(path)
        assert response.status_code == 403, path
        assert "Chỉ lãnh đạo và quản trị hệ thống được xem báo cáo thống kê." in response.get_data(as_text=True)


@pytest.mark.parametrize(("path", "status", "message"), [
    ("/reports/statistics/phu_luc_v?year=hai-nghin", 400, "Năm “hai-nghin” không hợp lệ"),
    ("/reports/statistics/phu_luc_v?year=1990", 400, "chọn một năm từ 2000 đến 2099"),
    ("/reports/statistics/phu_luc_v.xlsx?year=3000", 400, "Năm “3000” không hợp lệ"),
    ("/reports/statistics/khong_co", 404, "Không có báo cáo thống kê này."),
    ("/reports/statistics/khong_co.xlsx", 404, "Không có báo cáo thống kê này."),
])
def test_bad_year_or_report_is_refused_with_a_message(app: Flask, browser: Browser, path: str, status: int,
                                                      message: str) -> None:
    browser.login("qt")
    response = browser.client.get(path)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_a_broken_definition_is_named_to_the_administrator(app: Flask, browser: Browser,
                                                           settings: Settings) -> None:
    (settings.reports_dir / "hong.json").write_text('{"id": "hong", "title": "Hỏng"}', encoding="utf-8")
    browser.login("qt")
    page = browser.client.get("/reports/statistics/phu_luc_v").get_data(as_text=True)
    assert "Định nghĩa báo cáo hong.json không hợp lệ" in page and "procedures" in page
    broken = browser.client.get("/reports/statistics/hong")
    assert broken.status_code == 400 and "group_field: bắt buộc" in broken.get_data(as_text=True)


def test_without_definitions_the_page_says_so(app: Flask, browser: Browser, settings: Settings) -> None:
    (settings.reports_dir / "phu_luc_v.json").unlink()
    add_leader(app)
    browser.login(LEADER[0])
    response = browser.client.get("/reports/statistics")
    assert response.status_code == 200
    assert "Chưa có báo cáo thống kê nào." in response.get_data(as_text=True)
