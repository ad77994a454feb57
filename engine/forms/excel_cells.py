"""One Excel cell read as the value its form-js field would submit (labels → option values, dates → ISO).

The form's own rules are checked afterwards by `validate_submission`; this module only turns
what people type in a spreadsheet (an option's label, 26/11/2026, "x", 12,5) into the JSON a
browser would have sent, and says so in both languages when it cannot.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from engine.domain.messages import Message
from engine.forms.common import JS_SPACE, option_list, to_decimal
from engine.forms.messages import NOT_NUMBER, msg
from engine.forms.submission import FieldError

#: The value of an empty cell: the key is left out of the row, as an untouched form field.
ABSENT: Any = object()
#: Separator of several choices in one cell (checklist, taglist); labels may hold commas.
CHOICE_SEPARATOR = ";"
TRUE_WORDS = frozenset({"có", "co", "x", "true", "đúng", "dung", "1", "yes", "y", "c"})
FALSE_WORDS = frozenset({"không", "khong", "false", "sai", "0", "no", "n", "k"})
_EXCEL_MAX_SERIAL = 2_958_465  # 31/12/9999
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", re.ASCII)
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_HM = re.compile(r"(\d{1,2})[:hH](\d{2})(?::\d{2})?", re.ASCII)
_TEXT_KINDS = frozenset({"textfield", "textarea"})

BAD_BOOLEAN = msg("Chỉ nhận Có hoặc Không (hoặc x, TRUE/FALSE, 1/0).",
                  "Only Có or Không is accepted (or x, TRUE/FALSE, 1/0).")
BAD_DATE_CELL = msg("Ngày không hợp lệ; nhập theo dạng dd/mm/yyyy (ví dụ 26/11/2026).",
                    "Invalid date; write it as dd/mm/yyyy (e.g. 26/11/2026).")
BAD_TIME_CELL = msg("Giờ không hợp lệ; nhập theo dạng HH:MM (ví dụ 08:30).",
                    "Invalid time; write it as HH:MM (e.g. 08:30).")
BAD_DATETIME_CELL = msg("Ngày giờ không hợp lệ; nhập theo dạng dd/mm/yyyy HH:MM (ví dụ 26/11/2026 08:30).",
                        "Invalid date and time; write it as dd/mm/yyyy HH:MM (e.g. 26/11/2026 08:30).")


def not_in_list(value: str, labels: list[str]) -> Message:
    shown = "; ".join(labels[:10]) + ("; …" if len(labels) > 10 else "")
    return msg(f"“{value}” không có trong danh sách cho phép: {shown}.",
               f"“{value}” is not one of the allowed values: {shown}.")


@dataclass(frozen=True)
class CellError(FieldError):
    """A FieldError placed in the spreadsheet too: `row` as Excel numbers it, `column` letter and header."""

    row: int | None = None
    column: str | None = None
    label: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "row": self.row, "column": self.column, "label": self.label}


@dataclass(frozen=True, eq=False)
class Column:
    """One input field of a repeatable list, shown as one spreadsheet column."""

    key: str  # the field's data path inside one row, e.g. "ho_ten"
    field_id: str  # the form-js component id
    label: str
    kind: str  # the form-js type: textfield, select, datetime, …
    required: bool
    letter: str  # the spreadsheet column: "A", "B", …
    component: dict[str, Any] = field(repr=False)

    @property
    def header(self) -> str:
        """The header cell's text; "*" marks a required column, as form-js marks a required label."""
        return f"{self.label} *" if self.required else self.label


def normalized(text: str) -> str:
    """Text compared the way people mean it: NFC, spaces collapsed, case ignored."""
    return unicodedata.normalize("NFC", " ".join(text.split())).casefold()


def options(column: Column, context: dict[str, Any]) -> list[tuple[str, object]] | None:
    """(label, value) of a choice field's options; None when the browser computes them."""
    raw = option_list(column.component, context)
    if raw is None:
        return None
    pairs: list[tuple[str, object]] = []
    for option in raw:
        value = option.get("value") if isinstance(option, dict) else option
        label = option.get("label") if isinstance(option, dict) else None
        if value is None or value == "":
            continue
        pairs.append((str(label) if label not in (None, "") else _plain_text(value), value))
    return pairs


# ---------------------------------------------------------------- cell → value


def cell_value(column: Column, value: object, context: dict[str, Any],
               timezone: str) -> tuple[object, Message | None]:
    """What the form would submit for this cell: (value, None), (ABSENT, None) or (None, problem)."""
    if value is None or (isinstance(value, str) and not value.strip(JS_SPACE)):
        return ABSENT, None
    kind = column.kind
    if kind in _TEXT_KINDS:
        return _text_value(column, value)
    if kind == "number":
        return _number_value(value)
    if kind == "checkbox":
        return _boolean_value(value)
    if kind in ("radio", "select"):
        return _choice_value(column, value, context)
    if kind in ("checklist", "taglist"):
        return _choices_value(column, value, context)
    if kind == "datetime":
        return _datetime_value(column, value, timezone)
    return _plain_text(value), None


def _plain_text(value: object) -> str:
    """A cell as the text Excel shows for it (Vietnamese day order for dates)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return format(Decimal(repr(value)).normalize(), "f") if value != int(value) or abs(value) >= 1e15 \
            else str(int(value))
    if isinstance(value, dt.datetime):
        return f"{value:%d/%m/%Y}" if value.time() == dt.time() else f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, dt.time):
        return f"{value:%H:%M}"
    if isinstance(value, dt.timedelta):
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60}:{minutes % 60:02d}"
    return unicodedata.normalize("NFC", str(value).strip(JS_SPACE))


def _text_value(column: Column, value: object) -> tuple[object, Message | None]:
    text = _plain_text(value).replace("\r\n", "\n").replace("\r", "\n")
    if column.kind == "textfield" and "\n" in text:
        # Alt+Enter in a one-line field: a browser pasting it into an input joins the lines too.
        text = " ".join(part.strip(JS_SPACE) for part in text.split("\n"))
    return text, None


def _number_value(value: object) -> tuple[object, Message | None]:
    if isinstance(value, (bool, dt.date, dt.time, dt.timedelta)):
        return None, NOT_NUMBER
    if isinstance(value, (int, float)):
        return value, None
    text = "".join(str(value).split())
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as Vietnamese write 12,5
    return (text, None) if to_decimal(text) is not None else (None, NOT_NUMBER)


def _boolean_value(value: object) -> tuple[object, Message | None]:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value), None
    word = normalized(str(value))
    if word in TRUE_WORDS:
        return True, None
    if word in FALSE_WORDS:
        return False, None
    return None, BAD_BOOLEAN


def _match(pairs: list[tuple[str, object]], value: object) -> tuple[bool, object]:
    """The option whose label (first) or value matches the cell."""
    if isinstance(value, bool):
        return next(((True, v) for _, v in pairs if v is value), (False, None))
    text = normalized(_plain_text(value))
    for label, option in pairs:
        if normalized(label) == text:
            return True, option
    number = to_decimal(value) if isinstance(value, (int, float)) else to_decimal(text)
    for _, option in pairs:
        if isinstance(option, str) and normalized(option) == text:
            return True, option
        if number is not None and not isinstance(option, bool) and isinstance(option, (int, float)) \
                and to_decimal(option) == number:
            return True, option
    return False, None


def _choice_value(column: Column, value: object, context: dict[str, Any]) -> tuple[object, Message | None]:
    pairs = options(column, context)
    if pairs is None:
        return _plain_text(value), None  # options unknown here: validation decides
    found, option = _match(pairs, value)
    if not found:
        return None, not_in_list(_plain_text(value), [label for label, _ in pairs])
    return option, None


def _choices_value(column: Column, value: object, context: dict[str, Any]) -> tuple[object, Message | None]:
    items = [value] if not isinstance(value, str) else \
        [part for part in re.split(rf"[{CHOICE_SEPARATOR}\n]", value) if part.strip(JS_SPACE)]
    chosen = []
    for item in items:
        picked, problem = _choice_value(column, item.strip(JS_SPACE) if isinstance(item, str) else item, context)
        if problem is not None:
            return None, problem
        chosen.append(picked)
    return chosen, None


# ---------------------------------------------------------------- dates and times


def _datetime_value(column: Column, value: object, timezone: str) -> tuple[object, Message | None]:
    subtype = column.component.get("subtype")
    if subtype == "date":
        day = _as_date(value)
        return (day.isoformat(), None) if day else (None, BAD_DATE_CELL)
    if subtype == "time":
        moment = _as_time(value)
        if moment is None:
            return None, BAD_TIME_CELL
        return _serialize(column, dt.datetime.now(ZoneInfo(timezone)).date(), moment, timezone, False), None
    day, moment = _as_datetime(value)
    if day is None or moment is None:
        return None, BAD_DATETIME_CELL
    return _serialize(column, day, moment, timezone, True), None


def _serialize(column: Column, day: dt.date, moment: dt.time, timezone: str, with_date: bool) -> str:
    """As form-js writes it, by the field's timeSerializingFormat (absent: local time, no zone)."""
    style = column.component.get("timeSerializingFormat")
    local = dt.datetime.combine(day, moment.replace(second=0, microsecond=0), ZoneInfo(timezone))
    suffix = ""
    if style == "utc_normalized":
        local, suffix = local.astimezone(dt.UTC), "Z"
    elif style == "utc_offset":
        offset = int((local.utcoffset() or dt.timedelta()).total_seconds() // 60)
        suffix = f"{'+' if offset >= 0 else '-'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    text = f"{local:%H:%M}{suffix}"
    return f"{local.date().isoformat()}T{text}" if with_date else text


def _serial(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 <= value <= _EXCEL_MAX_SERIAL else None


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    serial = _serial(value)
    if serial is not None:
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(serial)) if serial >= 1 else None
    if not isinstance(value, str):
        return None
    text = value.strip(JS_SPACE)
    match = _DMY.fullmatch(text)
    parts: tuple[str, ...] | None = (match.group(3), match.group(2), match.group(1)) if match else None
    match = _YMD.fullmatch(text)
    parts = match.groups() if match else parts
    try:
        return dt.date(*map(int, parts)) if parts else None
    except ValueError:  # 30/02/2026 and the like
        return None


def _as_time(value: object) -> dt.time | None:
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    if isinstance(value, dt.timedelta):
        minutes = round(value.total_seconds() / 60)
        return dt.time(minutes // 60, minutes % 60) if 0 <= minutes < 24 * 60 else None
    serial = _serial(value)
    if serial is not None:
        minutes = round(serial % 1 * 24 * 60)
        return dt.time(minutes // 60, minutes % 60) if serial < 1 and minutes < 24 * 60 else None
    match = _HM.fullmatch(value.strip(JS_SPACE)) if isinstance(value, str) else None
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None
    return dt.time(int(match.group(1)), int(match.group(2)))


def _as_datetime(value: object) -> tuple[dt.date | None, dt.time | None]:
    if isinstance(value, dt.datetime):
        return value.date(), value.time()
    serial = _serial(value)
    if serial is not None:
        minutes = round(serial % 1 * 24 * 60)
        day = _as_date(serial)
        return (day, dt.time(minutes // 60, minutes % 60)) if minutes < 24 * 60 else (None, None)
    if not isinstance(value, str):
        return None, None
    text = value.strip(JS_SPACE).replace("T", " ")
    day_text, _, time_text = text.partition(" ")
    return _as_date(day_text), _as_time(time_text.strip())
