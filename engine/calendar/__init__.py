"""Working days and deadlines on the Vietnamese calendar (no database, no Flask: inputs are given)."""
from __future__ import annotations

from engine.calendar.cache import CalendarCache
from engine.calendar.national import MAX_YEAR, MIN_YEAR, check_year, national_year
from engine.calendar.working import (
    DEFAULT_HOURS,
    DEFAULT_TZ,
    DaySource,
    NonWorkingDay,
    Override,
    SpecialDay,
    WorkingCalendar,
    check_hours,
)

__all__ = [
    "DEFAULT_HOURS", "DEFAULT_TZ", "MAX_YEAR", "MIN_YEAR", "CalendarCache", "DaySource", "NonWorkingDay",
    "Override", "SpecialDay", "WorkingCalendar", "check_hours", "check_year", "national_year",
]
