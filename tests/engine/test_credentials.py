"""One-time password links: sealing, opening once, expiry, idempotency by operation key; and the
whole path from a mail-directory row to the person, over a real SMTP server (aiosmtpd) with the
local directory and a real slapd, plus the project software's sink and the notification.send topic."""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine import worker
from engine.adapters import mail_directory
from engine.adapters.base import AdapterError, CallContext
from engine.adapters.notifications import LocalNotifier, SmtpNotifier
from engine.adapters.registry import KNOWN_TOPICS, build_notifier, build_registry
from engine.domain.errors import InvalidData, NotFound
from engine.persistence.models import (
    AdapterOperation,
    AuditEvent,
    CredentialLink,
    Document,
    MailAccount,
    Notification,
    ProcessInstance,
    ServiceCall,
    User,
)
from engine.persistence.uow import UnitOfWork
from engine.services import credentials, demo, identity, instances
from engine.services.context import Services
from engine.services.credentials import LinkGone, LinkState
from engine.settings import Settings
from tests.engine.conftest import Clock
from tests.engine.ldap_server import LdapServer
from tests.engine.project_software_server import ProjectSoftwarePeer
from tests.engine.test_instances import REPLY, complete, run_to_reply, the_ready_task
from tests.engine.test_ldap_directory import ldap_settings, slapd  # noqa: F401 - the session's slapd fixture
from tests.smtp_server import SmtpServer

Uow = Callable[[], UnitOfWork]
TOKEN_IN_TEXT = re.compile(r"https://quytrinh\.dongthap\.gov\.vn/credentials/([A-Za-z0-9_-]{43})\b")
REQUESTER_EMAIL = "binh.stc@dongthap.gov.vn"
ONE_NEW = {"kenh_gui": "idesk", "so_cong_van": "85/STC-VP", "noi_dung": "Đề nghị cấp thư điện tử công vụ.",
           "ca_nhan": [{"ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch", "thao_tac": "cap_moi"}],
           "nguoi_ky": "Giám đốc Sở Tài chính"}


@pytest.fixture
def passwords(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the mail directory generates (still random: they are checked against hashes)."""
    issued: list[str] = []
    real = mail_directory.new_password

    def recorded() -> str:
        issued.append(real())
        return issued[-1]

    monkeypatch.setattr(mail_directory, "new_password", recorded)
    return issued


@pytest.fixture
def requester_has_email(session_factory: sessionmaker[Session], people: dict[str, User]) -> str:
    with session_factory() as session:
        user = session.scalar(select(User).where(User.username == "cv_stc"))
        assert user is not None
        user.email = REQUESTER_EMAIL
        session.commit()
    return REQUESTER_EMAIL


def over_smtp(settings: Settings, smtp: SmtpServer, **changes: Any) -> Settings:
    return replace(settings, notifications="smtp", smtp_host=smtp.host, smtp_port=smtp.port,
                   smtp_from="quytrinh@dongthap.gov.vn", public_base_url="https://quytrinh.dongthap.gov.vn",
                   **changes)


def services_with(settings: Settings, session_factory: sessionmaker[Session], clock: Clock) -> Services:
    """Services whose adapters the real registry builds from `settings`."""
    return Services(settings, build_registry(settings, session_factory, clock), clock=clock)


def tokens_in(messages: list[EmailMessage]) -> list[str]:
    found = []
    for message in messages:
        body = message.get_body(("plain",))
        assert body is not None
        found += TOKEN_IN_TEXT.findall(body.get_content())
    return found


def reveal(uow: Uow, token: str, clock: Clock) -> credentials.Revealed:
    with uow() as u:
        return credentials.reveal(u, token, clock())


SECRET = "Mật-khẩu-rất-bí-mật-2026"


def issue(uow: Uow, settings: Settings, clock: Clock, key: str = "9:a", password: str = SECRET,
          instance_id: int | None = None) -> str | None:
    with uow() as u:
        token = credentials.issue(u.session, settings, call_key=key, instance_id=instance_id,
                                  system=credentials.MAIL, account="annv@dongthap.gov.vn",
                                  recipient=REQUESTER_EMAIL, password=password, now=clock())
        u.commit()
        return token


def link_rows(uow: Uow) -> list[CredentialLink]:
    with uow() as u:
        rows = list(u.session.scalars(select(CredentialLink).order_by(CredentialLink.id)))
        u.session.expunge_all()
        return rows


# ---------------------------------------------------------------- issuing and opening


def test_a_link_shows_its_password_once(uow: Uow, settings: Settings, clock: Clock) -> None:
    token = issue(uow, settings, clock)
    assert token is not None and len(token) == 43
    with uow() as u:  # what the link's page shows before the button: no password, nothing consumed
        info = credentials.peek(u, token, clock())
    assert (info.account, info.system_name, info.state) == ("annv@dongthap.gov.vn", "thư điện tử công vụ",
                                                            LinkState.WAITING)
    assert info.expires_at == clock() + timedelta(hours=72)

    clock.advance(minutes=5)
    shown = reveal(uow, token, clock)
    assert (shown.account, shown.system, shown.password) == ("annv@dongthap.gov.vn", "mail_directory",
                                                             "Mật-khẩu-rất-bí-mật-2026")
    with pytest.raises(LinkGone) as again:
        reveal(uow, token, clock)
    assert "đã được sử dụng" in again.value.message.vi and again.value.details == "used"
    with pytest.raises(LinkGone), uow() as u:
        credentials.peek(u, token, clock())
    (row,) = link_rows(uow)
    assert (row.sealed, row.opened_at) == (None, clock())


def test_the_database_alone_cannot_reveal_the_password(uow: Uow, settings: Settings, clock: Clock) -> None:
    password = "Mật-khẩu-rất-bí-mật-2026"
    token = issue(uow, settings, clock, password=password)
    assert token is not None
    (row,) = link_rows(uow)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.sealed is not None and len(row.sealed) == 64  # padded: not even the length is kept
    stored = b" ".join(str(v).encode() for v in (row.token_hash, row.call_key, row.account, row.recipient,
                                                  row.system)) + row.sealed
    assert password.encode() not in stored and token.encode() not in stored
    assert credentials.unseal(row.sealed, token) == password
    other = hashlib.shake_256(b"dvc-quytrinh/credential-link/v1\x00" + b"x" * 43).digest(64)
    assert password.encode() not in bytes(a ^ b for a, b in zip(row.sealed, other, strict=True))  # another token


def test_one_link_per_operation_key(uow: Uow, settings: Settings, clock: Clock) -> None:
    first = issue(uow, settings, clock, key="12:row-1")
    assert issue(uow, settings, clock, key="12:row-1", password="khác") is None
    assert first is not None and len(link_rows(uow)) == 1
    assert reveal(uow, first, clock).password == "Mật-khẩu-rất-bí-mật-2026"


def test_an_expired_link_is_refused_and_forgets_the_password(uow: Uow, settings: Settings, clock: Clock,
                                                             services: Services) -> None:
    short = replace(settings, credential_link_hours=2)
    token = issue(uow, short, clock, key="1:a")
    other = issue(uow, short, clock, key="1:b")
    assert token is not None and other is not None
    clock.advance(hours=2)
    with pytest.raises(LinkGone) as expired:
        reveal(uow, token, clock)
    assert "đã hết hạn" in expired.value.message.vi and expired.value.details == "expired"
    by_key = {row.call_key: row for row in link_rows(uow)}
    assert by_key["1:a"].sealed is None and by_key["1:a"].opened_at is None  # forgotten when met
    assert by_key["1:b"].sealed is not None
    worker.run_once(uow, services, owner="worker-test")  # the worker forgets the others on its round
    assert [row.sealed for row in link_rows(uow)] == [None, None]
    with uow() as u:
        assert credentials.purge_expired(u.session, clock()) == 0
    with pytest.raises(LinkGone):
        reveal(uow, other, clock)


def test_an_unknown_token_is_not_found(uow: Uow, settings: Settings, clock: Clock) -> None:
    issue(uow, settings, clock)
    with pytest.raises(NotFound) as unknown:
        reveal(uow, "A" * 43, clock)
    assert "không tồn tại" in unknown.value.message.vi
    assert [row.opened_at for row in link_rows(uow)] == [None]


def test_opening_is_audited_without_the_password_or_the_token(uow: Uow, settings: Settings, clock: Clock) -> None:
    token = issue(uow, settings, clock)
    assert token is not None
    reveal(uow, token, clock)
    with uow() as u:
        (event,) = u.session.scalars(select(AuditEvent).where(AuditEvent.action == "credential_opened"))
        summary, actor = event.summary, event.actor_name
        text = json.dumps([actor, summary, event.before, event.after], ensure_ascii=False)
    assert "annv@dongthap.gov.vn" in summary and REQUESTER_EMAIL in actor
    assert token not in text and "Mật-khẩu-rất-bí-mật-2026" not in text


# ---------------------------------------------------------------- email_account over SMTP, local directory


def test_the_requester_receives_a_utf8_link_that_opens_the_new_mailbox(
        uow: Uow, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
        people: dict[str, User], published: Any, requester_has_email: str, smtp_server: SmtpServer,
        passwords: list[str]) -> None:
    services = services_with(over_smtp(settings, smtp_server), session_factory, clock)
    instance_id = run_to_reply(uow, services, people, ONE_NEW)

    (message,) = smtp_server.messages
    (sender, recipients, raw) = smtp_server.envelopes[0]
    assert (sender, recipients) == ("quytrinh@dongthap.gov.vn", [REQUESTER_EMAIL])
    assert message["Subject"] == ("Mật khẩu tài khoản annv@dongthap.gov.vn (thư điện tử công vụ) — "
                                  "liên kết dùng một lần")
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0].lower()  # the header is encoded, not raw bytes
    body = message.get_body(("plain",))
    assert body is not None and body.get_content_charset() == "utf-8"
    text = body.get_content()
    assert "Kính gửi Trần Thị Bình" in text and "chỉ mở được MỘT LẦN" in text
    assert "hết hạn lúc 09:00 ngày 29/11/2026" in text  # 72 hours after 09:00 on 26/11, Đồng Tháp time
    (token,) = tokens_in([message])
    assert passwords[0] not in raw.decode("utf-8", "replace")

    with uow() as u:
        data = u.session.get(ProcessInstance, instance_id).state_json  # type: ignore[union-attr]
        (row,) = u.session.scalars(select(Notification))
        u.session.expunge_all()
    assert token not in data and passwords[0] not in data
    assert (row.channel, row.recipient, row.body, row.sent_at) == ("smtp", REQUESTER_EMAIL, "", clock())

    shown = reveal(uow, token, clock)
    assert (shown.account, shown.password) == ("annv@dongthap.gov.vn", passwords[0])
    with uow() as u:
        mailbox = u.session.scalar(select(MailAccount).where(MailAccount.address == "annv@dongthap.gov.vn"))
        assert mailbox is not None and identity.verify_password(mailbox.password_hash or "", shown.password)
        result = u.session.scalars(select(AdapterOperation)).one().result
    assert result["row"]["ket_qua"] == ("Đã cấp mới — mật khẩu gửi qua liên kết dùng một lần tới "
                                        "binh.stc@dongthap.gov.vn")


def test_the_reply_letter_and_every_stored_text_hold_neither_password_nor_token(
        uow: Uow, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
        people: dict[str, User], published: Any, requester_has_email: str, smtp_server: SmtpServer,
        passwords: list[str]) -> None:
    services = services_with(over_smtp(settings, smtp_server), session_factory, clock)
    hoa = {"ho_ten": "Phạm Thị Hoa", "don_vi": "Văn phòng Sở", "thao_tac": "cap_moi"}
    request = {**ONE_NEW, "ca_nhan": [*ONE_NEW["ca_nhan"], hoa]}
    instance_id = run_to_reply(uow, services, people, request)
    complete(uow, services, people["cv_sttt"], the_ready_task(uow, instance_id, "Task_PhucDap").id, REPLY)
    assert worker.run_once(uow, services, owner="worker-test") == 1
    tokens = tokens_in(smtp_server.messages)
    assert len(tokens) == 2 and len(passwords) == 2

    from tests.engine.docx_files import docx_text
    with uow() as u:
        letter = docx_text(u.session.scalars(select(Document)).one().docx)
        stored = [letter, u.session.get(ProcessInstance, instance_id).state_json]  # type: ignore[union-attr]
        stored += [json.dumps([e.actor_name, e.summary, e.before, e.after], ensure_ascii=False)
                   for e in u.session.scalars(select(AuditEvent))]
        stored += [c.last_error or "" for c in u.session.scalars(select(ServiceCall))]
        stored += [f"{n.subject}{n.body}" for n in u.session.scalars(select(Notification))]
    assert "mật khẩu gửi qua liên kết dùng một lần tới binh.stc@dongthap.gov.vn" in letter
    for secret in tokens + passwords:
        assert not [text for text in stored if secret in text]


def test_a_mail_server_refusing_rolls_the_mailbox_back_and_the_retry_sends_one_link(
        uow: Uow, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
        people: dict[str, User], published: Any, requester_has_email: str, smtp_server: SmtpServer,
        passwords: list[str]) -> None:
    services = services_with(over_smtp(settings, smtp_server), session_factory, clock)
    smtp_server.refuse_next(1)
    instance_id = run_to_reply(uow, services, people, ONE_NEW)
    with uow() as u:
        (call,) = u.session.scalars(select(ServiceCall).where(ServiceCall.instance_id == instance_id))
        assert "Không gửi được thư qua máy chủ SMTP" in (call.last_error or "") and "451" in (call.last_error or "")
        assert u.session.scalar(select(func.count()).select_from(MailAccount)) == 0  # rolled back with the link
        assert u.session.scalar(select(func.count()).select_from(CredentialLink)) == 0
    assert smtp_server.messages == []

    clock.advance(seconds=settings.retry_base_seconds)
    assert worker.run_once(uow, services, owner="worker-test") == 1
    (token,) = tokens_in(smtp_server.messages)
    assert len(passwords) == 2  # the first attempt's password was never kept anywhere
    shown = reveal(uow, token, clock)
    with uow() as u:
        (mailbox,) = u.session.scalars(select(MailAccount))
        assert identity.verify_password(mailbox.password_hash or "", shown.password)


def test_a_requester_without_email_reads_the_link_in_the_platform(
        uow: Uow, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
        people: dict[str, User], published: Any, smtp_server: SmtpServer) -> None:
    services = services_with(over_smtp(settings, smtp_server), session_factory, clock)
    instance_id = run_to_reply(uow, services, people, ONE_NEW)
    assert smtp_server.messages == []  # nowhere to send it: kept for the person in "Thông báo"
    with uow() as u:
        (note,) = u.session.scalars(select(Notification))
        links = credentials.links_of(u.session, instance_id, clock())
        u.session.expunge_all()
    assert (note.channel, note.recipient, note.instance_id) == ("local", "user:cv_stc", instance_id)
    token = credentials.token_in(note.body)
    assert token is not None and f"https://quytrinh.dongthap.gov.vn/credentials/{token}" in note.body
    ((link),) = links
    assert (link.account, link.recipient, link.state) == (
        "annv@dongthap.gov.vn", "mục Thông báo của Trần Thị Bình trên hệ thống", LinkState.WAITING)
    assert reveal(uow, token, clock).account == "annv@dongthap.gov.vn"


# ---------------------------------------------------------------- email_account over SMTP, LDAP directory


def test_the_link_opens_the_ldap_entry_and_survives_a_mail_server_outage(
        uow: Uow, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
        people: dict[str, User], published: Any, requester_has_email: str, smtp_server: SmtpServer,
        slapd: LdapServer, passwords: list[str]) -> None:  # noqa: F811 - the imported fixture
    chosen = ldap_settings(slapd, over_smtp(settings, smtp_server))
    services = services_with(chosen, session_factory, clock)
    dn = f"uid=annv,ou=people,{chosen.ldap_base_dn}"
    smtp_server.refuse_next(1)  # the entry is written, then the link cannot be sent
    run_to_reply(uow, services, people, ONE_NEW)
    assert list(slapd.entries(chosen.ldap_base_dn)) == [dn] and smtp_server.messages == []

    clock.advance(seconds=settings.retry_base_seconds)
    assert worker.run_once(uow, services, owner="worker-test") == 1
    (token,) = tokens_in(smtp_server.messages)
    assert list(slapd.entries(chosen.ldap_base_dn)) == [dn]  # not created twice
    assert len(passwords) == 2  # the retry set a new password, since the first reached no one
    shown = reveal(uow, token, clock)
    assert shown.password == passwords[1]
    assert slapd.can_bind(dn, shown.password) and not slapd.can_bind(dn, passwords[0])

    # a replay of the same operation reports the same link and sets nothing
    directory = services.adapters.operations["mail_directory.apply"]
    with uow() as u:
        key = u.session.scalars(select(ServiceCall.idempotency_key)).one()
    again = directory(key, {"row": {**ONE_NEW["ca_nhan"][0], "stt": 1, "loai": "ca_nhan"}},
                      CallContext(0, 0, "Task_ThucHienTaiKhoan"))
    assert again["row"]["ket_qua"].endswith("tới binh.stc@dongthap.gov.vn") and len(passwords) == 2
    assert len(smtp_server.messages) == 1


# ---------------------------------------------------------------- the project software's sink


def test_a_project_password_goes_to_the_rows_own_address(
        uow: Uow, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
        smtp_server: SmtpServer) -> None:
    with ProjectSoftwarePeer() as peer:
        chosen = over_smtp(settings, smtp_server, project_software_url=peer.url, project_software_token=peer.token)
        registry = build_registry(chosen, session_factory, clock)
        row = {"stt": 1, "email": "NVAN.skhdt@dongthap.gov.vn", "ho_ten": "Nguyễn Văn An", "thao_tac": "cap_moi"}
        registry.call("project_software.apply", "41:tao", {"row": row}, CallContext(0, 0, "Task_CapTaiKhoan"))
        reset = {**row, "thao_tac": "doi_mat_khau"}
        for _attempt in range(2):  # a retried call (same key): the peer replays, one link, one message
            result = registry.call("project_software.apply", "41:doi", {"row": reset},
                                   CallContext(0, 0, "Task_CapTaiKhoan"))
        assert peer.violations == []
        password = peer.users["nvan.skhdt@dongthap.gov.vn"]["password"]
    assert password not in json.dumps(result, ensure_ascii=False) and result["row"]["mat_khau_moi"] is True
    (message,) = smtp_server.messages
    assert message["To"] == "nvan.skhdt@dongthap.gov.vn"
    assert "phần mềm Quản lý tiến độ dự án" in message["Subject"]
    (token,) = tokens_in([message])
    shown = reveal(uow, token, clock)
    assert (shown.account, shown.system, shown.password) == ("nvan.skhdt@dongthap.gov.vn", "project_software",
                                                             password)


# ---------------------------------------------------------------- the notifier and the notification.send topic


def test_local_notifications_are_kept_once_per_key(uow: Uow, session_factory: sessionmaker[Session],
                                                   clock: Clock) -> None:
    notifier = LocalNotifier(session_factory, clock)
    assert notifier.send("k1", "an@dongthap.gov.vn", "Tiêu đề", "Nội dung có dấu") is True
    assert notifier.send("k1", "an@dongthap.gov.vn", "Tiêu đề khác", "Khác") is False
    with uow() as u:
        (row,) = u.session.scalars(select(Notification))
        u.session.expunge_all()
    assert (row.subject, row.body, row.channel, row.sent_at, row.read_at) == (
        "Tiêu đề", "Nội dung có dấu", "local", clock(), None)


def test_notification_send_topic_fills_the_texts_from_plain_values(
        uow: Uow, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
        smtp_server: SmtpServer, people: dict[str, User], published: Any) -> None:
    assert "notification.send" in KNOWN_TOPICS
    services = services_with(over_smtp(settings, smtp_server), session_factory, clock)
    registry = services.adapters
    with uow() as u:
        instance = instances.start(u, services, people["cv_stc"], "email_account")
    context = CallContext(instance.id, instance.version_id, "Task_BaoTin", "Báo tin", {
        "to": "nguoi_nhan", "subject": "Hồ sơ {so_ho_so} đã xong", "body": "Kính gửi {ten},\nHạn: {han}."})
    data = {"nguoi_nhan": "An@DongThap.gov.vn", "so_ho_so": 12, "ten": "Nguyễn Văn An", "han": date(2026, 12, 1),
            "mat_khau": "không bao giờ"}
    result = registry.call("notification.send", "7:bao", data, context)
    registry.call("notification.send", "7:bao", data, context)  # retried: not sent twice
    assert result == {"thong_bao_da_gui": {"ket_qua": "Đã gửi thông báo tới an@dongthap.gov.vn",
                                           "nguoi_nhan": "an@dongthap.gov.vn"}}
    (message,) = smtp_server.messages
    assert message["Subject"] == "Hồ sơ 12 đã xong"
    body = message.get_body(("plain",))
    assert body is not None and body.get_content().splitlines() == ["Kính gửi Nguyễn Văn An,", "Hạn: 01/12/2026."]

    for body, problem in (("{mat_khau}", "không có biến mat_khau"), ("{ten.__class__}", "không hợp lệ"),
                          ("{ten!r}", "không hợp lệ"), ("{", "sai cú pháp")):
        bad = replace(context, properties={**context.properties, "body": body})
        with pytest.raises(AdapterError, match=re.escape(problem)):
            registry.call("notification.send", f"7:{body}", data, bad)
    with pytest.raises(AdapterError, match="biến chưa_có không có người nhận"):
        registry.call("notification.send", "7:x", data, replace(context, properties={"to": "chưa_có"}))


def test_settings_pick_the_channel_and_keep_the_smtp_password_out_of_reprs(
        session_factory: sessionmaker[Session]) -> None:
    chosen = Settings.from_env({"NOTIFICATIONS": "SMTP", "SMTP_HOST": "mail.dongthap.gov.vn", "SMTP_PORT": "587",
                                "SMTP_FROM": "quytrinh@dongthap.gov.vn", "SMTP_USER": "quytrinh",
                                "SMTP_PASSWORD": "bi-mat-smtp", "SMTP_STARTTLS": "1",
                                "PUBLIC_BASE_URL": "https://quytrinh.dongthap.gov.vn/", "CREDENTIAL_LINK_HOURS": "24"})
    assert (chosen.notifications, chosen.smtp_port, chosen.smtp_starttls, chosen.public_base_url,
            chosen.credential_link_hours) == ("smtp", 587, True, "https://quytrinh.dongthap.gov.vn", 24)
    notifier = build_notifier(chosen, session_factory)
    assert isinstance(notifier, SmtpNotifier)
    assert "bi-mat-smtp" not in repr(chosen) and "bi-mat-smtp" not in repr(notifier)
    assert isinstance(build_notifier(Settings.from_env({}), session_factory), LocalNotifier)
    with pytest.raises(ValueError, match="NOTIFICATIONS='fax'"):
        build_notifier(replace(chosen, notifications="fax"), session_factory)
    with pytest.raises(ValueError, match="without SMTP_STARTTLS=1"):
        build_notifier(replace(chosen, smtp_starttls=False), session_factory)
    with pytest.raises(ValueError, match="SMTP_STARTTLS='có'"):
        Settings.from_env({"SMTP_STARTTLS": "có"})


def test_smtp_down_is_an_adapter_error_and_keeps_nothing(
        uow: Uow, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
        smtp_server: SmtpServer) -> None:
    notifier = build_notifier(over_smtp(settings, smtp_server, smtp_timeout_seconds=2.0), session_factory, clock)
    smtp_server.stop()
    with pytest.raises(AdapterError, match=r"Không gửi được thư qua máy chủ SMTP 127\.0\.0\.1:\d+: "
                                           r"ConnectionRefusedError"):
        notifier.send("k", "an@dongthap.gov.vn", "Tiêu đề", "Nội dung")
    with uow() as u:
        assert u.session.scalar(select(func.count()).select_from(Notification)) == 0



# ---------------------------------------------------------------- where people's notifications go


def test_users_get_an_email_address_and_demo_people_have_one(uow: Uow, people: dict[str, User]) -> None:
    with uow() as u:
        made = identity.create_user(u, "vt_stc", "Ngô Thị Thư", "matkhau123", "so_tc", ["van_thu"],
                                    email="  Thu.STC@DongThap.gov.vn ")
        assert made.email == "thu.stc@dongthap.gov.vn"
        for wrong in ("thu.stc", "thu @dongthap.gov.vn", "thu@dongthap", "@dongthap.gov.vn"):
            with pytest.raises(InvalidData) as refused:
                identity.create_user(u, "x" + str(len(wrong)), "X", "matkhau123", "so_tc", ["van_thu"], email=wrong)
            assert refused.value.message.vi == f"Địa chỉ thư điện tử không hợp lệ: {wrong.strip().lower()}"
        assert identity.create_user(u, "khong_thu", "Không Thư", "matkhau123", "so_tc", ["van_thu"]).email is None
        u.commit()
    with uow() as u:
        accounts = demo.load(u)
        emails = dict(u.session.execute(select(User.username, User.email)).all())
    assert {a.username: a.email for a in accounts}["vanthu"] == "vanthu@dongthap.gov.vn"
    assert all(emails[a.username] == f"{a.username}@dongthap.gov.vn" for a in accounts)
    assert emails["cv_stc"] is None  # people made before keep what they had
