"""The blank .xlsx people fill in for a form's repeatable list: headers, dropdowns and a guide sheet."""
from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from engine.forms.common import MAX_ROWS, is_count, is_finite_number
from engine.forms.excel_cells import CHOICE_SEPARATOR, Column, options
from engine.reports.excel import BORDER, sheet_name, style_header

GUIDE_SHEET = "Hướng dẫn"
OPTIONS_SHEET = "Danh mục"
DATA_SHEET = "Danh sách"  # the data sheet's name when the list's label gives none
#: The templates' header blue; the rest of the header look is the exports' (engine.reports.excel).
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_WRAP = Alignment(wrap_text=True, vertical="top")
_NUMBER_FORMATS = {"date": "DD/MM/YYYY", "time": "HH:MM", "datetime": "DD/MM/YYYY HH:MM"}
_FORMATS = {
    "textfield": "Chữ, một dòng", "textarea": "Chữ, có thể nhiều dòng (Alt+Enter để xuống dòng)",
    "select": "Một giá trị trong danh sách (chọn ở mũi tên của ô)",
    "radio": "Một giá trị trong danh sách (chọn ở mũi tên của ô)",
    "checklist": f"Một hoặc nhiều giá trị trong danh sách, cách nhau bởi dấu “{CHOICE_SEPARATOR}”",
    "taglist": f"Một hoặc nhiều giá trị trong danh sách, cách nhau bởi dấu “{CHOICE_SEPARATOR}”",
    "checkbox": "Có hoặc Không (cũng nhận x, TRUE/FALSE, 1/0)",
}
_DATETIME_FORMATS = {
    "date": "Ngày, dạng dd/mm/yyyy (ví dụ 26/11/2026)", "time": "Giờ, dạng HH:MM (ví dụ 08:30)",
    "datetime": "Ngày giờ, dạng dd/mm/yyyy HH:MM (ví dụ 26/11/2026 08:30)",
}


def sheet_title(label: str) -> str:
    """The data sheet's name: the list's label as Excel accepts it, never the name of the other sheets."""
    title = sheet_name(label, DATA_SHEET)
    return DATA_SHEET if title.casefold() in (GUIDE_SHEET.casefold(), OPTIONS_SHEET.casefold()) else title


def build(label: str, columns: list[Column], context: dict[str, Any], *, form_id: str, path: str,
          max_bytes: int) -> bytes:
    """The template as .xlsx bytes: the data sheet first, then the guide, then hidden option lists."""
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title(label)
    _header(sheet, columns)
    lists = book.create_sheet(OPTIONS_SHEET)
    _dropdowns(sheet, lists, columns, context)
    lists.sheet_state = "hidden"
    guide = book.create_sheet(GUIDE_SHEET, 1)
    _guide(guide, sheet.title, label, columns, context, max_bytes)
    props = book.properties
    props.title = label
    props.subject = f"Mẫu nhập “{label}” từ Excel"
    props.creator = props.lastModifiedBy = "Nền tảng quy trình nội bộ"
    props.description = "Điền mỗi dòng một mục từ dòng 2; xem trang “Hướng dẫn”. Lưu dạng .xlsx."
    props.keywords = f"form={form_id}; list={path}"
    props.language = "vi-VN"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _width(column: Column) -> float:
    longest = max(len(word) for word in column.header.split()) if column.header.split() else 10
    length = (column.component.get("validate") or {}).get("maxLength")
    if column.kind == "textarea" or (isinstance(length, int) and length > 150):
        return 48
    if column.kind in ("select", "radio", "checklist", "taglist"):
        return 28
    return float(min(40, max(16, longest + 4, len(column.header) // 2 + 4)))


def _header(sheet: Worksheet, columns: list[Column]) -> None:
    for index, column in enumerate(columns, start=1):
        sheet.cell(1, index, column.header)
        dimension = sheet.column_dimensions[column.letter]
        dimension.width = _width(column)
        subtype = column.component.get("subtype")
        if column.kind in ("textfield", "textarea"):
            dimension.number_format = "@"  # keeps leading zeros and long digit strings as typed
        elif column.kind == "datetime" and subtype in _NUMBER_FORMATS:
            dimension.number_format = _NUMBER_FORMATS[subtype]
    style_header(sheet, 1, len(columns), fill=_HEADER_FILL)
    sheet.row_dimensions[1].height = 45
    sheet.freeze_panes = "A2"


def _dropdowns(sheet: Worksheet, lists: Worksheet, columns: list[Column], context: dict[str, Any]) -> None:
    """An in-cell list for single-choice and yes/no columns; option labels sit on a hidden sheet."""
    used = 0
    for column in columns:
        rows = f"{column.letter}2:{column.letter}{MAX_ROWS + 1}"
        if column.kind == "checkbox":
            rule = DataValidation(type="list", formula1='"Có,Không"', allow_blank=True)
        elif column.kind in ("select", "radio") and (pairs := options(column, context)):
            used += 1
            lists.cell(1, used, column.label)
            for row, (label, _) in enumerate(pairs, start=2):
                lists.cell(row, used, label).number_format = "@"
            letter = lists.cell(1, used).column_letter
            rule = DataValidation(type="list", formula1=f"'{OPTIONS_SHEET}'!${letter}$2:${letter}${len(pairs) + 1}",
                                  allow_blank=True)
        else:
            continue
        rule.error, rule.errorTitle = "Hãy chọn một giá trị trong danh sách.", "Giá trị không hợp lệ"
        rule.prompt, rule.promptTitle = "Chọn trong danh sách.", column.label[:32]
        rule.showErrorMessage = rule.showInputMessage = True
        sheet.add_data_validation(rule)
        rule.add(rows)


def _allowed(column: Column, context: dict[str, Any]) -> str:
    rules, comp = column.component.get("validate") or {}, column.component
    if column.kind in ("select", "radio", "checklist", "taglist"):
        pairs = options(column, context)
        return "; ".join(label for label, _ in pairs) if pairs else "Theo danh mục của biểu mẫu"
    parts = []
    if rules.get("validationType") == "email":
        parts.append("Địa chỉ thư điện tử, ví dụ nguyenvana@dongthap.gov.vn")
    elif rules.get("validationType") == "phone":
        parts.append("Số điện thoại dạng quốc tế, ví dụ +84912345678")
    if isinstance(rules.get("pattern"), str) and rules["pattern"]:
        custom = rules.get("patternErrorMessage")
        parts.append(f"Đúng mẫu quy định ({custom})" if isinstance(custom, str) and custom.strip()
                     else "Đúng mẫu quy định của biểu mẫu")
    if is_finite_number(rules.get("min")):
        parts.append(f"Nhỏ nhất {rules['min']}")
    if is_finite_number(rules.get("max")):
        parts.append(f"Lớn nhất {rules['max']}")
    if column.kind == "number" and comp.get("decimalDigits") == 0:
        parts.append("Số nguyên")
    elif column.kind == "number" and is_count(comp.get("decimalDigits")):
        parts.append(f"Tối đa {comp['decimalDigits']} chữ số thập phân")
    if column.kind == "datetime" and comp.get("disallowPassedDates"):
        parts.append("Không được là ngày đã qua")
    return "; ".join(parts)


def _format(column: Column) -> str:
    if column.kind == "number":
        return "Số (dấu chấm hoặc dấu phẩy thập phân)"
    if column.kind == "datetime":
        return _DATETIME_FORMATS.get(str(column.component.get("subtype")), "Ngày giờ")
    return _FORMATS.get(column.kind, "")


def _guide(guide: Worksheet, data_sheet: str, label: str, columns: list[Column], context: dict[str, Any],
           max_bytes: int) -> None:
    guide.cell(1, 1, f"Hướng dẫn nhập “{label}” từ Excel").font = Font(bold=True, size=14, color="1F4E79")
    notes = [
        f"1. Nhập mỗi dòng một mục vào trang “{data_sheet}”, bắt đầu từ dòng 2; dòng để trống được bỏ qua.",
        "2. Giữ nguyên hàng tiêu đề (dòng 1): không đổi tên, thêm, bớt hay đổi thứ tự cột. "
        "Cột có dấu * là bắt buộc.",
        "3. Chỉ nhập giá trị, không dùng công thức. Lưu tệp dạng .xlsx (không nhận .xls, .csv, tệp có macro).",
        f"4. Tệp tối đa {max_bytes / (1024 * 1024):g} MB và {MAX_ROWS} dòng. "
        "Nếu có lỗi, hệ thống báo theo dòng và cột, và không nhập dòng nào cho đến khi cả tệp hợp lệ.",
        "5. Sau khi nhập, các dòng hiện trong biểu mẫu để bạn xem lại; dữ liệu chỉ được lưu khi bấm “Hoàn thành”.",
    ]
    for row, note in enumerate(notes, start=3):
        guide.cell(row, 1, note)
    top = len(notes) + 4
    titles = ["Cột", "Tiêu đề", "Bắt buộc", "Giá trị cho phép", "Định dạng", "Độ dài tối đa", "Ghi chú"]
    for index, title in enumerate(titles, start=1):
        guide.cell(top, index, title)
    style_header(guide, top, len(titles), fill=_HEADER_FILL)
    for row, column in enumerate(columns, start=top + 1):
        length = (column.component.get("validate") or {}).get("maxLength")
        description = column.component.get("description")
        values = [column.letter, column.label, "Có" if column.required else "Không", _allowed(column, context),
                  _format(column), f"{length} ký tự" if is_count(length) else "",
                  description if isinstance(description, str) else ""]
        for index, value in enumerate(values, start=1):
            cell = guide.cell(row, index, value)
            cell.alignment, cell.border = _WRAP, BORDER
    for letter, width in zip("ABCDEFG", (7, 32, 10, 44, 36, 14, 44), strict=True):
        guide.column_dimensions[letter].width = width
