"""Hotline 1022 ticket list, monitoring board, statistics and exports; the sample generator they are checked on."""
from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.domain.errors import Forbidden, InvalidData
from engine.persistence.models import AuditEvent, User
from engine.persistence.uow import UnitOfWork
from engine.services import hotline_board as hb
from engine.services import hotline_sample
from engine.services.context import Services
from tests.engine.conftest import Clock, add_people
from tests.engine.test_hotline import classify, complete, procedure, staff, take  # noqa: F401 - fixtures, helpers

Uow = Callable[[], UnitOfWork]
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def crew(uow: Uow, session_factory: sessionmaker[Session], staff: dict[str, User]) -> dict[str, User]:  # noqa: F811
    """The staff of test_hotline plus a second operator and the centre's leader."""
    return add_people(uow, session_factory, {
        "tongdai2": ("Mai Thị Hồng", "ttpvhcc", ["tong_dai_vien"]),
        "ld_1022": ("Nguyễn Văn Thanh", "ttpvhcc", ["lanh_dao"]),
    })


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VIETNAM)  # type: ignore[misc]


def day(moment: datetime | None) -> date | None:
    return moment.astimezone(VIETNAM).date() if moment else None


# ---------------------------------------------------------------- statistics on a generated month


def test_statistics_count_what_the_generator_made_in_a_month(  # type: ignore[no-untyped-def]
        uow, services: Services, crew, procedure, clock: Clock) -> None:  # noqa: F811
    made = hotline_sample.generate(uow, services, date(2026, 10, 1), date(2026, 10, 31), count=36, seed=8)
    tickets = made.tickets
    assert len(tickets) == 36 and len({t.code for t in tickets}) == 36
    assert {t.outcome for t in tickets} >= {"new", "referred", "answered", "agency"}
    assert len({t.channel for t in tickets}) >= 4
    assert all(date(2026, 10, 1) <= day(t.created_at) <= date(2026, 10, 31) for t in tickets)  # type: ignore[operator]
    clock.now = vn(2026, 11, 20, 9)  # weeks later: every ticket left open is overdue
    leader = crew["ld_1022"]
    with uow() as u:
        by_field = hb.statistics(u, services, leader, date(2026, 10, 1), date(2026, 10, 31), "linh_vuc")
        by_channel = hb.statistics(u, services, leader, date(2026, 10, 1), date(2026, 10, 31), "kenh")
        by_agency = hb.statistics(u, services, leader, date(2026, 10, 1), date(2026, 10, 31), "co_quan")
        by_day = hb.statistics(u, services, leader, date(2026, 10, 1), date(2026, 10, 31), "ngay")
        by_week = hb.statistics(u, services, leader, date(2026, 10, 1), date(2026, 10, 31), "tuan")
        by_month = hb.statistics(u, services, leader, date(2026, 9, 1), date(2026, 11, 30), "thang")
    closed = [t for t in tickets if t.closed_at]
    expected_total = {"received": 36, "processed": len(closed),
                      "answered": sum(1 for t in tickets if t.answered_at),
                      "referred": sum(1 for t in tickets if t.state == "chuyen_kenh"),
                      "overdue": made.overdue_at(clock.now)}
    assert expected_total["overdue"] == sum(1 for t in tickets if not t.closed_at) > 0
    for table in (by_field, by_channel, by_agency, by_day, by_week):
        assert table.total == expected_total, table.group_by

    def column(table: hb.StatisticsTable, metric: str) -> dict[str, int]:
        return {r.key: r.values[metric] for r in table.rows if r.values[metric]}

    assert column(by_field, "received") == Counter(t.field for t in tickets)
    assert column(by_field, "answered") == Counter(t.field for t in tickets if t.answered_at)
    assert column(by_channel, "received") == Counter(t.channel for t in tickets)
    assert column(by_channel, "processed") == Counter(t.channel for t in closed)
    assert column(by_agency, "received") == Counter(t.agency for t in tickets)
    assert column(by_agency, "overdue") == Counter(t.agency for t in tickets if not t.closed_at)
    assert column(by_day, "received") == Counter(str(day(t.created_at)) for t in tickets)
    assert column(by_day, "processed") == Counter(str(day(t.closed_at)) for t in closed)
    assert len(by_day.rows) == 31 and by_day.rows[0].label.vi == "01/10/2026"
    assert by_week.rows[0].label.vi == "Tuần 40/2026 (28/09–04/10)"
    assert [(r.label.vi, r.values["received"]) for r in by_month.rows] == [
        ("Tháng 09/2026", 0), ("Tháng 10/2026", 36), ("Tháng 11/2026", 0)]
    assert by_field.rows[0].key == "thu_tuc_hanh_chinh" or "thu_tuc_hanh_chinh" not in column(by_field, "received")
    # Before any deadline passes nothing is overdue yet.
    clock.now = vn(2026, 10, 1, 0)
    with uow() as u:
        assert hb.statistics(u, services, leader, date(2026, 10, 1), date(2026, 10, 31), "kenh").total["overdue"] == 0


def test_day_boundaries_are_vietnam_days(uow, services, crew, procedure, clock) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    clock.now = vn(2026, 11, 26, 6, 30)  # 23:30 UTC the day before
    take(uow, services, crew["tongdai"])
    clock.now = vn(2026, 11, 26, 23, 59)
    take(uow, services, crew["tongdai"], channel="zalo")
    clock.now = vn(2026, 11, 27, 0, 1)
    take(uow, services, crew["tongdai"], channel="zalo")
    with uow() as u:
        table = hb.statistics(u, services, crew["ld_1022"], date(2026, 11, 26), date(2026, 11, 26), "ngay")
        assert [(r.key, r.values["received"]) for r in table.rows] == [("2026-11-26", 2)]
        both = hb.statistics(u, services, crew["ld_1022"], date(2026, 11, 25), date(2026, 11, 27), "kenh")
        assert {r.key: r.values["received"] for r in both.rows} == {"dien_thoai": 1, "zalo": 2}


@pytest.mark.parametrize(("args", "says"), [
    ((date(2026, 11, 2), date(2026, 11, 1), "ngay"), "“Từ ngày” phải trước hoặc bằng “Đến ngày”"),
    ((date(2025, 1, 1), date(2026, 11, 1), "ngay"), "Kỳ thống kê dài quá 366 ngày"),
    ((date(2026, 11, 1), date(2026, 11, 2), "quy"), "Không thống kê theo “quy” được"),
    ((None, date(2026, 11, 2), "kenh"), "Chọn “Từ ngày” và “Đến ngày”"),
])
def test_statistics_refuse_bad_input(uow, services, crew, args, says) -> None:  # type: ignore[no-untyped-def]
    with uow() as u, pytest.raises(InvalidData) as refused:
        hb.statistics(u, services, crew["ld_1022"], *args)
    assert says in refused.value.message.vi


def test_only_board_roles_see_tickets(uow, services, crew) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        for call in (lambda: hb.board(u, services, crew["cv_syt"]),
                     lambda: hb.ticket_list(u, services, crew["cv_syt"], hb.TicketFilter()),
                     lambda: hb.statistics(u, services, crew["cv_syt"], date(2026, 11, 1), date(2026, 11, 30))):
            with pytest.raises(Forbidden):
                call()


# ---------------------------------------------------------------- list, masking and export


def test_leader_sees_masked_contacts_operator_sees_them_whole(uow, services, crew, procedure) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    take(uow, services, None, channel="web", caller="Trần Thị Bích Ngọc", phone="0912345678",
         email="bich.ngoc@gmail.com", content="Hỏi lệ phí cấp giấy phép xây dựng")
    take(uow, services, crew["tongdai"], content="Đèn đường hỏng trước nhà")
    with uow() as u:
        leader = hb.ticket_list(u, services, crew["ld_1022"], hb.ticket_filter({"q": "giấy phép"}))
        operator = hb.ticket_list(u, services, crew["tongdai"], hb.ticket_filter({"channel": "web"}))
    (seen,) = leader.rows
    assert leader.masked and (seen.caller, seen.phone, seen.email) == ("Trần T. B. N.", "091****678",
                                                                        "b***@gmail.com")
    (whole,) = operator.rows
    assert not operator.masked and (whole.caller, whole.phone, whole.email) == (
        "Trần Thị Bích Ngọc", "0912345678", "bich.ngoc@gmail.com")


def test_list_filters_and_pages(uow, services, crew, procedure, clock) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    for n in range(hb.PAGE_SIZE + 2):
        take(uow, services, crew["tongdai"], phone=f"09130000{n:02d}", content=f"Câu hỏi số {n}")
        clock.advance(minutes=1)
    clock.now = vn(2026, 11, 28, 10)
    take(uow, services, None, channel="email", phone="", email="a@b.vn", content="Hỏi 100% học phí")
    with uow() as u:
        first = hb.ticket_list(u, services, crew["ld_1022"], hb.TicketFilter())
        second = hb.ticket_list(u, services, crew["ld_1022"], hb.ticket_filter({"page": "2"}))
        assert (first.total, first.pages, len(first.rows), len(second.rows)) == (53, 2, 50, 3)
        assert first.rows[0].channel == "email"  # newest first
        assert hb.ticket_list(u, services, crew["ld_1022"], hb.ticket_filter({"q": "100%"})).total == 1
        assert hb.ticket_list(u, services, crew["ld_1022"], hb.ticket_filter({"q": "00%"})).total == 1
        assert hb.ticket_list(u, services, crew["ld_1022"], hb.ticket_filter({"q": "1022-2026-000007"})).total == 1
        assert hb.ticket_list(u, services, crew["ld_1022"], hb.ticket_filter(
            {"from": "2026-11-27", "to": "28/11/2026"})).total == 1
        assert hb.ticket_list(u, services, crew["ld_1022"], hb.ticket_filter({"state": "moi"})).total == 53
        # Classification is due within 4 working hours: on the 28th (a Saturday) the 26th's are overdue.
        assert hb.ticket_list(u, services, crew["ld_1022"], hb.ticket_filter({"overdue": "1"})).total == 52
    for bad, says in (({"state": "x"}, "Trạng thái “x” không có"), ({"from": "31/02/2026"}, "không phải ngày"),
                      ({"from": "2026-11-02", "to": "2026-11-01"}, "phải trước"), ({"q": "a" * 201}, "dài quá")):
        with pytest.raises(InvalidData) as refused:
            hb.ticket_filter(bad)
        assert says in refused.value.message.vi


def test_export_is_masked_for_a_leader_and_audited_for_an_operator(uow, services, crew, procedure) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    take(uow, services, crew["tongdai"], caller="Lê Văn Tám", phone="0987654321")
    with uow() as u:
        data = hb.export_tickets(u, services, crew["ld_1022"], hb.TicketFilter())
    sheet = load_workbook(io.BytesIO(data)).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "098****321" in values and "Lê V. T." in values and "0987654321" not in values
    with uow() as u:
        assert u.session.scalars(select(AuditEvent).where(AuditEvent.action == hb.EXPORT_ACTION)).first() is None
        full = hb.export_tickets(u, services, crew["tongdai"], hb.ticket_filter({"channel": "dien_thoai"}))
    values = [c for row in load_workbook(io.BytesIO(full)).active.iter_rows(values_only=True) for c in row]
    assert "0987654321" in values and "Lê Văn Tám" in values
    with uow() as u:
        (event,) = u.session.scalars(select(AuditEvent).where(AuditEvent.action == hb.EXPORT_ACTION))
        assert event.actor_id == crew["tongdai"].id
        assert event.after == {"filter": {"channel": "dien_thoai"}, "rows": 1}


def test_statistics_export_has_the_table_and_total(uow, services, crew, procedure) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    take(uow, services, crew["tongdai"])
    take(uow, services, None, channel="zalo", phone="0987654321")
    with uow() as u:
        data = hb.export_statistics(u, services, crew["ld_1022"], date(2026, 11, 1), date(2026, 11, 30), "kenh")
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "THỐNG KÊ PHIẾU TỔNG ĐÀI 1022"
    assert rows[1][0].startswith("Từ ngày 01/11/2026 đến ngày 30/11/2026")
    header = rows[3]
    assert header[:3] == ("STT", "Kênh tiếp nhận", "Tiếp nhận")
    assert (1, "Điện thoại 1022", 1, 0, 0, 0, 0) in rows and (None, "Tổng cộng", 2, 0, 0, 0, 0) in rows


# ---------------------------------------------------------------- the board


def test_board_counts_and_overdue_after_the_clock_moves(uow, services, crew, procedure, clock) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    first = take(uow, services, crew["tongdai"])
    take(uow, services, crew["tongdai2"], channel="dien_thoai", phone="0977111222")
    take(uow, services, None, channel="email", phone="", email="nguoi.dan@example.vn")
    tasks = classify(uow, services, crew, first, linh_vuc="thu_tuc_hanh_chinh", huong_xu_ly="tra_loi_ngay")
    complete(uow, services, crew["tongdai"], tasks["Task_TraLoiNgay"], {
        "tra_loi": "Nộp tại UBND xã.", "cach_phan_hoi": "Trả lời trong cuộc gọi", "cong_khai": False})
    with uow() as u:
        seen = hb.board(u, services, crew["ld_1022"])
    assert (seen.open_total, seen.overdue, seen.received_today, seen.closed_today) == (2, 0, 3, 1)
    assert {c.key: c.count for c in seen.by_state} == {"moi": 2, "dang_xu_ly": 0, "chuyen_co_quan": 0}
    assert {c.key: c.count for c in seen.by_agency} == {"": 2}
    by_operator = {o.name: (o.received, o.closed, o.open) for o in seen.operators}
    assert by_operator == {"Đinh Thị Thoại": (1, 1, 0), "Mai Thị Hồng": (1, 0, 1), "": (1, 0, 1)}
    assert seen.recent[0].code == "1022-2026-000003" and len(seen.recent) == 3
    assert seen.masked and seen.recent[1].phone == "097****222"
    # Classification is due within 4 working hours (Thursday 09:00 → 13:00, lunch aside).
    clock.now = vn(2026, 11, 26, 23)
    with uow() as u:
        later = hb.board(u, services, crew["tongdai"])
    assert (later.overdue, later.received_today, later.masked) == (2, 3, False)
    assert later.recent[1].phone == "0977111222"
    clock.advance(days=1)
    with uow() as u:
        assert hb.board(u, services, crew["ld_1022"]).received_today == 0


def test_generator_refuses_a_bad_count(uow, services, crew) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidData):
        hotline_sample.generate(uow, services, date(2026, 11, 1), count=0)
