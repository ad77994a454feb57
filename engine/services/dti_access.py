"""Who may see and do what in a DTI round, and the lookups every DTI use case starts from.

- The evaluating unit's experts and leaders (chuyen_vien, lanh_dao of the round's evaluator unit, the
  Sở TT&TT), the approving unit's leaders (lanh_dao of UBND tỉnh) and administrators see every unit.
- A participating unit sees its own sheet; before publication another unit's sheet is 403.
- Once the round is published, every signed-in user sees the ranking and the sheets (not the evidence
  files, which stay with the unit and the evaluators).
- Changing anything needs the unit's current task of the instance (`may_do`, checked without loading
  the workflow, so a score is saved in a few milliseconds), except the evaluators' corrections while the
  round is being aggregated (after the chairman sends it back).
"""
from __future__ import annotations

from sqlalchemy import exists, or_, select

from engine.domain.dti import RoundState, UnitPhase
from engine.domain.enums import InstanceStatus, TaskStatus
from engine.domain.errors import Forbidden, NotFound
from engine.domain.messages import Message
from engine.persistence.models import (
    DtiRound,
    DtiRoundUnit,
    HumanTask,
    ProcessInstance,
    TaskCandidate,
    Unit,
    User,
)
from engine.persistence.uow import UnitOfWork

#: Roles of the evaluating unit that score.
ASSESSOR_ROLES = frozenset({"chuyen_vien", "lanh_dao"})
APPROVER_ROLE = "lanh_dao"

NO_ROUND = Message("Không tìm thấy kỳ đánh giá.", "Round not found.")
NOT_PARTICIPANT = Message("Đơn vị không tham gia kỳ đánh giá này.", "The unit does not take part in this round.")
OTHER_UNIT = Message("Trước khi công bố kết quả, đơn vị chỉ xem được điểm của chính mình.",
                     "Before the results are published, a unit sees only its own scores.")
NOT_IN_ROUND = Message("Bạn không tham gia kỳ đánh giá này.", "You take no part in this round.")


def get_round(uow: UnitOfWork, round_id: int) -> DtiRound:
    found = uow.session.get(DtiRound, round_id)
    if found is None:
        raise NotFound(NO_ROUND)
    return found


def round_unit(uow: UnitOfWork, round_: DtiRound, unit_code: str) -> tuple[DtiRoundUnit, Unit]:
    """The participant with this unit code; NotFound when the unit takes no part."""
    row = uow.session.execute(
        select(DtiRoundUnit, Unit).join(Unit, Unit.id == DtiRoundUnit.unit_id)
        .where(DtiRoundUnit.round_id == round_.id, Unit.code == unit_code)).one_or_none()
    if row is None:
        raise NotFound(NOT_PARTICIPANT)
    return row[0], row[1]


def is_published(round_: DtiRound) -> bool:
    return round_.state == RoundState.PUBLISHED.value


def is_evaluator(user: User, round_: DtiRound) -> bool:
    return user.unit_id == round_.evaluator_unit_id and bool(user.role_codes & ASSESSOR_ROLES)


def is_approver(user: User, round_: DtiRound) -> bool:
    return user.unit_id == round_.approver_unit_id and APPROVER_ROLE in user.role_codes


def sees_all(user: User, round_: DtiRound) -> bool:
    """Evaluators, approvers and administrators see every unit at every stage."""
    return is_evaluator(user, round_) or is_approver(user, round_) or "quan_tri" in user.role_codes


def check_sees_unit(user: User, round_: DtiRound, participant: DtiRoundUnit) -> None:
    if not (sees_all(user, round_) or user.unit_id == participant.unit_id or is_published(round_)):
        raise Forbidden(OTHER_UNIT)


def check_sees_evidence(user: User, round_: DtiRound, participant: DtiRoundUnit) -> None:
    """Evidence files stay with the unit and those who evaluate and approve, even after publication."""
    if not (sees_all(user, round_) or user.unit_id == participant.unit_id):
        raise Forbidden(OTHER_UNIT)


def participant_of(uow: UnitOfWork, user: User, round_: DtiRound) -> DtiRoundUnit | None:
    return uow.session.scalar(select(DtiRoundUnit).where(DtiRoundUnit.round_id == round_.id,
                                                         DtiRoundUnit.unit_id == user.unit_id))


def check_sees_round(uow: UnitOfWork, user: User, round_: DtiRound) -> None:
    """The round itself: those who see all, its participants, and everyone once published."""
    if not (sees_all(user, round_) or is_published(round_) or participant_of(uow, user, round_) is not None):
        raise Forbidden(NOT_IN_ROUND)


def may_do(uow: UnitOfWork, user: User, task_id: int | None) -> bool:
    """Whether the user may do this ready task of a running instance (instances.can_perform, read with
    two small queries instead of loading the task with its instance and procedure version)."""
    if task_id is None:
        return False
    row = uow.session.execute(
        select(HumanTask.status, HumanTask.assignee_id, ProcessInstance.status)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.id == task_id)).one_or_none()
    if row is None or row[0] != TaskStatus.READY or row[2] != InstanceStatus.RUNNING:
        return False
    if row[1] is not None:
        return bool(row[1] == user.id)
    return bool(uow.session.scalar(select(exists().where(
        TaskCandidate.task_id == task_id, TaskCandidate.role.in_(sorted(user.role_codes)),
        or_(TaskCandidate.unit_id.is_(None), TaskCandidate.unit_id == user.unit_id)))))


def check_unit_side(uow: UnitOfWork, user: User, participant: DtiRoundUnit, refusal: Message) -> None:
    """Before anything about the unit's sheet is told (its phase, its files, its indicators): the user is one
    of the unit's own people, or holds the unit's current step. Someone else learns only 403."""
    if user.unit_id != participant.unit_id and not may_do(uow, user, participant.task_id):
        raise Forbidden(refusal)


def check_evaluator_side(uow: UnitOfWork, user: User, round_: DtiRound, participant: DtiRoundUnit,
                         refusal: Message) -> None:
    """The same for the experts' side: an evaluator of the round, or the holder of the unit's current step."""
    if not is_evaluator(user, round_) and not may_do(uow, user, participant.task_id):
        raise Forbidden(refusal)


def may_score_expert(uow: UnitOfWork, user: User, round_: DtiRound, participant: DtiRoundUnit) -> bool:
    """The unit's evaluation or review step is the user's to do; or the round is being aggregated and the
    user is an evaluator (corrections after the chairman sends the report back)."""
    if round_.state == RoundState.AGGREGATING.value:
        return is_evaluator(user, round_)
    return participant.phase in (UnitPhase.EXPERT.value, UnitPhase.REVIEW.value) \
        and may_do(uow, user, participant.task_id)
