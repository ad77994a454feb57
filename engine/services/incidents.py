"""Incidents: what administrators see of stopped instances, and retrying one (docs/operations.md).

An incident comes either from an adapter call that failed for good (the worker gave up after
`WORKER_MAX_ATTEMPTS`, or the peer refused the request) or from a script, expression or gateway
that raised while the instance stepped. Retrying the first hands the call back to the worker with
its idempotency key unchanged, so the adapter replays what it already did rather than doing it
twice; retrying the second runs the failed element again at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn.runtime import WorkflowError
from engine.domain.enums import CallStatus, IncidentStatus, InstanceStatus, Role
from engine.domain.errors import Conflict, Forbidden, NotFound
from engine.domain.messages import Message
from engine.persistence import leases
from engine.persistence.models import AuditEvent, Incident, ProcessInstance, ServiceCall, User
from engine.persistence.uow import UnitOfWork
from engine.services import audit
from engine.services.context import Services
from engine.services.instances import save_state

#: The audit action of a retry; its `after` names the incident, so the list can say who retried it.
RETRY_ACTION = "incident_retry"
#: How many incidents a list shows at most (newest first); the page says when there are more.
LIST_LIMIT = 200
#: How many of the latest resolved incidents the admin page shows under the open ones.
RESOLVED_SHOWN = 20

ADMINS_ONLY = Message("Chỉ quản trị hệ thống được xem và thử lại sự cố.",
                      "Only system administrators may see and retry incidents.")
NO_INCIDENT = Message("Không tìm thấy sự cố.", "Incident not found.")
ALREADY_RESOLVED = Message("Sự cố này đã được xử lý (đã thử lại hoặc hồ sơ đã hủy); không cần thử lại nữa.",
                           "This incident has already been resolved (retried, or its instance cancelled).")
NOT_IN_ERROR = Message("Hồ sơ của sự cố không còn ở trạng thái có sự cố; không thể thử lại.",
                       "The incident's instance is no longer in error; it cannot be retried.")
NO_FAILED_CALL = Message("Không tìm thấy lần gọi hệ thống bị lỗi của sự cố này; không thể thử lại.",
                         "The failed system call of this incident was not found; it cannot be retried.")
SCRIPT_FIX_VI = ("Sự cố do lỗi kịch bản: cần sửa quy trình (kịch bản, biểu thức hoặc điều kiện rẽ nhánh) "
                 "rồi công bố phiên bản mới. Hồ sơ này vẫn chạy theo phiên bản cũ: chỉ thử lại khi nguyên "
                 "nhân đã thay đổi (ví dụ thời gian, lịch làm việc), nếu không hãy hủy hồ sơ và tạo hồ sơ mới.")
SCRIPT_FIX_EN = ("The incident comes from a script error: the procedure must be fixed (script, expression or "
                 "gateway condition) and a new version published. This instance keeps its old version: "
                 "retry only once the cause has changed (e.g. time, working calendar), otherwise cancel it "
                 "and start a new one.")
NOTHING_TO_RERUN = Message(f"Không tìm thấy bước bị lỗi để chạy lại. {SCRIPT_FIX_VI}",
                           f"No failed step was found to run again. {SCRIPT_FIX_EN}")


@dataclass(frozen=True)
class IncidentView:
    """An incident as administrators see it: where, what, how often the call was tried, who resolved it."""

    id: int
    instance_id: int
    instance_title: str
    #: The unit that made the request (the instance's initiator unit).
    unit_name: str
    instance_status: InstanceStatus
    process_id: str
    procedure_name: str
    version: int
    element_id: str | None
    #: The element's name in the diagram (its id when it has none).
    step: str
    #: The adapter topic for a failed call; None for a script, expression or gateway error.
    topic: str | None
    message: str
    status: IncidentStatus
    created_at: datetime
    resolved_at: datetime | None
    #: Attempts of the failed call (None for a script error): what the worker did before giving up.
    attempts: int | None
    #: Who resolved it: the administrator who retried it, or who cancelled the instance.
    resolved_by: str | None

    @property
    def kind(self) -> str:
        """`service_call` (an adapter call failed) or `script` (a script, expression or gateway)."""
        return "service_call" if self.topic else "script"


@dataclass(frozen=True)
class Overview:
    """The admin page: open incidents (newest first, at most LIST_LIMIT), their total, the latest resolved."""

    open: list[IncidentView]
    open_total: int
    resolved: list[IncidentView]


def open_count(session: Session) -> int:
    """How many incidents are open (the navigation badge; callers show it to administrators only)."""
    return session.scalar(select(func.count()).select_from(Incident)
                          .where(Incident.status == IncidentStatus.OPEN)) or 0


def _check_admin(actor: User) -> None:
    if Role.QUAN_TRI.value not in actor.role_codes:
        raise Forbidden(ADMINS_ONLY)


def _failed_call(uow: UnitOfWork, incident: Incident) -> ServiceCall | None:
    """The call the incident is about: the failed one of its element (one call per row of a list)."""
    return uow.session.scalar(select(ServiceCall).where(
        ServiceCall.instance_id == incident.instance_id, ServiceCall.element_id == incident.element_id,
        ServiceCall.status == CallStatus.FAILED).order_by(ServiceCall.id.desc()).limit(1))


def _attempts(uow: UnitOfWork, incidents: list[Incident]) -> dict[int, int]:
    """Incident id → attempts of its call; the failed call first, else the latest of its element."""
    wanted = {(i.instance_id, i.element_id): i.id for i in incidents if i.topic}
    if not wanted:
        return {}
    calls = uow.session.scalars(select(ServiceCall).where(
        ServiceCall.instance_id.in_({key[0] for key in wanted}),
        ServiceCall.element_id.in_({key[1] for key in wanted})).order_by(ServiceCall.id))
    best: dict[int, ServiceCall] = {}
    for call in calls:
        incident_id = wanted.get((call.instance_id, call.element_id))
        if incident_id is None:
            continue
        known = best.get(incident_id)
        if known is None or known.status != CallStatus.FAILED or call.status == CallStatus.FAILED:
            best[incident_id] = call
    return {incident_id: call.attempts for incident_id, call in best.items()}


def _resolvers(uow: UnitOfWork, incidents: list[Incident]) -> dict[int, str]:
    """Incident id → who resolved it, from the audit log (a retry names its incident; a cancel its instance)."""
    resolved = [i for i in incidents if i.status == IncidentStatus.RESOLVED]
    if not resolved:
        return {}
    events = uow.session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id.in_({i.instance_id for i in resolved}),
        AuditEvent.action.in_((RETRY_ACTION, "cancel"))).order_by(AuditEvent.id))
    retried: dict[int, str] = {}
    cancelled: dict[int, str] = {}
    for event in events:
        if event.action == RETRY_ACTION and isinstance(event.after, dict):
            retried[int(event.after.get("incident_id", 0))] = event.actor_name
        elif event.action == "cancel" and event.instance_id is not None:
            cancelled[event.instance_id] = event.actor_name
    return {i.id: name for i in resolved
            if (name := retried.get(i.id) or cancelled.get(i.instance_id)) is not None}


def _views(uow: UnitOfWork, services: Services, incidents: list[Incident]) -> list[IncidentView]:
    instances = {i.id: i for i in uow.session.scalars(select(ProcessInstance).where(
        ProcessInstance.id.in_({i.instance_id for i in incidents})))} if incidents else {}
    attempts = _attempts(uow, incidents)
    resolvers = _resolvers(uow, incidents)
    step_names: dict[int, dict[str, str]] = {}  # per version: a list is mostly a few versions
    shown = []
    for incident in incidents:
        instance = instances[incident.instance_id]
        version = instance.version
        if version.id not in step_names:
            step_names[version.id] = services.runtime.element_names(version.spec_json)
        names = step_names[version.id]
        element = incident.element_id
        shown.append(IncidentView(
            id=incident.id, instance_id=instance.id, instance_title=instance.title,
            unit_name=instance.initiator_unit.name,
            instance_status=instance.status, process_id=version.process_id, procedure_name=version.name,
            version=version.version, element_id=element, step=names.get(element or "", element or ""),
            topic=incident.topic, message=incident.message, status=incident.status,
            created_at=incident.created_at, resolved_at=incident.resolved_at,
            attempts=attempts.get(incident.id), resolved_by=resolvers.get(incident.id)))
    return shown


def _listed(uow: UnitOfWork, services: Services, status: IncidentStatus, limit: int) -> list[IncidentView]:
    newest = Incident.created_at if status == IncidentStatus.OPEN else Incident.resolved_at
    found = list(uow.session.scalars(select(Incident).where(Incident.status == status)
                                     .order_by(newest.desc(), Incident.id.desc()).limit(limit)))
    return _views(uow, services, found)


def incidents(uow: UnitOfWork, services: Services, actor: User,
              status: IncidentStatus = IncidentStatus.OPEN, limit: int = LIST_LIMIT) -> list[IncidentView]:
    """Incidents in `status`, newest first (open ones by when they were raised, resolved ones by when
    they were resolved); administrators only."""
    _check_admin(actor)
    return _listed(uow, services, status, limit)


def overview(uow: UnitOfWork, services: Services, actor: User) -> Overview:
    """What the admin page shows; administrators only. The open ones are counted only when the list
    is full (below LIST_LIMIT, the list is all of them)."""
    _check_admin(actor)
    shown = _listed(uow, services, IncidentStatus.OPEN, LIST_LIMIT)
    total = len(shown) if len(shown) < LIST_LIMIT else open_count(uow.session)
    return Overview(open=shown, open_total=total,
                    resolved=_listed(uow, services, IncidentStatus.RESOLVED, RESOLVED_SHOWN))


def _incident(uow: UnitOfWork, incident_id: int) -> Incident:
    incident = uow.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(NO_INCIDENT)
    return incident


def get(uow: UnitOfWork, services: Services, actor: User, incident_id: int) -> IncidentView:
    """One incident as the list shows it; administrators only."""
    _check_admin(actor)
    return _views(uow, services, [_incident(uow, incident_id)])[0]


def _retry_call(uow: UnitOfWork, services: Services, instance: ProcessInstance, incident: Incident) -> str:
    """Hand the failed call back to the worker: pending, no attempts yet, due now; same key."""
    call = _failed_call(uow, incident)
    if call is None:
        raise Conflict(NO_FAILED_CALL)
    # last_error stays: it is the history of why the incident was raised.
    call.status, call.attempts, call.retry_at, call.finished_at = CallStatus.PENDING, 0, None, None
    instance.status, instance.wake_at = InstanceStatus.RUNNING, services.now()
    leases.release(instance)
    return "gọi lại hệ thống (cùng khóa chống lặp, việc đã làm không bị làm lại)"


def _rerun_script(uow: UnitOfWork, services: Services, instance: ProcessInstance, incident: Incident,
                  step: str) -> str:
    """Run the failed element again now; a failure again changes nothing and says why."""
    workflow = services.runtime.restore(instance.version.spec_json, instance.state_json)
    try:
        rerun = incident.element_id is not None and services.runtime.rerun_failed(workflow, incident.element_id)
    except WorkflowError as exc:
        raise Conflict(Message(f"Chạy lại bước “{step}” vẫn lỗi: {exc}. {SCRIPT_FIX_VI}",
                               f"Running “{step}” again failed again: {exc}. {SCRIPT_FIX_EN}")) from exc
    if not rerun:
        raise Conflict(NOTHING_TO_RERUN)
    instance.status = InstanceStatus.RUNNING
    save_state(uow, services, instance, workflow)
    return "đã chạy lại bước bị lỗi"


def retry(uow: UnitOfWork, services: Services, actor: User, incident_id: int) -> Incident:
    """Retry an open incident of an instance in error, as an administrator; commits.

    A failed call goes back to the worker (which calls the adapter with the same idempotency key);
    a failed script, expression or gateway runs again at once and, if it fails again, nothing
    changes (Conflict with the error). The incident is resolved and the retry audited.
    """
    _check_admin(actor)
    incident = _incident(uow, incident_id)
    if incident.status != IncidentStatus.OPEN:
        raise Conflict(ALREADY_RESOLVED)
    instance = uow.session.get(ProcessInstance, incident.instance_id)
    if instance is None or instance.status != InstanceStatus.ERROR:
        raise Conflict(NOT_IN_ERROR)
    element = incident.element_id or ""
    step = services.runtime.element_names(instance.version.spec_json).get(element, element) or "—"
    if incident.topic:
        done = _retry_call(uow, services, instance, incident)
    else:
        done = _rerun_script(uow, services, instance, incident, step)
    incident.status, incident.resolved_at = IncidentStatus.RESOLVED, services.now()
    audit.record(uow.session, actor, RETRY_ACTION, instance_id=instance.id, element_id=incident.element_id,
                 summary=f"Thử lại sự cố tại bước “{step}”: {done}", after={"incident_id": incident.id})
    uow.commit()
    return incident
