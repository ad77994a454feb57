"""Sign-in with local accounts (Flask-Login sessions)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required, login_user, logout_user

from engine.domain.errors import AuthFailed, RateLimited
from engine.persistence.models import User
from engine.services import identity
from webapp.extensions import db, login_manager
from webapp.platform import services, text, uow

bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Vui lòng đăng nhập để tiếp tục.")
login_manager.localize_callback = str  # flash plain text in the language of the refused request
login_manager.login_message_category = "warning"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None


def _safe_next(target: str | None) -> str:
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("tasks.tasklist")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        with uow() as work:
            try:
                user = identity.sign_in(work, services().settings, request.form.get("username", ""),
                                        request.form.get("password", ""), request.remote_addr or "", services().now())
            except (AuthFailed, RateLimited) as err:
                flash(text(err.message), "danger")
                status = 429 if isinstance(err, RateLimited) else 401
                return render_template("auth/login.html", username=request.form.get("username", "")), status
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        login_user(user)
        session.permanent = True
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", username="")


@bp.post("/logout")
@login_required
def logout() -> Any:
    logout_user()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))
