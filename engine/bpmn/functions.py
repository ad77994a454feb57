"""Functions injected into every BPMN script and expression."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from engine.calendar import WorkingCalendar
from engine.calendar.working import whole_days

VN = ZoneInfo("Asia/Ho_Chi_Minh")
Clock = Callable[[], datetime]


CalendarSource = Callable[[], WorkingCalendar]
Moment = datetime | date | str


@lru_cache(maxsize=1)
def national_calendar() -> WorkingCalendar:
    """The calendar without overrides, for a runtime built without services (benchmarks, tools)."""
    return WorkingCalendar()


def _moment(value: Moment, calendar: WorkingCalendar) -> tuple[datetime, bool]:
    """A calendar moment for an expression's value, and whether the value was a bare date.

    A date (or "YYYY-MM-DD", as form date fields give) means that day from midnight, so
    `add_working_days(ngay_nhan, 3)` counts it as received that day. A datetime without a
    zone is refused by the calendar: its meaning would depend on the server.
    """
    if isinstance(value, str):
        text = value.strip()
        value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    if isinstance(value, datetime):
        return value, False
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=calendar.tz), True
    raise TypeError(f"expected a date or datetime, got {type(value).__name__}")


def calendar_functions(calendar: CalendarSource) -> dict[str, Callable[..., Any]]:
    """Working-time functions for expressions; each call reads the live calendar (overrides included)."""

    def add_working_days(moment: Moment, days: int) -> datetime | date:
        cal = calendar()
        start, bare = _moment(moment, cal)
        deadline = cal.add_working_days(start, days)
        return deadline.date() if bare else deadline

    def subtract_working_days(moment: Moment, days: int) -> datetime | date:
        return add_working_days(moment, -whole_days(days))

    def add_working_hours(moment: Moment, hours: float) -> datetime:
        cal = calendar()
        return cal.add_working_hours(_moment(moment, cal)[0], hours)

    def working_days_between(a: Moment, b: Moment) -> int:
        cal = calendar()
        return cal.working_days_between(_moment(a, cal)[0], _moment(b, cal)[0])

    def working_hours_between(a: Moment, b: Moment) -> float:
        cal = calendar()
        return cal.working_seconds_between(_moment(a, cal)[0], _moment(b, cal)[0]) / 3600

    def is_working_day(day: Moment) -> bool:
        cal = calendar()
        return cal.is_working_day(_moment(day, cal)[0].astimezone(cal.tz).date())

    def is_working_time(moment: Moment) -> bool:
        cal = calendar()
        start, bare = _moment(moment, cal)
        if bare:
            raise TypeError("is_working_time needs a date and time; use is_working_day for a date")
        return cal.is_working_time(start)

    return {"add_working_days": add_working_days, "subtract_working_days": subtract_working_days,
            "add_working_hours": add_working_hours, "working_days_between": working_days_between,
            "working_hours_between": working_hours_between, "is_working_day": is_working_day,
            "is_working_time": is_working_time}


def platform_functions(clock: Clock, calendar: CalendarSource = national_calendar) -> dict[str, Callable[..., Any]]:
    """`now()`, `today()` and the working-time functions, on the given clock and calendar."""
    def now() -> datetime:
        return clock().astimezone(VN)

    def today() -> date:
        return now().date()

    return {"now": now, "today": today, "meeting_time": meeting_time, "meeting_end": meeting_end, "shift": shift,
            **calendar_functions(calendar)}


def meeting_time(day: date | str, clock_time: str) -> datetime:
    """The moment a meeting starts, in Vietnam time, from a form's date ("2026-12-03") and time ("08:00")."""
    when = date.fromisoformat(day.strip()) if isinstance(day, str) else day
    hours, _, minutes = str(clock_time).strip().partition(":")
    return datetime.combine(when, time(int(hours), int(minutes or 0)), tzinfo=VN)


#: The registration form's `buoi` values (Phụ lục I, "3. Thời gian: … buổi"): morning, afternoon, the whole day.
SESSIONS = ("sang", "chieu", "ca_ngay")
#: Ends of the morning and afternoon sessions, and where the afternoon begins (platform choice).
MORNING_END, AFTERNOON_END, NOON = time(11, 30), time(17, 0), time(12, 0)
#: How long a meeting starting at or after the afternoon session's end is taken to last.
LATE_MEETING = timedelta(hours=2)


def session_end(start: datetime, buoi: str | None = None) -> datetime:
    """The end of the session (buổi) of an aware `start`, on the start's day and in its zone.

    11:30 for a start before 12:00, else 17:00; a registered `buoi` of "chieu" or "ca_ngay" means
    the afternoon's end (17:00) whatever the start ("sang" changes nothing: the start decides). An
    end not after the start gives way to 17:00, and a start at or after 17:00 lasts two hours.
    """
    if start.tzinfo is None:
        raise ValueError("session_end needs an aware start (meeting_time gives one)")
    if buoi not in (None, "", *SESSIONS):
        raise ValueError(f"buoi is one of {', '.join(SESSIONS)}, not {buoi!r}")
    afternoon = buoi in ("chieu", "ca_ngay") or start.time() >= NOON
    for end in (AFTERNOON_END,) if afternoon else (MORNING_END, AFTERNOON_END):
        moment = datetime.combine(start.date(), end, tzinfo=start.tzinfo)
        if moment > start:
            return moment
    return start + LATE_MEETING


def end_after(start: datetime, end: datetime | None, buoi: str | None = None) -> datetime:
    """`end` when it is after `start`; otherwise (none, or not after the start) the session's end."""
    return end if end is not None and end > start else session_end(start, buoi)


def meeting_end(day: date | str, start: str, end: str | None = None, buoi: str | None = None) -> datetime:
    """The moment a meeting ends, in Vietnam time: `meeting_end(ngay_hop, gio_bat_dau, gio_ket_thuc, buoi)`.

    The registered end ("HH:MM") when given and after the start; else the end of the session
    (`session_end`): 11:30 for a start before 12:00, else 17:00, 17:00 for "chieu" and "ca_ngay",
    two hours for a start at or after 17:00.
    """
    begins = meeting_time(day, start)
    return end_after(begins, meeting_time(day, end) if end else None, buoi)


def shift(moment: datetime | date | str, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
    """`moment` moved by calendar (not working) time; negative values go back: `shift(hop_luc, hours=-2)`."""
    if isinstance(moment, str):
        text = moment.strip()
        moment = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(0), tzinfo=VN)
    aware = moment if moment.tzinfo else moment.replace(tzinfo=VN)
    return (aware + timedelta(days=days, hours=hours, minutes=minutes)).astimezone(VN)


def as_aware(value: Any) -> datetime | None:
    """Read a due date an expression produced: datetime, date or ISO string."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, 17, 0)
    if not isinstance(value, datetime):
        raise TypeError("due date must be a datetime")
    return value if value.tzinfo else value.replace(tzinfo=VN)
