"""Validation of the data submitted for a form-js schema, and the list of a form's input fields."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from engine.domain.messages import Message
from engine.forms import files
from engine.forms.common import (
    CONTAINER_TYPES,
    INPUT_TYPES,
    JS_SPACE,
    MAX_DEPTH,
    MAX_ROWS,
    MAX_SUBMISSION_BYTES,
    has_condition,
    is_count,
    is_repeating,
    store,
)
from engine.forms.messages import (
    DATA_NOT_JSON,
    DATA_NOT_OBJECT,
    DATA_TOO_LARGE,
    REQUIRED,
    ROW_NOT_OBJECT,
    ROWS_NOT_LIST,
    fixed_rows,
    msg,
    too_many_rows,
)
from engine.forms.schema import FormSchemaError, check_schema
from engine.forms.values import CHECKERS

_TEXT_TYPES = frozenset({"textfield", "textarea"})
# form-js's emptyValue of each input type: what an untouched field submits.
_EMPTY: dict[str, object] = {
    "textfield": "", "textarea": "", "number": None, "checkbox": False, "checklist": [],
    "radio": None, "select": None, "taglist": [], "datetime": None,
}


@dataclass(frozen=True)
class FieldError:
    """One problem with one submitted value, placed by data path and component id."""

    path: str  # dotted path of the data key, with list indexes: "ca_nhan.0.ho_ten"
    field_id: str  # the form-js component id, so the browser can show the error by the field
    message: Message

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "field_id": self.field_id, "message": self.message.as_dict()}


# ---------------------------------------------------------------- submission


@dataclass
class _Scope:
    """The form's data, or one row of a dynamic list, being validated."""

    data: dict
    out: dict
    at: tuple[str, ...]  # where this scope sits in the submitted data ("ca_nhan", "1")
    context: dict
    errors: list[FieldError]
    #: File fields whose refs are looked up together once the whole form is walked.
    pending_files: list[_PendingFiles] = field(default_factory=list)

    def error(self, path: tuple[str, ...], comp: dict, message: Message) -> None:
        self.errors.append(FieldError(".".join(self.at + path), str(comp.get("id") or ""), message))


@dataclass(frozen=True)
class _PendingFiles:
    scope: _Scope
    path: tuple[str, ...]
    comp: dict
    refs: list[str]


def validate_submission(schema: dict, data: object, context: dict | None = None, *,
                        attachments: files.FileLookup | None = None) -> tuple[dict, list[FieldError]]:
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

    A file field (`filepicker`) holds a list of uploaded files; `attachments` says which refs this
    submission may use and what they are (engine.services.attachments). Without it, only an
    empty file field passes. The cleaned value is the stored files' {ref, name, size, type}, never
    the browser's copy.
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
    _resolve_files(scope.pending_files, attachments)
    return scope.out, scope.errors


def _validate_components(components: list, scope: _Scope, prefix: tuple[str, ...],
                         conditional: bool) -> None:
    for comp in components:
        ctype, hidden = comp.get("type"), conditional or has_condition(comp)
        if ctype in CONTAINER_TYPES and not is_repeating(comp):
            path = prefix + tuple(comp["path"].split(".")) if comp.get("path") else prefix
            _validate_components(comp.get("components", []), scope, path, hidden)
        elif ctype == "dynamiclist":
            _validate_list(comp, scope, prefix + tuple(comp["path"].split(".")), hidden)
        elif ctype in INPUT_TYPES:
            _validate_input(comp, scope, prefix + tuple(comp["key"].split(".")), hidden)
        elif ctype == files.FILE_TYPE:
            _validate_files(comp, scope, prefix + tuple(comp["key"].split(".")), hidden)


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
        store(scope.out, path, _EMPTY[ctype])
        return
    value, problem = CHECKERS[ctype](comp, raw, scope.context)
    if problem is not None:
        scope.error(path, comp, problem)
    else:
        store(scope.out, path, value)


def _is_missing(ctype: str, raw: object) -> bool:
    """form-js's idea of "not filled in", plus whitespace-only text."""
    if raw is None or raw == [] or (ctype == "checkbox" and raw is False):
        return True
    return isinstance(raw, str) and not raw.strip(JS_SPACE)


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
        row_scope = _Scope(row, {}, scope.at + path + (str(index),), scope.context, scope.errors,
                           scope.pending_files)
        _validate_components(comp.get("components", []), row_scope, (), conditional)
        cleaned.append(row_scope.out)
    store(scope.out, path, cleaned)


def _validate_files(comp: dict, scope: _Scope, path: tuple[str, ...], conditional: bool) -> None:
    """The shape of a file field's value; its refs are checked later, all in one lookup."""
    if comp.get("readonly") or comp.get("disabled"):
        return
    found, raw = _lookup(scope.data, path)
    if not found and conditional:
        return
    if raw is None or raw == []:  # form-js's own empty value is null, the platform's []
        if (comp.get("validate") or {}).get("required") is True and not conditional:
            scope.error(path, comp, REQUIRED)
        else:
            store(scope.out, path, [])
        return
    if not isinstance(raw, list):
        scope.error(path, comp, files.FILES_NOT_LIST)
        return
    if not comp.get("multiple") and len(raw) > 1:
        scope.error(path, comp, files.ONE_FILE_ONLY)
        return
    if len(raw) > files.MAX_FILES_PER_FIELD:
        scope.error(path, comp, files.too_many_files(files.MAX_FILES_PER_FIELD))
        return
    refs = [item.get("ref") if isinstance(item, dict) else None for item in raw]
    if not all(isinstance(ref, str) and 0 < len(ref) <= files.MAX_REF_LENGTH for ref in refs):
        scope.error(path, comp, files.BAD_FILE_VALUE)
        return
    if len(set(refs)) != len(refs):
        scope.error(path, comp, files.DUPLICATE_FILE)
        return
    scope.pending_files.append(_PendingFiles(scope, path, comp, [str(ref) for ref in refs]))


def _resolve_files(pending: list[_PendingFiles], attachments: files.FileLookup | None) -> None:
    wanted = frozenset(ref for item in pending for ref in item.refs)
    known = attachments(wanted) if attachments is not None and wanted else {}
    for item in pending:
        if any(ref not in known for ref in item.refs):
            item.scope.error(item.path, item.comp, files.UNKNOWN_FILE)
            continue
        allowed = files.field_kinds(item.comp)
        if any(files.BY_MIME.get(known[ref]["type"]) not in allowed for ref in item.refs):
            item.scope.error(item.path, item.comp, files.wrong_kind(allowed))
            continue
        store(item.scope.out, item.path, [files.FileValue(**known[ref]) for ref in item.refs])


def _fixed_row_count(comp: dict, scope: _Scope, path: tuple[str, ...]) -> int:
    """Rows a list without add/remove buttons shows: the opening data's, else defaultRepetitions."""
    found, initial = _lookup(scope.context, scope.at + path)
    if found and isinstance(initial, list):
        return len(initial)
    default = comp.get("defaultRepetitions", 1)
    return default if is_count(default) else 1


def _lookup(data: object, path: tuple[str, ...]) -> tuple[bool, object]:
    for segment in path:
        if isinstance(data, dict) and segment in data:
            data = data[segment]
        elif isinstance(data, list) and segment.isdigit() and int(segment) < len(data):
            data = data[int(segment)]
        else:
            return False, None
    return True, data


# ---------------------------------------------------------------- listing


def input_fields(schema: dict) -> list[dict]:
    """Flat list of input fields: {"path", "id", "type", "label"}; list rows appear as "*"."""
    if not isinstance(schema, dict) or not isinstance(schema.get("components"), list):
        raise FormSchemaError(msg("Biểu mẫu không có danh sách thành phần “components”.",
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
            _list_inputs(children, (*path, "*") if is_repeating(comp) else path, found, depth + 1)
        elif (ctype in INPUT_TYPES or ctype == files.FILE_TYPE) and isinstance(comp.get("key"), str) \
                and comp["key"]:
            label = comp.get("label") or comp.get("dateLabel") or comp.get("timeLabel") or ""
            found.append({"path": ".".join(prefix + tuple(comp["key"].split("."))),
                          "id": str(comp.get("id") or ""), "type": ctype, "label": str(label)})
