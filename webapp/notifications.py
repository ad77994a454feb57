"""The inbox "Thông báo": notifications the `local` channel keeps for the signed-in user."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.services import notifications
from engine.services.credentials import token_in
from webapp.extensions import db
from webapp.platform import services, uow

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@login_required
def inbox() -> Any:
    with uow() as work:
        return render_template("notifications/inbox.html", items=notifications.inbox(work, current_user))


@bp.get("/notifications/<int:notification_id>")
@login_required
def detail(notification_id: int) -> Any:
    with uow() as work:
        item = notifications.open_notification(work, current_user, notification_id, services().now())
        response = make_response(render_template("notifications/detail.html", item=item, token=token_in(item.body)))
    response.headers["Cache-Control"] = "no-store"  # it may hold a one-time link
    return response


@bp.post("/notifications/read")
@login_required
def read_all() -> Any:
    with uow() as work:
        notifications.mark_all_read(work, current_user, services().now())
    flash(_("Đã đánh dấu mọi thông báo là đã đọc."), "info")
    return redirect(url_for("notifications.inbox"))


def unread_notifications() -> int:
    """For the navigation bar: the signed-in user's unread notifications."""
    if not current_user.is_authenticated:
        return 0
    # The request's session as it is: a template may render inside a view's unit of work.
    return notifications.unread_count(db.session, current_user)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(unread_notifications)
