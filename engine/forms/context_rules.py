"""Form rules that depend on when and by whom a form is submitted (engine.forms.rules calls them):

* `minWorkingDaysAhead` = `"N"` on a date (or date-time) field: at least N full working days of the
  platform's working calendar must lie between the day the submission counts as received
  (`WorkingCalendar.receipt_day`: after office hours or on a day off, the next working day) and the
  date; neither of the two days counts. `unlessField` = `"KEY"` waives it when the field KEY of the
  same scope is set (e.g. an urgent booking). A date before today is refused whatever the rule
  (`"0"`: only that). Quyết định 810/QĐ-UBND-HC, thủ tục 4: a videoconference is registered "trước
  ngày diễn ra hội nghị chính thức ít nhất 03 (ba) ngày làm việc", urgent cases by phone.
* `onlyUnits` = `"CODE,…"`: only a person of one of those units may fill the field (tick the box),
  e.g. an urgent booking that only the operators of Trung tâm Chuyển đổi số record from a phone call.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from engine.calendar import WorkingCalendar
from engine.domain.messages import Message

MIN_WORKING_DAYS, UNLESS, ONLY_UNITS = "minWorkingDaysAhead", "unlessField", "onlyUnits"
#: The most working days ahead a form may ask (about a year of working days).
MAX_DAYS_AHEAD = 250
#: A data path of the same scope (`unlessField`).
KEY_PATH = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$", re.ASCII)
#: "ttcds" or "ttcds, vpubnd": unit codes.
_UNITS = re.compile(r"^[A-Za-z0-9_.-]{1,64}(?:\s*,\s*[A-Za-z0-9_.-]{1,64})*$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T.*)?$", re.ASCII)
_DATE_SUBTYPES = frozenset({"date", "datetime"})


@dataclass(frozen=True)
class Submission:
    """Who submits, and when: the moment (the services' clock), the working calendar it is read on,
    and the code of the submitting person's unit with the names of units for messages."""

    now: datetime
    calendar: WorkingCalendar
    unit: str | None = None
    unit_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.calendar.tz).date()


def current_submission() -> Submission:
    """The national calendar at the system's time, for a caller that gave no submission context:
    date rules still hold (never skipped), and `onlyUnits` refuses (nobody's unit is known)."""
    return Submission(datetime.now(UTC), WorkingCalendar())


def _two_digits(number: int) -> str:
    return f"{number:02d}"


def _vi_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def days_ahead(props: Mapping[str, object]) -> int | None:
    """The N of `minWorkingDaysAhead` (text "3" as the form-js editor saves it, or 3); None when malformed."""
    raw = props.get(MIN_WORKING_DAYS)
    if isinstance(raw, bool):
        return None
    text = str(raw).strip() if isinstance(raw, (str, int)) else ""
    if not text.isdigit() or int(text) > MAX_DAYS_AHEAD:
        return None
    return int(text)


def units_of(props: Mapping[str, object]) -> list[str] | None:
    raw = props.get(ONLY_UNITS)
    if not isinstance(raw, str) or not _UNITS.match(raw.strip()):
        return None
    return [code.strip() for code in raw.split(",")]


def problems(comp: dict, props: Mapping[str, object]) -> list[tuple[str, str]]:
    """(vi, en) reasons these properties of `comp` cannot work; checked when a procedure is published."""
    found: list[tuple[str, str]] = []
    if MIN_WORKING_DAYS in props:
        if days_ahead(props) is None:
            found.append((f"thuộc tính minWorkingDaysAhead là số ngày làm việc, từ 0 đến {MAX_DAYS_AHEAD}.",
                          f"the minWorkingDaysAhead property is a number of working days, 0 to {MAX_DAYS_AHEAD}."))
        elif comp.get("type") != "datetime" or comp.get("subtype") not in _DATE_SUBTYPES:
            found.append(("thuộc tính minWorkingDaysAhead chỉ dùng cho ô ngày (datetime, date hoặc datetime).",
                          "the minWorkingDaysAhead property only applies to date fields (datetime, date or datetime)."))
    if UNLESS in props and (MIN_WORKING_DAYS not in props or not KEY_PATH.match(str(props[UNLESS]).strip())):
        found.append(("thuộc tính unlessField ghi tên một trường cùng cấp (TÊN_TRƯỜNG) và đi cùng minWorkingDaysAhead.",
                      "the unlessField property names a field of the same scope (FIELD_KEY) and goes with "
                      "minWorkingDaysAhead."))
    if ONLY_UNITS in props and units_of(props) is None:
        found.append(("thuộc tính onlyUnits ghi mã các đơn vị, cách nhau bởi dấu phẩy (ví dụ: ttcds).",
                      "the onlyUnits property lists unit codes separated by commas (e.g. ttcds)."))
    return found


def earliest_day(calendar: WorkingCalendar, now: datetime, days: int) -> date:
    """The first date with `days` full working days between the day `now` counts as received and it."""
    return calendar.shift_working_days(calendar.receipt_day(now), days) + timedelta(days=1)


def date_problem(props: Mapping[str, object], value: object, waived: bool, waiver_label: str,
                 submission: Submission) -> Message | None:
    """What is wrong with the date `value` ("YYYY-MM-DD…") under `minWorkingDaysAhead`; `waived` when
    the `unlessField` is set."""
    match = _DATE.match(value) if isinstance(value, str) else None
    if match is None:
        return None  # empty, or already refused by the field's own check
    try:
        day = date(*map(int, match.groups()))
    except ValueError:
        return None
    today = submission.today
    if day < today:
        return Message(f"Ngày này đã qua; chọn từ ngày {_vi_day(today)} trở đi.",
                       f"This date has passed; choose {today:%d/%m/%Y} or later.")
    days = days_ahead(props)
    if not days or waived:
        return None
    earliest = earliest_day(submission.calendar, submission.now, days)
    if day >= earliest:
        return None
    unless_vi = f", hoặc đánh dấu “{waiver_label}”" if waiver_label else ""
    unless_en = f", or tick “{waiver_label}”" if waiver_label else ""
    return Message(
        f"Phải đăng ký trước ngày họp ít nhất {_two_digits(days)} ngày làm việc (họp từ ngày "
        f"{_vi_day(earliest)} trở đi){unless_vi}.",
        f"Register at least {days} working day{'s' if days != 1 else ''} before the date "
        f"(from {earliest:%d/%m/%Y} on){unless_en}.")


def unit_problem(props: Mapping[str, object], label: str, tick: bool, submission: Submission) -> Message | None:
    """`onlyUnits`: a filled value (`tick`: a ticked box) is refused unless the person submitting belongs
    to one of the units."""
    units = units_of(props) or []
    if submission.unit is not None and submission.unit in units:
        return None
    names = ", ".join(submission.unit_names.get(code, code) for code in units)
    verb_vi, verb_en = ("đánh dấu", "tick") if tick else ("điền", "fill in")
    return Message(f"Chỉ cán bộ của {names} được {verb_vi} “{label}”.",
                   f"Only people of {names} may {verb_en} “{label}”.")
