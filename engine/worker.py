"""The worker: claims due instances, fires their timers, calls adapters for external tasks, retries,
raises incidents (after the last attempt, or at once when the peer refuses; docs/operations.md).

An instance is due when its `wake_at` has come (set by `instances.save_state` to the earliest of
its callable external tasks and waiting timers): the claim reads that indexed column only, so
nothing scans all instances.
"""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select

from engine.adapters.base import AdapterError, AdapterRefused, CallContext
from engine.bpmn.runtime import WorkflowError
from engine.bpmn.sandbox import SandboxError
from engine.bpmn.timers import TimerValueError
from engine.domain.enums import CallStatus, InstanceStatus
from engine.domain.errors import Conflict
from engine.persistence import leases
from engine.persistence.models import ProcedureSchedule, ProcedureVersion, ProcessInstance, ServiceCall
from engine.persistence.uow import UnitOfWork
from engine.services import audit, credentials, meeting_documents, schedules, sla
from engine.services.context import Services
from engine.services.instances import call_key, raise_incident, retry_times, save_state, step_or_incident, wake_at

log = logging.getLogger(__name__)
MAX_CALLS_PER_CLAIM = 100  # bounds one claim's work so a huge instance cannot starve others


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_due(uow: UnitOfWork, services: Services, owner: str, limit: int = 10) -> list[int]:
    """Lease due instances; SKIP LOCKED lets many workers share the queue (PostgreSQL)."""
    now = services.now()
    due = (select(ProcessInstance)
           .where(ProcessInstance.status == InstanceStatus.RUNNING, ProcessInstance.wake_at <= now)
           .order_by(ProcessInstance.wake_at))
    return leases.claim(uow, due, ProcessInstance, owner, now, services.settings.lease_seconds, limit)


def _leased(uow: UnitOfWork, instance_id: int, owner: str) -> ProcessInstance | None:
    instance = uow.session.get(ProcessInstance, instance_id)
    if instance is None or instance.lease_owner != owner or instance.status != InstanceStatus.RUNNING:
        return None
    return instance


def _fire_timers(uow: UnitOfWork, services: Services, instance_id: int, owner: str) -> int:
    """Let the timers whose moment has come fire and the workflow move on; returns how many fired.

    Stepping refreshes the timers against the injected clock: a boundary timer adds its path
    (and, when interrupting, cancels its task), a catch event lets its flow continue. Task rows
    and the wake-up time follow in `save_state`.
    """
    instance = _leased(uow, instance_id, owner)
    if instance is None:
        return 0
    workflow = services.runtime.restore(instance.version.spec_json, instance.state_json)
    now = services.now()
    due = [t for t in services.runtime.waiting_timers(workflow) if t.fire_at <= now]
    if not due:
        return 0
    step_or_incident(uow, services, instance, workflow, lambda: services.runtime.step(workflow))
    for timer in due:
        audit.record(uow.session, None, "timer", instance_id=instance.id, element_id=timer.element_id,
                     summary=f"Hẹn giờ: {timer.name or timer.element_id}")
    uow.commit()
    return len(due)


def _release(uow: UnitOfWork, services: Services, instance: ProcessInstance, workflow: Any) -> None:
    instance.wake_at = wake_at(uow, services, instance, workflow)
    leases.release(instance)
    uow.commit()


def _next_call(uow: UnitOfWork, services: Services, instance_id: int, owner: str):  # type: ignore[no-untyped-def]
    """Record the attempt of the next callable external task before calling out."""
    instance = _leased(uow, instance_id, owner)
    if instance is None:
        return None
    workflow = services.runtime.restore(instance.version.spec_json, instance.state_json)
    ready = services.runtime.ready_external_tasks(workflow)
    waiting = retry_times(uow, instance, [t.task_id for t in ready])
    now = services.now()
    callable_now = [t for t in ready if waiting.get(t.task_id, now) <= now]
    if not callable_now:  # nothing to call (yet): sleep until the next retry or timer
        _release(uow, services, instance, workflow)
        return None
    task = callable_now[0]
    key = call_key(instance.id, task.task_id)
    call = uow.session.scalar(select(ServiceCall).where(ServiceCall.idempotency_key == key))
    if call is None:
        call = ServiceCall(instance_id=instance.id, idempotency_key=key, element_id=task.element_id,
                           topic=task.topic, attempts=0)
        uow.add(call)
    call.attempts += 1
    attempts = call.attempts
    context = CallContext(instance.id, instance.version_id, task.element_id, task.name, task.properties)
    uow.commit()
    return task, key, attempts, context


def call_summary(step: str, result: Mapping[str, Any], attempts: int) -> str:
    """The history line of a finished call: the step's name and the outcome the adapter reported.

    Adapters state the outcome for people in `ket_qua` (and the list row it is for in `stt`), at the
    top of their result or in the one record it holds: {"row": {"stt": 1, "ket_qua": "Đã cấp mới"}}.
    No other data goes into the line: history is shown to everyone who may see the instance.
    """
    records = [result, *(v for v in result.values() if isinstance(v, Mapping))]
    record = next((r for r in records if r.get("ket_qua")), {})
    row = f" — dòng {record['stt']}" if record.get("stt") else ""
    outcome = record.get("ket_qua") or "đã xong"
    retries = f" (sau {attempts} lần gọi)" if attempts > 1 else ""
    return f"{step}{row}: {outcome}{retries}"


def _apply_result(uow: UnitOfWork, services: Services, instance_id: int, task_id: str,
                  key: str, result: dict) -> None:
    instance = uow.session.get(ProcessInstance, instance_id)
    assert instance is not None
    if instance.status != InstanceStatus.RUNNING:
        # Cancelled (or stopped) while the adapter ran: its tasks are gone, so the instance
        # stays as it is; the call and the adapter's own record keep what was done.
        finished = uow.session.scalar(select(ServiceCall).where(ServiceCall.idempotency_key == key))
        assert finished is not None
        finished.status, finished.finished_at = CallStatus.SUCCEEDED, services.now()
        uow.commit()
        return
    workflow = services.runtime.restore(instance.version.spec_json, instance.state_json)
    spiff_task = workflow.get_task_from_id(UUID(task_id))
    step = spiff_task.task_spec.bpmn_name or spiff_task.task_spec.name
    spiff_task.data.update(result)
    def finish() -> None:
        spiff_task.run()
        services.runtime.step(workflow)

    step_or_incident(uow, services, instance, workflow, finish)
    call = uow.session.scalar(select(ServiceCall).where(ServiceCall.idempotency_key == key))
    assert call is not None
    call.status, call.finished_at, call.last_error, call.retry_at = CallStatus.SUCCEEDED, services.now(), None, None
    audit.record(uow.session, None, "service_call", instance_id=instance.id, element_id=call.element_id,
                 summary=call_summary(step, result, call.attempts), after=result)
    uow.commit()


def _record_failure(uow: UnitOfWork, services: Services, instance_id: int, key: str,
                    attempts: int, error: str, refused: bool = False) -> None:
    """Back off and try later, or raise the incident: after the last allowed attempt, or at once
    when the peer refused the request (`AdapterRefused`: sending it again cannot help)."""
    instance = uow.session.get(ProcessInstance, instance_id)
    call = uow.session.scalar(select(ServiceCall).where(ServiceCall.idempotency_key == key))
    assert instance is not None and call is not None
    call.last_error = error
    leases.release(instance)
    if refused or attempts >= services.settings.max_attempts:
        call.status, call.retry_at, instance.wake_at = CallStatus.FAILED, None, None
        outcome = "bị từ chối, không thử lại" if refused else f"sau {attempts} lần thử"
        raise_incident(uow, services, instance, call.element_id, f"{error} ({outcome})", call.topic, summary=error)
    else:
        delay = services.settings.retry_base_seconds * 2 ** (attempts - 1)
        call.retry_at = services.now() + timedelta(seconds=delay)
        # The earliest of this retry, other external tasks and the instance's timers.
        workflow = services.runtime.restore(instance.version.spec_json, instance.state_json)
        instance.wake_at = wake_at(uow, services, instance, workflow)
    uow.commit()


def process_instance(uow_factory, services: Services, instance_id: int, owner: str) -> int:  # type: ignore[no-untyped-def]
    """Fire the instance's due timers, then run its external tasks one by one; returns how many
    calls succeeded."""
    done = 0
    try:
        with uow_factory() as uow:
            _fire_timers(uow, services, instance_id, owner)
    except Conflict:
        log.info("instance %s changed while its timers fired; will retry", instance_id)
        return done
    for _ in range(MAX_CALLS_PER_CLAIM):
        with uow_factory() as uow:
            claimed = _next_call(uow, services, instance_id, owner)
        if claimed is None:
            return done
        task, key, attempts, context = claimed
        try:
            result = services.adapters.call(task.topic, key, task.data, context)
        except (AdapterError, OSError, TimeoutError) as exc:
            refused = isinstance(exc, AdapterRefused)
            log.warning("adapter %s %s for %s: %s", task.topic, "refused" if refused else "failed", key, exc)
            with uow_factory() as uow:
                _record_failure(uow, services, instance_id, key, attempts, str(exc), refused)
            return done
        try:
            with uow_factory() as uow:
                _apply_result(uow, services, instance_id, task.task_id, key, result)
        except Conflict:
            # Someone changed the instance meanwhile; the stored adapter result makes
            # the next attempt replay the same effect, so just come back later.
            log.info("instance %s changed during %s; will retry", instance_id, key)
            return done
        done += 1
    with uow_factory() as uow:  # more left: give the lease back and come again soon
        instance = uow.session.get(ProcessInstance, instance_id)
        if instance is not None:
            leases.release(instance)
            uow.commit()
    return done


def run_once(uow_factory, services: Services, owner: str | None = None) -> int:  # type: ignore[no-untyped-def]
    """Start the scheduled instances that are due, then claim and process the instances due now;
    returns the number of successful calls."""
    owner = owner or worker_name()
    run_schedules(uow_factory, services, owner)
    with uow_factory() as uow:  # expired one-time password links forget their sealed password
        if credentials.purge_expired(uow.session, services.now()):
            uow.commit()
    with uow_factory() as uow:  # meetings soon without their documents: the host side is reminded
        if meeting_documents.remind_documents(uow, services):
            uow.commit()
    with uow_factory() as uow:
        ids = claim_due(uow, services, owner)
    return sum(process_instance(uow_factory, services, i, owner) for i in ids)


# ---------------------------------------------------------------- procedures started by a timer

def start_scheduled(uow: UnitOfWork, services: Services, schedule: ProcedureSchedule) -> ProcessInstance:
    """A new instance of the scheduled version, its start timer fired, initiated by the publisher.

    A failing script raises WorkflowError, as when a person starts the procedure.
    """
    version = uow.session.get(ProcedureVersion, schedule.version_id)
    assert version is not None
    instance = ProcessInstance(version_id=version.id, initiator_id=schedule.initiator_id,
                               initiator_unit_id=schedule.unit_id, title=version.name, state_json="{}",
                               status=InstanceStatus.RUNNING, created_at=services.now())
    uow.add(instance)
    uow.session.flush()
    workflow = services.runtime.start(version.spec_json, None, fired_start=schedule.element_id)
    sla.start_clock(services, instance, version, workflow)
    save_state(uow, services, instance, workflow)
    audit.record(uow.session, None, "scheduled_start", instance_id=instance.id, element_id=schedule.element_id,
                 summary=f"Tự khởi tạo theo lịch ({schedule.expression}): “{version.name}” "
                         f"(phiên bản {version.version})")
    return instance


def _run_one(uow: UnitOfWork, services: Services, schedule_id: int, owner: str) -> bool:
    schedule = uow.session.get(ProcedureSchedule, schedule_id)
    if schedule is None or schedule.lease_owner != owner:
        return False
    now = services.now()
    if schedule.remaining is None:
        schedules.plan(services, schedule)
    started = schedule.next_run_at is not None and schedule.next_run_at <= now
    if started:
        start_scheduled(uow, services, schedule)
        schedule.last_run_at = now
        schedules.advance(schedule, now)
    leases.release(schedule)
    uow.commit()
    return started


def _stop(uow: UnitOfWork, schedule_id: int, error: Exception) -> None:
    """A timer that cannot be evaluated or a start that fails ends the schedule, visibly."""
    schedule = uow.session.get(ProcedureSchedule, schedule_id)
    if schedule is None:
        return
    schedule.next_run_at, schedule.remaining = None, 0
    leases.release(schedule)
    audit.record(uow.session, None, "incident", element_id=schedule.element_id,
                 summary=f"Dừng lịch khởi tạo {schedule.process_id}: {error}")
    uow.commit()


def run_schedules(uow_factory: Callable[[], UnitOfWork], services: Services, owner: str) -> int:
    """Plan new schedules and start the instances that are due; returns how many started."""
    with uow_factory() as uow:
        ids = schedules.claim_due(uow, services, owner)
    started = 0
    for schedule_id in ids:
        try:
            with uow_factory() as uow:
                started += _run_one(uow, services, schedule_id, owner)
        except (WorkflowError, SandboxError, TimerValueError, ValueError, TypeError) as exc:
            log.warning("schedule %s stopped: %s", schedule_id, exc)
            with uow_factory() as uow:
                _stop(uow, schedule_id, exc)
    return started
