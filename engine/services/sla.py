"""Deadlines on the working calendar: due states, finished outcomes, the procedure deadline, the clock pause.

The rules, in one place (docs/sla.md explains them for modellers and leaders):

* **Due state** of a running instance or a ready task, from the working time between its
  start and its deadline: *quá hạn* once the deadline has passed; *sắp đến hạn* when the
  working time left is at most `Settings.sla_warning_share` of the whole; *đúng hạn* otherwise.
* **Outcome** of a finished instance, by the day the deadline falls on (Vietnam time), as
  one-stop-shop reports count the appointment day: *trước hạn* when it finished on an earlier
  day, *đúng hạn* when it finished on that day no later than the deadline, *quá hạn* after it.
* **Clock pause**: while a user task with the property `clock=pause` is ready (the requester
  supplements the dossier), the instance's clock stands still, and so does every task of the
  instance (a task started during the pause stands still from its start). When no such task is
  ready any more, the instance deadline moves forward by the working time the pause lasted, and
  each ready task's deadline by the working time it spent standing still.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, false, func, or_, select

from engine.bpmn.functions import as_aware
from engine.calendar import MAX_YEAR, MIN_YEAR
from engine.domain.enums import REPORT_ROLES, DueState, InstanceStatus, Role, SlaOutcome, TaskStatus
from engine.domain.errors import Forbidden, InvalidData
from engine.domain.messages import Message
from engine.persistence.models import HumanTask, ProcedureVersion, ProcessInstance, TaskCandidate, Unit, User
from engine.persistence.uow import UnitOfWork
from engine.services import audit
from engine.services.context import Services

log = logging.getLogger(__name__)

#: The task property that stops the instance's clock while the task is ready.
CLOCK_PROPERTY, CLOCK_PAUSE = "clock", "pause"
#: States whose deadline still runs (an instance with an incident is still being handled).
OPEN = (InstanceStatus.RUNNING, InstanceStatus.ERROR)


class WorkingTime(Protocol):
    """The part of the working calendar the deadline rules use."""

    def add_working_hours(self, start: datetime, hours: float) -> datetime: ...

    def working_seconds_between(self, start: datetime, end: datetime) -> float: ...


# ---------------------------------------------------------------- pure rules


def due_state(calendar: WorkingTime, created_at: datetime, due_at: datetime, now: datetime,
              warn_share: float) -> DueState:
    """Where something started at `created_at` and due at `due_at` stands at `now`.

    Exactly at the deadline it is still in time (sắp đến hạn); one moment later it is overdue,
    even outside working hours.
    """
    if now > due_at:
        return DueState.OVERDUE
    total = max(0.0, calendar.working_seconds_between(created_at, due_at))
    left = calendar.working_seconds_between(now, due_at)
    return DueState.DUE_SOON if left <= warn_share * total else DueState.DUE_OK


def outcome(due_at: datetime, ended_at: datetime, timezone: Any) -> SlaOutcome:
    """Trước hạn / đúng hạn / quá hạn of an instance that ended at `ended_at` (see the module docstring)."""
    if ended_at > due_at:
        return SlaOutcome.LATE
    if ended_at.astimezone(timezone).date() < due_at.astimezone(timezone).date():
        return SlaOutcome.EARLY
    return SlaOutcome.ON_TIME


# ---------------------------------------------------------------- states as pages show them


def clock_of(instance: ProcessInstance, now: datetime) -> datetime:
    """The instance's own time: it stands still at the moment it was paused."""
    return instance.paused_at or now


def task_clock(task: HumanTask, now: datetime) -> datetime:
    """A task's time: it stands still while its instance is paused (from its start, if started later)."""
    paused_at = task.instance.paused_at
    return now if paused_at is None else max(paused_at, task.created_at)


def instance_state(services: Services, instance: ProcessInstance,
                   calendar: WorkingTime | None = None) -> DueState | None:
    """Due state of an open instance with a deadline; None otherwise."""
    if instance.due_at is None or instance.status not in OPEN:
        return None
    return due_state(calendar or services.calendar(), instance.created_at, instance.due_at,
                     clock_of(instance, services.now()), services.settings.sla_warning_share)


def task_state(services: Services, task: HumanTask, calendar: WorkingTime | None = None) -> DueState | None:
    """Due state of a ready task with a due date; None otherwise.

    While its instance is paused the task stands still with it. That includes the pause task:
    the requester's time to supplement is not the office's processing time.
    """
    if task.due_at is None or task.status != TaskStatus.READY:
        return None
    return due_state(calendar or services.calendar(), task.created_at, task.due_at,
                     task_clock(task, services.now()), services.settings.sla_warning_share)


def _states(services: Services, rows: list[Any], state: Any) -> dict[int, DueState]:
    calendar = services.calendar()  # one calendar for the whole list
    found = {row.id: state(services, row, calendar) for row in rows}
    return {k: v for k, v in found.items() if v is not None}


def instance_states(services: Services, instances: list[ProcessInstance]) -> dict[int, DueState]:
    """Due states by instance id, for a case list (instances without a due state are left out)."""
    return _states(services, instances, instance_state)


def task_states(services: Services, tasks: list[HumanTask]) -> dict[int, DueState]:
    """Due states by task id, for a tasklist (tasks without a due date are left out)."""
    return _states(services, tasks, task_state)


# ---------------------------------------------------------------- hooks from the instance use cases


def start_clock(services: Services, instance: ProcessInstance, version: ProcedureVersion, workflow: Any) -> None:
    """Set the instance deadline from the procedure's `deadline` property, evaluated at start."""
    expression = (version.properties or {}).get("deadline")
    if not expression:
        return
    try:
        value = services.runtime.evaluate(workflow, str(workflow.task_tree.id), expression)
        instance.due_at = as_aware(value)
    except Exception as exc:  # noqa: BLE001 - a bad deadline must not stop the dossier
        log.warning("deadline of %s failed: %s", version.process_id, exc)


def track(uow: UnitOfWork, services: Services, instance: ProcessInstance, workflow: Any) -> None:
    """On every save: stop or restart the clock, and record the outcome once the instance ends."""
    now = services.now()
    pausing = any(t.properties.get(CLOCK_PROPERTY) == CLOCK_PAUSE
                  for t in services.runtime.ready_human_tasks(workflow))
    if pausing and instance.paused_at is None:
        instance.paused_at = now
        audit.record(uow.session, None, "clock_pause", instance_id=instance.id,
                     summary="Tạm dừng tính thời hạn trong khi chờ bổ sung hồ sơ")
    elif not pausing and instance.paused_at is not None:
        _resume(uow, services, instance, instance.paused_at, now)
    if instance.status == InstanceStatus.COMPLETED and instance.due_at is not None and not instance.sla_outcome:
        ended = instance.ended_at or now
        instance.sla_outcome = outcome(instance.due_at, ended, ZoneInfo(services.settings.timezone)).value


def _resume(uow: UnitOfWork, services: Services, instance: ProcessInstance, paused_at: datetime,
            now: datetime) -> None:
    """Move the deadlines forward by the working time each stood still."""
    instance.paused_at = None
    calendar = services.calendar()
    seconds = calendar.working_seconds_between(paused_at, now)
    if seconds <= 0:
        return
    hours = seconds / 3600
    if instance.due_at is not None:
        instance.due_at = calendar.add_working_hours(instance.due_at, hours)
    waiting = uow.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.READY, HumanTask.due_at.is_not(None)))
    for task in waiting:
        # Tasks started just now (after the pause task) have their deadline from now: nothing to move.
        still = calendar.working_seconds_between(max(paused_at, task.created_at), now)
        if still > 0 and task.due_at is not None:
            task.due_at = calendar.add_working_hours(task.due_at, still / 3600)
    audit.record(uow.session, None, "clock_resume", instance_id=instance.id,
                 summary=f"Tiếp tục tính thời hạn; thời hạn lùi thêm {hours:.2f} giờ làm việc đã tạm dừng",
                 after={"paused_working_seconds": seconds})


# ---------------------------------------------------------------- the SLA report

NOT_A_LEADER = Message("Chỉ lãnh đạo và quản trị hệ thống được xem báo cáo hạn xử lý.",
                       "Only leaders and administrators may see the deadline report.")
OVERDUE_ROWS = 500  # the table shows the most overdue first; counts are never cut


@dataclass(frozen=True)
class ReportOptions:
    """What the filter form offers: procedures (newest version each) and units."""

    procedures: list[tuple[str, str]]  # (process_id, name)
    units: list[tuple[str, str]]  # (code, name)


@dataclass(frozen=True)
class ReportFilter:
    """One procedure, optionally one requesting unit, optionally a period of receipt (inclusive days)."""

    viewer: User
    process_id: str | None
    unit_code: str | None = None
    start: date | None = None
    end: date | None = None


@dataclass
class OverdueItem:
    instance: ProcessInstance
    task: HumanTask | None  # None: the dossier's own deadline
    due_at: datetime
    late_hours: float  # working hours past the deadline


@dataclass
class SlaReport:
    filter: ReportFilter
    running: dict[DueState, int]
    running_without_deadline: int
    finished: dict[SlaOutcome, int]
    finished_without_deadline: int
    overdue: list[OverdueItem] = field(default_factory=list)


def is_leader(user: User) -> bool:
    return Role.LANH_DAO.value in user.role_codes


def overseen_by(user: User) -> Any:
    """Instances a leader oversees: started by their unit, or with a task for their unit.

    A condition on ProcessInstance; false for anyone who is not a leader. The report lists
    exactly these for a leader, and the instance pages open them (queries.can_see).
    """
    if not is_leader(user):
        return false()
    for_unit = exists().where(HumanTask.instance_id == ProcessInstance.id, TaskCandidate.task_id == HumanTask.id,
                              TaskCandidate.unit_id == user.unit_id)
    return or_(ProcessInstance.initiator_unit_id == user.unit_id, for_unit)


def report_options(uow: UnitOfWork, actor: User) -> ReportOptions:
    """The form's choices; only leaders and administrators may see the report."""
    if not REPORT_ROLES & actor.role_codes:
        raise Forbidden(NOT_A_LEADER)
    newest = (select(ProcedureVersion.process_id, func.max(ProcedureVersion.version).label("v"))
              .group_by(ProcedureVersion.process_id).subquery())
    procedures = uow.session.execute(
        select(ProcedureVersion.process_id, ProcedureVersion.name)
        .join(newest, and_(ProcedureVersion.process_id == newest.c.process_id,
                           ProcedureVersion.version == newest.c.v))
        .order_by(ProcedureVersion.name)).all()
    units = uow.session.execute(select(Unit.code, Unit.name).order_by(Unit.name)).all()
    return ReportOptions([(p, n) for p, n in procedures], [(c, n) for c, n in units])


def _day(value: str | None, label_vi: str, label_en: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidData(Message(
            f"{label_vi} “{value[:40]}” không phải ngày hợp lệ; hãy nhập theo dạng năm-tháng-ngày (ví dụ 2026-11-26).",
            f"{label_en} “{value[:40]}” is not a valid date; use year-month-day (e.g. 2026-11-26).")) from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InvalidData(Message(f"{label_vi} phải trong các năm {MIN_YEAR}–{MAX_YEAR}.",
                                  f"{label_en} must be within the years {MIN_YEAR}–{MAX_YEAR}."))
    return day


def report_filter(viewer: User, options: ReportOptions, process_id: str | None, unit_code: str | None,
                  start: str | None, end: str | None) -> ReportFilter:
    """Check the filter the form sent; the first procedure when none is chosen."""
    known = [p for p, _name in options.procedures]
    if process_id and process_id not in known:
        raise InvalidData(Message(f"Không có quy trình “{process_id[:64]}”.", f"No procedure “{process_id[:64]}”."))
    if unit_code and unit_code not in {c for c, _name in options.units}:
        raise InvalidData(Message(f"Không có đơn vị “{unit_code[:64]}”.", f"No unit “{unit_code[:64]}”."))
    first, last = _day(start, "Từ ngày", "From date"), _day(end, "Đến ngày", "To date")
    if first and last and first > last:
        raise InvalidData(Message("“Từ ngày” phải trước hoặc bằng “Đến ngày”.",
                                  "“From” must be on or before “to”."))
    return ReportFilter(viewer, process_id or (known[0] if known else None), unit_code or None, first, last)


def _scoped(query: Any, services: Services, flt: ReportFilter) -> Any:
    """Instances of the procedure, from the unit, received in the period (Vietnam days), the viewer oversees."""
    zone = ZoneInfo(services.settings.timezone)
    query = query.join(ProcedureVersion, ProcessInstance.version_id == ProcedureVersion.id).where(
        ProcedureVersion.process_id == flt.process_id)
    if Role.QUAN_TRI.value not in flt.viewer.role_codes:
        query = query.where(overseen_by(flt.viewer))
    if flt.unit_code:
        query = query.join(Unit, ProcessInstance.initiator_unit_id == Unit.id).where(Unit.code == flt.unit_code)
    if flt.start:
        query = query.where(ProcessInstance.created_at >= datetime.combine(flt.start, time(), zone))
    if flt.end:
        query = query.where(ProcessInstance.created_at < datetime.combine(flt.end + timedelta(days=1), time(), zone))
    return query


def report(uow: UnitOfWork, services: Services, flt: ReportFilter) -> SlaReport:
    """Counts of open dossiers by due state, finished ones by outcome, and every overdue item."""
    result = SlaReport(flt, dict.fromkeys(DueState, 0), 0, dict.fromkeys(SlaOutcome, 0), 0)
    if flt.process_id is None:
        return result
    calendar, now = services.calendar(), services.now()
    session = uow.session
    for instance in session.scalars(_scoped(select(ProcessInstance), services, flt)
                                    .where(ProcessInstance.status.in_(OPEN))):
        state = instance_state(services, instance, calendar)
        if state is None:
            result.running_without_deadline += 1
            continue
        result.running[state] += 1
        if state == DueState.OVERDUE and instance.due_at is not None:
            result.overdue.append(_late(calendar, instance, None, instance.due_at, clock_of(instance, now)))
    finished = _scoped(select(ProcessInstance.sla_outcome, func.count()), services, flt).where(
        ProcessInstance.status == InstanceStatus.COMPLETED).group_by(ProcessInstance.sla_outcome)
    for value, count in session.execute(finished):
        if value in {o.value for o in SlaOutcome}:
            result.finished[SlaOutcome(value)] += count
        else:
            result.finished_without_deadline += count
    tasks = _scoped(select(HumanTask).join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id),
                    services, flt).where(HumanTask.status == TaskStatus.READY, HumanTask.due_at < now,
                                         ProcessInstance.status.in_(OPEN))
    for task in session.scalars(tasks):
        if task.due_at is not None and task_state(services, task, calendar) == DueState.OVERDUE:
            result.overdue.append(_late(calendar, task.instance, task, task.due_at, task_clock(task, now)))
    result.overdue.sort(key=lambda item: (item.due_at, item.instance.id, item.task is not None))
    del result.overdue[OVERDUE_ROWS:]
    return result


def _late(calendar: WorkingTime, instance: ProcessInstance, task: HumanTask | None, due_at: datetime,
          now: datetime) -> OverdueItem:
    return OverdueItem(instance, task, due_at, calendar.working_seconds_between(due_at, now) / 3600)
