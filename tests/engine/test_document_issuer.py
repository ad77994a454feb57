"""Issuing documents on SQLite and PostgreSQL: register numbers under concurrency, rollbacks, retries,
PDF copies, publishing with templates, and the whole path through the worker."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine import worker
from engine.adapters.base import AdapterError, CallContext
from engine.adapters.registry import build_registry
from engine.documents.issuer import DocumentIssuer
from engine.documents.registers import next_number
from engine.domain.enums import TaskStatus
from engine.domain.errors import PublishRefused
from engine.persistence.models import (
    AuditEvent,
    Document,
    DocumentRegister,
    HumanTask,
    ProcedureFile,
    ProcedureVersion,
    User,
)
from engine.persistence.uow import UnitOfWork
from engine.services import instances
from engine.services.calendar import override_loader
from engine.services.context import Services
from engine.settings import ROOT, Settings
from tests.engine.docx_files import docx_text, word_file

Uow = Callable[[], UnitOfWork]
TEMPLATES = ROOT / "processes" / "templates"
THONG_BAO = (TEMPLATES / "thong_bao.docx").read_bytes()
PROPS = {"template": "thu_thong_bao.docx", "issuer": "TTCĐS", "doc_type": "TB", "symbol": "TB-TTCĐS",
         "title": "Kết quả xử lý hồ sơ thử", "variable": "thong_bao_ket_qua"}
DATA = {"noi_dung": "Trung tâm thông báo kết quả như sau.", "nguoi_ky": "Phạm Minh Tâm"}
FORM = {"type": "default", "id": "Form_NoiDungVanBan", "components": [
    {"type": "textarea", "key": "noi_dung", "id": "Field_NoiDung", "label": "Nội dung thông báo"},
    {"type": "textfield", "key": "nguoi_ky", "id": "Field_NguoiKy", "label": "Người ký"},
]}
#: 10:00 on 27 November 2026 in Đồng Tháp.
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def procedure(properties: dict[str, str] = PROPS, template: bytes | None = THONG_BAO) -> dict[str, bytes]:
    """Soạn nội dung (user) → Phát hành thông báo (document.render) → Xem văn bản (user) → end."""
    props = "".join(f"<camunda:property name={quoteattr(k)} value={quoteattr(v)}/>" for k, v in properties.items())
    user = ('<bpmn:userTask id="{id}" name="{name}" camunda:formKey="noi_dung_van_ban" '
            'camunda:candidateGroups="initiator:chuyen_vien"/>')
    bpmn = f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_PhatHanh"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="phat_hanh_thu" name="Phát hành văn bản thử" isExecutable="true">
    <bpmn:startEvent id="StartEvent_BatDau"/>
    {user.format(id="Task_SoanNoiDung", name="Soạn nội dung")}
    <bpmn:serviceTask id="Task_PhatHanh" name="Phát hành thông báo" camunda:type="external"
        camunda:topic="document.render">
      <bpmn:extensionElements><camunda:properties>{props}</camunda:properties></bpmn:extensionElements>
    </bpmn:serviceTask>
    {user.format(id="Task_XemVanBan", name="Xem văn bản")}
    <bpmn:endEvent id="EndEvent_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_BatDau" targetRef="Task_SoanNoiDung"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_SoanNoiDung" targetRef="Task_PhatHanh"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_PhatHanh" targetRef="Task_XemVanBan"/>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_XemVanBan" targetRef="EndEvent_KetThuc"/>
  </bpmn:process>
</bpmn:definitions>'''
    files = {"phat_hanh_thu.bpmn": bpmn.encode(), "noi_dung_van_ban.form": json.dumps(FORM).encode()}
    if template is not None:
        files[properties.get("template", "thu_thong_bao.docx")] = template
    return files


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def no_pdf(settings: Settings) -> Settings:
    """Settings without LibreOffice: most tests are about numbers, not PDF copies."""
    return replace(settings, soffice_path="off")


@pytest.fixture
def version(publish: Callable[..., tuple[ProcedureVersion, bool]]) -> ProcedureVersion:
    return publish(procedure())[0]


@pytest.fixture
def instance_id(uow: Uow, services: Services, people: dict[str, User], version: ProcedureVersion) -> int:
    with uow() as u:
        return instances.start(u, services, people["cv_stc"], "phat_hanh_thu").id


@pytest.fixture
def context(version: ProcedureVersion, instance_id: int) -> CallContext:
    return CallContext(instance_id, version.id, "Task_PhatHanh", "Phát hành thông báo", PROPS)


@pytest.fixture
def issuer(session_factory: sessionmaker[Session], no_pdf: Settings) -> DocumentIssuer:
    return DocumentIssuer(session_factory, no_pdf, clock=lambda: NOW)


def documents(uow: Uow) -> list[Document]:
    """The stored documents by number, readable after the unit of work ends."""
    with uow() as u:
        found = list(u.session.scalars(select(Document).order_by(Document.number)))
        u.session.expunge_all()
        return found


def register_counts(uow: Uow) -> list[tuple[str, str, int, int]]:
    with uow() as u:
        return [(r.issuer, r.register, r.year, r.last_number) for r in u.session.scalars(
            select(DocumentRegister).order_by(DocumentRegister.year, DocumentRegister.register))]


# ---------------------------------------------------------------- numbers


def test_an_issue_stores_the_document_and_reports_it(issuer, context, uow, instance_id) -> None:  # type: ignore[no-untyped-def]
    result = issuer.render(f"{instance_id}:a", DATA, context)
    (document,) = documents(uow)
    assert result == {"thong_bao_ket_qua": {
        "so": 1, "so_ky_hieu": "01/TB-TTCĐS", "ngay_ban_hanh": "2026-11-27", "document_id": document.id,
        "ten_tep": "01-TB-TTCDS_ket-qua-xu-ly-ho-so-thu.docx", "co_pdf": False,
        "ket_qua": "Đã phát hành văn bản số 01/TB-TTCĐS"}}
    assert (document.instance_id, document.element_id, document.reference, document.doc_type, document.title,
            document.template, document.pdf) == (instance_id, "Task_PhatHanh", "01/TB-TTCĐS", "TB",
                                                 "Kết quả xử lý hồ sơ thử", "thu_thong_bao.docx", None)
    text = docx_text(document.docx)
    for expected in ("Số: 01/TB-TTCĐS", "Đồng Tháp, ngày 27 tháng 11 năm 2026", "Kết quả xử lý hồ sơ thử",
                     "Trung tâm thông báo kết quả như sau.", "Phạm Minh Tâm", "- Sở Tài chính;",
                     "ỦY BAN NHÂN DÂN TỈNH ĐỒNG THÁP", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"):
        assert expected in text, expected
    assert register_counts(uow) == [("TTCĐS", "TB", 2026, 1)]


def test_task_properties_name_the_issuing_bodies(issuer, context, uow, instance_id) -> None:  # type: ignore[no-untyped-def]
    props = {**PROPS, "co_quan_chu_quan": "Sở Thông tin và Truyền thông",
             "co_quan_ban_hanh": "Trung tâm Chuyển đổi số tỉnh Đồng Tháp"}
    issuer.render(f"{instance_id}:a", DATA, replace(context, properties=props))
    text = docx_text(documents(uow)[0].docx)
    assert "SỞ THÔNG TIN VÀ TRUYỀN THÔNG\nTRUNG TÂM CHUYỂN ĐỔI SỐ TỈNH ĐỒNG THÁP" in text


@pytest.mark.slow
def test_fifty_concurrent_issues_get_fifty_consecutive_numbers(issuer, context, uow, instance_id) -> None:  # type: ignore[no-untyped-def]
    start = threading.Barrier(50)

    def issue(i: int) -> dict[str, Any]:
        start.wait()  # every thread asks at once
        return issuer.render(f"{instance_id}:{i}", DATA, context)["thong_bao_ket_qua"]

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(issue, range(50)))
    assert sorted(r["so"] for r in results) == list(range(1, 51))
    stored = documents(uow)
    assert [d.number for d in stored] == list(range(1, 51))
    assert sorted(d.reference for d in stored) == sorted(f"{n:02d}/TB-TTCĐS" for n in range(1, 51))
    assert {r["document_id"] for r in results} == {d.id for d in stored}
    assert register_counts(uow) == [("TTCĐS", "TB", 2026, 50)]


def test_a_rolled_back_number_is_given_back(session_factory, issuer, context, uow, instance_id) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        _register, number = next_number(session, "TTCĐS", "TB", 2026)
        assert number == 1
        session.rollback()  # the document was never stored
    with session_factory() as session:
        assert next_number(session, "TTCĐS", "TB", 2026)[1] == 1
        assert next_number(session, "TTCĐS", "TB", 2026)[1] == 2  # same transaction: next one
        session.commit()
    result = issuer.render(f"{instance_id}:a", DATA, context)
    assert result["thong_bao_ket_qua"]["so"] == 3
    assert register_counts(uow) == [("TTCĐS", "TB", 2026, 3)]


def test_registers_are_separate_per_issuer_and_type(session_factory, uow) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        taken = [next_number(session, issuer, kind, 2026)[1]
                 for issuer, kind in (("TTCĐS", "TB"), ("TTCĐS", "BC"), ("STTTT", "TB"), ("TTCĐS", "TB"))]
        session.commit()
    assert taken == [1, 1, 1, 2]
    with session_factory() as session, pytest.raises(ValueError, match="issuing unit"):
        next_number(session, " ", "TB", 2026)


def test_a_retried_call_returns_the_same_document(issuer, context, uow, instance_id) -> None:  # type: ignore[no-untyped-def]
    first = issuer.render(f"{instance_id}:a", DATA, context)
    again = issuer.render(f"{instance_id}:a", {**DATA, "noi_dung": "Khác"}, context)
    assert again == first
    assert len(documents(uow)) == 1
    assert register_counts(uow) == [("TTCĐS", "TB", 2026, 1)]


def test_the_same_call_running_twice_at_once_issues_one_document(issuer, context, uow, instance_id) -> None:  # type: ignore[no-untyped-def]
    start = threading.Barrier(4)

    def issue(_: int) -> dict[str, Any]:
        start.wait()
        return issuer.render(f"{instance_id}:a", DATA, context)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(issue, range(4)))
    assert all(r == results[0] for r in results)
    assert [d.number for d in documents(uow)] == [1]
    assert register_counts(uow) == [("TTCĐS", "TB", 2026, 1)]  # the losers' numbers went back


def test_the_year_change_starts_again_at_one(session_factory, no_pdf, context, uow, instance_id) -> None:  # type: ignore[no-untyped-def]
    moments = iter([
        datetime(2026, 12, 31, 9, 0, tzinfo=UTC),    # 16:00 on 31 December in Đồng Tháp
        datetime(2026, 12, 31, 16, 59, tzinfo=UTC),  # 23:59
        datetime(2026, 12, 31, 17, 0, tzinfo=UTC),   # 00:00 on 1 January 2027 in Đồng Tháp
        datetime(2027, 1, 2, 2, 0, tzinfo=UTC),
    ])
    issuer = DocumentIssuer(session_factory, no_pdf, clock=lambda: next(moments))
    results = [issuer.render(f"{instance_id}:{i}", DATA, context)["thong_bao_ket_qua"] for i in range(4)]
    assert [(r["so_ky_hieu"], r["ngay_ban_hanh"]) for r in results] == [
        ("01/TB-TTCĐS", "2026-12-31"), ("02/TB-TTCĐS", "2026-12-31"),
        ("01/TB-TTCĐS", "2027-01-01"), ("02/TB-TTCĐS", "2027-01-02")]
    assert register_counts(uow) == [("TTCĐS", "TB", 2026, 2), ("TTCĐS", "TB", 2027, 2)]
    assert "Đồng Tháp, ngày 01 tháng 01 năm 2027" in docx_text(documents(uow)[0].docx) + docx_text(
        documents(uow)[1].docx)


# ---------------------------------------------------------------- failures issue nothing


def store_template(uow: Uow, version_id: int, name: str, content: bytes) -> None:
    """A template put next to a version without publishing (as a tampered database would)."""
    with uow() as u:
        u.add(ProcedureFile(version_id=version_id, name=name, content=content, sha256="0" * 64))
        u.commit()


def test_a_sandbox_escape_fails_clearly_and_issues_nothing(issuer, context, uow, instance_id, version) -> None:  # type: ignore[no-untyped-def]
    store_template(uow, version.id, "thoat.docx", word_file("Số: {{ van_ban.so_ky_hieu }}",
                                                            "{{ ''.__class__.__mro__[1].__subclasses__() }}"))
    with pytest.raises(AdapterError, match="thuộc tính nội bộ"):
        issuer.render(f"{instance_id}:a", DATA, replace(context, properties={**PROPS, "template": "thoat.docx"}))
    # Also when the stored template slipped past the checks: the sandbox stops it at rendering.
    store_template(uow, version.id, "loi.docx", word_file("{{ ho_so|attr('__class__') }}"))
    with pytest.raises(AdapterError, match="không được phép trong hộp cát"):
        issuer.render(f"{instance_id}:b", DATA, replace(context, properties={**PROPS, "template": "loi.docx"}))
    assert documents(uow) == []
    assert register_counts(uow) in ([], [("TTCĐS", "TB", 2026, 0)])  # the number went back
    assert issuer.render(f"{instance_id}:c", DATA, context)["thong_bao_ket_qua"]["so"] == 1


BAD_PROPERTIES = [
    ({**PROPS, "template": ""}, "thiếu thuộc tính: template (mẫu văn bản)"),
    ({k: v for k, v in PROPS.items() if k not in ("issuer", "symbol")}, "issuer (mã đơn vị ban hành); symbol"),
    ({**PROPS, "template": "khong_co.docx"}, "không có mẫu văn bản khong_co.docx"),
    ({**PROPS, "template": "../thong_bao.docx"}, "Tên mẫu văn bản «../thong_bao.docx» không hợp lệ"),
    ({**PROPS, "variable": "van ban"}, "Tên biến kết quả «van ban» không hợp lệ"),
]


def test_bad_task_properties_fail_with_a_vietnamese_reason(issuer, context, uow, instance_id) -> None:  # type: ignore[no-untyped-def]
    for properties, message in BAD_PROPERTIES:
        with pytest.raises(AdapterError, match=re.escape(message)):
            issuer.render(f"{instance_id}:a", DATA, replace(context, properties=properties))
    assert documents(uow) == []
    assert register_counts(uow) == []


# ---------------------------------------------------------------- PDF


needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")


@needs_soffice
@pytest.mark.slow
def test_a_pdf_copy_is_made_when_libreoffice_is_installed(session_factory, settings, context, uow,  # type: ignore[no-untyped-def]
                                                          instance_id, tmp_path) -> None:
    with_pdf = dataclasses.replace(settings, soffice_path="")  # the fixture turns PDF off for speed
    issuer = DocumentIssuer(session_factory, with_pdf, clock=lambda: NOW)
    result = issuer.render(f"{instance_id}:a", DATA, context)["thong_bao_ket_qua"]
    assert result["co_pdf"] is True
    (document,) = documents(uow)
    assert document.pdf is not None and document.pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        (tmp_path / "van_ban.pdf").write_bytes(document.pdf)
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "van_ban.pdf"), "-"],
                              capture_output=True, check=True).stdout.decode()
        assert "Số: 01/TB-TTCĐS" in text
        assert "Kết quả xử lý hồ sơ thử" in text


def fake_soffice(folder: Path, script: str) -> str:
    path = folder / "soffice"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize(("script", "timeout", "warning"), [
    ("echo 'cannot open' >&2; exit 3", 60, "PDF conversion failed (exit 3): cannot open"),
    ("exec sleep 30", 1, "PDF conversion stopped after 1 s"),
])
def test_a_failed_conversion_keeps_the_docx(session_factory, settings, context, uow, instance_id,  # type: ignore[no-untyped-def]
                                            tmp_path, caplog, script, timeout, warning) -> None:
    broken = replace(settings, soffice_path=fake_soffice(tmp_path, script), pdf_timeout_seconds=timeout)
    issuer = DocumentIssuer(session_factory, broken, clock=lambda: NOW)
    result = issuer.render(f"{instance_id}:a", DATA, context)["thong_bao_ket_qua"]
    assert (result["so"], result["co_pdf"]) == (1, False)
    (document,) = documents(uow)
    assert document.pdf is None and "Số: 01/TB-TTCĐS" in docx_text(document.docx)
    assert warning in caplog.text


# ---------------------------------------------------------------- publishing


def refused(publish: Callable[..., Any], uow: Uow, files: dict[str, bytes]) -> list[str]:
    with uow() as u:
        before = u.session.scalar(select(func.count()).select_from(ProcedureVersion))
    with pytest.raises(PublishRefused) as caught:
        publish(files)
    with uow() as u:
        assert u.session.scalar(select(func.count()).select_from(ProcedureVersion)) == before
    return [p.message.vi for p in caught.value.details]


def test_publishing_refuses_a_document_step_without_its_properties(publish, uow) -> None:  # type: ignore[no-untyped-def]
    (problem,) = refused(publish, uow, procedure({"issuer": "TTCĐS"}, template=None))
    assert problem == ("Bước phát hành văn bản thiếu thuộc tính: template (mẫu văn bản); doc_type (mã loại văn bản, "
                       "ví dụ CV, TB, BC); symbol (ký hiệu sau số, ví dụ TB-TTCĐS)")


def test_publishing_refuses_an_unknown_template(publish, uow) -> None:  # type: ignore[no-untyped-def]
    (problem,) = refused(publish, uow, procedure({**PROPS, "template": "khong_co.docx"}, template=None))
    assert problem.startswith("Không tìm thấy mẫu văn bản khong_co.docx")


def test_publishing_refuses_a_bad_template_with_the_template_checks(publish, uow) -> None:  # type: ignore[no-untyped-def]
    (problem,) = refused(publish, uow, procedure(template=word_file("{% for r in rows %}{{ r }}")))
    assert problem.startswith("Mẫu văn bản thu_thong_bao.docx: Mẫu có lỗi cú pháp")
    (problem,) = refused(publish, uow, procedure(template=b"not a zip"))
    assert "không phải tệp Word .docx" in problem


def test_templates_are_stored_with_the_version_and_change_it(publish, uow) -> None:  # type: ignore[no-untyped-def]
    first, created = publish(procedure())
    assert created
    again, created = publish(procedure())
    assert (again.id, created) == (first.id, False)
    edited = word_file("Số: {{ van_ban.so_ky_hieu }}", "{{ noi_dung }}")
    second, created = publish(procedure(template=edited))
    assert created and second.version == first.version + 1
    with uow() as u:
        stored = {(f.version_id, f.name): f for f in u.session.scalars(select(ProcedureFile))}
        u.session.expunge_all()
    assert stored[(first.id, "thu_thong_bao.docx")].content == THONG_BAO
    assert stored[(second.id, "thu_thong_bao.docx")].content == edited
    assert len(stored[(second.id, "thu_thong_bao.docx")].sha256) == 64


def test_a_bundled_template_is_found_in_the_templates_folder(publish, uow) -> None:  # type: ignore[no-untyped-def]
    version, _ = publish(procedure({**PROPS, "template": "phu_luc_iii_bao_cao_su_co.docx"}, template=None))
    with uow() as u:
        (stored,) = u.session.scalars(select(ProcedureFile).where(ProcedureFile.version_id == version.id))
        u.session.expunge_all()
    assert (stored.name, stored.content) == ("phu_luc_iii_bao_cao_su_co.docx",
                                             (TEMPLATES / "phu_luc_iii_bao_cao_su_co.docx").read_bytes())


# ---------------------------------------------------------------- through the worker


@pytest.fixture
def worker_services(no_pdf: Settings, session_factory: sessionmaker[Session], clock: Any) -> Iterator[Services]:
    yield Services(no_pdf, build_registry(no_pdf, session_factory, clock), clock=clock,
                   calendar_overrides=override_loader(session_factory))


def ready_task(uow: Uow, instance_id: int) -> HumanTask:
    with uow() as u:
        (task,) = u.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                             HumanTask.status == TaskStatus.READY))
        u.session.expunge(task)
        return task


def test_the_worker_issues_the_document_of_a_procedure(uow, worker_services, people, instance_id) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        instances.complete_task(u, worker_services, people["cv_stc"], ready_task(uow, instance_id).id,
                                {**DATA, "noi_dung": "Nội dung <b>&amp; kiểm tra"})
    assert worker.run_once(uow, worker_services, owner="w1") == 1
    assert worker.run_once(uow, worker_services, owner="w1") == 0  # nothing issued twice
    task = ready_task(uow, instance_id)
    assert task.element_id == "Task_XemVanBan"
    with uow() as u:
        data = instances.task_data(u, worker_services, u.session.get(HumanTask, task.id))
        history = list(u.session.scalars(select(AuditEvent.summary).where(
            AuditEvent.instance_id == instance_id, AuditEvent.action == "service_call")))
    (document,) = documents(uow)
    issued_on = document.issued_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    assert data["thong_bao_ket_qua"] == {
        "so": 1, "so_ky_hieu": "01/TB-TTCĐS", "ngay_ban_hanh": issued_on.isoformat(), "document_id": document.id,
        "ten_tep": "01-TB-TTCDS_ket-qua-xu-ly-ho-so-thu.docx", "co_pdf": False,
        "ket_qua": "Đã phát hành văn bản số 01/TB-TTCĐS"}
    assert history == ["Phát hành thông báo: Đã phát hành văn bản số 01/TB-TTCĐS"]
    assert "Nội dung <b>&amp; kiểm tra" in docx_text(document.docx)
