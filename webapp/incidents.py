"""Admin: incidents (sự cố) of stopped instances, and the retry button on them (docs/operations.md)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.domain.enums import Role
from engine.domain.errors import Conflict
from engine.services import incidents
from webapp.extensions import db
from webapp.platform import services, text, uow

bp = Blueprint("incidents", __name__, url_prefix="/admin/incidents")


@bp.app_template_global()
def open_incident_count() -> int:
    """For the navigation bar: open incidents, counted for administrators only (0 for others)."""
    if not current_user.is_authenticated or Role.QUAN_TRI.value not in current_user.role_codes:
        return 0
    # The request's session as it is: a template may render inside a view's unit of work.
    return incidents.open_count(db.session)


@bp.get("")
@login_required
def index() -> Any:
    """Open incidents, newest first, then the latest resolved ones; administrators only (403)."""
    with uow() as work:
        return render_template("admin/incidents.html", view=incidents.overview(work, services(), current_user))


@bp.post("/<int:incident_id>/retry")
@login_required
def retry(incident_id: int) -> Any:
    """Retries the incident, then shows where the admin clicked: this list, or the instance page
    (`back=instance`; only a fixed choice, never a URL from the form)."""
    instance_id = request.form.get("instance_id", type=int)
    with uow() as work:
        try:
            incident = incidents.retry(work, services(), current_user, incident_id)
        except Conflict as err:  # resolved meanwhile, instance moved on, or the script failed again
            flash(text(err.message), "danger")
        else:
            instance_id = incident.instance_id
            if incident.topic:
                flash(_("Đã thử lại sự cố của hồ sơ số %(id)s: hệ thống sẽ gọi lại ngay, việc đã làm không bị "
                        "làm lại.", id=instance_id), "success")
            else:
                flash(_("Đã chạy lại bước bị lỗi của hồ sơ số %(id)s; hồ sơ tiếp tục xử lý.", id=instance_id),
                      "success")
    if request.form.get("back") == "instance" and instance_id:
        return redirect(url_for("instances.detail", instance_id=instance_id))
    return redirect(url_for("incidents.index"))
