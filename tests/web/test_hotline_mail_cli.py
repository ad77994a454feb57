"""`flask hotline read-mail`: one read of the hotline's mailbox (a real Dovecot), the summary in Vietnamese."""
from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine.persistence.models import HotlineTicket, Notification
from engine.settings import Settings
from tests.imap_server import ImapServer, Mailbox
from tests.web.conftest import add_people
from webapp.platform import uow


@pytest.fixture
def mailbox(imap_server: ImapServer) -> Mailbox:
    return imap_server.new_mailbox()


@pytest.fixture
def settings(db_url: str, imap_server: ImapServer, mailbox: Mailbox) -> Settings:
    return Settings(database_url=db_url, hotline_imap_host=imap_server.host, hotline_imap_port=imap_server.port,
                    hotline_imap_user=mailbox.user, hotline_imap_password=mailbox.password, hotline_imap_tls=False)


def read_mail(app: Flask) -> Any:
    return app.test_cli_runner().invoke(args=["hotline", "read-mail"])


def letter(subject: str, sender: str = "Lê Thị Hoa <hoa.le@example.vn>", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["Subject"] = sender, subject
    for name, value in headers.items():
        msg[name] = value
    msg.set_content("Xin hỏi giờ làm việc của bộ phận một cửa.")
    return msg.as_bytes()


def test_read_mail_takes_the_unread_mail_and_prints_the_summary(  # type: ignore[no-untyped-def]
        app, imap_server, mailbox) -> None:
    add_people(app, {"tongdai": ("Đinh Thị Thoại", "ttpvhcc", ["tong_dai_vien"])},
               {"ttpvhcc": "Trung tâm Phục vụ hành chính công"})
    imap_server.deliver(mailbox, letter("Hỏi giờ làm việc"))
    imap_server.deliver(mailbox, letter("Vắng mặt", **{"Auto-Submitted": "auto-replied"}))
    result = read_mail(app)
    assert result.exit_code == 0, result.output
    with app.app_context(), uow() as work:
        (ticket,) = work.session.scalars(select(HotlineTicket))
        (ack,) = work.session.scalars(select(Notification))  # NOTIFICATIONS=local keeps it in the platform
        assert (ticket.channel, ticket.email, ack.recipient) == ("email", "hoa.le@example.vn", "hoa.le@example.vn")
        code = ticket.code
    assert result.output == (f"Đã đọc hộp thư: 1 phiếu mới ({code}); 0 thư đã có phiếu; 1 thư xác nhận "
                             "đã gửi; 1 thư tự động bỏ qua; 0 thư gắn cờ cần xem; 0 thư để lần sau.\n")
    assert imap_server.flags(mailbox) == {1: {"\\Seen"}, 2: {"\\Seen"}}
    assert read_mail(app).output.startswith("Đã đọc hộp thư: 0 phiếu mới; 0 thư đã có phiếu;")


def test_read_mail_says_what_is_wrong(app, imap_server, mailbox) -> None:  # type: ignore[no-untyped-def]
    imap_server.deliver(mailbox, letter("Hỏi giờ làm việc"))
    result = read_mail(app)  # nobody to take the ticket in the name of
    assert result.exit_code == 1
    assert "Chưa có điện thoại viên nào đang hoạt động ở Trung tâm Phục vụ hành chính công" in result.output
    assert imap_server.flags(mailbox) == {1: set()}
    app.extensions["platform"].settings = Settings(database_url=app.extensions["platform"].settings.database_url)
    result = read_mail(app)
    assert result.exit_code == 1
    assert "Chưa cấu hình hộp thư của Tổng đài 1022 (HOTLINE_IMAP_HOST)." in result.output
