"""Timers: boundary (escalation, interrupting), intermediate catch events, wake-up times, restarts."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine import worker
from engine.adapters.base import AdapterError, AdapterRegistry
from engine.adapters.registry import build_registry
from engine.bpmn.functions import VN, as_aware
from engine.domain.enums import InstanceStatus, TaskStatus
from engine.domain.errors import PublishRefused
from engine.persistence.db import make_engine, make_session_factory
from engine.persistence.models import AuditEvent, HumanTask, ProcessInstance, ServiceCall, Unit, User
from engine.persistence.uow import UnitOfWork
from engine.services import identity, instances
from engine.services.context import Services
from tests.engine.test_instances import instance_row

Uow = Callable[[], UnitOfWork]
REQUEST = {
    "kenh_gui": "email_cong_vu",
    "noi_dung": "Đề nghị cấp thư điện tử công vụ.",
    "ca_nhan": [{"ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch", "thao_tac": "cap_moi"}],
    "nguoi_ky": "Giám đốc Sở Tài chính",
}
ESCALATION = "Task_DonDocXuLy"


# ---------------------------------------------------------------- helpers


def tasks(uow: Uow, instance_id: int, status: TaskStatus | None = TaskStatus.READY) -> list[HumanTask]:
    with uow() as u:
        query = select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.id)
        if status is not None:
            query = query.where(HumanTask.status == status)
        rows = list(u.session.scalars(query).unique())
        u.session.expunge_all()
        return rows



def complete(uow: Uow, services: Services, actor: User, instance_id: int, element_id: str,
             data: dict[str, Any]) -> None:
    (task,) = [t for t in tasks(uow, instance_id) if t.element_id == element_id]
    with uow() as u:
        instances.complete_task(u, services, actor, task.id, data)


@pytest.fixture
def leader(uow: Uow, people: dict[str, User]) -> User:
    with uow() as u:
        identity.create_user(u, "ld_sttt", "Phạm Thu Hà", "matkhau123", "sttt", ["lanh_dao"])
        u.commit()
        user = u.session.scalar(select(User).where(User.username == "ld_sttt"))
        assert user is not None
        _ = user.role_codes
        u.session.expunge_all()
        return user


def expected_deadline(services: Services) -> datetime:
    """What the escalation timer's expression gives now: 3 working days on the platform's calendar."""
    add_working_days = services.runtime.environment.functions["add_working_days"]
    moment = as_aware(add_working_days(services.now().astimezone(VN), 3))
    assert moment is not None
    return moment


def processing(uow: Uow, services: Services, people: dict[str, User]) -> tuple[int, datetime]:
    """An email_account instance whose processing step has just started, and its escalation moment."""
    with uow() as u:
        instance_id = instances.start(u, services, people["cv_stc"], "email_account").id
    complete(uow, services, people["cv_stc"], instance_id, "Task_LapDeNghi", REQUEST)
    return instance_id, expected_deadline(services)


def escalation_events(uow: Uow, instance_id: int) -> list[AuditEvent]:
    with uow() as u:
        return list(u.session.scalars(select(AuditEvent).where(
            AuditEvent.instance_id == instance_id, AuditEvent.action == "timer")))


# ---------------------------------------------------------------- escalation in email_account


def test_escalation_fires_once_when_processing_passes_three_working_days(  # type: ignore[no-untyped-def]
        uow, services, people, published, clock, leader) -> None:
    instance_id, deadline = processing(uow, services, people)
    assert instance_row(uow, instance_id).wake_at == deadline  # the only timer, nothing else due

    clock.now = deadline - timedelta(minutes=1)
    assert worker.run_once(uow, services, owner="w1") == 0
    assert [t.element_id for t in tasks(uow, instance_id)] == ["Task_XuLyDangKy"]  # not before

    clock.now = deadline
    worker.run_once(uow, services, owner="w1")
    ready = tasks(uow, instance_id)
    assert [t.element_id for t in ready] == ["Task_XuLyDangKy", ESCALATION]
    escalation = ready[1]
    assert escalation.name == "Đôn đốc xử lý quá hạn"
    assert escalation.form_key == "email_account_escalation"
    with uow() as u:
        sttt = u.session.scalar(select(Unit).where(Unit.code == "sttt"))
        assert sttt is not None
        task = instances.get_task(u, escalation.id)
        assert [(c.unit_id, c.role) for c in task.candidates] == [(sttt.id, "lanh_dao")]
        assert instances.can_perform(leader, task)
        assert not instances.can_perform(people["cv_sttt"], task)
    after = instance_row(uow, instance_id)
    assert (after.wake_at, after.lease_owner) == (None, None)  # nothing left to wake for

    clock.advance(days=10)
    worker.run_once(uow, services, owner="w2")
    assert [t.element_id for t in tasks(uow, instance_id, status=None)].count(ESCALATION) == 1
    assert len(escalation_events(uow, instance_id)) == 1


def test_processing_goes_on_after_the_escalation(uow, services, people, published, clock,  # type: ignore[no-untyped-def]
                                                 leader) -> None:
    instance_id, deadline = processing(uow, services, people)
    clock.now = deadline + timedelta(hours=1)
    worker.run_once(uow, services, owner="w1")

    complete(uow, services, people["cv_sttt"], instance_id, "Task_XuLyDangKy", {"xac_nhan": True})
    assert [t.element_id for t in tasks(uow, instance_id)] == [ESCALATION]  # untouched: non-interrupting
    assert instance_row(uow, instance_id).wake_at == clock.now  # the mail-directory step is due

    assert worker.run_once(uow, services, owner="w1") == 1
    complete(uow, services, leader, instance_id, ESCALATION,
             {"y_kien_chi_dao": "Đề nghị hoàn thành ngay trong ngày.", "da_don_doc": True})
    assert [t.element_id for t in tasks(uow, instance_id)] == ["Task_PhucDap"]


def test_finishing_in_time_leaves_no_timer(uow, services, people, published, clock) -> None:  # type: ignore[no-untyped-def]
    instance_id, deadline = processing(uow, services, people)
    clock.advance(hours=2)
    complete(uow, services, people["cv_sttt"], instance_id, "Task_XuLyDangKy", {"xac_nhan": True})
    worker.run_once(uow, services, owner="w1")
    assert instance_row(uow, instance_id).wake_at is None  # the boundary timer went with its task

    clock.now = deadline + timedelta(days=1)
    worker.run_once(uow, services, owner="w1")
    assert ESCALATION not in [t.element_id for t in tasks(uow, instance_id, status=None)]


def test_escalation_timer_survives_a_worker_restart(uow, services, people, published, clock,  # type: ignore[no-untyped-def]
                                                   settings, db_url) -> None:
    instance_id, deadline = processing(uow, services, people)
    clock.now = deadline + timedelta(minutes=5)

    # A new process: its own engine, sessions, services and runtime; only the database is shared.
    engine = make_engine(db_url)
    try:
        factory = make_session_factory(engine)
        restarted = Services(settings, build_registry(settings, factory, clock), clock=clock)
        assert restarted.runtime is not services.runtime
        worker.run_once(lambda: UnitOfWork(factory), restarted, owner="w-restarted")
    finally:
        engine.dispose()
    assert [t.element_id for t in tasks(uow, instance_id)] == ["Task_XuLyDangKy", ESCALATION]


def test_the_claim_reads_only_the_wake_up_time(uow, services, people, published, clock) -> None:  # type: ignore[no-untyped-def]
    instance_id, deadline = processing(uow, services, people)
    with uow() as u:  # hide the due instance from the index the worker reads
        row = u.session.get(ProcessInstance, instance_id)
        assert row is not None
        row.wake_at = None
        u.commit()
    clock.now = deadline + timedelta(days=1)
    worker.run_once(uow, services, owner="w1")
    assert ESCALATION not in [t.element_id for t in tasks(uow, instance_id)]  # not scanned for

    with uow() as u:
        row = u.session.get(ProcessInstance, instance_id)
        assert row is not None
        row.wake_at = deadline
        u.commit()
    worker.run_once(uow, services, owner="w1")
    assert ESCALATION in [t.element_id for t in tasks(uow, instance_id)]


# ---------------------------------------------------------------- small processes

BPMN_HEAD = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_HenGio"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="hen_gio" name="Quy trình có hẹn giờ" isExecutable="true">
    <bpmn:startEvent id="StartEvent_BatDau"/>'''
BPMN_TAIL = '''
  </bpmn:process>
</bpmn:definitions>'''
GHI_CHU_FORM = {"type": "default", "id": "Form_GhiChu", "components": [
    {"type": "textfield", "key": "ghi_chu", "id": "Field_GhiChu", "label": "Ghi chú"},
]}


def user_task(id_: str, name: str) -> str:
    return (f'<bpmn:userTask id="{id_}" name="{name}" camunda:formKey="ghi_chu" '
            f'camunda:candidateGroups="initiator:chuyen_vien"/>')


def timer(kind: str, expression: str) -> str:
    return f"<bpmn:timerEventDefinition><bpmn:{kind}>{expression}</bpmn:{kind}></bpmn:timerEventDefinition>"


def boundary(id_: str, attached: str, definition: str, *, interrupting: bool) -> str:
    return (f'<bpmn:boundaryEvent id="{id_}" name="Hết giờ" attachedToRef="{attached}" '
            f'cancelActivity="{str(interrupting).lower()}">{definition}</bpmn:boundaryEvent>')


def flows(*pairs: tuple[str, str]) -> str:
    return "".join(f'<bpmn:sequenceFlow id="Flow_{i}" sourceRef="{a}" targetRef="{b}"/>'
                   for i, (a, b) in enumerate(pairs, start=1))


def process(*parts: str) -> dict[str, bytes]:
    return {"hen_gio.bpmn": (BPMN_HEAD + "".join(parts) + BPMN_TAIL).encode(),
            "ghi_chu.form": json.dumps(GHI_CHU_FORM).encode()}


def start(uow: Uow, services: Services, actor: User) -> int:
    with uow() as u:
        return instances.start(u, services, actor, "hen_gio").id


INTERRUPTING = process(
    user_task("Task_ChoDuyet", "Chờ duyệt"),
    boundary("Boundary_HetGio", "Task_ChoDuyet", timer("timeDuration", '"PT2H"'), interrupting=True),
    boundary("Boundary_NhacNho", "Task_ChoDuyet", timer("timeDuration", '"PT1H"'), interrupting=False),
    user_task("Task_XuLyThay", "Xử lý thay"), user_task("Task_NhacNho", "Nhắc nhở"),
    '<bpmn:endEvent id="EndEvent_A"/><bpmn:endEvent id="EndEvent_B"/><bpmn:endEvent id="EndEvent_C"/>',
    flows(("StartEvent_BatDau", "Task_ChoDuyet"), ("Task_ChoDuyet", "EndEvent_A"),
          ("Boundary_HetGio", "Task_XuLyThay"), ("Task_XuLyThay", "EndEvent_B"),
          ("Boundary_NhacNho", "Task_NhacNho"), ("Task_NhacNho", "EndEvent_C")),
)


def test_interrupting_timer_cancels_its_task_and_takes_the_timer_path(  # type: ignore[no-untyped-def]
        uow, services, people, publish, clock) -> None:
    publish(INTERRUPTING)
    started = clock.now
    instance_id = start(uow, services, people["cv_stc"])
    assert instance_row(uow, instance_id).wake_at == started + timedelta(hours=1)  # the earliest timer

    clock.advance(hours=1)
    worker.run_once(uow, services, owner="w1")
    assert [t.element_id for t in tasks(uow, instance_id)] == ["Task_ChoDuyet", "Task_NhacNho"]
    assert instance_row(uow, instance_id).wake_at == started + timedelta(hours=2)  # then the next one

    clock.advance(minutes=59)
    worker.run_once(uow, services, owner="w1")
    assert [t.element_id for t in tasks(uow, instance_id)] == ["Task_ChoDuyet", "Task_NhacNho"]
    clock.advance(minutes=1)
    worker.run_once(uow, services, owner="w1")
    assert [t.element_id for t in tasks(uow, instance_id)] == ["Task_NhacNho", "Task_XuLyThay"]
    (cancelled,) = tasks(uow, instance_id, status=TaskStatus.CANCELLED)
    assert (cancelled.element_id, cancelled.completed_at) == ("Task_ChoDuyet", clock.now)
    assert instance_row(uow, instance_id).wake_at is None

    for element_id in ("Task_NhacNho", "Task_XuLyThay"):
        complete(uow, services, people["cv_stc"], instance_id, element_id, {"ghi_chu": "xong"})
    assert instance_row(uow, instance_id).status == InstanceStatus.COMPLETED


CATCH = process(
    user_task("Task_GuiDeNghi", "Gửi đề nghị"),
    '<bpmn:intermediateCatchEvent id="Event_ChoDenHen" name="Chờ đến giờ họp">'
    + timer("timeDate", "hop_luc") + "</bpmn:intermediateCatchEvent>",
    user_task("Task_DiemDanh", "Điểm danh"),
    '<bpmn:endEvent id="EndEvent_KetThuc"/>',
    flows(("StartEvent_BatDau", "Task_GuiDeNghi"), ("Task_GuiDeNghi", "Event_ChoDenHen"),
          ("Event_ChoDenHen", "Task_DiemDanh"), ("Task_DiemDanh", "EndEvent_KetThuc")),
)


@pytest.mark.parametrize("meeting", ["2026-11-27T14:00:00", "2026-11-27T14:00:00+07:00"])
def test_intermediate_timer_waits_then_continues(uow, services, people, publish, clock,  # type: ignore[no-untyped-def]
                                                 meeting) -> None:
    publish(CATCH)
    with uow() as u:
        instance_id = instances.start(u, services, people["cv_stc"], "hen_gio", {"hop_luc": meeting}).id
    complete(uow, services, people["cv_stc"], instance_id, "Task_GuiDeNghi", {"ghi_chu": "đã gửi"})
    at = datetime(2026, 11, 27, 14, 0, tzinfo=VN)  # a naive time is Vietnam time, not the server's
    assert tasks(uow, instance_id) == []
    assert instance_row(uow, instance_id).wake_at == at

    clock.now = at - timedelta(seconds=1)
    worker.run_once(uow, services, owner="w1")
    assert tasks(uow, instance_id) == []
    clock.now = at
    worker.run_once(uow, services, owner="w1")
    assert [t.element_id for t in tasks(uow, instance_id)] == ["Task_DiemDanh"]
    assert instance_row(uow, instance_id).wake_at is None


def test_a_timer_expression_may_return_a_datetime(uow, services, people, publish, clock) -> None:  # type: ignore[no-untyped-def]
    publish(process(
        '<bpmn:intermediateCatchEvent id="Event_Cho" name="Chờ hai ngày làm việc">'
        + timer("timeDate", "add_working_days(now(), 2)") + "</bpmn:intermediateCatchEvent>",
        user_task("Task_Tiep", "Tiếp tục"), '<bpmn:endEvent id="EndEvent_KetThuc"/>',
        flows(("StartEvent_BatDau", "Event_Cho"), ("Event_Cho", "Task_Tiep"), ("Task_Tiep", "EndEvent_KetThuc")),
    ))
    add_working_days = services.runtime.environment.functions["add_working_days"]
    due = as_aware(add_working_days(clock.now.astimezone(VN), 2))
    instance_id = start(uow, services, people["cv_stc"])
    assert instance_row(uow, instance_id).wake_at == due
    clock.now = due
    worker.run_once(uow, services, owner="w1")
    assert [t.element_id for t in tasks(uow, instance_id)] == ["Task_Tiep"]


# ---------------------------------------------------------------- a timer on a multi-instance service task

TOPIC = "mail_directory.apply"
SERVICE_WITH_TIMEOUT = process(
    f'<bpmn:serviceTask id="Task_GoiHeThong" name="Gọi hệ thống" camunda:type="external" camunda:topic="{TOPIC}">'
    '<bpmn:multiInstanceLoopCharacteristics isSequential="true" camunda:collection="rows" '
    'camunda:elementVariable="row"/></bpmn:serviceTask>',
    boundary("Boundary_QuaGio", "Task_GoiHeThong", timer("timeDuration", '"PT1H"'), interrupting=True),
    user_task("Task_XuLyThuCong", "Xử lý thủ công"),
    '<bpmn:endEvent id="EndEvent_A"/><bpmn:endEvent id="EndEvent_B"/>',
    flows(("StartEvent_BatDau", "Task_GoiHeThong"), ("Task_GoiHeThong", "EndEvent_A"),
          ("Boundary_QuaGio", "Task_XuLyThuCong"), ("Task_XuLyThuCong", "EndEvent_B")),
)


def test_timer_on_a_failing_multi_instance_service_task_takes_over(  # type: ignore[no-untyped-def]
        uow, services, people, publish, clock) -> None:
    publish(SERVICE_WITH_TIMEOUT)
    calls: list[str] = []

    def unreachable(key: str, data: Mapping[str, Any], context: object) -> dict[str, Any]:
        calls.append(key)
        raise AdapterError("Máy chủ không phản hồi")

    slow_retries = dataclasses.replace(services.settings, retry_base_seconds=7200, max_attempts=5)
    services = Services(slow_retries, AdapterRegistry({TOPIC: unreachable}), clock=services.clock)
    started = clock.now
    with uow() as u:
        instance_id = instances.start(u, services, people["cv_stc"], "hen_gio", {"rows": [{"stt": 1}, {"stt": 2}]}).id
    assert instance_row(uow, instance_id).wake_at == started  # the call is due now

    worker.run_once(uow, services, owner="w1")
    assert len(calls) == 1
    with uow() as u:
        (call,) = u.session.scalars(select(ServiceCall).where(ServiceCall.instance_id == instance_id))
        assert call.retry_at == started + timedelta(hours=2)
    assert instance_row(uow, instance_id).wake_at == started + timedelta(hours=1)  # the timer comes first

    clock.advance(hours=1)
    worker.run_once(uow, services, owner="w1")
    assert len(calls) == 1  # the retry was not due; the timer took the task away
    assert [t.element_id for t in tasks(uow, instance_id)] == ["Task_XuLyThuCong"]
    row = instance_row(uow, instance_id)
    assert (row.status, row.wake_at, row.lease_owner) == (InstanceStatus.RUNNING, None, None)

    clock.advance(hours=5)
    worker.run_once(uow, services, owner="w1")
    assert len(calls) == 1  # a cancelled call is never retried


# ---------------------------------------------------------------- procedures started by a timer

WEEKLY = "R3/2026-11-30T08:00:00+07:00/P1W"


def scheduled_process(unit: str | None = "sttt") -> dict[str, bytes]:
    files = process(user_task("Task_BaoCaoTuan", "Lập báo cáo tuần"), '<bpmn:endEvent id="EndEvent_KetThuc"/>',
                    flows(("StartEvent_BatDau", "Task_BaoCaoTuan"), ("Task_BaoCaoTuan", "EndEvent_KetThuc")))
    start_event = ('<bpmn:startEvent id="StartEvent_BatDau" name="Sáng thứ Hai hằng tuần">'
                   + timer("timeCycle", f'"{WEEKLY}"') + "</bpmn:startEvent>")
    properties = ('<bpmn:extensionElements><camunda:properties>'
                  f'<camunda:property name="scheduleUnit" value="{unit}"/>'
                  '</camunda:properties></bpmn:extensionElements>') if unit else ""
    bpmn = files["hen_gio.bpmn"].decode().replace('<bpmn:startEvent id="StartEvent_BatDau"/>',
                                                  properties + start_event)
    return {**files, "hen_gio.bpmn": bpmn.encode()}


def scheduled_instances(uow: Uow) -> list[ProcessInstance]:
    with uow() as u:
        rows = list(u.session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)))
        u.session.expunge_all()
        return rows


def test_a_timer_start_event_starts_one_instance_per_cycle(uow, services, people, publish, clock) -> None:  # type: ignore[no-untyped-def]
    publish(scheduled_process())
    worker.run_once(uow, services, owner="w1")  # Thursday: the schedule is planned, nothing started
    assert scheduled_instances(uow) == []

    monday = datetime(2026, 11, 30, 8, 0, tzinfo=VN)
    clock.now = monday - timedelta(seconds=1)
    worker.run_once(uow, services, owner="w1")
    assert scheduled_instances(uow) == []
    clock.now = monday
    worker.run_once(uow, services, owner="w1")
    worker.run_once(uow, services, owner="w2")
    (first,) = scheduled_instances(uow)
    with uow() as u:
        sttt = u.session.scalar(select(Unit).where(Unit.code == "sttt"))
        assert sttt is not None
        assert (first.initiator_id, first.initiator_unit_id) == (people["qt"].id, sttt.id)
    assert [t.element_id for t in tasks(uow, first.id)] == ["Task_BaoCaoTuan"]
    assert first.wake_at is None  # the instance itself waits on no timer

    clock.now = monday + timedelta(weeks=1)
    worker.run_once(uow, services, owner="w1")
    assert len(scheduled_instances(uow)) == 2
    clock.now = monday + timedelta(weeks=5)  # missed runs are not replayed: one start, the last one
    worker.run_once(uow, services, owner="w1")
    clock.now = monday + timedelta(weeks=9)
    worker.run_once(uow, services, owner="w1")
    assert len(scheduled_instances(uow)) == 3


def test_a_timer_started_procedure_needs_its_unit(publish) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PublishRefused) as refused:
        publish(scheduled_process(unit=None))
    assert any("scheduleUnit" in p.message.en for p in refused.value.details)
    with pytest.raises(PublishRefused):
        publish(scheduled_process(unit="khong_co"))


def test_meeting_time_and_shift_give_vietnam_moments() -> None:
    from engine.bpmn.functions import VN, platform_functions
    functions = platform_functions(lambda: datetime(2026, 12, 1, tzinfo=UTC))
    start = functions["meeting_time"]("2026-12-03", "08:00")
    assert start == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    assert functions["shift"](start, hours=-2) == datetime(2026, 12, 3, 6, 0, tzinfo=VN)
    assert functions["shift"](start.isoformat(), minutes=-30).isoformat() == "2026-12-03T07:30:00+07:00"
    assert functions["shift"]("2026-12-03", days=-1) == datetime(2026, 12, 2, tzinfo=VN)


@pytest.mark.parametrize(("start", "end", "buoi", "expected"), [
    ("08:00", None, None, "11:30"),          # the morning session
    ("08:00", "", "sang", "11:30"),
    ("13:30", None, None, "17:00"),          # the afternoon session
    ("11:45", None, None, "17:00"),          # after 11:30: the afternoon's end
    ("08:00", None, "ca_ngay", "17:00"),     # the whole day
    ("09:00", None, "chieu", "17:00"),       # registered for the afternoon: its end, whatever the start
    ("14:00", None, "sang", "17:00"),        # "sang" changes nothing: the start is in the afternoon
    ("17:00", None, None, "19:00"),          # at or after 17:00: two hours
    ("18:30", None, "ca_ngay", "20:30"),
    ("08:00", "09:30", "ca_ngay", "09:30"),  # the registered end wins
    ("08:00", "08:00", None, "11:30"),       # an end not after the start is ignored
    ("10:00", "07:00", "ca_ngay", "17:00"),
    ("17:30", "17:00", None, "19:30"),
])
def test_meeting_end_is_the_registered_end_else_the_sessions(start: str, end: str | None, buoi: str | None,
                                                             expected: str) -> None:
    from engine.bpmn.functions import VN, platform_functions
    meeting_end = platform_functions(lambda: datetime(2026, 12, 1, tzinfo=UTC))["meeting_end"]
    found = meeting_end("2026-12-03", start, end, buoi)
    assert found == datetime.fromisoformat(f"2026-12-03T{expected}").replace(tzinfo=VN)
    assert found.isoformat().endswith("+07:00")


def test_meeting_end_refuses_what_it_cannot_read() -> None:
    from engine.bpmn.functions import meeting_end, session_end
    with pytest.raises(ValueError, match="buoi"):
        meeting_end("2026-12-03", "08:00", None, "toi")
    with pytest.raises(ValueError, match="aware"):
        session_end(datetime(2026, 12, 3, 8, 0))
    with pytest.raises(ValueError):
        meeting_end("2026-12-03", "08:00", "9 giờ")
