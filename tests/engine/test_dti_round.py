"""A DTI round through the engine's use cases: three sở from opening to publication, with self scores,
evidence, an adjustment with its reason, the unit's one response, a tie, the chairman sending the report
back then approving, and the comparison with the previous year's published round."""
from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import worker
from engine.adapters.registry import KNOWN_TOPICS
from engine.bpmn import runtime
from engine.domain.dti import ChangeKind, IndexSetState, PointsError, RoundState, UnitPhase, points
from engine.domain.enums import TaskStatus
from engine.domain.errors import Conflict, Forbidden, InvalidData
from engine.persistence.models import DtiIndexSet, HumanTask, ProcedureVersion, TaskCandidate, Unit, User
from engine.persistence.uow import UnitOfWork
from engine.services import (
    dti_evidence,
    dti_index,
    dti_ranking,
    dti_report,
    dti_rounds,
    dti_scores,
    dti_sheet,
    identity,
    instances,
    publishing,
    queries,
)
from engine.services.context import Services
from tests.engine.attachment_files import pdf
from tests.engine.conftest import FORMS_DIR, PROCESSES_DIR, TEMPLATES_DIR, Clock, Publish
from tests.engine.docx_files import docx_text
from tests.engine.dti_files import EXAMPLE, STAFF, UNITS

Uow = Callable[[], UnitOfWork]
SO = ["so_tc", "so_yt", "so_xd"]
OFFICER = {"so_tc": "cv_stc", "so_yt": "cv_syt", "so_xd": "cv_sxd", "ubnd_caolanh": "cv_huyen"}
CONFIRM = {"bao_cao_tu_danh_gia": "Đã hoàn thành các nhiệm vụ chuyển đổi số năm.", "xac_nhan_tu_danh_gia": True}
REVIEWED = {"nhan_xet_danh_gia": "Đơn vị thực hiện tốt."}


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def staff(uow: Uow, session_factory: sessionmaker[Session], people: dict[str, User]) -> dict[str, User]:
    with uow() as u:
        for code, name in UNITS.items():
            identity.ensure_unit(u, code, name)
        for username, (full_name, unit, roles) in STAFF.items():
            identity.create_user(u, username, full_name, "matkhau123", unit, roles)
        u.commit()
    with session_factory() as session:
        users = {user.username: user for user in session.scalars(select(User)).unique()}
        session.expunge_all()
    return users


@pytest.fixture
def procedure(publish: Publish, staff: dict[str, User]) -> ProcedureVersion:
    (files,) = (f for f in publishing.bundled_procedures(PROCESSES_DIR) if "dti_assessment.bpmn" in f)
    version, _created = publish(files)
    return version


def import_set(uow: Uow, services: Services, actor: User, year: int) -> int:
    with uow() as u:
        view = dti_index.import_index_set(u, services, actor, content=EXAMPLE.read_bytes(), file_name=EXAMPLE.name,
                                          name=f"Bộ chỉ số DTI năm {year} (mẫu)", year=year)
        return view.summary.id


def open_round(uow: Uow, services: Services, actor: User, set_id: int, units: list[str],
               days: int = 14, group: str = "so_nganh") -> int:
    with uow() as u:
        round_ = dti_rounds.open_round(u, services, actor, index_set_id=set_id,
                                       deadline=services.now() + timedelta(days=days),
                                       participants=[{"unit": c, "group": group} for c in units])
        return round_.id


def leaves(uow: Uow, services: Services, actor: User, round_id: int, unit: str) -> list[dti_sheet.Line]:
    with uow() as u:
        return [line for line in dti_sheet.sheet(u, services, actor, round_id, unit).lines if line.is_leaf]


def score_all(uow: Uow, services: Services, actor: User, round_id: int, unit: str,
              value: Callable[[dti_sheet.Line], Any] = lambda line: line.max_points / 100,
              evidence: bool = True) -> None:
    """Scores every leaf (full marks by default) and attaches one PDF where the index set asks for evidence."""
    for line in leaves(uow, services, actor, round_id, unit):
        with uow() as u:
            dti_scores.save_self_score(u, services, actor, round_id, unit, line.code, score=value(line),
                                      note=f"Tự chấm {line.code}")
        if evidence and line.evidence_text and value(line):
            with uow() as u:
                dti_evidence.upload(u, services, actor, round_id, unit, line.code,
                                    file_name=f"kiem-chung-{line.code}.pdf", content=pdf(f"Kiem chung {line.code}"))


def step(uow: Uow, services: Services, actor: User, round_id: int, unit: str, data: dict[str, Any]) -> dti_sheet.Sheet:
    with uow() as u:
        return dti_scores.complete_step(u, services, actor, round_id, unit, data)


def view(uow: Uow, services: Services, actor: User, round_id: int) -> dti_rounds.RoundView:
    with uow() as u:
        return dti_rounds.round_view(u, services, actor, round_id)


def phases(uow: Uow, services: Services, actor: User, round_id: int) -> dict[str, UnitPhase]:
    return {p.unit_code: p.phase for p in view(uow, services, actor, round_id).participants}


def round_step(uow: Uow, services: Services, actor: User, round_id: int, element: str, data: dict[str, Any]) -> None:
    current = view(uow, services, actor, round_id)
    assert current.task_element == element and current.task_id is not None
    with uow() as u:
        instances.complete_task(u, services, actor, current.task_id, data)


def expert(uow: Uow, services: Services, actor: User, round_id: int, unit: str, code: str, score: Any,
           reason: str = "") -> dti_scores.Saved:
    with uow() as u:
        return dti_scores.save_expert_score(u, services, actor, round_id, unit, code, score=score, reason=reason)


def publish_round(uow: Uow, services: Services, staff: dict[str, User], round_id: int, number: str) -> None:
    round_step(uow, services, staff["ld_sttt"], round_id, "Task_TongHop",
               {"so_to_trinh": "12/TTr-STTTT", "noi_dung_trinh": "Kết quả đánh giá, xếp hạng DTI."})
    round_step(uow, services, staff["ct_ubnd"], round_id, "Task_PheDuyet", {"quyet_dinh_phe_duyet": "phe_duyet"})
    round_step(uow, services, staff["cv_sttt"], round_id, "Task_CongBo",
               {"so_quyet_dinh": number, "ngay_quyet_dinh": services.now().date().isoformat()})


def quick_round(uow: Uow, services: Services, staff: dict[str, User], year: int,
                fractions: dict[str, float]) -> int:
    """A published round where each unit scores that share of every maximum and the experts agree."""
    round_id = open_round(uow, services, staff["cv_sttt"], import_set(uow, services, staff["cv_sttt"], year),
                          list(fractions))
    for unit, share in fractions.items():
        # Shares of 0, ½ and 1 are valid for every method (full/half/zero maxima are even).
        score_all(uow, services, staff[OFFICER[unit]], round_id, unit, lambda line, s=share: line.max_points * s / 100)
        step(uow, services, staff[OFFICER[unit]], round_id, unit, CONFIRM)
        step(uow, services, staff["cv_sttt"], round_id, unit, REVIEWED)
    publish_round(uow, services, staff, round_id, f"01/QĐ-UBND {year}")
    return round_id


# ---------------------------------------------------------------- the round


def test_a_round_from_opening_to_publication(uow: Uow, services: Services, clock: Clock, staff: dict[str, User],
                                             procedure: ProcedureVersion) -> None:
    previous = quick_round(uow, services, staff, 2025, {"so_tc": 0.5, "so_yt": 1.0, "so_xd": 1.0})
    set_id = import_set(uow, services, staff["cv_sttt"], 2026)
    round_id = open_round(uow, services, staff["cv_sttt"], set_id, SO)
    opened = view(uow, services, staff["cv_sttt"], round_id)
    assert (opened.state, opened.year, opened.evaluator_unit, opened.approver_unit) == (
        RoundState.ASSESSING, 2026, "sttt", "ubnd_tinh")
    assert {p.unit_code: p.phase for p in opened.participants} == dict.fromkeys(SO, UnitPhase.SELF)
    with uow() as u:
        assert u.session.get(DtiIndexSet, set_id).state == IndexSetState.OPEN.value
        tasks = u.session.scalars(select(HumanTask).where(HumanTask.instance_id == opened.instance_id,
                                                          HumanTask.status == TaskStatus.READY)).all()
        units = {c.id: c.code for c in u.session.scalars(select(Unit))}
        # One self-assessment per unit, given to that unit's officers (candidate group ${don_vi}:chuyen_vien).
        assert sorted(units[c.unit_id] for t in tasks for c in t.candidates if c.role == "chuyen_vien") == sorted(SO)
        assert {t.due_at for t in tasks} == {opened.deadline}
        # The index set is frozen once the round is open.
        with pytest.raises(Conflict):
            dti_index.edit_indicators(u, services, staff["cv_sttt"], set_id, {"1.1": {"name": "Khác"}})

    # A unit sees its own sheet only; the Sở sees every one.
    with uow() as u:
        own = dti_sheet.sheet(u, services, staff["cv_stc"], round_id, "so_tc")
        assert (own.leaves, own.max_total, own.may_edit_self, own.shows_expert) == (25, 10000, True, False)
        with pytest.raises(Forbidden):
            dti_sheet.sheet(u, services, staff["cv_stc"], round_id, "so_yt")
        assert dti_sheet.sheet(u, services, staff["cv_sttt"], round_id, "so_yt").may_edit_self is False
        assert [p.unit_code for p in dti_rounds.round_view(u, services, staff["cv_stc"], round_id).participants] == \
            ["so_tc"]

    # Submitting with nothing scored is refused with the count.
    with pytest.raises(InvalidData) as caught:
        step(uow, services, staff["cv_stc"], round_id, "so_tc", CONFIRM)
    assert caught.value.message.vi == ("Chưa nộp được báo cáo tự đánh giá: còn 25 chỉ số chưa chấm điểm "
                                       "(trên tổng số 25 chỉ số).")

    # Scores are limited by the maximum and the method; only leaves of the unit's group; only by the unit.
    refusals = [("1.1", 5, "tối đa là 4"), ("1.1", 3, "chỉ nhận 0, 2, 4 điểm"), ("1", 4, "có chỉ số con"),
                ("2.1.3", 1, "không áp dụng cho nhóm Sở, ban, ngành tỉnh"), ("1.2.1", "ba", "phải là một số")]
    for code, score, text in refusals:
        with uow() as u, pytest.raises(InvalidData) as caught:
            dti_scores.save_self_score(u, services, staff["cv_stc"], round_id, "so_tc", code, score=score)
        assert text in caught.value.message.vi
    with uow() as u, pytest.raises(Forbidden):
        dti_scores.save_self_score(u, services, staff["cv_syt"], round_id, "so_tc", "1.1", score=4)

    # so_tc scores everything without evidence: refused until the evidence is attached.
    score_all(uow, services, staff["cv_stc"], round_id, "so_tc", evidence=False)
    with pytest.raises(InvalidData) as caught:
        step(uow, services, staff["cv_stc"], round_id, "so_tc", CONFIRM)
    assert "22 chỉ số có điểm nhưng chưa có tài liệu kiểm chứng" in caught.value.message.vi
    assert [d.path for d in caught.value.details][:2] == ["1.1", "1.2.1"]
    score_all(uow, services, staff["cv_stc"], round_id, "so_tc")
    with uow() as u, pytest.raises(InvalidData, match=r"content|extension"):
        dti_evidence.upload(u, services, staff["cv_stc"], round_id, "so_tc", "1.1", file_name="kh.docx",
                            content=pdf())
    submitted = step(uow, services, staff["cv_stc"], round_id, "so_tc", CONFIRM)
    assert (submitted.phase, submitted.self_total, submitted.may_edit_self) == (UnitPhase.EXPERT, 10000, False)
    with uow() as u, pytest.raises(Conflict):
        dti_scores.save_self_score(u, services, staff["cv_stc"], round_id, "so_tc", "1.1", score=0)

    # The other two units.
    score_all(uow, services, staff["cv_syt"], round_id, "so_yt")
    step(uow, services, staff["cv_syt"], round_id, "so_yt", CONFIRM)
    score_all(uow, services, staff["cv_sxd"], round_id, "so_xd")
    step(uow, services, staff["cv_sxd"], round_id, "so_xd", CONFIRM)

    # Independent evaluation: an adjustment needs a reason; the unit does not see it before the step ends.
    with pytest.raises(InvalidData, match="reason"):
        expert(uow, services, staff["cv_sttt"], round_id, "so_tc", "1.1", 2)
    saved = expert(uow, services, staff["cv_sttt"], round_id, "so_tc", "1.1", 2,
                   "Kế hoạch ban hành sau quý I: đạt một nửa.")
    assert (saved.line.adjusted, saved.line.final_score, saved.final_total) == (True, 200, 9800)
    with uow() as u:
        hidden = {line.code: line for line in dti_sheet.sheet(u, services, staff["cv_stc"], round_id, "so_tc").lines}
        assert (hidden["1.1"].expert_score, hidden["1.1"].final_score) == (None, 400)
    step(uow, services, staff["cv_sttt"], round_id, "so_tc", REVIEWED)
    expert(uow, services, staff["cv_sttt"], round_id, "so_yt", "1.1", 4)  # confirmed: no reason needed
    step(uow, services, staff["cv_sttt"], round_id, "so_yt", REVIEWED)
    expert(uow, services, staff["cv_sttt"], round_id, "so_xd", "3.5", 6, "Mới số hóa 75% tài liệu.")
    step(uow, services, staff["cv_sttt"], round_id, "so_xd", REVIEWED)
    assert phases(uow, services, staff["cv_sttt"], round_id) == {
        "so_tc": UnitPhase.RESPONSE, "so_yt": UnitPhase.DONE, "so_xd": UnitPhase.RESPONSE}

    # The unit sees the adjustment with its reason and responds once.
    with uow() as u:
        seen = {line.code: line for line in dti_sheet.sheet(u, services, staff["cv_stc"], round_id, "so_tc").lines}
        assert (seen["1.1"].expert_score, seen["1.1"].expert_reason) == (
            200, "Kế hoạch ban hành sau quý I: đạt một nửa.")
        with pytest.raises(InvalidData):
            dti_scores.save_response(u, services, staff["cv_stc"], round_id, "so_tc", "1.2.1", text="Không đồng ý")
    with uow() as u:
        dti_scores.save_response(u, services, staff["cv_stc"], round_id, "so_tc", "1.1",
                                text="Kế hoạch ban hành ngày 28/3, trong quý I: đề nghị giữ 4 điểm.")
    with uow() as u:
        dti_evidence.upload(u, services, staff["cv_stc"], round_id, "so_tc", "1.1", file_name="ke-hoach-28-3.pdf",
                            content=pdf("Ke hoach 28/3"))
    with uow() as u, pytest.raises(Conflict):
        dti_scores.save_response(u, services, staff["cv_stc"], round_id, "so_tc", "1.1", text="Lần hai")
    step(uow, services, staff["cv_stc"], round_id, "so_tc", {"y_kien_chung": "Đề nghị xem lại chỉ số 1.1."})
    step(uow, services, staff["cv_sxd"], round_id, "so_xd", {})  # no response: agrees
    assert phases(uow, services, staff["cv_sttt"], round_id)["so_tc"] is UnitPhase.REVIEW
    expert(uow, services, staff["cv_sttt"], round_id, "so_tc", "1.1", 4, "Công nhận: kế hoạch ban hành trong quý I.")
    step(uow, services, staff["cv_sttt"], round_id, "so_tc", {"ket_luan_xem_xet": "Công nhận phản hồi."})
    assert view(uow, services, staff["cv_sttt"], round_id).state is RoundState.AGGREGATING

    # Ranking: so_tc and so_yt tie at 100 points (đồng hạng), so_xd is third; before publication only the
    # Sở and the chairman see it.
    with uow() as u:
        with pytest.raises(Forbidden):
            dti_ranking.ranking(u, services, staff["cv_stc"], round_id)
        ranked = dti_ranking.ranking(u, services, staff["ct_ubnd"], round_id)
    (group,) = ranked.groups
    assert [(r.unit_code, r.total, r.rank, r.tied) for r in group.units] == [
        ("so_tc", 10000, 1, True), ("so_yt", 10000, 1, True), ("so_xd", 9800, 3, False)]
    assert ranked.previous_year == 2025
    by_unit = {r.unit_code: r.previous for r in group.units}
    assert by_unit["so_tc"] is not None and (by_unit["so_tc"].rank, by_unit["so_tc"].rank_change) == (3, 2)
    assert by_unit["so_xd"] is not None and (by_unit["so_xd"].rank_change, by_unit["so_xd"].total_change) == (-2, -200)

    # While aggregating, a unit's report is a draft listing its adjustments with their reasons.
    with uow() as u:
        draft = docx_text(dti_report.unit_report(u, services, staff["cv_sttt"], round_id, "so_xd")[0])
    assert "(Dự thảo — kết quả chưa được công bố)" in draft and "thứ 3/3" in draft
    assert "Chỉ số 3.5 (Số hóa hồ sơ, tài liệu lưu trữ của cơ quan): từ 8 thành 6 điểm. Lý do: Mới số hóa 75% tài " \
           "liệu." in draft

    # The chairman sends the report back with a comment; the Sở corrects a score (with a reason) and submits again.
    round_step(uow, services, staff["ld_sttt"], round_id, "Task_TongHop",
               {"so_to_trinh": "25/TTr-STTTT", "noi_dung_trinh": "Trình kết quả DTI năm 2026."})
    with uow() as u, pytest.raises(Conflict):
        dti_scores.save_expert_score(u, services, staff["cv_sttt"], round_id, "so_xd", "3.5", score=8, reason="x")
    with pytest.raises(InvalidData):
        round_step(uow, services, staff["ct_ubnd"], round_id, "Task_PheDuyet", {"quyet_dinh_phe_duyet": "tra_lai"})
    round_step(uow, services, staff["ct_ubnd"], round_id, "Task_PheDuyet",
               {"quyet_dinh_phe_duyet": "tra_lai", "y_kien_phe_duyet": "Xem lại điểm số hóa của Sở Xây dựng."})
    assert view(uow, services, staff["cv_sttt"], round_id).state is RoundState.AGGREGATING
    expert(uow, services, staff["cv_sttt"], round_id, "so_xd", "3.5", 8, "Bổ sung: đã số hóa toàn bộ tài liệu.")
    publish_round(uow, services, staff, round_id, "1234/QĐ-UBND")
    published = view(uow, services, staff["cv_stc"], round_id)
    assert (published.state, published.decision_number) == (RoundState.PUBLISHED, "1234/QĐ-UBND")
    assert published.approved_at is not None and published.published_at is not None
    with uow() as u:
        assert u.session.get(DtiIndexSet, set_id).state == IndexSetState.CLOSED.value
        # Published: the ranking and the sheets are public to signed-in users; the evidence is not.
        final = dti_ranking.ranking(u, services, staff["cv_stc"], round_id)
        assert [(r.unit_code, r.rank) for r in final.groups[0].units] == [("so_tc", 1), ("so_xd", 1), ("so_yt", 1)]
        assert dti_sheet.sheet(u, services, staff["cv_stc"], round_id, "so_yt").final_total == 10000
        with pytest.raises(Forbidden):
            dti_evidence.listing(u, services, staff["cv_stc"], round_id, "so_yt")
        with pytest.raises(Conflict):
            dti_scores.save_expert_score(u, services, staff["cv_sttt"], round_id, "so_tc", "1.1", score=0, reason="x")

    # Every change of so_tc's 1.1 is traceable to a person and a reason.
    with uow() as u:
        changes = dti_scores.history(u, services, staff["cv_stc"], round_id, "so_tc", "1.1")
    scored = [c for c in changes if c.kind is not ChangeKind.EVIDENCE_ADDED]
    assert [(c.kind, c.old_value, c.new_value, c.actor) for c in scored] == [
        (ChangeKind.SELF, None, 400, "Trần Thị Bình"),
        (ChangeKind.EXPERT, None, 200, "Lê Văn Cường"),
        (ChangeKind.RESPONSE, None, None, "Trần Thị Bình"),
        (ChangeKind.EXPERT, 200, 400, "Lê Văn Cường")]
    assert changes[-1].text == "Công nhận: kế hoạch ban hành trong quý I."
    assert sum(c.kind is ChangeKind.EVIDENCE_ADDED for c in changes) == 2

    # Outputs: the unit's report (DOCX) and the ranking (Excel).
    with uow() as u:
        content, name = dti_report.unit_report(u, services, staff["cv_stc"], round_id, "so_tc")
        book, book_name = dti_ranking.ranking_workbook(u, services, staff["cv_stc"], round_id)
    text = docx_text(content)
    assert name == "bao-cao-dti-2026-so-tai-chinh.docx" and "BÁO CÁO" in text
    assert "Kết quả đánh giá chỉ số chuyển đổi số năm 2026 của Sở Tài chính" in text
    assert "Tổng điểm đạt: 100/100 điểm (100%)" in text and "thứ 1/3" in text and "(đồng hạng)" in text
    assert "So với năm 2025: tổng điểm 50 điểm, xếp hạng thứ 3 (tăng 2 bậc)" in text
    assert "Dự thảo" not in text and "được điều chỉnh điểm: 0" in text
    sheet = openpyxl.load_workbook(io.BytesIO(book)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert book_name == "xep-hang-dti-2026.xlsx" and values[0][0] == "XẾP HẠNG CHỈ SỐ CHUYỂN ĐỔI SỐ NĂM 2026"
    header = values.index(next(r for r in values if r[0] == "Nhóm xếp hạng"))
    rows = values[header + 2:header + 5]  # a two-row header (the comparison's band)
    assert [(r[1], r[2], r[3], r[7]) for r in rows] == [
        (1, "Sở Tài chính", 100, "Đồng hạng"), (1, "Sở Xây dựng", 100, "Đồng hạng"), (1, "Sở Y tế", 100, "Đồng hạng")]
    assert previous != round_id


def test_competition_ranks_skip_after_a_tie() -> None:
    assert dti_ranking.competition_ranks([90, 80, 80, 70, 70, 70, 10]) == [
        (1, False), (2, True), (2, True), (4, True), (4, True), (4, True), (7, False)]


# ---------------------------------------------------------------- deadline, cancelling, starting


def test_the_deadline_closes_an_unsubmitted_self_assessment(
        uow: Uow, services: Services, clock: Clock, staff: dict[str, User], procedure: ProcedureVersion) -> None:
    set_id = import_set(uow, services, staff["cv_sttt"], 2026)
    round_id = open_round(uow, services, staff["cv_sttt"], set_id, ["so_tc", "so_yt"], days=3)
    score_all(uow, services, staff["cv_syt"], round_id, "so_yt", evidence=False,
              value=lambda line: 0 if line.code != "1.2.1" else 1.5)
    clock.advance(days=4)
    assert worker.run_once(uow, services, owner="worker-test") == 0
    now = phases(uow, services, staff["cv_sttt"], round_id)
    assert now == {"so_tc": UnitPhase.EXPERT, "so_yt": UnitPhase.EXPERT}
    current = view(uow, services, staff["cv_sttt"], round_id)
    assert all(p.late and p.submitted_at is None for p in current.participants)
    with uow() as u:
        late = dti_sheet.sheet(u, services, staff["cv_syt"], round_id, "so_yt")
        assert (late.self_total, late.late, late.may_edit_self) == (150, True, False)
        with pytest.raises(Conflict):
            dti_scores.save_self_score(u, services, staff["cv_syt"], round_id, "so_yt", "1.1", score=4)


def test_cancelling_the_instance_cancels_the_round_and_frees_the_set(
        uow: Uow, services: Services, staff: dict[str, User], procedure: ProcedureVersion) -> None:
    set_id = import_set(uow, services, staff["cv_sttt"], 2026)
    round_id = open_round(uow, services, staff["cv_sttt"], set_id, ["ubnd_caolanh"], group="huyen")
    with uow() as u:
        sheet = dti_sheet.sheet(u, services, staff["cv_huyen"], round_id, "ubnd_caolanh")
        assert (sheet.leaves, sheet.max_total) == (26, 10000)  # the huyện items, not the sở ones
        instances.cancel(u, services, staff["cv_sttt"], view(uow, services, staff["cv_sttt"], round_id).instance_id)
    assert view(uow, services, staff["cv_sttt"], round_id).state is RoundState.CANCELLED
    with uow() as u:
        assert u.session.get(DtiIndexSet, set_id).state == IndexSetState.DRAFT.value
        with pytest.raises(Conflict):
            dti_scores.save_self_score(u, services, staff["cv_huyen"], round_id, "ubnd_caolanh", "1.1", score=4)


def test_a_round_is_only_opened_by_its_own_use_case(uow: Uow, services: Services, staff: dict[str, User],
                                                    procedure: ProcedureVersion) -> None:
    with uow() as u:
        with pytest.raises(InvalidData, match="own function"):
            instances.start(u, services, staff["cv_sttt"], "dti_assessment")
        assert "dti_assessment" not in [v.process_id for v in queries.catalogue(u)]
    set_id = import_set(uow, services, staff["cv_sttt"], 2026)
    with uow() as u, pytest.raises(InvalidData) as caught:
        dti_rounds.open_round(u, services, staff["cv_sttt"], index_set_id=set_id, deadline="2020-01-01",
                              participants=[{"unit": "khong_co", "group": "so_nganh"},
                                            {"unit": "so_tc", "group": "doanh_nghiep"},
                                            {"unit": "so_yt", "group": "xa"}])
    assert [d.path for d in caught.value.details] == ["deadline", "participants.0.unit", "participants.1.group",
                                                     "participants.2.group"]
    with uow() as u, pytest.raises(Forbidden):
        dti_rounds.open_round(u, services, staff["cv_stc"], index_set_id=set_id, deadline="2030-01-01",
                              participants=[{"unit": "so_tc", "group": "so_nganh"}])
    with uow() as u:
        assert u.session.get(DtiIndexSet, set_id).state == IndexSetState.DRAFT.value
        assert u.session.scalar(select(TaskCandidate.id)) is None


# ---------------------------------------------------------------- candidate groups read from a variable


def test_candidate_groups_take_the_unit_from_a_variable_and_never_open_to_everyone() -> None:
    groups = runtime._groups  # the one place `${name}:ROLE` is resolved
    assert groups("${don_vi}:chuyen_vien, sttt:lanh_dao", {"don_vi": "so_tc"}) == ("so_tc:chuyen_vien",
                                                                                   "sttt:lanh_dao")
    # No unit code in the variable: the group stays as written, a unit nobody has (never `:chuyen_vien`).
    for data in ({}, {"don_vi": ""}, {"don_vi": 7}, {"don_vi": "a:b"}):
        assert groups("${don_vi}:chuyen_vien", data) == ("${don_vi}:chuyen_vien",)


def test_publishing_refuses_an_expression_as_a_groups_unit() -> None:
    (files,) = (f for f in publishing.bundled_procedures(PROCESSES_DIR) if "dti_assessment.bpmn" in f)
    xml = files["dti_assessment.bpmn"].replace(b"${don_vi}:chuyen_vien", b"${don_vi.ma}:chuyen_vien", 1)
    checked = publishing.check({"dti_assessment.bpmn": xml}, FORMS_DIR, KNOWN_TOPICS, 1 << 20, TEMPLATES_DIR)
    assert [p.element_id for p in checked.problems] == ["Task_TuDanhGia"]
    assert "${tên_biến}:vai_trò" in checked.problems[0].message.vi
    clean = publishing.check(files, FORMS_DIR, KNOWN_TOPICS, 1 << 20, TEMPLATES_DIR)
    assert clean.problems == []


# ---------------------------------------------------------------- review fixes: digits, another unit's sheet


@pytest.mark.parametrize("typed", ["99999.999999999999999999999999", "1.00000000000000000000000000001",
                                   "2.0000000000000000000000000000049", "0.001"])
def test_points_refuse_a_third_decimal_however_far_it_is(typed: str) -> None:
    # Decimal arithmetic keeps 28 digits: the hundredths of these used to round to a whole number (and the
    # first to 100 000 points, above what it was typed as).
    with pytest.raises(PointsError, match="hai chữ số thập phân"):
        points(typed)
    assert [points(v) for v in ("2.500", "0E-10", "1E+2", "100000.00", "12,34")] == [250, 0, 10000, 10000000, 1234]


def test_another_unit_learns_nothing_of_a_sheet_from_the_changes_it_tries(
        uow: Uow, services: Services, staff: dict[str, User], procedure: ProcedureVersion) -> None:
    """Unit so_yt's officer aims every change at so_tc's sheet: 403 each time, never a 404 or 409 telling
    so_tc's phase, its indicators or its evidence ids; and nothing changes."""
    round_id = open_round(uow, services, staff["cv_sttt"], import_set(uow, services, staff["cv_sttt"], 2026),
                          ["so_tc", "so_yt"])
    score_all(uow, services, staff["cv_stc"], round_id, "so_tc")
    with uow() as u:
        (kept,) = dti_evidence.listing(u, services, staff["cv_stc"], round_id, "so_tc")[:1]
    step(uow, services, staff["cv_stc"], round_id, "so_tc", CONFIRM)  # so_tc is now evaluated
    outsider = staff["cv_syt"]
    attempts: list[Callable[[UnitOfWork], object]] = [
        lambda u: dti_scores.save_self_score(u, services, outsider, round_id, "so_tc", "1.1", score=0),
        lambda u: dti_scores.save_self_score(u, services, outsider, round_id, "so_tc", "khong-co", score=0),
        lambda u: dti_scores.save_expert_score(u, services, outsider, round_id, "so_tc", "1.1", score=0,
                                               reason="x"),
        lambda u: dti_scores.save_response(u, services, outsider, round_id, "so_tc", "1.1", text="x"),
        lambda u: dti_scores.history(u, services, outsider, round_id, "so_tc", "khong-co"),
        lambda u: dti_scores.complete_step(u, services, outsider, round_id, "so_tc", REVIEWED),
        lambda u: dti_evidence.remove(u, services, outsider, round_id, "so_tc", kept.id),
        lambda u: dti_evidence.remove(u, services, outsider, round_id, "so_tc", kept.id + 1000),
        lambda u: dti_evidence.upload(u, services, outsider, round_id, "so_tc", "1.1", file_name="a.pdf",
                                      content=pdf("x")),
    ]
    for attempt in attempts:
        with uow() as u, pytest.raises(Forbidden):
            attempt(u)
    # The unit itself still hears why (its own phase): the self-assessment is submitted.
    with uow() as u, pytest.raises(Conflict):
        dti_scores.save_self_score(u, services, staff["cv_stc"], round_id, "so_tc", "1.1", score=0)
    with uow() as u:
        assert [f.id for f in dti_evidence.listing(u, services, staff["cv_sttt"], round_id, "so_tc")][:1] == [kept.id]
    assert phases(uow, services, staff["cv_sttt"], round_id)["so_tc"] is UnitPhase.EXPERT
