"""Jinja filters for showing values on pages in the reader's language.

Times are stored in UTC; pages show them in the app's zone (BABEL_DEFAULT_TIMEZONE,
Asia/Ho_Chi_Minh), to the minute:

    {{ task.due_at|datetime_local }}   vi: 01/12/2026 14:30    en: 1 Dec 2026, 14:30
    {{ document.issued_at|date_local }} vi: 27/11/2026          en: 27 Nov 2026
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _

#: CLDR patterns (https://unicode.org/reports/tr35/tr35-dates.html), date first, no seconds.
DATETIME_PATTERNS = {"vi": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}
#: Days as officials write them (dd/mm/yyyy).
DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
EMPTY = "—"


def datetime_local(value: datetime | None) -> str:
    """A stored (UTC) time in the app's zone; naive values count as UTC. None shows as a dash."""
    if value is None:
        return EMPTY
    lang = str(get_locale() or "vi")
    return format_datetime(value, DATETIME_PATTERNS.get(lang, DATETIME_PATTERNS["vi"]))


def date_local(value: datetime | None) -> str:
    """The day of a stored (UTC) time in the app's zone. None shows as a dash."""
    if value is None:
        return EMPTY
    lang = str(get_locale() or "vi")
    return format_date(value, DATE_PATTERNS.get(lang, DATE_PATTERNS["vi"]))


def number(value: float) -> str:
    """A number to one decimal in the reader's language: 12,5 (vi), 12.5 (en)."""
    return format_decimal(value, format="#,##0.#")


def _value(item: Any) -> str:
    return str(getattr(item, "value", item) or "")


def due_label(state: Any) -> str:
    """The words of a deadline state (a DueState or its value); empty for none."""
    return {"dung_han": _("Đúng hạn"), "sap_den_han": _("Sắp đến hạn"), "qua_han": _("Quá hạn")}.get(_value(state), "")


def outcome_label(outcome: Any) -> str:
    """The words of a finished instance's outcome (an SlaOutcome or its value); empty for none."""
    return {"truoc_han": _("Xong trước hạn"), "dung_han": _("Xong đúng hạn"),
            "qua_han": _("Xong quá hạn")}.get(_value(outcome), "")


def status_label(status: Any) -> str:
    """The words of an instance status (an InstanceStatus or its value)."""
    return {"running": _("Đang xử lý"), "completed": _("Hoàn thành"), "cancelled": _("Đã hủy"),
            "error": _("Có sự cố")}.get(_value(status), "")


def init_app(app: Flask) -> None:
    app.add_template_filter(datetime_local)
    app.add_template_filter(date_local)
    app.add_template_filter(number)
    app.add_template_global(due_label)
    app.add_template_global(outcome_label)
    app.add_template_global(status_label)
