"""Tài liệu kiểm chứng: evidence files per unit and indicator of a DTI round.

A file is stored once in `attachments` (of the round's instance, without a task, so completing a task
never drops it) and linked to the unit and indicator by `dti_evidence`. It is checked like every
attached file (engine/forms/files.py): kind told by its bytes (PDF, JPEG, PNG, DOCX, XLSX; old Office
formats, macros and broken packages refused), the name's extension agreeing, at most
MAX_ATTACHMENT_BYTES each, at most MAX_FILES_PER_INDICATOR per indicator. The unit adds files while it
self-assesses, and to support its response to an adjusted indicator; it removes files added in its
current step. Adding and removing are written to the indicator's history.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from engine.domain.dti import ChangeKind, UnitPhase
from engine.domain.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.domain.messages import Message
from engine.persistence.models import Attachment, DtiEvidence, DtiIndicator, DtiRound, DtiRoundUnit, DtiScore, User
from engine.persistence.uow import UnitOfWork
from engine.services import attachments, dti_access, dti_scores, dti_sheet
from engine.services.context import Services

MAX_FILES_PER_INDICATOR = 10

NO_EVIDENCE = Message("Không tìm thấy tài liệu kiểm chứng.", "Evidence file not found.")
NOT_NOW = Message("Đơn vị chỉ thêm tài liệu kiểm chứng khi đang tự đánh giá, hoặc khi phản hồi một chỉ số được "
                  "điều chỉnh điểm.",
                  "Evidence is added while the unit self-assesses, or to support its response on an adjusted "
                  "indicator.")
NOT_REMOVABLE = Message("Chỉ xóa được tài liệu kiểm chứng đơn vị thêm ở bước đang thực hiện.",
                        "Only evidence added in the unit's current step can be removed.")
NOT_UNIT = Message("Chỉ chuyên viên, lãnh đạo của đơn vị đang thực hiện bước này mới thêm, xóa tài liệu kiểm chứng.",
                   "Only the unit's officers holding the current step add or remove evidence.")
NO_INSTANCE = Message("Kỳ đánh giá chưa có hồ sơ xử lý.", "The round has no instance.")


def too_many() -> Message:
    return Message(f"Mỗi chỉ số có tối đa {MAX_FILES_PER_INDICATOR} tài liệu kiểm chứng; hãy xóa bớt tệp không cần.",
                   f"An indicator holds at most {MAX_FILES_PER_INDICATOR} evidence files; remove some first.")


@dataclass(frozen=True)
class EvidenceFile:
    id: int
    indicator_code: str
    name: str
    size: int
    type: str
    phase: UnitPhase
    uploaded_by: str
    created_at: datetime


def _may_add(uow: UnitOfWork, actor: User, participant: DtiRoundUnit, score_adjusted: bool) -> None:
    phase = participant.phase
    if phase == UnitPhase.RESPONSE.value and not score_adjusted:
        raise Conflict(dti_scores.NOT_ADJUSTED)
    if phase not in (UnitPhase.SELF.value, UnitPhase.RESPONSE.value):
        raise Conflict(NOT_NOW)
    if not dti_access.may_do(uow, actor, participant.task_id):
        raise Forbidden(NOT_UNIT)


def upload(uow: UnitOfWork, services: Services, actor: User, round_id: int, unit_code: str, code: str, *,
           file_name: str, content: bytes) -> EvidenceFile:
    """Check and store one evidence file; nothing is stored when refused. `content` may be read one byte
    past the limit, so an oversized file is told apart."""
    round_, participant, _unit, indicator = dti_scores.target(
        uow, round_id, unit_code, code,
        lambda _round, participant: dti_access.check_unit_side(uow, actor, participant, NOT_UNIT))
    dti_scores.check_open(round_)
    score = uow.session.scalar(select(DtiScore).where(
        DtiScore.round_unit_id == participant.id, DtiScore.indicator_id == indicator.id))
    _may_add(uow, actor, participant, dti_sheet.is_adjusted(score))
    name, kind = attachments.checked_file(file_name, content, services.settings.max_attachment_bytes)
    count = uow.session.scalar(select(func.count(DtiEvidence.id)).where(
        DtiEvidence.round_unit_id == participant.id, DtiEvidence.indicator_id == indicator.id)) or 0
    if count >= MAX_FILES_PER_INDICATOR:
        raise InvalidData(too_many())
    if round_.instance_id is None:
        raise Conflict(NO_INSTANCE)
    now = services.now()
    stored = Attachment(ref=secrets.token_urlsafe(24), instance_id=round_.instance_id, task_id=None,
                        uploaded_by=actor.id, file_name=name, content_type=kind.mime, size=len(content),
                        sha256=hashlib.sha256(content).hexdigest(), content=content, created_at=now)
    uow.add(stored)
    uow.session.flush()
    evidence = DtiEvidence(round_unit_id=participant.id, indicator_id=indicator.id, attachment_id=stored.id,
                           phase=participant.phase, uploaded_by=actor.id, created_at=now)
    uow.add(evidence)
    row = dti_scores.score_row(uow, participant, indicator)
    dti_scores.record_change(uow, services, actor, row, ChangeKind.EVIDENCE_ADDED, None, None, name)
    uow.session.flush()
    result = EvidenceFile(evidence.id, indicator.code, name, len(content), kind.mime, UnitPhase(participant.phase),
                          actor.full_name, now)
    uow.commit()
    return result


def _evidence(uow: UnitOfWork, round_: DtiRound, participant: DtiRoundUnit,
              evidence_id: int) -> tuple[DtiEvidence, DtiIndicator]:
    row = uow.session.execute(select(DtiEvidence, DtiIndicator).join(DtiIndicator, DtiIndicator.id ==
                                                                     DtiEvidence.indicator_id)
                              .where(DtiEvidence.id == evidence_id, DtiEvidence.round_unit_id == participant.id)
                              ).one_or_none()
    if row is None:
        raise NotFound(NO_EVIDENCE)
    return row[0], row[1]


def remove(uow: UnitOfWork, services: Services, actor: User, round_id: int, unit_code: str,
           evidence_id: int) -> str:
    """Delete a file the unit added in its current step (self-assessment, or its response); returns the code
    of the indicator it was attached to."""
    round_ = dti_access.get_round(uow, round_id)
    participant, _unit = dti_access.round_unit(uow, round_, unit_code)
    dti_access.check_unit_side(uow, actor, participant, NOT_UNIT)
    evidence, indicator = _evidence(uow, round_, participant, evidence_id)
    dti_scores.check_open(round_)
    if evidence.phase != participant.phase:
        raise Conflict(NOT_REMOVABLE)
    if not dti_access.may_do(uow, actor, participant.task_id):
        raise Forbidden(NOT_UNIT)
    attachment = uow.session.get(Attachment, evidence.attachment_id)
    name = attachment.file_name if attachment else ""
    uow.session.delete(evidence)
    uow.session.flush()
    if attachment is not None:
        uow.session.delete(attachment)
    row = dti_scores.score_row(uow, participant, indicator)
    dti_scores.record_change(uow, services, actor, row, ChangeKind.EVIDENCE_REMOVED, None, None, name)
    code = indicator.code
    uow.commit()
    return code


def listing(uow: UnitOfWork, services: Services, actor: User, round_id: int, unit_code: str,
            code: str | None = None) -> list[EvidenceFile]:
    """The unit's evidence files (of one indicator when `code` is given), in the order they were added."""
    round_ = dti_access.get_round(uow, round_id)
    participant, _unit = dti_access.round_unit(uow, round_, unit_code)
    dti_access.check_sees_evidence(actor, round_, participant)
    query = (select(DtiEvidence, DtiIndicator.code, Attachment.file_name, Attachment.size, Attachment.content_type,
                    User.full_name)
             .join(DtiIndicator, DtiIndicator.id == DtiEvidence.indicator_id)
             .join(Attachment, Attachment.id == DtiEvidence.attachment_id)
             .outerjoin(User, User.id == DtiEvidence.uploaded_by)
             .where(DtiEvidence.round_unit_id == participant.id).order_by(DtiEvidence.created_at, DtiEvidence.id))
    if code is not None:
        query = query.where(DtiIndicator.code == code)
    return [EvidenceFile(e.id, indicator, name, size, kind, UnitPhase(e.phase), who or "", e.created_at)
            for e, indicator, name, size, kind, who in uow.session.execute(query)]


def content(uow: UnitOfWork, services: Services, actor: User, round_id: int, unit_code: str,
            evidence_id: int) -> Attachment:
    """One evidence file with its bytes (the unit, evaluators, approvers and administrators)."""
    round_ = dti_access.get_round(uow, round_id)
    participant, _unit = dti_access.round_unit(uow, round_, unit_code)
    dti_access.check_sees_evidence(actor, round_, participant)
    evidence, _indicator = _evidence(uow, round_, participant, evidence_id)
    attachment = uow.session.get(Attachment, evidence.attachment_id)
    if attachment is None:
        raise NotFound(NO_EVIDENCE)
    return attachment
