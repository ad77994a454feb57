"""Limits, component kinds and value helpers shared by the schema and submission checks."""
from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

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
# JS String.prototype.trim() whitespace, which form-js uses before counting length.
JS_SPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def is_finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_repeating(comp: dict) -> bool:
    return comp.get("type") == "dynamiclist" and bool(comp.get("isRepeating"))


def option_key(value: object) -> tuple[str, object]:
    """A hashable identity for an option value; 1 and True must stay different, as in JS."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    return ("j", json.dumps(value, sort_keys=True, default=str))


def option_keys(options: list) -> set[tuple[str, object]]:
    """Allowed values of an option list, skipping entries form-js would drop as malformed."""
    keys = set()
    for option in options:
        value = option.get("value") if isinstance(option, dict) else option
        if isinstance(value, bool) or (isinstance(value, (int, float)) and math.isfinite(value)) \
                or (isinstance(value, str) and value):
            keys.add(option_key(value))
    return keys


def to_decimal(value: object) -> Decimal | None:
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


def has_condition(comp: dict) -> bool:
    """The component may be hidden by a `conditional.hide` expression."""
    conditional = comp.get("conditional")
    return isinstance(conditional, dict) and bool(conditional.get("hide"))


def store(out: dict, path: Sequence[str], value: object) -> None:
    """Put `value` at the dotted `path` of `out`, creating the objects on the way."""
    for segment in path[:-1]:
        out = out.setdefault(segment, {})
    out[path[-1]] = value


def option_list(comp: dict, context: dict[str, Any]) -> list | None:
    """A choice field's raw options: its static `values`, or the context list its `valuesKey` names
    (form-js reads it as one top-level name); None when the browser computes them (a FEEL
    `valuesExpression`, or a `valuesKey` without a list)."""
    if comp.get("valuesExpression"):
        return None
    key = comp.get("valuesKey")
    raw = context.get(key) if key else comp.get("values")
    if isinstance(raw, list):
        return raw
    return None if key else []
