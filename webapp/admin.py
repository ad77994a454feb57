"""Admin: procedure versions and publishing new versions from uploaded files."""
from __future__ import annotations

from functools import wraps
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.domain.errors import PublishRefused
from engine.services import queries
from webapp import platform
from webapp.platform import services, text, uow

bp = Blueprint("admin", __name__, url_prefix="/admin")
ALLOWED = (".bpmn", ".dmn", ".form")


def admin_required(view: Any) -> Any:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if "quan_tri" not in current_user.role_codes:
            abort(403)
        return view(*args, **kwargs)
    return wrapper


@bp.get("/procedures")
@admin_required
def versions() -> Any:
    with uow() as work:
        return render_template("admin/versions.html", versions=queries.versions(work), problems=None)


@bp.post("/procedures")
@admin_required
def publish() -> Any:
    settings = services().settings
    files: dict[str, bytes] = {}
    for upload in request.files.getlist("files"):
        name = Path(upload.filename or "").name
        if not name:
            continue
        if not name.endswith(ALLOWED):
            flash(_("Chỉ nhận tệp .bpmn, .dmn và .form (%(name)s).", name=name), "danger")
            return redirect(url_for("admin.versions"))
        files[name] = upload.read(settings.max_upload_bytes + 1)
    with uow() as work:
        try:
            version, created = platform.publish(work, files, current_user)
        except PublishRefused as err:
            flash(text(err.message), "danger")
            return render_template("admin/versions.html", versions=queries.versions(work),
                                   problems=err.details), 400
        if created:
            flash(_("Đã công bố %(name)s, phiên bản %(v)s.", name=version.name, v=version.version), "success")
        else:
            flash(_("Nội dung không đổi: phiên bản %(v)s vẫn là mới nhất.", v=version.version), "info")
    return redirect(url_for("admin.versions"))
