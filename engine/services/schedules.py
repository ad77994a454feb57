"""Procedures that start themselves: a timer start event becomes a schedule the worker runs.

SpiffWorkflow would keep one instance waiting on a start timer and add a path to it at each
cycle; a case per run is what people expect, so the platform keeps the schedule itself (one
`ProcedureSchedule` per procedure, replaced at each publication) and the worker starts a new
instance whenever it is due, with the start timer already fired (engine/worker.py).

Who starts it: the administrator who published the version is the initiator (the person
accountable for the schedule), for the unit named by the process property `scheduleUnit`.
Publishing refuses a timer-started procedure without that property, with an unknown unit, or
without a person publishing it.

Missed runs (the worker stopped for several periods) are not replayed: one instance is started
and the schedule moves to its next moment in the future.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select

from engine.bpmn.timers import TimerEventDefinition, cycle, duration, moment
from engine.domain.messages import Message
from engine.persistence import leases
from engine.persistence.models import ProcedureSchedule, ProcedureVersion, Unit, User
from engine.persistence.uow import UnitOfWork
from engine.services.context import Services

UNIT_PROPERTY = "scheduleUnit"


def timer_start(model: Any) -> tuple[str, str] | None:
    """(start event id, timer expression) of a process that begins with a timer start event."""
    for spec in model.spec.start.outputs:  # the library's Start task leads to every start event
        definition = getattr(spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            return spec.bpmn_id, definition.expression
    return None


def problems(uow: UnitOfWork, model: Any, actor: User | None) -> list[Message]:
    """Why a timer-started procedure cannot be scheduled (empty when it can, or has no start timer)."""
    if timer_start(model) is None:
        return []
    found = []
    code = (model.properties or {}).get(UNIT_PROPERTY)
    if not code:
        found.append(Message(
            f"Quy trình khởi động theo hẹn giờ cần thuộc tính {UNIT_PROPERTY} (mã đơn vị khởi tạo hồ sơ)",
            f"A timer-started process needs the {UNIT_PROPERTY} property (code of the initiating unit)"))
    elif uow.session.scalar(select(Unit).where(Unit.code == code)) is None:
        found.append(Message(f"Không có đơn vị mã \"{code}\" ({UNIT_PROPERTY})",
                             f"No unit with code \"{code}\" ({UNIT_PROPERTY})"))
    if actor is None:
        found.append(Message("Quy trình khởi động theo hẹn giờ phải do một quản trị viên công bố "
                             "(hồ sơ được khởi tạo dưới tên người công bố)",
                             "A timer-started process must be published by a person "
                             "(its instances are initiated in the publisher's name)"))
    return found


def register(uow: UnitOfWork, version: ProcedureVersion, model: Any, actor: User | None) -> None:
    """Replace the procedure's schedule by the new version's (or end it if the version has none).

    The timer is evaluated by the worker, on its clock, the first time it looks at the row.
    """
    session = uow.session
    found = timer_start(model)
    if found is None or actor is None:
        session.execute(delete(ProcedureSchedule).where(ProcedureSchedule.process_id == version.process_id))
        return
    unit = session.scalar(select(Unit).where(Unit.code == (model.properties or {}).get(UNIT_PROPERTY)))
    assert unit is not None  # problems() refused the publication otherwise
    schedule = session.scalar(select(ProcedureSchedule).where(ProcedureSchedule.process_id == version.process_id))
    if schedule is None:
        schedule = ProcedureSchedule(process_id=version.process_id)
        session.add(schedule)
    schedule.version_id, (schedule.element_id, schedule.expression) = version.id, found
    schedule.initiator_id, schedule.unit_id = actor.id, unit.id
    schedule.next_run_at, schedule.remaining, schedule.period_seconds = None, None, None


def plan(services: Services, schedule: ProcedureSchedule) -> None:
    """Evaluate the start timer: a repeating interval (`R[n]/…`), a duration or a moment."""
    now = services.now()
    value = services.runtime.environment.evaluate(schedule.expression, {})
    if isinstance(value, str) and value.strip().upper().startswith("R"):
        repetitions, first, period = cycle(value, now)
        schedule.next_run_at, schedule.remaining = first, repetitions
        schedule.period_seconds = int(period.total_seconds())
    elif isinstance(value, timedelta) or (isinstance(value, str) and value.strip().upper().startswith("P")):
        schedule.next_run_at, schedule.remaining = now + duration(value, now), 1
    else:
        schedule.next_run_at, schedule.remaining = moment(value), 1


def advance(schedule: ProcedureSchedule, now: datetime) -> None:
    """After a start: the next moment in the future, or none when no repetition is left."""
    assert schedule.remaining is not None and schedule.next_run_at is not None
    if schedule.remaining > 0:
        schedule.remaining -= 1
    if schedule.remaining == 0 or not schedule.period_seconds:
        schedule.next_run_at = None
        return
    period = timedelta(seconds=schedule.period_seconds)
    following = schedule.next_run_at + period
    while following <= now:  # missed runs are not replayed
        following += period
    schedule.next_run_at = following


def claim_due(uow: UnitOfWork, services: Services, owner: str, limit: int = 10) -> list[int]:
    """Lease schedules due now (or not yet planned); SKIP LOCKED shares them between workers."""
    now = services.now()
    due = (select(ProcedureSchedule)
           .where(or_(ProcedureSchedule.next_run_at <= now, ProcedureSchedule.remaining.is_(None)))
           .order_by(ProcedureSchedule.id))
    return leases.claim(uow, due, ProcedureSchedule, owner, now, services.settings.lease_seconds, limit)


