"""Excel for a form's repeatable list (form-js dynamiclist): a blank template, and rows read back.

Rows read from a file pass the same checks as the form's submission (`validate_submission`, then
the form's rules of engine.forms.rules):
every problem is reported by spreadsheet row and column, and no row is returned unless the
whole file is valid. Uploaded files are untrusted: size, zip layout, uncompressed size,
macros, XML declarations and row count are checked before openpyxl parses anything.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter

from engine.calendar import DEFAULT_TZ
from engine.domain.errors import InvalidData, NotFound
from engine.domain.messages import Message
from engine.domain.text import slug
from engine.forms import excel_template, rules
from engine.forms.common import CONTAINER_TYPES, INPUT_TYPES, MAX_DEPTH, has_condition, is_repeating, store
from engine.forms.context_rules import Submission
from engine.forms.excel_cells import ABSENT, CellError, Column, cell_value, normalized
from engine.forms.excel_package import MAX_UNPACKED_BYTES, NOT_XLSX, check_package, read_book, refuse
from engine.forms.messages import msg
from engine.forms.submission import validate_submission

__all__ = [
    "DEFAULT_MAX_BYTES", "MAX_FILE_ROWS", "MAX_SCAN_ROWS", "MAX_UNPACKED_BYTES", "CellError", "Column",
    "ListInfo", "blank_workbook", "file_name", "find_list", "list_fields", "read_rows", "repeatable_lists",
]

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
#: Data rows read from one file at most; the form's own limit (MAX_ROWS) is checked after.
MAX_FILE_ROWS = 2000
MAX_REPORTED = 200  # errors listed one by one; the rest are counted
#: Sheet rows walked at most: openpyxl steps through every row number up to the last row element.
MAX_SCAN_ROWS = 10 * MAX_FILE_ROWS
_EXTRA_COLUMNS = 30  # columns right of the table that are still looked at for stray data

NO_LIST = msg("Biểu mẫu không có danh sách này.", "The form has no such list.")
NO_HEADER = msg("Dòng 1 phải là hàng tiêu đề của mẫu; hãy tải mẫu Excel và giữ nguyên hàng tiêu đề.",
                "Row 1 must be the template's header row; download the template and keep its header row.")
NO_ROWS = msg("Tệp chưa có dòng dữ liệu nào (nhập từ dòng 2).", "The file has no data rows (start at row 2).")
FORMULA = msg("Ô chứa công thức; hãy dán giá trị.", "The cell holds a formula; paste the value instead.")
NO_COLUMN = msg("Cột này không có trong mẫu; hãy xoá dữ liệu ở cột này.",
                "This column is not in the template; clear its data.")
TOO_FAR_DOWN = msg(f"Trang tính có dữ liệu hoặc định dạng quá dòng {MAX_SCAN_ROWS}; hãy xoá các dòng thừa ở "
                   "cuối trang rồi lưu lại.",
                   f"The sheet has data or formatting beyond row {MAX_SCAN_ROWS}; delete the extra rows at the "
                   "end of the sheet and save again.")
TOO_MANY_FILE_ROWS = msg(f"Tệp có quá {MAX_FILE_ROWS} dòng dữ liệu.",
                         f"The file has more than {MAX_FILE_ROWS} data rows.")


def _cell_error(text: str) -> Message:
    return msg(f"Ô có lỗi Excel ({text}); hãy nhập giá trị.", f"The cell holds an Excel error ({text}); enter a value.")


def _summary(count: int) -> Message:
    return msg(f"Tệp Excel có {count} lỗi; chưa nhập dòng nào. Hãy sửa tệp và tải lên lại.",
               f"The Excel file has {count} error(s); no row was imported. Fix the file and upload it again.")


def _more(count: int) -> Message:
    return msg(f"Còn {count} lỗi khác không liệt kê.", f"{count} more error(s) not listed.")


@dataclass(frozen=True)
class ListInfo:
    """A repeatable list of a form that can be filled from Excel."""

    path: str  # full data path of its rows, e.g. "ca_nhan"
    label: str
    field_id: str


# ---------------------------------------------------------------- the form's lists


def _walk_lists(components: list, prefix: tuple[str, ...], depth: int) -> Iterator[tuple[str, dict]]:
    """(full path, component) of every repeatable list not nested in another one."""
    if depth > MAX_DEPTH:
        return
    for comp in components:
        if not isinstance(comp, dict) or comp.get("type") not in CONTAINER_TYPES:
            continue
        raw_path = comp.get("path")
        path = prefix + tuple(raw_path.split(".")) if isinstance(raw_path, str) and raw_path else prefix
        if is_repeating(comp):
            if path:
                yield ".".join(path), comp
        elif isinstance(comp.get("components"), list):
            yield from _walk_lists(comp["components"], path, depth + 1)


def repeatable_lists(schema: dict | None) -> list[ListInfo]:
    """The lists a template can be made for (those with at least one input column)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("components"), list):
        return []
    found = []
    for path, comp in _walk_lists(schema["components"], (), 0):
        if _columns(comp):
            found.append(ListInfo(path, _label(comp, path), str(comp.get("id") or "")))
    return found


def find_list(schema: dict | None, path: str) -> dict:
    """The dynamiclist component whose rows live at `path`; NotFound otherwise."""
    if isinstance(schema, dict) and isinstance(schema.get("components"), list):
        for found, comp in _walk_lists(schema["components"], (), 0):
            if found == path:
                return comp
    raise NotFound(NO_LIST)


def _label(comp: dict, path: str) -> str:
    """What the person sees above the field (a date/time field's own label), else its data path."""
    for name in ("label", "dateLabel", "timeLabel"):
        label = comp.get(name)
        if isinstance(label, str) and label.strip():
            return " ".join(label.split())
    return path


def _columns(comp: dict) -> list[Column]:
    fields: list[tuple[str, dict, bool]] = []
    _collect(comp.get("components") or [], (), False, fields, 0)
    return [Column(key=key, field_id=str(child.get("id") or ""), label=_label(child, key), kind=child["type"],
                   required=(child.get("validate") or {}).get("required") is True and not hidden,
                   letter=get_column_letter(index), component=child)
            for index, (key, child, hidden) in enumerate(fields, start=1)]


def _collect(components: list, prefix: tuple[str, ...], hidden: bool,
             out: list[tuple[str, dict, bool]], depth: int) -> None:
    """Writable inputs of one row in form order; nested repeatable lists cannot be one cell, so are left out."""
    if depth > MAX_DEPTH:
        return
    for child in components:
        if not isinstance(child, dict):
            continue
        kind, conditional = child.get("type"), hidden or has_condition(child)
        if kind in CONTAINER_TYPES and not is_repeating(child) and isinstance(child.get("components"), list):
            raw = child.get("path")
            path = prefix + tuple(raw.split(".")) if isinstance(raw, str) and raw else prefix
            _collect(child["components"], path, conditional, out, depth + 1)
        elif kind in INPUT_TYPES and isinstance(child.get("key"), str) and child["key"] \
                and not child.get("readonly") and not child.get("disabled"):
            out.append((".".join((*prefix, child["key"])), child, conditional))


def list_fields(schema: dict | None, path: str) -> list[Column]:
    """The list's input fields in form order, one spreadsheet column each (A, B, …)."""
    return _columns(find_list(schema, path))


def file_name(schema: dict | None, path: str) -> str:
    """An ASCII file name from the list's label: "Danh sách tài khoản cá nhân" → danh-sach-tai-khoan-ca-nhan.xlsx."""
    return f"{slug(_label(find_list(schema, path), path), 80) or 'danh-sach'}.xlsx"


def blank_workbook(schema: dict | None, path: str, *, context: dict[str, Any] | None = None,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The empty template for the list at `path`, as .xlsx bytes."""
    comp = find_list(schema, path)
    form_id = str((schema or {}).get("id") or "")
    return excel_template.build(_label(comp, path), _columns(comp), context or {}, form_id=form_id,
                                path=path, max_bytes=max_bytes)


# ---------------------------------------------------------------- the uploaded file


@dataclass
class _Sheet:
    header: list[tuple[object, str]]
    rows: list[tuple[int, list[tuple[object, str]]]]  # (Excel row number, [(value, data type)])


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _load_sheet(content: bytes, sheet_name: str, width: int) -> _Sheet:
    """Header and non-blank rows of the list's sheet (or the first one), read in read-only mode."""
    return read_book(content, lambda book: _read_sheet(book, sheet_name, width))


def _read_sheet(book: Any, sheet_name: str, width: int) -> _Sheet:
    worksheets = book.worksheets
    if not worksheets:
        raise refuse(NOT_XLSX)
    sheet = book[sheet_name] if sheet_name in book.sheetnames else worksheets[0]
    sheet.reset_dimensions()  # a lying <dimension> would pad rows up to it
    found = _Sheet([], [])
    span = min(width + _EXTRA_COLUMNS, 16_384)
    for number, cells in enumerate(sheet.iter_rows(min_row=1, max_col=span), start=1):
        if number > MAX_SCAN_ROWS:  # openpyxl only goes on when a row element lies further down
            raise refuse(TOO_FAR_DOWN)
        values = [(cell.value, cell.data_type) for cell in cells]
        if number == 1:
            found.header = values
        elif not all(_blank(value) for value, _ in values):
            if len(found.rows) >= MAX_FILE_ROWS:
                raise refuse(TOO_MANY_FILE_ROWS)
            found.rows.append((number, values))
    return found


def _check_header(header: list[tuple[object, str]], columns: list[Column]) -> None:
    """The header row must be the template's: names compared without "*", case or extra spaces."""
    cells = [str(value) if value is not None else "" for value, _ in header]
    while cells and not cells[-1].strip():
        cells.pop()
    if not cells:
        raise refuse(NO_HEADER)
    found = [normalized(text.replace("*", "")) for text in cells]
    expected = [normalized(column.label.replace("*", "")) for column in columns]
    if found == expected:
        return
    shown = {normalized(c.label.replace("*", "")): c.label for c in columns}
    missing = [shown[name] for name in expected if name not in found]
    unknown = [" ".join(text.replace("*", "").split()) or f"(cột {get_column_letter(i)} trống)"
               for i, (text, name) in enumerate(zip(cells, found, strict=True), start=1) if name not in expected]
    parts_vi, parts_en = [], []
    if missing:
        names = ", ".join(f"“{name}”" for name in missing)
        parts_vi.append(f"thiếu cột {names}")
        parts_en.append(f"missing {names}")
    if unknown:
        names = ", ".join(f"“{name}”" for name in unknown)
        parts_vi.append(f"cột không có trong mẫu {names}")
        parts_en.append(f"not in the template {names}")
    if not parts_vi:
        order = ", ".join(f"“{c.label}”" for c in columns)
        parts_vi.append(f"sai thứ tự cột, cần: {order}")
        parts_en.append(f"columns out of order, expected: {order}")
    message = msg("Hàng tiêu đề (dòng 1) không khớp với mẫu: " + "; ".join(parts_vi)
                  + ". Hãy tải mẫu Excel và giữ nguyên hàng tiêu đề.",
                  "The header row (row 1) does not match the template: " + "; ".join(parts_en)
                  + ". Download the template and keep its header row.")
    raise InvalidData(message, [CellError("", "", message, row=1)])


# ---------------------------------------------------------------- rows


@dataclass
class _Rows:
    """Rows as the form would submit them, and the problems found on the way."""

    columns: list[Column]
    path: str
    numbers: list[int]  # Excel row number of each data row
    data: list[dict[str, Any]]
    errors: list[tuple[int, int, CellError]]  # (row, column index) for sorting

    def add(self, index: int, column: Column | None, message: Message, excel_row: int | None = None) -> None:
        row = excel_row if excel_row is not None else self.numbers[index]
        if column is None:
            error = CellError("", "", message, row=row)
            self.errors.append((row, 0, error))
            return
        where = f"{self.path}.{index}.{column.key}" if index >= 0 else ""
        error = CellError(where, column.field_id, message, row=row, column=column.letter, label=column.label)
        self.errors.append((row, self.columns.index(column) + 1, error))


def _convert(sheet: _Sheet, columns: list[Column], path: str, context: dict[str, Any], timezone: str) -> _Rows:
    rows = _Rows(columns, path, [number for number, _ in sheet.rows], [], [])
    stray: set[int] = set()
    for index, (number, cells) in enumerate(sheet.rows):
        row: dict[str, Any] = {}
        for position, (value, kind) in enumerate(cells):
            if position >= len(columns):
                if not _blank(value) and position not in stray:
                    stray.add(position)
                    letter = get_column_letter(position + 1)
                    message = msg(f"Ô {letter}{number}: {NO_COLUMN.vi}", f"Cell {letter}{number}: {NO_COLUMN.en}")
                    rows.add(index, None, message)
                continue
            column = columns[position]
            if kind == "f":
                rows.add(index, column, FORMULA)
                continue
            if kind == "e":
                rows.add(index, column, _cell_error(str(value)))
                continue
            converted, problem = cell_value(column, value, context, timezone)
            if problem is not None:
                rows.add(index, column, problem)
            elif converted is not ABSENT:
                store(row, column.key.split("."), converted)
        rows.data.append(row)
    return rows


def _validate(comp: dict, rows: _Rows, context: dict[str, Any], lookups: Mapping[str, rules.Lookup] | None,
              submission: Submission | None) -> list[dict[str, Any]]:
    """The form's own checks and rules on all rows; their errors are placed by row and column."""
    segments = rows.path.split(".")
    data: dict[str, Any] = {}
    store(data, segments, rows.data)
    only_list = {**comp, "path": rows.path}
    only_list.pop("conditional", None)  # the person imports into this list on purpose
    cleaned, errors = validate_submission({"components": [only_list]}, data, context)
    errors += rules.rule_errors({"components": [only_list]}, cleaned, errors, lookups, submission)
    placed = {(e.row, e.column) for _, _, e in rows.errors}
    by_key = {column.key: column for column in rows.columns}
    for error in errors:
        index, _, key = error.path.removeprefix(rows.path + ".").partition(".")
        if not error.path.startswith(rows.path + ".") or not index.isdigit():
            rows.errors.append((0, 0, CellError(error.path, error.field_id, error.message)))
            continue
        column = by_key.get(key) or next((c for c in rows.columns if c.field_id == error.field_id), None)
        row = rows.numbers[int(index)]
        if (row, column.letter if column else None) not in placed:  # one message per cell
            rows.add(int(index), column, error.message)
    value: Any = cleaned
    for segment in segments:
        value = value.get(segment, []) if isinstance(value, dict) else []
    return list(value)


def read_rows(schema: dict | None, path: str, content: bytes, *, context: dict[str, Any] | None = None,
              max_bytes: int = DEFAULT_MAX_BYTES, timezone: str = DEFAULT_TZ,
              lookups: Mapping[str, rules.Lookup] | None = None,
              submission: Submission | None = None) -> list[dict[str, Any]]:
    """The list's rows from an uploaded .xlsx, as the form would store them; InvalidData if anything is wrong.

    `context` is the data the form opened with (options from `valuesKey`, row count of a
    list without add/remove buttons); `lookups` answer the form rules' `check`s (engine.forms.rules),
    `submission` says when and by whom for the rules that read it (engine.forms.context_rules),
    as when the task is completed. Blank rows are skipped; cells may hold an option's
    label or value, dates as Excel dates or dd/mm/yyyy text, yes/no as Có/Không, x, TRUE.
    """
    comp = find_list(schema, path)
    columns = _columns(comp)
    check_package(content, max_bytes)
    sheet = _load_sheet(content, excel_template.sheet_title(_label(comp, path)), len(columns))
    _check_header(sheet.header, columns)
    if not sheet.rows:
        raise refuse(NO_ROWS)
    rows = _convert(sheet, columns, path, context or {}, timezone)
    cleaned = _validate(comp, rows, context or {}, lookups, submission)
    if rows.errors:
        ordered = [error for *_, error in sorted(rows.errors, key=lambda item: (item[0], item[1]))]
        shown = ordered[:MAX_REPORTED]
        if len(ordered) > MAX_REPORTED:
            shown.append(CellError("", "", _more(len(ordered) - MAX_REPORTED)))
        raise InvalidData(_summary(len(ordered)), shown)
    return cleaned
