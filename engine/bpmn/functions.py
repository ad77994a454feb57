"""Functions injected into every BPMN script and expression."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")
Clock = Callable[[], datetime]


def add_working_days(start: datetime | date, days: int) -> datetime | date:
    """Add working days, Monday to Friday.

    Public holidays and swapped working days come with the calendar issue;
    until then only weekends are skipped.
    """
    current = start
    step = 1 if days >= 0 else -1
    remaining = abs(int(days))
    while remaining:
        current = current + timedelta(days=step)
        if current.weekday() < 5:
            remaining -= 1
    return current


def platform_functions(clock: Clock) -> dict[str, Callable[..., Any]]:
    def now() -> datetime:
        return clock().astimezone(VN)

    def today() -> date:
        return now().date()

    return {"now": now, "today": today, "add_working_days": add_working_days}


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
