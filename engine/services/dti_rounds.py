"""Rounds (kỳ đánh giá) of the digital transformation index: open one, list them, read one.

Opening a round freezes its index set, records the participating units with their ranking group, and
starts the round's dti_assessment instance in the same transaction (instances.start with
`by_service`): one self-assessment task per unit, due at the round's deadline. From then on the
instance drives the round (engine.services.dti_steps keeps them in step).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from engine.bpmn.functions import as_aware
from engine.domain.dti import PROCESS_ID, IndexSetState, RoundState, UnitGroup, UnitPhase
from engine.domain.enums import TaskStatus
from engine.domain.errors import Conflict, InvalidData, NotFound
from engine.domain.messages import Message
from engine.forms.submission import FieldError
from engine.persistence.models import DtiIndexSet, DtiRound, DtiRoundUnit, HumanTask, Unit, User
from engine.persistence.uow import UnitOfWork
from engine.services import dti_access, dti_index, instances
from engine.services.context import Services
from engine.services.dti_steps import ROUND_VARIABLE

MAX_PARTICIPANTS = 500
IN_USE = Message("Bộ chỉ số này đang được dùng cho một kỳ đánh giá khác hoặc đã đóng.",
                 "This index set is used by another round or closed.")
INVALID = Message("Chưa mở được kỳ đánh giá: kiểm tra các mục được nêu.",
                  "The round was not opened: see the items listed.")


@dataclass(frozen=True)
class Participant:
    """A unit taking part, by its code, and the group it is ranked in."""

    unit: str
    group: str


def _problem(path: str, vi: str, en: str) -> FieldError:
    return FieldError(path, "", Message(vi, en))


def _deadline(value: object, now: datetime) -> tuple[datetime | None, list[FieldError]]:
    """An aware moment from a datetime, an ISO text or a date (17:00 that day, Vietnam time)."""
    try:
        if isinstance(value, str) and len(value.strip()) == 10:
            value = date.fromisoformat(value.strip())  # a day: the end of its working hours
        moment = as_aware(value)
    except (TypeError, ValueError):
        moment = None
    if moment is None:
        return None, [_problem("deadline", "Hạn nộp báo cáo tự đánh giá là bắt buộc (ngày hoặc ngày giờ ISO 8601).",
                               "The self-assessment deadline is required (an ISO 8601 date or date-time).")]
    if moment <= now:
        return None, [_problem("deadline", "Hạn nộp báo cáo tự đánh giá phải sau thời điểm hiện tại.",
                               "The self-assessment deadline must be in the future.")]
    return moment, []


def _participants(uow: UnitOfWork, indicators: list[Any], given: Sequence[Participant | Mapping[str, Any]]
                  ) -> tuple[list[tuple[Unit, UnitGroup]], list[FieldError]]:
    problems: list[FieldError] = []
    if not given:
        problems.append(_problem("participants", "Chọn ít nhất một đơn vị tham gia.", "Choose at least one unit."))
    if len(given) > MAX_PARTICIPANTS:
        problems.append(_problem("participants", f"Tối đa {MAX_PARTICIPANTS} đơn vị.",
                                 f"At most {MAX_PARTICIPANTS} units."))
        return [], problems
    codes = [str((p.unit if isinstance(p, Participant) else p.get("unit")) or "").strip() for p in given]
    units = {u.code: u for u in uow.session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    found: list[tuple[Unit, UnitGroup]] = []
    for index, (code, item) in enumerate(zip(codes, given, strict=True)):
        path = f"participants.{index}"
        raw_group = item.group if isinstance(item, Participant) else item.get("group")
        try:
            group = UnitGroup(str(raw_group or "").strip())
        except ValueError:
            allowed = ", ".join(g.value for g in UnitGroup)
            problems.append(_problem(f"{path}.group", f"Nhóm xếp hạng “{raw_group}” không có; dùng: {allowed}.",
                                     f"Unknown ranking group “{raw_group}”; use: {allowed}."))
            continue
        if code not in units:
            problems.append(_problem(f"{path}.unit", f"Không có đơn vị mã “{code}”.",
                                     f"No unit has the code “{code}”."))
        elif codes.index(code) != index:
            problems.append(_problem(f"{path}.unit", f"Đơn vị “{code}” được chọn hai lần.",
                                     f"Unit “{code}” is listed twice."))
        elif not any(i.is_leaf and group.value in i.applies_to.split(",") for i in indicators):
            problems.append(_problem(f"{path}.group",
                                     f"Bộ chỉ số không có chỉ số nào áp dụng cho nhóm {group.label.vi}.",
                                     f"The index set has no indicator for {group.label.en}."))
        else:
            found.append((units[code], group))
    return found, problems


def _unit(uow: UnitOfWork, code: str, path: str, problems: list[FieldError]) -> Unit | None:
    unit = uow.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        problems.append(_problem(path, f"Không có đơn vị mã “{code}”.", f"No unit has the code “{code}”."))
    return unit


def open_round(uow: UnitOfWork, services: Services, actor: User, *, index_set_id: int,
               participants: Sequence[Participant | Mapping[str, Any]], deadline: object,
               name: str | None = None, evaluator_unit: str | None = None,
               approver_unit: str | None = None) -> DtiRound:
    """Open a round on a draft index set and start its instance; InvalidData listing every problem."""
    dti_index.check_manager(actor, services)
    index_set = uow.session.get(DtiIndexSet, index_set_id)
    if index_set is None:
        raise NotFound(dti_index.NO_SET)
    if index_set.state != IndexSetState.DRAFT.value:
        raise Conflict(IN_USE)
    indicators = dti_index.indicators_of(uow, index_set.id)
    moment, problems = _deadline(deadline, services.now())
    chosen, more = _participants(uow, indicators, participants)
    problems += more
    title = " ".join((name or f"Đánh giá chỉ số chuyển đổi số năm {index_set.year}").split())
    if len(title) > 255:
        problems.append(_problem("name", "Tên kỳ đánh giá tối đa 255 ký tự.",
                                 "The round's name is at most 255 characters."))
    evaluator = _unit(uow, evaluator_unit or services.settings.dti_evaluator_unit, "evaluator_unit", problems)
    approver = _unit(uow, approver_unit or services.settings.dti_approver_unit, "approver_unit", problems)
    if problems or moment is None or evaluator is None or approver is None:
        raise InvalidData(INVALID, problems)
    round_ = DtiRound(index_set_id=index_set.id, name=title, year=index_set.year, state=RoundState.ASSESSING.value,
                      deadline=moment, evaluator_unit_id=evaluator.id, approver_unit_id=approver.id,
                      opened_by=actor.id, opened_at=services.now(), decision_number="")
    uow.add(round_)
    uow.session.flush()
    uow.session.add_all(DtiRoundUnit(round_id=round_.id, unit_id=unit.id, unit_group=group.value,
                                     phase=UnitPhase.SELF.value, late=False) for unit, group in chosen)
    # Claimed with a guarded UPDATE: two rounds opened at once on one set cannot both win.
    claimed = uow.session.execute(update(DtiIndexSet).where(
        DtiIndexSet.id == index_set.id, DtiIndexSet.state == IndexSetState.DRAFT.value)
        .values(state=IndexSetState.OPEN.value).execution_options(synchronize_session="fetch"))
    if not getattr(claimed, "rowcount", 0):
        raise Conflict(IN_USE)
    local = moment.astimezone(ZoneInfo(services.settings.timezone))
    data = {ROUND_VARIABLE: round_.id, "ten_ky_danh_gia": title, "nam_danh_gia": index_set.year,
            "bo_chi_so": index_set.name, "don_vi_tham_gia": [unit.code for unit, _ in chosen],
            "ten_don_vi_tham_gia": {unit.code: unit.name for unit, _ in chosen},
            "don_vi_danh_gia": evaluator.code, "don_vi_phe_duyet": approver.code,
            "han_tu_danh_gia": local.isoformat(), "han_nop": local.strftime("%H:%M ngày %d/%m/%Y")}
    instances.start(uow, services, actor, PROCESS_ID, data, by_service=True)  # commits the round with it
    return round_


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class ParticipantView:
    unit_code: str
    unit_name: str
    group: UnitGroup
    phase: UnitPhase
    late: bool
    submitted_at: datetime | None
    settled_at: datetime | None
    task_id: int | None


@dataclass(frozen=True)
class RoundView:
    id: int
    name: str
    year: int
    state: RoundState
    index_set_id: int
    index_set_name: str
    deadline: datetime
    instance_id: int | None
    evaluator_unit: str
    approver_unit: str
    opened_at: datetime
    approved_at: datetime | None
    published_at: datetime | None
    decision_number: str
    decision_date: date | None
    #: The round's own ready task (Tổng hợp, Phê duyệt, Công bố), if any.
    task_id: int | None
    task_element: str | None
    #: The participants this user may see: every unit for evaluators, approvers and once published,
    #: else the user's own unit only.
    participants: list[ParticipantView]


def _view(uow: UnitOfWork, actor: User, round_: DtiRound) -> RoundView:
    session = uow.session
    rows = session.execute(select(DtiRoundUnit, Unit).join(Unit, Unit.id == DtiRoundUnit.unit_id)
                           .where(DtiRoundUnit.round_id == round_.id).order_by(DtiRoundUnit.unit_group, Unit.name)
                           ).all()
    every = dti_access.sees_all(actor, round_) or dti_access.is_published(round_)
    shown = [ParticipantView(u.code, u.name, UnitGroup(p.unit_group), UnitPhase(p.phase), p.late, p.submitted_at,
                             p.settled_at, p.task_id) for p, u in rows if every or p.unit_id == actor.unit_id]
    own_task = None
    if round_.instance_id is not None:
        own_task = session.execute(select(HumanTask.id, HumanTask.element_id).where(
            HumanTask.instance_id == round_.instance_id, HumanTask.status == TaskStatus.READY,
            HumanTask.element_id.in_(["Task_TongHop", "Task_PheDuyet", "Task_CongBo"]))).first()
    index_set = session.get(DtiIndexSet, round_.index_set_id)
    units = {u.id: u.code for u in session.scalars(select(Unit).where(
        Unit.id.in_([round_.evaluator_unit_id, round_.approver_unit_id])))}
    return RoundView(round_.id, round_.name, round_.year, RoundState(round_.state), round_.index_set_id,
                     index_set.name if index_set else "", round_.deadline, round_.instance_id,
                     units.get(round_.evaluator_unit_id, ""), units.get(round_.approver_unit_id, ""), round_.opened_at,
                     round_.approved_at, round_.published_at, round_.decision_number, round_.decision_date,
                     own_task[0] if own_task else None, own_task[1] if own_task else None, shown)


def round_view(uow: UnitOfWork, services: Services, actor: User, round_id: int) -> RoundView:
    """One round as this user may see it (403 for someone taking no part before publication)."""
    round_ = dti_access.get_round(uow, round_id)
    dti_access.check_sees_round(uow, actor, round_)
    return _view(uow, actor, round_)


def rounds(uow: UnitOfWork, services: Services, actor: User) -> list[RoundView]:
    """The rounds this user may see, newest first."""
    mine = select(DtiRoundUnit.round_id).where(DtiRoundUnit.unit_id == actor.unit_id)
    found = uow.session.scalars(select(DtiRound).order_by(DtiRound.year.desc(), DtiRound.id.desc()))
    listed = []
    member = set(uow.session.scalars(mine))
    for round_ in found:
        if dti_access.sees_all(actor, round_) or dti_access.is_published(round_) or round_.id in member:
            listed.append(_view(uow, actor, round_))
    return listed


def previous_round(uow: UnitOfWork, round_: DtiRound) -> DtiRound | None:
    """The latest published round of an earlier year: what this round's ranking is compared with."""
    return uow.session.scalar(select(DtiRound).where(
        DtiRound.year < round_.year, DtiRound.state == RoundState.PUBLISHED.value)
        .order_by(DtiRound.year.desc(), DtiRound.published_at.desc()).limit(1))

