"""Checks of form-js schemas: reading a .form file, what keeps one from publishing, JS regexes."""
from __future__ import annotations

import functools
import json
import pathlib
import re
from dataclasses import dataclass, field

from engine.domain.messages import Message
from engine.forms import files
from engine.forms.common import (
    CONTAINER_TYPES,
    DISPLAY_TYPES,
    INPUT_TYPES,
    MAX_COMPONENTS,
    MAX_DEPTH,
    MAX_FORM_BYTES,
    is_count,
    is_finite_number,
    is_repeating,
    option_keys,
    to_decimal,
)
from engine.forms.messages import msg

_SINGLE_CHOICE = frozenset({"radio", "select"})
_MULTI_CHOICE = frozenset({"checklist", "taglist"})
_DATETIME_SUBTYPES = frozenset({"date", "time", "datetime"})
_TIME_FORMATS = frozenset({"utc_offset", "utc_normalized", "no_timezone"})
_VALIDATION_TYPES = frozenset({"", "email", "phone"})
_PROHIBITED_SEGMENTS = frozenset({"__proto__", "prototype", "constructor"})
# Regex syntax Python accepts but a browser's RegExp rejects or reads differently.
_PY_ONLY_SYNTAX = re.compile(r"(?<!\\)(?:\(\?(?:[aiLmsux-]|P|#|>)|\\[AZ])")
_DOT_PATH = re.compile(r"\w+(?:\.\w+)*", re.ASCII)


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
        raise FormSchemaError(msg(f"Không đọc được tệp biểu mẫu {p.name}: {exc.strerror}.",
                                  f"Cannot read form file {p.name}: {exc.strerror}.")) from None
    if len(raw) > MAX_FORM_BYTES:
        raise FormSchemaError(msg(f"Tệp biểu mẫu {p.name} vượt quá 1 MB.",
                                  f"Form file {p.name} is larger than 1 MB."))
    try:
        schema = json.loads(raw.decode("utf-8-sig"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FormSchemaError(msg(f"Tệp biểu mẫu {p.name} không phải JSON hợp lệ: {exc}.",
                                  f"Form file {p.name} is not valid JSON: {exc}.")) from None
    if not isinstance(schema, dict):
        raise FormSchemaError(msg(f"Tệp biểu mẫu {p.name} phải chứa một đối tượng JSON.",
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
        self.problems.append(msg(f"Thành phần “{where}”: {vi}", f"Component “{where}”: {en}"))


def check_schema(schema: dict) -> list[Message]:
    """Problems that keep a schema from being published; an empty list means it is usable."""
    if not isinstance(schema, dict):
        return [msg("Biểu mẫu phải là một đối tượng JSON.", "A form must be a JSON object.")]
    components = schema.get("components")
    if not isinstance(components, list) or not components:
        return [msg("Biểu mẫu không có thành phần nào (thiếu “components”).",
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
    elif ctype == files.FILE_TYPE:
        _check_keyed(comp, claims, prefix, state)
        _check_input(comp, state)
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
    repeating = is_repeating(comp)
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
        if "defaultRepetitions" in comp and not is_count(comp["defaultRepetitions"]):
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
    """An input field, or a file field (which only has `validate.required`)."""
    where, ctype = _where(comp), comp["type"]
    for flag in ("readonly", "disabled"):
        if flag in comp and not isinstance(comp[flag], bool):
            state.add(where, f"“{flag}” phải là true/false (biểu thức FEEL chưa được hỗ trợ).",
                      f"“{flag}” must be true/false (FEEL expressions are not supported).")
    validate = comp.get("validate", {})
    if not isinstance(validate, dict):
        state.add(where, "“validate” phải là một đối tượng.", "“validate” must be an object.")
    elif ctype == files.FILE_TYPE:
        _check_required(validate, where, state)
    else:
        _check_validate(validate, where, state)
    if ctype == "number":
        _check_number_props(comp, where, state)
    elif ctype == "datetime":
        _check_datetime_props(comp, where, state)
    elif ctype in _SINGLE_CHOICE | _MULTI_CHOICE:
        _check_options(comp, where, state)
    elif ctype == files.FILE_TYPE:
        _check_file_props(comp, where, state)


def _check_file_props(comp: dict, where: str, state: _SchemaCheck) -> None:
    """A file field (docs/modeling.md, “Tệp đính kèm”): `multiple` true/false, `accept` of supported kinds."""
    if "multiple" in comp and not isinstance(comp["multiple"], bool):
        state.add(where, "“multiple” phải là true/false (biểu thức FEEL chưa được hỗ trợ).",
                  "“multiple” must be true/false (FEEL expressions are not supported).")
    if files.accepted_kinds(comp.get("accept")) is None:
        state.add(where, f"“accept” chỉ được liệt kê (cách nhau dấu phẩy) các loại tệp hỗ trợ: "
                         f"{files.SUPPORTED_TEXT}.",
                  f"“accept” may only list (comma-separated) the supported file types: {files.SUPPORTED_TEXT}.")


def _check_required(validate: dict, where: str, state: _SchemaCheck) -> None:
    if "required" in validate and not isinstance(validate["required"], bool):
        state.add(where, "“validate.required” phải là true/false.",
                  "“validate.required” must be true/false.")


def _check_validate(validate: dict, where: str, state: _SchemaCheck) -> None:
    _check_required(validate, where, state)
    for name in ("minLength", "maxLength"):
        if name in validate and not is_count(validate[name]):
            state.add(where, f"“validate.{name}” phải là số nguyên không âm.",
                      f"“validate.{name}” must be a non-negative integer.")
    for name in ("min", "max"):
        if name in validate and not is_finite_number(validate[name]):
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
            compile_pattern(pattern)
        except (re.error, RecursionError, OverflowError) as exc:
            state.add(where, f"biểu thức chính quy “validate.pattern” không hợp lệ: {exc}.",
                      f"invalid regular expression in “validate.pattern”: {exc}.")


def _check_number_props(comp: dict, where: str, state: _SchemaCheck) -> None:
    if "decimalDigits" in comp and not is_count(comp["decimalDigits"]):
        state.add(where, "“decimalDigits” phải là số nguyên không âm.",
                  "“decimalDigits” must be a non-negative integer.")
    if "increment" in comp and comp["increment"] not in (None, ""):
        step = to_decimal(comp["increment"])
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
    elif len(option_keys(values)) != len(values):
        state.add(where, "“values” có lựa chọn không hợp lệ hoặc trùng giá trị.",
                  "“values” has an invalid or duplicate option.")


def _one_of(value: object, allowed: frozenset[str]) -> bool:
    """Absent, or one of the allowed strings (a guard against unhashable JSON values)."""
    return value is None or (isinstance(value, str) and value in allowed)


# ---------------------------------------------------------------- JS regular expressions


@functools.lru_cache(maxsize=256)
def compile_pattern(js_pattern: str) -> re.Pattern[str]:
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
