"""Tasklist ("Việc cần làm") and the task page with its form."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.domain.enums import TaskStatus
from engine.domain.errors import InvalidData
from engine.domain.messages import Message
from engine.forms import excel
from engine.forms import input_fields as form_inputs
from engine.services import instances, list_import, queries, sla
from webapp.downloads import attachment
from webapp.errors import json_errors
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
        form_errors=form_errors, error_list=error_list(view.form, errors or []),
        may_complete=view.may_complete,
        excel_lists=list_import.importable_lists(view),
        max_excel_bytes=services().settings.max_excel_bytes,
        max_attachment_bytes=services().settings.max_attachment_bytes,
    ), status


def error_list(schema: dict[str, Any] | None, errors: list[Any]) -> list[tuple[str, str]]:
    """(where, message) of each error, where in the form's own words: "Danh sách tài khoản (Biểu số 2.1),
    dòng 2 — Email Đồng Tháp" for `danh_sach.1.email`; the data path itself when the form does not name it."""
    labels = {f["path"]: f["label"] for f in form_inputs(schema)} if schema and errors else {}
    lists = {item.path: item.label for item in excel.repeatable_lists(schema)} if labels else {}

    def place(path: str) -> str:
        parts = path.split(".") if path else []
        label = labels.get(".".join("*" if p.isdigit() else p for p in parts))
        if not label:
            return path or "—"
        rows = [_("%(list)s, dòng %(row)s", list=lists.get(".".join(parts[:i]), ".".join(parts[:i])), row=int(p) + 1)
                for i, p in enumerate(parts) if p.isdigit()]
        return " — ".join([*rows, label])

    return [(place(e.path), text(e.message)) for e in errors]


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


# ---------------------------------------------------------------- Excel import into a list (rules: list_import)

NO_FILE = Message("Chưa chọn tệp Excel (.xlsx) để nhập.", "No Excel (.xlsx) file was chosen.")


def uploaded_file(max_bytes: int) -> bytes:
    """The multipart `file`, read up to one byte past the limit (so an oversized file is told apart)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidData(NO_FILE, [excel.CellError("", "", NO_FILE)])
    return upload.read(max_bytes + 1)


@bp.get("/tasks/<int:task_id>/excel/<path>.xlsx")
@login_required
def excel_download(task_id: int, path: str) -> Any:
    with uow() as work:
        content, name = list_import.list_template(work, services(), current_user, task_id, path)
    return attachment(content, name)


@bp.post("/tasks/<int:task_id>/excel/<path>")
@login_required
@json_errors
def excel_upload(task_id: int, path: str) -> Any:
    """JSON for the page's script: {"rows": [...]} or the platform's error shape; the instance is untouched."""
    content = uploaded_file(services().settings.max_excel_bytes)
    with uow() as work:
        rows = list_import.list_rows(work, services(), current_user, task_id, path, content)
    return jsonify({"rows": rows})
