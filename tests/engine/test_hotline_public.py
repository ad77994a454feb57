"""Hotline 1022 public pages' use cases: the rate limiter, the public form's anti-abuse checks and intake, the
acknowledgement mail, and the public ticket lookup."""
from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.adapters.registry import build_registry
from engine.domain.errors import InvalidData
from engine.persistence.models import HotlineEvent, HotlineTicket, Notification, ProcessInstance, RateLimitHit, User
from engine.persistence.uow import UnitOfWork
from engine.services import hotline_public as public
from engine.services import rate_limits
from engine.services.calendar import override_loader
from engine.services.context import Services
from tests.engine.conftest import Clock
from tests.engine.test_hotline import classify, complete, procedure, ready, staff  # noqa: F401 - fixtures, helpers
from tests.smtp_server import SmtpServer

Uow = Callable[[], UnitOfWork]
SECRET = "khoa-bi-mat-cua-thu-nghiem"
ADDRESS = "203.113.1.7"
FORM: dict[str, Any] = {"name": "Trần Thị Mai", "phone": "0913 222 333", "email": "", "field": "giao_duc",
                        "content": "Xin hỏi thời gian tuyển sinh lớp 10 năm nay?"}


def count(uow: Uow, model: Any) -> int:
    with uow() as u:
        return int(u.session.scalar(select(func.count()).select_from(model)) or 0)


def answer_of(form: public.PublicForm) -> str:
    words = form.question.lower().split()
    return str(public.DIGITS.index(words[0]) + public.DIGITS.index(words[2]))


def shown(clock: Clock, seed: int = 1) -> public.PublicForm:
    """A form shown now; the citizen then takes ten seconds to fill it in."""
    form = public.new_form(SECRET, clock.now, random.Random(seed))
    clock.advance(seconds=10)
    return form


def send(uow: Uow, services: Services, form: public.PublicForm, **changes: Any) -> public.Submitted:
    values: dict[str, Any] = {**FORM, "address": ADDRESS, "answer": answer_of(form), "token": form.token,
                              "honeypot": ""}
    values.update(changes)
    with uow() as u:
        done = public.submit(u, services, secret=SECRET, **values)
        u.session.expunge(done.ticket)
        return done


def nothing_created(uow: Uow) -> None:
    assert [count(uow, m) for m in (HotlineTicket, ProcessInstance, HotlineEvent, Notification)] == [0, 0, 0, 0]


# ---------------------------------------------------------------- the rate limiter


def test_rate_limit_counts_per_key_and_window(uow: Uow, clock: Clock) -> None:
    def hit(key: str, limit: int = 2) -> bool:
        with uow() as u:
            allowed = rate_limits.hit(u, key, limit, 3600, clock.now)
            u.commit()
            return allowed

    clock.now = clock.now.replace(minute=5)
    assert [hit("a"), hit("a"), hit("a"), hit("b")] == [True, True, False, True]
    clock.advance(minutes=50)  # the same hour: still refused
    assert hit("a") is False
    clock.advance(minutes=10)  # a new fixed window
    assert [hit("a"), hit("a"), hit("a")] == [True, True, False]
    with uow() as u:
        rows = sorted((r.key, r.window_start.minute, r.count) for r in u.session.scalars(select(RateLimitHit)))
    assert rows == [("a", 0, 3), ("a", 0, 4), ("b", 0, 1)]
    # A day later the first hit of a new window drops the windows that ended long ago.
    clock.advance(days=1, hours=1)
    assert hit("c") is True
    with uow() as u:
        assert [(r.key, r.count) for r in u.session.scalars(select(RateLimitHit))] == [("c", 1)]
        assert rate_limits.purge(u, clock.now + timedelta(hours=1)) == 1
        u.commit()
    assert count(uow, RateLimitHit) == 0
    with uow() as u, pytest.raises(ValueError, match="window"):
        rate_limits.hit(u, "a", 1, 0, clock.now)


def test_concurrent_hits_are_all_counted(uow: Uow, clock: Clock) -> None:
    """Eight requests at once on a key never seen: one row, eight counted, exactly the limit allowed."""
    results: list[bool] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def one() -> None:
        try:
            start.wait()
            with uow() as u:
                allowed = rate_limits.hit(u, "hotline-form:10.0.0.1", 5, 3600, clock.now)
                u.commit()
            results.append(allowed)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(results) == [False] * 3 + [True] * 5
    with uow() as u:
        (row,) = u.session.scalars(select(RateLimitHit))
        assert (row.key, row.count) == ("hotline-form:10.0.0.1", 8)


# ---------------------------------------------------------------- the public form


def test_a_submission_takes_a_web_ticket_and_acknowledges_it(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, clock) -> None:  # noqa: F811 - the imported fixtures
    done = send(uow, services, shown(clock), email="Mai.Tran@Example.VN")
    ticket = done.ticket
    assert (ticket.code, ticket.channel, ticket.operator_id, ticket.phone, ticket.email, ticket.field) == (
        "1022-2026-000001", "web", None, "0913222333", "mai.tran@example.vn", "giao_duc")
    assert done.acknowledgement == ("Tổng đài Thông tin dịch vụ công tỉnh Đồng Tháp đã nhận được thông tin góp ý, "
                                    "phản ánh của Quý khách, xin cảm ơn. Mã phiếu của Quý khách: 1022-2026-000001.")
    assert set(ready(uow, ticket.instance_id)) == {"Task_PhanLoai"}
    with uow() as u:
        (event,) = u.session.scalars(select(HotlineEvent))
        assert (event.ticket_id, event.kind, event.detail["via"]) == (ticket.id, "xac_nhan", "web")
        assert u.session.get(HotlineTicket, ticket.id).acknowledged_at == clock.now  # type: ignore[union-attr]
        # The local channel (NOTIFICATIONS=local) keeps the acknowledgement for the address, once.
        (mail,) = u.session.scalars(select(Notification))
        assert (mail.key, mail.recipient, mail.subject) == (
            "hotline-ack:1022-2026-000001", "mai.tran@example.vn", "Tổng đài 1022 đã nhận phiếu 1022-2026-000001")
    assert not done.emailed  # kept in the platform: no mail left
    # Words for the sum are taken too; an e-mail address alone is a way to reply.
    form = shown(clock, seed=2)
    word = next(w for w, n in public.ANSWER_WORDS.items() if n == int(answer_of(form)))
    other = send(uow, services, form, phone="", email="dan@example.vn", field="", answer=word.upper())
    assert (other.ticket.code, other.ticket.phone, other.ticket.field) == ("1022-2026-000002", "", "")


@pytest.mark.parametrize(("case", "says"), [
    ("honeypot", public.REFUSED.vi),
    ("too_fast", "Biểu mẫu được gửi quá nhanh"),
    ("too_old", "Biểu mẫu đã mở quá 2 giờ nên đã hết hạn"),
    ("wrong_answer", "Kết quả phép tính kiểm tra chưa đúng"),
    ("forged", "Biểu mẫu không hợp lệ"),
    ("other_key", "Biểu mẫu không hợp lệ"),
    ("no_contact", "Vui lòng cho biết số điện thoại hoặc địa chỉ thư điện tử"),
    ("bad_phone", "Số điện thoại “0913” không hợp lệ"),
    ("long", "Nội dung dài quá 5000 ký tự"),
])
def test_refused_submissions_create_nothing(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, clock, case, says) -> None:  # noqa: F811 - the imported fixtures
    form = public.new_form(SECRET, clock.now, random.Random(3))
    clock.advance(seconds={"too_fast": 2, "too_old": 2 * 3600 + 1}.get(case, 3))
    x_plus_y = answer_of(form)
    head, _dot, tail = form.token.rpartition(".")
    changes: dict[str, Any] = {
        "honeypot": {"honeypot": "http://spam.example"},
        "wrong_answer": {"answer": str(int(x_plus_y) + 1)},
        "forged": {"token": head + "." + tail[::-1]},
        "other_key": {"token": public.new_form("khoa-khac", clock.now - timedelta(minutes=1)).token},
        "no_contact": {"phone": " ", "email": ""},
        "bad_phone": {"phone": "0913"},
        "long": {"content": "x" * 5001},
    }.get(case, {})
    with pytest.raises(InvalidData) as refused:
        send(uow, services, form, **changes)
    assert refused.value.message.vi.startswith(says)
    if case == "honeypot":  # nothing says which check tripped
        assert "ẩn" not in refused.value.message.vi and "nhanh" not in refused.value.message.vi
    nothing_created(uow)
    # Only a wrong answer counts towards the address's limit.
    assert count(uow, RateLimitHit) == (1 if case == "wrong_answer" else 0)


def test_the_form_is_rate_limited_per_address(  # type: ignore[no-untyped-def]
        uow, settings, session_factory, staff, procedure, clock) -> None:  # noqa: F811 - the imported fixtures
    limited = dataclasses.replace(settings, hotline_public_per_hour=2)
    services = Services(limited, build_registry(limited, session_factory, clock), clock=clock,
                        calendar_overrides=override_loader(session_factory))
    clock.now = clock.now.replace(minute=0)
    form = shown(clock)
    with pytest.raises(InvalidData):
        send(uow, services, form, answer="0")  # a wrong answer counts: 1
    send(uow, services, form)  # 2
    with pytest.raises(public.RateLimited) as refused:
        send(uow, services, form)
    assert refused.value.message.vi.startswith("Đã có quá 2 lượt gửi câu hỏi từ địa chỉ mạng của Quý khách")
    assert count(uow, HotlineTicket) == 1
    assert send(uow, services, form, address="198.51.100.4").ticket.code == "1022-2026-000002"
    clock.advance(hours=1)
    assert send(uow, services, shown(clock)).ticket.code == "1022-2026-000003"


def test_the_acknowledgement_is_mailed_once(  # type: ignore[no-untyped-def]
        uow, settings, session_factory, staff, procedure, clock, smtp_server: SmtpServer) -> None:  # noqa: F811 - the imported fixtures
    mailing = dataclasses.replace(settings, notifications="smtp", smtp_host=smtp_server.host,
                                  smtp_port=smtp_server.port, public_base_url="https://dichvucong.dongthap.gov.vn")
    services = Services(mailing, build_registry(mailing, session_factory, clock), clock=clock,
                        calendar_overrides=override_loader(session_factory))
    done = send(uow, services, shown(clock), email="mai.tran@example.vn")
    assert done.emailed
    (mail,) = smtp_server.messages
    assert (mail["To"], mail["Subject"]) == ("mai.tran@example.vn", "Tổng đài 1022 đã nhận phiếu 1022-2026-000001")
    body = mail.get_content()
    assert done.acknowledgement in body and FORM["content"] in body
    assert "https://dichvucong.dongthap.gov.vn/cong-khai/tra-cuu-phieu" in body
    with uow() as u:  # a second attempt (a retried request) sends nothing
        ticket = u.session.get(HotlineTicket, done.ticket.id)
        assert ticket is not None
        assert public.mail_acknowledgement(u, services, ticket, done.acknowledgement) is False
    assert len(smtp_server.messages) == 1
    # A mail server that refuses does not undo the ticket, and leaves no half-sent row.
    smtp_server.refuse_next(1)
    other = send(uow, services, shown(clock, seed=5), email="khac@example.vn")
    assert other.ticket.code == "1022-2026-000002" and not other.emailed
    assert len(smtp_server.messages) == 1
    with uow() as u:
        assert u.session.scalar(select(Notification).where(Notification.key == "hotline-ack:1022-2026-000002")) is None
        assert len(list(u.session.scalars(select(HotlineEvent)))) == 2


# ---------------------------------------------------------------- the public lookup


def look(uow: Uow, services: Services, code: str, phone: str, address: str = ADDRESS) -> public.PublicTicket:
    with uow() as u:
        return public.lookup(u, services, code, phone, address)


def test_lookup_shows_only_the_tickets_allowed_fields(  # type: ignore[no-untyped-def]
        uow, services, staff: dict[str, User], procedure, clock) -> None:  # noqa: F811 - the imported fixtures
    mine = send(uow, services, shown(clock)).ticket
    send(uow, services, shown(clock, seed=4), phone="0988 777 666", content="Câu hỏi của người khác")
    found = look(uow, services, " 1022-2026-000001 ", "+84 913 222 333")
    assert [f.name for f in dataclasses.fields(found)] == [
        "code", "received_on", "channel", "field", "state", "answered_on", "answer", "note"]
    assert (found.code, found.received_on, found.channel.vi, found.field, found.state.vi, found.answered_on,
            found.answer) == ("1022-2026-000001", date(2026, 11, 26), "Cổng thông tin", public.Message(
                "Giáo dục, tuyển sinh", "Education"), "Đã tiếp nhận, đang chờ phân loại", None, None)
    assert found.note == public.WILL_BE_SENT
    assert FORM["content"] not in repr(found) and "Trần Thị Mai" not in repr(found)

    tasks = classify(uow, services, staff, mine, linh_vuc="giao_duc", huong_xu_ly="tra_loi_ngay")
    clock.advance(days=1)
    complete(uow, services, staff["tongdai"], tasks["Task_TraLoiNgay"], {
        "tra_loi": "Tuyển sinh lớp 10 từ ngày 01/6.", "cach_phan_hoi": "Gọi lại", "cong_khai": True})
    answered = look(uow, services, "1022-2026-000001", "0913222333")
    assert (answered.state.vi, answered.answered_on, answered.answer, answered.note) == (
        "Đã trả lời", date(2026, 11, 27), "Tuyển sinh lớp 10 từ ngày 01/6.", None)
    assert "Đinh Thị Thoại" not in repr(answered) and "Gọi lại" not in repr(answered)


def test_an_unpublished_answer_is_not_shown(uow, services, staff, procedure, clock) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    ticket = send(uow, services, shown(clock)).ticket
    tasks = classify(uow, services, staff, ticket, linh_vuc="giao_duc", huong_xu_ly="tra_loi_ngay")
    complete(uow, services, staff["tongdai"], tasks["Task_TraLoiNgay"], {
        "tra_loi": "Trả lời riêng cho người hỏi.", "cach_phan_hoi": "Gọi lại", "cong_khai": False})
    found = look(uow, services, ticket.code, FORM["phone"])
    assert (found.state.vi, found.answer, found.note) == ("Đã trả lời", None, public.SENT_PRIVATELY)


@pytest.mark.parametrize(("code", "phone"), [
    ("1022-2026-000001", "0913222334"),  # the right code, another number
    ("1022-2026-000002", "0913222333"),  # a code nobody has
    ("1022-2026-1", "0913222333"),  # not a code at all
])
def test_a_wrong_pair_and_an_unknown_code_say_the_same(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, clock, code, phone) -> None:  # noqa: F811 - the imported fixtures
    send(uow, services, shown(clock))
    with pytest.raises(InvalidData) as refused:
        look(uow, services, code, phone)
    assert refused.value.message == public.NOT_FOUND
    assert refused.value.message.vi == "Không tìm thấy phiếu với mã và số điện thoại này."


def test_lookups_are_rate_limited_per_address(  # type: ignore[no-untyped-def]
        uow, settings, session_factory, staff, procedure, clock) -> None:  # noqa: F811 - the imported fixtures
    limited = dataclasses.replace(settings, hotline_lookup_per_hour=3)
    services = Services(limited, build_registry(limited, session_factory, clock), clock=clock,
                        calendar_overrides=override_loader(session_factory))
    clock.now = clock.now.replace(minute=0)
    ticket = send(uow, services, shown(clock)).ticket
    for wrong in ("0900000001", "0900000002"):
        with pytest.raises(InvalidData):
            look(uow, services, ticket.code, wrong)
    assert look(uow, services, ticket.code, FORM["phone"]).code == ticket.code
    with pytest.raises(public.RateLimited) as refused:  # even the right pair, past the limit
        look(uow, services, ticket.code, FORM["phone"])
    assert refused.value.message.vi.startswith("Đã có quá 3 lượt tra cứu")
    assert look(uow, services, ticket.code, FORM["phone"], address="2001:db8::1").code == ticket.code
    with pytest.raises(InvalidData) as empty:  # nothing typed: told so, not counted
        look(uow, services, "", "", address="2001:db8::2")
    assert empty.value.message == public.LOOKUP_EMPTY
    clock.advance(hours=1)
    assert look(uow, services, ticket.code, FORM["phone"]).code == ticket.code


def test_a_kept_form_keeps_its_question_and_an_expired_one_gets_a_new_one(clock: Clock) -> None:
    form = public.new_form(SECRET, clock.now, random.Random(7))
    assert public.form_for(SECRET, form.token, clock.now + timedelta(hours=1)) == form
    assert public.form_for(SECRET, form.token, clock.now + timedelta(hours=3)).token != form.token
    assert public.form_for(SECRET, "gia-mao", clock.now).token != "gia-mao"
    assert public.parse_answer(" Mười  LĂM ") == 15 and public.parse_answer("12") == 12
    assert public.parse_answer("mười hai tỷ") is None
