"""Incidents (sự cố): the list and the retry, for system administrators (docs/operations.md)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from engine.domain.enums import IncidentStatus, InstanceStatus
from engine.persistence.models import User
from engine.services import incidents
from webapp.api.auth import authenticated
from webapp.api.base import api_blueprint, documents_errors
from webapp.platform import services, uow

blp = api_blueprint("api_incidents", __name__, "Sự cố: hồ sơ dừng vì lỗi gọi hệ thống hoặc lỗi kịch bản; thử lại "
                                               "(chỉ quản trị hệ thống).")


class IncidentSchema(Schema):
    """Dumped from engine.services.incidents.IncidentView."""

    id = fields.Integer()
    instance_id = fields.Integer()
    instance_title = fields.String()
    unit_name = fields.String(metadata={"description": "Đơn vị đề nghị (đơn vị của người tạo hồ sơ)."})
    instance_status = fields.Enum(InstanceStatus, by_value=True,
                                  metadata={"description": "Trạng thái hiện tại của hồ sơ (error khi còn sự cố)."})
    process_id = fields.String()
    procedure_name = fields.String()
    version = fields.Integer(metadata={"description": "Phiên bản quy trình của hồ sơ."})
    element_id = fields.String(allow_none=True, metadata={"description": "Mã bước (phần tử BPMN) bị lỗi."})
    step = fields.String(metadata={"description": "Tên bước trên sơ đồ."})
    kind = fields.String(metadata={"description": "service_call: lỗi gọi hệ thống; script: lỗi kịch bản, "
                                                  "biểu thức hoặc điều kiện rẽ nhánh."})
    topic = fields.String(allow_none=True, metadata={"description": "Chủ đề bộ kết nối (với service_call)."})
    message = fields.String(metadata={"description": "Nội dung lỗi (với lời từ chối của hệ thống: mã HTTP và "
                                                     "nội dung trả lời)."})
    status = fields.Enum(IncidentStatus, by_value=True, metadata={"description": "open hoặc resolved."})
    attempts = fields.Integer(allow_none=True,
                              metadata={"description": "Số lần đã gọi hệ thống; null với lỗi kịch bản."})
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True,
                                metadata={"description": "Người đã thử lại (hoặc đã hủy hồ sơ)."})


class IncidentQuerySchema(Schema):
    status = fields.Enum(IncidentStatus, by_value=True, load_default=IncidentStatus.OPEN,
                         metadata={"description": "open (mặc định): đang mở, mới nhất trước; resolved: đã xử "
                                                  "lý, xử lý gần nhất trước."})


@blp.route("/incidents", methods=["GET"])
@authenticated
@blp.arguments(IncidentQuerySchema, location="query", error_status_code=400)
@blp.response(200, IncidentSchema(many=True))
@documents_errors(blp, 400, 401, 403)
@blp.doc(summary="Danh sách sự cố", description=f"Tối đa {incidents.LIST_LIMIT} sự cố; chỉ quản trị hệ thống.")
def incident_list(query: dict[str, Any], user: User) -> Any:
    with uow() as work:
        return incidents.incidents(work, services(), user, query["status"])


@blp.route("/incidents/<int:incident_id>/retry", methods=["POST"])
@authenticated
@blp.response(200, IncidentSchema)
@documents_errors(blp, 401, 403, 404, 409)
@blp.doc(summary="Thử lại sự cố",
         description="Lỗi gọi hệ thống: lần gọi được trả lại cho tiến trình nền, gọi lại ngay với cùng khóa "
                     "chống lặp (không làm hai lần). Lỗi kịch bản: chạy lại bước lỗi ngay; nếu vẫn lỗi thì 409 "
                     "và không có gì thay đổi. 409 cả khi sự cố đã được xử lý hoặc hồ sơ không còn lỗi.")
def retry(incident_id: int, user: User) -> Any:
    with uow() as work:
        incident = incidents.retry(work, services(), user, incident_id)
        return incidents.get(work, services(), user, incident.id)
