"""Jinja filters for showing values on pages in the reader's language.

Times are stored in UTC; pages show them in the app's zone (BABEL_DEFAULT_TIMEZONE,
Asia/Ho_Chi_Minh), to the minute:

    {{ task.due_at|datetime_local }}   vi: 01/12/2026 14:30    en: 1 Dec 2026, 14:30
"""
from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_datetime, format_decimal, get_locale

#: CLDR patterns (https://unicode.org/reports/tr35/tr35-dates.html), date first, no seconds.
DATETIME_PATTERNS = {"vi": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}
EMPTY = "—"


def datetime_local(value: datetime | None) -> str:
    """A stored (UTC) time in the app's zone; naive values count as UTC. None shows as a dash."""
    if value is None:
        return EMPTY
    lang = str(get_locale() or "vi")
    return format_datetime(value, DATETIME_PATTERNS.get(lang, DATETIME_PATTERNS["vi"]))


def number(value: float) -> str:
    """A number to one decimal in the reader's language: 12,5 (vi), 12.5 (en)."""
    return format_decimal(value, format="#,##0.#")


def init_app(app: Flask) -> None:
    app.add_template_filter(datetime_local)
    app.add_template_filter(number)
