"""The platform features the project-software procedure needed, usable by any procedure: form rules
(`requiredWhen`, `check`), choices of people (`options = users:UNIT:ROLE`) and `camunda:assignee="${…}"`."""
from __future__ import annotations

from typing import Any

import pytest

from engine.forms import rules, validate_submission
from engine.services import form_data, identity
from tests.engine.test_publishing import problem_at, process_xml, refusal

FORM = "thu_quy_tac"
SCHEMA: dict[str, Any] = {"type": "default", "id": FORM, "components": [
    {"type": "radio", "id": "F_QuyetDinh", "key": "quyet_dinh", "label": "Quyết định",
     "values": [{"label": "Đồng ý", "value": "dong_y"}, {"label": "Trả lại", "value": "tra_lai"}]},
    {"type": "textarea", "id": "F_YKien", "key": "y_kien", "label": "Ý kiến",
     "properties": {"requiredWhen": "quyet_dinh=tra_lai"}},
    {"type": "dynamiclist", "id": "L_DanhSach", "path": "danh_sach", "isRepeating": True, "allowAddRemove": True,
     "components": [
         {"type": "select", "id": "F_ThaoTac", "key": "thao_tac", "label": "Thao tác",
          "values": [{"label": "Cấp mới", "value": "cap_moi"}, {"label": "Xóa", "value": "xoa"}]},
         {"type": "textfield", "id": "F_LyDo", "key": "ly_do", "label": "Lý do xóa",
          "properties": {"requiredWhen": "thao_tac=xoa"}},
         {"type": "textfield", "id": "F_Email", "key": "email", "label": "Email",
          "properties": {"check": "mail_directory"}},
     ]},
]}


def errors_of(data: dict[str, Any], lookups: dict[str, Any] | None = None) -> dict[str, str]:
    cleaned, errors = validate_submission(SCHEMA, data)
    return {e.path: e.message.vi for e in [*errors, *rules.rule_errors(SCHEMA, cleaned, errors, lookups)]}


# ---------------------------------------------------------------- rules on submissions


def test_required_when_applies_in_the_same_scope_only_when_the_value_is_chosen() -> None:
    known = {"mail_directory": lambda address: True}
    assert errors_of({"quyet_dinh": "dong_y", "danh_sach": []}) == {}
    assert errors_of({"quyet_dinh": "tra_lai", "y_kien": "  ", "danh_sach": []}) == {
        "y_kien": "Trường này là bắt buộc."}
    rows = [{"thao_tac": "cap_moi", "email": "a@dongthap.gov.vn"}, {"thao_tac": "xoa", "email": "b@dongthap.gov.vn"}]
    assert errors_of({"quyet_dinh": "dong_y", "danh_sach": rows}, known) == {
        "danh_sach.1.ly_do": "Trường này là bắt buộc."}


def test_check_asks_the_lookup_once_per_address_and_names_the_address() -> None:
    asked: list[str] = []

    def exists(address: str) -> bool:
        asked.append(address)
        return address == "co@dongthap.gov.vn"

    rows = [{"thao_tac": "cap_moi", "email": e} for e in ("co@dongthap.gov.vn", "khong@dongthap.gov.vn",
                                                          "KHONG@dongthap.gov.vn ")]
    found = errors_of({"quyet_dinh": "dong_y", "danh_sach": rows}, {"mail_directory": exists})
    assert list(found) == ["danh_sach.1.email", "danh_sach.2.email"]
    assert found["danh_sach.1.email"].startswith("Địa chỉ khong@dongthap.gov.vn chưa có trên hệ thống thư điện tử")
    assert asked == ["co@dongthap.gov.vn", "khong@dongthap.gov.vn"]


def test_a_check_without_its_lookup_is_refused_as_try_again_later() -> None:
    found = errors_of({"danh_sach": [{"thao_tac": "cap_moi", "email": "a@dongthap.gov.vn"}]}, {})
    assert found == {"danh_sach.0.email": "Chưa kiểm tra được địa chỉ a@dongthap.gov.vn trên hệ thống thư điện "
                                          "tử công vụ (hệ thống không trả lời); vui lòng thử lại sau."}


def test_a_field_with_its_own_error_gets_no_second_one() -> None:
    bad = {"quyet_dinh": "tra_lai", "y_kien": 12, "danh_sach": []}
    found = errors_of(bad)
    assert list(found) == ["y_kien"] and found["y_kien"] != "Trường này là bắt buộc."


@pytest.mark.parametrize(("props", "ctype", "extra", "says"), [
    ({"requiredWhen": "quyet dinh = tra_lai"}, "textfield", {}, "requiredWhen phải có dạng"),
    ({"check": "danh_ba"}, "textfield", {}, "không có phép kiểm tra “danh_ba”"),
    ({"check": "mail_directory"}, "number", {}, "chỉ dùng cho ô chữ"),
    ({"options": "users:ttcds:giam_doc"}, "select", {"valuesKey": "ds"}, "users:MÃ_ĐƠN_VỊ:VAI_TRÒ"),
    ({"options": "users:ttcds:chuyen_vien"}, "select", {"values": [{"label": "A", "value": "a"}]}, "valuesKey"),
])
def test_malformed_rules_are_reported_for_publishing(props: dict[str, str], ctype: str, extra: dict[str, Any],
                                                     says: str) -> None:
    schema = {"components": [{"type": ctype, "id": "F_1", "key": "x", "label": "X", "properties": props, **extra}]}
    (problem,) = rules.rule_problems(schema)
    assert says in problem.vi and problem.en


# ---------------------------------------------------------------- people as options


def test_people_options_are_the_active_holders_of_the_role_in_the_unit(uow, people) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        identity.ensure_unit(u, "ttcds", "Trung tâm Chuyển đổi số")
        identity.create_user(u, "cv_a", "Ngô Thị Mai", "matkhau123", "ttcds", ["chuyen_vien"])
        identity.create_user(u, "cv_b", "Lê Văn Nghỉ", "matkhau123", "ttcds", ["chuyen_vien"]).is_active = False
        identity.create_user(u, "ld_a", "Trương Văn Khoa", "matkhau123", "ttcds", ["lanh_dao"])
        u.commit()
    schema = {"components": [{"type": "select", "id": "F_CV", "key": "cv", "label": "Chuyên viên",
                              "valuesKey": "ds_cv", "properties": {"options": "users:ttcds:chuyen_vien"}},
                             {"type": "select", "id": "F_X", "key": "x", "label": "Không có",
                              "valuesKey": "ds_x", "properties": {"options": "users:khong_co:chuyen_vien"}}]}
    with uow() as u:
        options = form_data.organisation_options(u, schema)
    assert options == {"ds_cv": [{"label": "Ngô Thị Mai", "value": "cv_a"}], "ds_x": []}
    cleaned, errors = validate_submission(schema, {"cv": "ld_a"}, options)
    assert [e.path for e in errors] == ["cv"]  # not an expert of the centre
    cleaned, errors = validate_submission(schema, {"cv": "cv_a"}, options)
    assert (cleaned["cv"], errors) == ("cv_a", [])


# ---------------------------------------------------------------- camunda:assignee="${…}" at publishing


def assigned_task(assignee: str, groups: str | None = "sttt:chuyen_vien") -> str:
    group = f' camunda:candidateGroups="{groups}"' if groups else ""
    return (f'<bpmn:userTask id="Task_GiaoViec" name="Xử lý" camunda:formKey="email_account_reply" '
            f'camunda:assignee="{assignee}"{group}/>')


@pytest.mark.parametrize(("assignee", "groups", "says"), [
    ("${nguoi.xu_ly}", "sttt:chuyen_vien", "chỉ nhận tên đăng nhập hoặc ${tên_biến}"),
    ("#{nguoi_xu_ly}", "sttt:chuyen_vien", "chỉ nhận tên đăng nhập hoặc ${tên_biến}"),
    ("${nguoi_xu_ly}", None, "cần camunda:candidateGroups"),
])
def test_publishing_refuses_an_assignee_expression_or_one_without_fallback_groups(  # type: ignore[no-untyped-def]
        publish, uow, assignee, groups, says) -> None:
    problems = refusal(publish, uow, {"thu_nghiem.bpmn": process_xml(assigned_task(assignee, groups))})
    assert says in problem_at(problems, "Task_GiaoViec").message.vi


def test_publishing_accepts_a_variable_assignee_with_groups(publish) -> None:  # type: ignore[no-untyped-def]
    version, created = publish({"thu_nghiem.bpmn": process_xml(assigned_task("${nguoi_xu_ly}"))})
    assert created and version.process_id == "thu_nghiem"


def test_publishing_reports_a_forms_malformed_rule(publish, uow) -> None:  # type: ignore[no-untyped-def]
    form = b'{"id": "thu_quy_tac", "components": [{"type": "textfield", "id": "F_1", "key": "x", "label": "X", ' \
           b'"properties": {"check": "danh_ba"}}]}'
    task = ('<bpmn:userTask id="Task_Nhap" name="Nhập" camunda:formKey="thu_quy_tac" '
            'camunda:candidateGroups="initiator:chuyen_vien"/>')
    problems = refusal(publish, uow, {"thu_nghiem.bpmn": process_xml(task), "thu_quy_tac.form": form})
    assert "không có phép kiểm tra “danh_ba”" in problem_at(problems, "Task_Nhap").message.vi
