"""Phụ lục V from finished instances: a year of meetings of every level in every quarter, booked and closed
through the real use cases; every cell and total on the page and in the Excel file."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import lxml.html
import openpyxl
import pytest
from flask import Flask

from engine.settings import Settings
from tests.meeting_procedure import PROCESS_ID, registration
from tests.web.conftest import Browser, settings_counting_meetings
from tests.web.test_meetings_pages import Book, booked  # noqa: F401 - the fixture booking test meetings
from tests.web.test_sla_pages import LEADER, add_leader

#: Phụ lục V's rows in order, with the level each counts.
ROWS = [("huyen_xa", "Huyện - Xã"), ("tinh_huyen", "Tỉnh - Huyện"), ("tinh_huyen_xa", "Tỉnh - Huyện - Xã"),
        ("tw_tinh", "Trung Ương - Tỉnh"), ("tw_tinh_huyen", "Trung Ương - Tỉnh - Huyện"),
        ("tw_tinh_huyen_xa", "Trung Ương - Tỉnh - Huyện - Xã"), ("noi_tinh", "Nội tỉnh"),
        ("chuyen_tiep", "Chuyển tiếp")]
#: Meetings that must not be counted: still registered or confirmed (running), refused, postponed,
#: cancelled at closing, or the instance cancelled.
NOT_HELD = ["dang_ky", "da_xac_nhan", "tu_choi", "hoan", "huy", "cancelled"]


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """The shipped Phụ lục V definition, counting the test meeting procedure."""
    return settings_counting_meetings(db_url, tmp_path, PROCESS_ID)


def held_in(level: int, quarter: int) -> int:
    """How many meetings of a level were held in a quarter: 0, 1 or 2, differing from cell to cell."""
    return (level + 2 * quarter) % 3


def book_the_year(booked: Book) -> dict[str, tuple[int, ...]]:  # noqa: F811 - the imported fixture
    """Books the year and returns the table it must give: each row's quarters and year, then the total."""
    expected: dict[str, tuple[int, ...]] = {}
    noise = iter(NOT_HELD * 2)
    for index, (level, label) in enumerate(ROWS):
        quarters = []
        for quarter in range(4):
            month = 3 * quarter + 1 + index % 3
            for n in range(held_in(index, quarter)):
                day = f"2026-{month:02d}-{10 + n:02d}"
                booked(registration(f"Hội nghị {label} quý {quarter + 1} số {n + 1}", day, level=level), "da_hop")
            quarters.append(held_in(index, quarter))
            if (index + quarter) % 4 == 0:  # a meeting of the same cell that is not counted
                booked(registration(f"Không tính {label} quý {quarter + 1}", f"2026-{month:02d}-20", level=level),
                       next(noise))
        expected[label] = (*quarters, sum(quarters))
    # Held, but in another year.
    booked(registration("Họp tháng 12 năm trước", "2025-12-29", level="huyen_xa"), "da_hop")
    booked(registration("Họp tháng 1 năm sau", "2027-01-04", level="huyen_xa"), "da_hop")
    columns = list(zip(*expected.values(), strict=True))
    expected["TỔNG CỘNG"] = tuple(sum(column) for column in columns)
    return expected


def test_phu_luc_v_counts_a_year_of_meetings_on_screen_and_in_excel(app: Flask, browser: Browser,
                                                                   booked: Book) -> None:  # noqa: F811
    expected = book_the_year(booked)
    assert expected["TỔNG CỘNG"][-1] == sum(held_in(i, q) for i in range(8) for q in range(4)) == 31
    assert all(any(expected[label][:4]) for _level, label in ROWS)  # every level has meetings
    assert all(expected["TỔNG CỘNG"][q] for q in range(4))           # and every quarter
    add_leader(app)
    browser.login(LEADER[0])

    response = browser.client.get("/reports/statistics/phu_luc_v?year=2026")
    assert response.status_code == 200
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert table_of(page) == expected  # every cell, the year column and the total row; no "Khác" row
    note = " ".join(page.xpath('//*[contains(@class, "stats-note")]')[0].text_content().split())
    assert "đã hoàn thành, có trạng thái cuộc họp “Đã họp”" in note

    download = browser.client.get("/reports/statistics/phu_luc_v.xlsx?year=2026")
    assert download.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(download.data)).active
    in_file = {row[0]: tuple(row[1:6]) for row in ws.iter_rows(min_row=7, values_only=True)
               if row[0] and row[1] is not None}
    assert in_file == expected
    assert [ws.cell(row=7 + n, column=1).value for n in range(9)] == [label for _v, label in ROWS] + ["TỔNG CỘNG"]

    for year, quarters in ((2025, (0, 0, 0, 1, 1)), (2027, (1, 0, 0, 0, 1))):
        other = table_of(lxml.html.fromstring(browser.client.get(f"/reports/statistics/phu_luc_v?year={year}")
                                              .get_data(as_text=True)))
        assert other["Huyện - Xã"] == other["TỔNG CỘNG"] == quarters, year


def table_of(page: Any) -> dict[str, tuple[int, ...]]:
    """The statistics table as the page shows it: row label → the counts of its number cells."""
    return {tr.get("data-row"): tuple(int(td.text_content()) for td in tr.xpath('./td[contains(@class, "num")]'))
            for tr in page.xpath('//table[contains(@class, "stats-table")]//tr[@data-row]')}
