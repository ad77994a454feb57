"""Tasks (việc cần làm): my tasklist, one task with its form, and completing it."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from engine.persistence.models import User
from engine.services import instances, list_import, queries, sla
from webapp.api.auth import authenticated
from webapp.api.base import api_blueprint, documents_errors
from webapp.api.instances import shown_instance
from webapp.api.schemas import (
    CompleteRequestSchema,
    InstanceSchema,
    JsonObject,
    TaskDetailSchema,
    TaskListQuerySchema,
    TaskSchema,
)
from webapp.downloads import XLSX_MIME, attachment
from webapp.platform import services, uow

blp = api_blueprint("api_tasks", __name__, "Việc cần làm của tôi và của nhóm tôi.")


@blp.route("/tasks", methods=["GET"])
@authenticated
@blp.arguments(TaskListQuerySchema, location="query", error_status_code=400)
@blp.response(200, TaskSchema(many=True))
@documents_errors(blp, 400, 401)
@blp.doc(summary="Việc cần làm", description="Công việc đang chờ giao cho tôi hoặc nhóm của tôi.")
def tasklist(query: dict[str, Any], user: User) -> Any:
    with uow() as work:
        tasks = queries.tasks_for(work, user, sort=query["sort"])
        due = sla.task_states(services(), tasks)
        return [{"task": t, "due_state": due.get(t.id)} for t in tasks]


@blp.route("/tasks/<int:task_id>", methods=["GET"])
@authenticated
@blp.response(200, TaskDetailSchema)
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Xem công việc", description="Công việc, lược đồ biểu mẫu và dữ liệu hiện tại.")
def detail(task_id: int, user: User) -> Any:
    with uow() as work:
        view = queries.task_view(work, services(), user, task_id)
        return {"task": view.task, "due_state": sla.task_state(services(), view.task),
                "form": view.form, "data": view.data}


@blp.route("/tasks/<int:task_id>/complete", methods=["POST"])
@authenticated
@blp.arguments(CompleteRequestSchema, error_status_code=400)
@blp.response(200, InstanceSchema)
@documents_errors(blp, 400, 401, 403, 404, 409)
@blp.doc(summary="Hoàn thành công việc",
         description="Dữ liệu sai trả 400 kèm danh sách lỗi theo trường; hồ sơ đã đổi "
                     "(revision) hoặc công việc đã xong trả 409.")
def complete(body: dict[str, Any], task_id: int, user: User) -> Any:
    with uow() as work:
        instance = instances.complete_task(work, services(), user, task_id, body["data"], body["revision"])
        return shown_instance(queries.instance_view(work, services(), user, instance.id))


# ---------------------------------------------------------------- Excel import into a list

BINARY = {"type": "string", "format": "binary"}
LIST_PATH = "Đường dẫn dữ liệu của danh sách lặp (dynamiclist) trong biểu mẫu, ví dụ ca_nhan."


class ExcelUploadSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "Tệp .xlsx đã điền theo mẫu."})


class ExcelRowsSchema(Schema):
    rows = fields.List(JsonObject(), required=True,
                       metadata={"description": "Các dòng như biểu mẫu lưu (giá trị lựa chọn, ngày ISO)."})


@blp.route("/tasks/<int:task_id>/excel/<path>.xlsx", methods=["GET"])
@authenticated
@blp.response(200, BINARY, content_type=XLSX_MIME, description="Tệp mẫu .xlsx trống của danh sách.")
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Tải mẫu Excel của danh sách",
         description="Hàng tiêu đề theo các trường của danh sách (dấu * là bắt buộc), ô chọn cho trường lựa "
                     "chọn và trang “Hướng dẫn”. " + LIST_PATH)
def excel_download(task_id: int, path: str, user: User) -> Any:
    with uow() as work:
        content, name = list_import.list_template(work, services(), user, task_id, path)
    return attachment(content, name)


@blp.route("/tasks/<int:task_id>/excel/<path>", methods=["POST"])
@authenticated
@blp.arguments(ExcelUploadSchema, location="files", error_status_code=400)
@blp.response(200, ExcelRowsSchema)
@documents_errors(blp, 400, 401, 403, 404, 409)
@blp.doc(summary="Nhập danh sách từ Excel",
         description="Kiểm tra tệp theo đúng quy tắc của biểu mẫu và trả các dòng để đưa vào dữ liệu khi hoàn "
                     "thành công việc; không thay đổi hồ sơ. Tệp có lỗi trả 400 invalid_data, details liệt kê "
                     "từng lỗi với row (số dòng Excel), column (chữ cột), label (tiêu đề cột). " + LIST_PATH)
def excel_upload(files: dict[str, Any], task_id: int, path: str, user: User) -> Any:
    content = files["file"].read(services().settings.max_excel_bytes + 1)
    with uow() as work:
        return {"rows": list_import.list_rows(work, services(), user, task_id, path, content)}
