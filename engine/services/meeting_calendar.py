"""The meeting calendar: the province's shared schedule of videoconferences by day and week, with conflicts.

Every signed-in user may read it (it is the "lịch họp" every unit plans around; what a meeting is
about is already on the invitations); the instance behind a meeting opens only for those who
may see that instance. A meeting shows on the (Vietnam) day it starts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from engine.persistence.models import Meeting
from engine.persistence.uow import UnitOfWork
from engine.services import meeting_conflicts
from engine.services.context import Services
from engine.services.meeting_conflicts import Conflict
from engine.services.meetings import between


@dataclass(frozen=True)
class CalendarDay:
    day: date
    meetings: tuple[Meeting, ...]


@dataclass(frozen=True)
class Agenda:
    """The meetings of first…last (inclusive) by day, and the conflicts of each (by meeting id)."""

    first: date
    last: date
    days: tuple[CalendarDay, ...]
    conflicts: dict[int, list[Conflict]]
    capacity: int

    @property
    def meetings(self) -> list[Meeting]:
        return [m for d in self.days for m in d.meetings]

    @property
    def in_conflict(self) -> list[Meeting]:
        return [m for m in self.meetings if m.id in self.conflicts]


def today(services: Services) -> date:
    return services.now().astimezone(ZoneInfo(services.settings.timezone)).date()


def day_of(services: Services, meeting: Meeting) -> date | None:
    """The (Vietnam) day the meeting starts, where the calendar shows it."""
    return meeting.starts_at.astimezone(ZoneInfo(services.settings.timezone)).date() if meeting.starts_at else None


def week_of(day: date) -> tuple[date, date]:
    """Monday…Sunday of the day's week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def agenda(uow: UnitOfWork, services: Services, first: date, last: date) -> Agenda:
    """The calendar of first…last: every day (empty ones too) with its meetings, and their conflicts."""
    zone = ZoneInfo(services.settings.timezone)
    capacity = services.settings.mcu_capacity
    found = between(uow, first, last, zone)
    by_day: dict[date, list[Meeting]] = {}
    for meeting in found:
        if meeting.starts_at is not None:
            by_day.setdefault(meeting.starts_at.astimezone(zone).date(), []).append(meeting)
    days = tuple(CalendarDay(first + timedelta(days=n), tuple(by_day.get(first + timedelta(days=n), ())))
                 for n in range((last - first).days + 1))
    return Agenda(first, last, days, meeting_conflicts.find(uow, found, capacity, zone), capacity)


def conflicts_of(uow: UnitOfWork, services: Services, meeting: Meeting) -> list[Conflict]:
    """One meeting's conflicts (its detail page)."""
    found = meeting_conflicts.find(uow, [meeting], services.settings.mcu_capacity,
                                   ZoneInfo(services.settings.timezone))
    return found.get(meeting.id, [])
