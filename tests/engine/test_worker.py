"""The worker: retries with backoff, incidents, idempotent adapters, crashes, and failing scripts."""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import worker
from engine.adapters.base import AdapterError, AdapterRegistry, CallContext
from engine.adapters.mail_directory import LocalMailDirectory
from engine.domain.enums import CallStatus, IncidentStatus, InstanceStatus, TaskStatus
from engine.persistence.models import HumanTask, Incident, MailAccount, ProcessInstance, ServiceCall, User
from engine.persistence.uow import UnitOfWork
from engine.services import instances
from engine.services.context import Services

Uow = Callable[[], UnitOfWork]
TOPIC = "mail_directory.apply"
ONE_ROW = {
    "kenh_gui": "email_cong_vu",
    "noi_dung": "Đề nghị cấp thư điện tử công vụ.",
    "ca_nhan": [{"ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch", "thao_tac": "cap_moi"}],
    "nguoi_ky": "Giám đốc Sở Tài chính",
}
CHECKED = {"xac_nhan": True}


class WorkerCrashed(BaseException):
    """Stands for the worker process dying: nothing in the engine handles it."""


class ScriptedOperation:
    """Wraps the real mail directory: fails or crashes on chosen calls, records every key."""

    def __init__(self, real: Callable[[str, Mapping[str, Any], CallContext], dict[str, Any]], *,
                 failures: int = 0, crash_after_first: bool = False) -> None:
        self.real = real
        self.failures = failures
        self.crash_after_first = crash_after_first
        self.keys: list[str] = []

    def __call__(self, key: str, data: Mapping[str, Any], context: CallContext) -> dict[str, Any]:
        self.keys.append(key)
        if self.failures:
            self.failures -= 1
            raise AdapterError("Máy chủ thư điện tử không phản hồi")
        result = self.real(key, data, context)
        if self.crash_after_first and len(self.keys) == 1:
            raise WorkerCrashed  # the mailbox exists, the instance never heard of it
        return result


# ---------------------------------------------------------------- helpers


@pytest.fixture
def mail(settings, session_factory) -> LocalMailDirectory:  # type: ignore[no-untyped-def]
    return LocalMailDirectory(session_factory, settings.mail_domain)


def services_with(services: Services, operation: Callable[..., dict[str, Any]]) -> Services:
    """The same settings and clock, with `operation` behind the mail-directory topic."""
    return Services(services.settings, AdapterRegistry({TOPIC: operation}), clock=services.clock)


def waiting_for_worker(uow: Uow, services: Services, people: dict[str, User],
                       request: dict[str, Any] = ONE_ROW) -> int:
    """An email_account instance whose mail-directory step is due."""
    with uow() as u:
        instance_id = instances.start(u, services, people["cv_stc"], "email_account").id
    for actor, data in ((people["cv_stc"], request), (people["cv_sttt"], CHECKED)):
        with uow() as u:
            (task,) = ready(u, instance_id)
            instances.complete_task(u, services, actor, task.id, data)
    return instance_id


def ready(u: UnitOfWork, instance_id: int) -> list[HumanTask]:
    return list(u.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY)))


def snapshot(uow: Uow, instance_id: int) -> dict[str, Any]:
    """What a user or operator would see of the instance."""
    with uow() as u:
        instance = u.session.get(ProcessInstance, instance_id)
        assert instance is not None
        calls = u.session.scalars(select(ServiceCall).where(ServiceCall.instance_id == instance_id)
                                  .order_by(ServiceCall.id)).all()
        return {
            "status": instance.status, "wake_at": instance.wake_at, "lease_owner": instance.lease_owner,
            "revision": instance.revision,
            "ready": [t.element_id for t in ready(u, instance_id)],
            "calls": [(c.status, c.attempts, c.last_error) for c in calls],
            "incidents": [(i.element_id, i.topic, i.message, i.status) for i in u.session.scalars(
                select(Incident).where(Incident.instance_id == instance_id))],
            "mailboxes": sorted(u.session.scalars(select(MailAccount.address))),
        }


# ---------------------------------------------------------------- retries and incidents


def test_failing_adapter_is_retried_with_doubling_backoff(uow, services, people, published, clock,  # type: ignore[no-untyped-def]
                                                          mail) -> None:
    flaky = ScriptedOperation(mail.apply, failures=2)
    services = services_with(services, flaky)
    instance_id = waiting_for_worker(uow, services, people)

    assert worker.run_once(uow, services, owner="w1") == 0
    first = snapshot(uow, instance_id)
    assert first["wake_at"] == clock.now + timedelta(seconds=10)
    assert (first["status"], first["lease_owner"], first["mailboxes"]) == (InstanceStatus.RUNNING, None, [])
    assert first["calls"] == [(CallStatus.PENDING, 1, "Máy chủ thư điện tử không phản hồi")]

    assert worker.run_once(uow, services, owner="w1") == 0  # not due yet: no call
    assert len(flaky.keys) == 1

    clock.advance(seconds=10)
    assert worker.run_once(uow, services, owner="w1") == 0
    assert snapshot(uow, instance_id)["wake_at"] == clock.now + timedelta(seconds=20)  # doubled

    clock.advance(seconds=19)
    assert worker.run_once(uow, services, owner="w1") == 0
    clock.advance(seconds=1)
    assert worker.run_once(uow, services, owner="w1") == 1
    done = snapshot(uow, instance_id)
    assert done["ready"] == ["Task_PhucDap"]
    assert done["calls"] == [(CallStatus.SUCCEEDED, 3, None)]
    assert done["mailboxes"] == ["annv@dongthap.gov.vn"]
    assert len(set(flaky.keys)) == 1  # every attempt carried the same idempotency key


def test_adapter_failing_max_attempts_raises_an_incident(uow, services, people, published, clock,  # type: ignore[no-untyped-def]
                                                         mail) -> None:
    down = ScriptedOperation(mail.apply, failures=100)
    services = services_with(services, down)
    instance_id = waiting_for_worker(uow, services, people)

    for delay in (10, 20):
        assert worker.run_once(uow, services, owner="w1") == 0
        assert snapshot(uow, instance_id)["wake_at"] == clock.now + timedelta(seconds=delay)
        clock.advance(seconds=delay)
    assert worker.run_once(uow, services, owner="w1") == 0  # attempt 3 of max_attempts=3

    broken = snapshot(uow, instance_id)
    assert (broken["status"], broken["wake_at"]) == (InstanceStatus.ERROR, None)
    assert broken["calls"] == [(CallStatus.FAILED, 3, "Máy chủ thư điện tử không phản hồi")]
    ((element_id, topic, message, status),) = broken["incidents"]
    assert (element_id, topic, status) == ("Task_ThucHienTaiKhoan", TOPIC, IncidentStatus.OPEN)
    assert "Máy chủ thư điện tử không phản hồi" in message and "3" in message

    clock.advance(days=1)
    assert worker.run_once(uow, services, owner="w1") == 0
    assert len(down.keys) == 3  # an instance in error is left alone


# ---------------------------------------------------------------- idempotency and crashes


def test_same_key_twice_creates_one_mailbox(mail, uow) -> None:  # type: ignore[no-untyped-def]
    row = {"row": {"stt": 1, "loai": "ca_nhan", "ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch",
                   "thao_tac": "cap_moi"}}
    first = mail.apply("7:khoa-1", row)
    again = mail.apply("7:khoa-1", row)
    assert first == again
    assert first["row"]["dia_chi"] == "annv@dongthap.gov.vn"
    other = mail.apply("7:khoa-2", row)  # a different request for the same name
    assert other["row"]["dia_chi"] == "annv1@dongthap.gov.vn"
    with uow() as u:
        assert u.session.scalar(select(func.count()).select_from(MailAccount)) == 2


def test_crash_after_the_adapter_call_does_not_create_a_second_mailbox(uow, services, people,  # type: ignore[no-untyped-def]
                                                                       published, clock, settings,
                                                                       mail) -> None:
    crashing = ScriptedOperation(mail.apply, crash_after_first=True)
    services = services_with(services, crashing)
    instance_id = waiting_for_worker(uow, services, people)
    before = snapshot(uow, instance_id)

    with pytest.raises(WorkerCrashed):
        worker.run_once(uow, services, owner="w1")
    crashed = snapshot(uow, instance_id)
    assert crashed["mailboxes"] == ["annv@dongthap.gov.vn"]  # done in the mail system...
    assert crashed["ready"] == before["ready"] == []           # ...but not in the instance
    assert crashed["lease_owner"] == "w1"

    assert worker.run_once(uow, services, owner="w2") == 0  # the dead worker's lease still holds
    assert len(crashing.keys) == 1

    clock.advance(seconds=settings.lease_seconds + 1)
    assert worker.run_once(uow, services, owner="w2") == 1
    after = snapshot(uow, instance_id)
    assert after["mailboxes"] == ["annv@dongthap.gov.vn"]
    assert after["ready"] == ["Task_PhucDap"]
    assert after["calls"] == [(CallStatus.SUCCEEDED, 2, None)]
    assert crashing.keys[0] == crashing.keys[1]


def test_instance_cancelled_during_the_adapter_call_stays_cancelled(uow, services, people,  # type: ignore[no-untyped-def]
                                                                   published, mail) -> None:
    holder: dict[str, int] = {}

    def cancel_meanwhile(key: str, data: Mapping[str, Any], context: CallContext) -> dict[str, Any]:
        with uow() as u:
            instances.cancel(u, services, people["cv_stc"], holder["id"])
        return mail.apply(key, data, context)

    services = services_with(services, cancel_meanwhile)
    holder["id"] = waiting_for_worker(uow, services, people)
    assert worker.run_once(uow, services, owner="w1") == 1  # the worker carries on
    after = snapshot(uow, holder["id"])
    assert (after["status"], after["ready"]) == (InstanceStatus.CANCELLED, [])
    assert after["calls"] == [(CallStatus.SUCCEEDED, 1, None)]  # the mailbox was made: say so
    assert after["mailboxes"] == ["annv@dongthap.gov.vn"]


# ---------------------------------------------------------------- failing scripts

SCRIPT_ERROR_BPMN = b'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_LoiKichBan"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="loi_kich_ban" name="Quy tr\xc3\xacnh c\xc3\xb3 k\xe1\xbb\x8bch b\xe1\xba\xa3n l\xe1\xbb\x97i"
      isExecutable="true">
    <bpmn:startEvent id="StartEvent_BatDau"/>
    <bpmn:userTask id="Task_NhapLyDo" name="Nh\xe1\xba\xadp l\xc3\xbd do" camunda:formKey="ly_do"
        camunda:candidateGroups="initiator:chuyen_vien"/>
    <bpmn:scriptTask id="Task_ChiaChoKhong" name="T\xc3\xadnh t\xe1\xbb\xb7 l\xe1\xbb\x87" scriptFormat="python">
      <bpmn:script>ty_le = 1/0</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="EndEvent_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_BatDau" targetRef="Task_NhapLyDo"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_NhapLyDo" targetRef="Task_ChiaChoKhong"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_ChiaChoKhong" targetRef="EndEvent_KetThuc"/>
  </bpmn:process>
</bpmn:definitions>'''
LY_DO_FORM = {"type": "default", "id": "Form_LyDo", "components": [
    {"type": "textfield", "key": "ly_do", "id": "Field_LyDo", "label": "Lý do", "validate": {"required": True}},
]}


def test_script_error_stops_the_instance_with_an_incident_and_keeps_the_data(  # type: ignore[no-untyped-def]
        uow, services, people, publish) -> None:
    publish({"loi_kich_ban.bpmn": SCRIPT_ERROR_BPMN, "ly_do.form": json.dumps(LY_DO_FORM).encode()})
    requester = people["cv_stc"]
    with uow() as u:
        instance_id = instances.start(u, services, requester, "loi_kich_ban").id
    with uow() as u:
        (task,) = ready(u, instance_id)
        task_id = task.id
        instances.complete_task(u, services, requester, task_id, {"ly_do": "Kiểm tra tỷ lệ"})

    broken = snapshot(uow, instance_id)
    assert (broken["status"], broken["ready"]) == (InstanceStatus.ERROR, [])
    ((element_id, _topic, message, status),) = broken["incidents"]
    assert (element_id, status) == ("Task_ChiaChoKhong", IncidentStatus.OPEN)
    assert "division" in message.lower()
    with uow() as u:
        task = instances.get_task(u, task_id)
        assert (task.status, task.completed_by) == (TaskStatus.COMPLETED, requester.id)
        assert instances.task_data(u, services, task)["ly_do"] == "Kiểm tra tỷ lệ"
    assert worker.run_once(uow, services, owner="w1") == 0
