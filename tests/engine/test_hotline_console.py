"""Hotline operator console: urgent calls forwarded (logged and audited), call recordings (kind and size checked),
the ticket view with masked or full contacts (full views audited) and who may see which ticket."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from sqlalchemy import select

from engine.domain.errors import Forbidden, InvalidData, NotFound
from engine.persistence.models import Attachment, AuditEvent, HotlineEvent, HotlineTicket, ProcessInstance, User
from engine.persistence.uow import UnitOfWork
from engine.services import hotline_console as console
from engine.services.context import Services
from tests.engine import test_hotline
from tests.engine.test_hotline import classify, take, ticket_of

Uow = Callable[[], UnitOfWork]
# The ticket tests' fixtures: the centre's and agencies' people, the published hotline_1022 process.
staff = test_hotline.staff
procedure = test_hotline.procedure
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 200
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 200
OGG = b"OggS\x00\x02" + b"\x00" * 200
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + b"\x00" * 200
BARE_MP3 = b"\xff\xfb\x90\x64" + b"\x00" * 200


def audits(uow: Uow, action: str) -> list[AuditEvent]:
    with uow() as u:
        rows = list(u.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
        u.session.expunge_all()
        return rows


def log_of(uow: Uow, ticket: HotlineTicket) -> list[HotlineEvent]:
    with uow() as u:
        rows = list(u.session.scalars(select(HotlineEvent).where(HotlineEvent.ticket_id == ticket.id)))
        u.session.expunge_all()
        return rows


def test_forwarding_an_urgent_call_is_logged_and_audited(uow: Uow, services: Services, staff: dict[str, User],
                                                          procedure: None) -> None:
    ticket = take(uow, services, staff["tongdai"])
    with uow() as u:
        console.forward_call(u, services, staff["tongdai"], ticket.code, "so_gd", "0277 3851 234", True,
                             "Sự cố sập mái trường học")
        console.forward_call(u, services, staff["tongdai"], ticket.code, "Công an xã Mỹ Trà", "1234", False, "")
    first, second = log_of(uow, ticket)
    assert first.kind == "chuyen_cuoc_goi" and first.actor_id == staff["tongdai"].id
    assert first.detail == {"agency": "so_gd", "agency_name": "Sở Giáo dục và Đào tạo", "number": "02773851234",
                            "recorded": True, "note": "Sự cố sập mái trường học", "operator": "tongdai"}
    assert first.summary == "Chuyển cuộc gọi khẩn đến Sở Giáo dục và Đào tạo (số 02773851234), có ghi âm."
    assert second.detail is not None
    assert (second.detail["agency"], second.detail["number"], second.detail["recorded"]) == \
        ("Công an xã Mỹ Trà", "1234", False)
    rows = audits(uow, "hotline.forward_call")
    assert [(r.instance_id, r.actor_id) for r in rows] == [(ticket.instance_id, staff["tongdai"].id)] * 2
    assert rows[0].summary.startswith(f"Phiếu {ticket.code}: Chuyển cuộc gọi khẩn đến Sở Giáo dục")


@pytest.mark.parametrize(("agency", "number", "note", "expected"), [
    ("", "0913123456", "", "Chọn hoặc nhập cơ quan"),
    ("so_gd", "", "", "Nhập số điện thoại"),
    ("so_gd", "12", "", "số máy lẻ 3–6 chữ số"),
    ("so_gd", "0913-12", "", "không hợp lệ"),
    ("so_gd", "1234567", "", "không hợp lệ"),
    ("so_gd", "113", "x" * 1001, "Ghi chú dài quá 1000 ký tự"),
])
def test_a_bad_forward_is_refused_and_changes_nothing(uow: Uow, services: Services, staff: dict[str, User],
                                                      procedure: None, agency: str, number: str, note: str,
                                                      expected: str) -> None:
    ticket = take(uow, services, staff["tongdai"])
    with uow() as u, pytest.raises(InvalidData) as refused:
        console.forward_call(u, services, staff["tongdai"], ticket.code, agency, number, False, note)
    assert expected in refused.value.message.vi
    assert log_of(uow, ticket) == [] and audits(uow, "hotline.forward_call") == []


def test_only_operators_forward_calls_and_attach_recordings(uow: Uow, services: Services, staff: dict[str, User],
                                                            procedure: None) -> None:
    ticket = take(uow, services, staff["tongdai"])
    for who in ("ld_syt", "daumoi_1022", "qt"):
        with uow() as u, pytest.raises(Forbidden):
            console.forward_call(u, services, staff[who], ticket.code, "so_gd", "113", False, "")
        with uow() as u, pytest.raises(Forbidden):
            console.attach_recording(u, services, staff[who], ticket.code, "cuoc-goi.mp3", MP3)
        with uow() as u, pytest.raises(Forbidden):
            console.caller_history(u, staff[who], "0913123456")
    with uow() as u, pytest.raises(NotFound):
        console.forward_call(u, services, staff["tongdai"], "1022-2026-999999", "so_gd", "113", False, "")
    assert log_of(uow, ticket) == []


@pytest.mark.parametrize(("name", "content", "mime"), [
    ("cuoc-goi.mp3", MP3, "audio/mpeg"), ("cuoc-goi.mp3", BARE_MP3, "audio/mpeg"), ("ghi-am.wav", WAV, "audio/wav"),
    ("ghi-am.ogg", OGG, "audio/ogg"), ("Ghi âm.M4A", M4A, "audio/mp4"),
])
def test_a_recording_is_filed_with_the_ticket(uow: Uow, services: Services, staff: dict[str, User], procedure: None,
                                              name: str, content: bytes, mime: str) -> None:
    ticket = take(uow, services, staff["tongdai"])
    assert not ticket.recorded_call
    with uow() as u:
        stored = console.attach_recording(u, services, staff["tongdai"], ticket.code, name, content)
        stored_id = stored.id
    after = ticket_of(uow, ticket.code)
    assert after.recording_id == stored_id and after.recorded_call
    with uow() as u:
        row = u.session.get(Attachment, stored_id)
        assert row is not None and (row.instance_id, row.task_id, row.content_type) == (ticket.instance_id, None, mime)
        assert row.content == content
    (event,) = log_of(uow, ticket)
    assert event.kind == "ghi_am" and event.detail is not None and event.detail["attachment_id"] == stored_id
    assert len(audits(uow, "hotline.attach_recording")) == 1


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("cuoc-goi.mp3", b"%PDF-1.7 not audio", "chỉ nhận MP3, WAV, OGG hoặc M4A"),
    ("cuoc-goi.mp3", b"\xff\xd8\xff\xe0 a jpeg", "chỉ nhận MP3, WAV, OGG hoặc M4A"),
    ("cuoc-goi.mp3", b"\xff\xf1 aac adts", "chỉ nhận MP3, WAV, OGG hoặc M4A"),
    ("cuoc-goi.mp3", WAV, "phần mở rộng phải là .wav"),
    ("cuoc-goi.exe", OGG, "phần mở rộng phải là .ogg"),
    ("cuoc-goi.mp3", b"", "Tệp rỗng"),
    ("", MP3, "Chưa chọn tệp"),
    ("cuoc-goi.mp3", b"ID3" + b"\x00" * 2048, "Tệp quá lớn: tối đa 2 KB"),
])
def test_a_wrong_or_oversized_recording_is_refused(uow: Uow, services: Services, staff: dict[str, User],
                                                   procedure: None, name: str, content: bytes, expected: str) -> None:
    small = dataclasses.replace(services, settings=dataclasses.replace(services.settings, max_attachment_bytes=2048))
    ticket = take(uow, services, staff["tongdai"])
    with uow() as u, pytest.raises(InvalidData) as refused:
        console.attach_recording(u, small, staff["tongdai"], ticket.code, name, content)
    assert expected in refused.value.message.vi
    assert ticket_of(uow, ticket.code).recording_id is None and log_of(uow, ticket) == []
    with uow() as u:
        assert u.session.scalar(select(Attachment.id)) is None


def test_taking_a_call_with_a_refused_recording_creates_nothing(uow: Uow, services: Services,
                                                                staff: dict[str, User], procedure: None) -> None:
    with uow() as u, pytest.raises(InvalidData):
        console.take_call(u, services, staff["tongdai"], caller="Trần Văn Ba", phone="0913123456", field="y_te",
                          content="Hỏi lịch tiêm chủng", recorded=True, recording=("ghi-am.mp3", b"not audio"))
    with uow() as u:
        assert u.session.scalar(select(HotlineTicket.id)) is None
        assert u.session.scalar(select(ProcessInstance.id)) is None
    with uow() as u:
        ticket = console.take_call(u, services, staff["tongdai"], caller="Trần Văn Ba", phone="0913123456",
                                   field="y_te", content="Hỏi lịch tiêm chủng", recorded=False,
                                   recording=("ghi-am.ogg", OGG))
        assert ticket.recorded_call and ticket.recording_id is not None and ticket.field == "y_te"
        assert console.first_task_id(u, ticket) is not None
        (earlier,) = console.caller_history(u, staff["tongdai"], "+84 913 123 456")
        assert (earlier.code, earlier.state_label.vi, earlier.excerpt) == (ticket.code, "Mới tiếp nhận",
                                                                           "Hỏi lịch tiêm chủng")
    with uow() as u, pytest.raises(Forbidden):
        console.take_call(u, services, staff["ld_syt"], caller="", phone="0913123456", field="",
                          content="Hỏi", recorded=False)


def test_contacts_are_masked_unless_an_operator_asks_and_every_full_view_is_audited(
        uow: Uow, services: Services, staff: dict[str, User], procedure: None) -> None:
    ticket = take(uow, services, staff["tongdai"], email="an.nguyen@gmail.com")
    with uow() as u:
        masked = console.ticket_view(u, services, staff["ld_syt"], ticket.code, full=False)
    assert (masked.caller_name, masked.phone, masked.email) == ("Nguyễn V. A.", "091****456", "a***@gmail.com")
    assert not masked.full and not masked.contact_role
    with uow() as u, pytest.raises(Forbidden):
        console.ticket_view(u, services, staff["ld_syt"], ticket.code, full=True)
    assert audits(uow, "hotline.view_contact") == []
    with uow() as u:
        operator_masked = console.ticket_view(u, services, staff["tongdai"], ticket.code, full=False)
    assert operator_masked.phone == "091****456" and operator_masked.contact_role
    assert audits(uow, "hotline.view_contact") == []
    with uow() as u:
        whole = console.ticket_view(u, services, staff["tongdai"], ticket.code, full=True)
    assert (whole.caller_name, whole.phone, whole.email) == ("Nguyễn Văn An", "0913123456", "an.nguyen@gmail.com")
    (row,) = audits(uow, "hotline.view_contact")
    assert (row.actor_id, row.instance_id) == (staff["tongdai"].id, ticket.instance_id)
    assert row.summary == f"Xem đầy đủ thông tin liên hệ của phiếu {ticket.code}."
    # the recording is personal data too: operators only, audited as a view
    with uow() as u:
        console.attach_recording(u, services, staff["tongdai"], ticket.code, "cuoc-goi.mp3", MP3)
    with uow() as u, pytest.raises(Forbidden):
        console.recording_file(u, staff["ld_syt"], ticket.code)
    with uow() as u:
        assert console.recording_file(u, staff["tongdai"], ticket.code).content == MP3
    assert len(audits(uow, "hotline.view_contact")) == 2


def test_an_agency_sees_only_the_tickets_routed_to_it(uow: Uow, services: Services, staff: dict[str, User],
                                                      procedure: None) -> None:
    school = take(uow, services, staff["tongdai"], content="Hỏi tuyển sinh lớp 10")
    other = take(uow, services, staff["tongdai"], content="Hỏi giấy phép xây dựng")
    classify(uow, services, staff, school, linh_vuc="giao_duc")
    routed = ticket_of(uow, school.code)
    assert routed.agency_code == "so_gd"
    with uow() as u:
        view = console.ticket_view(u, services, staff["cv_sgd"], school.code, full=False)
    assert view.agency_name == "Sở Giáo dục và Đào tạo" and view.field_label is not None
    assert view.state == "chuyen_co_quan" and [t.name for t in view.open_tasks]
    assert view.phone == "091****456"
    for who, code in (("cv_sgd", other.code), ("cv_sadec", school.code), ("daumoi_1022", school.code)):
        with uow() as u, pytest.raises(NotFound):
            console.ticket_view(u, services, staff[who], code, full=False)
    for who in ("ld_syt", "qt", "tongdai"):  # leaders, administrators and operators see every ticket
        with uow() as u:
            assert console.ticket_view(u, services, staff[who], other.code, full=False).code == other.code


def test_the_view_lists_the_ticket_log(uow: Uow, services: Services, staff: dict[str, User], procedure: None) -> None:
    ticket = take(uow, services, staff["tongdai"])
    with uow() as u:
        console.forward_call(u, services, staff["tongdai"], ticket.code, "so_gd", "113", False, "Khẩn")
        console.attach_recording(u, services, staff["tongdai"], ticket.code, "cuoc-goi.wav", WAV)
    with uow() as u:
        view = console.ticket_view(u, services, staff["ld_syt"], ticket.code, full=False)
    assert [(e.label.vi, e.actor) for e in view.events] == [("Chuyển cuộc gọi khẩn", "Đinh Thị Thoại"),
                                                            ("Ghi âm cuộc gọi", "Đinh Thị Thoại")]
    assert view.recording is not None and view.recording.name == "cuoc-goi.wav" and view.recorded_call
    assert view.instance_id == ticket.instance_id and view.channel_label.vi == "Điện thoại 1022"
