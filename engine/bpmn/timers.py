"""Timer events that read the platform's clock, accept datetimes, and say when they fire next.

SpiffWorkflow's timer definitions compare with `datetime.now()` and read naive times in the
server's zone. These subclasses take the time from the workflow's script engine (the clock
injected into `Runtime`), read naive times as Vietnam time, and accept a `datetime`/`date`
(time and date timers) or a `timedelta` (duration timers) as well as ISO-8601 text. The
parser creates them instead of the library's, and the serializer restores stored specs
naming the library's classes as these, so every timer runs on the injected clock.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

from engine.bpmn.functions import VN


class TimerValueError(ValueError):
    """A timer expression produced something that is not a moment, duration or cycle."""


def _now(my_task: Any) -> datetime:
    clock: Callable[[], datetime] | None = getattr(my_task.workflow.script_engine, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


def moment(value: Any) -> datetime:
    """An aware moment from a datetime, a date (its start) or ISO-8601 text; naive means Vietnam time."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise TimerValueError(f"not an ISO-8601 date-time: {value!r}") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise TimerValueError(f"a timer needs a date-time, got {type(value).__name__}")
    return value if value.tzinfo else value.replace(tzinfo=VN)


def duration(value: Any, start: datetime) -> timedelta:
    """A timedelta, or ISO-8601 duration text measured from `start` (months have their real length)."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not value.strip().upper().startswith("P"):
        raise TimerValueError(f"not an ISO-8601 duration: {value!r}")
    try:
        parsed = TimerEventDefinition.parse_iso_duration(value.strip())
    except Exception:  # noqa: BLE001 - the library raises a bare Exception
        raise TimerValueError(f"not an ISO-8601 duration: {value!r}") from None
    return TimerEventDefinition.get_timedelta_from_start(parsed, start)


def cycle(value: Any, now: datetime) -> tuple[int, datetime, timedelta]:
    """(repetitions or -1 for unbounded, first moment, period) of `R[n]/start/period`,
    `R[n]/period/end` or `R[n]/period` (first moment one period from now)."""
    text = str(value).strip()
    parts = text.split("/")
    if not parts[0].upper().startswith("R") or len(parts) not in (2, 3):
        raise TimerValueError(f"not an ISO-8601 repeating interval: {value!r}")
    count = parts[0][1:]
    if count and not count.isdigit():
        raise TimerValueError(f"not an ISO-8601 repeating interval: {value!r}")
    repetitions = int(count) if count else -1
    rest = parts[1:]
    is_period = [p.strip().upper().startswith("P") for p in rest]
    if rest and len(rest) == 1 and is_period[0]:
        period = duration(rest[0], now)
        first = now + period
    elif len(rest) == 2 and not is_period[0] and is_period[1]:
        first = moment(rest[0])
        period = duration(rest[1], first)
    elif len(rest) == 2 and is_period[0] and not is_period[1]:
        end = moment(rest[1])
        parsed = TimerEventDefinition.parse_iso_duration(rest[0].strip())
        period = TimerEventDefinition.get_timedelta_from_end(parsed, end)
        first = end - period
    else:
        raise TimerValueError(f"not an ISO-8601 repeating interval: {value!r}")
    if period <= timedelta(0):
        raise TimerValueError(f"a repeating interval needs a positive period: {value!r}")
    return repetitions, first, period


def _evaluate(my_task: Any, expression: str) -> Any:
    return my_task.workflow.script_engine.evaluate(my_task, expression)


class _OneShot:
    """A timer that fires once, at a moment computed when it starts waiting and stored."""

    def _first_fire(self, my_task: Any) -> datetime:
        raise NotImplementedError

    def has_fired(self, my_task: Any) -> bool:
        if my_task._get_internal_data("event_value") is None:
            my_task._set_internal_data(event_value=self._first_fire(my_task).isoformat())
        fire_at = self.fire_at(my_task)
        if fire_at is not None and fire_at <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))

    def fire_at(self, my_task: Any) -> datetime | None:
        value = my_task._get_internal_data("event_value")
        return moment(value) if value is not None else None


class ClockTimeDate(_OneShot, TimeDateEventDefinition):
    """timeDate: fires once the evaluated moment has come."""

    def _first_fire(self, my_task: Any) -> datetime:
        return moment(_evaluate(my_task, self.expression))


class ClockDuration(_OneShot, DurationTimerEventDefinition):
    """timeDuration: fires the evaluated duration after the timer started waiting."""

    def _first_fire(self, my_task: Any) -> datetime:
        now = _now(my_task)
        return now + duration(_evaluate(my_task, self.expression), now)


class ClockCycle(CycleTimerEventDefinition):
    """timeCycle: fires at each repetition; the library adds a path per firing."""

    def cycle_complete(self, my_task: Any) -> bool:
        now = _now(my_task)
        value = my_task._get_internal_data("event_value")
        if value is None:
            repetitions, first, period = cycle(_evaluate(my_task, self.expression), now)
            value = {"cycles": repetitions, "next": first.isoformat(), "duration": period.total_seconds()}
        if value["cycles"] == 0:  # every repetition done: the task may finish
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        due = datetime.fromisoformat(value["next"])
        fired = due <= now
        if fired:
            value["next"] = (due + timedelta(seconds=value["duration"])).isoformat()
            value["cycles"] -= 1
        my_task._set_internal_data(event_value=value)
        return fired

    def fire_at(self, my_task: Any) -> datetime | None:
        value = my_task._get_internal_data("event_value")
        if not value or value.get("cycles") == 0:
            return None
        return datetime.fromisoformat(value["next"])


#: the library's class → ours; stored specs name the library's classes.
CLOCKED: dict[type, type] = {
    TimeDateEventDefinition: ClockTimeDate,
    DurationTimerEventDefinition: ClockDuration,
    CycleTimerEventDefinition: ClockCycle,
}


def clocked(definition: Any) -> Any:
    """The platform's version of a timer definition the library's parser made."""
    ours = CLOCKED.get(type(definition))
    if ours is None:
        return definition
    return ours(definition.name, definition.expression, description=definition.description)


def fire_at(definition: Any, my_task: Any) -> datetime | None:
    """When a waiting timer (or the earliest timer of a multiple event) fires next."""
    if hasattr(definition, "fire_at"):
        result: datetime | None = definition.fire_at(my_task)
        return result
    nested = [fire_at(d, my_task) for d in getattr(definition, "event_definitions", [])]
    moments = [m for m in nested if m is not None]
    return min(moments) if moments else None
