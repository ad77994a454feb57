"""Excel import into a form's repeatable list: the template, the form's rules per cell, unsafe files."""
from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from engine.domain.errors import InvalidData, NotFound
from engine.forms import excel
from engine.forms.common import MAX_ROWS

FORMS = Path(__file__).resolve().parents[2] / "forms"

# A videoconference list with every kind of field the import converts.
SCHEMA: dict[str, Any] = {
    "type": "default", "id": "hoi_nghi_truyen_hinh", "components": [
        {"type": "textfield", "id": "Field_TieuDe", "key": "tieu_de", "label": "Tên hội nghị"},
        {"type": "dynamiclist", "id": "List_DiemCau", "label": "Điểm cầu truyền hình", "path": "diem_cau",
         "isRepeating": True, "allowAddRemove": True, "components": [
             {"type": "textfield", "id": "F_Ten", "key": "ten", "label": "Tên điểm cầu",
              "validate": {"required": True, "maxLength": 20}},
             {"type": "select", "id": "F_Loai", "key": "loai", "label": "Loại điểm cầu",
              "values": [{"label": "Điểm cầu chính", "value": "chinh"}, {"label": "Điểm cầu phụ", "value": "phu"}],
              "validate": {"required": True}},
             {"type": "radio", "id": "F_KetNoi", "key": "ket_noi", "label": "Kết nối",
              "values": [{"label": "Có dây", "value": "co_day"}, {"label": "Không dây", "value": "khong_day"}]},
             {"type": "number", "id": "F_SoNguoi", "key": "so_nguoi", "label": "Số người dự",
              "decimalDigits": 0, "validate": {"min": 1}},
             {"type": "datetime", "id": "F_Ngay", "key": "ngay", "subtype": "date", "dateLabel": "Ngày họp"},
             {"type": "datetime", "id": "F_Gio", "key": "gio", "subtype": "time", "timeLabel": "Giờ bắt đầu",
              "timeInterval": 15},
             {"type": "checkbox", "id": "F_MayChieu", "key": "may_chieu", "label": "Có máy chiếu"},
             {"type": "checklist", "id": "F_ThietBi", "key": "thiet_bi", "label": "Thiết bị",
              "values": [{"label": "Camera", "value": "camera"}, {"label": "Micro, loa", "value": "micro"}]},
             {"type": "group", "id": "G_LienHe", "path": "lien_he", "components": [
                 {"type": "textfield", "id": "F_DienThoai", "key": "dien_thoai", "label": "Điện thoại",
                  "validate": {"validationType": "phone"}}]},
             {"type": "textfield", "id": "F_Ma", "key": "ma", "label": "Mã (hệ thống cấp)", "readonly": True},
         ]},
    ]}
HEADERS = ["Tên điểm cầu *", "Loại điểm cầu *", "Kết nối", "Số người dự", "Ngày họp", "Giờ bắt đầu",
           "Có máy chiếu", "Thiết bị", "Điện thoại"]


def email_schema() -> dict[str, Any]:
    return dict(json.loads((FORMS / "email_account_request.form").read_text(encoding="utf-8")))


def workbook(rows: list[list[Any]], headers: list[Any] | None = None) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS if headers is None else headers)
    for row in rows:
        sheet.append(row)
    return book


def xlsx(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def refused(content: bytes, schema: dict[str, Any] = SCHEMA, path: str = "diem_cau", **kwargs: Any) -> InvalidData:
    with pytest.raises(InvalidData) as caught:
        excel.read_rows(schema, path, content, **kwargs)
    return caught.value


def placed(error: InvalidData) -> list[tuple[int | None, str | None, str | None, str]]:
    return [(d.row, d.column, d.label, d.message.vi) for d in error.details]


# ---------------------------------------------------------------- the list's columns


def test_columns_follow_the_form_and_leave_out_readonly_fields() -> None:
    columns = excel.list_fields(SCHEMA, "diem_cau")
    assert [c.header for c in columns] == HEADERS
    assert [c.letter for c in columns] == list("ABCDEFGHI")
    assert [c.key for c in columns][-1] == "lien_he.dien_thoai"
    assert [(lst.path, lst.label) for lst in excel.repeatable_lists(email_schema())] == [
        ("ca_nhan", "Danh sách tài khoản cá nhân"), ("tap_the", "Danh sách tài khoản tập thể")]
    with pytest.raises(NotFound):
        excel.list_fields(SCHEMA, "khong_co")
    assert excel.file_name(email_schema(), "ca_nhan") == "danh-sach-tai-khoan-ca-nhan.xlsx"


def test_blank_template_has_styled_headers_dropdowns_and_a_guide() -> None:
    book = openpyxl.load_workbook(io.BytesIO(excel.blank_workbook(SCHEMA, "diem_cau")))
    assert book.sheetnames == ["Điểm cầu truyền hình", "Hướng dẫn", "Danh mục"]
    sheet = book["Điểm cầu truyền hình"]
    assert [cell.value for cell in sheet[1]] == HEADERS
    header = sheet["A1"]
    assert header.font.bold and header.font.color.rgb.endswith("FFFFFF") and header.fill.fgColor.rgb.endswith("1F4E79")
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= 16
    rules = {str(rule.sqref): rule.formula1 for rule in sheet.data_validations.dataValidation}
    assert rules["B2:B501"] == "'Danh mục'!$A$2:$A$3"
    assert rules["G2:G501"] == '"Có,Không"'
    options = book["Danh mục"]
    assert [options["A2"].value, options["A3"].value] == ["Điểm cầu chính", "Điểm cầu phụ"]
    assert options.sheet_state == "hidden"
    guide = [[cell.value for cell in row] for row in book["Hướng dẫn"].iter_rows()]
    rows = {row[1]: row for row in guide if row[0] in set("ABCDEFGHI")}
    assert rows["Tên điểm cầu"][2:6] == ["Có", None, "Chữ, một dòng", "20 ký tự"]
    assert rows["Loại điểm cầu"][3] == "Điểm cầu chính; Điểm cầu phụ"
    assert rows["Ngày họp"][4].startswith("Ngày, dạng dd/mm/yyyy")
    assert book.properties.title == "Điểm cầu truyền hình"
    assert book.properties.keywords == "form=hoi_nghi_truyen_hinh; list=diem_cau"


def test_sheet_names_drop_forbidden_characters() -> None:
    schema = json.loads(json.dumps(SCHEMA))
    schema["components"][1]["label"] = "Biểu 2.1: danh sách [điểm cầu] / phòng họp trực tuyến cấp xã"
    book = openpyxl.load_workbook(io.BytesIO(excel.blank_workbook(schema, "diem_cau")))
    title = book.sheetnames[0]
    assert len(title) <= 31 and not set(title) & set("[]:*?/\\")
    assert title.startswith("Biểu 2.1 danh sách điểm cầu")


# ---------------------------------------------------------------- good files


def test_good_file_gives_rows_as_the_form_stores_them() -> None:
    content = xlsx(workbook([
        ["Trụ sở UBND tỉnh", "Điểm cầu chính", "co_day", 45, dt.datetime(2026, 11, 26), dt.time(8, 30), "x",
         "Camera; Micro, loa", "+84912345678"],
        [None] * 9,  # blank rows are skipped
        ["  UBND xã Mỹ An ", "điểm cầu PHỤ", "Không dây", "12", "27/11/2026", "14:00", "Không", None, None],
    ]))
    assert excel.read_rows(SCHEMA, "diem_cau", content) == [
        {"ten": "Trụ sở UBND tỉnh", "loai": "chinh", "ket_noi": "co_day", "so_nguoi": 45, "ngay": "2026-11-26",
         "gio": "08:30", "may_chieu": True, "thiet_bi": ["camera", "micro"],
         "lien_he": {"dien_thoai": "+84912345678"}},
        {"ten": "UBND xã Mỹ An", "loai": "phu", "ket_noi": "khong_day", "so_nguoi": 12, "ngay": "2026-11-27",
         "gio": "14:00", "may_chieu": False, "thiet_bi": [], "lien_he": {"dien_thoai": ""}},
    ]


def test_headers_match_without_star_case_or_extra_spaces() -> None:
    headers = [h.replace(" *", "").upper() for h in HEADERS]
    headers[0] = "  tên   điểm cầu  "
    content = xlsx(workbook([["Hội trường", "Điểm cầu phụ"]], headers=headers))
    assert excel.read_rows(SCHEMA, "diem_cau", content)[0]["loai"] == "phu"


def test_round_trip_of_the_email_request_template() -> None:
    schema = email_schema()
    book = openpyxl.load_workbook(io.BytesIO(excel.blank_workbook(schema, "ca_nhan")))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == ["Họ và tên *", "Đơn vị công tác *", "Chức vụ",
                                           "Nội dung đề nghị (ghi chú) *",
                                           "Địa chỉ thư hiện tại (khi đổi tên, cấp lại mật khẩu, thu hồi)",
                                           "Ghi chú / lý do"]
    sheet.append(["Nguyễn Văn An", "Phòng Kế hoạch", "Chuyên viên", "Cấp mới"])
    sheet.append(["Lê Thị Thu", "Văn phòng Sở", None, "Thu hồi", "thult@dongthap.gov.vn", "Nghỉ hưu"])
    rows = excel.read_rows(schema, "ca_nhan", xlsx(book))
    assert rows == [
        {"ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch", "chuc_vu": "Chuyên viên", "thao_tac": "cap_moi",
         "dia_chi_hien_tai": "", "ly_do": ""},
        {"ho_ten": "Lê Thị Thu", "don_vi": "Văn phòng Sở", "chuc_vu": "", "thao_tac": "thu_hoi",
         "dia_chi_hien_tai": "thult@dongthap.gov.vn", "ly_do": "Nghỉ hưu"},
    ]


# ---------------------------------------------------------------- bad rows


def test_every_bad_cell_is_reported_by_row_and_column_and_nothing_is_returned() -> None:
    book = workbook([
        ["Hội trường A", "Điểm cầu chính", None, 10, "26/11/2026", "08:30"],
        [None, "Điểm cầu khác", None, 0, "31/02/2026", "08:10", "có thể"],
        ["Tên quá dài vượt hai mươi ký tự", "Điểm cầu phụ", None, "mười", None, None, None, "Máy in", "0912"],
    ])
    book.active["D4"] = "=1+1"
    error = refused(xlsx(book))
    assert error.message.vi == "Tệp Excel có 10 lỗi; chưa nhập dòng nào. Hãy sửa tệp và tải lên lại."
    assert placed(error) == [
        (3, "A", "Tên điểm cầu", "Trường này là bắt buộc."),
        (3, "B", "Loại điểm cầu", "“Điểm cầu khác” không có trong danh sách cho phép: Điểm cầu chính; Điểm cầu phụ."),
        (3, "D", "Số người dự", "Giá trị nhỏ nhất là 1."),
        (3, "E", "Ngày họp", "Ngày không hợp lệ; nhập theo dạng dd/mm/yyyy (ví dụ 26/11/2026)."),
        (3, "F", "Giờ bắt đầu", "Số phút phải là bội số của 15."),
        (3, "G", "Có máy chiếu", "Chỉ nhận Có hoặc Không (hoặc x, TRUE/FALSE, 1/0)."),
        (4, "A", "Tên điểm cầu", "Tối đa 20 ký tự."),
        (4, "D", "Số người dự", "Ô chứa công thức; hãy dán giá trị."),
        (4, "H", "Thiết bị", "“Máy in” không có trong danh sách cho phép: Camera; Micro, loa."),
        (4, "I", "Điện thoại", "Số điện thoại không hợp lệ (dạng quốc tế, ví dụ +84912345678)."),
    ]
    assert error.message.en.startswith("The Excel file has 10 error(s)")


def test_errors_serialise_like_field_errors_with_row_and_column() -> None:
    error = refused(xlsx(workbook([["Hội trường", "Sai"]])))
    assert error.details[0].as_dict() == {
        "path": "diem_cau.0.loai", "field_id": "F_Loai", "row": 2, "column": "B", "label": "Loại điểm cầu",
        "message": {"vi": "“Sai” không có trong danh sách cho phép: Điểm cầu chính; Điểm cầu phụ.",
                    "en": "“Sai” is not one of the allowed values: Điểm cầu chính; Điểm cầu phụ."}}


def test_phone_pattern_and_excel_error_cells_use_the_form_messages() -> None:
    book = workbook([["Hội trường", "Điểm cầu phụ", None, None, None, None, None, None, "0912 345 678"]])
    book.active["D2"] = "#N/A"
    assert placed(refused(xlsx(book))) == [
        (2, "D", "Số người dự", "Ô có lỗi Excel (#N/A); hãy nhập giá trị."),
        (2, "I", "Điện thoại", "Số điện thoại không hợp lệ (dạng quốc tế, ví dụ +84912345678)."),
    ]


def test_data_in_a_column_outside_the_template_is_refused() -> None:
    book = workbook([["Hội trường", "Điểm cầu phụ"]])
    book.active["L2"] = "ghi chú lạc"
    assert placed(refused(xlsx(book))) == [
        (2, None, None, "Ô L2: Cột này không có trong mẫu; hãy xoá dữ liệu ở cột này.")]


def test_the_forms_row_limit_and_the_file_row_limit() -> None:
    many = workbook([[f"Điểm {i}", "Điểm cầu phụ"] for i in range(MAX_ROWS + 1)])
    assert placed(refused(xlsx(many))) == [(None, None, None, f"Tối đa {MAX_ROWS} dòng.")]
    too_many = workbook([[f"Điểm {i}", "Điểm cầu phụ"] for i in range(excel.MAX_FILE_ROWS + 1)])
    assert refused(xlsx(too_many)).message.vi == f"Tệp có quá {excel.MAX_FILE_ROWS} dòng dữ liệu."


def test_a_list_without_add_and_remove_keeps_its_row_count() -> None:
    schema = json.loads(json.dumps(SCHEMA))
    schema["components"][1]["allowAddRemove"] = False
    content = xlsx(workbook([["A", "Điểm cầu phụ"], ["B", "Điểm cầu phụ"]]))
    rows = [{"ten": "X"}, {"ten": "Y"}]
    assert len(excel.read_rows(schema, "diem_cau", content, context={"diem_cau": rows})) == 2
    error = refused(content, schema, context={"diem_cau": [{}]})
    assert placed(error) == [(None, None, None, "Không được thêm hoặc bớt dòng (cần đúng 1 dòng).")]


# ---------------------------------------------------------------- headers and empty files


@pytest.mark.parametrize(("headers", "expected"), [
    (HEADERS[:-1], "thiếu cột “Điện thoại”"),
    ([*HEADERS, "Ghi chú"], "cột không có trong mẫu “Ghi chú”"),
    ([HEADERS[1], HEADERS[0], *HEADERS[2:]], "sai thứ tự cột, cần: “Tên điểm cầu”, “Loại điểm cầu”"),
    (["Họ tên", *HEADERS[1:]], "thiếu cột “Tên điểm cầu”; cột không có trong mẫu “Họ tên”"),
])
def test_wrong_headers_give_one_error_naming_them(headers: list[str], expected: str) -> None:
    error = refused(xlsx(workbook([["Hội trường", "Điểm cầu phụ"]], headers=headers)))
    assert error.message.vi.startswith("Hàng tiêu đề (dòng 1) không khớp với mẫu: " + expected)
    assert error.message.vi.endswith("Hãy tải mẫu Excel và giữ nguyên hàng tiêu đề.")
    assert [(d.row, d.column) for d in error.details] == [(1, None)]


def test_empty_files_are_refused() -> None:
    assert refused(b"").message.vi == "Tệp rỗng."
    assert refused(xlsx(openpyxl.Workbook())).message.vi.startswith("Dòng 1 phải là hàng tiêu đề của mẫu")
    template = excel.blank_workbook(SCHEMA, "diem_cau")
    assert refused(template).message.vi == "Tệp chưa có dòng dữ liệu nào (nhập từ dòng 2)."


# ---------------------------------------------------------------- unsafe or foreign files


def zipped(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def with_parts(content: bytes, replace: dict[str, bytes]) -> bytes:
    """The same .xlsx with some parts replaced or added."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    return zipped({**parts, **replace})


NOT_XLSX = "Tệp không phải bảng tính Excel .xlsx hợp lệ."


@pytest.mark.parametrize(("content", "message"), [
    ("Tên điểm cầu,Loại điểm cầu\nHội trường,Điểm cầu phụ\n".encode(), NOT_XLSX),
    (bytes(range(256)) * 8, NOT_XLSX),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, "Tệp có định dạng Excel 97–2003 (.xls) hoặc đã đặt mật khẩu"),
    (b"PK\x03\x04 truncated", NOT_XLSX),
    (zipped({"word/document.xml": b"<w:document/>", "[Content_Types].xml": b"<Types/>"}), NOT_XLSX),
])
def test_files_that_are_not_xlsx_are_refused(content: bytes, message: str) -> None:
    assert refused(content).message.vi.startswith(message)


def test_oversized_file_is_refused_before_reading() -> None:
    content = xlsx(workbook([["Hội trường", "Điểm cầu phụ"]]))
    limit = len(content) - 1
    assert refused(content, max_bytes=limit).message.vi == f"Tệp quá lớn (tối đa {limit / 1048576:g} MB)."
    assert refused(b"x" * (2 * 1024 * 1024 + 1)).message.vi == "Tệp quá lớn (tối đa 2 MB)."


def test_macro_workbooks_are_refused() -> None:
    good = xlsx(workbook([["Hội trường", "Điểm cầu phụ"]]))
    with_vba = with_parts(good, {"xl/vbaProject.bin": b"\0" * 64})
    assert refused(with_vba).message.vi == "Tệp chứa macro, không được chấp nhận."
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        types = archive.read("[Content_Types].xml")
    macro_types = types.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    assert macro_types != types
    assert refused(with_parts(good, {"[Content_Types].xml": macro_types})).message.vi == \
        "Tệp chứa macro, không được chấp nhận."


def test_zip_bombs_and_xml_declarations_are_refused() -> None:
    good = xlsx(workbook([["Hội trường", "Điểm cầu phụ"]]))
    bomb = with_parts(good, {"xl/media/padding.xml": b"0" * (excel.MAX_UNPACKED_BYTES + 1)})
    assert len(bomb) < 1024 * 1024
    assert refused(bomb).message.vi == "Nội dung giải nén của tệp quá lớn."
    entity = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet/>'
    assert refused(with_parts(good, {"xl/worksheets/sheet1.xml": entity})).message.vi == \
        "Tệp chứa khai báo XML (DOCTYPE/ENTITY), không được chấp nhận."


def test_a_row_far_below_the_table_is_refused_without_walking_to_it() -> None:
    good = xlsx(workbook([["Hội trường", "Điểm cầu phụ"]]))
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    far = b'<row r="99999999"><c r="A99999999" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    error = refused(with_parts(good, {"xl/worksheets/sheet1.xml": sheet.replace(b"</sheetData>", far)}))
    assert error.message.vi.startswith(f"Trang tính có dữ liệu hoặc định dạng quá dòng {excel.MAX_SCAN_ROWS};")


def test_a_formula_is_never_evaluated() -> None:
    book = workbook([["Hội trường", "Điểm cầu phụ", None, None, None, None, '=HYPERLINK("x","y")']])
    assert placed(refused(xlsx(book))) == [(2, "G", "Có máy chiếu", "Ô chứa công thức; hãy dán giá trị.")]


@pytest.mark.parametrize(("style", "cell", "expected"), [
    (None, dt.datetime(2026, 11, 26, 8, 30), "2026-11-26T08:30"),
    ("utc_offset", "26/11/2026 08:30", "2026-11-26T08:30+07:00"),
    ("utc_normalized", dt.datetime(2026, 11, 26, 3, 0), "2026-11-25T20:00Z"),
    ("no_timezone", 46352.5, "2026-11-26T12:00"),  # an Excel serial left unformatted
])
def test_date_and_time_cells_are_written_as_form_js_serialises_them(style: str | None, cell: object,
                                                                   expected: str) -> None:
    field: dict[str, Any] = {"type": "datetime", "id": "F_LucBatDau", "key": "luc", "subtype": "datetime",
                             "dateLabel": "Ngày giờ bắt đầu"}
    if style:
        field["timeSerializingFormat"] = style
    schema = {"components": [{"type": "dynamiclist", "id": "L", "label": "Lịch họp", "path": "lich",
                              "isRepeating": True, "allowAddRemove": True, "components": [field]}]}
    book = workbook([[cell]], headers=["Ngày giờ bắt đầu"])
    assert excel.read_rows(schema, "lich", xlsx(book)) == [{"luc": expected}]
