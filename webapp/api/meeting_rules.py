"""The Huế meeting rules (279/QĐ-UBND): my unit's invitations and answers, a meeting's invitations, postponement,
cancellation and documents (docs/meeting_rules.md)."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import request, url_for
from marshmallow import Schema, fields, validate

from engine.persistence.models import Meeting, MeetingInvitation, User
from engine.services import invitations, meeting_documents, meeting_rules
from engine.services.invitations import Delivery
from webapp.api.auth import authenticated
from webapp.api.base import api_blueprint, documents_errors
from webapp.attachments import allow_upload_size
from webapp.downloads import attachment as download
from webapp.meeting_rules import store_document
from webapp.platform import services, uow

blp = api_blueprint("api_meeting_rules", __name__,
                    "Quy chế họp (Quyết định 279/QĐ-UBND): lời mời và xác nhận tham dự, hoãn, hủy, tài liệu họp.")

BINARY = {"type": "string", "format": "binary"}
TEXT = {"validate": validate.Length(max=1000), "load_default": None, "allow_none": True}


@blp.before_request
def upload_size() -> None:
    # Before the arguments are parsed: the body of an upload may be as large as one allowed file.
    if request.endpoint == "api_meeting_rules.upload":
        allow_upload_size()


class MeetingBriefSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    starts_at = fields.DateTime(allow_none=True, metadata={"description": "Giờ bắt đầu (giờ Việt Nam)."})
    ends_at = fields.DateTime(allow_none=True)
    room = fields.String(metadata={"description": "Phòng họp (điểm cầu chính)."})
    host_unit = fields.String()
    state = fields.String(metadata={"description": "dang_ky, da_xac_nhan, tu_choi, dang_hop, da_hop, hoan, huy."})


class InvitationAnswerSchema(Schema):
    """An invitation's answer."""

    unit = fields.String(metadata={"description": "Mã đơn vị được mời."})
    unit_name = fields.String()
    status = fields.String(metadata={"description": "cho_xac_nhan, tham_du hoặc tu_choi."})
    chair_name = fields.String(metadata={"description": "Họ tên người chủ trì tại điểm cầu (khi tham dự)."})
    chair_title = fields.String(metadata={"description": "Chức vụ người chủ trì tại điểm cầu (khi tham dự)."})
    reason = fields.String(metadata={"description": "Lý do không tham dự."})
    responded_at = fields.DateTime(allow_none=True)
    responded_by = fields.String(allow_none=True, metadata={"description": "Người đã trả lời."})


class MyInvitationSchema(InvitationAnswerSchema):
    meeting = fields.Nested(MeetingBriefSchema)
    awaiting = fields.Boolean(metadata={"description": "Đang chờ đơn vị trả lời."})
    answerable = fields.Boolean(metadata={"description": "Còn trả lời hoặc đổi trả lời được (trước giờ họp)."})


class InvitationAnswerRequestSchema(Schema):
    answer = fields.String(required=True, validate=validate.OneOf(("tham_du", "tu_choi")),
                           metadata={"description": "tham_du: tham dự; tu_choi: không tham dự."})
    chair_name = fields.String(validate=validate.Length(max=255), load_default=None, allow_none=True,
                               metadata={"description": "Bắt buộc khi tham dự."})
    chair_title = fields.String(validate=validate.Length(max=255), load_default=None, allow_none=True,
                                metadata={"description": "Bắt buộc khi tham dự."})
    reason = fields.String(metadata={"description": "Bắt buộc khi không tham dự."}, **TEXT)


class MeetingPostponeRequestSchema(Schema):
    ngay_hop = fields.String(required=True, metadata={"description": "Ngày họp mới, YYYY-MM-DD."})
    gio_bat_dau = fields.String(required=True, metadata={"description": "Giờ bắt đầu mới, HH:MM."})
    gio_ket_thuc = fields.String(load_default=None, allow_none=True,
                                 metadata={"description": "Giờ kết thúc mới, HH:MM; không có thì hết buổi họp."})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000),
                           metadata={"description": "Lý do hoãn."})


class MeetingCancelRequestSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000),
                           metadata={"description": "Lý do hủy."})


class MeetingChangeSchema(Schema):
    meeting = fields.Nested(MeetingBriefSchema)
    notified = fields.Integer(metadata={"description": "Số thông báo đã gửi tới người của các đơn vị được mời."})
    not_delivered = fields.List(fields.String(), metadata={"description": "Người nhận mà kênh thông báo từ chối."})


class MeetingDocumentSchema(Schema):
    ref = fields.String()
    name = fields.String()
    size = fields.Integer(metadata={"description": "Dung lượng (byte)."})
    type = fields.String(metadata={"description": "Kiểu MIME theo nội dung tệp."})
    uploaded_by = fields.String()
    created_at = fields.DateTime()
    late = fields.Boolean(metadata={"description": "Gửi sau hạn."})
    content = fields.String(metadata={"description": "Đường dẫn tải tệp."})


class MeetingDocumentsSchema(Schema):
    due_at = fields.DateTime(allow_none=True, metadata={
        "description": "Hạn gửi: hết giờ làm việc của ngày làm việc liền trước ngày họp; null với họp đột xuất."})
    state = fields.String(metadata={"description": "khong_ap_dung, chua_den_han, dung_han, gui_muon, qua_han."})
    late = fields.Boolean(metadata={"description": "“Tài liệu chậm”: gửi muộn hoặc quá hạn mà chưa gửi."})
    files = fields.List(fields.Nested(MeetingDocumentSchema))


class MeetingDocumentUploadSchema(Schema):
    file = fields.Raw(required=True, metadata={**BINARY, "description": "Tệp PDF, JPEG, PNG, DOCX hoặc XLSX."})


class MeetingDocumentUploadedSchema(Schema):
    document = fields.Nested(MeetingDocumentSchema)
    notified = fields.Integer()
    not_delivered = fields.List(fields.String())


def _zone() -> ZoneInfo:
    return ZoneInfo(services().settings.timezone)


def _brief(meeting: Meeting) -> dict[str, Any]:
    zone = _zone()
    return {"id": meeting.id, "title": meeting.title, "room": meeting.room, "host_unit": meeting.host_unit,
            "state": meeting.state, "starts_at": meeting.starts_at.astimezone(zone) if meeting.starts_at else None,
            "ends_at": meeting.ends_at.astimezone(zone) if meeting.ends_at else None}


def _answer(invitation: MeetingInvitation, unit: str, unit_name: str, responder: str | None) -> dict[str, Any]:
    return {"unit": unit, "unit_name": unit_name, "status": invitation.status, "chair_name": invitation.chair_name,
            "chair_title": invitation.chair_title, "reason": invitation.reason,
            "responded_at": invitation.responded_at.astimezone(_zone()) if invitation.responded_at else None,
            "responded_by": responder}


def _outcome(meeting: Meeting, delivery: Delivery) -> dict[str, Any]:
    return {"meeting": _brief(meeting), "notified": delivery.sent, "not_delivered": delivery.failed}


def _document(meeting_id: int, d: meeting_documents.MeetingDocument) -> dict[str, Any]:
    return {"ref": d.ref, "name": d.name, "size": d.size, "type": d.type, "uploaded_by": d.uploaded_by,
            "created_at": d.created_at.astimezone(_zone()), "late": d.late,
            "content": url_for("api_meeting_rules.content", meeting_id=meeting_id, ref=d.ref)}


@blp.route("/invitations", methods=["GET"])
@authenticated
@blp.response(200, MyInvitationSchema(many=True))
@documents_errors(blp, 401)
@blp.doc(summary="Lời mời họp của đơn vị tôi",
         description="Các lời mời đang chờ trả lời trước (cuộc họp gần nhất trước), sau đó các lời mời khác.")
def mine(user: User) -> Any:
    with uow() as work:
        return [{**_answer(i.invitation, user.unit.code, user.unit.name, None), "meeting": _brief(i.meeting),
                 "awaiting": i.awaiting, "answerable": i.answerable} for i in invitations.mine(work, services(), user)]


@blp.route("/meetings/<int:meeting_id>/invitations", methods=["GET"])
@authenticated
@blp.response(200, InvitationAnswerSchema(many=True))
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Thành phần mời của cuộc họp và trả lời của từng đơn vị",
         description="Cho bên chủ trì, các đơn vị được mời và người xem được hồ sơ của cuộc họp.")
def meeting_invitations(meeting_id: int, user: User) -> Any:
    with uow() as work:
        meeting = invitations.visible_meeting(work, user, meeting_id)
        return [_answer(row.invitation, row.unit.code, row.unit.name, row.responder or None)
                for row in invitations.of_meeting(work.session, meeting.id)]


@blp.route("/meetings/<int:meeting_id>/answer", methods=["POST"])
@authenticated
@blp.arguments(InvitationAnswerRequestSchema, error_status_code=400)
@blp.response(200, InvitationAnswerSchema)
@documents_errors(blp, 400, 401, 403, 404, 409)
@blp.doc(summary="Trả lời giấy mời họp",
         description="Đơn vị của người gọi xác nhận tham dự (họ tên, chức vụ người chủ trì tại điểm cầu) hoặc "
                     "không tham dự (lý do). Được đổi trả lời đến giờ họp (sau đó 409). Đơn vị không được mời: 403.")
def answer(body: dict[str, Any], meeting_id: int, user: User) -> Any:
    with uow() as work:
        found = invitations.answer(work, services(), user, meeting_id, body["answer"], chair_name=body["chair_name"],
                                   chair_title=body["chair_title"], reason=body["reason"])
        return _answer(found, user.unit.code, user.unit.name, user.full_name)


@blp.route("/meetings/<int:meeting_id>/postpone", methods=["POST"])
@authenticated
@blp.arguments(MeetingPostponeRequestSchema, error_status_code=400)
@blp.response(200, MeetingChangeSchema)
@documents_errors(blp, 400, 401, 403, 404, 409)
@blp.doc(summary="Hoãn cuộc họp",
         description="Bên chủ trì (đơn vị đăng ký cuộc họp, lãnh đạo TTCĐS, lãnh đạo Văn phòng UBND tỉnh, quản trị) "
                     "chuyển cuộc họp sang thời gian mới; các hẹn giờ của quy trình tính theo giờ họp được tính lại; "
                     "mọi người của các đơn vị được mời được thông báo ngay. 409 khi cuộc họp đã bắt đầu, kết thúc "
                     "hoặc bị hủy.")
def postpone(body: dict[str, Any], meeting_id: int, user: User) -> Any:
    with uow() as work:
        outcome = meeting_rules.postpone(work, services(), meeting_documents.notifier_for(services()), user,
                                         meeting_id, day=body["ngay_hop"], start=body["gio_bat_dau"],
                                         end=body["gio_ket_thuc"], reason=body["reason"])
        return _outcome(outcome.meeting, outcome.delivery)


@blp.route("/meetings/<int:meeting_id>/cancel", methods=["POST"])
@authenticated
@blp.arguments(MeetingCancelRequestSchema, error_status_code=400)
@blp.response(200, MeetingChangeSchema)
@documents_errors(blp, 400, 401, 403, 404, 409)
@blp.doc(summary="Hủy cuộc họp",
         description="Bên chủ trì hủy cuộc họp và hồ sơ của nó; mọi người của các đơn vị được mời được thông báo "
                     "ngay. 409 khi cuộc họp đã bắt đầu, kết thúc hoặc đã bị hủy.")
def cancel(body: dict[str, Any], meeting_id: int, user: User) -> Any:
    with uow() as work:
        outcome = meeting_rules.cancel(work, services(), meeting_documents.notifier_for(services()), user,
                                       meeting_id, reason=body["reason"])
        return _outcome(outcome.meeting, outcome.delivery)


@blp.route("/meetings/<int:meeting_id>/documents", methods=["GET"])
@authenticated
@blp.response(200, MeetingDocumentsSchema)
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Tài liệu họp", description="Hạn gửi, tình trạng so với hạn và các tệp, cũ nhất trước.")
def documents(meeting_id: int, user: User) -> Any:
    with uow() as work:
        view = meeting_documents.documents_of(work, services(), user, meeting_id)
        return {"due_at": view.due_at.astimezone(_zone()) if view.due_at else None, "state": view.state.value,
                "late": view.state.late, "files": [_document(meeting_id, d) for d in view.files]}


@blp.route("/meetings/<int:meeting_id>/documents", methods=["POST"])
@authenticated
@blp.arguments(MeetingDocumentUploadSchema, location="files", error_status_code=400)
@blp.response(201, MeetingDocumentUploadedSchema)
@documents_errors(blp, 400, 401, 403, 404, 409, 413)
@blp.doc(summary="Gửi tài liệu họp",
         description="Bên chủ trì gửi một tệp (multipart `file`) tới các điểm cầu; mọi người của các đơn vị được "
                     "mời được thông báo. Kiểm tra loại tệp theo nội dung và dung lượng như tệp đính kèm biểu mẫu.")
def upload(body: dict[str, Any], meeting_id: int, user: User) -> Any:
    document, delivery = store_document(user, meeting_id)
    return {"document": _document(meeting_id, document), "notified": delivery.sent, "not_delivered": delivery.failed}


@blp.route("/meetings/<int:meeting_id>/documents/<ref>/content", methods=["GET"])
@authenticated
@blp.response(200, BINARY, content_type="application/octet-stream",
              description="Tệp với đúng kiểu MIME của nó, Content-Disposition: attachment.")
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Tải tài liệu họp", description="Cho bên chủ trì, các đơn vị được mời và người xem được hồ sơ.")
def content(meeting_id: int, ref: str, user: User) -> Any:
    with uow() as work:
        found = meeting_documents.document_for(work, user, meeting_id, ref)
        return download(found.content, found.file_name, found.content_type)
