"""A unit's scoring sheet (phiếu chấm điểm) in a DTI round, as each person may see it, and what its steps check.

Every indicator applying to the unit's group, in file order: leaves with the unit's score and note, the
expert's score and reason (shown to the unit once its evaluation step is completed), the unit's
response and its evidence count; parents with their children's sums; totals per group of indicators and
overall. The final score of a leaf is the expert's where given, else the unit's own (0 when unscored).
Saving scores is engine/services/dti_scores.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from engine.domain.dti import RoundState, ScoringMethod, UnitGroup, UnitPhase
from engine.domain.errors import InvalidData
from engine.domain.messages import Message
from engine.forms.submission import FieldError
from engine.persistence.models import DtiEvidence, DtiIndicator, DtiRound, DtiRoundUnit, DtiScore, User
from engine.persistence.uow import UnitOfWork
from engine.services import dti_access, dti_index
from engine.services.context import Services
from engine.services.dti_access import get_round, round_unit

#: Indicators named one by one when a step is refused; the rest are counted.
MAX_LISTED = 50


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




def final_of(score: DtiScore | None) -> int | None:
    if score is None:
        return None
    return score.expert_score if score.expert_score is not None else score.self_score


def is_adjusted(score: DtiScore | None) -> bool:
    return score is not None and score.expert_score is not None and score.expert_score != score.self_score


def leaf_line(indicator: DtiIndicator, score: DtiScore | None, evidence: int, shows_expert: bool) -> Line:
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
            lines[indicator.code] = leaf_line(indicator, scores.get(indicator.id), evidence.get(indicator.id, 0),
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
        may_edit_expert=dti_access.may_score_expert(uow, actor, round_, participant),
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


# ---------------------------------------------------------------- what the steps check


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
