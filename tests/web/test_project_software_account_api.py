"""project_software_account end to end through /api/v1 only: start, tasks, complete, the worker, documents.

The project software is the local peer of tests/engine/project_software_server.py, configured as an
installation would be (PROJECT_SOFTWARE_URL, PROJECT_SOFTWARE_TOKEN); the mail directory is `local`.
"""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from engine.persistence.models import MailAccount
from engine.services import identity
from engine.settings import Settings
from tests.engine.attachment_files import docx, pdf
from tests.engine.docx_files import docx_text
from tests.engine.project_software_server import ProjectSoftwarePeer
from tests.engine.test_project_software_account import (
    EMAILS,
    RECEPTION,
    REQUEST,
    ROWS,
    SCAN_FIELD,
    SCAN_NAME,
    SIGNER,
    STAFF,
    VALID,
)
from tests.web.conftest import PASSWORD
from tests.web.test_api import ApiUser, assert_error, complete
from tests.web.test_attachments_pages import multipart
from webapp.platform import uow

PROCESS = "project_software_account"


@pytest.fixture
def settings(db_url: str, peer: ProjectSoftwarePeer) -> Settings:
    return Settings(database_url=db_url, project_software_url=peer.url, project_software_token=peer.token,
                    soffice_path="off")


@pytest.fixture
def staff(app: Flask) -> None:
    """The centre (TTCĐS) with its leader and experts, the Sở's văn thư and leader, the mailboxes."""
    with app.app_context(), uow() as work:
        identity.ensure_unit(work, "ttcds", "Trung tâm Chuyển đổi số")
        for username, (full_name, unit, roles) in STAFF.items():
            identity.create_user(work, username, full_name, PASSWORD, unit, roles)
        for address in EMAILS:
            work.add(MailAccount(address=address, display_name=address))
        work.commit()


@pytest.fixture
def api(app: Flask, staff: None) -> Any:
    client = app.test_client()
    return lambda username: ApiUser(client, username)


def test_project_software_account_over_the_api(api: Any, run_worker: Any, peer: ProjectSoftwarePeer) -> None:
    stc, reception, centre, expert = api("cv_stc"), api("vt_sttt"), api("ld_ttcds"), api("cv_ttcds")
    other_expert, department = api("cv_ttcds2"), api("ld_sttt")

    catalogue = {p["process_id"]: p for p in stc.get("/processes").get_json()}
    assert catalogue[PROCESS]["name"] == ("Cấp mới, đổi tên, thay đổi thông tin, mật khẩu người dùng phần mềm "
                                          "Quản lý tiến độ dự án")
    started = stc.post("/process-instances", json={"process": PROCESS, "data": {}})
    assert started.status_code == 201, started.get_json()
    instance_id = started.get_json()["id"]
    assert [t["element_id"] for t in started.get_json()["active_tasks"]] == ["Task_NopHoSo"]

    # Biểu 2.1 naming a mailbox that does not exist is refused, the row and the reason named.
    submit = stc.task_at(instance_id, "Task_NopHoSo")
    opened = stc.get(f"/tasks/{submit}").get_json()
    assert opened["form"]["id"] == "project_software_account_request"

    # The scanned request letter and Biểu 2.1 are required: uploaded first, then named in the data.
    error = assert_error(stc.post(f"/tasks/{submit}/complete", json={"data": REQUEST}), 400, "invalid_data")
    assert [(d["path"], d["message"]["vi"]) for d in error["details"]] == [
        ("ho_so_dinh_kem", "Trường này là bắt buộc.")]
    uploaded = stc.post(f"/tasks/{submit}/attachments", **multipart(pdf("Cong van 125/STC-VP"), SCAN_NAME,
                                                                      field=SCAN_FIELD))
    assert uploaded.status_code == 201, uploaded.get_json()
    scan = uploaded.get_json()
    assert (scan["name"], scan["type"]) == (SCAN_NAME, "application/pdf")
    word = stc.post(f"/tasks/{submit}/attachments", **multipart(docx(), "Bieu 2.1.docx", field=SCAN_FIELD))
    assert assert_error(word, 400, "invalid_data")["message"] == "Trường này chỉ nhận tệp PDF, JPEG, PNG."

    unknown = {**REQUEST, "ho_so_dinh_kem": [scan],
               "danh_sach": [ROWS[0], {**ROWS[1], "email": "chua.co@dongthap.gov.vn"}]}
    error = assert_error(stc.post(f"/tasks/{submit}/complete", json={"data": unknown}), 400, "invalid_data")
    (detail,) = error["details"]
    assert (detail["path"], detail["field_id"]) == ("danh_sach.1.email", "Field_Bieu21_Email")
    assert "chua.co@dongthap.gov.vn chưa có trên hệ thống thư điện tử công vụ" in detail["message"]["vi"]
    assert "SSO" in detail["message"]["vi"] and "SSO" in detail["message"]["en"]
    assert stc.get(f"/process-instances/{instance_id}").get_json()["revision"] == started.get_json()["revision"]

    after_submit = complete(stc, instance_id, "Task_NopHoSo", {**REQUEST, "ho_so_dinh_kem": [scan]})
    assert [t["element_id"] for t in after_submit["active_tasks"]] == ["Task_TiepNhan"]
    assert not [t for t in stc.get("/tasks").get_json() if t["instance_id"] == instance_id]

    # Reception sees the scan with the dossier, to check it against the original it received.
    (listed,) = reception.get(f"/process-instances/{instance_id}/attachments").get_json()
    assert {k: listed[k] for k in ("ref", "name", "type", "element_id", "step", "uploaded_by")} == {
        "ref": scan["ref"], "name": SCAN_NAME, "type": "application/pdf", "element_id": "Task_NopHoSo",
        "step": "Nộp hồ sơ", "uploaded_by": "Trần Thị Bình"}
    received = reception.get(f"/tasks/{reception.task_at(instance_id, 'Task_TiepNhan')}").get_json()
    assert received["data"]["ho_so_dinh_kem"] == [scan]
    complete(reception, instance_id, "Task_TiepNhan", RECEPTION)

    # The centre's leader chooses among the centre's experts: the API lists them with the task.
    assign = centre.task_at(instance_id, "Task_PhanCong")
    shown = centre.get(f"/tasks/{assign}").get_json()
    assert sorted(o["value"] for o in shown["data"]["ds_chuyen_vien_ttcds"]) == ["cv_ttcds", "cv_ttcds2"]
    wrong = centre.post(f"/tasks/{assign}/complete", json={"data": {"chuyen_vien_xu_ly": "cv_sttt"}})
    assert [d["path"] for d in assert_error(wrong, 400, "invalid_data")["details"]] == ["chuyen_vien_xu_ly"]
    complete(centre, instance_id, "Task_PhanCong", {"chuyen_vien_xu_ly": "cv_ttcds"})

    assert not [t for t in other_expert.get("/tasks").get_json() if t["instance_id"] == instance_id]
    review = expert.task_at(instance_id, "Task_KiemTraHoSo")
    assert_error(other_expert.post(f"/tasks/{review}/complete", json={"data": VALID}), 403, "forbidden")
    reviewed = expert.get(f"/tasks/{review}").get_json()
    assert [r["email"] for r in reviewed["data"]["rows"]] == EMAILS
    assert reviewed["data"]["ho_so_dinh_kem"] == [scan]  # shown read-only, as a download link
    content = expert.client.get(listed["links"]["content"], headers=expert.headers)
    assert content.status_code == 200 and content.data == pdf("Cong van 125/STC-VP")
    complete(expert, instance_id, "Task_KiemTraHoSo", VALID)
    complete(centre, instance_id, "Task_DuyetTrungTam", {"duyet_trung_tam": "dong_y"})
    approved = complete(department, instance_id, "Task_DuyetSo", {"duyet_so": "dong_y"})
    assert approved["active_tasks"] == [] and peer.users == {}

    assert run_worker() == 2  # one call per row, on the project software
    assert sorted(peer.users) == EMAILS
    record = reception.task_at(instance_id, "Task_VaoSo")
    draft = reception.get(f"/tasks/{record}").get_json()["data"]
    assert [r["ket_qua"] for r in draft["rows"]] == ["Đã cấp mới tài khoản"] * 2
    complete(reception, instance_id, "Task_VaoSo", {
        "so_theo_doi": "TD-2026/0415", "da_cap_nhat_mot_cua": True, "noi_dung": draft["noi_dung"],
        "ket_luan": draft["ket_luan"], **SIGNER})
    assert run_worker() == 1  # the notice letter is numbered and issued

    final = stc.get(f"/process-instances/{instance_id}").get_json()
    assert final["status"] == "completed" and final["sla_outcome"] == "truoc_han"
    actions = [h["action"] for h in final["history"]]
    assert actions.count("complete") == 7 and actions.count("service_call") == 3 and "assign" in actions
    (letter,) = stc.get(f"/process-instances/{instance_id}/documents").get_json()
    assert (letter["reference"], letter["doc_type"], letter["template"]) == ("01/TB-STTTT", "TB", "thong_bao.docx")
    content = stc.get(f"/documents/{letter['id']}/content")
    assert content.status_code == 200
    text = docx_text(content.get_data())
    assert "Số: 01/TB-STTTT" in text and all(email in text for email in EMAILS)
    assert "Cung cấp thông tin tài khoản người dùng phần mềm Quản lý tiến độ dự án" in text
