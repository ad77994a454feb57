"""The Huế meeting rules on the pages (docs/meeting_rules.md): invitations and answers ("Lời mời họp"), the host
side's postponement, cancellation and documents, and the quarterly report for the chairman.

The rules are the engine's (engine.services.invitations, meeting_rules, meeting_documents, meeting_report);
these handlers read the form, call one use case and answer. The meeting page (webapp/meetings.py)
includes `meetings/_rules.html`, which reads `meeting_rules_for(meeting)`.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.domain.errors import Conflict, Forbidden, InvalidData
from engine.domain.messages import Message
from engine.persistence.models import Meeting, User
from engine.services import invitations, meeting_documents, meeting_report, meeting_rules
from engine.services.invitations import Delivery
from webapp.attachments import allow_upload_size, uploaded_file
from webapp.downloads import attachment as download
from webapp.extensions import csrf, db
from webapp.formatting import datetime_local
from webapp.platform import services, text, uow

bp = Blueprint("meeting_rules", __name__)

#: The badge of each answer (status-badge colours, app.css).
ANSWER_CLASSES = {"cho_xac_nhan": "status-pending", "tham_du": "status-done", "tu_choi": "status-rejected"}


@bp.app_template_global()
def meeting_rules_for(meeting: Meeting) -> meeting_rules.RulesView | None:
    """For `meetings/_rules.html`: the rules as this user may see them; None when they may not (the
    invitations and documents are for the host side, the invited units and those who see the instance)."""
    if not current_user.is_authenticated:
        return None
    try:
        with uow() as work:  # the request's session: what the view holds stays readable in the template
            return meeting_rules.rules_view(work, services(), current_user, meeting.id)
    except Forbidden:
        return None


@bp.app_template_global()
def documents_late(shown: list[Meeting]) -> set[int]:
    """For the calendar: ids of the meetings whose documents are late (“Tài liệu chậm”)."""
    with uow() as work:
        return meeting_documents.late_meetings(work, services(), shown)


@bp.app_template_global()
def rules_message(message: Message) -> str:
    """A bilingual engine message in the reader's language."""
    return text(message)


@bp.app_template_global()
def awaiting_invitations() -> int:
    """For the navigation bar: invitations of the user's unit awaiting an answer."""
    if not current_user.is_authenticated:
        return 0
    return invitations.awaiting_count(db.session, current_user, services().now())


@bp.app_template_global()
def answer_label(status: str) -> tuple[str, str]:
    """(words, badge class) of an invitation's answer."""
    return text(invitations.InvitationStatus(status).label), ANSWER_CLASSES.get(status, "")


def _back(meeting_id: int) -> str:
    """Where a form returns: the page it came from (a local path), else the invitation page."""
    target = request.form.get("back", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("meeting_rules.invitation", meeting_id=meeting_id)


def _page(meeting_id: int, status: int = 200) -> Any:
    with uow() as work:
        meeting = invitations.visible_meeting(work, current_user, meeting_id)
        return render_template("meetings/invitation.html", meeting=meeting, form=request.form), status


def _told(delivery: Delivery) -> None:
    if delivery.failed:
        flash(_("Chưa gửi được thông báo tới: %(who)s. Hãy báo cho các đơn vị này bằng cách khác.",
                who=", ".join(delivery.failed)), "warning")


# ---------------------------------------------------------------- invitations


@bp.get("/invitations")
@login_required
def mine() -> Any:
    """“Lời mời họp”: the user's unit's invitations, those awaiting an answer first."""
    with uow() as work:
        return render_template("meetings/invitations.html", items=invitations.mine(work, services(), current_user))


@bp.get("/invitations/<int:meeting_id>")
@login_required
def invitation(meeting_id: int) -> Any:
    """The page an invitation links to: the meeting, the answer form, the documents."""
    return _page(meeting_id)


@bp.post("/meetings/<int:meeting_id>/answer")
@login_required
def answer(meeting_id: int) -> Any:
    form = request.form
    try:
        with uow() as work:
            invitations.answer(work, services(), current_user, meeting_id, form.get("answer", ""),
                               chair_name=form.get("chair_name"), chair_title=form.get("chair_title"),
                               reason=form.get("reason"))
    except (InvalidData, Conflict) as err:
        flash(text(err.message), "danger")
        return _page(meeting_id, 409 if isinstance(err, Conflict) else 400)
    flash(_("Đã ghi nhận trả lời của đơn vị."), "success")
    return redirect(_back(meeting_id))


# ---------------------------------------------------------------- the host side


@bp.post("/meetings/<int:meeting_id>/postpone")
@login_required
def postpone(meeting_id: int) -> Any:
    form = request.form
    try:
        with uow() as work:
            outcome = meeting_rules.postpone(
                work, services(), meeting_documents.notifier_for(services()), current_user, meeting_id,
                day=form.get("ngay_hop"), start=form.get("gio_bat_dau"), end=form.get("gio_ket_thuc"),
                reason=form.get("reason"))
    except (InvalidData, Conflict) as err:
        flash(text(err.message), "danger")
        return _page(meeting_id, 409 if isinstance(err, Conflict) else 400)
    flash(_("Đã hoãn cuộc họp và thông báo tới %(num)s người được mời.", num=outcome.delivery.sent), "success")
    _told(outcome.delivery)
    return redirect(_back(meeting_id))


@bp.post("/meetings/<int:meeting_id>/cancel")
@login_required
def cancel(meeting_id: int) -> Any:
    try:
        with uow() as work:
            outcome = meeting_rules.cancel(work, services(), meeting_documents.notifier_for(services()), current_user,
                                           meeting_id, reason=request.form.get("reason"))
    except (InvalidData, Conflict) as err:
        flash(text(err.message), "danger")
        return _page(meeting_id, 409 if isinstance(err, Conflict) else 400)
    flash(_("Đã hủy cuộc họp và thông báo tới %(num)s người được mời.", num=outcome.delivery.sent), "success")
    _told(outcome.delivery)
    return redirect(_back(meeting_id))


def store_document(user: User, meeting_id: int) -> tuple[meeting_documents.MeetingDocument, Delivery]:
    """The request's multipart `file` sent to the meeting (the page's and the API's upload alike)."""
    name, content = uploaded_file()
    with uow() as work:
        return meeting_documents.upload(work, services(), meeting_documents.notifier_for(services()), user,
                                        meeting_id, file_name=name, content=content)


@bp.post("/meetings/<int:meeting_id>/documents")
@login_required
@csrf.exempt  # checked below, once the body may be as large as a file is allowed to be
def upload_document(meeting_id: int) -> Any:
    allow_upload_size()
    csrf.protect()
    try:
        document, delivery = store_document(current_user, meeting_id)
    except (InvalidData, Conflict) as err:
        flash(text(err.message), "danger")
        return _page(meeting_id, 409 if isinstance(err, Conflict) else 400)
    flash(_("Đã gửi tài liệu “%(name)s” tới các điểm cầu.", name=document.name), "success")
    _told(delivery)
    return redirect(_back(meeting_id))


@bp.get("/meetings/<int:meeting_id>/documents/<ref>")
@login_required
def document(meeting_id: int, ref: str) -> Any:
    with uow() as work:
        found = meeting_documents.document_for(work, current_user, meeting_id, ref)
        return download(found.content, found.file_name, found.content_type)


# ---------------------------------------------------------------- the quarterly report


def _stamp() -> str:
    """Who made the file and when: the line under the title."""
    return _("Người lập: %(name)s (%(unit)s) — lúc %(time)s", name=current_user.full_name,
             unit=current_user.unit.name, time=datetime_local(services().now()))


def _today() -> date:
    return services().now().astimezone(ZoneInfo(services().settings.timezone)).date()


def _quarter() -> tuple[int, int]:
    return meeting_report.parse_quarter(request.args.get("year"), request.args.get("quarter"), _today())


@bp.get("/meetings/report")
@login_required
def report() -> Any:
    meeting_report.check_viewer(current_user)
    this_year = _today().year
    years = list(range(this_year + 1, this_year - 5, -1))
    try:
        year, quarter = _quarter()
    except InvalidData as err:
        return render_template("meetings/report.html", report=None, years=years, year=this_year, quarter=1,
                               error=text(err.message)), 400
    with uow() as work:
        found = meeting_report.compute(work, services(), current_user, year, quarter)
        return render_template("meetings/report.html", report=found, years=sorted({*years, year}, reverse=True),
                               year=year, quarter=quarter, error=None)


def _report_file(render: Callable[[meeting_report.QuarterReport], bytes]) -> tuple[bytes, str, int, int]:
    """The asked quarter's report rendered by `render` (inside the unit of work: the report holds rows); with
    the quarter in Roman numerals, its number and the year, for the file's name."""
    meeting_report.check_viewer(current_user)
    year, quarter = _quarter()
    with uow() as work:
        data = render(meeting_report.compute(work, services(), current_user, year, quarter))
    return data, meeting_report.QUARTERS[quarter - 1], quarter, year


@bp.get("/meetings/report.docx")
@login_required
def report_docx() -> Any:
    author = f"{current_user.full_name} ({current_user.unit.name})"
    data, roman, quarter, year = _report_file(lambda found: meeting_report.docx(found, services(), author))
    return download(data, _("Báo cáo Hội nghị truyền hình quý %(q)s năm %(year)s.docx", q=roman, year=year),
                    ascii_name=f"bao-cao-hoi-nghi-truyen-hinh-q{quarter}-{year}.docx")


@bp.get("/meetings/report.xlsx")
@login_required
def report_xlsx() -> Any:
    stamp = _stamp()
    timezone = services().settings.timezone
    data, roman, quarter, year = _report_file(lambda found: meeting_report.workbook(found, stamp, timezone))
    return download(data, _("Báo cáo Hội nghị truyền hình quý %(q)s năm %(year)s.xlsx", q=roman, year=year),
                    ascii_name=f"bao-cao-hoi-nghi-truyen-hinh-q{quarter}-{year}.xlsx")
