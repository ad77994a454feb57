"""Deadlines and SLA: due states, the procedure deadline, outcomes on completion, the clock pause."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.calendar import WorkingCalendar
from engine.domain.enums import DueState, InstanceStatus, SlaOutcome, TaskStatus
from engine.persistence.models import AuditEvent, HumanTask, ProcessInstance, User
from engine.persistence.uow import UnitOfWork
from engine.services import instances, sla
from engine.services.context import Services
from tests.engine.conftest import START, Clock, Publish
from tests.engine.test_publishing import FILE, process_xml, refusal

Uow = Callable[[], UnitOfWork]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
FORM = "email_account_process"
CHECKED = {"y_kien_xu_ly": "Đã kiểm tra.", "xac_nhan": True}


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN)  # type: ignore[misc]


# ---------------------------------------------------------------- builders


def with_properties(xml: bytes, **properties: str) -> bytes:
    """The process element gets camunda:properties (before its flow elements, as the schema wants)."""
    props = "".join(f'<camunda:property name="{k}" value="{v}"/>' for k, v in properties.items())
    head = b'isExecutable="true">'
    extension = f"<bpmn:extensionElements><camunda:properties>{props}</camunda:properties></bpmn:extensionElements>"
    return xml.replace(head, head + extension.encode(), 1)


def task(id_: str, name: str, due: str | None = None, clock: str | None = None) -> str:
    attrs = f' camunda:formKey="{FORM}" camunda:candidateGroups="initiator:chuyen_vien"'
    if due:
        attrs += f' camunda:dueDate="{due}"'
    inner = (f'<bpmn:extensionElements><camunda:properties><camunda:property name="clock" value="{clock}"/>'
             "</camunda:properties></bpmn:extensionElements>") if clock else ""
    return f'<bpmn:userTask id="{id_}" name="{name}"{attrs}>{inner}</bpmn:userTask>'


def one_task_procedure(deadline: str = "add_working_days(now(), 2)") -> dict[str, bytes]:
    return {FILE: with_properties(process_xml(task("Task_XuLy", "Xử lý hồ sơ")), deadline=deadline)}


def pause_procedure() -> dict[str, bytes]:
    """Appraisal (due in 3 working days) in parallel with the requester supplementing the dossier."""
    flows = "".join(f'<bpmn:sequenceFlow id="Flow_{i}" sourceRef="{a}" targetRef="{b}"/>' for i, (a, b) in enumerate([
        ("StartEvent_BatDau", "Gateway_Tach"), ("Gateway_Tach", "Task_ThamDinh"), ("Gateway_Tach", "Task_BoSung"),
        ("Task_ThamDinh", "Gateway_Gop"), ("Task_BoSung", "Gateway_Gop"), ("Gateway_Gop", "EndEvent_KetThuc")]))
    xml = process_xml('<bpmn:parallelGateway id="Gateway_Tach"/>',
                      task("Task_ThamDinh", "Thẩm định hồ sơ", due="add_working_days(now(), 3)"),
                      task("Task_BoSung", "Bổ sung hồ sơ", clock="pause"),
                      '<bpmn:parallelGateway id="Gateway_Gop"/>', flows=flows)
    return {FILE: with_properties(xml, deadline="add_working_days(now(), 4)")}


def start(uow: Uow, services: Services, actor: User, process_id: str = "thu_nghiem") -> int:
    with uow() as u:
        return instances.start(u, services, actor, process_id).id


def ready(uow: Uow, instance_id: int) -> dict[str, int]:
    with uow() as u:
        return {t.element_id: t.id for t in u.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY))}


def complete(uow: Uow, services: Services, actor: User, task_id: int) -> None:
    with uow() as u:
        instances.complete_task(u, services, actor, task_id, CHECKED)


def load(uow: Uow, instance_id: int) -> ProcessInstance:
    with uow() as u:
        instance = u.session.get(ProcessInstance, instance_id)
        assert instance is not None
        u.session.expunge(instance)
        return instance


# ---------------------------------------------------------------- due states


class AllHoursWork:
    """A calendar where every second is working time, so the boundaries are plain arithmetic."""

    def working_seconds_between(self, a: datetime, b: datetime) -> float:
        return (b - a).total_seconds()

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        return start + timedelta(hours=hours)


CREATED = datetime(2026, 11, 2, tzinfo=UTC)
DUE = CREATED + timedelta(hours=100)


@pytest.mark.parametrize(("now", "state"), [
    (CREATED, DueState.DUE_OK),
    (DUE - timedelta(hours=25, seconds=1), DueState.DUE_OK),   # just over a quarter left
    (DUE - timedelta(hours=25), DueState.DUE_SOON),            # exactly a quarter left
    (DUE - timedelta(seconds=1), DueState.DUE_SOON),
    (DUE, DueState.DUE_SOON),                                  # the deadline itself is still in time
    (DUE + timedelta(seconds=1), DueState.OVERDUE),
])
def test_due_state_boundaries(now: datetime, state: DueState) -> None:
    assert sla.due_state(AllHoursWork(), CREATED, DUE, now, 0.25) == state


def test_due_state_share_is_configurable_and_a_zero_length_deadline_is_due_soon() -> None:
    half_left = DUE - timedelta(hours=50)
    assert sla.due_state(AllHoursWork(), CREATED, DUE, half_left, 0.25) == DueState.DUE_OK
    assert sla.due_state(AllHoursWork(), CREATED, DUE, half_left, 0.5) == DueState.DUE_SOON
    assert sla.due_state(AllHoursWork(), DUE, DUE, DUE, 0.25) == DueState.DUE_SOON


def test_due_state_counts_working_time_only() -> None:
    calendar = WorkingCalendar({})
    created = vn(2026, 11, 26, 9, 0)              # Thursday
    due = calendar.add_working_days(created, 4)    # Wednesday 2 Dec, 17:00
    assert due == vn(2026, 12, 2, 17, 0)
    # Nothing passes over the weekend: Saturday noon stands where Friday's close did.
    friday, saturday = vn(2026, 11, 27, 17, 0), vn(2026, 11, 28, 12, 0)
    assert sla.due_state(calendar, created, due, saturday, 0.25) == sla.due_state(calendar, created, due, friday, 0.25)
    # 36 working hours in all, 9 are a quarter: the warning starts at 15:30 on Tuesday.
    assert sla.due_state(calendar, created, due, vn(2026, 12, 1, 15, 29), 0.25) == DueState.DUE_OK
    assert sla.due_state(calendar, created, due, vn(2026, 12, 1, 15, 30), 0.25) == DueState.DUE_SOON
    # Overdue a minute after the deadline, although 17:01 is outside working hours.
    assert sla.due_state(calendar, created, due, vn(2026, 12, 2, 17, 1), 0.25) == DueState.OVERDUE


@pytest.mark.parametrize(("ended", "outcome"), [
    (vn(2026, 11, 27, 10, 0), SlaOutcome.EARLY),     # a working day before the deadline day
    (vn(2026, 11, 29, 20, 0), SlaOutcome.EARLY),     # Sunday evening still counts as an earlier day
    (vn(2026, 11, 30, 0, 0), SlaOutcome.ON_TIME),    # the deadline day has begun
    (vn(2026, 11, 30, 17, 0), SlaOutcome.ON_TIME),   # the deadline itself
    (vn(2026, 11, 30, 17, 1), SlaOutcome.LATE),
])
def test_outcome_rule(ended: datetime, outcome: SlaOutcome) -> None:
    assert sla.outcome(vn(2026, 11, 30, 17, 0), ended.astimezone(UTC), VN) == outcome


# ---------------------------------------------------------------- the procedure deadline


def test_bundled_procedure_deadline_is_four_working_days_from_start(
        published, uow: Uow, services: Services, people: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    assert published.properties == {"deadline": "add_working_days(now(), 4)"}
    instance = load(uow, start(uow, services, people["cv_stc"], "email_account"))
    # Thursday 26 Nov 2026, 09:00: Fri, Mon, Tue, Wed → Wednesday 2 Dec at 17:00.
    assert instance.due_at == vn(2026, 12, 2, 17, 0)
    assert instance.due_at == services.calendar().add_working_days(START, 4)
    assert instance.created_at == START
    with uow() as u:
        assert sla.instance_state(services, u.session.get(ProcessInstance, instance.id)) == DueState.DUE_OK


def test_deadline_that_fails_at_start_leaves_no_deadline(
        publish: Publish, uow: Uow, services: Services, people: dict[str, User]) -> None:
    publish(one_task_procedure("add_working_days(ngay_nhan, 4)"))  # ngay_nhan is never given
    instance = load(uow, start(uow, services, people["cv_stc"]))
    assert instance.status == InstanceStatus.RUNNING
    assert instance.due_at is None


@pytest.mark.parametrize(("deadline", "fragment"), [
    ("${dateTime().plusDays(4)}", "JUEL/FEEL"),
    ("__import__('os').getcwd()", "không hợp lệ"),
    ("add_working_days(now(), ", "không hợp lệ"),
])
def test_a_deadline_that_does_not_compile_is_refused(publish: Publish, uow: Uow, deadline: str,
                                                      fragment: str) -> None:
    problems = refusal(publish, uow, one_task_procedure(deadline))
    (problem,) = [p for p in problems if p.element_id == "thu_nghiem"]
    assert "deadline" in problem.message.vi and fragment in problem.message.vi


def test_an_unknown_clock_value_is_refused(publish: Publish, uow: Uow) -> None:
    files = {FILE: process_xml(task("Task_BoSung", "Bổ sung hồ sơ", clock="stop"))}
    (problem,) = refusal(publish, uow, files)
    assert problem.element_id == "Task_BoSung" and 'clock="stop"' in problem.message.vi


# ---------------------------------------------------------------- outcome on completion


@pytest.mark.parametrize(("finished", "outcome"), [
    (vn(2026, 11, 27, 10, 0), SlaOutcome.EARLY),   # Friday, before Monday the deadline day
    (vn(2026, 11, 30, 16, 59), SlaOutcome.ON_TIME),
    (vn(2026, 11, 30, 17, 1), SlaOutcome.LATE),
])
def test_outcome_is_recorded_when_the_instance_completes(
        publish: Publish, uow: Uow, services: Services, clock: Clock, people: dict[str, User],
        finished: datetime, outcome: SlaOutcome) -> None:
    publish(one_task_procedure())
    actor = people["cv_stc"]
    instance_id = start(uow, services, actor)
    assert load(uow, instance_id).due_at == vn(2026, 11, 30, 17, 0)  # Thursday 09:00 + 2 working days
    clock.now = finished.astimezone(UTC)
    complete(uow, services, actor, ready(uow, instance_id)["Task_XuLy"])
    instance = load(uow, instance_id)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.ended_at == finished
    assert instance.sla_outcome == outcome.value


def test_no_outcome_without_a_deadline_or_when_cancelled(
        publish: Publish, uow: Uow, services: Services, people: dict[str, User]) -> None:
    actor = people["cv_stc"]
    publish({FILE: process_xml(task("Task_XuLy", "Xử lý hồ sơ"))})
    first = start(uow, services, actor)
    complete(uow, services, actor, ready(uow, first)["Task_XuLy"])
    assert load(uow, first).sla_outcome is None
    publish(one_task_procedure())
    second = start(uow, services, actor)
    with uow() as u:
        instances.cancel(u, services, actor, second)
    assert load(uow, second).sla_outcome is None


# ---------------------------------------------------------------- clock pause


def test_clock_pause_moves_deadlines_by_the_paused_working_time(
        publish: Publish, uow: Uow, services: Services, clock: Clock, people: dict[str, User]) -> None:
    publish(pause_procedure())
    actor = people["cv_stc"]
    instance_id = start(uow, services, actor)
    instance = load(uow, instance_id)
    assert instance.paused_at == START  # Task_BoSung is ready from the start
    assert instance.due_at == vn(2026, 12, 2, 17, 0)
    tasks = ready(uow, instance_id)
    with uow() as u:
        appraisal_due = u.session.get(HumanTask, tasks["Task_ThamDinh"]).due_at  # type: ignore[union-attr]
    assert appraisal_due == vn(2026, 12, 1, 17, 0)

    # A week and a half later, past both deadlines: the paused clock keeps them in time.
    clock.now = vn(2026, 12, 7, 10, 0).astimezone(UTC)
    with uow() as u:
        paused = u.session.get(ProcessInstance, instance_id)
        appraisal = u.session.get(HumanTask, tasks["Task_ThamDinh"])
        assert sla.instance_state(services, paused) == DueState.DUE_OK  # type: ignore[arg-type]
        assert sla.task_state(services, appraisal) == DueState.DUE_OK  # type: ignore[arg-type]

    complete(uow, services, actor, tasks["Task_BoSung"])
    calendar = services.calendar()
    stood_still = calendar.working_seconds_between(START, clock.now)
    assert stood_still == 53.5 * 3600  # Thu 6 h + 6 whole days of 7.5 h + Mon 07:30–10:00
    instance = load(uow, instance_id)
    assert instance.paused_at is None
    assert instance.due_at is not None
    assert calendar.working_seconds_between(vn(2026, 12, 2, 17, 0), instance.due_at) == stood_still
    assert instance.due_at == vn(2026, 12, 14, 8, 30)
    with uow() as u:
        appraisal = u.session.get(HumanTask, tasks["Task_ThamDinh"])
        assert appraisal is not None and appraisal.due_at == vn(2026, 12, 11, 8, 30)
        assert sla.task_state(services, appraisal) == DueState.DUE_OK
        actions = u.session.scalars(select(AuditEvent.action).where(
            AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)).all()
    assert actions == ["clock_pause", "start", "clock_resume", "complete"]

    clock.advance(minutes=30)
    complete(uow, services, actor, tasks["Task_ThamDinh"])
    assert load(uow, instance_id).sla_outcome == SlaOutcome.EARLY.value


def test_a_pause_over_a_weekend_only_adds_working_time(
        publish: Publish, uow: Uow, services: Services, clock: Clock, people: dict[str, User]) -> None:
    publish(pause_procedure())
    actor = people["cv_stc"]
    clock.now = vn(2026, 11, 27, 17, 0).astimezone(UTC)   # Friday at closing time
    instance_id = start(uow, services, actor)
    due = load(uow, instance_id).due_at
    clock.now = vn(2026, 11, 30, 7, 30).astimezone(UTC)   # Monday at opening time
    complete(uow, services, actor, ready(uow, instance_id)["Task_BoSung"])
    assert load(uow, instance_id).due_at == due
