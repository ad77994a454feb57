"""Form rules that need more than one field's own value, written as component `properties`
(form-js "Custom properties"), checked after `validate_submission` on the data it cleaned:

* `requiredWhen` = `"KEY=VALUE"`: the field is required when the field `KEY` of the same scope (the
  form, or the same row of a list) holds `VALUE` (e.g. a reason required when "Từ chối" is chosen).
  form-js' own `conditional` (FEEL) still decides what the browser shows; the server does not
  evaluate FEEL, so this is the rule it enforces.
* `check` = a lookup name (`"mail_directory"`): the text must be known to that external system.
  The lookups come from the adapter registry (`AdapterRegistry.lookups`); a system that cannot
  answer gives a "thử lại sau" error for the field, never a crash, and is asked only once per check.
* `options` = `"users:UNIT:ROLE"` on a choice field with `valuesKey`: its options are the active
  users holding ROLE in UNIT, added to the data the form opens with (engine/services/form_data.py);
  `options` = `"units"`: every unit of the organisation (name, code), e.g. the units invited to a meeting.
* `notBefore` = `"KEY"` on a time, date or text field: its value may not be earlier than the value of
  the field `KEY` of the same scope (e.g. an endpoint connected before it was asked for). Both are read
  as times ("HH:MM", "HH:MM:SS"), dates or date-times; values of different kinds are not compared.
* `minWorkingDaysAhead` (with `unlessField`) and `onlyUnits`: rules reading when and by whom the form
  is submitted (the clock, the working calendar, the person's unit), in engine/forms/context_rules.py.
* `requiredWhen` on a multiple choice (`checklist`, `taglist`): `KEY=VALUE` holds when VALUE is ticked;
  on a file field: at least one file; on a list (`dynamiclist`): at least one row.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from engine.domain.enums import Role
from engine.domain.messages import Message
from engine.forms import context_rules
from engine.forms.common import CONTAINER_TYPES, INPUT_TYPES, JS_SPACE, MAX_DEPTH, is_repeating
from engine.forms.files import FILE_TYPE
from engine.forms.messages import REQUIRED
from engine.forms.submission import FieldError

log = logging.getLogger(__name__)

REQUIRED_WHEN, CHECK, OPTIONS, NOT_BEFORE = "requiredWhen", "check", "options", "notBefore"
#: `options = units`: every unit of the organisation, labelled by name, valued by code.
UNITS_SOURCE = "units"
#: A data key of the same scope (`notBefore`).
_KEY = re.compile(r"^[A-Za-z_]\w*$", re.ASCII)
#: "HH:MM[:SS]", "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]" (no zone): what `notBefore` compares.
_MOMENT = re.compile(r"^(?:(\d{4})-(\d{2})-(\d{2}))?(T)?(?:(\d{2}):(\d{2})(?::(\d{2}))?)?$", re.ASCII)
_ORDERED_TYPES = frozenset({"textfield", "datetime"})
#: "KEY=VALUE", KEY a data path of the same scope.
_CONDITION = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)=(.+)$", re.ASCII)
#: "users:UNIT:ROLE": UNIT a unit code.
_USERS = re.compile(r"^users:([A-Za-z0-9_.-]{1,64}):([a-z_]{1,32})$")
_CHOICE_TYPES = frozenset({"select", "radio", "checklist", "taglist"})
_TEXT_TYPES = frozenset({"textfield", "textarea"})

REQUIRED_ROWS = Message("Cần ít nhất một dòng.", "At least one row is required.")

#: A question to an external system: does it know this value? Raises when it cannot answer.
Lookup = Callable[[str], bool]


@dataclass(frozen=True)
class Check:
    """What a `check` lookup tells the person when the value is unknown, or cannot be checked now."""

    unknown: Callable[[str], Message]
    unavailable: Callable[[str], Message]


CHECKS: dict[str, Check] = {
    "mail_directory": Check(
        unknown=lambda value: Message(
            f"Địa chỉ {value} chưa có trên hệ thống thư điện tử công vụ của tỉnh. Tài khoản phần mềm "
            "đăng nhập một lần (SSO) bằng thư điện tử công vụ — đề nghị cấp thư điện tử công vụ trước.",
            f"{value} is not on the province's official mail system. Software accounts sign in once (SSO) "
            "with the official email address: request the mailbox first."),
        unavailable=lambda value: Message(
            f"Chưa kiểm tra được địa chỉ {value} trên hệ thống thư điện tử công vụ (hệ thống không trả lời); "
            "vui lòng thử lại sau.",
            f"{value} could not be checked on the official mail system (it does not answer); try again later."),
    ),
}


@dataclass(frozen=True)
class UsersOption:
    """`options = users:UNIT:ROLE` of a choice field: fill `values_key` with those people."""

    values_key: str
    unit: str
    role: str


# ---------------------------------------------------------------- publishing


def _components(components: object, depth: int = 0) -> Iterator[dict]:
    """Every component, containers' children included."""
    if depth > MAX_DEPTH or not isinstance(components, list):
        return
    for comp in components:
        if isinstance(comp, dict):
            yield comp
            yield from _components(comp.get("components"), depth + 1)


def _properties(comp: dict) -> dict:
    props = comp.get("properties")
    return props if isinstance(props, dict) else {}


def users_option(comp: dict) -> UsersOption | None:
    """The people a choice field offers, when its `options` property names them and it is well formed."""
    match = _USERS.match(str(_properties(comp).get(OPTIONS) or ""))
    key = comp.get("valuesKey")
    if match is None or comp.get("type") not in _CHOICE_TYPES or not isinstance(key, str) or not key:
        return None
    return UsersOption(key, match.group(1), match.group(2))


def users_options(schema: dict | None) -> list[UsersOption]:
    return [found for comp in _components((schema or {}).get("components")) if (found := users_option(comp))]


def units_option_keys(schema: dict | None) -> list[str]:
    """The `valuesKey` of every choice field offering the organisation's units (`options = units`)."""
    return [comp["valuesKey"] for comp in _components((schema or {}).get("components"))
            if _properties(comp).get(OPTIONS) == UNITS_SOURCE and comp.get("type") in _CHOICE_TYPES
            and isinstance(comp.get("valuesKey"), str) and comp["valuesKey"]]


def rule_problems(schema: dict) -> list[Message]:
    """What keeps the rules of a form from working; checked when a procedure is published."""
    problems: list[Message] = []

    def add(comp: dict, vi: str, en: str) -> None:
        where = comp.get("id") or comp.get("key") or "?"
        problems.append(Message(f"Thành phần “{where}”: {vi}", f"Component “{where}”: {en}"))

    roles = {r.value for r in Role}
    for comp in _components(schema.get("components")):
        props, ctype = _properties(comp), comp.get("type")
        if REQUIRED_WHEN in props and not _CONDITION.match(str(props[REQUIRED_WHEN]).strip()):
            add(comp, "thuộc tính requiredWhen phải có dạng TÊN_TRƯỜNG=GIÁ_TRỊ.",
                "the requiredWhen property must read FIELD_KEY=VALUE.")
        if CHECK in props:
            if props[CHECK] not in CHECKS:
                add(comp, f"không có phép kiểm tra “{props[CHECK]}” (có: {', '.join(sorted(CHECKS))}).",
                    f"there is no check “{props[CHECK]}” (known: {', '.join(sorted(CHECKS))}).")
            elif ctype not in _TEXT_TYPES:
                add(comp, "thuộc tính check chỉ dùng cho ô chữ (textfield, textarea).",
                    "the check property only applies to text fields (textfield, textarea).")
        for vi, en in context_rules.problems(comp, props):
            add(comp, vi, en)
        if NOT_BEFORE in props and (not _KEY.match(str(props[NOT_BEFORE]).strip()) or ctype not in _ORDERED_TYPES):
            add(comp, "thuộc tính notBefore ghi tên một trường cùng cấp (TÊN_TRƯỜNG), trên ô giờ, ngày hoặc ô chữ.",
                "the notBefore property names a field of the same scope (FIELD_KEY), on a time, date or text field.")
        if OPTIONS in props:
            match = _USERS.match(str(props[OPTIONS]))
            if props[OPTIONS] != UNITS_SOURCE and (match is None or match.group(2) not in roles):
                add(comp, f"thuộc tính options phải là units (các đơn vị) hoặc có dạng users:MÃ_ĐƠN_VỊ:VAI_TRÒ, "
                          f"vai trò là một trong {', '.join(sorted(roles))}.",
                    f"the options property must read units (the units) or users:UNIT_CODE:ROLE, the role one of "
                    f"{', '.join(sorted(roles))}.")
            elif ctype not in _CHOICE_TYPES or not comp.get("valuesKey"):
                add(comp, "thuộc tính options cần một trường lựa chọn lấy danh sách từ dữ liệu (valuesKey).",
                    "the options property needs a choice field taking its options from the data (valuesKey).")
    return problems


# ---------------------------------------------------------------- submissions


@dataclass
class _Asker:
    """Asks each lookup once per value; after a system failed to answer it is not asked again."""

    lookups: Mapping[str, Lookup]
    answers: dict[tuple[str, str], bool | None] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)

    def problem(self, name: str, value: str) -> Message | None:
        check = CHECKS.get(name)
        if check is None:
            return None  # publishing refuses an unknown check; nothing to ask
        key = (name, value.strip().lower())
        if key not in self.answers:
            self.answers[key] = self._ask(name, value.strip())
        known = self.answers[key]
        if known is None:
            return check.unavailable(value.strip())
        return None if known else check.unknown(value.strip())

    def _ask(self, name: str, value: str) -> bool | None:
        lookup = self.lookups.get(name)
        if lookup is None or name in self.down:
            return None
        try:
            return bool(lookup(value))
        except Exception as exc:  # noqa: BLE001 - any failure of the peer means "cannot tell now"
            log.warning("lookup %s unavailable: %s", name, exc)
            self.down.add(name)
            return None


def rule_errors(schema: dict, cleaned: dict, errors: list[FieldError],
                lookups: Mapping[str, Lookup] | None = None,
                submission: context_rules.Submission | None = None) -> list[FieldError]:
    """Errors of the rules on data `validate_submission` cleaned.

    Fields that already have an error in `errors` are skipped (one message per field). `submission`
    says when and by whom (engine.forms.context_rules); without it date rules read the national
    calendar at the system's time and `onlyUnits` refuses.
    """
    labels = {str(c["key"]): str(c.get("label") or c["key"]) for c in _components(schema.get("components"))
              if isinstance(c.get("key"), str) and c["key"]}
    walk = _Walk({e.path for e in errors}, _Asker(lookups or {}), [],
                 submission or context_rules.current_submission(), labels)
    walk.components(schema.get("components", []), cleaned, (), (), 0)
    return walk.found


def _get(data: object, path: tuple[str, ...]) -> tuple[bool, object]:
    for segment in path:
        if not isinstance(data, dict) or segment not in data:
            return False, None
        data = data[segment]
    return True, data


def _empty(value: object) -> bool:
    if value is None or value is False or value in ([], {}):
        return True
    return isinstance(value, str) and not value.strip(JS_SPACE)


def _moment(value: object) -> tuple[tuple[bool, bool], tuple[int, ...]] | None:
    """(kind, comparable parts) of a time, date or date-time text; None for anything else or empty."""
    match = _MOMENT.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day, separator, hour, minute, second = match.groups()
    kind = (year is not None, hour is not None)
    if kind == (False, False) or (separator is not None) != (kind == (True, True)):
        return None
    parts = [int(p) for p in (year, month, day) if p is not None]
    if hour is not None:
        parts += [int(hour), int(minute), int(second or 0)]
    return kind, tuple(parts)


def _holds(condition: str, scope: dict) -> bool:
    match = _CONDITION.match(condition.strip())
    if match is None:
        return False
    _found, actual = _get(scope, tuple(match.group(1).split(".")))
    if isinstance(actual, bool):
        actual = "true" if actual else "false"
    if isinstance(actual, list):  # a checklist: the value is among those ticked
        return match.group(2).strip() in [str(item) for item in actual]
    return actual is not None and str(actual) == match.group(2).strip()


@dataclass
class _Walk:
    failed: set[str]
    asker: _Asker
    found: list[FieldError]
    submission: context_rules.Submission = field(default_factory=context_rules.current_submission)
    labels: dict[str, str] = field(default_factory=dict)

    def components(self, components: list, scope: dict, at: tuple[str, ...], prefix: tuple[str, ...],
                   depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        for comp in components:
            if not isinstance(comp, dict):
                continue
            ctype = comp.get("type")
            if ctype in CONTAINER_TYPES and not is_repeating(comp):
                path = prefix + tuple(comp["path"].split(".")) if comp.get("path") else prefix
                self.components(comp.get("components", []), scope, at, path, depth + 1)
            elif ctype == "dynamiclist":
                path = prefix + tuple(str(comp.get("path") or "").split("."))
                _found, rows = _get(scope, path)
                self.rows_required(comp, scope, at, path, rows)
                for index, row in enumerate(rows if isinstance(rows, list) else []):
                    if isinstance(row, dict):
                        self.components(comp.get("components", []), row, at + path + (str(index),), (), depth + 1)
            elif ctype in INPUT_TYPES and isinstance(comp.get("key"), str) and comp["key"]:
                self.field(comp, scope, at, prefix + tuple(comp["key"].split(".")))
                if NOT_BEFORE in _properties(comp):
                    self.not_before(comp, components, scope, at, prefix + tuple(comp["key"].split(".")))
            elif ctype == FILE_TYPE and isinstance(comp.get("key"), str) and comp["key"]:
                self.field(comp, scope, at, prefix + tuple(comp["key"].split(".")))  # requiredWhen

    def rows_required(self, comp: dict, scope: dict, at: tuple[str, ...], path: tuple[str, ...],
                      rows: object) -> None:
        """`requiredWhen` on a list: at least one row when the condition holds."""
        where = ".".join(at + path)
        condition = _properties(comp).get(REQUIRED_WHEN)
        if isinstance(condition, str) and where not in self.failed and _empty(rows) and _holds(condition, scope):
            self.found.append(FieldError(where, str(comp.get("id") or ""), REQUIRED_ROWS))

    def not_before(self, comp: dict, siblings: list, scope: dict, at: tuple[str, ...],
                   path: tuple[str, ...]) -> None:
        """`notBefore = KEY`: the value may not be earlier than the value of KEY in the same scope."""
        where = ".".join(at + path)
        key = str(_properties(comp)[NOT_BEFORE]).strip()
        if where in self.failed or comp.get("readonly") or comp.get("disabled") or not _KEY.match(key):
            return
        value, earliest = _moment(_get(scope, path)[1]), _moment(_get(scope, (key,))[1])
        if value is None or earliest is None or value[0] != earliest[0] or value[1] >= earliest[1]:
            return
        label = next((str(c.get("label") or c.get("dateLabel") or c.get("timeLabel") or key) for c in siblings
                      if isinstance(c, dict) and c.get("key") == key), key)
        self.found.append(FieldError(where, str(comp.get("id") or ""), Message(
            f"Không được sớm hơn “{label}”.", f"May not be earlier than “{label}”.")))

    def field(self, comp: dict, scope: dict, at: tuple[str, ...], path: tuple[str, ...]) -> None:
        where = ".".join(at + path)
        props = _properties(comp)
        if where in self.failed or comp.get("readonly") or comp.get("disabled") or not props:
            return
        _found, value = _get(scope, path)
        condition = props.get(REQUIRED_WHEN)
        if isinstance(condition, str) and _empty(value) and _holds(condition, scope):
            self.found.append(FieldError(where, str(comp.get("id") or ""), REQUIRED))
            return
        name = props.get(CHECK)
        if isinstance(name, str) and isinstance(value, str) and not _empty(value):
            problem = self.asker.problem(name, value)
            if problem is not None:
                self.found.append(FieldError(where, str(comp.get("id") or ""), problem))
                return
        self.context(comp, props, scope, at, where, value)

    def context(self, comp: dict, props: dict, scope: dict, at: tuple[str, ...], where: str, value: object) -> None:
        """The rules of engine.forms.context_rules: dates ahead on the working calendar, units."""
        problem = None
        if context_rules.ONLY_UNITS in props and not _empty(value):
            label = str(comp.get("label") or comp.get("key"))
            problem = context_rules.unit_problem(props, label, comp.get("type") == "checkbox", self.submission)
        if problem is None and context_rules.MIN_WORKING_DAYS in props:
            unless = str(props.get(context_rules.UNLESS) or "").strip()
            # A waiver that was itself refused (e.g. "urgent" ticked by someone not allowed to) waives nothing.
            refused = self.failed | {e.path for e in self.found}
            waived = bool(unless) and not _empty(_get(scope, tuple(unless.split(".")))[1]) \
                and ".".join(at + tuple(unless.split("."))) not in refused
            problem = context_rules.date_problem(props, value, waived, self.labels.get(unless, ""), self.submission)
        if problem is not None:
            self.found.append(FieldError(where, str(comp.get("id") or ""), problem))

