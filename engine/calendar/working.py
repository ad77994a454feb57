"""Working time on the Vietnamese calendar: which days and hours count, and deadlines from them."""
from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import NamedTuple
from zoneinfo import ZoneInfo

from engine.calendar.national import check_year, national_year

#: Office hours of provincial agencies: 07:30–11:30 and 13:30–17:00 (settings.WORKING_HOURS).
DEFAULT_HOURS: tuple[tuple[time, time], ...] = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
DEFAULT_TZ = "Asia/Ho_Chi_Minh"
WEEKDAY_NAMES = {5: "Thứ Bảy", 6: "Chủ nhật"}
ONE_DAY = timedelta(days=1)


class Override(NamedTuple):
    """An admin's decision about one day; a plain `(is_working, reason)` tuple reads the same."""

    is_working: bool
    reason: str
    decision: str = ""


class DaySource(str, enum.Enum):
    """Why a day is not an ordinary Monday-to-Friday working day."""

    HOLIDAYS = "holidays"  # the `holidays` package: public holidays, observed days, swaps
    OVERRIDE = "override"  # an administrator's override (calendar_overrides)
    WEEKEND = "weekend"    # an ordinary Saturday or Sunday


@dataclass(frozen=True)
class SpecialDay:
    """A day off on a weekday or a working day on a weekend, with its name and where that comes from."""

    day: date
    name: str
    source: DaySource
    is_working: bool
    decision: str = ""


#: The name the rest of the platform uses for the entries of `non_working_days`.
NonWorkingDay = SpecialDay


def check_hours(periods: Sequence[tuple[time, time]]) -> tuple[tuple[time, time], ...]:
    """Working periods of one day, in order and apart; anything else is a configuration mistake."""
    hours = tuple((start, end) for start, end in periods)
    if not hours:
        raise ValueError("working hours are empty (giờ làm việc trống)")
    previous_end: time | None = None
    for start, end in hours:
        if not start < end:
            raise ValueError(f"working period {start:%H:%M}-{end:%H:%M} ends before it starts")
        if previous_end is not None and start < previous_end:
            raise ValueError(f"working period {start:%H:%M}-{end:%H:%M} overlaps or is out of order")
        previous_end = end
    return hours


def whole_days(days: object) -> int:
    # Form numbers arrive as int, float or Decimal; 2.5 days has no meaning in the decisions.
    if isinstance(days, bool) or not isinstance(days, (int, float, Decimal)) or int(days) != days:
        raise ValueError(f"a number of working days must be a whole number, got {days!r}")
    return int(days)


class WorkingCalendar:
    """National holidays + admin overrides + office hours, in one time zone; immutable.

    Moments in and out are aware datetimes (naive ones are refused: a deadline must not
    depend on the server's zone); results are in the calendar's zone. Periods are half-open
    for `is_working_time` (17:00 is after hours) but a deadline "at 17:00" includes 17:00.
    """

    def __init__(self, overrides: Mapping[date, Override | tuple[bool, str] | tuple[bool, str, str]]
                 | None = None, *, working_hours: Sequence[tuple[time, time]] = DEFAULT_HOURS,
                 tz: str = DEFAULT_TZ) -> None:
        self._overrides = MappingProxyType({day: Override(*value) for day, value in (overrides or {}).items()})
        self._hours = check_hours(working_hours)
        self.tz = ZoneInfo(tz)

    @property
    def overrides(self) -> Mapping[date, Override]:
        return self._overrides

    @property
    def working_hours(self) -> tuple[tuple[time, time], ...]:
        return self._hours

    # ------------------------------------------------------------ days

    def is_national_working_day(self, day: date) -> bool:
        """Working day by the national calendar alone, before any override."""
        national = national_year(day.year)
        if day in national.working_weekends:
            return True
        return day.weekday() < 5 and day not in national.days_off

    def is_working_day(self, day: date) -> bool:
        override = self._overrides.get(day)
        return override.is_working if override else self.is_national_working_day(day)

    def _walk(self, day: date, step: int) -> Iterator[date]:
        # Endless in principle; the calendar's year range (national.MAX_YEAR) ends every walk.
        while True:
            day += step * ONE_DAY
            yield day

    def shift_working_days(self, day: date, days: int) -> date:
        """The `days`-th working day after `day` (before it if negative); 0 gives `day`."""
        count = whole_days(days)
        remaining = abs(count)
        if not remaining:
            return day
        for current in self._walk(day, 1 if count > 0 else -1):
            if self.is_working_day(current):
                remaining -= 1
                if not remaining:
                    return current
        raise AssertionError("unreachable")  # pragma: no cover

    def describe(self, day: date) -> SpecialDay | None:
        """Why `day` is special (holiday, swap, override, weekend); None for an ordinary working day."""
        override = self._overrides.get(day)
        if override:
            return SpecialDay(day, override.reason, DaySource.OVERRIDE, override.is_working, override.decision)
        national = national_year(day.year)
        if day in national.working_weekends:
            return SpecialDay(day, national.working_weekends[day], DaySource.HOLIDAYS, True)
        if day in national.days_off:
            return SpecialDay(day, national.days_off[day], DaySource.HOLIDAYS, False)
        if day.weekday() >= 5:
            return SpecialDay(day, WEEKDAY_NAMES[day.weekday()], DaySource.WEEKEND, False)
        return None

    def special_days(self, year: int) -> list[SpecialDay]:
        """Holidays, swaps and overrides of `year` (ordinary weekends left out: they are implied)."""
        check_year(year)
        national = national_year(year)
        days = set(national.days_off) | set(national.working_weekends)
        days |= {day for day in self._overrides if day.year == year}
        described = (self.describe(day) for day in sorted(days))
        return [d for d in described if d is not None and d.source != DaySource.WEEKEND]

    def non_working_days(self, year: int) -> list[SpecialDay]:
        """Days off of `year` from the holidays package and from overrides (not ordinary weekends)."""
        return [d for d in self.special_days(year) if not d.is_working]

    # ------------------------------------------------------------ moments

    def _local(self, moment: datetime, name: str = "moment") -> datetime:
        if not isinstance(moment, datetime):
            raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} {moment.isoformat()} has no time zone: give an aware datetime, "
                             f"e.g. with +07:00 (thời điểm thiếu múi giờ)")
        return moment.astimezone(self.tz)

    def _at(self, day: date, clock_time: time) -> datetime:
        return datetime.combine(day, clock_time, tzinfo=self.tz)

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of `day` as moments; none on a day off."""
        if not self.is_working_day(day):
            return []
        return [(self._at(day, start), self._at(day, end)) for start, end in self._hours]

    def end_of_day(self, day: date) -> datetime:
        """When the working hours of `day` end (17:00 by default): the moment a deadline day ends."""
        return self._at(day, self._hours[-1][1])

    def is_working_time(self, moment: datetime) -> bool:
        local = self._local(moment)
        return any(start <= local < end for start, end in self.periods(local.date()))

    def clock_start(self, moment: datetime) -> datetime:
        """When the clock starts for something received at `moment`.

        Inside a working period (its end included): `moment` itself. Otherwise the start of
        the next working period, on the same day (before opening, over lunch) or a later one.
        """
        local = self._local(moment)
        day = local.date()
        while True:
            for start, end in self.periods(day):
                if local <= end:
                    return max(start, local)
            day += ONE_DAY

    def receipt_day(self, moment: datetime) -> date:
        """The working day something received at `moment` counts as received on."""
        return self.clock_start(moment).date()

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """A deadline `days` working days after `start`, at the end of that day's working hours.

        Days are counted from the working day after the receipt day (`receipt_day`): Friday
        13 Feb 2026 15:00 + 3 is Wednesday 25 Feb 2026 17:00 (16-20 Feb are Tết). Negative
        `days` go back from the calendar day of `start`: the end of the working hours of the
        `|days|`-th working day before it ("at least 3 working days before the meeting").
        """
        count = whole_days(days)
        local = self._local(start, "start")
        base = self.receipt_day(local) if count >= 0 else local.date()
        return self.end_of_day(self.shift_working_days(base, count))

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """`start` moved by `hours` of working time (negative: back), skipping lunch and days off.

        Landing exactly on the end of a period gives that end (17:00, not 07:30 the next day);
        going back, landing on a period's start gives that start.
        """
        local = self._local(start, "start")
        remaining = float(hours) * 3600
        if remaining == 0:
            return local
        forward = remaining > 0
        remaining = abs(remaining)
        for day in self._walk(local.date() + (-ONE_DAY if forward else ONE_DAY), 1 if forward else -1):
            for begin, end in self.periods(day) if forward else reversed(self.periods(day)):
                lo, hi = (max(begin, local), end) if forward else (begin, min(end, local))
                available = (hi - lo).total_seconds()
                if available <= 0:
                    continue
                if remaining <= available:
                    return lo + timedelta(seconds=remaining) if forward else hi - timedelta(seconds=remaining)
                remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover

    def working_seconds_between(self, a: datetime, b: datetime) -> float:
        """Working seconds from `a` to `b`; negative when `b` is before `a`."""
        first, last = self._local(a, "a"), self._local(b, "b")
        if last < first:
            return -self.working_seconds_between(b, a)
        total = 0.0
        day = first.date()
        while day <= last.date():
            for begin, end in self.periods(day):
                lo, hi = max(begin, first), min(end, last)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += ONE_DAY
        return total

    def working_days_between(self, a: datetime, b: datetime) -> int:
        """Working days from the receipt day of `a` to that of `b` (negative if `b` is before `a`).

        The counterpart of `add_working_days`: `working_days_between(a, b) <= n` exactly when
        `b <= add_working_days(a, n)`.
        """
        first, last = self._local(a, "a"), self._local(b, "b")
        if last < first:
            return -self.working_days_between(b, a)
        day, end = self.receipt_day(first), self.receipt_day(last)
        count = 0
        while day < end:
            day += ONE_DAY
            count += self.is_working_day(day)
        return count
