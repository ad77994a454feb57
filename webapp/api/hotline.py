"""Hotline 1022 operators' API: a phone ticket typed by an operator, and the caller's earlier tickets
(docs/hotline.md, *Operator console and ticket page*)."""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import get_locale
from marshmallow import Schema, fields

from engine.persistence.models import User
from engine.services import hotline_console as console
from webapp.api.auth import authenticated
from webapp.api.base import api_blueprint, documents_errors
from webapp.platform import services, uow

blp = api_blueprint("api_hotline", __name__,
                    "Tổng đài 1022: điện thoại viên tạo phiếu cuộc gọi và xem các phiếu trước của người gọi.")


class CallSchema(Schema):
    phone = fields.String(required=True, metadata={"description": "Số người gọi: 0XXXXXXXXX hoặc +84…"})
    caller = fields.String(load_default="", metadata={"description": "Họ tên người gọi."})
    field = fields.String(load_default="", metadata={"description": "Mã lĩnh vực (không bắt buộc)."})
    content = fields.String(required=True, metadata={"description": "Nội dung cuộc gọi, 1–5000 ký tự."})
    recorded_call = fields.Boolean(load_default=False, metadata={"description": "Cuộc gọi có ghi âm."})


class CreatedTicketSchema(Schema):
    code = fields.String(metadata={"description": "Mã phiếu 1022-YYYY-NNNNNN."})
    instance_id = fields.Integer(allow_none=True)
    classify_task_id = fields.Integer(allow_none=True,
                                      metadata={"description": "Công việc Phân loại phiếu của điện thoại viên."})
    url = fields.String(metadata={"description": "Trang phiếu."})


class EarlierTicketSchema(Schema):
    code = fields.String()
    created_at = fields.DateTime()
    state = fields.String()
    state_label = fields.String()
    field = fields.String()
    field_label = fields.String(allow_none=True)
    excerpt = fields.String(metadata={"description": "Những từ đầu của nội dung."})


@blp.route("/hotline/tickets", methods=["POST"])
@authenticated
@blp.arguments(CallSchema, error_status_code=400)
@blp.response(201, CreatedTicketSchema)
@documents_errors(blp, 400, 401, 403)
@blp.doc(summary="Tạo phiếu cuộc gọi",
         description="Điện thoại viên (tong_dai_vien): phiếu kênh Điện thoại 1022 và quy trình hotline_1022 của "
                     "nó. Số điện thoại, nội dung, lĩnh vực sai trả 400 invalid_data, không tạo gì.")
def create_ticket(body: dict[str, Any], user: User) -> Any:
    with uow() as work:
        ticket = console.take_call(work, services(), user, caller=body["caller"], phone=body["phone"],
                                   field=body["field"], content=body["content"], recorded=body["recorded_call"])
        return {"code": ticket.code, "instance_id": ticket.instance_id,
                "classify_task_id": console.first_task_id(work, ticket),
                "url": url_for("hotline.ticket", code=ticket.code)}, 201


@blp.route("/hotline/callers/<phone>/tickets", methods=["GET"])
@authenticated
@blp.response(200, EarlierTicketSchema(many=True))
@documents_errors(blp, 400, 401, 403)
@blp.doc(summary="Các phiếu trước của người gọi",
         description="Điện thoại viên: tối đa 20 phiếu của số này, mới nhất trước; số sai định dạng trả 400.")
def caller_tickets(phone: str, user: User) -> Any:
    locale = str(get_locale() or "vi")
    with uow() as work:
        return [{"code": t.code, "created_at": t.created_at, "state": t.state,
                 "state_label": t.state_label.text(locale), "field": t.field,
                 "field_label": t.field_label.text(locale) if t.field_label else None, "excerpt": t.excerpt}
                for t in console.caller_history(work, user, phone)]
