"""The current calendar of one process, rebuilt when it is a little old or known to have changed."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from engine.calendar.working import WorkingCalendar


class CalendarCache:
    """Holds the calendar `build` returns for `ttl` seconds; `invalidate()` drops it at once.

    Overrides live in the database and the web app and the worker are separate processes:
    the one that changed an override invalidates its own copy, the others see the change
    within `ttl` seconds. Reading the overrides on every deadline would cost a query per
    expression instead.
    """

    def __init__(self, build: Callable[[], WorkingCalendar], ttl: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._build = build
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._value: WorkingCalendar | None = None
        self._built_at = 0.0

    def get(self) -> WorkingCalendar:
        with self._lock:
            now = self._monotonic()
            if self._value is None or now - self._built_at >= self._ttl:
                self._value = self._build()
                self._built_at = now
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None
