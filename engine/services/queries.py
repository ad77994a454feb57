"""Read-side queries: tasklists, catalogues, instance views (no writes)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, or_, select

from engine.domain.enums import TaskStatus
from engine.domain.errors import Forbidden, NotFound
from engine.domain.messages import Message
from engine.persistence.models import (
    AuditEvent,
    HumanTask,
    Incident,
    ProcedureVersion,
    ProcessInstance,
    TaskCandidate,
    User,
)
from engine.persistence.uow import UnitOfWork
from engine.services import instances, sla
from engine.services.context import Services

NO_INSTANCE = Message("Không tìm thấy hồ sơ.", "Instance not found.")
NOT_VISIBLE = Message("Bạn không có quyền xem hồ sơ này.", "You may not see this instance.")


def _candidate_filter(user: User) -> Any:
    roles = list(user.role_codes)
    mine = exists().where(
        TaskCandidate.task_id == HumanTask.id, TaskCandidate.role.in_(roles),
        or_(TaskCandidate.unit_id.is_(None), TaskCandidate.unit_id == user.unit_id))
    return or_(HumanTask.assignee_id == user.id, and_(HumanTask.assignee_id.is_(None), mine))


def tasks_for(uow: UnitOfWork, user: User, sort: str = "due", status: TaskStatus = TaskStatus.READY,
              limit: int = 200) -> list[HumanTask]:
    """Tasks the user may do (or did), by due date (no due date last) or newest first."""
    query = select(HumanTask).where(HumanTask.status == status, _candidate_filter(user))
    if sort == "created":
        query = query.order_by(HumanTask.created_at.desc())
    else:
        query = query.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
    return list(uow.session.scalars(query.limit(limit)))


def catalogue(uow: UnitOfWork) -> list[ProcedureVersion]:
    """Newest version of every procedure people start from the catalogue (not those their own use case
    starts, instances.started_by_service)."""
    newest = (select(ProcedureVersion.process_id, func.max(ProcedureVersion.version).label("v"))
              .group_by(ProcedureVersion.process_id).subquery())
    found = uow.session.scalars(
        select(ProcedureVersion).join(newest, and_(ProcedureVersion.process_id == newest.c.process_id,
                                                   ProcedureVersion.version == newest.c.v))
        .order_by(ProcedureVersion.name))
    return [version for version in found if not instances.started_by_service(version)]


def versions(uow: UnitOfWork) -> list[ProcedureVersion]:
    return list(uow.session.scalars(select(ProcedureVersion).order_by(
        ProcedureVersion.process_id, ProcedureVersion.version.desc())))


def _sees_whole(uow: UnitOfWork, user: User, instance: ProcessInstance) -> bool:
    """Administrators, the initiator's unit and the leaders overseeing it see the whole instance."""
    if "quan_tri" in user.role_codes or instance.initiator_unit_id == user.unit_id:
        return True
    return bool(sla.is_leader(user) and uow.session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.id == instance.id, sla.overseen_by(user))))


def can_see(uow: UnitOfWork, user: User, instance: ProcessInstance) -> bool:
    if _sees_whole(uow, user, instance):
        return True
    return bool(uow.session.scalar(select(exists().where(
        HumanTask.instance_id == instance.id, _candidate_filter(user)))))


def own_tasks_only(version: ProcedureVersion) -> bool:
    """The process property `visibility` = `own_tasks`: one instance gathers several units' tasks (a DTI
    round), and whoever sees it only through its tasks sees only those (docs/modeling.md)."""
    return (version.properties or {}).get("visibility") == "own_tasks"


def sees_only_own_tasks(uow: UnitOfWork, user: User, instance: ProcessInstance) -> bool:
    """The user sees this instance through their tasks alone, in a procedure whose units must not see each
    other's tasks: no instance-wide data for them, only their own tasks."""
    return own_tasks_only(instance.version) and not _sees_whole(uow, user, instance)


def own_task(uow: UnitOfWork, user: User, task: HumanTask) -> bool:
    return bool(uow.session.scalar(select(exists().where(HumanTask.id == task.id, _candidate_filter(user)))))


def whole_instance(uow: UnitOfWork, user: User, instance_id: int) -> ProcessInstance:
    """The instance if the user may see all of it (its issued documents, all its files): as
    visible_instance, and Forbidden for who sees only their own tasks of it."""
    instance = visible_instance(uow, user, instance_id)
    if sees_only_own_tasks(uow, user, instance):
        raise Forbidden(NOT_VISIBLE)
    return instance


def visible_instance(uow: UnitOfWork, user: User, instance_id: int) -> ProcessInstance:
    """The instance if the user may see it: NotFound when there is none, Forbidden when not theirs to see."""
    instance = uow.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(NO_INSTANCE)
    if not can_see(uow, user, instance):
        raise Forbidden(NOT_VISIBLE)
    return instance


def visible_task(uow: UnitOfWork, user: User, task_id: int) -> HumanTask:
    """The task if the user may see its instance (whether or not they may do it)."""
    task = instances.get_task(uow, task_id)
    if not can_see(uow, user, task.instance):
        raise Forbidden(NOT_VISIBLE)
    if sees_only_own_tasks(uow, user, task.instance) and not own_task(uow, user, task):
        raise Forbidden(NOT_VISIBLE)  # another unit's task of a shared instance
    return task


def instances_for(uow: UnitOfWork, user: User, limit: int = 200) -> list[ProcessInstance]:
    query = select(ProcessInstance).order_by(ProcessInstance.created_at.desc())
    if "quan_tri" not in user.role_codes:
        involved = exists().where(HumanTask.instance_id == ProcessInstance.id, _candidate_filter(user))
        query = query.where(or_(ProcessInstance.initiator_unit_id == user.unit_id, involved, sla.overseen_by(user)))
    return list(uow.session.scalars(query.limit(limit)))


@dataclass
class InstanceView:
    instance: ProcessInstance
    tasks: list[HumanTask]
    history: list[AuditEvent]
    incidents: list[Incident]
    completed: list[str]
    active: list[str]
    data: dict[str, Any]
    own_tasks_only: bool = False


def instance_view(uow: UnitOfWork, services: Services, user: User, instance_id: int) -> InstanceView:
    instance = visible_instance(uow, user, instance_id)
    workflow = services.runtime.restore(instance.version.spec_json, instance.state_json)
    completed, active = services.runtime.element_states(workflow)
    session = uow.session
    if sees_only_own_tasks(uow, user, instance):
        return _own_tasks_view(uow, user, instance, completed, active)
    return InstanceView(
        instance=instance,
        tasks=list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)
                                   .order_by(HumanTask.created_at))),
        history=list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                                     .order_by(AuditEvent.at, AuditEvent.id))),
        incidents=list(session.scalars(select(Incident).where(Incident.instance_id == instance.id))),
        completed=completed, active=active,
        data=dict(workflow.last_task.data) if workflow.last_task else {},
    )


def _own_tasks_view(uow: UnitOfWork, user: User, instance: ProcessInstance,
                    completed: list[str], active: list[str]) -> InstanceView:
    """The instance as one who sees it only through their tasks: those tasks, the history of what their
    unit did in them, only their steps on the diagram, no variables nor incidents (other units' data)."""
    session = uow.session
    tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                         _candidate_filter(user))
                                 .order_by(HumanTask.created_at)))
    colleagues = select(User.id).where(User.unit_id == user.unit_id)
    history = list(session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == instance.id, AuditEvent.element_id.in_({t.element_id for t in tasks}),
        AuditEvent.actor_id.in_(colleagues)).order_by(AuditEvent.at, AuditEvent.id))) if tasks else []
    # The diagram marks only their own steps: where other units' branches stand is theirs.
    mine = {t.element_id for t in tasks if t.status == TaskStatus.READY}
    done = {t.element_id for t in tasks if t.status == TaskStatus.COMPLETED}
    return InstanceView(instance=instance, tasks=tasks, history=history, incidents=[],
                        completed=[e for e in completed if e in done], active=[e for e in active if e in mine],
                        data={}, own_tasks_only=True)


@dataclass
class TaskView:
    task: HumanTask
    form: dict[str, Any] | None
    data: dict[str, Any]
    may_complete: bool


def task_view(uow: UnitOfWork, services: Services, user: User, task_id: int) -> TaskView:
    """A task as its page or API shows it: form, the data it opens with, whether the user may do it."""
    task = visible_task(uow, user, task_id)
    ready = task.status == TaskStatus.READY
    data = instances.task_data(uow, services, task) if ready else {}
    return TaskView(task, instances.form_schema(task), data, ready and instances.can_perform(user, task))
