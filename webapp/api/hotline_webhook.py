"""The chat channels' signed webhook (Zalo OA, Facebook fanpage, live chat) for the hotline 1022.

Authenticated by the HMAC signature alone: no bearer token, no session, no CSRF token (docs/hotline.md,
"Chat webhook"). The handler reads the raw body (the signature covers its exact bytes) and maps the
engine's refusals to HTTP statuses.
"""
from __future__ import annotations

from typing import Any

from flask import Response, make_response, request
from marshmallow import INCLUDE, Schema, fields
from werkzeug.exceptions import RequestEntityTooLarge

from engine.services import hotline_webhook as webhook
from engine.services.hotline_webhook import Refusal, WebhookRefused
from webapp.api.base import api_blueprint, documents_errors
from webapp.errors import error_response
from webapp.platform import services, uow

blp = api_blueprint("api_hotline_webhook", __name__,
                    "Webhook có chữ ký của các kênh trò chuyện (Zalo OA, Facebook, trò chuyện trực tuyến) gửi "
                    "tin nhắn của người dân vào Tổng đài 1022.")

STATUS = {
    Refusal.UNKNOWN_CHANNEL: 404, Refusal.CHANNEL_CLOSED: 404, Refusal.UNSIGNED: 401,
    Refusal.BAD_SIGNATURE: 401, Refusal.EXPIRED: 409, Refusal.REPLAYED: 409, Refusal.TOO_LARGE: 413,
    Refusal.BAD_BODY: 400,
}
#: A 401 names the scheme the caller must use (RFC 9110 requires a challenge), not the API's bearer token.
CHALLENGE = 'HMAC-SHA256 realm="hotline-webhook", headers="X-Hotline-Timestamp X-Hotline-Signature"'


class ChatSenderSchema(Schema):
    class Meta:
        unknown = INCLUDE  # a gateway may send more; only these are read

    id = fields.String(required=True, metadata={"description": "Mã người gửi trên kênh (Zalo user id, PSID…)."})
    name = fields.String(required=True, metadata={"description": "Tên hiển thị (có thể rỗng)."})
    phone = fields.String(allow_none=True, metadata={"description": "Số điện thoại nếu kênh cho biết."})


class ChatMessageSchema(Schema):
    class Meta:
        unknown = INCLUDE

    event_id = fields.String(required=True, metadata={
        "description": f"Mã tin nhắn của kênh, tối đa {webhook.MAX_EVENT_ID} ký tự; cùng mã → cùng phiếu."})
    sender = fields.Nested(ChatSenderSchema, required=True)
    text = fields.String(required=True, metadata={"description": "Nội dung tin nhắn, 1–5000 ký tự."})
    sent_at = fields.DateTime(allow_none=True, metadata={"description": "Thời điểm gửi (ISO 8601), tùy chọn."})


class ChatDeliverySchema(Schema):
    ticket = fields.String(metadata={"description": "Mã phiếu 1022-YYYY-NNNNNN."})
    reply = fields.String(allow_none=True, metadata={
        "description": "Tin nhắn xác nhận để cổng gửi lại cho người dân; null khi tin này đã được xác nhận."})


@blp.errorhandler(WebhookRefused)
def refused(error: WebhookRefused) -> Any:
    body, status = error_response(error.code, error.message, STATUS[error.reason])
    response: Response = make_response(body, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = CHALLENGE
    return response


def _raw_body() -> bytes:
    """The body, never more than the webhook's cap (a longer one, declared or streamed, is 413)."""
    request.max_content_length = webhook.MAX_BODY
    try:
        return request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise webhook.too_large() from None


@blp.route("/hotline/webhook/<channel>", methods=["POST"])
@blp.response(200, ChatDeliverySchema)
@documents_errors(blp, 400, 401, 404, 409, 413)
@blp.doc(
    security=[], summary="Nhận tin nhắn từ kênh trò chuyện",
    description="`channel` là zalo, facebook hoặc chat. Xác thực bằng chữ ký: `X-Hotline-Signature: "
                "sha256=<hex>` với hex = HMAC-SHA256(khóa bí mật của kênh, \"<X-Hotline-Timestamp>.\" + nội dung "
                "gốc). Thời điểm ký lệch quá HOTLINE_WEBHOOK_WINDOW_SECONDS hoặc cùng chữ ký gửi lại → 409. "
                "Cùng event_id (ký lại) trả về cùng mã phiếu, reply = null.",
    parameters=[
        {"in": "header", "name": webhook.TIMESTAMP_HEADER, "required": True, "schema": {"type": "string"},
         "description": "Thời điểm ký, giây Unix."},
        {"in": "header", "name": webhook.SIGNATURE_HEADER, "required": True, "schema": {"type": "string"},
         "description": "sha256=<64 ký tự hex>."},
    ],
    requestBody={"required": True, "content": {"application/json": {"schema": ChatMessageSchema}}},
)
def receive(channel: str) -> Any:
    raw = _raw_body()
    with uow() as work:
        delivery = webhook.receive(work, services(), channel, request.headers.get(webhook.TIMESTAMP_HEADER),
                                   request.headers.get(webhook.SIGNATURE_HEADER), raw)
    return {"ticket": delivery.ticket, "reply": delivery.reply}
