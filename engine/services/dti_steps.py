"""The dti_assessment instance and its round kept in step (engine.services.instances calls both hooks).

- `sync`, on every save of a dti_assessment instance: the round links to its instance when it starts;
  each participant's phase and current task follow the unit's ready task (Task_TuDanhGia,
  Task_DanhGiaDocLap, Task_PhanHoi, Task_XemXetPhanHoi), a unit without one has its scores settled;
  the round's state follows its own ready task (Task_TongHop, Task_PheDuyet, Task_CongBo), the completed
  instance publishes it, a cancelled one cancels it (and gives the index set back as a draft).
- `before_complete`, before one of its tasks is completed (by the DTI API, the task page or the tasks
  API alike): a self-assessment with unscored indicators, or scored ones lacking evidence, is refused;
  the evaluation and the response pass on the counts their gateways read (`so_dieu_chinh`,
  `so_phan_hoi`); the approval and the publication are recorded on the round.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select

from engine.domain.dti import PROCESS_ID, ROUND_TASKS, UNIT_TASKS, IndexSetState, RoundState, UnitPhase
from engine.domain.enums import InstanceStatus, TaskStatus
from engine.domain.errors import InvalidData
from engine.domain.messages import Message
from engine.persistence.models import (
    DtiIndexSet,
    DtiRound,
    DtiRoundUnit,
    HumanTask,
    ProcessInstance,
    Unit,
    User,
)
from engine.persistence.uow import UnitOfWork
from engine.services import dti_sheet
from engine.services.context import Services

#: The start variable naming the round (set by engine.services.dti_rounds.open_round).
ROUND_VARIABLE = "dti_ky_danh_gia"
NOT_OPENED = Message("Kỳ đánh giá chỉ số chuyển đổi số được mở bằng chức năng mở kỳ đánh giá (bộ chỉ số, đơn vị "
                     "tham gia, hạn nộp), không tạo như một hồ sơ thông thường.",
                     "A digital transformation index round is opened with its own function (index set, units, "
                     "deadline), not started as an ordinary instance.")


def is_dti(instance: ProcessInstance) -> bool:
    return instance.version.process_id == PROCESS_ID


def round_of(uow: UnitOfWork, instance_id: int) -> DtiRound | None:
    return uow.session.scalar(select(DtiRound).where(DtiRound.instance_id == instance_id))


def _link(uow: UnitOfWork, services: Services, instance: ProcessInstance, workflow: Any) -> DtiRound:
    """The round a new instance was started for (its start variable); refused for any other start."""
    round_id = services.runtime.variables(workflow).get(ROUND_VARIABLE)
    found = uow.session.get(DtiRound, round_id) if isinstance(round_id, int) else None
    if found is None or found.instance_id not in (None, instance.id):
        raise InvalidData(NOT_OPENED)
    found.instance_id = instance.id
    instance.title = found.name[:255]
    return found


def sync(uow: UnitOfWork, services: Services, instance: ProcessInstance, workflow: Any) -> None:
    """Mirror the instance into its round (in the caller's transaction); nothing for other procedures."""
    if not is_dti(instance):
        return
    session = uow.session
    round_ = round_of(uow, instance.id) or _link(uow, services, instance, workflow)
    participants = session.execute(select(DtiRoundUnit, Unit.code).join(Unit, Unit.id == DtiRoundUnit.unit_id)
                                   .where(DtiRoundUnit.round_id == round_.id)).all()
    if instance.status == InstanceStatus.CANCELLED:
        _cancel(uow, round_, [p for p, _ in participants])
        return
    session.flush()  # task rows added for this save get their ids
    task_ids = dict(session.execute(select(HumanTask.spiff_task_id, HumanTask.id).where(
        HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.READY)).all())
    phases: dict[str, tuple[UnitPhase, int | None, bool]] = {}
    waiting: RoundState | None = None
    for ready in services.runtime.ready_human_tasks(workflow):
        if ready.element_id in UNIT_TASKS:
            phases[str(ready.data.get("don_vi"))] = (UNIT_TASKS[ready.element_id], task_ids.get(ready.task_id),
                                                     bool(ready.data.get("nop_qua_han")))
        elif ready.element_id in ROUND_TASKS:
            waiting = ROUND_TASKS[ready.element_id]
    now = services.now()
    for participant, code in participants:
        if code in phases:
            phase, task_id, late = phases[code]
            participant.phase, participant.task_id = phase.value, task_id
            if late and participant.submitted_at is None:
                participant.late = True
        elif participant.phase != UnitPhase.DONE.value and instance.status == InstanceStatus.RUNNING:
            participant.phase, participant.task_id, participant.settled_at = UnitPhase.DONE.value, None, now
    if workflow.is_completed():
        round_.state, round_.published_at = RoundState.PUBLISHED.value, now
        index_set = session.get(DtiIndexSet, round_.index_set_id)
        if index_set is not None:
            index_set.state = IndexSetState.CLOSED.value
    elif instance.status == InstanceStatus.RUNNING:
        round_.state = (waiting or RoundState.ASSESSING).value


def _cancel(uow: UnitOfWork, round_: DtiRound, participants: list[DtiRoundUnit]) -> None:
    round_.state = RoundState.CANCELLED.value
    for participant in participants:
        participant.task_id = None
    others = uow.session.scalar(select(func.count(DtiRound.id)).where(
        DtiRound.index_set_id == round_.index_set_id, DtiRound.id != round_.id,
        DtiRound.state != RoundState.CANCELLED.value))
    index_set = uow.session.get(DtiIndexSet, round_.index_set_id)
    if index_set is not None and not others and index_set.state == IndexSetState.OPEN.value:
        index_set.state = IndexSetState.DRAFT.value


def before_complete(uow: UnitOfWork, services: Services, actor: User, task: HumanTask,
                    data: Mapping[str, Any]) -> dict[str, Any]:
    """Refuse a step the round's data do not allow yet; the variables to add to the task's data."""
    if not is_dti(task.instance):
        return {}
    round_ = round_of(uow, task.instance_id)
    if round_ is None:
        return {}
    if task.element_id in UNIT_TASKS:
        participant = uow.session.scalar(select(DtiRoundUnit).where(DtiRoundUnit.task_id == task.id))
        return _unit_step(uow, services, actor, round_, participant, task.element_id) if participant else {}
    if task.element_id == "Task_PheDuyet" and data.get("quyet_dinh_phe_duyet") == "phe_duyet":
        round_.approved_at = services.now()
    elif task.element_id == "Task_CongBo":
        round_.decision_number = str(data.get("so_quyet_dinh") or "")[:100]
        day = data.get("ngay_quyet_dinh")
        round_.decision_date = (day if isinstance(day, date) else date.fromisoformat(day[:10])
                                if isinstance(day, str) and day else None)
    return {}


def _unit_step(uow: UnitOfWork, services: Services, actor: User, round_: DtiRound, participant: DtiRoundUnit,
               element_id: str) -> dict[str, Any]:
    phase = UNIT_TASKS[element_id]
    if phase is UnitPhase.SELF:
        leaves, missing, no_evidence = dti_sheet.readiness(uow, round_, participant)
        if missing or no_evidence:
            raise dti_sheet.incomplete(leaves, missing, no_evidence)
        participant.submitted_at, participant.submitted_by = services.now(), actor.id
        return {}
    adjusted, responded = dti_sheet.counts(uow, participant)
    if phase is UnitPhase.EXPERT:
        return {"so_dieu_chinh": adjusted}
    if phase is UnitPhase.RESPONSE:
        return {"so_phan_hoi": responded}
    return {}
