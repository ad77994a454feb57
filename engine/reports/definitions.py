"""Statistics report definitions: one JSON file each, read and checked before anything is counted.

A definition says which instances to count (procedures, statuses, and optionally the values some
variables must hold: `where`), how to place each one (the
variable holding its group, the variable holding its date) and how the table reads (title, the
ordered rows with their labels, quarters or months). A new statistic is a new file in
`Settings.reports_dir`; docs/excel.md lists every key. A file that is not a valid definition is
refused as a whole with every problem named, so a typo never yields a silently wrong table.
"""
from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.domain.enums import InstanceStatus
from engine.domain.errors import DomainError, NotFound
from engine.domain.messages import Message
from engine.domain.text import ascii_words

MAX_FILE_BYTES = 256 * 1024
_ID = re.compile(r"[a-z0-9_]{1,64}")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


class Period(str, enum.Enum):
    """The columns a year is split into."""

    QUARTER = "quarter"
    MONTH = "month"

    @property
    def labels(self) -> tuple[str, ...]:
        if self is Period.QUARTER:
            return ("QUÝ I", "QUÝ II", "QUÝ III", "QUÝ IV")
        return tuple(f"THÁNG {month}" for month in range(1, 13))

    def column_of(self, month: int) -> int:
        """The column (0-based) of a month."""
        return (month - 1) // 3 if self is Period.QUARTER else month - 1


@dataclass(frozen=True)
class Group:
    """A row: the stored value, the label printed, other spellings that also count, a remark."""

    value: str
    label: str
    aliases: tuple[str, ...] = ()
    note: str = ""

    @property
    def keys(self) -> set[str]:
        return {match_key(text) for text in (self.value, self.label, *self.aliases)}


@dataclass(frozen=True)
class ReportDefinition:
    id: str
    title: str
    procedures: tuple[str, ...]
    statuses: tuple[InstanceStatus, ...]
    group_field: str
    groups: tuple[Group, ...]
    period: Period = Period.QUARTER
    date_field: str | None = None
    title_en: str = ""
    short_title: str = ""
    subtitle: str = ""
    source: str = ""
    description: str = ""
    date_label: str = ""
    group_header: str = "Nhóm"
    value_header: str = ""
    other_label: str = "Khác"
    #: Conditions on the instance's variables: (variable, accepted values), each matched like groups.
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: The conditions in words for the note under the table (generated from `where` when empty).
    where_label: str = ""

    @property
    def name(self) -> str:
        """How menus, sheets and file names call the report: the short title, else the title."""
        return self.short_title or self.title

    def accepts(self, facts: dict[str, Any]) -> bool:
        """Whether an instance's variables meet every `where` condition."""
        return all(facts.get(variable) is not None and match_key(facts[variable]) in {match_key(v) for v in values}
                   for variable, values in self.where)


class DefinitionError(DomainError):
    """A report definition file is not valid; `details` lists each problem ({field, message})."""

    code = "report_definition"


NO_REPORT = Message("Không có báo cáo thống kê này.", "No such statistics report.")


def match_key(text: Any) -> str:
    """How a value is compared with a group: without case, diacritics, spacing or punctuation.

    "TW - Tỉnh - Huyện", "tw_tinh_huyen" and "TW – TỈNH – HUYỆN" are the same group.
    """
    return "_".join(ascii_words(str(text)))


# ---------------------------------------------------------------- loading


def definition_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def load_all(folder: Path) -> tuple[list[ReportDefinition], list[DefinitionError]]:
    """Every definition in the folder, by title, and the files that were refused."""
    found: list[ReportDefinition] = []
    refused: list[DefinitionError] = []
    for path in definition_files(folder):
        try:
            found.append(load_file(path))
        except DefinitionError as err:
            refused.append(err)
    return sorted(found, key=lambda d: d.title), refused


def load(folder: Path, report_id: str) -> ReportDefinition:
    """The definition `<folder>/<report_id>.json`; NotFound when there is none."""
    if not _ID.fullmatch(report_id) or not (folder / f"{report_id}.json").is_file():
        raise NotFound(NO_REPORT)
    return load_file(folder / f"{report_id}.json")


def load_file(path: Path) -> ReportDefinition:
    source = path.name
    if path.stat().st_size > MAX_FILE_BYTES:
        raise _refused(source, [("", f"tệp lớn hơn {MAX_FILE_BYTES // 1024} KB",
                                 f"the file is over {MAX_FILE_BYTES // 1024} KB")])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _refused(source, [("", f"không phải JSON UTF-8 hợp lệ ({err})",
                                 f"not valid UTF-8 JSON ({err})")]) from None
    definition = parse(data, source)
    if definition.id != path.stem:
        raise _refused(source, [("id", f"phải trùng tên tệp “{path.stem}”",
                                 f"must equal the file name “{path.stem}”")])
    return definition


def parse(data: Any, source: str = "định nghĩa") -> ReportDefinition:
    """Check a definition (already read from JSON) and build it; DefinitionError lists every problem."""
    check = _Check()
    if not isinstance(data, dict):
        raise _refused(source, [("", "phải là một đối tượng JSON {…}", "must be a JSON object {…}")])
    for key in sorted(set(data) - _KEYS):
        check.add(key, "khóa không được hỗ trợ (xem docs/excel.md)", "unsupported key (see docs/excel.md)")
    texts = {key: check.text(data, key, required=key in _REQUIRED_TEXT) for key in _TEXT_KEYS}
    where = _where(check, data.get("where"))
    if texts["id"] and not _ID.fullmatch(texts["id"]):
        check.add("id", "chỉ gồm chữ thường không dấu, chữ số và “_” (tối đa 64 ký tự)",
                  "only lower-case letters, digits and “_” (at most 64 characters)")
    for key in ("group_field", "date_field"):
        if texts[key] and not _VARIABLE.fullmatch(texts[key]):
            check.add(key, "phải là tên biến của quy trình (chữ không dấu, chữ số, “_”)",
                      "must be a process variable name (letters, digits, “_”)")
    # The text keys are the definition's fields; one left empty takes the field's default.
    given: dict[str, Any] = {key: text for key, text in texts.items() if text}
    procedures = check.names(data, "procedures")
    statuses = _statuses(check, data.get("statuses"))
    groups = _groups(check, data.get("groups"), given.get("other_label", ReportDefinition.other_label))
    period = _period(check, data.get("period", Period.QUARTER.value))
    if check.problems:
        raise _refused(source, check.problems)
    return ReportDefinition(**given, procedures=procedures, statuses=statuses, groups=groups, period=period,
                            where=where)


_REQUIRED_TEXT = frozenset({"id", "title", "group_field"})
_TEXT_KEYS = ("id", "title", "title_en", "short_title", "subtitle", "source", "description", "date_field",
              "date_label", "group_field", "group_header", "value_header", "other_label", "where_label")
_KEYS = frozenset({*_TEXT_KEYS, "procedures", "statuses", "groups", "period", "where"})
_GROUP_KEYS = frozenset({"value", "label", "aliases", "note"})


class _Check:
    """Collects problems as (field, vi, en)."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str, str]] = []

    def add(self, field: str, vi: str, en: str) -> None:
        self.problems.append((field, vi, en))

    def text(self, data: dict[str, Any], key: str, *, required: bool = False, limit: int = 500,
             where: str = "") -> str:
        """The stripped text at `key` ("" when absent); `where` prefixes the field in problems."""
        field = f"{where}.{key}" if where else key
        value = data.get(key)
        if value is None:
            if required:
                self.add(field, "bắt buộc", "required")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.add(field, "phải là một chuỗi không rỗng", "must be a non-empty string")
            return ""
        if len(value) > limit:
            self.add(field, f"dài quá {limit} ký tự", f"longer than {limit} characters")
            return ""
        return value.strip()

    def names(self, data: dict[str, Any], key: str) -> tuple[str, ...]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            self.add(key, "phải là danh sách không rỗng", "must be a non-empty list")
            return ()
        if not all(isinstance(item, str) and _VARIABLE.fullmatch(item) for item in value):
            self.add(key, "mỗi phần tử phải là mã quy trình (id của process trong BPMN)",
                     "each item must be a process id (the BPMN process id)")
            return ()
        return tuple(dict.fromkeys(value))


def _statuses(check: _Check, value: Any) -> tuple[InstanceStatus, ...]:
    known = [s.value for s in InstanceStatus]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v in known for v in value):
        check.add("statuses", f"phải là danh sách không rỗng gồm các trạng thái {', '.join(known)}",
                  f"must be a non-empty list of the statuses {', '.join(known)}")
        return ()
    return tuple(InstanceStatus(v) for v in dict.fromkeys(value))


def _where(check: _Check, value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`{"variable": "value"}` or `{"variable": ["value", …]}`; absent (or null) means no condition."""
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        check.add("where", "phải là đối tượng {biến: giá trị} không rỗng, ví dụ {\"trang_thai_hop\": \"da_hop\"}",
                  "must be a non-empty object {variable: value}, e.g. {\"trang_thai_hop\": \"da_hop\"}")
        return ()
    found: list[tuple[str, tuple[str, ...]]] = []
    for variable, accepted in value.items():
        field = f"where.{variable}"
        if not _VARIABLE.fullmatch(variable):
            check.add(field, "phải là tên biến của quy trình (chữ không dấu, chữ số, “_”)",
                      "must be a process variable name (letters, digits, “_”)")
            continue
        values = [accepted] if isinstance(accepted, str) else accepted
        if (not isinstance(values, list) or not values
                or not all(isinstance(v, str) and match_key(v) and len(v) <= 200 for v in values)):
            check.add(field, "phải là một giá trị (chuỗi có chữ) hoặc danh sách không rỗng các giá trị",
                      "must be a value (a string with letters) or a non-empty list of values")
            continue
        found.append((variable, tuple(v.strip() for v in values)))
    return tuple(found)


def _period(check: _Check, value: Any) -> Period:
    try:
        return Period(value)
    except ValueError:
        check.add("period", "phải là “quarter” (theo quý) hoặc “month” (theo tháng)",
                  "must be “quarter” or “month”")
        return Period.QUARTER


def _groups(check: _Check, value: Any, other_label: str) -> tuple[Group, ...]:
    if not isinstance(value, list) or not value:
        check.add("groups", "phải là danh sách không rỗng các dòng {value, label}",
                  "must be a non-empty list of rows {value, label}")
        return ()
    groups: list[Group] = []
    owner: dict[str, str] = {match_key(other_label): other_label}
    for index, item in enumerate(value):
        where = f"groups[{index}]"
        group = _group(check, where, item)
        if group is None:
            continue
        for key in sorted(group.keys):
            if not key:
                check.add(where, "giá trị hoặc nhãn không có chữ nào", "a value or label without letters")
            elif key in owner:
                check.add(where, f"trùng với dòng “{owner[key]}”", f"matches the row “{owner[key]}” too")
            else:
                owner[key] = group.label
        groups.append(group)
    return tuple(groups)


def _group(check: _Check, where: str, item: Any) -> Group | None:
    if not isinstance(item, dict):
        check.add(where, "phải là đối tượng {value, label}", "must be an object {value, label}")
        return None
    for key in sorted(set(item) - _GROUP_KEYS):
        check.add(f"{where}.{key}", "khóa không được hỗ trợ", "unsupported key")
    value = check.text(item, "value", required=True, limit=200, where=where)
    label = check.text(item, "label", required=True, limit=200, where=where)
    note = check.text(item, "note", limit=200, where=where)
    aliases = item.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        check.add(f"{where}.aliases", "phải là danh sách chuỗi", "must be a list of strings")
        aliases = []
    if not (value and label):
        return None
    return Group(value, label, tuple(a.strip() for a in aliases), note)


def _refused(source: str, problems: list[tuple[str, str, str]]) -> DefinitionError:
    listed_vi = "; ".join(f"{f}: {vi}" if f else vi for f, vi, _en in problems)
    listed_en = "; ".join(f"{f}: {en}" if f else en for f, _vi, en in problems)
    return DefinitionError(
        Message(f"Định nghĩa báo cáo {source} không hợp lệ — {listed_vi}.",
                f"The report definition {source} is not valid — {listed_en}."),
        details=[{"field": f, "message": vi, "message_en": en} for f, vi, en in problems],
    )
