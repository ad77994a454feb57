"""Server-side form-js validation: what a user or an attacker submitting a form would hit."""
from __future__ import annotations

import json
import pathlib

import pytest

from engine.forms import (
    MAX_ROWS,
    REQUIRED,
    FieldError,
    FormSchemaError,
    check_schema,
    input_fields,
    load_form,
    validate_submission,
)

FORMS_DIR = pathlib.Path(__file__).resolve().parents[2] / "forms"


# ---------------------------------------------------------------- builders


def field(type_: str, key: str, **props: object) -> dict:
    return {"type": type_, "key": key, "id": f"Field_{key}", "label": key, **props}


def textfield(key: str, **validate: object) -> dict:
    return field("textfield", key, validate=validate) if validate else field("textfield", key)


def select(key: str, *values: str, type_: str = "select", **props: object) -> dict:
    return field(type_, key, values=[{"label": v.upper(), "value": v} for v in values], **props)


def dynamiclist(path: str, *components: dict, **props: object) -> dict:
    return {"type": "dynamiclist", "id": f"List_{path}", "path": path, "isRepeating": True,
            "allowAddRemove": True, "components": list(components), **props}


def form(*components: dict) -> dict:
    return {"type": "default", "id": "Form_Test", "components": list(components)}


def only_error(schema: dict, data: object) -> FieldError:
    _cleaned, errors = validate_submission(schema, data)
    assert len(errors) == 1, errors
    return errors[0]


# ---------------------------------------------------------------- text inputs


def test_required_field_missing_or_blank_is_reported_with_id():
    schema = form(textfield("ho_ten", required=True))
    for data in ({}, {"ho_ten": ""}, {"ho_ten": "   "}, {"ho_ten": None}):
        error = only_error(schema, data)
        assert (error.path, error.field_id, error.message) == ("ho_ten", "Field_ho_ten", REQUIRED)
    assert error.message.vi == "Trường này là bắt buộc."


def test_optional_text_defaults_to_empty_string():
    cleaned, errors = validate_submission(form(textfield("ghi_chu")), {})
    assert (cleaned, errors) == ({"ghi_chu": ""}, [])


def test_pattern_mismatch_uses_form_message_and_search_semantics():
    schema = form(textfield("ma", pattern=r"^\d{6}$", patternErrorMessage="Mã gồm 6 chữ số."),
                  textfield("co_so", pattern=r"\d"))
    assert only_error(schema, {"ma": "12345a"}).message.vi == "Mã gồm 6 chữ số."
    # form-js runs RegExp.test(): an unanchored pattern only has to occur somewhere.
    cleaned, errors = validate_submission(schema, {"ma": "123456", "co_so": "abc1"})
    assert errors == [] and cleaned == {"ma": "123456", "co_so": "abc1"}


def test_pattern_dollar_does_not_accept_a_trailing_newline():
    schema = form(field("textarea", "ma", validate={"pattern": "^[a-z]+$"}))
    assert only_error(schema, {"ma": "abc\n"}).message.vi == "Không đúng định dạng."


def test_pattern_is_not_run_on_huge_values():
    schema = form(field("textarea", "x", validate={"pattern": "^(a+)+$"}))
    assert "10000" in only_error(schema, {"x": "a" * 10_001 + "!"}).message.vi


def test_max_and_min_length_count_trimmed_characters():
    schema = form(textfield("ho_ten", maxLength=5, minLength=2))
    assert only_error(schema, {"ho_ten": "Nguyễn"}).message.vi == "Tối đa 5 ký tự."
    assert only_error(schema, {"ho_ten": "A"}).message.en == "At least 2 characters."
    assert validate_submission(schema, {"ho_ten": "  Bảo  "})[1] == []


def test_text_must_be_a_string_without_control_characters():
    schema = form(textfield("a"), field("textarea", "b"))
    assert only_error(schema, {"a": 5}).message.vi == "Giá trị phải là chuỗi ký tự."
    assert only_error(schema, {"a": "x\x00y"}).path == "a"
    assert only_error(schema, {"a": "dòng 1\ndòng 2"}).message.vi == "Không được xuống dòng."
    assert only_error(schema, {"b": "\ud800"}).message.vi == "Có ký tự không hợp lệ."
    cleaned, errors = validate_submission(schema, {"a": "x\ty", "b": "dòng 1\r\ndòng 2"})
    assert errors == [] and cleaned["b"] == "dòng 1\r\ndòng 2"


def test_email_validation_type():
    schema = form(textfield("thu", validationType="email"))
    error = only_error(schema, {"thu": "khong-phai-thu"})
    assert error.message.vi == "Địa chỉ thư điện tử không hợp lệ."
    assert validate_submission(schema, {"thu": "nguyenvana@dongthap.gov.vn"})[1] == []


# ---------------------------------------------------------------- numbers


def test_number_coercion():
    schema = form(field("number", "so"))
    for raw, expected in (("42", 42), (" 12.5 ", 12.5), (7.0, 7), (3, 3), ("", None), (None, None)):
        cleaned, errors = validate_submission(schema, {"so": raw})
        assert errors == [] and cleaned["so"] == expected, raw
    assert type(validate_submission(schema, {"so": "42"})[0]["so"]) is int


@pytest.mark.parametrize("raw", [True, "abc", "NaN", float("nan"), float("inf"), "1e999", [1], "0x10"])
def test_number_rejects_non_numbers(raw):
    error = only_error(form(field("number", "so")), {"so": raw})
    assert error.message.vi == "Giá trị phải là số."


def test_number_range_decimals_and_increment():
    schema = form(field("number", "tuoi", validate={"min": 18, "max": 60}),
                  field("number", "tien", decimalDigits=2, increment="0.05"))
    assert only_error(schema, {"tuoi": 17}).message.vi == "Giá trị nhỏ nhất là 18."
    assert only_error(schema, {"tuoi": "61"}).message.en == "The maximum value is 60."
    assert only_error(schema, {"tien": 1.234}).message.vi == "Tối đa 2 chữ số thập phân."
    assert only_error(schema, {"tien": "1.07"}).path == "tien"
    assert validate_submission(schema, {"tuoi": 60, "tien": 0.15})[1] == []


def test_number_serialize_to_string_keeps_a_string():
    schema = form(field("number", "so", serializeToString=True))
    assert validate_submission(schema, {"so": 12.50})[0] == {"so": "12.5"}


# ---------------------------------------------------------------- choices


def test_select_rejects_forged_value():
    schema = form(select("thao_tac", "cap_moi", "thu_hoi", validate={"required": True}))
    error = only_error(schema, {"thao_tac": "xoa_het"})
    assert error.message.vi == "Giá trị không nằm trong danh sách cho phép."
    assert only_error(schema, {"thao_tac": ["cap_moi"]}).path == "thao_tac"
    assert validate_submission(schema, {"thao_tac": "thu_hoi"}) == ({"thao_tac": "thu_hoi"}, [])


def test_radio_does_not_confuse_true_with_1():
    schema = form({"type": "radio", "key": "r", "id": "R", "values": [{"label": "Một", "value": 1}]})
    assert only_error(schema, {"r": True}).field_id == "R"
    assert validate_submission(schema, {"r": 1})[1] == []


def test_checklist_and_taglist_values():
    schema = form(select("kenh", "a", "b", "c", type_="checklist"),
                  select("the", "x", "y", type_="taglist"))
    assert validate_submission(schema, {"kenh": ["a", "c"]}) == ({"kenh": ["a", "c"], "the": []}, [])
    assert only_error(schema, {"kenh": ["a", "a"]}).message.vi == "Có giá trị được chọn trùng lặp."
    assert only_error(schema, {"the": ["z"]}).path == "the"
    assert only_error(schema, {"the": "x"}).message.vi == "Giá trị phải là một danh sách."


def test_options_from_values_key_use_context():
    schema = form(field("select", "don_vi", valuesKey="ds_don_vi"))
    context = {"ds_don_vi": [{"label": "Sở A", "value": "so_a"}, "so_b"]}
    assert validate_submission(schema, {"don_vi": "so_b"}, context)[1] == []
    assert validate_submission(schema, {"don_vi": "so_c"}, context)[1][0].path == "don_vi"
    assert validate_submission(schema, {"don_vi": "so_c"})[1] == []  # unknown options: any string


# ---------------------------------------------------------------- what is taken from the browser


def test_unknown_keys_are_dropped():
    schema = form(textfield("ho_ten"))
    cleaned, errors = validate_submission(schema, {"ho_ten": "An", "is_admin": True, "__proto__": {}})
    assert (cleaned, errors) == ({"ho_ten": "An"}, [])


def test_readonly_disabled_and_display_components_are_ignored():
    schema = form(
        field("textfield", "trang_thai", readonly=True),
        field("textfield", "ma_ho_so", disabled=True, validate={"required": True}),
        {"type": "expression", "key": "tong", "id": "Expr", "expression": "=1+1"},
        {"type": "text", "id": "Intro", "text": "# Hướng dẫn"},
        textfield("ho_ten"),
    )
    data = {"trang_thai": "da_duyet", "ma_ho_so": "X", "tong": 999, "Intro": "x", "ho_ten": "An"}
    assert validate_submission(schema, data) == ({"ho_ten": "An"}, [])


def test_group_path_nests_data():
    schema = form({"type": "group", "id": "G", "path": "nguoi.lien_he",
                   "components": [textfield("dien_thoai", required=True)]})
    cleaned, errors = validate_submission(schema, {"nguoi": {"lien_he": {"dien_thoai": "0912"}}})
    assert (cleaned, errors) == ({"nguoi": {"lien_he": {"dien_thoai": "0912"}}}, [])
    assert only_error(schema, {"dien_thoai": "0912"}).path == "nguoi.lien_he.dien_thoai"


def test_conditional_field_is_not_required_but_still_typed():
    schema = form(field("number", "so", validate={"required": True}, conditional={"hide": "=an"}))
    assert validate_submission(schema, {}) == ({}, [])
    assert only_error(schema, {"so": "abc"}).message.vi == "Giá trị phải là số."


# ---------------------------------------------------------------- dynamic lists


def ca_nhan_form(**list_props: object) -> dict:
    return form(dynamiclist("ca_nhan", textfield("ho_ten", required=True, maxLength=100),
                            select("thao_tac", "cap_moi", "thu_hoi"), **list_props))


def test_dynamiclist_bad_row_reports_indexed_path_and_component_id():
    rows = [{"ho_ten": "Nguyễn Văn A", "thao_tac": "cap_moi"}, {"ho_ten": "", "thao_tac": "thu_hoi"}]
    error = only_error(ca_nhan_form(), {"ca_nhan": rows})
    assert (error.path, error.field_id, error.message) == ("ca_nhan.1.ho_ten", "Field_ho_ten", REQUIRED)


def test_dynamiclist_cleans_each_row():
    rows = [{"ho_ten": "An", "thao_tac": "cap_moi", "la": 1}, {"ho_ten": "Bình"}]
    cleaned, errors = validate_submission(ca_nhan_form(), {"ca_nhan": rows})
    assert errors == []
    assert cleaned == {"ca_nhan": [{"ho_ten": "An", "thao_tac": "cap_moi"},
                                   {"ho_ten": "Bình", "thao_tac": None}]}


def test_dynamiclist_too_many_rows_and_bad_shapes():
    too_many = [{"ho_ten": "A"}] * (MAX_ROWS + 1)
    assert only_error(ca_nhan_form(), {"ca_nhan": too_many}).message.vi == f"Tối đa {MAX_ROWS} dòng."
    assert only_error(ca_nhan_form(), {"ca_nhan": {"0": {}}}).path == "ca_nhan"
    error = only_error(ca_nhan_form(), {"ca_nhan": [{"ho_ten": "A"}, "B"]})
    assert (error.path, error.field_id) == ("ca_nhan.1", "List_ca_nhan")


def test_dynamiclist_without_add_remove_keeps_row_count():
    schema = ca_nhan_form(allowAddRemove=False, defaultRepetitions=1)
    assert only_error(schema, {"ca_nhan": [{"ho_ten": "A"}, {"ho_ten": "B"}]}).path == "ca_nhan"
    context = {"ca_nhan": [{}, {}]}
    assert validate_submission(schema, {"ca_nhan": [{"ho_ten": "A"}, {"ho_ten": "B"}]}, context)[1] == []


# ---------------------------------------------------------------- whole submission


@pytest.mark.parametrize("data", [None, [], "x", 3])
def test_non_dict_data_is_one_error_at_root(data):
    error = only_error(form(textfield("a")), data)
    assert (error.path, error.field_id) == ("", "")
    assert error.as_dict()["message"]["vi"] == "Dữ liệu gửi lên phải là một đối tượng JSON."


def test_oversized_submission_is_rejected():
    error = only_error(form(field("textarea", "a")), {"a": "x" * 1_000_001})
    assert error.path == "" and "1 MB" in error.message.vi


def test_broken_schema_raises():
    with pytest.raises(FormSchemaError):
        validate_submission({"components": [{"type": "bogus"}]}, {})


# ---------------------------------------------------------------- dates and checkboxes


def test_datetime_date_validation():
    schema = form(field("datetime", "ngay", subtype="date"))
    assert only_error(schema, {"ngay": "2026-02-30"}).message.vi.startswith("Ngày không hợp lệ")
    assert only_error(schema, {"ngay": "30/01/2026"}).path == "ngay"
    assert validate_submission(schema, {"ngay": "2026-02-28"}) == ({"ngay": "2026-02-28"}, [])


def test_datetime_time_and_datetime_subtypes():
    schema = form(field("datetime", "gio", subtype="time", timeInterval=30),
                  field("datetime", "luc", subtype="datetime", timeSerializingFormat="utc_offset"))
    assert validate_submission(schema, {"gio": "13:30", "luc": "2026-03-01T08:15+07:00"})[1] == []
    assert only_error(schema, {"gio": "25:00"}).path == "gio"
    assert only_error(schema, {"gio": "13:20"}).message.vi == "Số phút phải là bội số của 30."
    assert only_error(schema, {"luc": "2026-03-01"}).message.vi == "Ngày giờ không hợp lệ."


def test_checkbox_required_means_checked():
    schema = form(field("checkbox", "dong_y", validate={"required": True}))
    assert only_error(schema, {"dong_y": False}).message == REQUIRED
    assert only_error(schema, {"dong_y": "true"}).message.vi == "Giá trị phải là đúng hoặc sai."
    assert validate_submission(schema, {"dong_y": True}) == ({"dong_y": True}, [])


# ---------------------------------------------------------------- schema checks


def test_check_schema_accepts_a_good_schema():
    assert check_schema(ca_nhan_form()) == []


def test_check_schema_finds_duplicate_keys_per_scope():
    problems = check_schema(form(textfield("ho_ten"), {**textfield("ho_ten"), "id": "Other"}))
    assert len(problems) == 1 and "ho_ten" in problems[0].vi and "trùng" in problems[0].vi
    # the same key inside a list row is a different scope
    row_field = {**textfield("ho_ten"), "id": "Row_ho_ten"}
    assert check_schema(form(textfield("ho_ten"), dynamiclist("ds", row_field))) == []
    assert check_schema(form(textfield("a"), {"type": "group", "id": "G", "path": "a",
                                              "components": [textfield("b")]}))


def test_check_schema_finds_bad_regex_and_bad_limits():
    problems = check_schema(form(textfield("a", pattern="([a-z"), textfield("b", maxLength="10"),
                                 textfield("c", pattern="(?i)abc")))
    assert [p.en.split(":")[0] for p in problems] == ["Component “Field_a”", "Component “Field_b”",
                                                      "Component “Field_c”"]
    assert "validate.pattern" in problems[0].vi and "maxLength" in problems[1].en


@pytest.mark.parametrize("schema", [
    [], {}, {"components": []},
    form({"type": "textfield", "id": "NoKey"}),
    form({"type": "mystery", "id": "M"}),
    form(textfield("1.a")),
    form(field("datetime", "d")),
    form(field("select", "s")),
    form(dynamiclist("", textfield("a"))),
])
def test_check_schema_rejects_unusable_schemas(schema):
    assert check_schema(schema)


# ---------------------------------------------------------------- loading and listing


def test_load_form_errors(tmp_path):
    (tmp_path / "bad.form").write_text("{nope", encoding="utf-8")
    (tmp_path / "big.form").write_text(" " * 1_000_001, encoding="utf-8")
    (tmp_path / "list.form").write_text("[]", encoding="utf-8")
    for name in ("bad.form", "big.form", "list.form", "missing.form"):
        with pytest.raises(FormSchemaError) as info:
            load_form(tmp_path / name)
        assert name in str(info.value)


def test_input_fields_lists_paths():
    schema = form({"type": "text", "id": "T", "text": "x"}, textfield("so"),
                  ca_nhan_form()["components"][0])
    assert [(f["path"], f["id"]) for f in input_fields(schema)] == [
        ("so", "Field_so"), ("ca_nhan.*.ho_ten", "Field_ho_ten"),
        ("ca_nhan.*.thao_tac", "Field_thao_tac")]


# ---------------------------------------------------------------- the project's forms


@pytest.mark.parametrize("path", sorted(FORMS_DIR.glob("*.form")), ids=lambda p: p.name)
def test_project_forms_pass_check_schema(path):
    assert check_schema(load_form(path)) == []


def test_email_account_request_sample_submission():
    path = FORMS_DIR / "email_account_request.form"
    if not path.exists():
        pytest.skip("form not written yet")
    person = {"ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Văn hóa - Thông tin", "chuc_vu": "Chuyên viên",
              "thao_tac": "doi_ten", "dia_chi_hien_tai": "nvan@dongthap.gov.vn", "ly_do": "Sai họ tên"}
    data = {
        "kenh_gui": "email_cong_vu", "so_cong_van": "125/UBND-VP",
        "noi_dung": "Đề nghị đổi tên tài khoản.",
        "ca_nhan": [person, {**person, "thao_tac": "cap_moi", "dia_chi_hien_tai": ""}],
        "tap_the": [{"ten_co_quan": "Trung tâm Văn hóa", "don_vi": "", "thao_tac": "thu_hoi",
                     "dia_chi_hien_tai": "ttvh@dongthap.gov.vn", "ly_do": "Giải thể"}],
        "nguoi_ky": "Trần Thị Bình", "chuc_vu_nguoi_ky": "Chủ tịch", "la": "bỏ",
    }
    cleaned, errors = validate_submission(load_form(path), json.loads(json.dumps(data)))
    assert errors == []
    assert "la" not in cleaned and cleaned["ca_nhan"][1]["thao_tac"] == "cap_moi"
    bad = {**data, "ca_nhan": [person, {**person, "dia_chi_hien_tai": "khong-hop-le"}]}
    error = validate_submission(load_form(path), bad)[1][0]
    assert (error.path, error.field_id) == ("ca_nhan.1.dia_chi_hien_tai", "Field_CaNhan_DiaChiHienTai")
