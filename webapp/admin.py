"""Admin: procedure versions with their document templates, and publishing new versions from uploaded files."""
from __future__ import annotations

from functools import wraps
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.domain.errors import PublishRefused
from engine.persistence.uow import UnitOfWork
from engine.services import documents_view, publishing, queries
from webapp import platform
from webapp.downloads import attachment
from webapp.platform import services, text, uow

bp = Blueprint("admin", __name__, url_prefix="/admin")


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
        return _versions_page(work, problems=None)


def _versions_page(work: UnitOfWork, problems: Any) -> str:
    shown = queries.versions(work)
    templates = documents_view.templates_by_version(work, [v.id for v in shown])
    return render_template("admin/versions.html", versions=shown, templates=templates, problems=problems)


@bp.get("/versions/<int:version_id>/files/<name>")
@admin_required
def template_file(version_id: int, name: str) -> Any:
    """Downloads a file published with a version, e.g. a DOCX template to edit in Word."""
    with uow() as work:
        found = documents_view.template_file(work, version_id, name)
        return attachment(found.content, found.name)


@bp.post("/procedures")
@admin_required
def publish() -> Any:
    settings = services().settings
    files: dict[str, bytes] = {}
    for upload in request.files.getlist("files"):
        name = Path(upload.filename or "").name
        if not name:
            continue
        if not name.endswith(publishing.FILE_SUFFIXES):
            flash(_("Chỉ nhận tệp .bpmn, .dmn, .form và mẫu văn bản .docx (%(name)s).", name=name), "danger")
            return redirect(url_for("admin.versions"))
        files[name] = upload.read(settings.max_upload_bytes + 1)
    with uow() as work:
        try:
            version, created = platform.publish(work, files, current_user)
        except PublishRefused as err:
            flash(text(err.message), "danger")
            return _versions_page(work, problems=err.details), 400
        if created:
            flash(_("Đã công bố %(name)s, phiên bản %(v)s.", name=version.name, v=version.version), "success")
        else:
            flash(_("Nội dung không đổi: phiên bản %(v)s vẫn là mới nhất.", v=version.version), "info")
    return redirect(url_for("admin.versions"))
