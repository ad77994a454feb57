"""Incidents: the administrators' list, retrying a failed adapter call (same key, one effect), refusals
that raise the incident at once, re-running a failed script, and every refusal of a retry."""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import worker
from engine.adapters.base import AdapterError, AdapterRefused, CallContext
from engine.adapters.mail_directory import LocalMailDirectory
from engine.domain.enums import CallStatus, IncidentStatus, InstanceStatus
from engine.domain.errors import Conflict, Forbidden, NotFound
from engine.persistence.models import AuditEvent, Incident, ProcessInstance, ServiceCall, User
from engine.persistence.uow import UnitOfWork
from engine.services import incidents, instances
from engine.services.context import Services
from tests.engine.project_software_server import ProjectSoftwarePeer
from tests.engine.test_project_software import AN, adapter, pauses, started  # noqa: F401 - fixtures
from tests.engine.test_worker import LY_DO_FORM, ScriptedOperation, ready, services_with, snapshot, waiting_for_worker

Uow = Callable[[], UnitOfWork]
TOPIC = "mail_directory.apply"
STEP = "Thực hiện trên hệ thống thư điện tử"


class LostAnswers:
    """The mail directory does the work, then the answer is lost on the way back, `times` times."""

    def __init__(self, real: Callable[[str, Mapping[str, Any], CallContext], dict[str, Any]], times: int) -> None:
        self.real = real
        self.times = times
        self.keys: list[str] = []

    def __call__(self, key: str, data: Mapping[str, Any], context: CallContext) -> dict[str, Any]:
        self.keys.append(key)
        result = self.real(key, data, context)
        if self.times:
            self.times -= 1
            raise AdapterError("Mất kết nối khi chờ trả lời của máy chủ thư")
        return result


@pytest.fixture
def mail(settings, session_factory) -> LocalMailDirectory:  # type: ignore[no-untyped-def]
    return LocalMailDirectory(session_factory, settings.mail_domain)


def run_until_incident(uow: Uow, services: Services, clock: Any) -> None:
    """The worker's attempts, each after its backoff (max_attempts=3: 10 s, then 20 s)."""
    for delay in (10, 20, 0):
        worker.run_once(uow, services, owner="w1")
        clock.advance(seconds=delay)


def open_incident(uow: Uow, instance_id: int) -> int:
    with uow() as u:
        (incident_id,) = u.session.scalars(select(Incident.id).where(
            Incident.instance_id == instance_id, Incident.status == IncidentStatus.OPEN))
        return int(incident_id)


def audit_rows(uow: Uow, instance_id: int, action: str) -> list[tuple[str, str, Any]]:
    with uow() as u:
        return [(e.actor_name, e.summary, e.after) for e in u.session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id, AuditEvent.action == action)
            .order_by(AuditEvent.id))]


def retry(uow: Uow, services: Services, actor: User, incident_id: int) -> Incident:
    with uow() as u:
        return incidents.retry(u, services, actor, incident_id)


# ---------------------------------------------------------------- adapter incidents


def test_admin_retry_calls_again_with_the_same_key_and_the_instance_moves_on(  # type: ignore[no-untyped-def]
        uow, services, people, published, clock, mail) -> None:
    lost = LostAnswers(mail.apply, times=3)  # the mailbox is made on the 1st try; every answer is lost
    services = services_with(services, lost)
    instance_id = waiting_for_worker(uow, services, people)
    run_until_incident(uow, services, clock)
    broken = snapshot(uow, instance_id)
    assert broken["status"] == InstanceStatus.ERROR
    assert broken["calls"] == [(CallStatus.FAILED, 3, "Mất kết nối khi chờ trả lời của máy chủ thư")]
    incident_id = open_incident(uow, instance_id)

    retried_at = clock.advance(hours=2)
    incident = retry(uow, services, people["qt"], incident_id)
    assert (incident.status, incident.resolved_at) == (IncidentStatus.RESOLVED, retried_at)
    handed_back = snapshot(uow, instance_id)
    assert (handed_back["status"], handed_back["wake_at"]) == (InstanceStatus.RUNNING, retried_at)
    # pending again, no attempt yet, the last error kept for history
    assert handed_back["calls"] == [(CallStatus.PENDING, 0, "Mất kết nối khi chờ trả lời của máy chủ thư")]
    ((actor, summary, after),) = audit_rows(uow, instance_id, "incident_retry")
    assert (actor, after) == ("Nguyễn Thị Quản", {"incident_id": incident_id})
    assert summary == (f"Thử lại sự cố tại bước “{STEP}”: gọi lại hệ thống (cùng khóa chống lặp, việc đã làm "
                       "không bị làm lại)")

    assert worker.run_once(uow, services, owner="w2") == 1
    done = snapshot(uow, instance_id)
    assert (done["status"], done["ready"]) == (InstanceStatus.RUNNING, ["Task_PhucDap"])
    assert done["calls"] == [(CallStatus.SUCCEEDED, 1, None)]
    assert done["mailboxes"] == ["annv@dongthap.gov.vn"]  # four calls, one mailbox
    assert len(lost.keys) == 4 and len(set(lost.keys)) == 1
    assert [i[3] for i in done["incidents"]] == [IncidentStatus.RESOLVED]


def test_a_retry_that_fails_again_raises_a_new_incident(uow, services, people, published, clock,  # type: ignore[no-untyped-def]
                                                       mail) -> None:
    down = ScriptedOperation(mail.apply, failures=100)
    services = services_with(services, down)
    instance_id = waiting_for_worker(uow, services, people)
    run_until_incident(uow, services, clock)
    retry(uow, services, people["qt"], open_incident(uow, instance_id))
    run_until_incident(uow, services, clock)  # the worker's full round of attempts again
    after = snapshot(uow, instance_id)
    assert after["status"] == InstanceStatus.ERROR
    assert [i[3] for i in after["incidents"]] == [IncidentStatus.RESOLVED, IncidentStatus.OPEN]
    assert after["calls"] == [(CallStatus.FAILED, 3, "Máy chủ thư điện tử không phản hồi")]
    assert len(down.keys) == 6 and after["mailboxes"] == []


def test_the_list_shows_where_what_and_how_often_then_who_retried(  # type: ignore[no-untyped-def]
        uow, services, people, published, clock, mail) -> None:
    services = services_with(services, ScriptedOperation(mail.apply, failures=3))
    instance_id = waiting_for_worker(uow, services, people)
    run_until_incident(uow, services, clock)
    raised_at = clock.now  # the third attempt (no backoff after it)
    with uow() as u:
        (shown,) = incidents.incidents(u, services, people["qt"])
    assert (shown.instance_id, shown.process_id, shown.procedure_name, shown.version, shown.unit_name) == (
        instance_id, "email_account", published.name, published.version, "Sở Tài chính")
    assert (shown.element_id, shown.step, shown.topic, shown.kind) == (
        "Task_ThucHienTaiKhoan", STEP, TOPIC, "service_call")
    assert shown.message == "Máy chủ thư điện tử không phản hồi (sau 3 lần thử)"
    assert (shown.attempts, shown.created_at, shown.status) == (3, raised_at, IncidentStatus.OPEN)
    assert (shown.instance_status, shown.resolved_at, shown.resolved_by) == (InstanceStatus.ERROR, None, None)

    retry(uow, services, people["qt"], shown.id)
    with uow() as u:
        page = incidents.overview(u, services, people["qt"])
    assert (page.open, page.open_total) == ([], 0)
    (resolved,) = page.resolved
    assert (resolved.id, resolved.resolved_by, resolved.resolved_at) == (shown.id, "Nguyễn Thị Quản", clock.now)


def test_incidents_of_cancelled_instances_show_who_cancelled(uow, services, people, published, clock,  # type: ignore[no-untyped-def]
                                                             mail) -> None:
    services = services_with(services, ScriptedOperation(mail.apply, failures=3))
    instance_id = waiting_for_worker(uow, services, people)
    run_until_incident(uow, services, clock)
    with uow() as u:
        instances.cancel(u, services, people["cv_stc"], instance_id)
    with uow() as u:
        (resolved,) = incidents.overview(u, services, people["qt"]).resolved
    assert (resolved.resolved_by, resolved.instance_status) == ("Trần Thị Bình", InstanceStatus.CANCELLED)


# ---------------------------------------------------------------- refusals by the peer


REFUSAL_BODY = '{"error": "Phòng ban không có trong danh mục", "field": "department"}'


class RefusesFirst:
    """Refuses the first request as a peer answering HTTP 400 with `body` would ("`refusal`: HTTP 400 —
    `body`"), then does the work; `keys` are the idempotency keys it was called with."""

    def __init__(self, real: Callable[[str, Mapping[str, Any], CallContext], dict[str, Any]], refusal: str,
                 body: str) -> None:
        self.real, self.refusal, self.body = real, refusal, body
        self.keys: list[str] = []

    def __call__(self, key: str, data: Mapping[str, Any], context: CallContext) -> dict[str, Any]:
        self.keys.append(key)
        if len(self.keys) == 1:
            raise AdapterRefused(f"{self.refusal}: HTTP 400 — {self.body}", 400, self.body)
        return self.real(key, data, context)


def test_a_refused_call_raises_the_incident_at_once_showing_the_answer(  # type: ignore[no-untyped-def]
        uow, services, people, published, clock, mail) -> None:
    refusing = RefusesFirst(mail.apply, "Hệ thống từ chối cấp mới tài khoản", REFUSAL_BODY)
    services = services_with(services, refusing)
    instance_id = waiting_for_worker(uow, services, people)
    assert worker.run_once(uow, services, owner="w1") == 0
    broken = snapshot(uow, instance_id)
    assert (broken["status"], broken["wake_at"]) == (InstanceStatus.ERROR, None)
    assert broken["calls"][0][:2] == (CallStatus.FAILED, 1)  # the first attempt was the last
    ((element_id, topic, message, status),) = broken["incidents"]
    assert (element_id, topic, status) == ("Task_ThucHienTaiKhoan", TOPIC, IncidentStatus.OPEN)
    assert message == (f"Hệ thống từ chối cấp mới tài khoản: HTTP 400 — {REFUSAL_BODY} "
                       "(bị từ chối, không thử lại)")
    assert [s for _a, s, _x in audit_rows(uow, instance_id, "incident")] == [
        f"Hệ thống từ chối cấp mới tài khoản: HTTP 400 — {REFUSAL_BODY}"]
    clock.advance(days=1)
    assert worker.run_once(uow, services, owner="w1") == 0
    assert len(refusing.keys) == 1  # never sent again by the worker on its own

    # the operator fixed the cause in the peer; the administrator retries
    retry(uow, services, people["qt"], open_incident(uow, instance_id))
    assert worker.run_once(uow, services, owner="w1") == 1
    done = snapshot(uow, instance_id)
    assert (done["ready"], done["calls"], done["mailboxes"]) == (
        ["Task_PhucDap"], [(CallStatus.SUCCEEDED, 1, None)], ["annv@dongthap.gov.vn"])
    assert refusing.keys[0] == refusing.keys[1]


def test_the_project_software_refusing_then_accepting_after_the_admin_retry(  # type: ignore[no-untyped-def]
        uow, people, clock, started, peer: ProjectSoftwarePeer) -> None:  # noqa: F811 - the imported fixture
    services, instance_id = started([AN])
    peer.refuse_next(422, {"error": "Phòng ban chưa có trong danh mục", "field": "department"})
    assert worker.run_once(uow, services, owner="w1") == 0
    with uow() as u:
        (shown,) = incidents.incidents(u, services, people["qt"])
    assert (shown.instance_id, shown.attempts, shown.topic) == (instance_id, 1, "project_software.apply")
    assert "HTTP 422" in shown.message and "Phòng ban chưa có trong danh mục" in shown.message
    assert peer.token not in shown.message and len(peer.requests) == 1

    retry(uow, services, people["qt"], shown.id)  # the department was added in the peer meanwhile
    assert worker.run_once(uow, services, owner="w1") == 1
    with uow() as u:
        instance = u.session.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status == InstanceStatus.COMPLETED
    assert list(peer.users) == ["nvan.skhdt@dongthap.gov.vn"] and peer.effects == 1
    assert len(set(peer.keys())) == 1  # the retried request carried the same idempotency key


# ---------------------------------------------------------------- refused retries change nothing


def everything(uow: Uow, instance_id: int) -> dict[str, Any]:
    """The instance as stored, its calls, incidents and audit rows: a refused retry leaves all as it was."""
    with uow() as u:
        instance = u.session.get(ProcessInstance, instance_id)
        assert instance is not None
        return {**snapshot(uow, instance_id), "state": instance.state_json,
                "calls": [(c.status, c.attempts, c.last_error, c.retry_at) for c in u.session.scalars(
                    select(ServiceCall).where(ServiceCall.instance_id == instance_id))],
                "resolved_at": list(u.session.scalars(select(Incident.resolved_at).where(
                    Incident.instance_id == instance_id))),
                "audit": u.session.scalar(select(func.count()).select_from(AuditEvent))}


@pytest.fixture
def broken(uow, services, people, published, clock, mail) -> tuple[Services, int, int]:  # type: ignore[no-untyped-def]
    """(services, instance id, incident id) of an instance stopped by a failed mail-directory call."""
    services = services_with(services, ScriptedOperation(mail.apply, failures=3))
    instance_id = waiting_for_worker(uow, services, people)
    run_until_incident(uow, services, clock)
    return services, instance_id, open_incident(uow, instance_id)


@pytest.mark.parametrize("who", ["cv_sttt", "cv_stc"])
def test_only_administrators_may_retry_or_list(uow, people, broken, who) -> None:  # type: ignore[no-untyped-def]
    services, instance_id, incident_id = broken
    before = everything(uow, instance_id)
    with pytest.raises(Forbidden) as raised:
        retry(uow, services, people[who], incident_id)
    assert raised.value.message.vi == "Chỉ quản trị hệ thống được xem và thử lại sự cố."
    with uow() as u, pytest.raises(Forbidden):
        incidents.incidents(u, services, people[who])
    with uow() as u, pytest.raises(Forbidden):
        incidents.overview(u, services, people[who])
    assert everything(uow, instance_id) == before


def test_unknown_or_already_resolved_incidents_are_refused(uow, people, broken) -> None:  # type: ignore[no-untyped-def]
    services, instance_id, incident_id = broken
    with pytest.raises(NotFound, match="Incident not found"):
        retry(uow, services, people["qt"], incident_id + 1000)
    retry(uow, services, people["qt"], incident_id)
    handed_back = everything(uow, instance_id)
    with pytest.raises(Conflict) as raised:
        retry(uow, services, people["qt"], incident_id)
    assert raised.value.message.vi.startswith("Sự cố này đã được xử lý")
    assert everything(uow, instance_id) == handed_back


def test_an_incident_of_an_instance_no_longer_in_error_is_refused(uow, people, broken) -> None:  # type: ignore[no-untyped-def]
    services, instance_id, incident_id = broken
    with uow() as u:  # as left by an older release, which resolved nothing when it moved on
        instance = u.session.get(ProcessInstance, instance_id)
        assert instance is not None
        instance.status = InstanceStatus.RUNNING
        u.commit()
    before = everything(uow, instance_id)
    with pytest.raises(Conflict) as raised:
        retry(uow, services, people["qt"], incident_id)
    assert "không còn ở trạng thái có sự cố" in raised.value.message.vi
    assert everything(uow, instance_id) == before


# ---------------------------------------------------------------- script incidents

CLOCK_SCRIPT_BPMN = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_KichBanTheoThang"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="kich_ban_theo_thang" name="Quy trình có kịch bản theo tháng"
      isExecutable="true">
    <bpmn:startEvent id="StartEvent_BatDau"/>
    <bpmn:userTask id="Task_NhapLyDo" name="Nhập lý do" camunda:formKey="ly_do"
        camunda:candidateGroups="initiator:chuyen_vien"/>
    <bpmn:scriptTask id="Task_TinhHeSo" name="Tính hệ số" scriptFormat="python">
      <bpmn:script>he_so = 12 // (now().month - 11)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="Task_XemKetQua" name="Xem kết quả" camunda:formKey="ly_do"
        camunda:candidateGroups="initiator:chuyen_vien"/>
    <bpmn:endEvent id="EndEvent_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_BatDau" targetRef="Task_NhapLyDo"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_NhapLyDo" targetRef="Task_TinhHeSo"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_TinhHeSo" targetRef="Task_XemKetQua"/>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_XemKetQua" targetRef="EndEvent_KetThuc"/>
  </bpmn:process>
</bpmn:definitions>'''.encode()


@pytest.fixture
def script_broken(uow, services, people, publish) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(instance id, incident id): the script divides by zero in November (the test clock's month)."""
    publish({"kich_ban_theo_thang.bpmn": CLOCK_SCRIPT_BPMN, "ly_do.form": json.dumps(LY_DO_FORM).encode()})
    with uow() as u:
        instance_id = instances.start(u, services, people["cv_stc"], "kich_ban_theo_thang").id
    with uow() as u:
        (task,) = ready(u, instance_id)
        instances.complete_task(u, services, people["cv_stc"], task.id, {"ly_do": "Tính hệ số tháng"})
    return instance_id, open_incident(uow, instance_id)


def test_a_script_failing_again_is_refused_and_changes_nothing(uow, services, people, clock,  # type: ignore[no-untyped-def]
                                                              script_broken) -> None:
    instance_id, incident_id = script_broken
    with uow() as u:
        (shown,) = incidents.incidents(u, services, people["qt"])
    assert (shown.kind, shown.step, shown.attempts, shown.topic) == ("script", "Tính hệ số", None, None)
    assert shown.created_at == clock.now  # raised when the task was completed, on the services' clock
    before = everything(uow, instance_id)
    with pytest.raises(Conflict) as raised:
        retry(uow, services, people["qt"], incident_id)
    message = raised.value.message.vi
    assert message.startswith("Chạy lại bước “Tính hệ số” vẫn lỗi: ZeroDivisionError")
    assert "Sự cố do lỗi kịch bản: cần sửa quy trình" in message
    assert everything(uow, instance_id) == before


def test_a_script_retried_once_its_cause_changed_runs_again_and_moves_on(  # type: ignore[no-untyped-def]
        uow, services, people, clock, script_broken) -> None:
    instance_id, incident_id = script_broken
    clock.now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # December: the division is by one
    retry(uow, services, people["qt"], incident_id)
    after = snapshot(uow, instance_id)
    assert (after["status"], after["ready"]) == (InstanceStatus.RUNNING, ["Task_XemKetQua"])
    assert [i[3] for i in after["incidents"]] == [IncidentStatus.RESOLVED]
    with uow() as u:
        (task,) = ready(u, instance_id)
        data = instances.task_data(u, services, task)
    assert (data["he_so"], data["ly_do"]) == (12, "Tính hệ số tháng")  # the script ran on the data it had
    ((actor, summary, _after),) = audit_rows(uow, instance_id, "incident_retry")
    assert (actor, summary) == ("Nguyễn Thị Quản", "Thử lại sự cố tại bước “Tính hệ số”: đã chạy lại bước bị lỗi")


def test_a_script_incident_without_a_failed_step_is_refused_with_the_way_out(  # type: ignore[no-untyped-def]
        uow, services, people, script_broken) -> None:
    instance_id, _incident_id = script_broken
    with uow() as u:  # an incident raised where no task is left in error (e.g. while a task became ready)
        incident = Incident(instance_id=instance_id, element_id="Task_NhapLyDo", message="Lỗi biểu thức")
        u.add(incident)
        u.commit()
        lone_id = incident.id
    before = everything(uow, instance_id)
    with pytest.raises(Conflict) as raised:
        retry(uow, services, people["qt"], lone_id)
    assert raised.value.message.vi.startswith("Không tìm thấy bước bị lỗi để chạy lại. Sự cố do lỗi kịch bản: "
                                              "cần sửa quy trình")
    assert everything(uow, instance_id) == before
