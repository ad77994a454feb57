"""The worker: claims due instances, calls adapters for external tasks, retries, raises incidents."""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select

from engine.adapters.base import AdapterError
from engine.domain.enums import CallStatus, InstanceStatus
from engine.domain.errors import Conflict
from engine.persistence.models import Incident, ProcessInstance, ServiceCall
from engine.persistence.uow import UnitOfWork
from engine.services import audit
from engine.services.context import Services
from engine.services.instances import step_or_incident

log = logging.getLogger(__name__)
MAX_CALLS_PER_CLAIM = 100  # bounds one claim's work so a huge instance cannot starve others


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_due(uow: UnitOfWork, services: Services, owner: str, limit: int = 10) -> list[int]:
    """Lease due instances; SKIP LOCKED lets many workers share the queue (PostgreSQL)."""
    now = services.now()
    rows = uow.session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.status == InstanceStatus.RUNNING, ProcessInstance.wake_at <= now,
               or_(ProcessInstance.lease_until.is_(None), ProcessInstance.lease_until < now))
        .order_by(ProcessInstance.wake_at).limit(limit)
        # OF: the eager-loaded relationships are outer joins, which PostgreSQL cannot lock.
        .with_for_update(skip_locked=True, of=ProcessInstance)
    ).all()
    for instance in rows:
        instance.lease_owner = owner
        instance.lease_until = now + timedelta(seconds=services.settings.lease_seconds)
    uow.commit()
    return [r.id for r in rows]


def _next_call(uow: UnitOfWork, services: Services, instance_id: int, owner: str):  # type: ignore[no-untyped-def]
    """Record the attempt of the next ready external task before calling out."""
    instance = uow.session.get(ProcessInstance, instance_id)
    if instance is None or instance.lease_owner != owner or instance.status != InstanceStatus.RUNNING:
        return None
    workflow = services.runtime.restore(instance.version.spec_json, instance.state_json)
    ready = services.runtime.ready_external_tasks(workflow)
    if not ready:
        instance.wake_at, instance.lease_owner, instance.lease_until = None, None, None
        uow.commit()
        return None
    task = ready[0]
    key = f"{instance.id}:{task.task_id}"
    call = uow.session.scalar(select(ServiceCall).where(ServiceCall.idempotency_key == key))
    if call is None:
        call = ServiceCall(instance_id=instance.id, idempotency_key=key, element_id=task.element_id,
                           topic=task.topic, attempts=0)
        uow.add(call)
    call.attempts += 1
    attempts = call.attempts
    uow.commit()
    return task, key, attempts


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
    call.status, call.finished_at, call.last_error = CallStatus.SUCCEEDED, services.now(), None
    audit.record(uow.session, None, "service_call", instance_id=instance.id, element_id=call.element_id,
                 summary=call_summary(step, result, call.attempts), after=result)
    uow.commit()


def _record_failure(uow: UnitOfWork, services: Services, instance_id: int, key: str,
                    attempts: int, error: str) -> None:
    instance = uow.session.get(ProcessInstance, instance_id)
    call = uow.session.scalar(select(ServiceCall).where(ServiceCall.idempotency_key == key))
    assert instance is not None and call is not None
    call.last_error = error
    instance.lease_owner, instance.lease_until = None, None
    if attempts >= services.settings.max_attempts:
        call.status = CallStatus.FAILED
        instance.status, instance.wake_at = InstanceStatus.ERROR, None
        uow.add(Incident(instance_id=instance.id, element_id=call.element_id, topic=call.topic,
                         message=f"{error} (sau {attempts} lần thử)"))
        audit.record(uow.session, None, "incident", instance_id=instance.id, element_id=call.element_id,
                     summary=error)
    else:
        delay = services.settings.retry_base_seconds * 2 ** (attempts - 1)
        instance.wake_at = services.now() + timedelta(seconds=delay)
    uow.commit()


def process_instance(uow_factory, services: Services, instance_id: int, owner: str) -> int:  # type: ignore[no-untyped-def]
    """Run the instance's external tasks one by one; returns how many calls succeeded."""
    done = 0
    for _ in range(MAX_CALLS_PER_CLAIM):
        with uow_factory() as uow:
            claimed = _next_call(uow, services, instance_id, owner)
        if claimed is None:
            return done
        task, key, attempts = claimed
        try:
            result = services.adapters.call(task.topic, key, task.data)
        except (AdapterError, OSError, TimeoutError) as exc:
            log.warning("adapter %s failed for %s: %s", task.topic, key, exc)
            with uow_factory() as uow:
                _record_failure(uow, services, instance_id, key, attempts, str(exc))
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
            instance.lease_owner, instance.lease_until = None, None
            uow.commit()
    return done


def run_once(uow_factory, services: Services, owner: str | None = None) -> int:  # type: ignore[no-untyped-def]
    """Claim and process what is due now; returns the number of successful calls."""
    owner = owner or worker_name()
    with uow_factory() as uow:
        ids = claim_due(uow, services, owner)
    return sum(process_instance(uow_factory, services, i, owner) for i in ids)
