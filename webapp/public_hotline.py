"""Hotline 1022 pages open to everyone, no login (docs/hotline.md, "Public form and ticket lookup"): the form
that sends a question or report to the hotline (/cong-khai/1022, then its thank-you page) and the ticket lookup
(/cong-khai/tra-cuu-phieu). The anti-abuse checks and the rate limits are engine.services.hotline_public's.

Limits are kept per client address (`request.remote_addr`): behind a reverse proxy the deployment wraps the
app in werkzeug's ProxyFix so that the address is the citizen's, not the proxy's (docs/hotline.md).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from engine.domain.errors import InvalidData
from engine.domain.hotline import FIELDS
from engine.services import hotline_public
from webapp.extensions import csrf
from webapp.platform import services, text, uow

bp = Blueprint("public_hotline", __name__)

#: A post of these pages is a few text fields (content up to 5000 characters): anything larger is refused (413).
MAX_POST_BYTES = 64 * 1024
#: The hidden field people never see and scripts fill in.
HONEYPOT = "website"
FIELDS_OF_FORM = ("name", "phone", "email", "field", "content")
SENT = "hotline_public_sent"


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _limit_body() -> None:
    """Refuse a body larger than the form can be, before anything reads it; then check CSRF as everywhere."""
    request.max_content_length = MAX_POST_BYTES
    csrf.protect()


def _render_form(values: dict[str, str], form: hotline_public.PublicForm, error: str | None = None,
                 status: int = 200) -> Any:
    return render_template("hotline/public_form.html", values=values, form=form, error=error, fields=FIELDS,
                           max_content=5000, honeypot=HONEYPOT), status


@bp.route("/cong-khai/1022", methods=["GET", "POST"])
@csrf.exempt  # checked in _limit_body, once the body is known to be small
def form() -> Any:
    if request.method == "GET":
        return _render_form(dict.fromkeys(FIELDS_OF_FORM, ""), hotline_public.new_form(_secret(), services().now()))
    _limit_body()
    values = {key: request.form.get(key, "") for key in FIELDS_OF_FORM}
    token = request.form.get("token", "")
    with uow() as work:
        try:
            done = hotline_public.submit(work, services(), secret=_secret(), **values, address=request.remote_addr,
                                         answer=request.form.get("answer", ""), token=token,
                                         honeypot=request.form.get(HONEYPOT, ""))
        except (InvalidData, hotline_public.RateLimited) as err:
            status = 429 if isinstance(err, hotline_public.RateLimited) else 400
            again = hotline_public.form_for(_secret(), token, services().now())
            return _render_form(values, again, text(err.message), status)
        session[SENT] = {"code": done.ticket.code, "acknowledgement": done.acknowledgement,
                         "emailed": done.emailed, "email": done.ticket.email, "phone": bool(done.ticket.phone)}
    # Post/redirect/get: reloading the thank-you page sends nothing again.
    return redirect(url_for("public_hotline.sent"))


@bp.get("/cong-khai/1022/da-gui")
def sent() -> Any:
    """The thank-you page: the ticket's code and the acknowledgement (kept in the visitor's session)."""
    done = session.get(SENT)
    if not isinstance(done, dict) or "code" not in done:
        return redirect(url_for("public_hotline.form"))
    return render_template("hotline/public_sent.html", sent=done)


@bp.route("/cong-khai/tra-cuu-phieu", methods=["GET", "POST"])
@csrf.exempt  # checked in _limit_body, once the body is known to be small
def lookup() -> Any:
    """Code and phone number in, the ticket's public view out (POST: the phone number stays out of addresses
    and logs)."""
    if request.method == "GET":
        return render_template("hotline/public_lookup.html", code=request.args.get("ma", "")[:40], phone="",
                               found=None, error=None)
    _limit_body()
    code, phone = request.form.get("code", ""), request.form.get("phone", "")
    with uow() as work:
        try:
            found = hotline_public.lookup(work, services(), code, phone, request.remote_addr)
        except (InvalidData, hotline_public.RateLimited) as err:
            status = 429 if isinstance(err, hotline_public.RateLimited) else 200
            return render_template("hotline/public_lookup.html", code=code[:40], phone=phone[:40], found=None,
                                   error=text(err.message)), status
    shown = {"code": found.code, "received_on": found.received_on, "channel": text(found.channel),
             "field": text(found.field) if found.field else "", "state": text(found.state),
             "answered_on": found.answered_on, "answer": found.answer, "note": text(found.note) if found.note else ""}
    return render_template("hotline/public_lookup.html", code=found.code, phone="", found=shown, error=None)
