"""The hotline's e-mail channel against a real IMAP server (Dovecot) and a real SMTP server (aiosmtpd):
unread mail becomes tickets, acknowledged to the sender, marked read only once handled."""
from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from dataclasses import replace
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.adapters.base import AdapterError
from engine.adapters.imap_mailbox import Fetched, ImapMailbox
from engine.adapters.registry import build_registry
from engine.domain.errors import InvalidData
from engine.persistence.models import HotlineEvent, HotlineTicket, Notification, User
from engine.persistence.uow import UnitOfWork
from engine.services import hotline, hotline_mail
from engine.services.calendar import override_loader
from engine.services.context import Services
from engine.settings import Settings
from scripts import worker as worker_process
from tests.engine.conftest import Clock, Publish, add_people, bundled
from tests.imap_server import ImapServer, Mailbox
from tests.smtp_server import SmtpServer, free_port

Uow = Callable[[], UnitOfWork]
CENTRE = "tongdai1022@dongthap.gov.vn"
SEEN, FLAGGED = "\\Seen", "\\Flagged"


@pytest.fixture
def operators(uow: Uow, session_factory: sessionmaker[Session], people: dict[str, User]) -> dict[str, User]:
    return add_people(uow, session_factory, {"tongdai": ("Đinh Thị Thoại", "ttpvhcc", ["tong_dai_vien"])},
                      {"ttpvhcc": "Trung tâm Phục vụ hành chính công"})


@pytest.fixture
def procedure(publish: Publish, operators: dict[str, User]) -> None:
    bundled(publish, "hotline_1022")


@pytest.fixture
def mailbox(imap_server: ImapServer) -> Mailbox:
    return imap_server.new_mailbox()


def mail_settings(settings: Settings, imap: ImapServer, box: Mailbox, smtp: SmtpServer, **changes: Any) -> Settings:
    chosen = {"hotline_imap_host": imap.host, "hotline_imap_port": imap.port, "hotline_imap_user": box.user,
              "hotline_imap_password": box.password, "hotline_imap_tls": False, "notifications": "smtp",
              "smtp_host": smtp.host, "smtp_port": smtp.port, "smtp_from": CENTRE}
    return replace(settings, **{**chosen, **changes})


@pytest.fixture
def mailing(settings: Settings, imap_server: ImapServer, mailbox: Mailbox, smtp_server: SmtpServer,
            session_factory: sessionmaker[Session], clock: Clock) -> Services:
    """Services reading `mailbox` and sending the acknowledgements through the SMTP test server."""
    chosen = mail_settings(settings, imap_server, mailbox, smtp_server)
    return Services(chosen, build_registry(chosen, session_factory, clock), clock=clock,
                    calendar_overrides=override_loader(session_factory))


def mail(subject: str = "Hỏi thủ tục cấp lại giấy khai sinh", body: str = "Xin hỏi cần giấy tờ gì ạ?", *,
         sender: str = "Nguyễn Văn An <an.nguyen@example.vn>", message_id: str | None = None,
         html: str | None = None, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "hotline@test.dongthap.gov.vn"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="example.vn")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    if html is None:
        msg.set_content(body, charset="utf-8")
    else:
        msg.set_content(html, subtype="html", charset="utf-8")
    return msg.as_bytes()


def poll(uow: Uow, services: Services, **reader: Any) -> hotline_mail.PollSummary:
    return hotline_mail.poll(uow, services, ImapMailbox(services.settings, **reader))


def tickets(uow: Uow) -> list[HotlineTicket]:
    with uow() as u:
        rows = list(u.session.scalars(select(HotlineTicket).order_by(HotlineTicket.id)))
        u.session.expunge_all()
        return rows


# ---------------------------------------------------------------- intake


def test_a_mail_becomes_a_ticket_acknowledged_to_the_sender_then_marked_read(  # type: ignore[no-untyped-def]
        uow, mailing, procedure, imap_server, mailbox, smtp_server) -> None:
    imap_server.deliver(mailbox, mail(message_id="<dan-1@example.vn>"))
    assert imap_server.flags(mailbox) == {1: set()}
    summary = poll(uow, mailing)
    (ticket,) = tickets(uow)
    assert summary.tickets == [ticket.code] and summary.acknowledged == 1
    assert (ticket.channel, ticket.email, ticket.caller_name, ticket.external_id, ticket.operator_id) == (
        "email", "an.nguyen@example.vn", "Nguyễn Văn An", "<dan-1@example.vn>", None)
    assert ticket.content == "Hỏi thủ tục cấp lại giấy khai sinh\n\nXin hỏi cần giấy tờ gì ạ?"
    assert ticket.acknowledged_at is not None and ticket.instance_id is not None
    (ack,) = smtp_server.messages
    assert ack["To"] == "an.nguyen@example.vn" and ack["From"] == CENTRE
    assert ticket.code in ack["Subject"] and ack["Auto-Submitted"] == "auto-generated"
    assert hotline.acknowledgement_text(ticket) in ack.get_content()
    with uow() as u:
        (event,) = u.session.scalars(select(HotlineEvent).where(HotlineEvent.ticket_id == ticket.id))
        assert event.kind == "xac_nhan"
        assert event.detail == {"via": "email", "text": hotline.acknowledgement_text(ticket)}
    assert imap_server.flags(mailbox) == {1: {SEEN}}
    assert poll(uow, mailing) == hotline_mail.PollSummary()  # nothing unread is left


def test_vietnamese_encoded_subject_and_sender_and_utf8_body(  # type: ignore[no-untyped-def]
        uow, mailing, procedure, imap_server, mailbox) -> None:
    raw = mail("Phản ánh: đường Nguyễn Huệ ngập nước", "Đoạn trước chợ Cao Lãnh ngập sâu 30 cm.\nĐề nghị xử lý.",
               sender="Trần Thị Bích <BICH.TRAN@Example.VN>")
    assert b"=?utf-8?" in raw and "Phản".encode() not in raw  # RFC 2047 headers, encoded body: as clients send
    imap_server.deliver(mailbox, raw)
    poll(uow, mailing)
    (ticket,) = tickets(uow)
    assert (ticket.caller_name, ticket.email) == ("Trần Thị Bích", "bich.tran@example.vn")
    assert ticket.content == ("Phản ánh: đường Nguyễn Huệ ngập nước\n\nĐoạn trước chợ Cao Lãnh ngập sâu 30 cm.\n"
                              "Đề nghị xử lý.")


def test_an_html_only_mail_is_reduced_to_its_text(uow, mailing, procedure, imap_server, mailbox) -> None:  # type: ignore[no-untyped-def]
    html = ("<html><head><title>Thư</title><style>p {color: red}</style></head><body>"
            "<p>Đèn đường <b>Lê Lợi</b> hỏng &amp; tắt từ tối qua.</p><script>alert('x')</script>"
            "<div>Cảm ơn<br>Lê Văn Tám</div></body></html>")
    imap_server.deliver(mailbox, mail("Đèn đường hỏng", html=html))
    poll(uow, mailing)
    (ticket,) = tickets(uow)
    assert ticket.content == "Đèn đường hỏng\n\nĐèn đường Lê Lợi hỏng & tắt từ tối qua.\n\nCảm ơn\nLê Văn Tám"


def test_the_same_mail_twice_makes_one_ticket_and_one_acknowledgement(  # type: ignore[no-untyped-def]
        uow, mailing, procedure, imap_server, mailbox, smtp_server) -> None:
    raw = mail(message_id="<cung-mot-thu@example.vn>")
    imap_server.deliver(mailbox, raw)
    imap_server.deliver(mailbox, raw)
    summary = poll(uow, mailing)
    assert (len(summary.tickets), summary.repeated, summary.acknowledged) == (1, 1, 1)
    assert len(tickets(uow)) == 1 and len(smtp_server.messages) == 1
    assert imap_server.flags(mailbox) == {1: {SEEN}, 2: {SEEN}}


def test_a_mail_without_message_id_is_known_by_its_digest(  # type: ignore[no-untyped-def]
        uow, mailing, procedure, imap_server, mailbox) -> None:
    raw = mail().replace(b"Message-ID:", b"X-Old-Message-ID:")
    imap_server.deliver(mailbox, raw)
    imap_server.deliver(mailbox, raw)
    assert len(poll(uow, mailing).tickets) == 1
    (ticket,) = tickets(uow)
    assert ticket.external_id is not None and ticket.external_id.startswith("sha256:")


@pytest.mark.parametrize("headers", [
    {"Auto_Submitted": "auto-replied"},
    {"Precedence": "bulk"},
    {"Precedence": "list"},
    {"sender": "MAILER-DAEMON@mx.example.vn"},
    {"sender": "Mail Delivery System <postmaster@mx.example.vn>"},
    {"sender": f"Tổng đài 1022 <{CENTRE}>"},  # our own acknowledgement come back
])
def test_auto_replies_and_bounces_get_no_ticket_and_no_answer(  # type: ignore[no-untyped-def]
        uow, mailing, procedure, imap_server, mailbox, smtp_server, headers) -> None:
    imap_server.deliver(mailbox, mail("Trả lời tự động: Vắng mặt", **headers))
    imap_server.deliver(mailbox, mail("Thư thật", Auto_Submitted="no"))  # "no" is a person's mail
    summary = poll(uow, mailing)
    assert (summary.automatic, len(summary.tickets)) == (1, 1)
    (ticket,) = tickets(uow)
    assert ticket.content.startswith("Thư thật")
    assert [m["To"] for m in smtp_server.messages] == ["an.nguyen@example.vn"]
    assert imap_server.flags(mailbox) == {1: {SEEN}, 2: {SEEN}}


def test_attachments_are_named_and_long_mail_is_cut(uow, mailing, procedure, imap_server, mailbox) -> None:  # type: ignore[no-untyped-def]
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "an@example.vn", "Hồ sơ kèm theo", "<kem@example.vn>"
    msg.set_content("Nội dung " * 1000)
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="giay_to.pdf")
    msg.add_attachment(b"\x89PNG", maintype="image", subtype="png", filename="anh chup.png")
    imap_server.deliver(mailbox, msg.as_bytes())
    poll(uow, mailing)
    (ticket,) = tickets(uow)
    assert len(ticket.content) <= hotline.MAX_CONTENT
    assert ticket.content.startswith("Hồ sơ kèm theo\n\nNội dung Nội dung")
    whole = len("Hồ sơ kèm theo\n\n" + ("Nội dung " * 1000).strip())
    assert f"[… đã cắt bớt: thư dài {whole} ký tự, phiếu giữ 5000 ký tự đầu]" in ticket.content
    assert ticket.content.endswith("[Thư có 2 tệp đính kèm, không lưu vào phiếu: giay_to.pdf, anh chup.png]")


def test_oversize_and_unusable_mail_is_flagged_for_a_person_and_the_rest_goes_on(  # type: ignore[no-untyped-def]
        uow, mailing, procedure, imap_server, mailbox) -> None:
    imap_server.deliver(mailbox, mail(body="x" * 5000))  # over the reader's limit below
    imap_server.deliver(mailbox, mail(sender="khong-phai-dia-chi"))  # refused by the intake's checks
    imap_server.deliver(mailbox, mail(sender="an@khong-ten-mien"))
    imap_server.deliver(mailbox, mail("Thư bình thường"))
    summary = poll(uow, mailing, max_bytes=4000)
    assert (summary.flagged, summary.automatic, len(summary.tickets)) == (3, 0, 1)
    (ticket,) = tickets(uow)
    assert ticket.content.startswith("Thư bình thường")
    assert imap_server.flags(mailbox) == {1: {SEEN, FLAGGED}, 2: {SEEN, FLAGGED}, 3: {SEEN, FLAGGED}, 4: {SEEN}}


# ---------------------------------------------------------------- failures and crash safety


class CrashBeforeMarking:
    """The real mailbox, but the process "dies" after the ticket was committed, before the mail is marked."""

    def __init__(self, settings: Settings) -> None:
        self.box = ImapMailbox(settings)
        self.max_bytes = self.box.max_bytes

    def __enter__(self) -> CrashBeforeMarking:
        self.box.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.box.__exit__(None, None, None)

    def unseen(self) -> list[str]:
        return self.box.unseen()

    def fetch(self, uid: str) -> Fetched:
        return self.box.fetch(uid)

    def mark_seen(self, uid: str, *, flag: bool = False) -> None:
        raise SystemExit("killed")


def test_a_crash_before_marking_leaves_the_mail_unread_and_the_next_poll_makes_no_second_ticket(  # type: ignore[no-untyped-def]
        uow, mailing, procedure, imap_server, mailbox, smtp_server) -> None:
    imap_server.deliver(mailbox, mail())
    with pytest.raises(SystemExit):
        hotline_mail.poll(uow, mailing, CrashBeforeMarking(mailing.settings))
    (ticket,) = tickets(uow)
    assert imap_server.flags(mailbox) == {1: set()}
    summary = poll(uow, mailing)
    assert (summary.tickets, summary.repeated, summary.acknowledged) == ([], 1, 0)
    assert [t.code for t in tickets(uow)] == [ticket.code] and len(smtp_server.messages) == 1
    assert imap_server.flags(mailbox) == {1: {SEEN}}


def test_an_smtp_failure_leaves_the_mail_unread_until_the_acknowledgement_goes(  # type: ignore[no-untyped-def]
        uow, mailing, procedure, imap_server, mailbox, smtp_server) -> None:
    imap_server.deliver(mailbox, mail())
    smtp_server.refuse_next(1)
    summary = poll(uow, mailing)
    assert (len(summary.tickets), summary.retry, summary.acknowledged) == (0, 1, 0)
    (ticket,) = tickets(uow)  # the ticket is kept: the citizen's message is not lost
    assert ticket.acknowledged_at is None and imap_server.flags(mailbox) == {1: set()}
    summary = poll(uow, mailing)
    assert (summary.repeated, summary.acknowledged) == (1, 1)
    assert tickets(uow)[0].acknowledged_at is not None and len(smtp_server.messages) == 1
    assert imap_server.flags(mailbox) == {1: {SEEN}}


def test_without_an_operator_on_duty_every_mail_stays_unread(  # type: ignore[no-untyped-def]
        uow, mailing, people, imap_server, mailbox) -> None:
    imap_server.deliver(mailbox, mail())
    with pytest.raises(InvalidData, match="No active hotline operator"):
        poll(uow, mailing)
    assert imap_server.flags(mailbox) == {1: set()}


def test_a_wrong_password_is_a_clear_adapter_error_that_never_shows_it(  # type: ignore[no-untyped-def]
        mailing, imap_server, mailbox, caplog) -> None:
    wrong = replace(mailing.settings, hotline_imap_password="sai-mat-khau-bi-mat")
    reader = ImapMailbox(wrong)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AdapterError) as caught, reader:
        pass
    text = str(caught.value)
    assert text == (f"Máy chủ thư IMAP {imap_server.host}:{imap_server.port} từ chối đăng nhập tài khoản "
                    f"“{mailbox.user}”: kiểm tra HOTLINE_IMAP_USER và HOTLINE_IMAP_PASSWORD.")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    shown = text + repr(reader) + repr(wrong) + caplog.text
    assert "sai-mat-khau-bi-mat" not in shown and mailbox.password not in repr(mailing.settings)


def test_an_unreachable_server_or_missing_folder_is_an_adapter_error(mailing, imap_server) -> None:  # type: ignore[no-untyped-def]
    closed = replace(mailing.settings, hotline_imap_port=free_port())
    with pytest.raises(AdapterError, match=r"Không kết nối được máy chủ thư IMAP 127\.0\.0\.1:\d+: máy chủ từ chối"), \
            ImapMailbox(closed):
        pass
    missing = replace(mailing.settings, hotline_imap_folder="Hop thu 1022")
    with pytest.raises(AdapterError, match="Không mở được thư mục “Hop thu 1022”"), ImapMailbox(missing):
        pass


def test_plain_imap_is_refused_for_a_server_elsewhere() -> None:
    far = Settings(hotline_imap_host="mail.dongthap.gov.vn", hotline_imap_port=143, hotline_imap_tls=False,
                   hotline_imap_user="tongdai1022", hotline_imap_password="mat-khau")
    with pytest.raises(AdapterError, match="HOTLINE_IMAP_TLS=0 chỉ dùng được với máy chủ thư trên cùng máy"):
        ImapMailbox(far)
    with pytest.raises(AdapterError, match="HOTLINE_IMAP_HOST"):
        ImapMailbox(Settings())


# ---------------------------------------------------------------- the worker


class Timer:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_worker_polls_every_interval_and_survives_an_unreachable_mailbox(  # type: ignore[no-untyped-def]
        uow, mailing, procedure, imap_server, mailbox, caplog) -> None:
    timer = Timer()
    polling = hotline_mail.MailPolling(mailing, timer=timer)
    imap_server.deliver(mailbox, mail())
    first = polling.tick(uow)
    assert first is not None and len(first.tickets) == 1
    imap_server.deliver(mailbox, mail("Thư thứ hai"))
    timer.now += mailing.settings.hotline_imap_poll_seconds - 1
    assert polling.tick(uow) is None  # not yet
    timer.now += 1
    second = polling.tick(uow)
    assert second is not None and len(second.tickets) == 1

    down = replace(mailing, settings=replace(mailing.settings, hotline_imap_port=free_port()))
    failing = hotline_mail.MailPolling(down, timer=timer)
    assert failing.tick(uow) is None  # logged, not raised: the worker's other duties go on
    assert "hotline mail: poll failed, trying again in 60 s: Không kết nối được máy chủ thư IMAP" in caplog.text
    with uow() as u:
        assert u.session.scalar(select(func.count()).select_from(HotlineTicket)) == 2

    off = hotline_mail.MailPolling(replace(mailing, settings=replace(mailing.settings, hotline_imap_host="")),
                                   timer=timer)
    assert not off.enabled and off.tick(uow) is None


def test_the_worker_process_reads_the_mailbox_once_per_turn(  # type: ignore[no-untyped-def]
        uow, settings, procedure, imap_server, mailbox, monkeypatch) -> None:
    env = {"DATABASE_URL": settings.database_url, "HOTLINE_IMAP_HOST": imap_server.host,
           "HOTLINE_IMAP_PORT": str(imap_server.port), "HOTLINE_IMAP_USER": mailbox.user,
           "HOTLINE_IMAP_PASSWORD": mailbox.password, "HOTLINE_IMAP_TLS": "0", "NOTIFICATIONS": "local"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(signal, "signal", lambda *_args: None)  # keep pytest's own handlers
    imap_server.deliver(mailbox, mail())
    worker_process.main(["--once"])
    (ticket,) = tickets(uow)
    assert ticket.acknowledged_at is not None
    with uow() as u:
        (ack,) = u.session.scalars(select(Notification))  # NOTIFICATIONS=local: kept in the platform
        assert (ack.key, ack.recipient) == (f"hotline-ack:{ticket.code}", "an.nguyen@example.vn")
    assert imap_server.flags(mailbox) == {1: {SEEN}}
