"""Hotline 1022 tickets: intake with a per-year code, the hotline_1022 process, routing by the DMN table."""
from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import worker
from engine.domain.enums import InstanceStatus, TaskStatus
from engine.domain.errors import InvalidData
from engine.persistence.models import HotlineTicket, HumanTask, Notification, ProcessInstance, Unit, User
from engine.persistence.uow import UnitOfWork
from engine.safe_xml import parse_xml
from engine.services import demo, hotline, instances
from engine.services.context import Services
from tests.engine.conftest import PROCESSES_DIR, Publish, add_people, bundled

Uow = Callable[[], UnitOfWork]
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


@pytest.fixture
def staff(uow: Uow, session_factory: sessionmaker[Session], people: dict[str, User]) -> dict[str, User]:
    """The test people, the centre's operator, focal point and leader, and the agencies' focal points and heads."""
    return add_people(uow, session_factory, {
        "tongdai": ("Đinh Thị Thoại", "ttpvhcc", ["tong_dai_vien"]),
        "daumoi_1022": ("Lưu Thị Hằng", "ttpvhcc", ["chuyen_vien"]),
        "ld_syt": ("Châu Văn Minh", "so_yt", ["lanh_dao"]),
        "cv_sgd": ("Phan Thị Giáo", "so_gd", ["chuyen_vien"]),
        "cv_sadec": ("Võ Văn Đéc", "ubnd_tp_sadec", ["chuyen_vien"]),
        "cv_caolanh": ("Cao Thị Ngọc", "ubnd_caolanh", ["chuyen_vien"]),
    }, {"ttpvhcc": "Trung tâm Phục vụ hành chính công", "so_gd": "Sở Giáo dục và Đào tạo",
        "ubnd_tp_sadec": "UBND thành phố Sa Đéc", "ubnd_caolanh": "UBND huyện Cao Lãnh"})


@pytest.fixture
def procedure(publish: Publish, staff: dict[str, User]) -> None:
    bundled(publish, "hotline_1022")


def take(uow: Uow, services: Services, actor: User | None, **fields: Any) -> HotlineTicket:
    values: dict[str, Any] = {"channel": "dien_thoai", "caller": "Nguyễn Văn An", "phone": "0913 123 456",
                              "content": "Hỏi thủ tục cấp lại giấy khai sinh"}
    values.update(fields)
    with uow() as u:
        ticket = hotline.intake(u, services, actor, **values)
        u.session.expunge(ticket)
        return ticket


def ticket_of(uow: Uow, code: str) -> HotlineTicket:
    with uow() as u:
        ticket = u.session.scalar(select(HotlineTicket).where(HotlineTicket.code == code))
        assert ticket is not None
        u.session.expunge(ticket)
        return ticket


def ready(uow: Uow, instance_id: int | None) -> dict[str, HumanTask]:
    with uow() as u:
        rows = list(u.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY)))
        for row in rows:
            _ = row.candidates
        u.session.expunge_all()
        return {row.element_id: row for row in rows}


def complete(uow: Uow, services: Services, actor: User, task: HumanTask, data: dict[str, Any]) -> None:
    with uow() as u:
        instances.complete_task(u, services, actor, task.id, data)


def classify(uow: Uow, services: Services, staff: dict[str, User], ticket: HotlineTicket, *, linh_vuc: str,
             dia_ban: str = "tinh", huong_xu_ly: str = "chuyen_co_quan", **more: Any) -> dict[str, HumanTask]:
    (task,) = ready(uow, ticket.instance_id).values()
    assert task.element_id == "Task_PhanLoai"
    complete(uow, services, staff["tongdai"], task, {"linh_vuc": linh_vuc, "cap_do": "thuong", "dia_ban": dia_ban,
                                                     "huong_xu_ly": huong_xu_ly, **more})
    return ready(uow, ticket.instance_id)


def units_of(uow: Uow, task: HumanTask) -> set[tuple[str, str]]:
    with uow() as u:
        codes = {unit.id: unit.code for unit in u.session.scalars(select(Unit))}
    return {(codes.get(c.unit_id or 0, "?"), c.role) for c in task.candidates}


# ---------------------------------------------------------------- intake


def test_intake_numbers_tickets_per_year_and_starts_the_process(uow, services, staff, procedure) -> None:  # type: ignore[no-untyped-def]
    first = take(uow, services, staff["tongdai"], recorded_call=True)
    second = take(uow, services, None, channel="web", phone="", email="Dan@Example.VN",
                  content="Góp ý về thời gian tiếp dân", field="thu_tuc_hanh_chinh")
    assert (first.code, second.code) == ("1022-2026-000001", "1022-2026-000002")
    assert (first.phone, first.recorded_call, first.operator_id) == ("0913123456", True, staff["tongdai"].id)
    assert (second.email, second.field, second.operator_id) == ("dan@example.vn", "thu_tuc_hanh_chinh", None)
    with uow() as u:
        instance = u.session.get(ProcessInstance, first.instance_id)
        assert instance is not None and instance.status == InstanceStatus.RUNNING
        assert instance.title == "Phiếu 1022-2026-000001"
        # A contact arriving by itself is taken in the name of the centre's operator on duty.
        other = u.session.get(ProcessInstance, second.instance_id)
        assert other is not None and other.initiator_id == staff["tongdai"].id
    assert set(ready(uow, first.instance_id)) == {"Task_PhanLoai"}
    assert first.state == "moi"
    with uow() as u:
        assert [t.code for t in hotline.earlier_tickets(u, "+84 913.123.456")] == ["1022-2026-000001"]


def test_intake_is_idempotent_by_external_id(uow, services, staff, procedure) -> None:  # type: ignore[no-untyped-def]
    once = take(uow, services, None, channel="zalo", phone="0987654321", external_id="zalo:msg-42")
    again = take(uow, services, None, channel="zalo", phone="0987654321", external_id="zalo:msg-42")
    assert again.id == once.id and again.code == once.code
    with uow() as u:
        assert u.session.query(HotlineTicket).count() == 1
        assert u.session.query(ProcessInstance).count() == 1


def test_the_same_message_arriving_concurrently_makes_one_ticket(uow, services, staff, procedure) -> None:  # type: ignore[no-untyped-def]
    codes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def one() -> None:
        try:
            start.wait()
            codes.append(take(uow, services, None, channel="facebook", phone="0987654321",
                              external_id="facebook:mid.777").code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and codes == ["1022-2026-000001"] * 4
    with uow() as u:
        assert u.session.query(HotlineTicket).count() == 1
        assert u.session.query(ProcessInstance).count() == 1
    # The losers gave their numbers back.
    assert take(uow, services, staff["tongdai"]).code == "1022-2026-000002"


@pytest.mark.parametrize(("fields", "says"), [
    ({"channel": "fax"}, "Kênh tiếp nhận “fax” không được hỗ trợ"),
    ({"content": "   "}, "Nội dung phản ánh, kiến nghị không được để trống"),
    ({"content": "x" * 5001}, "Nội dung dài quá 5000 ký tự"),
    ({"phone": "12345"}, "Số điện thoại “12345” không hợp lệ"),
    ({"phone": ""}, "Cuộc gọi đến tổng đài cần số điện thoại"),
    ({"channel": "email", "phone": "", "email": "khong-phai-thu"}, "Địa chỉ thư điện tử “khong-phai-thu” không hợp lệ"),
    ({"field": "bong_da"}, "Lĩnh vực “bong_da” không có trong danh mục"),
])
def test_bad_input_is_refused_and_changes_nothing(uow, services, staff, procedure, fields, says) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidData) as refused:
        take(uow, services, staff["tongdai"], **fields)
    assert says in refused.value.message.vi
    with uow() as u:
        assert u.session.query(HotlineTicket).count() == 0
    # The refused intake took no number.
    assert take(uow, services, staff["tongdai"]).code == "1022-2026-000001"


def test_concurrent_intakes_get_distinct_consecutive_codes(uow, services, staff, procedure) -> None:  # type: ignore[no-untyped-def]
    codes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def one(n: int) -> None:
        try:
            start.wait()
            codes.append(take(uow, services, None, channel="chat", phone=f"09000000{n:02d}").code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(codes) == [f"1022-2026-{n:06d}" for n in range(1, 7)]


# ---------------------------------------------------------------- the process


@pytest.mark.parametrize(("linh_vuc", "dia_ban", "agency", "officer"), [
    ("y_te", "tinh", "so_yt", "cv_syt"),
    ("an_toan_thuc_pham", "tp_sadec", "so_yt", "cv_syt"),
    ("giao_duc", "caolanh", "so_gd", "cv_sgd"),
    ("thu_tuc_hanh_chinh", "tp_sadec", "ubnd_tp_sadec", "cv_sadec"),
    ("ha_tang_ky_thuat", "caolanh", "ubnd_caolanh", "cv_caolanh"),
    ("khac", "tinh", "ttpvhcc", "daumoi_1022"),
])
def test_routing_table_gives_the_ticket_to_the_right_agency(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, linh_vuc, dia_ban, agency, officer) -> None:
    ticket = take(uow, services, staff["tongdai"])
    tasks = classify(uow, services, staff, ticket, linh_vuc=linh_vuc, dia_ban=dia_ban)
    assert set(tasks) == {"Task_CoQuanTraLoi"}
    assert units_of(uow, tasks["Task_CoQuanTraLoi"]) == {(agency, "chuyen_vien")}
    routed = ticket_of(uow, ticket.code)
    assert (routed.state, routed.agency_code, routed.field, routed.locality) == (
        "chuyen_co_quan", agency, linh_vuc, dia_ban)
    # The agency's focal point has the task; the operator does not.
    assert instances.can_perform(staff[officer], tasks["Task_CoQuanTraLoi"])
    assert not instances.can_perform(staff["tongdai"], tasks["Task_CoQuanTraLoi"])


def test_a_113_referral_closes_the_ticket_as_referred(uow, services, staff, procedure, clock) -> None:  # type: ignore[no-untyped-def]
    ticket = take(uow, services, staff["tongdai"], content="Có đánh nhau trước chợ")
    assert classify(uow, services, staff, ticket, linh_vuc="khac", huong_xu_ly="chuyen_kenh", kenh_chuyen="113") == {}
    closed = ticket_of(uow, ticket.code)
    assert (closed.state, closed.closed_at) == ("chuyen_kenh", clock.now)
    with uow() as u:
        instance = u.session.get(ProcessInstance, ticket.instance_id)
        assert instance is not None and instance.status == InstanceStatus.COMPLETED
        assert (instance.facts or {}).get("ket_qua_xu_ly") == "Đã hướng dẫn chuyển kênh 113"


def test_an_answer_from_the_knowledge_base_closes_the_ticket(uow, services, staff, procedure) -> None:  # type: ignore[no-untyped-def]
    ticket = take(uow, services, staff["tongdai"])
    tasks = classify(uow, services, staff, ticket, linh_vuc="thu_tuc_hanh_chinh", huong_xu_ly="tra_loi_ngay")
    complete(uow, services, staff["tongdai"], tasks["Task_TraLoiNgay"], {
        "tra_loi": "Nộp tờ khai tại UBND cấp xã nơi cư trú.", "cach_phan_hoi": "Trả lời trực tiếp trong cuộc gọi",
        "cong_khai": True})
    closed = ticket_of(uow, ticket.code)
    assert (closed.state, closed.answer, closed.answer_published) == (
        "da_tra_loi", "Nộp tờ khai tại UBND cấp xã nơi cư trú.", True)
    assert closed.closed_at is not None and not ready(uow, ticket.instance_id)


def test_an_overdue_agency_answer_escalates_then_the_reply_closes(  # type: ignore[no-untyped-def]
        uow, services, staff, procedure, clock) -> None:
    ticket = take(uow, services, staff["tongdai"], content="Trạm y tế xã đóng cửa giờ hành chính")
    tasks = classify(uow, services, staff, ticket, linh_vuc="y_te")
    answer = tasks["Task_CoQuanTraLoi"]
    # Routed on Thursday 26/11 09:00: 03 working days end at the close of Tuesday 01/12 (17:00).
    assert answer.due_at == datetime(2026, 12, 1, 17, tzinfo=VIETNAM)
    clock.now = answer.due_at - timedelta(minutes=1)
    worker.run_once(uow, services, owner="worker-test")
    assert set(ready(uow, ticket.instance_id)) == {"Task_CoQuanTraLoi"}
    clock.now = answer.due_at + timedelta(minutes=1)
    while worker.run_once(uow, services, owner="worker-test"):
        pass
    tasks = ready(uow, ticket.instance_id)
    assert set(tasks) == {"Task_CoQuanTraLoi", "Task_DonDoc"} and tasks["Task_CoQuanTraLoi"].id == answer.id
    assert units_of(uow, tasks["Task_DonDoc"]) == {("so_yt", "lanh_dao")}
    with uow() as u:
        notices = list(u.session.scalars(select(Notification).where(Notification.instance_id == ticket.instance_id)))
        assert [n.subject for n in notices] == [f"Phiếu {ticket.code} quá hạn trả lời"]
    complete(uow, services, staff["ld_syt"], tasks["Task_DonDoc"], {"y_kien_chi_dao": "Trả lời ngay trong ngày."})
    complete(uow, services, staff["cv_syt"], answer, {"tra_loi": "Trạm đã bố trí trực đủ giờ hành chính.",
                                                      "nguoi_tra_loi": "Võ Minh Dũng, chuyên viên"})
    assert ticket_of(uow, ticket.code).state == "chuyen_co_quan"
    (reply,) = ready(uow, ticket.instance_id).values()
    assert reply.element_id == "Task_PhanHoiCongDan"
    complete(uow, services, staff["tongdai"], reply, {
        "tra_loi": "Trạm y tế đã bố trí trực đủ giờ hành chính.", "cach_phan_hoi": "Gọi lại số 0913123456",
        "cong_khai": False})
    closed = ticket_of(uow, ticket.code)
    assert (closed.state, closed.answer_published, closed.closed_at) == ("da_tra_loi", False, clock.now)


def test_the_demo_has_every_agency_the_routing_table_names() -> None:
    """`make run`'s organisation holds each unit code the shipped table can give (fixed codes and UBND + locality)."""
    table = parse_xml((PROCESSES_DIR / "hotline_routing.dmn").read_bytes()).getroot()
    cells = [e.text or "" for e in table.iter(f"{{{DMN_NS}}}text")]
    outputs = [e.findtext(f"{{{DMN_NS}}}text") or "" for e in table.iter(f"{{{DMN_NS}}}outputEntry")]
    fixed = {o.strip('"') for o in outputs if re.fullmatch(r'"[a-z_]+"', o)}
    (by_locality,) = (o for o in outputs if "dia_ban" in o)
    localities = set(re.findall(r'"([a-z_]+)"', next(c for c in cells if '"tp_sadec"' in c)))
    named = fixed | {by_locality.split('"')[1] + place for place in localities}
    assert {"so_yt", "so_gd", "ttpvhcc", "ubnd_tp_sadec", "ubnd_caolanh"} <= named
    assert named <= {code for code, _name in demo.UNITS}
