"""Server-side checks of form-js 1.x schemas and of the data submitted for them."""
from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import math
import pathlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from engine.domain.messages import Message

MAX_FORM_BYTES = 1_000_000
MAX_SUBMISSION_BYTES = 1_000_000
MAX_ROWS = 500
MAX_PATTERN_INPUT = 10_000  # longer values are not fed to a form's regex (catastrophic backtracking)
MAX_COMPONENTS = 2_000
MAX_DEPTH = 20

INPUT_TYPES = frozenset({
    "textfield", "textarea", "number", "checkbox", "checklist", "radio", "select", "taglist",
    "datetime",
})
DISPLAY_TYPES = frozenset({
    "text", "html", "table", "image", "spacer", "separator", "button", "iframe", "expression",
    "documentPreview",
})
CONTAINER_TYPES = frozenset({"group", "dynamiclist"})
_TEXT_TYPES = frozenset({"textfield", "textarea"})
_SINGLE_CHOICE = frozenset({"radio", "select"})
_MULTI_CHOICE = frozenset({"checklist", "taglist"})
# form-js's emptyValue of each input type: what an untouched field submits.
_EMPTY: dict[str, object] = {
    "textfield": "", "textarea": "", "number": None, "checkbox": False, "checklist": [],
    "radio": None, "select": None, "taglist": [], "datetime": None,
}
_DATETIME_SUBTYPES = frozenset({"date", "time", "datetime"})
_TIME_FORMATS = frozenset({"utc_offset", "utc_normalized", "no_timezone"})
_TIME_INTERVALS = (1, 5, 10, 15, 30, 60)  # form-js falls back to 15 for anything else
_VALIDATION_TYPES = frozenset({"", "email", "phone"})
_PROHIBITED_SEGMENTS = frozenset({"__proto__", "prototype", "constructor"})
# Regex syntax Python accepts but a browser's RegExp rejects or reads differently.
_PY_ONLY_SYNTAX = re.compile(r"(?<!\\)(?:\(\?(?:[aiLmsux-]|P|#|>)|\\[AZ])")
_DOT_PATH = re.compile(r"\w+(?:\.\w+)*", re.ASCII)
# JS String.prototype.trim() whitespace, which form-js uses before counting length.
_JS_SPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_TIME = re.compile(r"(\d{2}):(\d{2})(Z|[+-](\d{2}):(\d{2}))?", re.ASCII)
# The WHATWG rule for an e-mail address, which form-js's email check also follows.
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_PHONE = re.compile(r"(?:\+|00)[1-9]\d{5,22}", re.ASCII)  # E.164-like, no spaces (as form-js)


def _msg(vi: str, en: str) -> Message:
    return Message(vi=vi, en=en)


REQUIRED = _msg("Trường này là bắt buộc.", "This field is required.")
NOT_NUMBER = _msg("Giá trị phải là số.", "The value must be a number.")
NOT_TEXT = _msg("Giá trị phải là chuỗi ký tự.", "The value must be text.")
BAD_FORMAT = _msg("Không đúng định dạng.", "Invalid format.")
BAD_CHARS = _msg("Có ký tự không hợp lệ.", "The value contains invalid characters.")
LINE_BREAK = _msg("Không được xuống dòng.", "Line breaks are not allowed.")
NOT_ALLOWED = _msg("Giá trị không nằm trong danh sách cho phép.",
                   "The value is not one of the allowed options.")
DUPLICATE_CHOICE = _msg("Có giá trị được chọn trùng lặp.", "A value is selected more than once.")
NOT_BOOLEAN = _msg("Giá trị phải là đúng hoặc sai.", "The value must be true or false.")
NOT_LIST = _msg("Giá trị phải là một danh sách.", "The value must be a list.")
BAD_EMAIL = _msg("Địa chỉ thư điện tử không hợp lệ.", "Invalid e-mail address.")
BAD_PHONE = _msg("Số điện thoại không hợp lệ (dạng quốc tế, ví dụ +84912345678).",
                 "Invalid phone number (international form, e.g. +84912345678).")
BAD_DATE = _msg("Ngày không hợp lệ (định dạng YYYY-MM-DD).", "Invalid date (format YYYY-MM-DD).")
BAD_TIME = _msg("Giờ không hợp lệ (định dạng HH:MM).", "Invalid time (format HH:MM).")
BAD_DATETIME = _msg("Ngày giờ không hợp lệ.", "Invalid date and time.")
PAST_DATE = _msg("Không được chọn ngày đã qua.", "Past dates are not allowed.")
ROWS_NOT_LIST = _msg("Dữ liệu của danh sách phải là một mảng.", "The list data must be an array.")
ROW_NOT_OBJECT = _msg("Mỗi dòng phải là một đối tượng.", "Each row must be an object.")
DATA_NOT_OBJECT = _msg("Dữ liệu gửi lên phải là một đối tượng JSON.",
                       "The submitted data must be a JSON object.")
DATA_NOT_JSON = _msg("Dữ liệu gửi lên không phải JSON hợp lệ.",
                     "The submitted data is not valid JSON.")
DATA_TOO_LARGE = _msg("Dữ liệu gửi lên quá lớn (tối đa 1 MB).",
                      "The submitted data is too large (1 MB at most).")
TOO_LONG_TO_CHECK = _msg(f"Giá trị quá dài để kiểm tra định dạng (tối đa {MAX_PATTERN_INPUT} ký tự).",
                         f"The value is too long to check (at most {MAX_PATTERN_INPUT} characters).")


def max_length(n: int) -> Message:
    return _msg(f"Tối đa {n} ký tự.", f"At most {n} characters.")


def min_length(n: int) -> Message:
    return _msg(f"Tối thiểu {n} ký tự.", f"At least {n} characters.")


def min_value(n: object) -> Message:
    return _msg(f"Giá trị nhỏ nhất là {n}.", f"The minimum value is {n}.")


def max_value(n: object) -> Message:
    return _msg(f"Giá trị lớn nhất là {n}.", f"The maximum value is {n}.")


def decimal_digits(n: int) -> Message:
    if n == 0:
        return _msg("Giá trị phải là số nguyên.", "The value must be a whole number.")
    return _msg(f"Tối đa {n} chữ số thập phân.", f"At most {n} decimal digits.")


def multiple_of(n: object) -> Message:
    return _msg(f"Giá trị phải là bội số của {n}.", f"The value must be a multiple of {n}.")


def minute_step(n: int) -> Message:
    return _msg(f"Số phút phải là bội số của {n}.", f"Minutes must be a multiple of {n}.")


def too_many_rows(n: int) -> Message:
    return _msg(f"Tối đa {n} dòng.", f"At most {n} rows.")


def fixed_rows(n: int) -> Message:
    return _msg(f"Không được thêm hoặc bớt dòng (cần đúng {n} dòng).",
                f"Rows cannot be added or removed ({n} rows expected).")


@dataclass(frozen=True)
class FieldError:
    """One problem with one submitted value, placed by data path and component id."""

    path: str  # dotted path of the data key, with list indexes: "ca_nhan.0.ho_ten"
    field_id: str  # the form-js component id, so the browser can show the error by the field
    message: Message

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "field_id": self.field_id, "message": self.message.as_dict()}


class FormSchemaError(ValueError):
    """A schema that cannot be used; `messages` says why in both languages."""

    def __init__(self, messages: list[Message] | Message) -> None:
        self.messages = [messages] if isinstance(messages, Message) else list(messages)
        super().__init__(" ".join(m.vi for m in self.messages))


# ---------------------------------------------------------------- loading


def load_form(path: str | pathlib.Path) -> dict:
    """Read a .form file (form-js JSON); FormSchemaError if unreadable, too big or not an object."""
    p = pathlib.Path(path)
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_FORM_BYTES + 1)  # never read a huge file whole
    except OSError as exc:
        raise FormSchemaError(_msg(f"Không đọc được tệp biểu mẫu {p.name}: {exc.strerror}.",
                                   f"Cannot read form file {p.name}: {exc.strerror}.")) from None
    if len(raw) > MAX_FORM_BYTES:
        raise FormSchemaError(_msg(f"Tệp biểu mẫu {p.name} vượt quá 1 MB.",
                                   f"Form file {p.name} is larger than 1 MB."))
    try:
        schema = json.loads(raw.decode("utf-8-sig"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FormSchemaError(_msg(f"Tệp biểu mẫu {p.name} không phải JSON hợp lệ: {exc}.",
                                   f"Form file {p.name} is not valid JSON: {exc}.")) from None
    if not isinstance(schema, dict):
        raise FormSchemaError(_msg(f"Tệp biểu mẫu {p.name} phải chứa một đối tượng JSON.",
                                   f"Form file {p.name} must hold a JSON object."))
    return schema


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


# ---------------------------------------------------------------- schema checks


@dataclass
class _SchemaCheck:
    problems: list[Message] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    count: int = 0

    def add(self, where: str, vi: str, en: str) -> None:
        self.problems.append(_msg(f"Thành phần “{where}”: {vi}", f"Component “{where}”: {en}"))


def check_schema(schema: dict) -> list[Message]:
    """Problems that keep a schema from being published; an empty list means it is usable."""
    if not isinstance(schema, dict):
        return [_msg("Biểu mẫu phải là một đối tượng JSON.", "A form must be a JSON object.")]
    components = schema.get("components")
    if not isinstance(components, list) or not components:
        return [_msg("Biểu mẫu không có thành phần nào (thiếu “components”).",
                     "The form has no components (“components” is missing or empty).")]
    state = _SchemaCheck()
    _check_components(components, {}, (), 0, state)
    return state.problems


def _check_components(components: list, claims: dict[tuple[str, ...], bool],
                      prefix: tuple[str, ...], depth: int, state: _SchemaCheck) -> None:
    # `claims` holds the data paths used in one scope (the form, or one row of a dynamic
    # list): True marks a closed path (a field's key), False one that is only passed through.
    if depth > MAX_DEPTH:
        state.add("…", f"lồng nhau quá {MAX_DEPTH} cấp.", f"nested more than {MAX_DEPTH} levels.")
        return
    for index, comp in enumerate(components):
        state.count += 1
        if state.count > MAX_COMPONENTS:
            state.add("…", f"biểu mẫu có quá {MAX_COMPONENTS} thành phần.",
                      f"the form has more than {MAX_COMPONENTS} components.")
            return
        if not isinstance(comp, dict):
            state.add(f"#{index + 1}", "không phải một đối tượng.", "is not an object.")
            continue
        _check_component(comp, claims, prefix, depth, state)


def _where(comp: dict) -> str:
    return str(comp.get("id") or comp.get("key") or comp.get("path") or comp.get("type") or "?")


def _check_component(comp: dict, claims: dict[tuple[str, ...], bool],
                     prefix: tuple[str, ...], depth: int, state: _SchemaCheck) -> None:
    where, ctype = _where(comp), comp.get("type")
    cid = comp.get("id")
    if cid is not None:
        if not isinstance(cid, str) or not cid:
            state.add(where, "“id” phải là chuỗi khác rỗng.", "“id” must be a non-empty string.")
        elif cid in state.ids:
            state.add(where, "“id” bị trùng.", "duplicate “id”.")
        else:
            state.ids.add(cid)
    if not isinstance(ctype, str):
        state.add(where, "thiếu “type” hoặc không phải chuỗi.", "“type” is missing or not a string.")
    elif ctype == "filepicker":
        state.add(where, "loại “filepicker” chưa được hỗ trợ.", "type “filepicker” is not supported.")
    elif ctype not in INPUT_TYPES | DISPLAY_TYPES | CONTAINER_TYPES:
        state.add(where, f"loại thành phần không xác định: {ctype!r}.",
                  f"unknown component type: {ctype!r}.")
    elif ctype in CONTAINER_TYPES:
        _check_container(comp, claims, prefix, depth, state)
    elif ctype in INPUT_TYPES or ctype == "expression":
        _check_keyed(comp, claims, prefix, state)
        if ctype in INPUT_TYPES:
            _check_input(comp, state)


def _check_container(comp: dict, claims: dict[tuple[str, ...], bool],
                     prefix: tuple[str, ...], depth: int, state: _SchemaCheck) -> None:
    where, raw_path = _where(comp), comp.get("path")
    repeating = _is_repeating(comp)
    children = comp.get("components", [])
    if not isinstance(children, list):
        state.add(where, "“components” phải là một mảng.", "“components” must be an array.")
        return
    if raw_path in (None, "") and not repeating:
        _check_components(children, claims, prefix, depth + 1, state)
        return
    segments = _path_problem(raw_path, where, "path", state)
    if segments is None:
        return
    full = prefix + segments
    if not _claim(claims, full, closed=repeating):
        _overlap(where, full, state)
    if repeating:
        if "defaultRepetitions" in comp and not _is_count(comp["defaultRepetitions"]):
            state.add(where, "“defaultRepetitions” phải là số nguyên không âm.",
                      "“defaultRepetitions” must be a non-negative integer.")
        _check_components(children, {}, (), depth + 1, state)  # each row is a fresh scope
    else:
        _check_components(children, claims, full, depth + 1, state)


def _check_keyed(comp: dict, claims: dict[tuple[str, ...], bool],
                 prefix: tuple[str, ...], state: _SchemaCheck) -> None:
    where = _where(comp)
    if comp.get("key") in (None, ""):
        state.add(where, "thiếu “key” (tên biến dữ liệu).", "missing “key” (the data variable name).")
        return
    segments = _path_problem(comp["key"], where, "key", state)
    if segments is not None and not _claim(claims, prefix + segments, closed=True):
        _overlap(where, prefix + segments, state)


def _overlap(where: str, full: tuple[str, ...], state: _SchemaCheck) -> None:
    dotted = ".".join(full)
    state.add(where, f"khóa “{dotted}” trùng hoặc chồng lấn với trường khác trong cùng phạm vi.",
              f"key “{dotted}” duplicates or overlaps another field in the same scope.")


def _path_problem(raw: object, where: str, name: str, state: _SchemaCheck) -> tuple[str, ...] | None:
    """The segments of a key/path as form-js accepts it, else None after recording why."""
    if not isinstance(raw, str) or not _DOT_PATH.fullmatch(raw):
        state.add(where, f"“{name}” phải là tên biến hoặc đường dẫn có dấu chấm (a.b).",
                  f"“{name}” must be a variable name or a dot-separated path (a.b).")
        return None
    segments = tuple(raw.split("."))
    # Numeric segments would be read as list indexes, prototype names break JS objects.
    if any(s.isdigit() or s in _PROHIBITED_SEGMENTS for s in segments):
        state.add(where, f"“{name}” chứa phần tử không được phép (số hoặc tên dành riêng).",
                  f"“{name}” contains a forbidden segment (a number or a reserved name).")
        return None
    return segments


def _claim(claims: dict[tuple[str, ...], bool], path: tuple[str, ...], closed: bool) -> bool:
    """Record a data path as form-js's PathRegistry does; False when it conflicts."""
    for i in range(1, len(path)):
        if claims.get(path[:i]) is True:  # passes through another field's value
            return False
    existing = claims.get(path)
    if existing is not None and (closed or existing):
        return False
    for i in range(1, len(path)):
        claims.setdefault(path[:i], False)
    claims[path] = closed or bool(existing)
    return True


def _check_input(comp: dict, state: _SchemaCheck) -> None:
    where, ctype = _where(comp), comp["type"]
    for flag in ("readonly", "disabled"):
        if flag in comp and not isinstance(comp[flag], bool):
            state.add(where, f"“{flag}” phải là true/false (biểu thức FEEL chưa được hỗ trợ).",
                      f"“{flag}” must be true/false (FEEL expressions are not supported).")
    validate = comp.get("validate", {})
    if not isinstance(validate, dict):
        state.add(where, "“validate” phải là một đối tượng.", "“validate” must be an object.")
    else:
        _check_validate(validate, where, state)
    if ctype == "number":
        _check_number_props(comp, where, state)
    elif ctype == "datetime":
        _check_datetime_props(comp, where, state)
    elif ctype in _SINGLE_CHOICE | _MULTI_CHOICE:
        _check_options(comp, where, state)


def _check_validate(validate: dict, where: str, state: _SchemaCheck) -> None:
    if "required" in validate and not isinstance(validate["required"], bool):
        state.add(where, "“validate.required” phải là true/false.",
                  "“validate.required” must be true/false.")
    for name in ("minLength", "maxLength"):
        if name in validate and not _is_count(validate[name]):
            state.add(where, f"“validate.{name}” phải là số nguyên không âm.",
                      f"“validate.{name}” must be a non-negative integer.")
    for name in ("min", "max"):
        if name in validate and not _is_finite_number(validate[name]):
            state.add(where, f"“validate.{name}” phải là một số.",
                      f"“validate.{name}” must be a number.")
    if not _one_of(validate.get("validationType"), _VALIDATION_TYPES):
        state.add(where, "“validate.validationType” chỉ nhận “email” hoặc “phone”.",
                  "“validate.validationType” must be “email” or “phone”.")
    pattern = validate.get("pattern")
    if pattern is not None and pattern != "":
        try:
            if not isinstance(pattern, str) or len(pattern) > 1000:
                raise re.error("must be a string of at most 1000 characters")
            if _PY_ONLY_SYNTAX.search(pattern):
                raise re.error("Python-only syntax that a browser reads differently")
            _compile_pattern(pattern)
        except (re.error, RecursionError, OverflowError) as exc:
            state.add(where, f"biểu thức chính quy “validate.pattern” không hợp lệ: {exc}.",
                      f"invalid regular expression in “validate.pattern”: {exc}.")


def _check_number_props(comp: dict, where: str, state: _SchemaCheck) -> None:
    if "decimalDigits" in comp and not _is_count(comp["decimalDigits"]):
        state.add(where, "“decimalDigits” phải là số nguyên không âm.",
                  "“decimalDigits” must be a non-negative integer.")
    if "increment" in comp and comp["increment"] not in (None, ""):
        step = _to_decimal(comp["increment"])
        if step is None or step <= 0:
            state.add(where, "“increment” phải là số dương.", "“increment” must be a positive number.")


def _check_datetime_props(comp: dict, where: str, state: _SchemaCheck) -> None:
    if comp.get("subtype") is None or not _one_of(comp["subtype"], _DATETIME_SUBTYPES):
        state.add(where, "“subtype” phải là date, time hoặc datetime.",
                  "“subtype” must be date, time or datetime.")
    if not _one_of(comp.get("timeSerializingFormat"), _TIME_FORMATS):
        state.add(where, "“timeSerializingFormat” không hợp lệ.", "invalid “timeSerializingFormat”.")


def _check_options(comp: dict, where: str, state: _SchemaCheck) -> None:
    if "valuesExpression" in comp or "valuesKey" in comp:
        source = comp.get("valuesExpression", comp.get("valuesKey"))
        if not isinstance(source, str) or not source:
            state.add(where, "nguồn lựa chọn (valuesKey/valuesExpression) phải là chuỗi khác rỗng.",
                      "the options source (valuesKey/valuesExpression) must be a non-empty string.")
        return
    values = comp.get("values")
    if not isinstance(values, list) or not values:
        state.add(where, "thiếu danh sách lựa chọn “values”.", "the “values” option list is missing.")
    elif len(_option_keys(values)) != len(values):
        state.add(where, "“values” có lựa chọn không hợp lệ hoặc trùng giá trị.",
                  "“values” has an invalid or duplicate option.")


# ---------------------------------------------------------------- shared helpers


def _one_of(value: object, allowed: frozenset[str]) -> bool:
    """Absent, or one of the allowed strings (a guard against unhashable JSON values)."""
    return value is None or (isinstance(value, str) and value in allowed)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_repeating(comp: dict) -> bool:
    return comp.get("type") == "dynamiclist" and bool(comp.get("isRepeating"))


def _has_condition(comp: dict) -> bool:
    conditional = comp.get("conditional")
    return isinstance(conditional, dict) and bool(conditional.get("hide"))


@functools.lru_cache(maxsize=256)
def _compile_pattern(js_pattern: str) -> re.Pattern[str]:
    # ASCII makes \d \w \b behave as in a JS RegExp without the u flag.
    return re.compile(_js_to_python(js_pattern), re.ASCII)


def _js_to_python(pattern: str) -> str:
    """Rewrite the two common JS constructs Python reads differently; the rest is shared."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i:i + 2])  # an escape pair is copied untouched
            i += 2
            continue
        if ch in "[]":
            in_class = ch == "["
        elif not in_class and ch == "$":
            ch = r"\Z"  # JS `$` (no m flag) does not match before a final newline; Python's does
        elif not in_class and pattern.startswith("(?<", i) and pattern[i + 3:i + 4] not in "=!":
            ch, i = "(?P<", i + 2  # JS named group (?<name>...) is Python's (?P<name>...)
        out.append(ch)
        i += 1
    return "".join(out)


def _option_key(value: object) -> tuple[str, object]:
    """A hashable identity for an option value; 1 and True must stay different, as in JS."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    return ("j", json.dumps(value, sort_keys=True, default=str))


def _option_keys(options: list) -> set[tuple[str, object]]:
    """Allowed values of an option list, skipping entries form-js would drop as malformed."""
    keys = set()
    for option in options:
        value = option.get("value") if isinstance(option, dict) else option
        if isinstance(value, bool) or (isinstance(value, (int, float)) and math.isfinite(value)) \
                or (isinstance(value, str) and value):
            keys.add(_option_key(value))
    return keys


def _to_decimal(value: object) -> Decimal | None:
    """A finite number from a JSON number or numeric string, else None (bool is not a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value)) if math.isfinite(value) else Decimal("NaN")
    elif isinstance(value, str) and len(value) <= 100 and _NUMBER_TEXT.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        return None
    # Beyond float range a JS Number is Infinity, which form-js treats as not a number.
    if not number.is_finite() or not math.isfinite(float(number)):
        return None
    return number


def _lookup(data: object, path: tuple[str, ...]) -> tuple[bool, object]:
    for segment in path:
        if isinstance(data, dict) and segment in data:
            data = data[segment]
        elif isinstance(data, list) and segment.isdigit() and int(segment) < len(data):
            data = data[int(segment)]
        else:
            return False, None
    return True, data


def _store(out: dict, path: tuple[str, ...], value: object) -> None:
    for segment in path[:-1]:
        out = out.setdefault(segment, {})
    out[path[-1]] = value


def _js_length(text: str) -> int:
    """Length after JS trim(), in UTF-16 code units, exactly as form-js counts it."""
    return len(text.strip(_JS_SPACE).encode("utf-16-le", "surrogatepass")) // 2


# ---------------------------------------------------------------- value checks

Checked = tuple[object, Message | None]


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
    if _is_count(rules.get("minLength")) and length < rules["minLength"]:
        return None, min_length(rules["minLength"])
    if _is_count(rules.get("maxLength")) and length > rules["maxLength"]:
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
    if _compile_pattern(pattern).search(value):
        return None
    custom = rules.get("patternErrorMessage")
    return _msg(custom, custom) if isinstance(custom, str) and custom.strip() else BAD_FORMAT


def _check_number(comp: dict, raw: object, context: dict) -> Checked:
    number = _to_decimal(raw)
    if number is None:
        return None, NOT_NUMBER
    rules = comp.get("validate") or {}
    digits, step = comp.get("decimalDigits"), _to_decimal(comp.get("increment"))
    with decimal.localcontext() as ctx:
        ctx.prec = 1000  # exact arithmetic (like form-js's Big.js) for any finite double
        number = number.normalize()
        exponent = number.as_tuple().exponent
        if _is_count(digits) and isinstance(exponent, int) and max(0, -exponent) > int(str(digits)):
            return None, decimal_digits(int(str(digits)))
        if step is not None and step > 0 and number % step != 0:
            return None, multiple_of(comp.get("increment"))
        if _is_finite_number(rules.get("min")) and number < Decimal(repr(rules["min"])):
            return None, min_value(rules["min"])
        if _is_finite_number(rules.get("max")) and number > Decimal(repr(rules["max"])):
            return None, max_value(rules["max"])
        if comp.get("serializeToString"):
            return format(number, "f"), None
        integral = number == number.to_integral_value()
        return (int(number) if integral else float(number)), None


def _check_checkbox(comp: dict, raw: object, context: dict) -> Checked:
    return (raw, None) if isinstance(raw, bool) else (None, NOT_BOOLEAN)


def _allowed(comp: dict, context: dict) -> set[tuple[str, object]] | None:
    """Allowed option identities, or None when they are computed in the browser."""
    if comp.get("valuesExpression"):
        return None  # FEEL cannot be evaluated here
    key = comp.get("valuesKey")
    if key:
        options = context.get(key)  # form-js reads valuesKey as one top-level name
        return _option_keys(options) if isinstance(options, list) else None
    values = comp.get("values")
    return _option_keys(values) if isinstance(values, list) else set()


def _check_choice(value: object, allowed: set[tuple[str, object]] | None) -> Message | None:
    if allowed is not None:
        return None if _option_key(value) in allowed else NOT_ALLOWED
    # Unknown dynamic options: accept only plain scalars that are safe to store.
    if isinstance(value, str):
        return None if value.isprintable() else BAD_CHARS  # no control chars or lone surrogates
    return None if _is_finite_number(value) else NOT_ALLOWED


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
        if _option_key(item) in seen:
            return None, DUPLICATE_CHOICE
        seen.add(_option_key(item))
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
    step = interval if _is_count(interval) and interval in _TIME_INTERVALS else 15
    # A UTC-normalised time is shifted by the user's offset, so only local times snap to the step.
    if zone != "Z" and (int(hour) * 60 + int(minute)) % step:
        return minute_step(step)
    return None


_CHECKERS: dict[str, Callable[[dict, object, dict], Checked]] = {
    "textfield": _check_text, "textarea": _check_text, "number": _check_number,
    "checkbox": _check_checkbox, "radio": _check_single, "select": _check_single,
    "checklist": _check_multi, "taglist": _check_multi, "datetime": _check_datetime,
}


# ---------------------------------------------------------------- submission


@dataclass
class _Scope:
    """The form's data, or one row of a dynamic list, being validated."""

    data: dict
    out: dict
    at: tuple[str, ...]  # where this scope sits in the submitted data ("ca_nhan", "1")
    context: dict
    errors: list[FieldError]

    def error(self, path: tuple[str, ...], comp: dict, message: Message) -> None:
        self.errors.append(FieldError(".".join(self.at + path), str(comp.get("id") or ""), message))


def validate_submission(schema: dict, data: object,
                        context: dict | None = None) -> tuple[dict, list[FieldError]]:
    """Check submitted form data against the schema and return (cleaned, errors).

    `cleaned` holds only the values of writable input fields, coerced to canonical types;
    unknown keys, readonly/disabled fields and display-only components (text, table,
    expression, ...) are never taken from the submission. Store nothing if `errors` is
    non-empty. `context` is the data the form was opened with: it supplies options of
    fields using `valuesKey` and the row count of lists without `allowAddRemove`.

    Known limitations: FEEL is not evaluated. A component under a `conditional` (itself or
    a container above it) may be hidden in the browser, so its `required` rule is not
    enforced here and an absent value stays absent, but a value that is present must still
    be valid. Options from `valuesExpression` (or a `valuesKey` missing from `context`) are
    unknown, so any plain string or number is accepted for them.
    """
    problems = check_schema(schema)
    if problems:
        raise FormSchemaError(problems)
    if not isinstance(data, dict):
        return {}, [FieldError("", "", DATA_NOT_OBJECT)]
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return {}, [FieldError("", "", DATA_NOT_JSON)]
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SUBMISSION_BYTES:
        return {}, [FieldError("", "", DATA_TOO_LARGE)]
    scope = _Scope(data, {}, (), context if isinstance(context, dict) else {}, [])
    _validate_components(schema["components"], scope, (), False)
    return scope.out, scope.errors


def _validate_components(components: list, scope: _Scope, prefix: tuple[str, ...],
                         conditional: bool) -> None:
    for comp in components:
        ctype, hidden = comp.get("type"), conditional or _has_condition(comp)
        if ctype in CONTAINER_TYPES and not _is_repeating(comp):
            path = prefix + tuple(comp["path"].split(".")) if comp.get("path") else prefix
            _validate_components(comp.get("components", []), scope, path, hidden)
        elif ctype == "dynamiclist":
            _validate_list(comp, scope, prefix + tuple(comp["path"].split(".")), hidden)
        elif ctype in INPUT_TYPES:
            _validate_input(comp, scope, prefix + tuple(comp["key"].split(".")), hidden)


def _validate_input(comp: dict, scope: _Scope, path: tuple[str, ...], conditional: bool) -> None:
    if comp.get("readonly") or comp.get("disabled"):
        return  # the server, not the browser, owns these values
    ctype = comp["type"]
    found, raw = _lookup(scope.data, path)
    if not found and conditional:
        return  # form-js drops values of hidden fields; absent is the normal hidden case
    missing = _is_missing(ctype, raw)
    if missing and (comp.get("validate") or {}).get("required") is True and not conditional:
        scope.error(path, comp, REQUIRED)
        return
    # Optional whitespace-only text goes on to the checker: it is kept as typed, not stripped.
    if raw is None or raw == "" or (missing and ctype not in _TEXT_TYPES):
        _store(scope.out, path, _EMPTY[ctype])
        return
    value, problem = _CHECKERS[ctype](comp, raw, scope.context)
    if problem is not None:
        scope.error(path, comp, problem)
    else:
        _store(scope.out, path, value)


def _is_missing(ctype: str, raw: object) -> bool:
    """form-js's idea of "not filled in", plus whitespace-only text."""
    if raw is None or raw == [] or (ctype == "checkbox" and raw is False):
        return True
    return isinstance(raw, str) and not raw.strip(_JS_SPACE)


def _validate_list(comp: dict, scope: _Scope, path: tuple[str, ...], conditional: bool) -> None:
    found, rows = _lookup(scope.data, path)
    if not found and conditional:
        return
    rows = [] if rows is None else rows  # form-js lets the user remove every row
    if not isinstance(rows, list):
        scope.error(path, comp, ROWS_NOT_LIST)
        return
    if len(rows) > MAX_ROWS:
        scope.error(path, comp, too_many_rows(MAX_ROWS))
        return
    if not comp.get("allowAddRemove"):
        expected = _fixed_row_count(comp, scope, path)
        if len(rows) != expected:
            scope.error(path, comp, fixed_rows(expected))
            return
    cleaned = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            scope.error((*path, str(index)), comp, ROW_NOT_OBJECT)
            continue
        row_scope = _Scope(row, {}, scope.at + path + (str(index),), scope.context, scope.errors)
        _validate_components(comp.get("components", []), row_scope, (), conditional)
        cleaned.append(row_scope.out)
    _store(scope.out, path, cleaned)


def _fixed_row_count(comp: dict, scope: _Scope, path: tuple[str, ...]) -> int:
    """Rows a list without add/remove buttons shows: the opening data's, else defaultRepetitions."""
    found, initial = _lookup(scope.context, scope.at + path)
    if found and isinstance(initial, list):
        return len(initial)
    default = comp.get("defaultRepetitions", 1)
    return default if _is_count(default) else 1


# ---------------------------------------------------------------- listing


def input_fields(schema: dict) -> list[dict]:
    """Flat list of input fields: {"path", "id", "type", "label"}; list rows appear as "*"."""
    if not isinstance(schema, dict) or not isinstance(schema.get("components"), list):
        raise FormSchemaError(_msg("Biểu mẫu không có danh sách thành phần “components”.",
                                   "The form has no “components” list."))
    found: list[dict] = []
    _list_inputs(schema["components"], (), found, 0)
    return found


def _list_inputs(components: list, prefix: tuple[str, ...], found: list[dict], depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    for comp in components:
        if not isinstance(comp, dict):
            continue
        ctype, children = comp.get("type"), comp.get("components")
        if not isinstance(ctype, str):
            continue
        if ctype in CONTAINER_TYPES and isinstance(children, list):
            path = prefix + tuple(comp["path"].split(".")) if isinstance(comp.get("path"), str) \
                and comp["path"] else prefix
            _list_inputs(children, (*path, "*") if _is_repeating(comp) else path, found, depth + 1)
        elif ctype in INPUT_TYPES and isinstance(comp.get("key"), str) and comp["key"]:
            label = comp.get("label") or comp.get("dateLabel") or comp.get("timeLabel") or ""
            found.append({"path": ".".join(prefix + tuple(comp["key"].split("."))),
                          "id": str(comp.get("id") or ""), "type": ctype, "label": str(label)})
