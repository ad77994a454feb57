"""Use cases of running procedures: start, complete a task, cancel, and keep task rows in step."""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import select

from engine import forms as form_checks
from engine.bpmn.functions import as_aware
from engine.bpmn.runtime import ReadyHumanTask, WorkflowError
from engine.domain.enums import IncidentStatus, InstanceStatus, TaskStatus
from engine.domain.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.domain.messages import Message
from engine.forms import rules as form_rules
from engine.persistence.models import (
    HumanTask,
    Incident,
    ProcedureVersion,
    ProcessInstance,
    ServiceCall,
    TaskCandidate,
    Unit,
    User,
)
from engine.persistence.uow import UnitOfWork
from engine.services import attachments, audit, dti_steps, form_data, hotline, meetings, sla, submissions
from engine.services.context import Services
from engine.services.publishing import form_name

log = logging.getLogger(__name__)

NO_PROCEDURE = Message("Không tìm thấy quy trình.", "Procedure not found.")
NO_TASK = Message("Không tìm thấy công việc.", "Task not found.")
NOT_YOURS = Message("Công việc này không thuộc quyền xử lý của bạn.", "This task is not yours to do.")
TASK_DONE = Message("Công việc này đã được xử lý.", "This task has already been completed.")
INVALID = Message("Dữ liệu nhập chưa hợp lệ. Vui lòng kiểm tra các trường được đánh dấu.",
                  "Some fields are not valid. Check the marked fields.")
NOT_RUNNING = Message("Hồ sơ không còn đang xử lý.", "The instance is no longer running.")


def latest_version(uow: UnitOfWork, process_id: str) -> ProcedureVersion:
    version = uow.session.scalar(select(ProcedureVersion).where(ProcedureVersion.process_id == process_id)
                                 .order_by(ProcedureVersion.version.desc()).limit(1))
    if version is None:
        raise NotFound(NO_PROCEDURE)
    return version


def can_perform(user: User, task: HumanTask) -> bool:
    if task.assignee_id is not None:
        return task.assignee_id == user.id
    return any(c.role in user.role_codes and c.unit_id in (None, user.unit_id) for c in task.candidates)


def _resolve_group(uow: UnitOfWork, instance: ProcessInstance, group: str) -> TaskCandidate:
    unit_code, _, role = group.rpartition(":")
    if not unit_code:
        return TaskCandidate(unit_id=None, role=role)
    if unit_code == "initiator":
        return TaskCandidate(unit_id=instance.initiator_unit_id, role=role)
    unit = uow.session.scalar(select(Unit).where(Unit.code == unit_code))
    # An unknown unit code must not open the task to everyone: it resolves to nobody.
    return TaskCandidate(unit_id=unit.id if unit else -1, role=role)


def _due_at(services: Services, workflow: BpmnWorkflow, ready: ReadyHumanTask) -> Any:
    if not ready.due_expression:
        return None
    try:
        return as_aware(services.runtime.evaluate(workflow, ready.task_id, ready.due_expression))
    except Exception as exc:  # noqa: BLE001 - a bad deadline must not block the task
        log.warning("due date of %s failed: %s", ready.element_id, exc)
        return None


def _sync_tasks(uow: UnitOfWork, services: Services, instance: ProcessInstance,
                workflow: BpmnWorkflow) -> None:
    """Make the indexed task rows match the workflow's READY user tasks."""
    session = uow.session
    ready = {t.task_id: t for t in services.runtime.ready_human_tasks(workflow)}
    rows = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.READY)).all()
    for row in rows:
        if row.spiff_task_id not in ready:
            row.status = TaskStatus.CANCELLED
            row.completed_at = services.now()
    known = {r.spiff_task_id for r in rows}
    named = {u for t in ready.values() if t.task_id not in known for u in t.candidate_users}
    users = {u.username: u for u in session.scalars(select(User).where(
        User.username.in_(named), User.is_active.is_(True)))} if named else {}
    for task_id, item in ready.items():
        if task_id in known:
            continue
        assignee = next((users[u] for u in item.candidate_users if u in users), None)
        session.add(HumanTask(
            instance_id=instance.id, spiff_task_id=task_id, element_id=item.element_id, name=item.name,
            lane=item.lane, form_key=form_name(item.form_key) if item.form_key else None,
            assignee_id=assignee.id if assignee else None, due_at=_due_at(services, workflow, item),
            created_at=services.now(), candidates=[_resolve_group(uow, instance, g) for g in item.candidate_groups],
        ))
        if item.assignee_variable is not None:
            _record_assignment(uow, instance, item, assignee)


def _record_assignment(uow: UnitOfWork, instance: ProcessInstance, item: ReadyHumanTask,
                       assignee: User | None) -> None:
    """History of a task given to the user a variable names (`camunda:assignee="${…}"`), or why not."""
    if assignee is not None:
        summary = f"Giao “{item.name}” cho {assignee.full_name} ({assignee.username})"
    else:
        value = item.data.get(item.assignee_variable or "")
        why = (f"{item.assignee_variable} = “{value}” không phải tên đăng nhập của người dùng đang hoạt động"
               if isinstance(value, str) and value.strip() else f"chưa chọn người thực hiện ({item.assignee_variable})")
        groups = ", ".join(item.candidate_groups) or "—"
        summary = f"Không giao được “{item.name}”: {why}; công việc chờ nhóm {groups}"
    audit.record(uow.session, None, "assign", instance_id=instance.id, element_id=item.element_id,
                 summary=summary)


def save_state(uow: UnitOfWork, services: Services, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    instance.state_json = services.runtime.dump(workflow)
    instance.facts = services.runtime.facts(workflow)
    if workflow.is_completed():
        instance.status = InstanceStatus.COMPLETED
        instance.ended_at = services.now()
        instance.wake_at = None
    else:
        instance.wake_at = wake_at(uow, services, instance, workflow)
    _sync_tasks(uow, services, instance, workflow)
    sla.track(uow, services, instance, workflow)
    meetings.sync(uow, services, instance, workflow)
    dti_steps.sync(uow, services, instance, workflow)
    hotline.sync(uow, services, instance, workflow)


def call_key(instance_id: int, task_id: str) -> str:
    """The idempotency key of an external task's call: the same across retries and workers."""
    return f"{instance_id}:{task_id}"


def retry_times(uow: UnitOfWork, instance: ProcessInstance, task_ids: Iterable[str]) -> dict[str, datetime]:
    """Ready external tasks still in their retry backoff, with the moment they may be called again."""
    keys = {call_key(instance.id, t): t for t in task_ids}
    if not keys:
        return {}
    calls = uow.session.scalars(select(ServiceCall).where(
        ServiceCall.idempotency_key.in_(list(keys)), ServiceCall.retry_at.is_not(None)))
    return {keys[c.idempotency_key]: c.retry_at for c in calls if c.retry_at is not None}


def wake_at(uow: UnitOfWork, services: Services, instance: ProcessInstance,
            workflow: BpmnWorkflow) -> datetime | None:
    """When the worker must next look at the instance: the earliest of its ready external tasks
    (now, or the end of a retry backoff) and its waiting timers; None when only people can act."""
    now = services.now()
    ready = [t.task_id for t in services.runtime.ready_external_tasks(workflow)]
    retries = retry_times(uow, instance, ready)
    moments = [retries.get(t, now) for t in ready]
    timer = services.runtime.next_timer(workflow)
    if timer is not None:
        moments.append(timer)
    return min(moments) if moments else None


def raise_incident(uow: UnitOfWork, services: Services, instance: ProcessInstance, element_id: str | None,
                   message: str, topic: str | None = None, summary: str | None = None) -> None:
    """Stop the instance in ERROR with an open incident at `element_id`, raised now (the services'
    clock), and audit it with `summary` (the message by default). `topic` for a failed adapter call."""
    instance.status = InstanceStatus.ERROR
    uow.add(Incident(instance_id=instance.id, element_id=element_id, topic=topic, message=message,
                     created_at=services.now()))
    audit.record(uow.session, None, "incident", instance_id=instance.id, element_id=element_id,
                 summary=message if summary is None else summary)


def step_or_incident(uow: UnitOfWork, services: Services, instance: ProcessInstance,
                      workflow: BpmnWorkflow, action: Any) -> None:
    """Run `action`; a failing script leaves the instance stored in ERROR with an incident."""
    try:
        action()
    except WorkflowError as exc:
        raise_incident(uow, services, instance, exc.element_id, str(exc))
    save_state(uow, services, instance, workflow)


MAX_START_DATA = 256 * 1024
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def check_start_data(data: Any, reserved: Iterable[str]) -> dict[str, Any]:
    """Start variables: an object of plain names (no `_`-prefixed or sandbox names), bounded size."""
    if data is None:
        return {}
    bad = Message("Dữ liệu khởi tạo phải là một đối tượng JSON có tên biến hợp lệ (chữ, số, _), tối đa 256 KB.",
                  "Start data must be a JSON object with plain variable names (letters, digits, _), at most 256 KB.")
    if not isinstance(data, dict) or any(not isinstance(k, str) or not _NAME.match(k) for k in data):
        raise InvalidData(bad)
    if len(json.dumps(data, default=str)) > MAX_START_DATA:
        raise InvalidData(bad)
    clash = set(data) & set(reserved)
    if clash:
        raise InvalidData(Message(f"Tên biến trùng tên hàm của nền tảng: {', '.join(sorted(clash))}",
                                  f"Variable names clash with platform functions: {', '.join(sorted(clash))}"))
    return data


def started_by_service(version: ProcedureVersion) -> bool:
    """The procedure's process property `start` = `service`: its own use case starts it (a DTI round is
    opened with its index set and units), never the catalogue."""
    return (version.properties or {}).get("start") == "service"


def start(uow: UnitOfWork, services: Services, actor: User, process_id: str,
          data: dict[str, Any] | None = None, *, by_service: bool = False) -> ProcessInstance:
    data = check_start_data(data, services.runtime.environment.functions)
    version = latest_version(uow, process_id)
    if started_by_service(version) and not by_service:
        raise InvalidData(Message(f"Hồ sơ “{version.name}” được tạo từ chức năng riêng của quy trình "
                                  "(ví dụ mở kỳ đánh giá chỉ số chuyển đổi số), không tạo từ danh mục quy trình.",
                                  f"“{version.name}” is started from its own function (e.g. opening a digital "
                                  "transformation index round), not from the procedure catalogue."))
    instance = ProcessInstance(version_id=version.id, initiator_id=actor.id, initiator_unit_id=actor.unit_id,
                               title=version.name, state_json="{}", status=InstanceStatus.RUNNING,
                               created_at=services.now())
    uow.add(instance)
    uow.session.flush()
    holder: dict[str, BpmnWorkflow] = {}

    def run() -> None:
        holder["wf"] = services.runtime.start(version.spec_json, data)

    try:
        run()
    except WorkflowError as exc:
        instance.status = InstanceStatus.ERROR
        uow.add(Incident(instance_id=instance.id, element_id=exc.element_id, message=str(exc)))
        raise
    sla.start_clock(services, instance, version, holder["wf"])
    save_state(uow, services, instance, holder["wf"])
    audit.record(uow.session, actor, "start", instance_id=instance.id,
                 summary=f"Tạo hồ sơ theo quy trình “{version.name}” (phiên bản {version.version})",
                 after=data or None)
    uow.commit()
    return instance


def get_task(uow: UnitOfWork, task_id: int) -> HumanTask:
    task = uow.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(NO_TASK)
    return task


def ready_task(uow: UnitOfWork, user: User, task_id: int) -> HumanTask:
    """The task, if it is ready, the user's to do and its instance running (completing it, or its uploads)."""
    task = get_task(uow, task_id)
    if task.status != TaskStatus.READY:
        raise Conflict(TASK_DONE)
    if not can_perform(user, task):
        raise Forbidden(NOT_YOURS)
    if task.instance.status != InstanceStatus.RUNNING:
        raise Conflict(NOT_RUNNING)
    return task


def form_schema(task: HumanTask) -> dict[str, Any] | None:
    return task.instance.version.forms.get(task.form_key) if task.form_key else None


def task_data(uow: UnitOfWork, services: Services, task: HumanTask) -> dict[str, Any]:
    """The data the task's form opens with: the task's own, and the options its form draws from the
    organisation (people of a unit and role, engine/services/form_data.py), which are never stored."""
    instance = task.instance
    workflow = services.runtime.restore(instance.version.spec_json, instance.state_json)
    spiff_task = workflow.get_task_from_id(UUID(task.spiff_task_id))
    data = dict(spiff_task.data) if spiff_task is not None else {}
    return {**data, **form_data.organisation_options(uow, form_schema(task))}


def complete_task(uow: UnitOfWork, services: Services, actor: User, task_id: int,
                  submitted: Any, expected_revision: int | None = None) -> ProcessInstance:
    task = ready_task(uow, actor, task_id)
    instance = task.instance
    if expected_revision is not None and expected_revision != instance.revision:
        raise Conflict(Message("Hồ sơ đã thay đổi từ khi bạn mở. Vui lòng tải lại trang.",
                               "The instance changed since you opened it. Reload the page."))
    schema = form_schema(task)
    before = task_data(uow, services, task)
    data: dict[str, Any] = {}
    if schema is not None:
        data, errors = form_checks.validate_submission(schema, submitted, before,
                                                       attachments=attachments.lookup_for(uow, task, before))
        errors += form_rules.rule_errors(schema, data, errors, services.adapters.lookups,
                                         submissions.submission(uow, services, actor))
        if errors:
            raise InvalidData(INVALID, errors)
    data.update(dti_steps.before_complete(uow, services, actor, task, data))
    attachments.keep_only(uow, task, data)
    workflow = services.runtime.restore(instance.version.spec_json, instance.state_json)
    task.status = TaskStatus.COMPLETED
    task.completed_at = services.now()
    task.completed_by = actor.id
    step_or_incident(uow, services, instance, workflow,
                      lambda: services.runtime.complete(workflow, task.spiff_task_id, data))
    audit.record(uow.session, actor, "complete", instance_id=instance.id, element_id=task.element_id,
                 summary=task.name, before={k: before.get(k) for k in data}, after=data)
    uow.commit()
    return instance


def cancel(uow: UnitOfWork, services: Services, actor: User, instance_id: int) -> ProcessInstance:
    instance = uow.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(Message("Không tìm thấy hồ sơ.", "Instance not found."))
    if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
        raise Conflict(NOT_RUNNING)
    if not (actor.id == instance.initiator_id or "quan_tri" in actor.role_codes):
        raise Forbidden(Message("Bạn không có quyền hủy hồ sơ này.", "You may not cancel this instance."))
    stop(uow, services, actor, instance, services.runtime.restore(instance.version.spec_json, instance.state_json))
    uow.commit()
    return instance


def stop(uow: UnitOfWork, services: Services, actor: User, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """Cancel the instance where it stands (its `workflow`, restored and perhaps given new variables): ready
    tasks cancelled, open incidents resolved, audited. The caller checked who may, and commits."""
    services.runtime.cancel(workflow)
    instance.state_json = services.runtime.dump(workflow)
    instance.status = InstanceStatus.CANCELLED
    instance.ended_at = services.now()
    instance.wake_at = None
    meetings.sync(uow, services, instance, workflow)
    dti_steps.sync(uow, services, instance, workflow)
    hotline.sync(uow, services, instance, workflow)
    stopped = []
    for task in uow.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.READY)):
        task.status = TaskStatus.CANCELLED
        stopped.append(task.name)
    for incident in uow.session.scalars(select(Incident).where(
            Incident.instance_id == instance.id, Incident.status == IncidentStatus.OPEN)):
        incident.status = IncidentStatus.RESOLVED
        incident.resolved_at = services.now()
    audit.record(uow.session, actor, "cancel", instance_id=instance.id,
                 summary=f"Hủy khi đang ở bước: {', '.join(stopped)}" if stopped else "Hủy hồ sơ")
