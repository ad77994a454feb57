"""Saving one indicator's scores in a DTI round: the unit's own, the expert's, the unit's one response.

Scores live in `dti_scores`, not in the instance: the sheet has hundreds of indicators, and saving one
change reads and writes a handful of rows (bench/dti.py measures it) while the workflow is never
loaded. Each change writes a line of history (`dti_score_changes`): who, when, before, after, why.

Rules (docs/dti.md):
- only leaf indicators of the unit's group are scored; a score is at most the indicator's maximum, and
  for a full/half/zero indicator one of 0, half and the maximum;
- the unit scores itself while its self-assessment task is ready; the experts score beside it during the
  independent evaluation and the review of the unit's response, and, while the round is aggregated,
  any evaluator may still correct; an expert score different from the unit's needs a reason;
- the unit may respond once to each adjusted indicator while its response step is open;
- nothing changes once the round is published or cancelled.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select

from engine.domain.dti import (
    ChangeKind,
    PointsError,
    RoundState,
    ScoringMethod,
    UnitGroup,
    UnitPhase,
    points,
    points_text,
)
from engine.domain.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.domain.messages import Message
from engine.forms.submission import FieldError
from engine.persistence.models import (
    DtiEvidence,
    DtiIndicator,
    DtiRound,
    DtiRoundUnit,
    DtiScore,
    DtiScoreChange,
    Unit,
    User,
)
from engine.persistence.uow import UnitOfWork
from engine.services import dti_access, dti_sheet, instances
from engine.services.context import Services
from engine.services.dti_access import get_round, round_unit
from engine.services.dti_sheet import Line, Sheet, is_adjusted, leaf_line, shows_expert

MAX_TEXT = 4000

NO_INDICATOR = Message("Không tìm thấy chỉ số trong bộ chỉ số của kỳ đánh giá.", "No such indicator in the round.")
NOT_SELF_PHASE = Message("Báo cáo tự đánh giá đã nộp (hoặc đã hết hạn nộp): không sửa được điểm tự đánh giá nữa.",
                         "The self-assessment was submitted (or its deadline passed): its scores can no longer change.")
NOT_UNIT_OFFICER = Message("Chỉ chuyên viên, lãnh đạo của đơn vị đang được giao bước tự đánh giá mới chấm điểm được.",
                           "Only the unit's officers holding the self-assessment step may score it.")
NOT_EXPERT = Message("Chỉ chuyên viên, lãnh đạo của Sở TT&TT đang được giao bước đánh giá mới chấm điểm được.",
                     "Only the evaluating unit's experts holding the evaluation step may score.")
REASON_NEEDED = Message("Điểm của chuyên gia khác điểm tự đánh giá: phải nêu lý do điều chỉnh.",
                        "The expert's score differs from the unit's: give the reason for the adjustment.")
NOT_ADJUSTED = Message("Chỉ phản hồi được chỉ số đã được Sở TT&TT điều chỉnh điểm.",
                       "Only indicators whose score was adjusted can be responded to.")
ALREADY_ANSWERED = Message("Đơn vị đã phản hồi chỉ số này; mỗi chỉ số chỉ được phản hồi một lần.",
                           "The unit has already responded on this indicator; one response per indicator.")
NOT_RESPONSE_PHASE = Message("Đơn vị chỉ phản hồi được khi bước “Xem điều chỉnh và phản hồi” đang chờ đơn vị.",
                             "The unit may respond only while its “review adjustments” step is open.")
EMPTY_RESPONSE = Message("Nội dung phản hồi không được để trống.", "The response may not be empty.")
NO_STEP = Message("Đơn vị không có bước nào đang chờ xử lý trong kỳ đánh giá.", "The unit has no step waiting.")


def _too_long(what: str) -> Message:
    return Message(f"{what} dài quá {MAX_TEXT} ký tự.", f"The text exceeds {MAX_TEXT} characters.")


@dataclass(frozen=True)
class Saved:
    """The saved line and the unit's totals after the change."""

    line: Line
    self_total: int
    final_total: int


# ---------------------------------------------------------------- saving one score


def target(uow: UnitOfWork, round_id: int, unit_code: str, code: str,
           guard: Callable[[DtiRound, DtiRoundUnit], None] | None = None,
           ) -> tuple[DtiRound, DtiRoundUnit, Unit, DtiIndicator]:
    """The round, the participant, its unit and the scored indicator; `guard` runs before the indicator is
    looked up, so that a refused user learns nothing about the unit's indicators."""
    round_ = get_round(uow, round_id)
    participant, unit = round_unit(uow, round_, unit_code)
    if guard is not None:
        guard(round_, participant)
    indicator = uow.session.scalar(select(DtiIndicator).where(DtiIndicator.index_set_id == round_.index_set_id,
                                                              DtiIndicator.code == code))
    if indicator is None:
        raise NotFound(NO_INDICATOR)
    if not indicator.is_leaf:
        raise InvalidData(Message(f"Chỉ số {code} có chỉ số con: điểm của nó là tổng điểm các chỉ số con.",
                                  f"Indicator {code} has sub-indicators: its score is their sum."))
    if participant.unit_group not in indicator.applies_to.split(","):
        group = UnitGroup(participant.unit_group).label
        raise InvalidData(Message(f"Chỉ số {code} không áp dụng cho nhóm {group.vi}.",
                                  f"Indicator {code} does not apply to {group.en}."))
    return round_, participant, unit, indicator


def unit_side(uow: UnitOfWork, actor: User) -> Callable[[DtiRound, DtiRoundUnit], None]:
    """The guard of the unit's own changes (its scores, responses, files): another unit gets 403 first."""
    return lambda _round, participant: dti_access.check_unit_side(uow, actor, participant, NOT_UNIT_OFFICER)


def evaluator_side(uow: UnitOfWork, actor: User) -> Callable[[DtiRound, DtiRoundUnit], None]:
    return lambda round_, participant: dti_access.check_evaluator_side(uow, actor, round_, participant, NOT_EXPERT)


def check_open(round_: DtiRound) -> None:
    """Nothing changes in a published or cancelled round."""
    if round_.state in (RoundState.PUBLISHED.value, RoundState.CANCELLED.value):
        raise Conflict(Message(f"Kỳ đánh giá {RoundState(round_.state).label.vi.lower()}: không thay đổi được nữa.",
                               f"The round is {RoundState(round_.state).label.en.lower()}: nothing can change."))


def checked_score(indicator: DtiIndicator, value: object) -> int:
    """Hundredths of a valid score for the indicator: a number from 0 to its maximum, and for a
    full/half/zero indicator one of those three values."""
    try:
        score = points(value)
    except PointsError as exc:
        raise InvalidData(Message(f"Điểm của chỉ số {indicator.code} {exc.message.vi}.",
                                  f"The score of {indicator.code} {exc.message.en}.")) from None
    maximum = indicator.max_points
    if score > maximum:
        raise InvalidData(Message(f"Điểm của chỉ số {indicator.code} tối đa là {points_text(maximum)}.",
                                  f"The score of {indicator.code} is at most {points_text(maximum)}."))
    if indicator.method == ScoringMethod.LEVELS.value and score not in (0, maximum // 2, maximum):
        allowed = ", ".join(points_text(v) for v in (0, maximum // 2, maximum))
        raise InvalidData(Message(f"Chỉ số {indicator.code} chấm theo mức (đạt, đạt một nửa, không đạt): chỉ nhận "
                                  f"{allowed} điểm.",
                                  f"Indicator {indicator.code} is scored full/half/zero: only {allowed} points."))
    return score


def _text(value: object, what: str) -> str:
    text = str(value or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidData(_too_long(what))
    return text


def score_row(uow: UnitOfWork, participant: DtiRoundUnit, indicator: DtiIndicator) -> DtiScore:
    score = uow.session.scalar(select(DtiScore).where(DtiScore.round_unit_id == participant.id,
                                                      DtiScore.indicator_id == indicator.id))
    if score is None:
        score = DtiScore(round_unit_id=participant.id, indicator_id=indicator.id, self_note="", expert_reason="")
        uow.add(score)
        uow.session.flush()
    return score


def record_change(uow: UnitOfWork, services: Services, actor: User, score: DtiScore, kind: ChangeKind,
                  old: int | None, new: int | None, text: str) -> None:
    uow.add(DtiScoreChange(score_id=score.id, kind=kind.value, old_value=old, new_value=new, text=text,
                           actor_id=actor.id, actor_name=actor.full_name, at=services.now()))


def totals(uow: UnitOfWork, participant_id: int) -> tuple[int, int]:
    """(self, final) totals of one unit: scores are only ever stored on its applicable leaves."""
    final = case((DtiScore.expert_score.is_not(None), DtiScore.expert_score), else_=DtiScore.self_score)
    own, end = uow.session.execute(select(func.coalesce(func.sum(DtiScore.self_score), 0),
                                          func.coalesce(func.sum(final), 0))
                                   .where(DtiScore.round_unit_id == participant_id)).one()
    return int(own), int(end)


def _saved(uow: UnitOfWork, user: User, round_: DtiRound, participant: DtiRoundUnit, indicator: DtiIndicator,
           score: DtiScore) -> Saved:
    evidence = uow.session.scalar(select(func.count(DtiEvidence.id)).where(
        DtiEvidence.round_unit_id == participant.id, DtiEvidence.indicator_id == indicator.id)) or 0
    own, final = totals(uow, participant.id)
    line = leaf_line(indicator, score, evidence, shows_expert(user, round_, participant))
    return Saved(line, own, final)


def _unit_step(uow: UnitOfWork, actor: User, round_id: int, unit_code: str, code: str, phase: UnitPhase,
               wrong_phase: Message) -> tuple[DtiRound, DtiRoundUnit, DtiIndicator]:
    """The unit's line it may change now: the round open, the unit at `phase`, the actor one of its officers
    on that step (outsiders were refused by `target` before anything about the sheet is said)."""
    round_, participant, _unit, indicator = target(uow, round_id, unit_code, code, unit_side(uow, actor))
    check_open(round_)
    if participant.phase != phase.value:
        raise Conflict(wrong_phase)
    if not dti_access.may_do(uow, actor, participant.task_id):
        raise Forbidden(NOT_UNIT_OFFICER)
    return round_, participant, indicator


def save_self_score(uow: UnitOfWork, services: Services, actor: User, round_id: int, unit_code: str, code: str,
                    *, score: object, note: object = None) -> Saved:
    """The unit's own score (None clears it) and note for one indicator, while it self-assesses."""
    round_, participant, indicator = _unit_step(uow, actor, round_id, unit_code, code, UnitPhase.SELF, NOT_SELF_PHASE)
    value = None if score is None else checked_score(indicator, score)
    row = score_row(uow, participant, indicator)
    text = row.self_note if note is None else _text(note, "Ghi chú")
    if (value, text) != (row.self_score, row.self_note):
        record_change(uow, services, actor, row, ChangeKind.SELF, row.self_score, value, text)
        row.self_score, row.self_note, row.self_by, row.self_at = value, text, actor.id, services.now()
    result = _saved(uow, actor, round_, participant, indicator, row)
    uow.commit()
    return result


def _expert_refusal(round_: DtiRound, participant: DtiRoundUnit) -> Conflict | Forbidden:
    if round_.state not in (RoundState.ASSESSING.value, RoundState.AGGREGATING.value):
        return Conflict(Message("Kết quả đã trình phê duyệt hoặc đã công bố: không sửa điểm được.",
                                "The results are awaiting approval or published: scores can no longer change."))
    refusals = {
        UnitPhase.SELF.value: Message("Đơn vị chưa nộp báo cáo tự đánh giá: chưa đánh giá độc lập được.",
                                      "The unit has not submitted its self-assessment yet."),
        UnitPhase.RESPONSE.value: Message("Đơn vị đang xem điều chỉnh và phản hồi: chờ đơn vị hoàn thành.",
                                          "The unit is reviewing the adjustments: wait until it has finished."),
        UnitPhase.DONE.value: Message("Điểm của đơn vị đã chốt; chỉ sửa được khi tổng hợp kết quả.",
                                      "The unit's scores are settled; they change again only during aggregation."),
    }
    message = refusals.get(participant.phase)
    return Conflict(message) if message is not None else Forbidden(NOT_EXPERT)


def save_expert_score(uow: UnitOfWork, services: Services, actor: User, round_id: int, unit_code: str, code: str,
                      *, score: object, reason: object = None) -> Saved:
    """The expert's score for one indicator beside the unit's (None withdraws it: the unit's score stands);
    a score different from the unit's needs a reason."""
    round_, participant, _unit, indicator = target(uow, round_id, unit_code, code, evaluator_side(uow, actor))
    check_open(round_)
    if not dti_access.may_score_expert(uow, actor, round_, participant):
        raise _expert_refusal(round_, participant)
    value = None if score is None else checked_score(indicator, score)
    row = score_row(uow, participant, indicator)
    text = _text(reason, "Lý do điều chỉnh")
    if value is not None and value != row.self_score and not text:
        raise InvalidData(REASON_NEEDED, [FieldError("reason", "", REASON_NEEDED)])
    if (value, text) != (row.expert_score, row.expert_reason):
        record_change(uow, services, actor, row, ChangeKind.EXPERT, row.expert_score, value, text)
        row.expert_score, row.expert_reason = value, text
        row.expert_by, row.expert_at = actor.id, services.now()
    result = _saved(uow, actor, round_, participant, indicator, row)
    uow.commit()
    return result


def save_response(uow: UnitOfWork, services: Services, actor: User, round_id: int, unit_code: str, code: str,
                  *, text: object) -> Saved:
    """The unit's one response to an adjusted indicator, while its review step is open."""
    round_, participant, indicator = _unit_step(uow, actor, round_id, unit_code, code, UnitPhase.RESPONSE,
                                                NOT_RESPONSE_PHASE)
    row = score_row(uow, participant, indicator)
    if not is_adjusted(row):
        raise InvalidData(NOT_ADJUSTED)
    if row.response is not None:
        raise Conflict(ALREADY_ANSWERED)
    answer = _text(text, "Phản hồi")
    if not answer:
        raise InvalidData(EMPTY_RESPONSE, [FieldError("text", "", EMPTY_RESPONSE)])
    record_change(uow, services, actor, row, ChangeKind.RESPONSE, None, None, answer)
    row.response, row.response_by, row.response_at = answer, actor.id, services.now()
    result = _saved(uow, actor, round_, participant, indicator, row)
    uow.commit()
    return result


# ---------------------------------------------------------------- steps


def complete_step(uow: UnitOfWork, services: Services, actor: User, round_id: int, unit_code: str,
                  data: Mapping[str, Any]) -> Sheet:
    """Complete the unit's current task with its form's data: submit the self-assessment, finish the
    evaluation, finish responding, settle after the review (instances.complete_task: the form is checked,
    then engine.services.dti_steps.before_complete)."""
    round_ = get_round(uow, round_id)
    participant, unit = round_unit(uow, round_, unit_code)
    dti_access.check_sees_unit(actor, round_, participant)
    if participant.task_id is None:
        raise Conflict(NO_STEP)
    instances.complete_task(uow, services, actor, participant.task_id, dict(data))
    return dti_sheet.sheet(uow, services, actor, round_id, unit.code)


# ---------------------------------------------------------------- history


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    old_value: int | None
    new_value: int | None
    text: str
    actor: str
    at: datetime


def history(uow: UnitOfWork, services: Services, actor: User, round_id: int, unit_code: str,
            code: str) -> list[Change]:
    """Every change of one indicator's scores, evidence and response, oldest first."""
    round_, participant, _unit, indicator = target(
        uow, round_id, unit_code, code, lambda found, unit: dti_access.check_sees_unit(actor, found, unit))
    show = shows_expert(actor, round_, participant)
    rows = uow.session.scalars(select(DtiScoreChange).join(DtiScore, DtiScore.id == DtiScoreChange.score_id)
                               .where(DtiScore.round_unit_id == participant.id, DtiScore.indicator_id == indicator.id)
                               .order_by(DtiScoreChange.at, DtiScoreChange.id))
    return [Change(ChangeKind(r.kind), r.old_value, r.new_value, r.text, r.actor_name, r.at) for r in rows
            if show or r.kind != ChangeKind.EXPERT.value]
