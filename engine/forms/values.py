"""Per-type checks of one submitted value (text, number, choice, date/time), as form-js makes them."""
from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable
from decimal import Decimal

from engine.domain.messages import Message
from engine.forms.common import (
    JS_SPACE,
    MAX_PATTERN_INPUT,
    is_count,
    is_finite_number,
    option_key,
    option_keys,
    option_list,
    to_decimal,
)
from engine.forms.messages import (
    BAD_CHARS,
    BAD_DATE,
    BAD_DATETIME,
    BAD_EMAIL,
    BAD_FORMAT,
    BAD_PHONE,
    BAD_TIME,
    DUPLICATE_CHOICE,
    LINE_BREAK,
    NOT_ALLOWED,
    NOT_BOOLEAN,
    NOT_LIST,
    NOT_NUMBER,
    NOT_TEXT,
    PAST_DATE,
    TOO_LONG_TO_CHECK,
    decimal_digits,
    max_length,
    max_value,
    min_length,
    min_value,
    minute_step,
    msg,
    multiple_of,
)
from engine.forms.schema import compile_pattern

_TIME_INTERVALS = (1, 5, 10, 15, 30, 60)  # form-js falls back to 15 for anything else
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_TIME = re.compile(r"(\d{2}):(\d{2})(Z|[+-](\d{2}):(\d{2}))?", re.ASCII)
# The WHATWG rule for an e-mail address, which form-js's email check also follows.
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_PHONE = re.compile(r"(?:\+|00)[1-9]\d{5,22}", re.ASCII)  # E.164-like, no spaces (as form-js)

Checked = tuple[object, Message | None]


def _js_length(text: str) -> int:
    """Length after JS trim(), in UTF-16 code units, exactly as form-js counts it."""
    return len(text.strip(JS_SPACE).encode("utf-16-le", "surrogatepass")) // 2


def _check_text(comp: dict, raw: object, context: dict) -> Checked:
    if not isinstance(raw, str):
        return None, NOT_TEXT
    try:
        raw.encode("utf-8")  # lone surrogates from JSON escapes cannot be stored
    except UnicodeEncodeError:
        return None, BAD_CHARS
    if _BAD_CHARS.search(raw):
        return None, BAD_CHARS
    if comp["type"] == "textfield" and ("\n" in raw or "\r" in raw):
        return None, LINE_BREAK  # a single-line input cannot produce them
    rules = comp.get("validate") or {}
    length = _js_length(raw)
    if is_count(rules.get("minLength")) and length < rules["minLength"]:
        return None, min_length(rules["minLength"])
    if is_count(rules.get("maxLength")) and length > rules["maxLength"]:
        return None, max_length(rules["maxLength"])
    kind = rules.get("validationType")
    if kind == "email" and not _EMAIL.fullmatch(raw):
        return None, BAD_EMAIL
    if kind == "phone" and not _PHONE.fullmatch(raw):
        return None, BAD_PHONE
    return raw, _pattern_problem(rules, raw)


def _pattern_problem(rules: dict, value: str) -> Message | None:
    pattern = rules.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        return None
    if len(value) > MAX_PATTERN_INPUT:
        return TOO_LONG_TO_CHECK
    # form-js tests `new RegExp(pattern).test(value)`: a search, anchored only by ^ and $.
    if compile_pattern(pattern).search(value):
        return None
    custom = rules.get("patternErrorMessage")
    return msg(custom, custom) if isinstance(custom, str) and custom.strip() else BAD_FORMAT


def _check_number(comp: dict, raw: object, context: dict) -> Checked:
    number = to_decimal(raw)
    if number is None:
        return None, NOT_NUMBER
    rules = comp.get("validate") or {}
    digits, step = comp.get("decimalDigits"), to_decimal(comp.get("increment"))
    with decimal.localcontext() as ctx:
        ctx.prec = 1000  # exact arithmetic (like form-js's Big.js) for any finite double
        number = number.normalize()
        exponent = number.as_tuple().exponent
        if is_count(digits) and isinstance(exponent, int) and max(0, -exponent) > int(str(digits)):
            return None, decimal_digits(int(str(digits)))
        if step is not None and step > 0 and number % step != 0:
            return None, multiple_of(comp.get("increment"))
        if is_finite_number(rules.get("min")) and number < Decimal(repr(rules["min"])):
            return None, min_value(rules["min"])
        if is_finite_number(rules.get("max")) and number > Decimal(repr(rules["max"])):
            return None, max_value(rules["max"])
        if comp.get("serializeToString"):
            return format(number, "f"), None
        integral = number == number.to_integral_value()
        return (int(number) if integral else float(number)), None


def _check_checkbox(comp: dict, raw: object, context: dict) -> Checked:
    return (raw, None) if isinstance(raw, bool) else (None, NOT_BOOLEAN)


def _allowed(comp: dict, context: dict) -> set[tuple[str, object]] | None:
    """Allowed option identities, or None when they are computed in the browser."""
    options = option_list(comp, context)
    return None if options is None else option_keys(options)


def _check_choice(value: object, allowed: set[tuple[str, object]] | None) -> Message | None:
    if allowed is not None:
        return None if option_key(value) in allowed else NOT_ALLOWED
    # Unknown dynamic options: accept only plain scalars that are safe to store.
    if isinstance(value, str):
        return None if value.isprintable() else BAD_CHARS  # no control chars or lone surrogates
    return None if is_finite_number(value) else NOT_ALLOWED


def _check_single(comp: dict, raw: object, context: dict) -> Checked:
    problem = _check_choice(raw, _allowed(comp, context))
    return (None, problem) if problem else (raw, None)


def _check_multi(comp: dict, raw: object, context: dict) -> Checked:
    if not isinstance(raw, list):
        return None, NOT_LIST
    allowed, seen = _allowed(comp, context), set()
    for item in raw:
        problem = _check_choice(item, allowed)
        if problem:
            return None, problem
        if option_key(item) in seen:
            return None, DUPLICATE_CHOICE
        seen.add(option_key(item))
    return list(raw), None


def _check_datetime(comp: dict, raw: object, context: dict) -> Checked:
    subtype = comp.get("subtype")
    if not isinstance(raw, str) or len(raw) > 40:
        return None, {"date": BAD_DATE, "time": BAD_TIME}.get(str(subtype), BAD_DATETIME)
    if subtype == "date":
        problem = _date_problem(comp, raw)
    elif subtype == "time":
        problem = _time_problem(comp, raw)
    else:
        day, sep, time = raw.partition("T")
        problem = BAD_DATETIME if not sep else (_date_problem(comp, day) or _time_problem(comp, time))
        problem = BAD_DATETIME if problem in (BAD_DATE, BAD_TIME) else problem
    return (None, problem) if problem else (raw, None)


def _date_problem(comp: dict, text: str) -> Message | None:
    match = _DATE.fullmatch(text)
    try:
        day = dt.date(*map(int, match.groups())) if match else None
    except ValueError:  # 2026-02-30 and the like
        day = None
    if day is None:
        return BAD_DATE
    # The browser's "today" may be a day ahead of or behind the server's, so allow one day.
    if comp.get("disallowPassedDates") and day < dt.date.today() - dt.timedelta(days=1):
        return PAST_DATE
    return None


def _time_problem(comp: dict, text: str) -> Message | None:
    match = _TIME.fullmatch(text)
    if not match:
        return BAD_TIME
    hour, minute, zone, zone_h, zone_m = match.groups()
    if int(hour) > 23 or int(minute) > 59 or (zone_h and (int(zone_h) > 23 or int(zone_m) > 59)):
        return BAD_TIME
    interval = comp.get("timeInterval")
    step = interval if is_count(interval) and interval in _TIME_INTERVALS else 15
    # A UTC-normalised time is shifted by the user's offset, so only local times snap to the step.
    if zone != "Z" and (int(hour) * 60 + int(minute)) % step:
        return minute_step(step)
    return None


CHECKERS: dict[str, Callable[[dict, object, dict], Checked]] = {
    "textfield": _check_text, "textarea": _check_text, "number": _check_number,
    "checkbox": _check_checkbox, "radio": _check_single, "select": _check_single,
    "checklist": _check_multi, "taglist": _check_multi, "datetime": _check_datetime,
}
