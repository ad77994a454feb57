"""What every use case needs besides the unit of work: settings, clock, calendar, runtime, adapters."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from engine.adapters.base import AdapterRegistry
from engine.bpmn.functions import platform_functions
from engine.bpmn.runtime import Runtime
from engine.calendar import CalendarCache, Override, WorkingCalendar
from engine.calendar.national import national_year
from engine.settings import Settings

#: Reads the administrators' calendar overrides (engine.services.calendar.override_loader).
OverrideLoader = Callable[[], Mapping[date, Override]]


def system_clock() -> datetime:
    return datetime.now(UTC)


def no_overrides() -> Mapping[date, Override]:
    return {}


@dataclass
class Services:
    settings: Settings
    adapters: AdapterRegistry
    clock: Callable[[], datetime] = system_clock
    #: Where overrides come from; without one the calendar is the national one alone.
    calendar_overrides: OverrideLoader = no_overrides
    runtime: Runtime = field(init=False)
    _calendar: CalendarCache = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._calendar = CalendarCache(self._build_calendar, self.settings.calendar_cache_seconds)
        self.runtime = Runtime(platform_functions(self.clock, self.calendar), clock=self.clock)
        # Read this year's and next year's national days now (once per process): scripts' deadlines use them,
        # and reading them inside a script would spend its time budget (engine.bpmn.sandbox) on a busy machine.
        year = self.clock().year
        national_year(year)
        national_year(year + 1)

    def now(self) -> datetime:
        return self.clock()

    def _build_calendar(self) -> WorkingCalendar:
        return WorkingCalendar(self.calendar_overrides(), working_hours=self.settings.working_hours,
                               tz=self.settings.timezone)

    def calendar(self) -> WorkingCalendar:
        """The working calendar now: national days, overrides (at most a few seconds old), hours."""
        return self._calendar.get()

    def calendar_changed(self) -> None:
        """Drop this process's copy after an override changed, so the next deadline sees it."""
        self._calendar.invalidate()
