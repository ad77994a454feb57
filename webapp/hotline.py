"""Hotline 1022 operator console (/hotline: a phone call typed in, the caller's earlier tickets beside it) and the
ticket page (/hotline/phieu/<code>: masked contacts, the full ones on request and audited, the ticket's log, an
urgent call forwarded, the call's recording). The rules are engine.services.hotline_console's (docs/hotline.md)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.domain.errors import InvalidData
from engine.domain.hotline import FIELDS
from engine.persistence.models import Unit, User
from engine.services import hotline_console as console
from engine.services.attachments import size_text
from webapp.attachments import allow_upload_size, uploaded_file
from webapp.downloads import attachment as download
from webapp.extensions import csrf
from webapp.platform import services, text, uow

bp = Blueprint("hotline", __name__)
bp.add_app_template_filter(size_text, "hotline_size")

CALL_FIELDS = ("phone", "caller", "field", "content")
FORWARD_FIELDS = ("agency", "agency_other", "number", "note")


def _operator_or_403() -> User:
    if not console.is_operator(current_user):
        abort(403)
    return current_user  # type: ignore[return-value]


def _history(phone: str) -> dict[str, Any]:
    """The caller's earlier tickets for the side panel: none for an empty or half-typed number."""
    if not phone.strip():
        return {"earlier": None, "earlier_error": None}
    with uow() as work:
        try:
            return {"earlier": console.caller_history(work, current_user, phone), "earlier_error": None}
        except InvalidData as err:
            return {"earlier": None, "earlier_error": text(err.message)}


def _render_console(values: dict[str, str], error: str | None = None, status: int = 200) -> Any:
    created = request.args.get("created", "") if request.method == "GET" else ""
    task = request.args.get("task", "")
    return render_template("hotline/console.html", values=values, error=error, fields=FIELDS,
                           created=created[:20], created_task=int(task) if task.isdigit() else None,
                           max_size=size_text(services().settings.max_attachment_bytes),
                           **_history(values.get("phone", ""))), status


@bp.route("/hotline", methods=["GET", "POST"], endpoint="console")
@login_required
@csrf.exempt  # checked below, once the body may be as large as a recording is allowed to be
def console_page() -> Any:
    operator = _operator_or_403()
    empty = dict.fromkeys(CALL_FIELDS, "")
    if request.method == "GET":
        return _render_console(empty)
    allow_upload_size()
    csrf.protect()
    values = {key: request.form.get(key, "") for key in CALL_FIELDS}
    recorded = request.form.get("recorded") == "1"
    values["recorded"] = "1" if recorded else ""
    name, content = uploaded_file()
    with uow() as work:
        try:
            ticket = console.take_call(work, services(), operator, caller=values["caller"], phone=values["phone"],
                                       field=values["field"], content=values["content"], recorded=recorded,
                                       recording=(name, content) if name or content else None)
        except InvalidData as err:
            return _render_console(values, text(err.message), status=400)
        task_id = console.first_task_id(work, ticket)
        code = ticket.code
    flash(_("Đã tạo phiếu %(code)s", code=code), "success")
    return redirect(url_for("hotline.console", created=code, task=task_id or ""))


@bp.get("/hotline/nguoi-goi")
@login_required
def caller() -> Any:
    """The side panel alone, fetched by the console as the number is typed (webapp/static/src/hotline_console.js)."""
    _operator_or_403()
    return render_template("hotline/_earlier.html", **_history(request.args.get("so", "")))


def _units() -> list[tuple[str, str]]:
    with uow() as work:
        return [(u.code, u.name) for u in work.session.scalars(select(Unit).order_by(Unit.name))]


def _render_ticket(code: str, full: bool = False, forward: dict[str, str] | None = None,
                   forward_error: str | None = None, upload_error: str | None = None, status: int = 200) -> Any:
    with uow() as work:
        view = console.ticket_view(work, services(), current_user, code, full)
    return render_template("hotline/ticket.html", t=view, units=_units() if view.operator else [],
                           forward=forward or {"agency": view.agency_code, "agency_other": "", "number": "",
                                               "note": "", "recorded": ""},
                           forward_error=forward_error, upload_error=upload_error,
                           max_size=size_text(services().settings.max_attachment_bytes)), status


@bp.get("/hotline/phieu/<code>")
@login_required
def ticket(code: str) -> Any:
    return _render_ticket(code)


@bp.post("/hotline/phieu/<code>")
@login_required
def ticket_contacts(code: str) -> Any:
    """The full contacts (a POST, so the request stays out of logs and history; audited by the service)."""
    return _render_ticket(code, full=True)


@bp.post("/hotline/phieu/<code>/chuyen-cuoc-goi")
@login_required
def forward(code: str) -> Any:
    operator = _operator_or_403()
    values = {key: request.form.get(key, "") for key in FORWARD_FIELDS}
    recorded = request.form.get("recorded") == "1"
    values["recorded"] = "1" if recorded else ""
    with uow() as work:
        try:
            console.forward_call(work, services(), operator, code, values["agency_other"] or values["agency"],
                                 values["number"], recorded, values["note"])
        except InvalidData as err:
            return _render_ticket(code, forward=values, forward_error=text(err.message), status=400)
    flash(_("Đã ghi nhận chuyển cuộc gọi khẩn."), "success")
    return redirect(url_for("hotline.ticket", code=code) + "#nhat-ky")


@bp.post("/hotline/phieu/<code>/ghi-am")
@login_required
@csrf.exempt  # checked below, once the body may be as large as a recording is allowed to be
def upload_recording(code: str) -> Any:
    operator = _operator_or_403()
    allow_upload_size()
    csrf.protect()
    name, content = uploaded_file()
    with uow() as work:
        try:
            console.attach_recording(work, services(), operator, code, name, content)
        except InvalidData as err:
            return _render_ticket(code, upload_error=text(err.message), status=400)
    flash(_("Đã lưu tệp ghi âm cuộc gọi."), "success")
    return redirect(url_for("hotline.ticket", code=code))


@bp.get("/hotline/phieu/<code>/ghi-am")
@login_required
def recording(code: str) -> Any:
    with uow() as work:
        found = console.recording_file(work, current_user, code)
        return download(found.content, found.file_name, found.content_type)
