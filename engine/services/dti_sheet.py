"""A unit's scoring sheet (phiếu chấm điểm) in a DTI round: read it, save one indicator's score, finish a step.

Scores live in `dti_scores`, not in the instance: the sheet has hundreds of indicators, and saving one
change reads and writes a handful of rows (bench/dti.py measures it) while the workflow is never
loaded. Each change writes a line of history (`dti_score_changes`): who, when, before, after, why.

Rules (docs/dti.md):
- only leaf indicators are scored; a parent's score is the sum of its children's (those applying to the
  unit's group); a score is at most the indicator's maximum, and for a full/half/zero indicator one of
  0, half and the maximum;
- the unit scores itself while its self-assessment task is ready; the experts score beside it during the
  independent evaluation and the review of the unit's response, and, while the round is aggregated,
  any evaluator may still correct; an expert score different from the unit's needs a reason;
- the unit sees the expert scores once the evaluation is finished and may respond once to each adjusted
  indicator;
- the final score of a leaf is the expert's where given, else the unit's own (0 when unscored).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
from engine.services import dti_access, dti_index, instances
from engine.services.context import Services
from engine.services.dti_access import get_round, round_unit

MAX_TEXT = 4000
#: Indicators named one by one when a step is refused; the rest are counted.
MAX_LISTED = 50

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


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class Line:
    """One indicator on the sheet; a parent's scores are its children's sums."""

    code: str
    parent_code: str | None
    group: str
    name: str
    depth: int
    is_leaf: bool
    max_points: int
    method: ScoringMethod
    method_text: str
    evidence_text: str
    self_score: int | None
    self_note: str
    expert_score: int | None
    expert_reason: str
    response: str | None
    #: Expert score where given, else the unit's own (a leaf unscored by both has none).
    final_score: int | None
    #: The expert's score differs from the unit's.
    adjusted: bool
    evidence: int
    self_at: datetime | None = None
    expert_at: datetime | None = None
    response_at: datetime | None = None


@dataclass(frozen=True)
class GroupTotal:
    name: str
    max_points: int
    self_total: int
    final_total: int


@dataclass(frozen=True)
class Sheet:
    round_id: int
    round_name: str
    year: int
    round_state: RoundState
    unit_code: str
    unit_name: str
    unit_group: UnitGroup
    phase: UnitPhase
    late: bool
    submitted_at: datetime | None
    #: The unit's ready task of the instance (complete it with `complete_step`), if any.
    task_id: int | None
    may_edit_self: bool
    may_edit_expert: bool
    may_respond: bool
    #: Whether expert scores are shown (to the unit only once the evaluation is finished).
    shows_expert: bool
    lines: list[Line]
    groups: list[GroupTotal]
    max_total: int
    self_total: int
    final_total: int
    leaves: int
    missing_scores: list[str] = field(default_factory=list)
    missing_evidence: list[str] = field(default_factory=list)
    adjustments: int = 0
    responses: int = 0


@dataclass(frozen=True)
class Saved:
    """The saved line and the unit's totals after the change."""

    line: Line
    self_total: int
    final_total: int


def final_of(score: DtiScore | None) -> int | None:
    if score is None:
        return None
    return score.expert_score if score.expert_score is not None else score.self_score


def is_adjusted(score: DtiScore | None) -> bool:
    return score is not None and score.expert_score is not None and score.expert_score != score.self_score


def _leaf_line(indicator: DtiIndicator, score: DtiScore | None, evidence: int, shows_expert: bool) -> Line:
    expert = score.expert_score if score is not None and shows_expert else None
    own = score.self_score if score is not None else None
    return Line(indicator.code, indicator.parent_code, indicator.group_name, indicator.name, indicator.depth, True,
                indicator.max_points, ScoringMethod(indicator.method), indicator.method_text, indicator.evidence_text,
                own, score.self_note if score else "", expert,
                score.expert_reason if score is not None and shows_expert else "",
                score.response if score is not None else None,
                expert if expert is not None else own, shows_expert and is_adjusted(score), evidence,
                score.self_at if score else None, score.expert_at if score and shows_expert else None,
                score.response_at if score else None)


def shows_expert(user: User, round_: DtiRound, participant: DtiRoundUnit) -> bool:
    """Expert scores reach the unit once its evaluation is finished; evaluators see them as they are made."""
    unfinished = participant.phase in (UnitPhase.SELF.value, UnitPhase.EXPERT.value)
    return dti_access.sees_all(user, round_) or not unfinished or dti_access.is_published(round_)


def applicable(indicators: list[DtiIndicator], group: str) -> list[DtiIndicator]:
    return [i for i in indicators if group in i.applies_to.split(",")]


def lines_of(uow: UnitOfWork, round_: DtiRound, participant: DtiRoundUnit, show_expert: bool) -> list[Line]:
    """Every indicator applying to the unit's group, in file order, parents summing their children."""
    indicators = applicable(dti_index.indicators_of(uow, round_.index_set_id), participant.unit_group)
    scores = {s.indicator_id: s for s in uow.session.scalars(
        select(DtiScore).where(DtiScore.round_unit_id == participant.id))}
    evidence = dict(uow.session.execute(
        select(DtiEvidence.indicator_id, func.count(DtiEvidence.id)).where(DtiEvidence.round_unit_id == participant.id)
        .group_by(DtiEvidence.indicator_id)).all())
    lines: dict[str, Line] = {}
    for indicator in indicators:
        if indicator.is_leaf:
            lines[indicator.code] = _leaf_line(indicator, scores.get(indicator.id), evidence.get(indicator.id, 0),
                                               show_expert)
    for indicator in sorted((i for i in indicators if not i.is_leaf), key=lambda i: -i.depth):
        kids = [line for line in lines.values() if line.parent_code == indicator.code]
        own = sum(k.self_score or 0 for k in kids)
        final = sum(k.final_score or 0 for k in kids)
        lines[indicator.code] = Line(indicator.code, indicator.parent_code, indicator.group_name, indicator.name,
                                     indicator.depth, False, indicator.max_points, ScoringMethod(indicator.method),
                                     indicator.method_text, "", own, "", None, "", None, final, False,
                                     sum(k.evidence for k in kids))
    return [lines[i.code] for i in indicators]


def sheet(uow: UnitOfWork, services: Services, actor: User, round_id: int, unit_code: str) -> Sheet:
    """The unit's sheet as this user may see it (403 for another unit's before publication)."""
    round_ = get_round(uow, round_id)
    participant, unit = round_unit(uow, round_, unit_code)
    dti_access.check_sees_unit(actor, round_, participant)
    show = shows_expert(actor, round_, participant)
    lines = lines_of(uow, round_, participant, show)
    leaves = [line for line in lines if line.is_leaf]
    roots = [line for line in lines if line.parent_code is None]
    groups: dict[str, list[Line]] = {}
    for line in roots:
        groups.setdefault(line.group, []).append(line)
    task = participant.task_id
    may_do = dti_access.may_do(uow, actor, task)
    phase = UnitPhase(participant.phase)
    return Sheet(
        round_.id, round_.name, round_.year, RoundState(round_.state), unit.code, unit.name,
        UnitGroup(participant.unit_group), phase, participant.late, participant.submitted_at, task,
        may_edit_self=phase is UnitPhase.SELF and may_do,
        may_edit_expert=_may_score_expert(uow, actor, round_, participant),
        may_respond=phase is UnitPhase.RESPONSE and may_do, shows_expert=show, lines=lines,
        groups=[GroupTotal(name, sum(r.max_points for r in rows), sum(r.self_score or 0 for r in rows),
                           sum(r.final_score or 0 for r in rows)) for name, rows in groups.items()],
        max_total=sum(r.max_points for r in roots), self_total=sum(r.self_score or 0 for r in leaves),
        final_total=sum(r.final_score or 0 for r in leaves), leaves=len(leaves),
        missing_scores=[r.code for r in leaves if r.self_score is None],
        missing_evidence=[r.code for r in leaves if _needs_evidence(r)],
        adjustments=sum(1 for r in leaves if r.adjusted), responses=sum(1 for r in leaves if r.response))


def _needs_evidence(line: Line) -> bool:
    return bool(line.evidence_text.strip()) and (line.self_score or 0) > 0 and line.evidence == 0


# ---------------------------------------------------------------- saving one score


def target(uow: UnitOfWork, round_id: int, unit_code: str,
            code: str) -> tuple[DtiRound, DtiRoundUnit, Unit, DtiIndicator]:
    round_ = get_round(uow, round_id)
    participant, unit = round_unit(uow, round_, unit_code)
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
    line = _leaf_line(indicator, score, evidence, shows_expert(user, round_, participant))
    return Saved(line, own, final)


def save_self_score(uow: UnitOfWork, services: Services, actor: User, round_id: int, unit_code: str, code: str,
                    *, score: object, note: object = None) -> Saved:
    """The unit's own score (None clears it) and note for one indicator, while it self-assesses."""
    round_, participant, _unit, indicator = target(uow, round_id, unit_code, code)
    check_open(round_)
    if participant.phase != UnitPhase.SELF.value:
        raise Conflict(NOT_SELF_PHASE)
    if not dti_access.may_do(uow, actor, participant.task_id):
        raise Forbidden(NOT_UNIT_OFFICER)
    value = None if score is None else checked_score(indicator, score)
    row = score_row(uow, participant, indicator)
    text = row.self_note if note is None else _text(note, "Ghi chú")
    if (value, text) != (row.self_score, row.self_note):
        record_change(uow, services, actor, row, ChangeKind.SELF, row.self_score, value, text)
        row.self_score, row.self_note, row.self_by, row.self_at = value, text, actor.id, services.now()
    result = _saved(uow, actor, round_, participant, indicator, row)
    uow.commit()
    return result


def _may_score_expert(uow: UnitOfWork, actor: User, round_: DtiRound, participant: DtiRoundUnit) -> bool:
    if round_.state == RoundState.AGGREGATING.value:
        return dti_access.is_evaluator(actor, round_)
    return participant.phase in (UnitPhase.EXPERT.value, UnitPhase.REVIEW.value) \
        and dti_access.may_do(uow, actor, participant.task_id)


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
    round_, participant, _unit, indicator = target(uow, round_id, unit_code, code)
    check_open(round_)
    if not _may_score_expert(uow, actor, round_, participant):
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
    round_, participant, _unit, indicator = target(uow, round_id, unit_code, code)
    check_open(round_)
    if participant.phase != UnitPhase.RESPONSE.value:
        raise Conflict(NOT_RESPONSE_PHASE)
    if not dti_access.may_do(uow, actor, participant.task_id):
        raise Forbidden(NOT_UNIT_OFFICER)
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
    if participant.task_id is None:
        raise Conflict(NO_STEP)
    instances.complete_task(uow, services, actor, participant.task_id, dict(data))
    return sheet(uow, services, actor, round_id, unit.code)


def readiness(uow: UnitOfWork, round_: DtiRound, participant: DtiRoundUnit) -> tuple[int, list[str], list[str]]:
    """(leaves, codes not scored, codes scored above 0 without the evidence the index set asks for)."""
    lines = [line for line in lines_of(uow, round_, participant, False) if line.is_leaf]
    return (len(lines), [line.code for line in lines if line.self_score is None],
            [line.code for line in lines if _needs_evidence(line)])


def incomplete(leaves: int, missing: list[str], no_evidence: list[str]) -> InvalidData:
    """The refusal to submit a self-assessment, with counts and the indicators named."""
    parts_vi, parts_en = [], []
    if missing:
        parts_vi.append(f"còn {len(missing)} chỉ số chưa chấm điểm")
        parts_en.append(f"{len(missing)} indicator(s) not scored")
    if no_evidence:
        parts_vi.append(f"{len(no_evidence)} chỉ số có điểm nhưng chưa có tài liệu kiểm chứng")
        parts_en.append(f"{len(no_evidence)} scored indicator(s) without evidence")
    message = Message(f"Chưa nộp được báo cáo tự đánh giá: {' và '.join(parts_vi)} (trên tổng số {leaves} chỉ số).",
                      f"The self-assessment cannot be submitted: {' and '.join(parts_en)} (of {leaves} indicators).")
    details = [FieldError(code, "", Message("Chưa chấm điểm.", "Not scored.")) for code in missing[:MAX_LISTED]]
    details += [FieldError(code, "", Message("Chưa có tài liệu kiểm chứng.", "No evidence attached."))
                for code in no_evidence[:max(0, MAX_LISTED - len(details))]]
    return InvalidData(message, details)


def counts(uow: UnitOfWork, participant: DtiRoundUnit) -> tuple[int, int]:
    """(indicators adjusted by the experts, indicators the unit responded to)."""
    differs = DtiScore.self_score.is_(None) | (DtiScore.expert_score != DtiScore.self_score)
    adjusted, responded = uow.session.execute(select(
        func.count(DtiScore.id).filter(DtiScore.expert_score.is_not(None), differs),
        func.count(DtiScore.id).filter(DtiScore.response.is_not(None)))
        .where(DtiScore.round_unit_id == participant.id)).one()
    return int(adjusted), int(responded)


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
    round_, participant, _unit, indicator = target(uow, round_id, unit_code, code)
    dti_access.check_sees_unit(actor, round_, participant)
    show = shows_expert(actor, round_, participant)
    rows = uow.session.scalars(select(DtiScoreChange).join(DtiScore, DtiScore.id == DtiScoreChange.score_id)
                               .where(DtiScore.round_unit_id == participant.id, DtiScore.indicator_id == indicator.id)
                               .order_by(DtiScoreChange.at, DtiScoreChange.id))
    return [Change(ChangeKind(r.kind), r.old_value, r.new_value, r.text, r.actor_name, r.at) for r in rows
            if show or r.kind != ChangeKind.EXPERT.value]
