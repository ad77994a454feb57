"""The chat channels' signed webhook: signature, time window, replays, the ticket and its acknowledgement."""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.domain.errors import InvalidData
from engine.persistence.models import HotlineEvent, HotlineTicket, ProcessInstance, User, WebhookReceipt
from engine.persistence.uow import UnitOfWork
from engine.services import hotline
from engine.services import hotline_webhook as webhook
from engine.services.context import Services
from engine.services.hotline_webhook import Refusal, WebhookRefused
from engine.settings import Settings
from tests.engine.conftest import START, Clock, Publish, add_people, bundled

Uow = Callable[[], UnitOfWork]
SECRETS = (("zalo", "khoa-bi-mat-zalo"), ("facebook", "khoa-bi-mat-facebook"))
MESSAGE: dict[str, Any] = {"event_id": "msg-1001", "sender": {"id": "u-77", "name": "Trần Thị Mai",
                                                              "phone": "+84 913 000 111"},
                           "text": "Xin hỏi thủ tục đăng ký khai sinh cho con?", "sent_at": "2026-11-26T08:59:00+07:00"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, hotline_webhook_secrets=SECRETS, hotline_webhook_window_seconds=300)


@pytest.fixture
def operators(uow: Uow, session_factory: sessionmaker[Session], people: dict[str, User], publish: Publish,
              services: Services) -> dict[str, User]:
    staff = add_people(uow, session_factory, {"tongdai": ("Đinh Thị Thoại", "ttpvhcc", ["tong_dai_vien"])},
                       {"ttpvhcc": "Trung tâm Phục vụ hành chính công"})
    bundled(publish, "hotline_1022")
    services.calendar()  # built here, not first inside the sandbox's time budget for the due date
    return staff


def body(**changes: Any) -> bytes:
    return json.dumps({**MESSAGE, **changes}, ensure_ascii=False).encode("utf-8")


def signed(clock: Clock, raw: bytes, channel: str = "zalo", at: int | None = None) -> tuple[str, str]:
    """The two headers a gateway sends: the timestamp (the clock's now) and its own HMAC of the body."""
    timestamp = str(int(clock.now.timestamp()) if at is None else at)
    secret = dict(SECRETS)[channel]
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return timestamp, f"sha256={digest}"


def deliver(uow: Uow, services: Services, channel: str, timestamp: str | None, signature: str | None,
            raw: bytes) -> webhook.Delivery:
    with uow() as u:
        return webhook.receive(u, services, channel, timestamp, signature, raw)


def refusal(uow: Uow, services: Services, channel: str, timestamp: str | None, signature: str | None,
            raw: bytes) -> WebhookRefused:
    with pytest.raises(WebhookRefused) as refused:
        deliver(uow, services, channel, timestamp, signature, raw)
    assert refused.value.message.vi and refused.value.message.en
    return refused.value


def counts(uow: Uow) -> tuple[int, int, int]:
    with uow() as u:
        return (u.session.query(HotlineTicket).count(), u.session.query(ProcessInstance).count(),
                u.session.query(WebhookReceipt).count())


# ---------------------------------------------------------------- accepted calls


def test_a_signed_message_becomes_a_ticket_with_its_acknowledgement(uow, services, clock, operators) -> None:  # type: ignore[no-untyped-def]
    raw = body()
    delivery = deliver(uow, services, "zalo", *signed(clock, raw), raw)
    assert delivery.ticket == "1022-2026-000001"
    assert delivery.reply == hotline.ACKNOWLEDGEMENT + " Mã phiếu của Quý khách: 1022-2026-000001."
    with uow() as u:
        ticket = u.session.scalar(select(HotlineTicket))
        assert ticket is not None
        assert (ticket.channel, ticket.caller_name, ticket.phone, ticket.external_id, ticket.operator_id) == (
            "zalo", "Trần Thị Mai", "0913000111", "zalo:msg-1001", None)
        assert ticket.content == MESSAGE["text"]
        assert ticket.acknowledged_at == clock.now and ticket.instance_id is not None
        (event,) = hotline.events(u, ticket)
        assert (event.kind, event.detail) == ("xac_nhan", {"via": "zalo", "text": delivery.reply})
        (receipt,) = u.session.scalars(select(WebhookReceipt))
        assert (receipt.channel, receipt.digest) == ("zalo", signed(clock, raw)[1].removeprefix("sha256="))


def test_the_same_event_signed_again_gives_the_same_ticket_and_no_second_reply(uow, services, clock, operators) -> None:  # type: ignore[no-untyped-def]
    raw = body()
    first = deliver(uow, services, "zalo", *signed(clock, raw), raw)
    clock.advance(seconds=30)
    # The gateway retries (it did not see the answer): a new timestamp, so a new signature.
    again = deliver(uow, services, "zalo", *signed(clock, raw), raw)
    assert (again.ticket, again.reply) == (first.ticket, None)
    assert counts(uow) == (1, 1, 2)
    with uow() as u:
        assert u.session.query(HotlineEvent).count() == 1
    # The same event id on another channel is another message.
    other = body(text="Tôi muốn góp ý về giờ làm việc")
    assert deliver(uow, services, "facebook", *signed(clock, other, "facebook"), other).ticket == "1022-2026-000002"


def test_a_message_without_phone_or_name_is_taken(uow, services, clock, operators) -> None:  # type: ignore[no-untyped-def]
    raw = body(event_id="m-2", sender={"id": "psid-9", "name": ""})
    delivery = deliver(uow, services, "facebook", *signed(clock, raw, "facebook"), raw)
    with uow() as u:
        ticket = hotline.by_external_id(u, "facebook:m-2")
        assert ticket is not None and (ticket.code, ticket.phone, ticket.caller_name) == (delivery.ticket, "", "")


def test_receipts_older_than_twice_the_window_are_purged(uow, services, clock, operators) -> None:  # type: ignore[no-untyped-def]
    first = body(event_id="a")
    deliver(uow, services, "zalo", *signed(clock, first), first)
    clock.advance(seconds=599)
    second = body(event_id="b")
    deliver(uow, services, "zalo", *signed(clock, second), second)
    assert counts(uow)[2] == 2
    clock.advance(seconds=2)
    third = body(event_id="c")
    deliver(uow, services, "zalo", *signed(clock, third), third)
    with uow() as u:
        assert len(list(u.session.scalars(select(WebhookReceipt)))) == 2


# ---------------------------------------------------------------- refused calls


def test_a_wrong_signature_is_refused_and_changes_nothing(uow, services, clock, operators) -> None:  # type: ignore[no-untyped-def]
    raw = body()
    timestamp, signature = signed(clock, raw)
    assert refusal(uow, services, "zalo", timestamp, signature, body(text="Nội dung đã bị sửa")).reason \
        == Refusal.BAD_SIGNATURE
    # Signed with another channel's secret.
    assert refusal(uow, services, "zalo", *signed(clock, raw, "facebook"), raw).reason == Refusal.BAD_SIGNATURE
    # The timestamp is part of what is signed.
    assert refusal(uow, services, "zalo", str(int(timestamp) + 1), signature, raw).reason == Refusal.BAD_SIGNATURE
    assert counts(uow) == (0, 0, 0)
    # Upper-case hex is the same signature.
    assert deliver(uow, services, "zalo", timestamp, "sha256=" + signature[7:].upper(), raw).reply


@pytest.mark.parametrize(("timestamp", "signature"), [
    (None, None), ("", "sha256=" + "0" * 64), ("1764122400", None), ("1764122400", "0" * 64),
    ("1764122400", "sha256=abc"), ("1764122400", "sha1=" + "0" * 40), ("-1764122400", "sha256=" + "0" * 64),
    ("1764122400.5", "sha256=" + "0" * 64), ("hôm nay", "sha256=" + "0" * 64),
])
def test_missing_or_malformed_headers_are_refused(timestamp: str | None, signature: str | None) -> None:
    with pytest.raises(WebhookRefused) as refused:
        webhook.verify(Settings(hotline_webhook_secrets=SECRETS), "zalo", timestamp, signature, body(), START)
    assert refused.value.reason == Refusal.UNSIGNED and "X-Hotline-Signature" in refused.value.message.vi


def test_unsigned_calls_change_nothing(uow, services, clock, operators) -> None:  # type: ignore[no-untyped-def]
    assert refusal(uow, services, "zalo", None, None, body()).reason == Refusal.UNSIGNED
    assert counts(uow) == (0, 0, 0)


@pytest.mark.parametrize("moved", [timedelta(seconds=301), timedelta(seconds=-301), timedelta(days=1)])
def test_a_call_signed_outside_the_window_is_refused(uow, services, clock, operators, moved) -> None:  # type: ignore[no-untyped-def]
    raw = body()
    headers = signed(clock, raw)
    clock.now += moved
    refused = refusal(uow, services, "zalo", *headers, raw)
    assert refused.reason == Refusal.EXPIRED and "300 giây" in refused.message.vi
    assert counts(uow) == (0, 0, 0)


def test_a_call_at_the_edge_of_the_window_is_accepted(uow, services, clock, operators) -> None:  # type: ignore[no-untyped-def]
    raw = body()
    headers = signed(clock, raw)
    clock.advance(seconds=300)
    assert deliver(uow, services, "zalo", *headers, raw).reply is not None


def test_the_same_call_replayed_is_refused(uow, services, clock, operators) -> None:  # type: ignore[no-untyped-def]
    raw = body()
    headers = signed(clock, raw)
    first = deliver(uow, services, "zalo", *headers, raw)
    clock.advance(seconds=10)
    refused = refusal(uow, services, "zalo", *headers, raw)
    assert refused.reason == Refusal.REPLAYED and "đã được nhận" in refused.message.vi
    assert counts(uow) == (1, 1, 1)
    with uow() as u:
        ticket = hotline.by_external_id(u, "zalo:msg-1001")
        assert ticket is not None and ticket.code == first.ticket


@pytest.mark.parametrize(("channel", "reason"), [
    ("chat", Refusal.CHANNEL_CLOSED), ("email", Refusal.UNKNOWN_CHANNEL), ("viber", Refusal.UNKNOWN_CHANNEL),
])
def test_a_channel_without_a_secret_or_unknown_is_refused(uow, services, clock, operators, channel, reason) -> None:  # type: ignore[no-untyped-def]
    raw = body()
    timestamp = str(int(clock.now.timestamp()))
    # Signed with an empty secret, as a gateway with no configuration would.
    empty = "sha256=" + hmac.new(b"", f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    assert refusal(uow, services, channel, timestamp, empty, raw).reason == reason
    assert counts(uow) == (0, 0, 0)


@pytest.mark.parametrize(("raw", "says"), [
    (b"{not json", "không phải JSON hợp lệ"),
    (b"\xff\xfe{}", "không phải JSON hợp lệ"),
    (b"[1, 2]", "phải là một đối tượng JSON"),
    (body(event_id=None), "“event_id” phải là chuỗi ký tự"),
    (body(event_id=42), "“event_id” phải là chuỗi ký tự"),
    (body(event_id="  "), "“event_id” (mã tin nhắn của kênh) không được để trống"),
    (body(event_id="x" * 241), "“event_id” dài quá 240 ký tự"),
    (body(sender="Mai"), "“sender” phải là một đối tượng JSON"),
    (body(sender={"name": "Mai"}), "“sender.id” phải là chuỗi ký tự"),
    (body(sender={"id": " ", "name": "Mai"}), "“sender.id” không được để trống"),
    (body(sender={"id": "u", "name": None}), "“sender.name” phải là chuỗi ký tự"),
    (body(sender={"id": "u", "name": "Mai", "phone": 913000111}), "“sender.phone” phải là chuỗi ký tự"),
    (body(text=None), "“text” phải là chuỗi ký tự"),
    (body(text=" \n "), "“text” (nội dung tin nhắn) không được để trống"),
    (body(text="x" * 5001), "“text” dài quá 5000 ký tự"),
    (body(sent_at="hôm qua"), "“sent_at” (hôm qua) không phải thời điểm ISO 8601"),
])
def test_a_malformed_body_is_named(raw: bytes, says: str) -> None:
    with pytest.raises(WebhookRefused) as refused:
        webhook.parse(raw)
    assert refused.value.reason == Refusal.BAD_BODY and says in refused.value.message.vi


def test_extra_keys_are_ignored_and_optional_ones_may_be_null() -> None:
    message = webhook.parse(body(sender={"id": "u-1", "name": "Mai", "phone": None, "avatar": "x"}, sent_at=None,
                                 attachments=[]))
    assert (message.event_id, message.sender_id, message.sender_phone, message.sent_at) == ("msg-1001", "u-1", "",
                                                                                            None)


@pytest.mark.parametrize(("raw", "says"), [
    (body(text=" "), "“text” (nội dung tin nhắn) không được để trống"),
    (body(sender={"id": "u", "name": "Mai", "phone": "12345"}), "Số điện thoại “12345” không hợp lệ"),
])
def test_a_bad_body_is_refused_and_changes_nothing(uow, services, clock, operators, raw, says) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((WebhookRefused, InvalidData)) as refused:
        deliver(uow, services, "zalo", *signed(clock, raw), raw)
    assert says in refused.value.message.vi
    assert counts(uow) == (0, 0, 0)
    # Nothing was recorded, no number taken: the corrected message gets the first code.
    good = body()
    assert deliver(uow, services, "zalo", *signed(clock, good), good).ticket == "1022-2026-000001"


def test_a_body_over_the_cap_is_refused(uow, services, clock, operators) -> None:  # type: ignore[no-untyped-def]
    raw = body(text="x" * 10, padding="y" * webhook.MAX_BODY)
    assert refusal(uow, services, "zalo", *signed(clock, raw), raw).reason == Refusal.TOO_LARGE
    assert counts(uow) == (0, 0, 0)


def test_without_an_operator_on_duty_nothing_is_kept_and_the_gateway_may_retry(uow, services, clock, people,  # type: ignore[no-untyped-def]
                                                                              publish) -> None:
    bundled(publish, "hotline_1022")
    raw = body()
    headers = signed(clock, raw)
    with pytest.raises(InvalidData):
        deliver(uow, services, "zalo", *headers, raw)
    assert counts(uow) == (0, 0, 0)


# ---------------------------------------------------------------- concurrency


def race(count: int, call: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def one(n: int) -> None:
        try:
            start.wait()
            results.append(call(n))
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_concurrent_deliveries_of_one_event_make_one_ticket_and_one_reply(uow, services, clock, operators) -> None:  # type: ignore[no-untyped-def]
    raw = body()
    # Four deliveries of one message, each signed at its own second.
    headers = [signed(clock, raw, at=int(clock.now.timestamp()) - n) for n in range(4)]
    results, errors = race(4, lambda n: deliver(uow, services, "zalo", *headers[n], raw))
    assert not errors
    assert {r.ticket for r in results} == {"1022-2026-000001"}
    assert sum(r.reply is not None for r in results) == 1
    assert counts(uow) == (1, 1, 4)
    with uow() as u:
        assert u.session.query(HotlineEvent).count() == 1


def test_the_same_call_arriving_twice_at_once_is_taken_once(uow, services, clock, operators) -> None:  # type: ignore[no-untyped-def]
    raw = body()
    headers = signed(clock, raw)
    results, errors = race(3, lambda _n: deliver(uow, services, "zalo", *headers, raw))
    assert [r.ticket for r in results] == ["1022-2026-000001"]
    assert [e.reason for e in errors if isinstance(e, WebhookRefused)] == [Refusal.REPLAYED] * 2
    assert counts(uow) == (1, 1, 1)
