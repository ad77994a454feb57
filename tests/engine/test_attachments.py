"""File fields (form-js filepicker): schema rules, value checks, kinds by their bytes, and the upload,
completion and download rules on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.domain.enums import TaskStatus
from engine.domain.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.forms import REQUIRED, check_schema, validate_submission
from engine.forms import files as file_rules
from engine.forms.files import FileValue
from engine.persistence.models import Attachment, HumanTask, ProcessInstance, User
from engine.persistence.uow import UnitOfWork
from engine.services import attachments, instances
from engine.services.context import Services
from tests.engine import attachment_files as samples
from tests.engine.attachment_files import PROCESS_ID, SUBMIT_FORM

Uow = Callable[[], UnitOfWork]


def picker(key: str = "ho_so", **props: Any) -> dict[str, Any]:
    return {"type": "filepicker", "key": key, "id": f"Field_{key}", "label": key, **props}


def form(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": "default", "id": "Form_Test", "components": list(components)}


def value(ref: str, mime: str = "application/pdf", name: str = "ho-so.pdf", size: int = 100) -> FileValue:
    return FileValue(ref=ref, name=name, size=size, type=mime)


def lookup_of(*known: FileValue) -> file_rules.FileLookup:
    table = {item["ref"]: item for item in known}
    return lambda refs: {ref: table[ref] for ref in refs if ref in table}


# ---------------------------------------------------------------- schema


def test_filepicker_is_accepted_with_supported_types() -> None:
    assert check_schema(form(picker(accept=".pdf, image/*, .DOCX", multiple=True,
                                    validate={"required": True}))) == []
    assert check_schema(form(picker(), picker("khac", accept=""))) == []


@pytest.mark.parametrize(("props", "words"), [
    ({"accept": ".exe"}, "“accept” chỉ được liệt kê"),
    ({"accept": "=loai_tep"}, "“accept” chỉ được liệt kê"),
    ({"accept": ".pdf,.doc"}, "“accept” chỉ được liệt kê"),
    ({"multiple": "=nhieu"}, "“multiple” phải là true/false"),
    ({"readonly": "=xem"}, "“readonly” phải là true/false"),
    ({"validate": {"required": "yes"}}, "“validate.required” phải là true/false"),
])
def test_filepicker_with_unusable_properties_is_refused(props: dict[str, Any], words: str) -> None:
    problems = check_schema(form(picker(**props)))
    assert len(problems) == 1 and words in problems[0].vi, problems


def test_filepicker_needs_a_key_of_its_own() -> None:
    problems = check_schema(form({"type": "filepicker", "id": "Field_X"}, picker("a"), picker("a", id="Field_Y")))
    assert [p.vi for p in problems] == ["Thành phần “Field_X”: thiếu “key” (tên biến dữ liệu).",
                                        "Thành phần “Field_Y”: khóa “a” trùng hoặc chồng lấn với trường khác "
                                        "trong cùng phạm vi."]


# ---------------------------------------------------------------- submitted values


def test_required_file_field_needs_at_least_one_file() -> None:
    schema = form(picker(validate={"required": True}))
    for data in ({}, {"ho_so": None}, {"ho_so": []}):
        cleaned, errors = validate_submission(schema, data, attachments=lookup_of())
        assert [(e.path, e.field_id, e.message) for e in errors] == [("ho_so", "Field_ho_so", REQUIRED)]
    cleaned, errors = validate_submission(form(picker()), {}, attachments=lookup_of())
    assert (cleaned, errors) == ({"ho_so": []}, [])


def test_single_file_field_takes_one_file_and_multiple_takes_several() -> None:
    two = {"ho_so": [value("a1"), value("b2")]}
    known = lookup_of(value("a1"), value("b2"))
    _cleaned, errors = validate_submission(form(picker()), two, attachments=known)
    assert [e.message for e in errors] == [file_rules.ONE_FILE_ONLY]
    cleaned, errors = validate_submission(form(picker(multiple=True)), two, attachments=known)
    assert errors == [] and [f["ref"] for f in cleaned["ho_so"]] == ["a1", "b2"]


def test_cleaned_value_is_the_stored_file_not_the_browsers_copy() -> None:
    forged = {"ref": "a1", "name": "../../etc/passwd", "size": 1, "type": "text/html", "url": "javascript:x"}
    cleaned, errors = validate_submission(form(picker()), {"ho_so": [forged]}, attachments=lookup_of(value("a1")))
    assert errors == []
    assert cleaned == {"ho_so": [{"ref": "a1", "name": "ho-so.pdf", "size": 100, "type": "application/pdf"}]}


@pytest.mark.parametrize("known", [lookup_of(value("khac")), None], ids=["unknown-ref", "no-lookup"])
def test_unknown_or_foreign_ref_is_refused(known: file_rules.FileLookup | None) -> None:
    _cleaned, errors = validate_submission(form(picker()), {"ho_so": [value("cua-ho-so-khac")]}, attachments=known)
    assert [(e.path, e.message.vi) for e in errors] == [
        ("ho_so", "Tệp đính kèm không tồn tại hoặc không thuộc hồ sơ và bước xử lý này; hãy tải tệp lên lại.")]


@pytest.mark.parametrize(("raw", "message"), [
    ("ho-so.pdf", file_rules.FILES_NOT_LIST),
    ({"ref": "a1"}, file_rules.FILES_NOT_LIST),
    (["a1"], file_rules.BAD_FILE_VALUE),
    ([{"name": "x.pdf"}], file_rules.BAD_FILE_VALUE),
    ([{"ref": "x" * 65}], file_rules.BAD_FILE_VALUE),
    ([{"ref": "a1"}, {"ref": "a1"}], file_rules.DUPLICATE_FILE),
    ([{"ref": str(i)} for i in range(21)], file_rules.too_many_files(20)),
])
def test_malformed_file_values_are_refused(raw: object, message: Any) -> None:
    _cleaned, errors = validate_submission(form(picker(multiple=True)), {"ho_so": raw},
                                           attachments=lookup_of(value("a1")))
    assert [e.message for e in errors] == [message]


def test_a_file_of_a_kind_the_field_does_not_accept_is_refused() -> None:
    word = value("w1", file_rules.DOCX.mime, "cong-van.docx")
    _cleaned, errors = validate_submission(form(picker(accept=".pdf,image/*")), {"ho_so": [word]},
                                           attachments=lookup_of(word))
    assert [e.message.vi for e in errors] == ["Trường này chỉ nhận tệp PDF, JPEG, PNG."]


def test_read_only_file_field_is_never_taken_from_the_browser() -> None:
    cleaned, errors = validate_submission(form(picker(readonly=True, validate={"required": True})),
                                          {"ho_so": [value("bat-ky")]}, attachments=lookup_of())
    assert (cleaned, errors) == ({}, [])


def test_file_fields_in_list_rows_are_looked_up_once() -> None:
    calls: list[frozenset[str]] = []
    known = {"a1": value("a1"), "b2": value("b2", "image/png", "anh.png")}

    def lookup(refs: frozenset[str]) -> dict[str, FileValue]:
        calls.append(refs)
        return {ref: known[ref] for ref in refs if ref in known}

    schema = form({"type": "dynamiclist", "id": "List_ca_nhan", "path": "ca_nhan", "isRepeating": True,
                   "allowAddRemove": True, "components": [picker("giay_to", validate={"required": True})]})
    rows = {"ca_nhan": [{"giay_to": [value("a1")]}, {"giay_to": [value("b2")]}, {"giay_to": [value("zz")]}]}
    cleaned, errors = validate_submission(schema, rows, attachments=lookup)
    assert calls == [frozenset({"a1", "b2", "zz"})]
    assert [(e.path, e.message) for e in errors] == [("ca_nhan.2.giay_to", file_rules.UNKNOWN_FILE)]
    assert cleaned["ca_nhan"][1] == {"giay_to": [known["b2"]]}


# ---------------------------------------------------------------- kinds by their bytes


@pytest.mark.parametrize(("content", "kind"), [
    (samples.pdf(), file_rules.PDF), (samples.png(), file_rules.PNG), (samples.jpeg(), file_rules.JPEG),
    (samples.docx(), file_rules.DOCX), (samples.xlsx(), file_rules.XLSX),
])
def test_kind_is_told_by_the_bytes(content: bytes, kind: file_rules.FileKind) -> None:
    assert file_rules.detect(content) is kind


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(("content", "message"), [
    (b"<html><script>alert(1)</script></html>", file_rules.NOT_SUPPORTED),
    (b"MZ\x90\x00" + b"\0" * 60, file_rules.NOT_SUPPORTED),
    (b" %PDF-1.4 not at the start", file_rules.NOT_SUPPORTED),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, file_rules.OLE_FILE),
    (samples.xlsm(), file_rules.MACRO_FILE),
    (_zip({"[Content_Types].xml": b"<Types/>", "content.xml": b"<odt/>"}), file_rules.NOT_SUPPORTED),
    (b"PK\x03\x04 truncated", file_rules.BROKEN_PACKAGE),
])
def test_other_files_are_refused_whatever_their_name(content: bytes, message: Any) -> None:
    with pytest.raises(file_rules.FileRefused) as caught:
        file_rules.detect(content)
    assert caught.value.message == message


def test_file_names_lose_paths_and_control_characters() -> None:
    assert file_rules.clean_name("C:\\Scans\\Hồ sơ\x00 số 1.pdf") == "Hồ sơ_ số 1.pdf"
    assert file_rules.clean_name("../../.. ") == ""
    long = file_rules.clean_name("a" * 300 + ".pdf")
    assert len(long) == 255 and long.endswith("a.pdf")


# ---------------------------------------------------------------- upload, completion, download


@pytest.fixture
def dossier(uow: Uow, services: Services, people: dict[str, User],
            publish: Callable[..., Any]) -> Callable[[str], HumanTask]:
    """`dossier(username)`: a new instance of the test procedure, its first task (Nộp hồ sơ)."""
    publish(samples.procedure())

    def start(username: str = "cv_stc") -> HumanTask:
        with uow() as u:
            instance = instances.start(u, services, people[username], PROCESS_ID)
            task = u.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
            u.session.expunge(task)
            return task

    return start


def put(uow: Uow, services: Services, user: User, task_id: int, content: bytes, name: str,
        key: str = "ho_so", field_id: str = "") -> FileValue:
    with uow() as u:
        return attachments.upload(u, services, user, task_id, field_id=field_id, key=key, file_name=name,
                                  content=content)


def complete(uow: Uow, services: Services, user: User, task_id: int, data: dict[str, Any]) -> None:
    with uow() as u:
        instances.complete_task(u, services, user, task_id, data)


def count(uow: Uow) -> int:
    with uow() as u:
        return int(u.session.scalar(select(func.count(Attachment.id))) or 0)


def refused(uow: Uow, services: Services, user: User, task_id: int, content: bytes, name: str,
            key: str = "ho_so") -> str:
    before = count(uow)
    with pytest.raises(InvalidData) as caught:
        put(uow, services, user, task_id, content, name, key)
    assert count(uow) == before
    return caught.value.message.vi


def test_upload_stores_the_file_with_a_random_ref(uow: Uow, services: Services, people: dict[str, User],
                                                   dossier: Callable[[str], HumanTask]) -> None:
    task = dossier("cv_stc")
    content = samples.pdf()
    stored = put(uow, services, people["cv_stc"], task.id, content, "C:\\fakepath\\Hồ sơ quét.pdf",
                 field_id="Field_HoSo")
    assert stored["name"] == "Hồ sơ quét.pdf" and stored["size"] == len(content)
    assert stored["type"] == "application/pdf" and len(stored["ref"]) >= 32
    again = put(uow, services, people["cv_stc"], task.id, content, "Hồ sơ quét.pdf")
    assert again["ref"] != stored["ref"]
    with uow() as u:
        row = u.session.scalar(select(Attachment).where(Attachment.ref == stored["ref"]))
        assert row is not None
        assert (row.instance_id, row.task_id, row.uploaded_by) == (task.instance_id, task.id, people["cv_stc"].id)
        assert row.content == content and row.sha256 == hashlib.sha256(content).hexdigest()


def test_upload_checks_kind_by_bytes_name_and_accept(uow: Uow, services: Services, people: dict[str, User],
                                                      dossier: Callable[[str], HumanTask]) -> None:
    task, user = dossier("cv_stc"), people["cv_stc"]
    assert refused(uow, services, user, task.id, b"%PDX not a pdf", "ho-so.pdf") == file_rules.NOT_SUPPORTED.vi
    assert refused(uow, services, user, task.id, samples.png(), "ho-so.pdf") == (
        "Tên tệp “ho-so.pdf” không khớp nội dung: đây là tệp PNG, phần mở rộng phải là .png.")
    assert refused(uow, services, user, task.id, samples.docx(), "cong-van.docx") == (
        "Trường này chỉ nhận tệp PDF, JPEG, PNG.")
    assert refused(uow, services, user, task.id, samples.xlsx(), "bang.xlsx", key="cong_van") == (
        "Trường này chỉ nhận tệp PDF, Word (.docx).")
    assert refused(uow, services, user, task.id, b"", "rong.pdf") == attachments.EMPTY_FILE.vi
    assert refused(uow, services, user, task.id, samples.pdf(), "x.pdf", key="khong_co") == (
        "Biểu mẫu của công việc không có trường tệp “khong_co”.")
    assert put(uow, services, user, task.id, samples.jpeg(), "anh.JPEG")["type"] == "image/jpeg"
    assert put(uow, services, user, task.id, samples.docx(), "cv.docx", key="cong_van")["type"] == file_rules.DOCX.mime


def test_oversized_file_and_a_full_task_are_refused(uow: Uow, services: Services, people: dict[str, User],
                                                     dossier: Callable[[str], HumanTask]) -> None:
    task, user = dossier("cv_stc"), people["cv_stc"]
    small = replace(services, settings=replace(services.settings, max_attachment_bytes=1000))
    big = samples.pdf() + b"%" + b"x" * 1000
    assert refused(uow, small, user, task.id, big, "lon.pdf") == "Tệp quá lớn: tối đa 1 KB mỗi tệp."
    one = samples.pdf() + b"%" + b"x" * (900 - len(samples.pdf()))
    for i in range(5):  # five times the single-file limit per task
        put(uow, small, user, task.id, one, f"phan-{i}.pdf")
    assert refused(uow, small, user, task.id, one, "them.pdf").startswith("Công việc này đã đủ tệp đính kèm")


def test_only_the_tasks_performers_may_upload(uow: Uow, services: Services, people: dict[str, User],
                                              dossier: Callable[[str], HumanTask]) -> None:
    task = dossier("cv_stc")
    for other in ("cv_syt", "cv_sttt"):
        with pytest.raises(Forbidden):
            put(uow, services, people[other], task.id, samples.pdf(), "ho-so.pdf")
    assert count(uow) == 0


def test_completion_files_the_named_uploads_and_drops_the_rest(uow: Uow, services: Services,
                                                               people: dict[str, User],
                                                               dossier: Callable[[str], HumanTask]) -> None:
    task, user = dossier("cv_stc"), people["cv_stc"]
    kept = put(uow, services, user, task.id, samples.pdf(), "ho-so.pdf")
    dropped = put(uow, services, user, task.id, samples.png(), "anh-thua.png")
    letter = put(uow, services, user, task.id, samples.docx(), "cong-van.docx", key="cong_van")
    complete(uow, services, user, task.id, {"ho_so": [dict(kept, name="doi-ten.pdf")], "cong_van": [letter]})
    with uow() as u:
        refs = set(u.session.scalars(select(Attachment.ref)))
        assert refs == {kept["ref"], letter["ref"]}
        review = u.session.scalars(select(HumanTask).where(HumanTask.instance_id == task.instance_id,
                                                           HumanTask.status == TaskStatus.READY)).one()
        opened = instances.task_data(u, services, review)
    assert opened["ho_so"] == [kept] and opened["cong_van"] == [letter]
    assert dropped["ref"] not in refs


def test_anothers_dossier_file_cannot_be_taken_by_ref(uow: Uow, services: Services, people: dict[str, User],
                                                     dossier: Callable[[str], HumanTask]) -> None:
    theirs = dossier("cv_syt")
    stolen = put(uow, services, people["cv_syt"], theirs.id, samples.pdf("Bi mat"), "bi-mat.pdf")
    mine = dossier("cv_stc")
    with pytest.raises(InvalidData) as caught:
        complete(uow, services, people["cv_stc"], mine.id, {"ho_so": [stolen]})
    assert [(e.path, e.message) for e in caught.value.details] == [("ho_so", file_rules.UNKNOWN_FILE)]
    with uow() as u:
        assert u.session.get(HumanTask, mine.id).status == TaskStatus.READY  # type: ignore[union-attr]
        assert u.session.scalar(select(Attachment.task_id).where(Attachment.ref == stolen["ref"])) == theirs.id
    with pytest.raises(Forbidden), uow() as u:
        attachments.file_for(u, people["cv_stc"], stolen["ref"])


def test_a_later_step_may_not_take_the_pending_upload_of_another_task(
        uow: Uow, services: Services, people: dict[str, User], dossier: Callable[[str], HumanTask]) -> None:
    task = dossier("cv_stc")
    filed = put(uow, services, people["cv_stc"], task.id, samples.pdf(), "ho-so.pdf")
    complete(uow, services, people["cv_stc"], task.id, {"ho_so": [filed]})
    with uow() as u:
        review = u.session.scalars(select(HumanTask).where(HumanTask.instance_id == task.instance_id,
                                                           HumanTask.status == TaskStatus.READY)).one()
        review_id = review.id
        opened = instances.task_data(u, services, review)
        # The dossier's filed file is named in the data the step opens with: it may be kept there,
        # but a ref the step neither uploaded nor opened with is unknown.
        lookup = attachments.lookup_for(u, review, opened)
        assert lookup(frozenset({filed["ref"], "khong-co"})) == {filed["ref"]: filed}
        assert attachments.lookup_for(u, review, {})(frozenset({filed["ref"]})) == {}
    sheet = put(uow, services, people["cv_sttt"], review_id, samples.xlsx(), "bang-ke.xlsx", key="bang_ke")
    with pytest.raises(InvalidData) as caught:
        complete(uow, services, people["cv_sttt"], review_id, {"bang_ke": [filed]})
    assert caught.value.details[0].message.vi == "Trường này chỉ nhận tệp Excel (.xlsx)."
    complete(uow, services, people["cv_sttt"], review_id, {"bang_ke": [sheet], "ho_so": []})
    with uow() as u:
        instance = u.session.get(ProcessInstance, task.instance_id)
        assert instance is not None and instance.status.value == "completed"
        assert [f.name for f in attachments.filed_in(u, task.instance_id)] == ["ho-so.pdf", "bang-ke.xlsx"]


def test_pending_files_are_the_performers_and_filed_ones_the_dossiers(
        uow: Uow, services: Services, people: dict[str, User], dossier: Callable[[str], HumanTask]) -> None:
    task = dossier("cv_stc")
    pending = put(uow, services, people["cv_stc"], task.id, samples.pdf(), "ho-so.pdf")
    with uow() as u:
        assert attachments.file_for(u, people["cv_stc"], pending["ref"]).content == samples.pdf()
        assert attachments.files_of(u, people["cv_stc"], task.instance_id) == []
    with pytest.raises(NotFound), uow() as u:
        attachments.file_for(u, people["qt"], pending["ref"])  # sees the dossier, not the draft
    complete(uow, services, people["cv_stc"], task.id, {"ho_so": [pending]})
    for viewer in ("cv_stc", "cv_sttt", "qt"):
        with uow() as u:
            assert attachments.file_for(u, people[viewer], pending["ref"], instance_id=task.instance_id).content \
                == samples.pdf()
            (listed,) = attachments.files_of(u, people[viewer], task.instance_id)
            assert (listed.name, listed.step, listed.uploaded_by) == ("ho-so.pdf", "Nộp hồ sơ", "Trần Thị Bình")
    with pytest.raises(Forbidden), uow() as u:
        attachments.file_for(u, people["cv_syt"], pending["ref"])
    with pytest.raises(NotFound), uow() as u:
        attachments.file_for(u, people["cv_stc"], pending["ref"], instance_id=task.instance_id + 1)


def test_remove_deletes_only_this_tasks_pending_upload(uow: Uow, services: Services, people: dict[str, User],
                                                      dossier: Callable[[str], HumanTask]) -> None:
    task, user = dossier("cv_stc"), people["cv_stc"]
    first = put(uow, services, user, task.id, samples.pdf(), "mot.pdf")
    second = put(uow, services, user, task.id, samples.pdf(), "hai.pdf")
    with pytest.raises(Forbidden), uow() as u:
        attachments.remove(u, people["cv_syt"], task.id, first["ref"])
    with uow() as u:
        attachments.remove(u, user, task.id, first["ref"])
    assert count(uow) == 1
    complete(uow, services, user, task.id, {"ho_so": [second]})
    with pytest.raises(Conflict), uow() as u:
        attachments.remove(u, user, task.id, second["ref"])
    with uow() as u:
        review_id = u.session.scalars(select(HumanTask.id).where(HumanTask.status == TaskStatus.READY)).one()
    with pytest.raises(NotFound), uow() as u:
        attachments.remove(u, people["cv_sttt"], review_id, second["ref"])
    assert count(uow) == 1


def test_the_submit_form_of_the_test_procedure_passes_the_schema_check() -> None:
    assert check_schema(SUBMIT_FORM) == []
