"""Hotline 1022 pages for the centre and its leaders (docs/hotline.md): the ticket list with its Excel file, the
live monitoring board (its content refreshed every 15 s by hotline_board.js) and the statistics."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.domain.errors import InvalidData
from engine.domain.hotline import FIELDS
from engine.domain.messages import Message
from engine.persistence.models import User
from engine.services import hotline_board as hb
from engine.services.hotline import Channel, TicketState
from webapp.downloads import attachment
from webapp.formatting import datetime_local
from webapp.platform import services, text, uow

bp = Blueprint("hotline_board", __name__)
#: How often the board's content reloads itself (seconds).
REFRESH_SECONDS = 15
#: The statistics chart: label column and bar length (SVG units).
CHART_LEFT, CHART_WIDTH, BAR_STEP = 200, 300, 28


@bp.app_template_filter("board_time")
def board_time(value: datetime) -> str:
    """HH:MM:SS on the province's clock (the board's "updated at")."""
    return value.astimezone(ZoneInfo(services().settings.timezone)).strftime("%H:%M:%S")


@bp.app_template_filter("hb_text")
def hb_text(message: Message) -> str:
    return text(message)


def _viewer() -> User:
    return current_user  # type: ignore[return-value]


def _locale() -> str:
    return str(get_locale() or "vi")


def _stamp() -> str:
    """Who exported the file and when: the line under the title."""
    return _("Người xuất: %(name)s (%(unit)s) — lúc %(time)s", name=current_user.full_name,
             unit=current_user.unit.name, time=datetime_local(services().now()))


def _filter_options() -> dict[str, Any]:
    with uow() as work:
        agencies = hb.agency_options(work)
    return {"states": list(TicketState), "fields": FIELDS, "channels": list(Channel), "agencies": agencies}


@bp.get("/hotline/danh-sach")
@login_required
def tickets() -> Any:
    """Phiếu, filtered and paged; contacts masked unless the viewer is an operator."""
    error, result, flt = None, None, hb.TicketFilter()
    with uow() as work:
        hb.check_viewer(_viewer())
        try:
            flt = hb.ticket_filter(request.args)
            result = hb.ticket_list(work, services(), _viewer(), flt)
        except InvalidData as err:
            error = text(err.message)
        html = render_template("hotline/tickets.html", result=result, flt=flt, args=request.args, error=error,
                               **_filter_options())
    return html, 400 if error else 200


@bp.get("/hotline/danh-sach.xlsx")
@login_required
def tickets_xlsx() -> Any:
    with uow() as work:
        data = hb.export_tickets(work, services(), _viewer(), hb.ticket_filter(request.args), _locale(), _stamp())
    day = hb.today(services()).isoformat()
    return attachment(data, _("Danh sách phiếu 1022 %(day)s.xlsx", day=day), ascii_name=f"phieu-1022-{day}.xlsx")


def _board_model() -> dict[str, Any]:
    with uow() as work:
        seen = hb.board(work, services(), _viewer())
    return {"b": seen, "refresh_seconds": REFRESH_SECONDS}


@bp.get("/hotline/giam-sat")
@login_required
def board() -> Any:
    """The monitoring board; its content block reloads from board_content every REFRESH_SECONDS."""
    return render_template("hotline/board.html", **_board_model())


@bp.get("/hotline/giam-sat/noi-dung")
@login_required
def board_content() -> Any:
    return render_template("hotline/_board_content.html", **_board_model())


def _period() -> tuple[date | None, date | None, str]:
    """The statistics period and grouping from ?from=&to=&group_by=; the current month by default."""
    today = hb.today(services())
    start = hb.parse_day(request.args.get("from"), "Từ ngày", "From") if request.args.get("from") else \
        today.replace(day=1)
    end = hb.parse_day(request.args.get("to"), "Đến ngày", "To") if request.args.get("to") else today
    return start, end, request.args.get("group_by") or "linh_vuc"


def _chart(table: hb.StatisticsTable) -> dict[str, Any]:
    """Horizontal bars of the received count per row, scaled to the largest."""
    top = max((r.values["received"] for r in table.rows), default=0) or 1
    bars = [{"label": text(r.label), "value": r.values["received"], "y": i * BAR_STEP + 4,
             "width": round(CHART_WIDTH * r.values["received"] / top, 1)} for i, r in enumerate(table.rows)]
    return {"bars": bars, "height": max(1, len(bars)) * BAR_STEP + 8, "left": CHART_LEFT, "width": CHART_WIDTH}


@bp.get("/hotline/thong-ke")
@login_required
def statistics() -> Any:
    error, table, chart = None, None, None
    start = end = None
    group_by = request.args.get("group_by") or "linh_vuc"
    with uow() as work:
        hb.check_viewer(_viewer())
        try:
            start, end, group_by = _period()
            table = hb.statistics(work, services(), _viewer(), start, end, group_by)
            chart = _chart(table)
        except InvalidData as err:
            error = text(err.message)
        html = render_template("hotline/statistics.html", table=table, chart=chart, error=error,
                               date_from=request.args.get("from") or (start.isoformat() if start else ""),
                               date_to=request.args.get("to") or (end.isoformat() if end else ""),
                               group_by=group_by, groupings=hb.GROUPINGS, metrics=hb.METRICS)
    return html, 400 if error else 200


@bp.get("/hotline/thong-ke.xlsx")
@login_required
def statistics_xlsx() -> Any:
    with uow() as work:
        start, end, group_by = _period()
        data = hb.export_statistics(work, services(), _viewer(), start, end, group_by, _locale(), _stamp())
    span = f"{start.isoformat() if start else ''}_{end.isoformat() if end else ''}"
    return attachment(data, _("Thống kê Tổng đài 1022 %(span)s.xlsx", span=span),
                      ascii_name=f"thong-ke-1022-{span}.xlsx")
