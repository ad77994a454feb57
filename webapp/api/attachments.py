"""Files in task forms (hồ sơ đính kèm): upload into a task's file field, list a dossier's files, download one."""
from __future__ import annotations

from typing import Any

from flask import request, url_for
from marshmallow import Schema, fields

from engine.persistence.models import User
from engine.services import attachments
from engine.services.attachments import AttachmentSummary
from webapp.api.auth import authenticated
from webapp.api.base import api_blueprint, documents_errors
from webapp.attachments import allow_upload_size, store_upload
from webapp.downloads import attachment as download
from webapp.platform import uow

blp = api_blueprint("api_attachments", __name__,
                    "Tệp đính kèm trong biểu mẫu (hồ sơ quét): tải lên cho công việc, danh sách và tải về.")

BINARY = {"type": "string", "format": "binary"}


@blp.before_request
def upload_size() -> None:
    # Before the arguments are parsed: the body of an upload may be as large as one allowed file.
    if request.endpoint == "api_attachments.upload":
        allow_upload_size()


class UploadSchema(Schema):
    file = fields.Raw(required=True, metadata={**BINARY, "description": "Tệp PDF, JPEG, PNG, DOCX hoặc XLSX."})
    field = fields.String(metadata={"description": "id của trường tệp (filepicker) trong biểu mẫu."})
    key = fields.String(metadata={"description": "key của trường tệp, khi biểu mẫu không đặt id."})


class FileValueSchema(Schema):
    """What the form data hold for one file: put it in the field's list when completing the task."""

    ref = fields.String(metadata={"description": "Mã tham chiếu ngẫu nhiên của tệp."})
    name = fields.String(metadata={"description": "Tên tệp."})
    size = fields.Integer(metadata={"description": "Dung lượng (byte)."})
    type = fields.String(metadata={"description": "Kiểu MIME theo nội dung tệp, ví dụ application/pdf."})


class AttachmentLinksSchema(Schema):
    content = fields.String(metadata={"description": "Tải tệp."})


class AttachmentSchema(Schema):
    """Dumped from {"file": AttachmentSummary, "links"}."""

    ref = fields.String(attribute="file.ref")
    name = fields.String(attribute="file.name")
    size = fields.Integer(attribute="file.size", metadata={"description": "Dung lượng (byte)."})
    type = fields.String(attribute="file.type", metadata={"description": "Kiểu MIME theo nội dung tệp."})
    element_id = fields.String(attribute="file.element_id", metadata={"description": "Bước đính kèm tệp."})
    step = fields.String(attribute="file.step", metadata={"description": "Tên bước đính kèm tệp."})
    uploaded_by = fields.String(attribute="file.uploaded_by", metadata={"description": "Người tải lên."})
    created_at = fields.DateTime(attribute="file.created_at", metadata={"description": "Thời điểm tải lên."})
    links = fields.Nested(AttachmentLinksSchema)


def shown(file: AttachmentSummary) -> dict[str, Any]:
    return {"file": file, "links": {"content": url_for("api_attachments.content", ref=file.ref)}}


@blp.route("/tasks/<int:task_id>/attachments", methods=["POST"])
@authenticated
@blp.arguments(UploadSchema, location="files", error_status_code=400)
@blp.response(201, FileValueSchema)
@documents_errors(blp, 400, 401, 403, 404, 409, 413)
@blp.doc(summary="Tải tệp lên cho trường tệp",
         description="Tệp multipart `file` cho trường tệp (filepicker) `field` (id) hoặc `key` của biểu mẫu "
                     "công việc. Máy chủ nhận dạng loại tệp theo nội dung (PDF, JPEG, PNG, DOCX, XLSX; phần "
                     "mở rộng phải khớp), kiểm tra dung lượng và thuộc tính accept của trường, rồi trả "
                     "{ref, name, size, type}: đưa đối tượng này vào danh sách của trường khi hoàn thành công "
                     "việc. Tệp không được dùng khi hoàn thành sẽ bị xóa. 400 invalid_data khi tệp bị từ chối.")
def upload(body: dict[str, Any], task_id: int, user: User) -> Any:
    return store_upload(user, task_id)


@blp.route("/process-instances/<int:instance_id>/attachments", methods=["GET"])
@authenticated
@blp.response(200, AttachmentSchema(many=True))
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Tệp đính kèm của hồ sơ",
         description="Các tệp đã nộp cùng biểu mẫu ở những bước đã hoàn thành, cũ nhất trước.")
def attachment_list(instance_id: int, user: User) -> Any:
    with uow() as work:
        return [shown(f) for f in attachments.files_of(work, user, instance_id)]


@blp.route("/attachments/<ref>/content", methods=["GET"])
@authenticated
@blp.response(200, BINARY, content_type="application/octet-stream",
              description="Tệp với đúng kiểu MIME của nó, Content-Disposition: attachment.")
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Tải tệp đính kèm",
         description="Ai xem được hồ sơ thì tải được tệp đã nộp; tệp chưa nộp chỉ người xử lý công việc đó tải được.")
def content(ref: str, user: User) -> Any:
    with uow() as work:
        found = attachments.file_for(work, user, ref)
        return download(found.content, found.file_name, found.content_type)
