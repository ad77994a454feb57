"""Files in task forms (the scanned dossier): the form's upload and remove calls, and downloads.

The rules are engine.services.attachments'; these handlers only read the request and answer.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required

from engine.forms.files import FileValue
from engine.persistence.models import User
from engine.services import attachments
from webapp.downloads import attachment as download
from webapp.errors import json_errors
from webapp.extensions import csrf
from webapp.platform import services, uow

bp = Blueprint("attachments", __name__)

#: Room for the multipart envelope and the small fields around the file.
MULTIPART_MARGIN = 64 * 1024


def allow_upload_size() -> None:
    """Lets this request's body be one file of the configured size (the app's default limit is lower)."""
    request.max_content_length = services().settings.max_attachment_bytes + MULTIPART_MARGIN


def uploaded_file() -> tuple[str, bytes]:
    """The request's multipart `file`: its name and content ("" and b"" when none was sent). It is read
    up to one byte past the limit, so an oversized file is told apart."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return "", b""
    return upload.filename, upload.read(services().settings.max_attachment_bytes + 1)


def store_upload(user: User, task_id: int) -> FileValue:
    """The request's multipart `file` for the task's file field `field` (its id) or `key`; the page's
    and the API's upload alike."""
    name, content = uploaded_file()
    with uow() as work:
        return attachments.upload(work, services(), user, task_id, field_id=request.form.get("field", ""),
                                  key=request.form.get("key", ""), file_name=name, content=content)


@bp.post("/tasks/<int:task_id>/attachments")
@login_required
@csrf.exempt  # checked below, once the body may be as large as a file is allowed to be
@json_errors
def upload(task_id: int) -> Any:
    """JSON for the form's file field: 201 {ref, name, size, type} or the platform's error shape."""
    allow_upload_size()
    csrf.protect()
    return jsonify(store_upload(current_user, task_id)), 201


@bp.delete("/tasks/<int:task_id>/attachments/<ref>")
@login_required
@json_errors
def remove(task_id: int, ref: str) -> Any:
    """The form's remove button: a file uploaded for this task and not yet filed; 204."""
    with uow() as work:
        attachments.remove(work, current_user, task_id, ref)
    return "", 204


@bp.get("/instances/<int:instance_id>/attachments/<ref>")
@login_required
def content(instance_id: int, ref: str) -> Any:
    with uow() as work:
        found = attachments.file_for(work, current_user, ref, instance_id=instance_id)
        return download(found.content, found.file_name, found.content_type)
