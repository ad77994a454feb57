"""The Vietnamese working calendar: the issue's known cases, working-hour arithmetic, overrides."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.calendar import CalendarCache, DaySource, WorkingCalendar
from engine.domain.errors import Forbidden, InvalidData
from engine.persistence.models import AuditEvent, CalendarOverride, User
from engine.persistence.uow import UnitOfWork
from engine.services import calendar as calendar_service
from engine.services.context import Services
from engine.settings import Settings, parse_working_hours
from tests.engine.conftest import Clock
from tests.engine.test_instances import REQUEST, complete, start, the_ready_task

VN = ZoneInfo("Asia/Ho_Chi_Minh")
Uow = Callable[[], UnitOfWork]


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# ---------------------------------------------------------------- the known cases


def test_tet_2026_days_off_and_a_friday_request_due_on_wednesday_after(cal: WorkingCalendar) -> None:
    tet = [date(2026, 2, d) for d in range(16, 21)]
    assert [cal.is_working_day(d) for d in tet] == [False] * 5
    assert cal.is_working_day(date(2026, 2, 13)) and cal.is_working_day(date(2026, 2, 23))
    named = {d.day: d for d in cal.non_working_days(2026)}
    assert named[date(2026, 2, 17)].name == "Tết Nguyên Đán"
    assert {named[d].source for d in tet} == {DaySource.HOLIDAYS}
    # Received Friday 13 Feb 15:00; working days counted from the next working day: 23, 24, 25 Feb.
    assert cal.add_working_days(vn(2026, 2, 13, 15), 3) == vn(2026, 2, 25, 17)


def test_saturday_26_april_2025_worked_for_friday_2_may_off(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2025, 4, 26))  # a Saturday
    assert not cal.is_working_day(date(2025, 5, 2))  # a Friday
    days = {d.day: d for d in cal.special_days(2025)}
    assert days[date(2025, 4, 26)].is_working and days[date(2025, 4, 26)].source == DaySource.HOLIDAYS
    assert "02/05/2025" in days[date(2025, 4, 26)].name
    assert "26/04/2025" in days[date(2025, 5, 2)].name
    assert date(2025, 4, 26) not in {d.day for d in cal.non_working_days(2025)}
    # Thursday 24 Apr 2025 10:00 + 2: Friday 25, Saturday 26 (worked).
    assert cal.add_working_days(vn(2025, 4, 24, 10), 2) == vn(2025, 4, 26, 17)
    # Tuesday 29 Apr + 1: 30 Apr, 1 and 2 May are off, 3-4 May the weekend: Monday 5 May.
    assert cal.add_working_days(vn(2025, 4, 29, 9), 1) == vn(2025, 5, 5, 17)


def test_hung_kings_day_2026_on_a_sunday_is_observed_on_monday(cal: WorkingCalendar) -> None:
    assert date(2026, 4, 26).weekday() == 6
    assert not cal.is_working_day(date(2026, 4, 27))
    observed = cal.describe(date(2026, 4, 27))
    assert observed is not None and "Giỗ Tổ Hùng Vương" in observed.name and "nghỉ bù" in observed.name
    # Friday 24 Apr + 1 skips the weekend and the observed Monday.
    assert cal.add_working_days(vn(2026, 4, 24, 9), 1) == vn(2026, 4, 28, 17)


# ---------------------------------------------------------------- receipt rule, hours, going back


@pytest.mark.parametrize(("received", "due"), [
    (vn(2026, 3, 2, 6, 0), vn(2026, 3, 5, 17)),     # before opening: counts from that Monday
    (vn(2026, 3, 2, 12, 15), vn(2026, 3, 5, 17)),   # over lunch: the afternoon period, same day
    (vn(2026, 3, 2, 17, 0), vn(2026, 3, 5, 17)),    # at 17:00 exactly: still that day
    (vn(2026, 3, 2, 17, 1), vn(2026, 3, 6, 17)),    # after hours: clock starts Tuesday 07:30
    (vn(2026, 3, 7, 10, 0), vn(2026, 3, 12, 17)),   # Saturday: clock starts Monday 07:30
    (vn(2026, 2, 13, 17, 30), vn(2026, 2, 26, 17)),  # Friday before Tết, after hours
])
def test_received_outside_working_hours_the_clock_starts_at_the_next_period(
        cal: WorkingCalendar, received: datetime, due: datetime) -> None:
    assert cal.add_working_days(received, 3) == due
    assert cal.working_days_between(received, due) == 3


def test_clock_start(cal: WorkingCalendar) -> None:
    assert cal.clock_start(vn(2026, 3, 2, 12, 0)) == vn(2026, 3, 2, 13, 30)
    assert cal.clock_start(vn(2026, 3, 6, 18, 0)) == vn(2026, 3, 9, 7, 30)
    assert cal.clock_start(vn(2026, 3, 2, 9, 0)) == vn(2026, 3, 2, 9, 0)


def test_working_hours_across_lunch_and_weekend(cal: WorkingCalendar) -> None:
    assert cal.add_working_hours(vn(2026, 3, 2, 11, 0), 1) == vn(2026, 3, 2, 14, 0)  # lunch skipped
    assert cal.add_working_hours(vn(2026, 3, 6, 16, 0), 2) == vn(2026, 3, 9, 8, 30)  # Fri -> Mon
    assert cal.add_working_hours(vn(2026, 3, 2, 16, 0), 1) == vn(2026, 3, 2, 17, 0)  # ends at 17:00
    assert cal.add_working_hours(vn(2026, 3, 2, 12, 0), 0.5) == vn(2026, 3, 2, 14, 0)  # starts 13:30
    assert cal.add_working_hours(vn(2026, 3, 9, 8, 0), -1) == vn(2026, 3, 6, 16, 30)  # back over weekend
    assert cal.add_working_hours(vn(2026, 3, 2, 14, 0), -1) == vn(2026, 3, 2, 11, 0)  # back over lunch
    assert cal.add_working_hours(vn(2026, 3, 2, 8, 30), -1) == vn(2026, 3, 2, 7, 30)  # stops at opening
    assert cal.add_working_hours(vn(2026, 2, 13, 16, 0), 4) == vn(2026, 2, 23, 10, 30)  # over Tết
    assert cal.working_seconds_between(vn(2026, 3, 6, 16, 0), vn(2026, 3, 9, 8, 30)) == 2 * 3600
    assert cal.working_seconds_between(vn(2026, 3, 9, 8, 30), vn(2026, 3, 6, 16, 0)) == -2 * 3600
    assert cal.working_seconds_between(vn(2026, 3, 2, 0, 0), vn(2026, 3, 3, 0, 0)) == 7.5 * 3600


def test_going_back_working_days_before_a_meeting(cal: WorkingCalendar) -> None:
    # Meeting Wednesday 25 Feb 2026 09:00; three working days before: 24, 23 and (over Tết) 13 Feb.
    assert cal.add_working_days(vn(2026, 2, 25, 9), -3) == vn(2026, 2, 13, 17)
    assert cal.add_working_days(vn(2026, 3, 7, 9), -1) == vn(2026, 3, 6, 17)  # meeting on Saturday
    # Back then forward lands on the end of the meeting day.
    assert cal.add_working_days(cal.add_working_days(vn(2026, 2, 25, 9), -3), 3) == vn(2026, 2, 25, 17)
    assert cal.working_days_between(vn(2026, 2, 25, 9), vn(2026, 2, 13, 17)) == -3


def test_working_days_between_matches_add_working_days(cal: WorkingCalendar) -> None:
    start = vn(2026, 4, 24, 16, 45)
    for n in range(0, 8):
        due = cal.add_working_days(start, n)
        assert cal.working_days_between(start, due) == n
        assert cal.working_days_between(start, due + timedelta(minutes=1)) == n + 1


def test_naive_datetimes_are_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        cal.add_working_days(datetime(2026, 2, 13, 15), 3)
    with pytest.raises(ValueError, match="no time zone"):
        cal.is_working_time(datetime(2026, 2, 13, 15))
    with pytest.raises(ValueError, match="whole number"):
        cal.add_working_days(vn(2026, 2, 13, 15), 1.5)  # type: ignore[arg-type]


def test_results_are_in_vietnam_time_whatever_the_input_zone(cal: WorkingCalendar) -> None:
    due = cal.add_working_days(datetime(2026, 2, 13, 8, tzinfo=UTC), 3)  # 15:00 in Đồng Tháp
    assert due == vn(2026, 2, 25, 17) and due.utcoffset() == timedelta(hours=7)
    assert cal.is_working_time(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # 08:00 local
    assert not cal.is_working_time(vn(2026, 3, 2, 17, 0))


def test_working_hours_setting() -> None:
    assert parse_working_hours("08:00-12:00, 13:00-17:00") == ((time(8), time(12)), (time(13), time(17)))
    for bad in ("8h-12h", "12:00-08:00", "08:00-12:00,11:00-17:00", "08:00"):
        with pytest.raises(ValueError, match="WORKING_HOURS="):
            parse_working_hours(bad)
    settings = Settings.from_env({"WORKING_HOURS": "08:00-12:00,13:00-16:30"})
    cal = WorkingCalendar(working_hours=settings.working_hours)
    assert cal.add_working_days(vn(2026, 3, 2, 9), 1) == vn(2026, 3, 3, 16, 30)


def test_overrides_in_the_calendar_itself() -> None:
    cal = WorkingCalendar({date(2026, 3, 3): (False, "Ngày nghỉ của tỉnh", "QĐ 12/QĐ-UBND")})
    assert cal.add_working_days(vn(2026, 3, 2, 9), 1) == vn(2026, 3, 4, 17)
    (day,) = [d for d in cal.non_working_days(2026) if d.source == DaySource.OVERRIDE]
    assert (day.day, day.name, day.decision) == (date(2026, 3, 3), "Ngày nghỉ của tỉnh", "QĐ 12/QĐ-UBND")


def test_cache_keeps_the_calendar_until_it_is_old_or_invalidated() -> None:
    built: list[int] = []
    now = [0.0]

    def build() -> WorkingCalendar:
        built.append(1)
        return WorkingCalendar()

    cache = CalendarCache(build, ttl=30, monotonic=lambda: now[0])
    first = cache.get()
    now[0] = 29.0
    assert cache.get() is first and len(built) == 1
    now[0] = 30.0
    assert cache.get() is not first and len(built) == 2
    cache.invalidate()
    cache.get()
    assert len(built) == 3


# ---------------------------------------------------------------- overrides through the service


def add(uow: Uow, services: Services, actor: User, day: date, is_working: bool, reason: str = "Lý do",
        decision: str = "") -> int:
    with uow() as u:
        return calendar_service.add_override(u, services, actor, day, is_working, reason, decision).id


def test_an_admin_override_moves_deadlines_and_is_audited(uow: Uow, services: Services,
                                                           people: dict[str, User]) -> None:
    admin = people["qt"]
    received = vn(2026, 11, 27, 10)  # Friday
    assert services.calendar().add_working_days(received, 3) == vn(2026, 12, 2, 17)
    override_id = add(uow, services, admin, date(2026, 11, 30), False, "Nghỉ lễ kỷ niệm của tỉnh",
                      "Quyết định 123/QĐ-UBND")
    assert services.calendar().add_working_days(received, 3) == vn(2026, 12, 3, 17)
    with uow() as u:
        view = calendar_service.year_view(u, services, 2026)
        assert [(o.day, o.decision) for o in view.overrides] == [(date(2026, 11, 30), "Quyết định 123/QĐ-UBND")]
        (event,) = u.session.scalars(select(AuditEvent).where(AuditEvent.action == "calendar_override_add"))
        assert event.actor_id == admin.id and event.after["day"] == "2026-11-30"

    with uow() as u:
        calendar_service.remove_override(u, services, admin, override_id)
    assert services.calendar().add_working_days(received, 3) == vn(2026, 12, 2, 17)
    with uow() as u:
        assert u.session.scalar(select(AuditEvent).where(AuditEvent.action == "calendar_override_remove"))


def test_a_swapped_saturday_override_makes_it_a_working_day(uow: Uow, services: Services,
                                                            people: dict[str, User]) -> None:
    add(uow, services, people["qt"], date(2026, 12, 5), True, "Làm bù cho ngày nghỉ 02/01/2027")
    assert services.calendar().is_working_day(date(2026, 12, 5))
    assert services.calendar().add_working_days(vn(2026, 12, 4, 9), 1) == vn(2026, 12, 5, 17)


@pytest.mark.parametrize(("day", "is_working", "reason", "match"), [
    (date(2026, 12, 1), True, "Lý do", "already a working day"),      # a Tuesday
    (date(2026, 12, 6), False, "Lý do", "already a day off"),         # a Sunday
    (date(2026, 9, 2), False, "Lý do", "already a day off"),          # National Day
    (date(2026, 12, 1), False, "  ", "reason"),
    (date(2026, 12, 1), False, "x" * 256, "at most"),
    (date(2150, 12, 1), False, "Lý do", "year"),
])
def test_pointless_or_bad_overrides_are_refused(uow: Uow, services: Services, people: dict[str, User],
                                                day: date, is_working: bool, reason: str, match: str) -> None:
    with pytest.raises(InvalidData, match=match):
        add(uow, services, people["qt"], day, is_working, reason)


def test_a_day_gets_one_override_and_only_admins_set_them(uow: Uow, services: Services,
                                                          people: dict[str, User]) -> None:
    add(uow, services, people["qt"], date(2026, 12, 1), False)
    with pytest.raises(InvalidData, match="already has an override"):
        add(uow, services, people["qt"], date(2026, 12, 1), False)
    with pytest.raises(Forbidden):
        add(uow, services, people["cv_stc"], date(2026, 12, 2), False)


def test_other_processes_see_an_override_after_their_cache_expires(
        uow: Uow, services: Services, people: dict[str, User], settings: Settings) -> None:
    # Another process (the worker) whose cached calendar is always too old to keep.
    other = Services(replace(settings, calendar_cache_seconds=0), services.adapters,
                     calendar_overrides=services.calendar_overrides)
    assert other.calendar().is_working_day(date(2026, 12, 1))
    add(uow, services, people["qt"], date(2026, 12, 1), False)
    assert not other.calendar().is_working_day(date(2026, 12, 1))


# ---------------------------------------------------------------- in expressions of a running workflow


def test_expressions_use_the_live_calendar(uow: Uow, services: Services, people: dict[str, User],
                                           clock: Clock, published: object) -> None:
    clock.now = vn(2026, 11, 27, 10)  # Friday
    env = services.runtime.environment
    assert env.evaluate("add_working_days(now(), 3)", {}) == vn(2026, 12, 2, 17)
    assert env.evaluate("subtract_working_days(ngay_hop, 3)", {"ngay_hop": "2026-12-02"}) == date(2026, 11, 27)
    assert env.evaluate("add_working_hours(now(), 2)", {}) == vn(2026, 11, 27, 14, 0)  # over lunch
    assert env.evaluate("working_hours_between(now(), add_working_hours(now(), 7.5))", {}) == 7.5
    assert env.evaluate("working_days_between(now(), add_working_days(now(), 4))", {}) == 4
    assert env.evaluate("is_working_time(now()) and is_working_day(today())", {}) is True

    requester, expert_task = people["cv_stc"], "Task_XuLyDangKy"
    before = start(uow, services, requester)
    complete(uow, services, requester, the_ready_task(uow, before, "Task_LapDeNghi").id, REQUEST)
    assert the_ready_task(uow, before, expert_task).due_at == vn(2026, 12, 2, 17)

    add(uow, services, people["qt"], date(2026, 11, 30), False, "Nghỉ theo quyết định của tỉnh")
    assert env.evaluate("add_working_days(now(), 3)", {}) == vn(2026, 12, 3, 17)
    after = start(uow, services, requester)
    complete(uow, services, requester, the_ready_task(uow, after, "Task_LapDeNghi").id, REQUEST)
    assert the_ready_task(uow, after, expert_task).due_at == vn(2026, 12, 3, 17)
    # The open task received before the day off was declared steps over it too.
    assert the_ready_task(uow, before, expert_task).due_at == vn(2026, 12, 3, 17)


def test_removing_a_day_off_moves_open_deadlines_back(uow: Uow, services: Services, people: dict[str, User],
                                                      clock: Clock, published: object) -> None:
    clock.now = vn(2026, 11, 27, 10)
    add(uow, services, people["qt"], date(2026, 11, 30), False, "Nghỉ theo quyết định của tỉnh")
    requester = people["cv_stc"]
    instance = start(uow, services, requester)
    complete(uow, services, requester, the_ready_task(uow, instance, "Task_LapDeNghi").id, REQUEST)
    assert the_ready_task(uow, instance, "Task_XuLyDangKy").due_at == vn(2026, 12, 3, 17)
    with uow() as work:
        override_id = work.session.scalars(select(CalendarOverride.id)).one()
        calendar_service.remove_override(work, services, people["qt"], override_id)
    assert the_ready_task(uow, instance, "Task_XuLyDangKy").due_at == vn(2026, 12, 2, 17)
    with uow() as work:
        events = work.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "calendar_override_remove")).all()
        assert "hạn xử lý được điều chỉnh" in events[-1].summary


def test_expressions_refuse_naive_moments(services: Services) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        services.runtime.environment.evaluate("add_working_days(t, 1)", {"t": datetime(2026, 3, 2, 9)})
