"""The project_software_account procedure (810/QĐ-UBND-HC, thủ tục 2) driven through the engine's use
cases and the worker, with the HTTP project-software client pointed at a local peer that checks the
contract (tests/engine/project_software_server.py) and the `local` mail directory."""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import worker
from engine.adapters.base import AdapterError
from engine.adapters.project_software import HttpProjectSoftware
from engine.adapters.registry import build_registry
from engine.domain.enums import IncidentStatus, InstanceStatus
from engine.domain.errors import Forbidden, InvalidData
from engine.forms import excel
from engine.forms.files import FileValue
from engine.persistence.models import AuditEvent, Document, Incident, MailAccount, ProcedureVersion, User
from engine.persistence.uow import UnitOfWork
from engine.services import attachments, instances, list_import, queries
from engine.services.calendar import override_loader
from engine.services.context import Services
from engine.settings import Settings
from tests.engine.attachment_files import pdf
from tests.engine.conftest import Clock, Publish, add_people, bundled
from tests.engine.docx_files import docx_text
from tests.engine.project_software_server import ProjectSoftwarePeer
from tests.engine.test_instances import (
    assert_save_restore_round_trips,
    complete,
    count,
    instance_row,
    ready_tasks,
    refused,
    the_ready_task,
    vn,
)

Uow = Callable[[], UnitOfWork]
PROCESS = "project_software_account"

ROWS = [
    {"email": "an.nv@dongthap.gov.vn", "ho_ten": "Nguyễn Văn An", "dien_thoai": "0277 3851 234",
     "chuc_vu": "Chuyên viên", "phong_ban": "Phòng Kế hoạch – Tổng hợp", "thao_tac": "cap_moi"},
    {"email": "Hoa.PT@DongThap.gov.vn", "ho_ten": "Phạm Thị Hoa", "dien_thoai": "",
     "chuc_vu": "Phó Trưởng phòng", "phong_ban": "Phòng Quản lý dự án", "thao_tac": "cap_moi"},
]
EMAILS = ["an.nv@dongthap.gov.vn", "hoa.pt@dongthap.gov.vn"]
REQUEST = {
    "kenh_nop": "idesk", "so_cong_van": "125/STC-VP", "ngay_cong_van": "2026-11-20",
    "nguoi_ky_de_nghi": "Nguyễn Văn Giám", "chuc_vu_nguoi_ky_de_nghi": "Giám đốc",
    "noi_dung_de_nghi": "Căn cứ kế hoạch phân công thực hiện dự án, đề nghị cấp tài khoản cho hai công chức.",
    "danh_sach": ROWS,
}
#: The scanned dossier's file field (Biểu 2.1 and the request letter, signed and stamped).
SCAN_FIELD = "Field_HoSoDinhKem"
SCAN_NAME = "Công văn 125-STC-VP và Biểu 2.1.pdf"
RECEPTION = {"so_ho_so_mot_cua": "000.00.12.H18-261126-0007", "ngay_tiep_nhan": "2026-11-26", "da_scan_luu": True}
VALID = {"ket_qua_kiem_tra": "hop_le", "y_kien_kiem_tra": "Hồ sơ đầy đủ, email đã có trên hệ thống; đề nghị cấp."}
AGREE_CENTRE = {"duyet_trung_tam": "dong_y", "y_kien_trung_tam": ""}
AGREE_DEPARTMENT = {"duyet_so": "dong_y", "y_kien_so": ""}
SIGNER = {"quyen_han_ky": "KT. GIÁM ĐỐC", "chuc_vu_ky": "PHÓ GIÁM ĐỐC", "nguoi_ky": "Nguyễn Quốc Hùng"}
STAFF = {  # username: (full name, unit, roles), besides the engine fixtures' people
    "vt_sttt": ("Phạm Thị Hạnh", "sttt", ["van_thu"]),
    "ld_sttt": ("Nguyễn Quốc Hùng", "sttt", ["lanh_dao"]),
    "ld_ttcds": ("Trương Văn Khoa", "ttcds", ["lanh_dao"]),
    "cv_ttcds": ("Ngô Thị Mai", "ttcds", ["chuyen_vien"]),
    "cv_ttcds2": ("Đỗ Minh Tuấn", "ttcds", ["chuyen_vien"]),
}


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def pauses() -> list[float]:
    """The pauses the HTTP client took between its own tries (recorded instead of slept)."""
    return []


@pytest.fixture
def services(settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
             peer: ProjectSoftwarePeer, pauses: list[float]) -> Services:
    """The installation's adapters, with the project software at the local peer."""
    registry = build_registry(settings, session_factory, clock)
    client = HttpProjectSoftware(peer.url, peer.token, timeout=5, sleep=pauses.append)
    registry.operations["project_software.apply"] = client.apply
    return Services(settings, registry, clock=clock, calendar_overrides=override_loader(session_factory))


@pytest.fixture
def staff(uow: Uow, session_factory: sessionmaker[Session], people: dict[str, User]) -> dict[str, User]:
    """Everyone who acts in the procedure: the requesting unit, reception, TTCĐS and the Sở's leader."""
    users = add_people(uow, session_factory, STAFF, {"ttcds": "Trung tâm Chuyển đổi số"})
    with uow() as u:
        for address in EMAILS:  # the people's official mailboxes already exist
            u.add(MailAccount(address=address, display_name=address))
        u.commit()
    return users


@pytest.fixture
def procedure(publish: Publish, staff: dict[str, User]) -> ProcedureVersion:
    return bundled(publish, PROCESS)


# ---------------------------------------------------------------- helpers


def attach(uow: Uow, services: Services, actor: User, task_id: int, name: str = SCAN_NAME,
           text: str = "Cong van 125/STC-VP va Bieu 2.1") -> FileValue:
    """Uploads a scanned PDF into the task's dossier field, as the form's file picker does."""
    with uow() as u:
        return attachments.upload(u, services, actor, task_id, field_id=SCAN_FIELD, key="", file_name=name,
                                  content=pdf(text))


def with_scan(uow: Uow, services: Services, actor: User, task_id: int,
              request: dict[str, Any] = REQUEST) -> dict[str, Any]:
    """The request as submitted, with the scanned dossier uploaded and attached."""
    return {**request, "ho_so_dinh_kem": [attach(uow, services, actor, task_id)]}


def filed(uow: Uow, instance_id: int) -> list[tuple[str, str, str]]:
    """The dossier's files as the instance page lists them: name, step, uploader."""
    with uow() as u:
        return [(f.name, f.step, f.uploaded_by) for f in attachments.filed_in(u, instance_id)]


def opening(uow: Uow, services: Services, task_id: int) -> dict[str, Any]:
    with uow() as u:
        return instances.task_data(u, services, instances.get_task(u, task_id))


def history(uow: Uow, instance_id: int, action: str) -> list[str]:
    with uow() as u:
        return list(u.session.scalars(select(AuditEvent.summary).where(
            AuditEvent.instance_id == instance_id, AuditEvent.action == action).order_by(AuditEvent.id)))


def start(uow: Uow, services: Services, staff: dict[str, User], request: dict[str, Any] = REQUEST) -> int:
    """A dossier submitted by Sở Tài chính and received by the Sở's văn thư: waiting for assignment."""
    with uow() as u:
        instance_id = instances.start(u, services, staff["cv_stc"], PROCESS).id
    submit = the_ready_task(uow, instance_id, "Task_NopHoSo").id
    complete(uow, services, staff["cv_stc"], submit, with_scan(uow, services, staff["cv_stc"], submit, request))
    complete(uow, services, staff["vt_sttt"], the_ready_task(uow, instance_id, "Task_TiepNhan").id, RECEPTION)
    return instance_id


def to_review(uow: Uow, services: Services, staff: dict[str, User], **request: Any) -> int:
    instance_id = start(uow, services, staff, {**REQUEST, **request})
    complete(uow, services, staff["ld_ttcds"], the_ready_task(uow, instance_id, "Task_PhanCong").id,
             {"chuyen_vien_xu_ly": "cv_ttcds", "y_kien_phan_cong": "Đề nghị xử lý trong ngày."})
    return instance_id


def approve(uow: Uow, services: Services, staff: dict[str, User], instance_id: int) -> None:
    """The assigned expert finds the dossier valid and both leaders agree."""
    complete(uow, services, staff["cv_ttcds"], the_ready_task(uow, instance_id, "Task_KiemTraHoSo").id, VALID)
    complete(uow, services, staff["ld_ttcds"], the_ready_task(uow, instance_id, "Task_DuyetTrungTam").id,
             AGREE_CENTRE)
    complete(uow, services, staff["ld_sttt"], the_ready_task(uow, instance_id, "Task_DuyetSo").id,
             AGREE_DEPARTMENT)


def documents(uow: Uow, instance_id: int) -> list[tuple[str, str, str]]:
    with uow() as u:
        return [(d.reference, d.doc_type, docx_text(d.docx)) for d in u.session.scalars(
            select(Document).where(Document.instance_id == instance_id).order_by(Document.id))]


# ---------------------------------------------------------------- the happy path


def test_request_to_notice_letter_with_the_users_created_in_the_project_software(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, peer, clock) -> None:
    requester = staff["cv_stc"]
    with uow() as u:
        instance_id = instances.start(u, services, requester, PROCESS).id
    assert instance_row(uow, instance_id).due_at == vn(2026, 12, 1, 17)  # Thu 09:00 + 3 working days
    submit = the_ready_task(uow, instance_id, "Task_NopHoSo")
    assert [(c.unit_id, c.role) for c in submit.candidates] == [(requester.unit_id, "chuyen_vien")]
    # The scanned letter and Biểu 2.1 must be attached: without them the submission is refused.
    assert refused(uow, services, requester, submit.id, REQUEST) == {"ho_so_dinh_kem": "Trường này là bắt buộc."}
    scan = attach(uow, services, requester, submit.id)
    assert (scan["name"], scan["type"]) == (SCAN_NAME, "application/pdf")
    assert filed(uow, instance_id) == []  # a draft's file is not yet part of the dossier
    complete(uow, services, requester, submit.id, {**REQUEST, "ho_so_dinh_kem": [scan]})
    assert filed(uow, instance_id) == [(SCAN_NAME, "Nộp hồ sơ", requester.full_name)]

    reception = the_ready_task(uow, instance_id, "Task_TiepNhan")
    assert opening(uow, services, reception.id)["ho_so_dinh_kem"] == [scan]  # to check against the original
    assert [(c.unit_id, c.role) for c in reception.candidates] == [(staff["vt_sttt"].unit_id, "van_thu")]
    assert reception.due_at == vn(2026, 11, 26, 15)  # half a working day, across the lunch break
    complete(uow, services, staff["vt_sttt"], reception.id, RECEPTION)

    # The centre's leader picks one of the centre's experts, and only one of them.
    assign = the_ready_task(uow, instance_id, "Task_PhanCong")
    assert [(c.unit_id, c.role) for c in assign.candidates] == [(staff["ld_ttcds"].unit_id, "lanh_dao")]
    choices = opening(uow, services, assign.id)["ds_chuyen_vien_ttcds"]
    assert sorted((c["value"], c["label"]) for c in choices) == [("cv_ttcds", "Ngô Thị Mai"),
                                                                 ("cv_ttcds2", "Đỗ Minh Tuấn")]
    errors = refused(uow, services, staff["ld_ttcds"], assign.id, {"chuyen_vien_xu_ly": "cv_sttt"})
    assert set(errors) == {"chuyen_vien_xu_ly"}  # an expert of the Sở, not of the centre
    complete(uow, services, staff["ld_ttcds"], assign.id, {"chuyen_vien_xu_ly": "cv_ttcds"})
    assert "ds_chuyen_vien_ttcds" not in instance_row(uow, instance_id).state_json  # never stored

    review = the_ready_task(uow, instance_id, "Task_KiemTraHoSo")
    assert review.assignee_id == staff["cv_ttcds"].id
    assert history(uow, instance_id, "assign") == ["Giao “Kiểm tra hồ sơ” cho Ngô Thị Mai (cv_ttcds)"]
    with uow() as u:
        assert [t.id for t in queries.tasks_for(u, staff["cv_ttcds"])] == [review.id]
        assert queries.tasks_for(u, staff["cv_ttcds2"]) == []
    with pytest.raises(Forbidden):
        complete(uow, services, staff["cv_ttcds2"], review.id, VALID)
    shown = opening(uow, services, review.id)
    assert shown["ho_so_dinh_kem"] == [scan]  # the expert sees the scan the unit attached
    rows = shown["rows"]
    assert [(r["stt"], r["email"], r["thao_tac_ten"]) for r in rows] == [
        (1, "an.nv@dongthap.gov.vn", "Cấp mới"), (2, "hoa.pt@dongthap.gov.vn", "Cấp mới")]
    assert refused(uow, services, staff["cv_ttcds"], review.id, {"ket_qua_kiem_tra": "hop_le"}) == {
        "y_kien_kiem_tra": "Trường này là bắt buộc."}
    assert_save_restore_round_trips(uow, services, instance_id)
    complete(uow, services, staff["cv_ttcds"], review.id, VALID)

    complete(uow, services, staff["ld_ttcds"], the_ready_task(uow, instance_id, "Task_DuyetTrungTam").id,
             AGREE_CENTRE)
    department = the_ready_task(uow, instance_id, "Task_DuyetSo")
    assert [(c.unit_id, c.role) for c in department.candidates] == [(staff["ld_sttt"].unit_id, "lanh_dao")]
    complete(uow, services, staff["ld_sttt"], department.id, AGREE_DEPARTMENT)
    assert peer.requests == []  # nothing is sent before both approvals

    assert worker.run_once(uow, services, owner="worker-test") == 2  # one call per Biểu 2.1 row
    assert sorted(peer.users) == EMAILS
    assert peer.users["an.nv@dongthap.gov.vn"] | {"id": 0} == {
        "id": 0, "email": "an.nv@dongthap.gov.vn", "full_name": "Nguyễn Văn An", "phone": "0277 3851 234",
        "title": "Chuyên viên", "department": "Phòng Kế hoạch – Tổng hợp"}

    record = the_ready_task(uow, instance_id, "Task_VaoSo")
    draft = opening(uow, services, record.id)
    assert [(r["email"], r["ket_qua"]) for r in draft["rows"]] == [(e, "Đã cấp mới tài khoản") for e in EMAILS]
    assert draft["noi_dung"].startswith("Thực hiện đề nghị tại Công văn số 125/STC-VP ngày 20/11/2026 ")
    complete(uow, services, staff["vt_sttt"], record.id, {
        "so_theo_doi": "TD-2026/0415", "da_cap_nhat_mot_cua": True, "kinh_gui": "Sở Tài chính",
        "noi_dung": draft["noi_dung"], "ket_luan": draft["ket_luan"], **SIGNER, "noi_nhan": ""})
    assert worker.run_once(uow, services, owner="worker-test") == 1

    done = instance_row(uow, instance_id)
    assert (done.status, done.sla_outcome) == (InstanceStatus.COMPLETED, "truoc_han")
    ((reference, doc_type, text),) = documents(uow, instance_id)
    assert (reference, doc_type) == ("01/TB-STTTT", "TB")
    assert "Số: 01/TB-STTTT" in text and "Công văn số 125/STC-VP ngày 20/11/2026" in text
    for row, email in zip(ROWS, EMAILS, strict=True):
        assert row["ho_ten"] in text and email in text
    assert "Đã cấp mới tài khoản" in text and "liên kết dùng một lần" in text
    assert "Nguyễn Quốc Hùng" in text and "Lưu: VT, STTTT." in text
    assert history(uow, instance_id, "service_call")[-1] == (
        "Phát hành văn bản thông báo: Đã phát hành văn bản số 01/TB-STTTT")


# ---------------------------------------------------------------- branches


def test_supplement_request_pauses_the_clock_and_returns_to_the_same_expert(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, clock) -> None:
    instance_id = to_review(uow, services, staff)
    review = the_ready_task(uow, instance_id, "Task_KiemTraHoSo")
    assert refused(uow, services, staff["cv_ttcds"], review.id, {"ket_qua_kiem_tra": "bo_sung"}) == {
        "noi_dung_bo_sung": "Trường này là bắt buộc."}
    complete(uow, services, staff["cv_ttcds"], review.id,
             {"ket_qua_kiem_tra": "bo_sung", "noi_dung_bo_sung": "Bổ sung số điện thoại của bà Phạm Thị Hoa."})

    supplement = the_ready_task(uow, instance_id, "Task_BoSungHoSo")
    assert [(c.unit_id, c.role) for c in supplement.candidates] == [(staff["cv_stc"].unit_id, "chuyen_vien")]
    paused = instance_row(uow, instance_id)
    assert (paused.paused_at, paused.due_at) == (clock.now, vn(2026, 12, 1, 17))
    shown = opening(uow, services, supplement.id)
    assert shown["noi_dung_bo_sung"] == "Bổ sung số điện thoại của bà Phạm Thị Hoa."

    clock.now = vn(2026, 11, 27, 9)  # Friday 09:00: one working day later
    fixed = [ROWS[0], {**ROWS[1], "dien_thoai": "0918 123 456"}]
    (first_scan,) = shown["ho_so_dinh_kem"]  # the files of the first submission are kept
    assert refused(uow, services, staff["cv_stc"], supplement.id, {"danh_sach": fixed}) == {
        "giai_trinh_bo_sung": "Trường này là bắt buộc.", "ho_so_dinh_kem": "Trường này là bắt buộc."}
    page = attach(uow, services, staff["cv_stc"], supplement.id, "Biểu 2.1 bổ sung.pdf", "Bieu 2.1 bo sung")
    complete(uow, services, staff["cv_stc"], supplement.id,
             {"danh_sach": fixed, "giai_trinh_bo_sung": "Đã bổ sung số điện thoại.",
              "ho_so_dinh_kem": [first_scan, page]})

    resumed = instance_row(uow, instance_id)
    assert (resumed.paused_at, resumed.due_at) == (None, vn(2026, 12, 2, 17))  # moved by the working day paused
    assert history(uow, instance_id, "clock_resume")
    again = the_ready_task(uow, instance_id, "Task_KiemTraHoSo")
    assert again.assignee_id == staff["cv_ttcds"].id
    data = opening(uow, services, again.id)
    assert data["ket_qua_kiem_tra"] is None  # the expert decides afresh
    assert data["giai_trinh_bo_sung"] == "Đã bổ sung số điện thoại."
    assert [r["dien_thoai"] for r in data["rows"]] == ["0277 3851 234", "0918 123 456"]
    assert [f["name"] for f in data["ho_so_dinh_kem"]] == [SCAN_NAME, "Biểu 2.1 bổ sung.pdf"]
    assert filed(uow, instance_id) == [(SCAN_NAME, "Nộp hồ sơ", staff["cv_stc"].full_name),
                                       ("Biểu 2.1 bổ sung.pdf", "Bổ sung hồ sơ", staff["cv_stc"].full_name)]
    assert_save_restore_round_trips(uow, services, instance_id)


def test_refusal_needs_a_reason_issues_a_letter_and_creates_no_user(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, peer) -> None:
    instance_id = to_review(uow, services, staff)
    review = the_ready_task(uow, instance_id, "Task_KiemTraHoSo")
    errors = refused(uow, services, staff["cv_ttcds"], review.id, {"ket_qua_kiem_tra": "tu_choi"})
    assert set(errors) == {"ly_do_tu_choi", "chuc_vu_ky", "nguoi_ky"}
    complete(uow, services, staff["cv_ttcds"], review.id, {
        "ket_qua_kiem_tra": "tu_choi", **SIGNER,
        "ly_do_tu_choi": "- Đơn vị không thuộc đối tượng áp dụng Quyết định 561/QĐ-UBND-HC.\n- Công văn chưa ký."})
    assert ready_tasks(uow, instance_id) == []
    assert worker.run_once(uow, services, owner="worker-test") == 1

    done = instance_row(uow, instance_id)
    assert done.status == InstanceStatus.COMPLETED
    ((reference, doc_type, text),) = documents(uow, instance_id)
    assert (reference, doc_type) == ("01/STTTT-TTCĐS", "CV")
    assert "V/v từ chối giải quyết hồ sơ" in text and "Công văn số 125/STC-VP ngày 20/11/2026" in text
    assert "- Đơn vị không thuộc đối tượng áp dụng Quyết định 561/QĐ-UBND-HC;" in text
    assert "- Công văn chưa ký." in text and "Kính gửi: Sở Tài chính." in text
    completed, _active = services.runtime.element_states(services.runtime.restore(
        done.version.spec_json, done.state_json))
    assert "EndEvent_TuChoi" in completed and "Task_CapTaiKhoan" not in completed
    assert peer.requests == [] and peer.users == {}


@pytest.mark.parametrize(("sender", "task", "decision", "comment", "said"), [
    ("ld_ttcds", "Task_DuyetTrungTam", "duyet_trung_tam", "y_kien_trung_tam", "Lãnh đạo Trung tâm trả lại: "),
    ("ld_sttt", "Task_DuyetSo", "duyet_so", "y_kien_so", "Lãnh đạo Sở trả lại: "),
])
def test_a_leader_sends_it_back_with_a_required_comment(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, peer, sender, task, decision, comment, said) -> None:
    instance_id = to_review(uow, services, staff)
    complete(uow, services, staff["cv_ttcds"], the_ready_task(uow, instance_id, "Task_KiemTraHoSo").id, VALID)
    if task == "Task_DuyetSo":
        complete(uow, services, staff["ld_ttcds"], the_ready_task(uow, instance_id, "Task_DuyetTrungTam").id,
                 AGREE_CENTRE)
    approval = the_ready_task(uow, instance_id, task)
    assert refused(uow, services, staff[sender], approval.id, {decision: "tra_lai"}) == {
        comment: "Trường này là bắt buộc."}
    complete(uow, services, staff[sender], approval.id,
             {decision: "tra_lai", comment: "Kiểm tra lại chức vụ của bà Phạm Thị Hoa."})

    review = the_ready_task(uow, instance_id, "Task_KiemTraHoSo")
    assert review.assignee_id == staff["cv_ttcds"].id
    data = opening(uow, services, review.id)
    assert data["y_kien_tra_lai"] == said + "Kiểm tra lại chức vụ của bà Phạm Thị Hoa."
    assert data["ket_qua_kiem_tra"] is None
    complete(uow, services, staff["cv_ttcds"], review.id, VALID)
    # Both levels approve again, with nothing chosen for them beforehand.
    centre = the_ready_task(uow, instance_id, "Task_DuyetTrungTam")
    assert opening(uow, services, centre.id)["duyet_trung_tam"] is None
    complete(uow, services, staff["ld_ttcds"], centre.id, AGREE_CENTRE)
    complete(uow, services, staff["ld_sttt"], the_ready_task(uow, instance_id, "Task_DuyetSo").id,
             AGREE_DEPARTMENT)
    assert peer.requests == []
    assert worker.run_once(uow, services, owner="worker-test") == 2
    assert sorted(peer.users) == EMAILS


def test_a_row_whose_email_is_not_in_the_mail_directory_is_refused_at_submission(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure) -> None:
    with uow() as u:
        instance_id = instances.start(u, services, staff["cv_stc"], PROCESS).id
    submit = the_ready_task(uow, instance_id, "Task_NopHoSo")
    events = count(uow, AuditEvent)
    unknown = {**ROWS[1], "email": "chua.co@dongthap.gov.vn"}
    request = with_scan(uow, services, staff["cv_stc"], submit.id, {**REQUEST, "danh_sach": [ROWS[0], unknown]})
    errors = refused(uow, services, staff["cv_stc"], submit.id, request)
    assert list(errors) == ["danh_sach.1.email"]
    assert errors["danh_sach.1.email"] == (
        "Địa chỉ chua.co@dongthap.gov.vn chưa có trên hệ thống thư điện tử công vụ của tỉnh. Tài khoản phần mềm "
        "đăng nhập một lần (SSO) bằng thư điện tử công vụ — đề nghị cấp thư điện tử công vụ trước.")
    assert count(uow, AuditEvent) == events


def test_a_mail_directory_that_cannot_answer_gives_try_again_later(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure) -> None:
    with uow() as u:
        instance_id = instances.start(u, services, staff["cv_stc"], PROCESS).id
    asked: list[str] = []

    def down(address: str) -> bool:
        asked.append(address)
        raise AdapterError("Không kết nối được máy chủ danh bạ thư (LDAP) ldap://127.0.0.1:1")

    services.adapters.lookups["mail_directory"] = down
    submit = the_ready_task(uow, instance_id, "Task_NopHoSo").id
    errors = refused(uow, services, staff["cv_stc"], submit, with_scan(uow, services, staff["cv_stc"], submit))
    assert list(errors) == ["danh_sach.0.email", "danh_sach.1.email"]
    assert errors["danh_sach.1.email"] == ("Chưa kiểm tra được địa chỉ Hoa.PT@DongThap.gov.vn trên hệ thống thư "
                                           "điện tử công vụ (hệ thống không trả lời); vui lòng thử lại sau.")
    assert asked == ["an.nv@dongthap.gov.vn"]  # a directory that is down is not asked again for each row


def test_excel_import_of_bieu_21_applies_the_mail_directory_check(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure) -> None:
    with uow() as u:
        instance_id = instances.start(u, services, staff["cv_stc"], PROCESS).id
    task_id = the_ready_task(uow, instance_id, "Task_NopHoSo").id
    with uow() as u:
        blank, name = list_import.list_template(u, services, staff["cv_stc"], task_id, "danh_sach")
    assert name.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(blank))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == ["Email Đồng Tháp *", "Họ và tên *", "Số điện thoại", "Chức vụ",
                                           "Phòng ban / đơn vị", "Ghi chú (nội dung đề nghị) *"]
    sheet.append(["an.nv@dongthap.gov.vn", "Nguyễn Văn An", "0277 3851 234", "Chuyên viên", "Phòng Kế hoạch",
                  "Cấp mới"])
    sheet.append(["chua.co@dongthap.gov.vn", "Lê Văn Mới", None, None, None, "Cấp mới"])
    out = io.BytesIO()
    book.save(out)
    with uow() as u, pytest.raises(InvalidData) as caught:
        list_import.list_rows(u, services, staff["cv_stc"], task_id, "danh_sach", out.getvalue())
    ((error,),) = [caught.value.details]
    assert isinstance(error, excel.CellError)
    assert (error.row, error.column, error.label) == (3, "A", "Email Đồng Tháp")
    assert error.message.vi.startswith("Địa chỉ chua.co@dongthap.gov.vn chưa có trên hệ thống thư điện tử")

    sheet.delete_rows(3)
    out = io.BytesIO()
    book.save(out)
    with uow() as u:
        rows = list_import.list_rows(u, services, staff["cv_stc"], task_id, "danh_sach", out.getvalue())
    assert [r["email"] for r in rows] == ["an.nv@dongthap.gov.vn"]


# ---------------------------------------------------------------- the project software misbehaving


def test_the_peer_answering_500_then_200_creates_exactly_one_user(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, peer, pauses) -> None:
    instance_id = to_review(uow, services, staff)
    approve(uow, services, staff, instance_id)
    peer.fail_next(1, 500)
    assert worker.run_once(uow, services, owner="worker-test") == 2
    assert sorted(peer.users) == EMAILS and peer.effects == 2
    first, retried, second = peer.keys()
    assert first == retried != second  # the retry carried the same Idempotency-Key
    assert pauses == [0.5]
    assert [t.element_id for t in ready_tasks(uow, instance_id)] == ["Task_VaoSo"]


def test_a_4xx_refusal_raises_an_incident_showing_the_peers_message(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, peer, clock) -> None:
    instance_id = to_review(uow, services, staff)
    approve(uow, services, staff, instance_id)
    peer.refuse_next(422, {"error": "Phòng ban không có trong danh mục của phần mềm"})
    assert worker.run_once(uow, services, owner="worker-test") == 0

    broken = instance_row(uow, instance_id)
    assert broken.status == InstanceStatus.ERROR
    with uow() as u:
        ((element_id, status, message),) = u.session.execute(select(
            Incident.element_id, Incident.status, Incident.message).where(Incident.instance_id == instance_id)).all()
    assert (element_id, status) == ("Task_CapTaiKhoan", IncidentStatus.OPEN)
    assert "HTTP 422" in message and "Phòng ban không có trong danh mục của phần mềm" in message
    assert "an.nv@dongthap.gov.vn" in message and peer.token not in message
    assert len(peer.requests) == 1 and peer.users == {}
    clock.advance(hours=1)
    assert worker.run_once(uow, services, owner="worker-test") == 0  # left alone until someone acts
    assert len(peer.requests) == 1


# ---------------------------------------------------------------- assignment falls back to the group


def test_when_the_chosen_expert_is_gone_the_task_waits_for_the_centres_experts(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure) -> None:
    instance_id = to_review(uow, services, staff)
    complete(uow, services, staff["cv_ttcds"], the_ready_task(uow, instance_id, "Task_KiemTraHoSo").id, VALID)
    with uow() as u:
        gone = u.session.get(User, staff["cv_ttcds"].id)
        assert gone is not None
        gone.is_active = False
        u.commit()
    complete(uow, services, staff["ld_ttcds"], the_ready_task(uow, instance_id, "Task_DuyetTrungTam").id,
             {"duyet_trung_tam": "tra_lai", "y_kien_trung_tam": "Giao chuyên viên khác kiểm tra lại."})

    review = the_ready_task(uow, instance_id, "Task_KiemTraHoSo")
    assert review.assignee_id is None
    assert [(c.unit_id, c.role) for c in review.candidates] == [(staff["cv_ttcds2"].unit_id, "chuyen_vien")]
    assert history(uow, instance_id, "assign")[-1] == (
        "Không giao được “Kiểm tra hồ sơ”: chuyen_vien_xu_ly = “cv_ttcds” không phải tên đăng nhập của người "
        "dùng đang hoạt động; công việc chờ nhóm ttcds:chuyen_vien")
    complete(uow, services, staff["cv_ttcds2"], review.id, VALID)
    assert [t.element_id for t in ready_tasks(uow, instance_id)] == ["Task_DuyetTrungTam"]
