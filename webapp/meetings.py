"""The meeting calendar ("Lịch họp"): booked videoconferences by week and day, conflicts, one meeting's page.

Every signed-in user sees the calendar: it is the province's shared schedule (docs/meetings.md).
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.domain.errors import InvalidData
from engine.domain.messages import Message
from engine.persistence.models import Meeting, ProcessInstance
from engine.persistence.uow import UnitOfWork
from engine.services import meeting_calendar, meeting_conflicts, meetings, queries
from webapp.platform import services, text, uow

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

VIEWS = ("week", "day")
BAD_VIEW = Message("Chế độ xem phải là “week” (tuần) hoặc “day” (ngày).", "The view must be “week” or “day”.")
#: The badge of each meeting state (status-badge colours, app.css).
STATE_CLASSES = {
    "dang_ky": "status-pending", "da_xac_nhan": "status-done", "dang_hop": "status-active",
    "da_hop": "meeting-held", "hoan": "meeting-postponed", "tu_choi": "status-rejected", "huy": "status-cancelled",
}


def _weekday(day: date) -> str:
    names = (_("Thứ Hai"), _("Thứ Ba"), _("Thứ Tư"), _("Thứ Năm"), _("Thứ Sáu"), _("Thứ Bảy"), _("Chủ nhật"))
    return names[day.weekday()]


def _day(day: date) -> str:
    pattern = "d MMM yyyy" if str(get_locale() or "vi") == "en" else "dd/MM/yyyy"
    return str(format_date(day, pattern))


@bp.app_template_global()
def meeting_day(day: date) -> str:
    """“Thứ Năm, 03/12/2026”."""
    return f"{_weekday(day)}, {_day(day)}"


@bp.app_template_global()
def meeting_hours(meeting: Meeting) -> str:
    """“08:00–11:30” in the app's zone (with the end's day when it ends on another day)."""
    if meeting.starts_at is None:
        return "—"
    start = format_datetime(meeting.starts_at, "HH:mm")
    if meeting.ends_at is None:
        return str(start)
    same_day = format_datetime(meeting.starts_at, "yyyyMMdd") == format_datetime(meeting.ends_at, "yyyyMMdd")
    end = format_datetime(meeting.ends_at, "HH:mm" if same_day else "HH:mm dd/MM")
    return f"{start}–{end}"


@bp.app_template_global()
def meeting_level(meeting: Meeting) -> str:
    return text(meetings.level_label(meeting.level)) if meeting.level else "—"


@bp.app_template_global()
def meeting_state(meeting: Meeting) -> tuple[str, str]:
    """(label, badge class) of the meeting's state."""
    state = meetings.state_of(meeting.state)
    return text(state.label), STATE_CLASSES.get(state.value, "")


def _visible_instances(work: UnitOfWork, rows: list[Meeting]) -> set[int]:
    """Instances behind the meetings that the user may open (the calendar itself is for everyone)."""
    seen: set[int] = set()
    for row in rows:
        instance = work.session.get(ProcessInstance, row.instance_id)
        if instance is not None and queries.can_see(work, current_user, instance):
            seen.add(row.instance_id)
    return seen


def _today() -> date:
    return meeting_calendar.today(services())


@bp.get("")
@login_required
def calendar() -> Any:
    """The week (Monday–Sunday, Vietnam time) holding `date`, or that one day with `view=day`."""
    today = _today()
    view = request.args.get("view", "week").strip() or "week"
    try:
        if view not in VIEWS:
            raise InvalidData(BAD_VIEW)
        raw = request.args.get("date", "").strip()
        day = meetings.parse_day(raw) if raw else today
    except InvalidData as err:
        return _page("week", today, today, error=text(err.message)), 400
    return _page(view, day, today)


def _page(view: str, day: date, today: date, error: str | None = None) -> str:
    first, last = meeting_calendar.week_of(day) if view == "week" else (day, day)
    step = timedelta(days=7 if view == "week" else 1)
    with uow() as work:
        agenda = meeting_calendar.agenda(work, services(), first, last)
        return render_template("meetings/calendar.html", agenda=agenda, view=view, day=day, today=today,
                               previous=day - step, following=day + step, error=error,
                               visible=_visible_instances(work, agenda.meetings),
                               conflict_text=lambda c: text(c.message))


@bp.get("/<int:meeting_id>")
@login_required
def detail(meeting_id: int) -> Any:
    with uow() as work:
        meeting = meetings.get(work, meeting_id)
        conflicts = meeting_calendar.conflicts_of(work, services(), meeting)
        instance = work.session.get(ProcessInstance, meeting.instance_id)
        visible = instance is not None and queries.can_see(work, current_user, instance)
        day = meeting_calendar.day_of(services(), meeting) or _today()
        return render_template("meetings/detail.html", meeting=meeting, conflicts=conflicts, instance=instance,
                               can_open_instance=visible, day=day, conflict_text=lambda c: text(c.message),
                               capacity=services().settings.mcu_capacity,
                               holds_time=meeting_conflicts.holds_time(meeting))
