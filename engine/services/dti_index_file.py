"""An index set (bộ chỉ số DTI) read from an Excel workbook, and the rules every index set must keep.

The workbook is untrusted: it goes through the same package checks as every uploaded .xlsx
(engine.forms.excel_package: size, zip layout, unpacked size, macros, XML declarations) before
openpyxl reads it in read-only mode. The header row (“Mã chỉ số”, “Tên chỉ số”, “Điểm tối đa”, …) may
sit below title lines; columns are found by their header, in any order, extra columns ignored.
Every problem is reported with its spreadsheet row (and column), in Vietnamese and English; the
caller stores nothing unless `read_workbook` and `problems` find none. docs/dti.md describes the file.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from openpyxl.utils import get_column_letter

from engine.domain.dti import PointsError, ScoringMethod, UnitGroup, points, points_text
from engine.domain.errors import InvalidData
from engine.domain.messages import Message
from engine.domain.text import ascii_words
from engine.forms.excel_cells import CellError
from engine.forms.excel_package import check_package, read_book, refuse

MAX_INDICATORS = 2000
#: Rows above the header that may hold titles.
HEADER_SEARCH_ROWS = 10
MAX_SCAN_ROWS = 5 * MAX_INDICATORS
MAX_DEPTH = 5
MAX_REPORTED = 200
CODE = re.compile(r"^[0-9A-Za-z](?:[0-9A-Za-z._-]{0,30}[0-9A-Za-z])?$")
MAX_NAME = 2000
MAX_TEXT = 4000


@dataclass(frozen=True)
class Heading:
    """A column of the index file: its key, its header as shipped, and other headers people write."""

    key: str
    label: str
    required: bool
    aliases: tuple[str, ...] = ()

    def matches(self, text: str) -> bool:
        words = " ".join(ascii_words(text.replace("*", "")))
        return words in {" ".join(ascii_words(name)) for name in (self.label, *self.aliases)}


HEADINGS = (
    Heading("code", "Mã chỉ số", True, ("Mã", "Mã số")),
    Heading("parent", "Mã chỉ số cha", False, ("Mã cha", "Thuộc chỉ số")),
    Heading("group", "Nhóm chỉ số", False, ("Nhóm", "Trụ cột")),
    Heading("name", "Tên chỉ số", True, ("Chỉ số", "Tên")),
    Heading("max", "Điểm tối đa", True, ("Điểm", "Điểm tối đa (điểm)")),
    Heading("method", "Cách tính điểm", False, ("Cách chấm",)),
    Heading("method_text", "Phương pháp chấm điểm", False, ("Phương pháp đánh giá", "Phương pháp")),
    Heading("applies", "Áp dụng cho", False, ("Đối tượng áp dụng",)),
    Heading("evidence", "Tài liệu kiểm chứng", False, ("Tài liệu chứng minh",)),
)
_BY_KEY = {heading.key: heading for heading in HEADINGS}

_METHOD_WORDS = {
    ScoringMethod.POINTS: {"diem", "cham diem", "so diem"},
    ScoringMethod.LEVELS: {"muc", "dat mot nua khong dat", "dat nua khong", "du nua khong", "day du mot nua khong",
                           "toan phan mot nua khong"},
    ScoringMethod.RATIO: {"ty le", "ti le", "ty_le"},
}
_GROUP_WORDS = {
    UnitGroup.DEPARTMENT: {"so nganh", "so ban nganh", "so ban nganh tinh", "so", "cap tinh"},
    UnitGroup.DISTRICT: {"huyen", "ubnd huyen", "cap huyen", "huyen thi xa thanh pho", "ubnd huyen thi xa thanh pho"},
    UnitGroup.COMMUNE: {"xa", "ubnd xa", "cap xa", "xa phuong dac khu", "ubnd xa phuong dac khu"},
}


@dataclass(frozen=True)
class Draft:
    """One indicator as read (or as stored, when an edit is checked): `row` places its problems."""

    row: int | None
    code: str
    parent: str | None
    group: str
    name: str
    max_points: int
    method: ScoringMethod
    method_text: str = ""
    evidence_text: str = ""
    #: Unit groups it applies to; empty in a file row means “as the parent” (all groups for a root).
    applies: tuple[UnitGroup, ...] = ()
    #: Set by `problems` for a valid set: 0 for a root.
    depth: int = 0
    is_leaf: bool = True


@dataclass
class _Found:
    problems: list[CellError] = field(default_factory=list)

    def add(self, row: int | None, message: Message, column: Heading | None = None,
            letter: str | None = None) -> None:
        self.problems.append(CellError("", "", message, row=row, column=letter,
                                       label=column.label if column else None))


def summary(count: int) -> Message:
    return Message(f"Tệp bộ chỉ số có {count} lỗi; chưa nhập chỉ số nào. Hãy sửa tệp và tải lên lại.",
                   f"The index file has {count} error(s); no indicator was imported. Fix the file and upload "
                   "it again.")


def refused(problems: list[CellError], summary: Callable[[int], Message] = summary) -> InvalidData:
    """The error carrying every problem, by row then column, the first MAX_REPORTED listed."""
    ordered = sorted(problems, key=lambda p: (p.row or 0, p.column or ""))
    shown = ordered[:MAX_REPORTED]
    if len(ordered) > MAX_REPORTED:
        rest = len(ordered) - MAX_REPORTED
        shown.append(CellError("", "", Message(f"Còn {rest} lỗi khác không liệt kê.", f"{rest} more error(s).")))
    return InvalidData(summary(len(ordered)), shown)


# ---------------------------------------------------------------- the workbook


def read_workbook(content: bytes, max_bytes: int) -> list[Draft]:
    """The indicators of the file, checked one by one and together; InvalidData listing every problem."""
    check_package(content, max_bytes)
    header_row, columns, rows = read_book(content, _table)
    found = _Found()
    drafts = [draft for number, cells in rows if (draft := _draft(number, cells, columns, found)) is not None]
    if not drafts and not found.problems:
        found.add(header_row + 1, Message("Tệp chưa có chỉ số nào (nhập từ dòng dưới hàng tiêu đề).",
                                          "The file has no indicator (write them below the header row)."))
    if found.problems:
        raise refused(found.problems)
    checked, problems = check(drafts)
    if problems:
        raise refused(problems)
    return checked


def _table(book: Any) -> tuple[int, dict[str, int], list[tuple[int, list[tuple[object, str]]]]]:
    """(header row number, column index by key, data rows) of the first sheet with a header row."""
    for sheet in book.worksheets[:20]:
        sheet.reset_dimensions()  # a lying <dimension> would pad rows up to it
        rows = sheet.iter_rows(min_row=1, max_col=40)
        for number, cells in enumerate(rows, start=1):
            if number > HEADER_SEARCH_ROWS:
                break
            texts = [str(cell.value) if isinstance(cell.value, str) else "" for cell in cells]
            columns = _columns(texts)
            if len(columns) >= 2 or "code" in columns:
                return number, _required(columns, number, texts), _data(rows, number, len(texts))
    names = ", ".join(f"“{h.label}”" for h in HEADINGS if h.required)
    message = Message(f"Không tìm thấy hàng tiêu đề trong {HEADER_SEARCH_ROWS} dòng đầu của trang tính: cần các "
                      f"cột {names} (xem tệp mẫu).",
                      f"No header row in the first {HEADER_SEARCH_ROWS} rows of any sheet: the columns {names} are "
                      "needed (see the example file).")
    raise InvalidData(message, [CellError("", "", message, row=1)])


def _columns(texts: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, text in enumerate(texts):
        for heading in HEADINGS:
            if text.strip() and heading.matches(text) and heading.key not in found:
                found[heading.key] = index
    return found


def _required(columns: dict[str, int], row: int, texts: list[str]) -> dict[str, int]:
    missing = [h for h in HEADINGS if h.required and h.key not in columns]
    if missing:
        names = ", ".join(f"“{h.label}”" for h in missing)
        message = Message(f"Hàng tiêu đề (dòng {row}) thiếu cột bắt buộc {names}.",
                          f"The header row (row {row}) lacks the required column(s) {names}.")
        raise InvalidData(summary(1), [CellError("", "", message, row=row)])
    twice = [h for h in HEADINGS if sum(1 for t in texts if t.strip() and h.matches(t)) > 1]
    if twice:
        names = ", ".join(f"“{h.label}”" for h in twice)
        message = Message(f"Hàng tiêu đề (dòng {row}) có cột {names} hai lần.",
                          f"The header row (row {row}) has the column(s) {names} twice.")
        raise InvalidData(summary(1), [CellError("", "", message, row=row)])
    return columns


def _data(rows: Iterable[Any], header: int, width: int) -> list[tuple[int, list[tuple[object, str]]]]:
    found: list[tuple[int, list[tuple[object, str]]]] = []
    for number, cells in enumerate(rows, start=header + 1):
        if number > MAX_SCAN_ROWS:
            raise refuse(Message(f"Trang tính có dữ liệu quá dòng {MAX_SCAN_ROWS}; hãy xóa các dòng thừa.",
                                 f"The sheet has data beyond row {MAX_SCAN_ROWS}; delete the extra rows."))
        values = [(cell.value, cell.data_type) for cell in cells][:width]
        if all(_blank(value) for value, _ in values):
            continue
        if len(found) >= MAX_INDICATORS:
            raise refuse(Message(f"Tệp có quá {MAX_INDICATORS} chỉ số.", f"More than {MAX_INDICATORS} indicators."))
        found.append((number, values))
    return found


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---------------------------------------------------------------- one row


def _cell(cells: list[tuple[object, str]], columns: dict[str, int], key: str,
          number: int, found: _Found) -> object:
    """The cell's value, None when blank or the column is absent; a formula or error cell is a problem."""
    index = columns.get(key)
    if index is None or index >= len(cells):
        return None
    value, kind = cells[index]
    letter = get_column_letter(index + 1)
    if kind == "f":
        found.add(number, Message("Ô chứa công thức; hãy dán giá trị (Dán đặc biệt → Giá trị).",
                                  "The cell holds a formula; paste its value instead."), _BY_KEY[key], letter)
        return None
    if kind == "e":
        found.add(number, Message(f"Ô có lỗi Excel ({value}); hãy nhập giá trị.",
                                  f"The cell holds an Excel error ({value}); enter a value."), _BY_KEY[key], letter)
        return None
    if isinstance(value, str):
        value = " ".join(value.split()) if key in ("code", "parent", "applies", "method") else value.strip()
    return None if _blank(value) else value


def _code_text(value: object) -> str:
    """A code as typed: 1 and 1.0 are “1”; a decimal number keeps its digits (1.1 → “1.1”)."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _draft(number: int, cells: list[tuple[object, str]], columns: dict[str, int], found: _Found) -> Draft | None:
    before = len(found.problems)
    letter = {key: get_column_letter(index + 1) for key, index in columns.items()}
    raw = {key: _cell(cells, columns, key, number, found) for key in _BY_KEY}
    code = _code_text(raw["code"]) if raw["code"] is not None else ""
    if not code:
        found.add(number, Message("Thiếu mã chỉ số.", "The indicator code is missing."), _BY_KEY["code"],
                  letter["code"])
    elif not CODE.match(code):
        found.add(number, Message(f"Mã chỉ số “{code}” không hợp lệ: tối đa 32 ký tự gồm chữ, số, dấu chấm, "
                                  "gạch ngang, gạch dưới.",
                                  f"The code “{code}” is not valid: up to 32 letters, digits, dots, dashes, "
                                  "underscores."), _BY_KEY["code"], letter["code"])
    parent = _code_text(raw["parent"]) if raw["parent"] is not None else None
    name = str(raw["name"] or "").strip()
    if not name:
        found.add(number, Message("Thiếu tên chỉ số.", "The indicator name is missing."), _BY_KEY["name"],
                  letter["name"])
    elif len(name) > MAX_NAME:
        found.add(number, Message(f"Tên chỉ số dài quá {MAX_NAME} ký tự.", f"The name exceeds {MAX_NAME} characters."),
                  _BY_KEY["name"], letter["name"])
    max_points = _max_points(raw["max"], number, found, letter["max"])
    method = _method(raw["method"], number, found, letter.get("method"))
    applies = _applies(raw["applies"], number, found, letter.get("applies"))
    texts = {key: str(raw[key] or "") for key in ("method_text", "evidence", "group")}
    for key, text in texts.items():
        if len(text) > MAX_TEXT:
            found.add(number, Message(f"Nội dung dài quá {MAX_TEXT} ký tự.",
                                      f"The text exceeds {MAX_TEXT} characters."),
                      _BY_KEY[key], letter.get(key))
    if len(found.problems) > before:
        return None
    return Draft(number, code, parent, texts["group"][:255], name, max_points, method, texts["method_text"],
                 texts["evidence"], applies)


def _max_points(value: object, number: int, found: _Found, letter: str) -> int:
    heading = _BY_KEY["max"]
    if value is None:
        found.add(number, Message("Thiếu điểm tối đa.", "The maximum points are missing."), heading, letter)
        return 0
    try:
        return points(value)
    except PointsError as exc:
        found.add(number, Message(f"Điểm tối đa “{value}” {exc.message.vi}.", f"Maximum points “{value}” "
                                  f"{exc.message.en}."), heading, letter)
        return 0


def _method(value: object, number: int, found: _Found, letter: str | None) -> ScoringMethod:
    if value is None:
        return ScoringMethod.POINTS
    words = " ".join(ascii_words(str(value)))
    for method, names in _METHOD_WORDS.items():
        if words in names or words == method.value.replace("_", " "):
            return method
    found.add(number, Message(f"Cách tính điểm “{value}” không có; dùng: Điểm, Mức (đạt / một nửa / không đạt) "
                              "hoặc Tỷ lệ.",
                              f"Unknown scoring “{value}”; use Điểm (points), Mức (full/half/zero) or Tỷ lệ (ratio)."),
              _BY_KEY["method"], letter)
    return ScoringMethod.POINTS


def _applies(value: object, number: int, found: _Found, letter: str | None) -> tuple[UnitGroup, ...]:
    if value is None:
        return ()
    groups: list[UnitGroup] = []
    for token in _group_tokens(str(value)):
        group = _group(token)
        if group is None:
            allowed = "; ".join(f"{g.value} ({g.label.vi})" for g in UnitGroup)
            found.add(number, Message(f"Nhóm đơn vị “{token.strip()}” không có; dùng: {allowed}.",
                                      f"Unknown unit group “{token.strip()}”; use: "
                                      + "; ".join(f"{g.value} ({g.label.en})" for g in UnitGroup) + "."),
                      _BY_KEY["applies"], letter)
        elif group not in groups:
            groups.append(group)
    return tuple(g for g in UnitGroup if g in groups)


def _group(token: str) -> UnitGroup | None:
    words = " ".join(ascii_words(token))
    return next((g for g, names in _GROUP_WORDS.items() if words in names or words == g.value.replace("_", " ")), None)


def _group_tokens(text: str) -> list[str]:
    """Groups are separated by “;” or new lines; a piece that is no group's name is split at its commas
    (“so_nganh, huyen”), while a label holding commas stays whole (“Sở, ban, ngành tỉnh”)."""
    tokens = []
    for piece in re.split(r"[;\n]+", text):
        if not piece.strip():
            continue
        if _group(piece) is not None or "," not in piece:
            tokens.append(piece)
        else:
            tokens.extend(part for part in piece.split(",") if part.strip())
    return tokens


# ---------------------------------------------------------------- the set as a whole


def _where(draft: Draft) -> str:
    return f"dòng {draft.row}" if draft.row is not None else f"chỉ số {draft.code}"


def check(drafts: Sequence[Draft]) -> tuple[list[Draft], list[CellError]]:
    """The drafts completed (groups and applicability inherited, depth, leaves) and every problem of the set:
    duplicate codes, missing or circular parents, groups a parent does not apply to, a parent's maximum
    differing from the sum of its children's (for each unit group), a full/half/zero maximum that cannot be
    halved."""
    found = _Found()
    first: dict[str, Draft] = {}
    for draft in drafts:
        if draft.code in first:
            found.add(draft.row, Message(f"Mã chỉ số “{draft.code}” trùng với {_where(first[draft.code])}.",
                                         f"The code “{draft.code}” repeats row {first[draft.code].row}."),
                      _BY_KEY["code"])
        else:
            first[draft.code] = draft
    for draft in drafts:
        if draft.parent is not None and draft.parent not in first:
            found.add(draft.row, Message(f"Mã chỉ số cha “{draft.parent}” không có trong bộ chỉ số.",
                                         f"The parent code “{draft.parent}” is not in the index set."),
                      _BY_KEY["parent"])
    if found.problems:
        return [], found.problems
    depth = _depths(drafts, first, found)
    if found.problems:
        return [], found.problems
    completed = _inherit(drafts, first, depth)
    _check_tree(completed, found)
    return (completed, []) if not found.problems else ([], found.problems)


def _depths(drafts: Sequence[Draft], by_code: dict[str, Draft], found: _Found) -> dict[str, int]:
    depth: dict[str, int] = {}
    for draft in drafts:
        chain = [draft.code]
        node = draft
        while node.parent is not None:
            if node.parent in chain:
                found.add(draft.row, Message(f"Chỉ số “{draft.code}” nằm trong vòng lặp chỉ số cha: "
                                             f"{' → '.join([*chain, node.parent])}.",
                                             f"“{draft.code}” is in a loop of parents: "
                                             f"{' → '.join([*chain, node.parent])}."), _BY_KEY["parent"])
                break
            chain.append(node.parent)
            node = by_code[node.parent]
        else:
            depth[draft.code] = len(chain) - 1
            if len(chain) > MAX_DEPTH:
                found.add(draft.row, Message(f"Chỉ số “{draft.code}” sâu quá {MAX_DEPTH} cấp.",
                                             f"“{draft.code}” is nested deeper than {MAX_DEPTH} levels."),
                          _BY_KEY["parent"])
    return depth


def _inherit(drafts: Sequence[Draft], by_code: dict[str, Draft], depth: dict[str, int]) -> list[Draft]:
    """Blank group and applicability taken from the parent (roots: their own name, every group)."""
    parents = {d.parent for d in drafts if d.parent is not None}
    done: dict[str, Draft] = {}
    for draft in sorted(drafts, key=lambda d: depth[d.code]):
        parent = done.get(draft.parent) if draft.parent is not None else None
        group = draft.group or (parent.group if parent else draft.name[:255])
        applies = draft.applies or (parent.applies if parent else tuple(UnitGroup))
        done[draft.code] = replace(draft, group=group, applies=applies, depth=depth[draft.code],
                                   is_leaf=draft.code not in parents)
    return [done[d.code] for d in drafts]


def _check_tree(drafts: list[Draft], found: _Found) -> None:
    by_code = {d.code: d for d in drafts}
    children: dict[str, list[Draft]] = {}
    for draft in drafts:
        if draft.parent is not None:
            children.setdefault(draft.parent, []).append(draft)
            parent = by_code[draft.parent]
            if draft.group != parent.group:
                found.add(draft.row, Message(f"Nhóm chỉ số “{draft.group}” khác nhóm “{parent.group}” của chỉ số cha "
                                             f"“{parent.code}”; để trống để lấy theo chỉ số cha.",
                                             f"The group “{draft.group}” differs from its parent's “{parent.group}”; "
                                             "leave it blank to inherit it."), _BY_KEY["group"])
            extra = [g for g in draft.applies if g not in parent.applies]
            if extra:
                names = ", ".join(g.label.vi for g in extra)
                found.add(draft.row, Message(f"Chỉ số áp dụng cho {names} nhưng chỉ số cha “{parent.code}” không áp "
                                             "dụng cho nhóm này.",
                                             f"It applies to {', '.join(g.label.en for g in extra)}, which its parent "
                                             f"“{parent.code}” does not."), _BY_KEY["applies"])
        if draft.is_leaf and draft.method is ScoringMethod.LEVELS and draft.max_points % 2:
            found.add(draft.row, Message(f"Điểm tối đa {points_text(draft.max_points)} không chia đôi được (đạt một "
                                         "nửa): cần số chẵn phần trăm điểm.",
                                         f"The maximum {points_text(draft.max_points)} cannot be halved exactly."),
                      _BY_KEY["max"])
    for code, kids in children.items():
        _check_sum(by_code[code], kids, found)


def _check_sum(parent: Draft, kids: list[Draft], found: _Found) -> None:
    for group in parent.applies:
        members = [k for k in kids if group in k.applies]
        total = sum(k.max_points for k in members)
        if not members:
            found.add(parent.row, Message(f"Chỉ số “{parent.code}” áp dụng cho {group.label.vi} nhưng không có chỉ số "
                                          "con nào áp dụng cho nhóm này.",
                                          f"“{parent.code}” applies to {group.label.en} but none of its "
                                          "children does."),
                      _BY_KEY["applies"])
        elif total != parent.max_points:
            codes = ", ".join(k.code for k in members)
            found.add(parent.row, Message(
                f"Điểm tối đa của chỉ số “{parent.code}” là {points_text(parent.max_points)} nhưng tổng điểm các chỉ "
                f"số con áp dụng cho {group.label.vi} ({codes}) là {points_text(total)}.",
                f"The maximum of “{parent.code}” is {points_text(parent.max_points)} but its children for "
                f"{group.label.en} ({codes}) sum to {points_text(total)}."), _BY_KEY["max"])
