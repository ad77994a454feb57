"""Tasklist ("Việc cần làm") and the task page with its form."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.domain.enums import TaskStatus
from engine.domain.errors import Conflict, DomainError, Forbidden, InvalidData
from engine.domain.messages import Message
from engine.forms import excel
from engine.persistence.models import User
from engine.persistence.uow import UnitOfWork
from engine.services import instances, queries, sla
from webapp.downloads import attachment
from webapp.errors import details_json, status_of
from webapp.platform import services, text, uow

bp = Blueprint("tasks", __name__)


@bp.get("/")
@login_required
def tasklist() -> Any:
    sort = request.args.get("sort", "due")
    with uow() as work:
        tasks = queries.tasks_for(work, current_user, sort=sort)
        done = queries.tasks_for(work, current_user, sort="created", status=TaskStatus.COMPLETED, limit=20)
        return render_template("tasks/list.html", tasks=tasks, done=done, sort=sort,
                               due=sla.task_states(services(), tasks))


def _render(work: Any, task_id: int, data: dict[str, Any] | None = None,
            errors: list[Any] | None = None, status: int = 200) -> Any:
    view = queries.task_view(work, services(), current_user, task_id)
    task, instance = view.task, view.task.instance
    form_errors: dict[str, list[str]] = {}
    for err in errors or []:
        key = err.field_id + ("".join(f"[{p}]" for p in err.path.split(".") if p.isdigit()))
        form_errors.setdefault(key, []).append(text(err.message))
    return render_template(
        "tasks/task.html", task=task, instance=instance,
        schema=view.form, data={**view.data, **(data or {})},
        form_errors=form_errors, error_list=[(e.path, text(e.message)) for e in errors or []],
        may_complete=view.may_complete,
        excel_lists=excel.repeatable_lists(view.form) if view.may_complete else [],
        max_excel_bytes=services().settings.max_excel_bytes,
    ), status


@bp.get("/tasks/<int:task_id>")
@login_required
def task(task_id: int) -> Any:
    with uow() as work:
        return _render(work, task_id)


@bp.post("/tasks/<int:task_id>")
@login_required
def complete(task_id: int) -> Any:
    try:
        submitted = json.loads(request.form.get("data") or "{}")
        revision = int(request.form["revision"]) if request.form.get("revision") else None
    except ValueError:
        abort(400)
    with uow() as work:
        try:
            instance = instances.complete_task(work, services(), current_user, task_id, submitted, revision)
        except InvalidData as err:
            flash(text(err.message), "danger")
            data = submitted if isinstance(submitted, dict) else {}
            return _render(work, task_id, data=data, errors=err.details, status=400)
        instance_id = instance.id
    flash(_("Đã hoàn thành công việc."), "success")
    return redirect(url_for("instances.detail", instance_id=instance_id))


# ---------------------------------------------------------------- Excel import into a list

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_FILE = Message("Chưa chọn tệp Excel (.xlsx) để nhập.", "No Excel (.xlsx) file was chosen.")


def excel_template(work: UnitOfWork, user: User, task_id: int, path: str) -> tuple[bytes, str]:
    """The blank .xlsx of a list of the task's form and its file name, for anyone who may see the task."""
    task = instances.get_task(work, task_id)
    if not queries.can_see(work, user, task.instance):
        raise Forbidden(queries.NOT_VISIBLE)
    schema = instances.form_schema(task)
    settings = services().settings
    content = excel.blank_workbook(schema, path, max_bytes=settings.max_excel_bytes)
    return content, excel.file_name(schema, path)


def excel_rows(work: UnitOfWork, user: User, task_id: int, path: str, content: bytes) -> list[dict[str, Any]]:
    """Rows of an uploaded .xlsx checked against the task's form; nothing is stored, the form gets them."""
    view = queries.task_view(work, services(), user, task_id)
    if view.task.status != TaskStatus.READY:
        raise Conflict(instances.TASK_DONE)
    if not view.may_complete:
        raise Forbidden(instances.NOT_YOURS)
    settings = services().settings
    return excel.read_rows(view.form, path, content, context=view.data, max_bytes=settings.max_excel_bytes,
                           timezone=settings.timezone)


def uploaded_file(max_bytes: int) -> bytes:
    """The multipart `file`, read up to one byte past the limit (so an oversized file is told apart)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidData(NO_FILE, [excel.CellError("", "", NO_FILE)])
    return upload.read(max_bytes + 1)


def _json_error(error: DomainError) -> Any:
    body = {"code": error.code, "message": error.message.vi, "message_en": error.message.en}
    if error.details is not None:
        body["details"] = details_json(error)
    return jsonify({"error": body}), status_of(error)


@bp.get("/tasks/<int:task_id>/excel/<path>.xlsx")
@login_required
def excel_download(task_id: int, path: str) -> Any:
    with uow() as work:
        content, name = excel_template(work, current_user, task_id, path)
    return attachment(content, name, XLSX_MIME)


@bp.post("/tasks/<int:task_id>/excel/<path>")
@login_required
def excel_upload(task_id: int, path: str) -> Any:
    """JSON for the page's script: {"rows": [...]} or the platform's error shape; the instance is untouched."""
    try:
        content = uploaded_file(services().settings.max_excel_bytes)
        with uow() as work:
            rows = excel_rows(work, current_user, task_id, path, content)
    except DomainError as error:
        return _json_error(error)
    return jsonify({"rows": rows})
