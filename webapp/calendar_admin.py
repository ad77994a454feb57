"""Admin: the working calendar of a year as month grids, and the overrides of it."""
from __future__ import annotations

import calendar as month_layout
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from engine.calendar import MAX_YEAR, MIN_YEAR, DaySource, SpecialDay, WorkingCalendar
from engine.domain.errors import InvalidData
from engine.services import calendar as calendar_service
from webapp.admin import admin_required
from webapp.platform import services, text, uow

bp = Blueprint("calendar_admin", __name__, url_prefix="/admin/calendar")
KINDS = {"nghi": False, "lam_viec": True}  # form value -> is_working


@dataclass(frozen=True)
class DayCell:
    """One day of a month grid: its number, what makes it special, and the colour class."""

    day: date
    special: SpecialDay | None

    @property
    def css(self) -> str:
        s = self.special
        if s is None:
            return "cal-workday"
        if s.source == DaySource.WEEKEND:
            return "cal-weekend"
        if s.source == DaySource.OVERRIDE:
            return "cal-override-on" if s.is_working else "cal-override-off"
        return "cal-swap" if s.is_working else "cal-holiday"


@dataclass(frozen=True)
class Month:
    number: int
    name: str
    weeks: list[list[DayCell | None]]  # Monday first; None outside the month

    @property
    def named(self) -> list[DayCell]:
        """The month's holidays, swaps and overrides, listed under the grid by name."""
        return [c for week in self.weeks for c in week
                if c and c.special and c.special.source != DaySource.WEEKEND]


def months_of(year: int, cal: WorkingCalendar) -> list[Month]:
    layout = month_layout.Calendar(firstweekday=0)
    return [Month(m, format_date(date(year, m, 1), "LLLL"),
                  [[DayCell(d, cal.describe(d)) if d.month == m else None for d in week]
                   for week in layout.monthdatescalendar(year, m)])
            for m in range(1, 13)]


def _this_year() -> int:
    platform = services()
    return platform.now().astimezone(platform.calendar().tz).year


def _page(year: int, status: int = 200) -> Any:
    with uow() as work:
        view = calendar_service.year_view(work, services(), year)
        weekdays = [_("T2"), _("T3"), _("T4"), _("T5"), _("T6"), _("T7"), _("CN")]
        return render_template("admin/calendar.html", view=view, months=months_of(year, view.calendar),
                               weekdays=weekdays, form=request.form), status


@bp.get("")
@admin_required
def year_page() -> Any:
    return _page(request.args.get("year", type=int) or _this_year())


@bp.post("/overrides")
@admin_required
def add_override() -> Any:
    form = request.form
    year = form.get("year", type=int) or _this_year()
    try:
        day = date.fromisoformat(form.get("day", "").strip())
    except ValueError:
        flash(_("Ngày không hợp lệ; chọn ngày theo dạng ngày/tháng/năm."), "danger")
        return _page(year, 400)
    if form.get("kind") not in KINDS:
        flash(_("Chọn loại điều chỉnh: ngày nghỉ hoặc ngày làm việc."), "danger")
        return _page(day.year, 400)
    try:
        with uow() as work:
            calendar_service.add_override(work, services(), current_user, day, KINDS[form["kind"]],
                                          form.get("reason", ""), form.get("decision", ""))
    except InvalidData as err:
        flash(text(err.message), "danger")
        return _page(day.year if MIN_YEAR <= day.year <= MAX_YEAR else year, 400)
    flash(_("Đã lưu điều chỉnh ngày %(day)s.", day=day.strftime("%d/%m/%Y")), "success")
    return redirect(url_for("calendar_admin.year_page", year=day.year))


@bp.post("/overrides/<int:override_id>/delete")
@admin_required
def remove_override(override_id: int) -> Any:
    with uow() as work:
        calendar_service.remove_override(work, services(), current_user, override_id)
    flash(_("Đã xóa điều chỉnh."), "info")
    year = request.form.get("year", type=int) or _this_year()
    return redirect(url_for("calendar_admin.year_page", year=year))
