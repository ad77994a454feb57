"""The chat channels' signed webhook (Zalo OA, Facebook fanpage, live chat): check the signature and the
time, refuse replays, take the message as a hotline ticket and hand back the acknowledgement for the
gateway to post to the citizen (docs/hotline.md, "Chat webhook").

- `verify` checks a call against the channel's shared secret: `X-Hotline-Signature: sha256=<hex>` where
  hex = HMAC-SHA256(secret, f"{timestamp}.".encode() + raw_body) and `X-Hotline-Timestamp` within
  `hotline_webhook_window_seconds` of the server's clock.
- `receive` records the signature (table `webhook_receipts`, unique: the same signed call twice is a
  replay), validates the JSON body and calls `hotline.intake` with `external_id = "<channel>:<event_id>"`,
  so a message re-signed and delivered again gives back its first ticket. The receipt commits with the
  ticket (a failure leaves neither: the gateway may retry). The acknowledgement is claimed with a
  conditional update, so concurrent deliveries of one message get one reply between them.
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from engine.domain.errors import Conflict, DomainError
from engine.domain.messages import Message
from engine.persistence.models import WebhookReceipt
from engine.persistence.uow import UnitOfWork
from engine.services import hotline
from engine.services.context import Services
from engine.settings import Settings

#: The channels that arrive through the webhook (the path's <channel>).
CHANNELS = (hotline.Channel.ZALO, hotline.Channel.FACEBOOK, hotline.Channel.CHAT)
CHANNEL_CODES = tuple(c.value for c in CHANNELS)
#: The largest body accepted (bytes); the web layer reads no more than this.
MAX_BODY = 64 * 1024
#: The event id must leave room for the "<channel>:" prefix in the ticket's 255-character external id.
MAX_EVENT_ID = 240
MAX_SENDER_ID = 255
TIMESTAMP_HEADER = "X-Hotline-Timestamp"
SIGNATURE_HEADER = "X-Hotline-Signature"
SIGNATURE_PREFIX = "sha256="
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX = re.compile(r"[0-9a-fA-F]{64}")


class Refusal(str, enum.Enum):
    """Why a call was refused; the web layer picks the HTTP status from it."""

    UNKNOWN_CHANNEL = "webhook_unknown_channel"
    CHANNEL_CLOSED = "webhook_channel_closed"
    UNSIGNED = "webhook_unsigned"
    BAD_SIGNATURE = "webhook_bad_signature"
    EXPIRED = "webhook_expired"
    REPLAYED = "webhook_replayed"
    TOO_LARGE = "webhook_too_large"
    BAD_BODY = "webhook_bad_body"


class WebhookRefused(DomainError):
    """A webhook call refused before anything was stored."""

    def __init__(self, reason: Refusal, message: Message, details: Any = None) -> None:
        super().__init__(message, details)
        self.reason = reason
        self.code = reason.value


@dataclass(frozen=True)
class ChatMessage:
    """The body of a call, checked for shape."""

    event_id: str
    sender_id: str
    sender_name: str
    sender_phone: str
    text: str
    sent_at: datetime | None


@dataclass(frozen=True)
class Delivery:
    """What the gateway gets back: the ticket's code, and the text to post to the citizen (None when the
    message was acknowledged already)."""

    ticket: str
    reply: str | None


def sign(secret: str, timestamp: int | str, raw_body: bytes) -> str:
    """The signature header's value for a body sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + raw_body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def signature_headers(settings: Settings, channel: str, raw_body: bytes, now: datetime) -> dict[str, str]:
    """The headers a gateway sends with `raw_body` at `now`, with this installation's secret (to test a
    gateway); refused for a channel without a webhook or a secret, or a body over the cap."""
    _open_channel(settings, channel)
    if len(raw_body) > MAX_BODY:
        raise too_large()
    timestamp = str(int(now.timestamp()))
    return {TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(settings.webhook_secret(channel), timestamp, raw_body)}


def _refused(reason: Refusal, vi: str, en: str) -> WebhookRefused:
    return WebhookRefused(reason, Message(vi, en))


def _open_channel(settings: Settings, channel: str) -> str:
    """The channel's secret; refused for a channel without a webhook or without a secret."""
    if channel not in CHANNEL_CODES:
        raise _refused(Refusal.UNKNOWN_CHANNEL,
                       f"Kênh “{channel[:40]}” không nhận tin qua webhook (chỉ {', '.join(CHANNEL_CODES)}).",
                       f"Channel “{channel[:40]}” has no webhook (only {', '.join(CHANNEL_CODES)}).")
    secret = settings.webhook_secret(channel)
    if not secret:
        raise _refused(Refusal.CHANNEL_CLOSED,
                       f"Kênh {channel} chưa được bật: chưa đặt khóa bí mật (HOTLINE_WEBHOOK_SECRETS).",
                       f"The {channel} channel is off: it has no secret (HOTLINE_WEBHOOK_SECRETS).")
    return secret


def verify(settings: Settings, channel: str, timestamp_header: str | None, signature_header: str | None,
           raw_body: bytes, now: datetime) -> str:
    """The call's signature (lower-case hex) when it is genuine and fresh; WebhookRefused otherwise."""
    secret = _open_channel(settings, channel)
    if len(raw_body) > MAX_BODY:
        raise too_large()
    timestamp = (timestamp_header or "").strip()
    signature = (signature_header or "").strip()
    given = signature.removeprefix(SIGNATURE_PREFIX)
    if not _TIMESTAMP.fullmatch(timestamp) or not signature.startswith(SIGNATURE_PREFIX) \
            or not _HEX.fullmatch(given):
        raise _refused(Refusal.UNSIGNED,
                       f"Thiếu hoặc sai định dạng tiêu đề {TIMESTAMP_HEADER} (giây Unix) hoặc {SIGNATURE_HEADER} "
                       f"({SIGNATURE_PREFIX}<64 ký tự hex>).",
                       f"Missing or malformed {TIMESTAMP_HEADER} (unix seconds) or {SIGNATURE_HEADER} "
                       f"({SIGNATURE_PREFIX}<64 hex digits>) header.")
    window = settings.hotline_webhook_window_seconds
    if abs(now.timestamp() - int(timestamp)) > window:
        raise _refused(Refusal.EXPIRED,
                       f"Thời điểm ký ({timestamp}) lệch quá {window} giây so với đồng hồ máy chủ: yêu cầu đã "
                       "hết hạn hoặc bị gửi lại. Ký lại với thời điểm hiện tại.",
                       f"The signing time ({timestamp}) is more than {window} seconds from the server's clock: "
                       "the call expired or was replayed. Sign it again with the current time.")
    expected = sign(secret, timestamp, raw_body).removeprefix(SIGNATURE_PREFIX)
    if not hmac.compare_digest(expected, given.lower()):
        raise _refused(Refusal.BAD_SIGNATURE,
                       "Chữ ký không đúng: kiểm tra khóa bí mật của kênh và cách tính chữ ký.",
                       "Wrong signature: check the channel's secret and how the signature is computed.")
    return expected


def too_large() -> WebhookRefused:
    return _refused(Refusal.TOO_LARGE, f"Nội dung gửi lên lớn quá {MAX_BODY // 1024} KiB.",
                    f"The body is larger than {MAX_BODY // 1024} KiB.")


def _bad_body(vi: str, en: str) -> WebhookRefused:
    return _refused(Refusal.BAD_BODY, vi, en)


def _string(data: dict[str, Any], key: str, label: str, *, required: bool, limit: int) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _bad_body(f"Trường “{label}” phải là chuỗi ký tự{' và là bắt buộc' if required else ''}.",
                        f"“{label}” must be a string{' and is required' if required else ''}.")
    if len(value) > limit:
        raise _bad_body(f"Trường “{label}” dài quá {limit} ký tự.", f"“{label}” is longer than {limit} characters.")
    return value


def parse(raw_body: bytes) -> ChatMessage:
    """The body as a ChatMessage; WebhookRefused (bad body) naming what is wrong."""
    try:
        data = json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _bad_body("Nội dung không phải JSON hợp lệ (UTF-8).", "The body is not valid JSON (UTF-8).") from None
    if not isinstance(data, dict):
        raise _bad_body("Nội dung phải là một đối tượng JSON.", "The body must be a JSON object.")
    event_id = _string(data, "event_id", "event_id", required=True, limit=MAX_EVENT_ID).strip()
    if not event_id:
        raise _bad_body("Trường “event_id” (mã tin nhắn của kênh) không được để trống.",
                        "“event_id” (the channel's message id) is required.")
    sender = data.get("sender")
    if not isinstance(sender, dict):
        raise _bad_body("Trường “sender” phải là một đối tượng JSON {id, name, phone}.",
                        "“sender” must be a JSON object {id, name, phone}.")
    sender_id = _string(sender, "id", "sender.id", required=True, limit=MAX_SENDER_ID).strip()
    if not sender_id:
        raise _bad_body("Trường “sender.id” không được để trống.", "“sender.id” is required.")
    name = _string(sender, "name", "sender.name", required=True, limit=hotline.MAX_NAME)
    phone = _string(sender, "phone", "sender.phone", required=False, limit=40)
    text = _string(data, "text", "text", required=True, limit=hotline.MAX_CONTENT)
    if not text.strip():
        raise _bad_body("Trường “text” (nội dung tin nhắn) không được để trống.",
                        "“text” (the message) is required.")
    sent_at_text = _string(data, "sent_at", "sent_at", required=False, limit=40)
    sent_at = None
    if sent_at_text:
        try:
            sent_at = datetime.fromisoformat(sent_at_text)
        except ValueError:
            raise _bad_body(f"Trường “sent_at” ({sent_at_text}) không phải thời điểm ISO 8601.",
                            f"“sent_at” ({sent_at_text}) is not an ISO 8601 time.") from None
    return ChatMessage(event_id, sender_id, name, phone, text, sent_at)


def _replayed() -> WebhookRefused:
    return _refused(Refusal.REPLAYED,
                    "Yêu cầu này (cùng chữ ký) đã được nhận: không xử lý lại. Muốn gửi lại tin nhắn, hãy ký lại "
                    "với thời điểm mới (cùng event_id sẽ trả về cùng mã phiếu).",
                    "This call (the same signature) was received already and is not processed again. To "
                    "deliver the message again, sign it anew (the same event_id gives back the same ticket).")


def _record(uow: UnitOfWork, channel: str, digest: str, now: datetime, window: int) -> WebhookReceipt:
    """Add the call's receipt to the transaction; a replay when the signature is known."""
    if uow.session.scalar(select(WebhookReceipt.id).where(WebhookReceipt.digest == digest)) is not None:
        raise _replayed()
    # A signature is acceptable until its timestamp is `window` past; kept twice as long, it can be dropped.
    uow.session.execute(delete(WebhookReceipt).where(WebhookReceipt.received_at < now - timedelta(seconds=2 * window)))
    receipt = WebhookReceipt(channel=channel, digest=digest, received_at=now)
    uow.add(receipt)
    try:
        uow.session.flush()
    except IntegrityError:
        # The same call arriving at the same time: the other one holds the receipt.
        uow.rollback()
        raise _replayed() from None
    return receipt


def receive(uow: UnitOfWork, services: Services, channel: str, timestamp_header: str | None,
            signature_header: str | None, raw_body: bytes) -> Delivery:
    """Take one signed chat message: its ticket (new, or the one the same event id made) and the reply."""
    now = services.now()
    settings = services.settings
    digest = verify(settings, channel, timestamp_header, signature_header, raw_body, now)
    message = parse(raw_body)
    receipt = _record(uow, channel, digest, now, settings.hotline_webhook_window_seconds)
    # intake commits the receipt with a new ticket; for a known event id it commits nothing.
    ticket = hotline.intake(uow, services, None, channel=channel, caller=message.sender_name,
                            phone=message.sender_phone or None, content=message.text,
                            external_id=f"{channel}:{message.event_id}")
    if receipt not in uow.session:
        # intake lost a race for the event id and rolled back, receipt included: record it again.
        uow.add(WebhookReceipt(channel=channel, digest=digest, received_at=now))
    reply = hotline.acknowledge(uow, services, ticket, via=channel)
    try:
        uow.commit()
    except Conflict:
        raise _replayed() from None
    return Delivery(ticket.code, reply)
