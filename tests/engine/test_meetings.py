"""The meeting register (rows kept in step with meeting instances), its rules, conflicts and range queries."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.domain.enums import InstanceStatus
from engine.domain.errors import InvalidData, NotFound
from engine.persistence.models import Meeting, ProcessInstance, User
from engine.persistence.uow import UnitOfWork
from engine.services import instances, meeting_calendar, meeting_conflicts, meetings
from engine.services.context import Services
from engine.services.meeting_conflicts import ConflictKind
from engine.services.meetings import MeetingState
from engine.settings import Settings
from tests.engine.conftest import Clock, Publish
from tests.meeting_procedure import PROCESS_ID, book, do_ready_task, procedure_files, registration, take_to

VN = ZoneInfo("Asia/Ho_Chi_Minh")
Uow = Callable[[], UnitOfWork]


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=VN)


@pytest.fixture
def procedure(publish: Publish) -> None:
    publish(procedure_files())


@pytest.fixture
def booking(uow: Uow, services: Services, people: dict[str, User]) -> Callable[..., int]:
    """`booking(data, state="dang_ky")`: an instance of the test procedure taken to that state."""
    def run(data: dict[str, Any], state: str = "dang_ky") -> int:
        instance_id = book(uow, services, people["cv_stc"], data)
        take_to(uow, services, people["cv_stc"], people["cv_sttt"], instance_id, state)
        return instance_id
    return run


def row_of(uow: Uow, instance_id: int) -> Meeting | None:
    with uow() as u:
        row = meetings.of_instance(u, instance_id)
        if row is not None:
            u.session.expunge(row)
        return row


# ---------------------------------------------------------------- the register through the real save path


@pytest.mark.usefixtures("procedure")
def test_a_registered_meeting_gets_its_row_from_the_variables(uow: Uow, services: Services,
                                                              people: dict[str, User], clock: Clock) -> None:
    with uow() as u:
        instance_id = instances.start(u, services, people["cv_stc"], PROCESS_ID).id
        assert meetings.is_meeting_procedure(u.session.get(ProcessInstance, instance_id).version)
    assert row_of(uow, instance_id) is None  # nothing is described before Phụ lục I is filled
    take = registration("Hội nghị sơ kết 6 tháng", "2026-12-03", "08:00", level="tw_tinh",
                        room="Phòng họp số 1, UBND tỉnh", satellites=3, dot_xuat=True)
    do_ready_task(uow, services, people["cv_stc"], instance_id, take)
    row = row_of(uow, instance_id)
    assert row is not None
    assert (row.process_id, row.title, row.level) == (PROCESS_ID, "Hội nghị sơ kết 6 tháng", "tw_tinh")
    assert row.starts_at == at("2026-12-03", "08:00")
    assert row.ends_at == at("2026-12-03", "11:30")  # no end given: the end of the morning session
    assert (row.room, row.host_unit, row.endpoints, row.urgent) == (
        "Phòng họp số 1, UBND tỉnh", "Văn phòng UBND tỉnh", 4, True)
    assert row.state == MeetingState.REGISTERED.value
    assert row.updated_at == clock.now  # the services' clock, like every other time the engine writes
    registered_at = clock.now
    clock.advance(hours=2)
    with uow() as u:  # a save that changes nothing of the meeting leaves the row alone
        instance = u.session.get(ProcessInstance, instance_id)
        instances.save_state(u, services, instance, services.runtime.restore(instance.version.spec_json,
                                                                             instance.state_json))
        u.commit()
    assert row_of(uow, instance_id).updated_at == registered_at
    do_ready_task(uow, services, people["cv_sttt"], instance_id, {"trang_thai_hop": "da_xac_nhan"})
    confirmed = row_of(uow, instance_id)
    assert (confirmed.state, confirmed.updated_at) == ("da_xac_nhan", clock.now)


@pytest.mark.usefixtures("procedure")
@pytest.mark.parametrize(("state", "status"), [
    ("da_xac_nhan", InstanceStatus.RUNNING), ("tu_choi", InstanceStatus.COMPLETED),
    ("da_hop", InstanceStatus.COMPLETED), ("hoan", InstanceStatus.COMPLETED), ("huy", InstanceStatus.COMPLETED),
    ("cancelled", InstanceStatus.CANCELLED),
])
def test_the_row_follows_the_meeting_state(uow: Uow, booking: Callable[..., int], state: str,
                                           status: InstanceStatus) -> None:
    instance_id = booking(registration("Giao ban trực tuyến", "2026-12-04", "14:00", gio_ket_thuc="16:30"), state)
    row = row_of(uow, instance_id)
    assert row is not None
    assert row.state == ("huy" if state == "cancelled" else state)
    assert row.ends_at == at("2026-12-04", "16:30")  # gio_ket_thuc on the meeting day
    with uow() as u:
        assert u.session.get(ProcessInstance, instance_id).status == status
        assert u.session.scalar(select(Meeting.id).where(Meeting.instance_id == instance_id)) == row.id


@pytest.mark.usefixtures("procedure")
def test_cancelling_before_registration_leaves_no_row(uow: Uow, services: Services,
                                                      people: dict[str, User]) -> None:
    with uow() as u:
        instance_id = instances.start(u, services, people["cv_stc"], PROCESS_ID).id
    with uow() as u:
        instances.cancel(u, services, people["cv_stc"], instance_id)
    assert row_of(uow, instance_id) is None


def test_other_procedures_have_no_rows(uow: Uow, services: Services, people: dict[str, User],
                                       published: Any) -> None:
    with uow() as u:
        instance = instances.start(u, services, people["cv_stc"], "email_account",
                                   {"noi_dung": "Cấp thư điện tử", "ngay_hop": "2026-12-03"})
        assert not meetings.is_meeting_procedure(instance.version)
    with uow() as u:
        assert u.session.scalar(select(Meeting.id)) is None


# ---------------------------------------------------------------- reading the variables (pure rules)


def facts(**variables: Any) -> meetings.MeetingFacts:
    return meetings.read_facts(variables, VN)


def test_the_start_comes_from_hop_luc_else_from_day_and_time() -> None:
    assert facts(hop_luc="2026-12-03T08:00:00+07:00").starts_at == at("2026-12-03", "08:00")
    assert facts(hop_luc="2026-12-03T01:00:00Z").starts_at == at("2026-12-03", "08:00")
    assert facts(hop_luc="2026-12-03T08:00").starts_at == at("2026-12-03", "08:00")  # naive: Vietnam time
    assert facts(ngay_hop="2026-12-03", gio_bat_dau="13:30").starts_at == at("2026-12-03", "13:30")
    assert facts(hop_luc="hôm nay", ngay_hop="2026-12-03", gio_bat_dau="07:45").starts_at == at("2026-12-03", "07:45")
    assert facts(ngay_hop=date(2026, 12, 3), gio_bat_dau="09:15").starts_at == at("2026-12-03", "09:15")
    for broken in ({"ngay_hop": "03/12/2026", "gio_bat_dau": "08:00"}, {"ngay_hop": "2026-12-03"},
                   {"ngay_hop": "2026-12-03", "gio_bat_dau": "8 giờ"}, {}):
        found = facts(**broken)
        assert (found.starts_at, found.ends_at) == (None, None), broken


@pytest.mark.parametrize(("start", "variables", "end"), [
    ("08:00", {}, "11:30"),                                   # morning session
    ("13:30", {}, "17:00"),                                   # afternoon session
    ("11:45", {}, "17:00"),                                   # after 11:30: the afternoon's end
    ("17:30", {}, "19:30"),                                   # evening: two hours
    ("08:00", {"gio_ket_thuc": "09:30"}, "09:30"),
    ("08:00", {"gio_ket_thuc": "07:00"}, "11:30"),            # an end before the start is ignored
    ("08:00", {"ket_thuc_luc": "2026-12-03T10:15:00+07:00", "gio_ket_thuc": "09:30"}, "10:15"),
    ("08:00", {"buoi": "ca_ngay"}, "17:00"),                  # the registered session, as meeting_end reads it
    ("08:00", {"buoi": "khong_ro"}, "11:30"),                 # an unknown session is not read
    ("08:00", {"ket_thuc_luc": "2026-12-03T07:00:00+07:00", "buoi": "chieu"}, "17:00"),
])
def test_the_end_rules(start: str, variables: dict[str, Any], end: str) -> None:
    found = facts(ngay_hop="2026-12-03", gio_bat_dau=start, **variables)
    assert found.ends_at == at("2026-12-03", end)


def test_levels_endpoints_texts_and_states() -> None:
    assert facts(cap_hop="TW - Tỉnh - Huyện").level == "tw_tinh_huyen"
    assert facts(cap_hop="Trung Ương - Tỉnh").level == "tw_tinh"
    assert facts(cap_hop="Liên tỉnh").level == "Liên tỉnh"  # kept as written, shown as written
    assert meetings.level_label("Liên tỉnh").vi == "Liên tỉnh"
    assert meetings.level_label("huyen_xa").vi == "Huyện - Xã"
    assert facts(diem_cau=[{"ten_diem_cau": "A"}, {"ten_diem_cau": "B"}]).endpoints == 3
    assert facts(diem_cau="không phải danh sách").endpoints == 1
    assert facts(noi_dung="  Họp   giao ban \n tuần ").title == "Họp giao ban tuần"
    assert facts(dot_xuat="true").urgent and not facts(dot_xuat=False).urgent and not facts().urgent
    assert facts(trang_thai_hop="da_hop").state is MeetingState.HELD
    assert facts(trang_thai_hop="xong").state is None
    assert not facts().registered and facts(noi_dung="Họp").registered


@pytest.mark.parametrize(("recorded", "status", "previous", "expected"), [
    (MeetingState.CONFIRMED, InstanceStatus.RUNNING, "dang_ky", MeetingState.CONFIRMED),
    (MeetingState.CONFIRMED, InstanceStatus.CANCELLED, "da_xac_nhan", MeetingState.CANCELLED),
    (MeetingState.HELD, InstanceStatus.CANCELLED, "da_hop", MeetingState.HELD),  # held is a fact
    (None, InstanceStatus.CANCELLED, "da_hop", MeetingState.HELD),
    (None, InstanceStatus.CANCELLED, "dang_hop", MeetingState.CANCELLED),
    # Finished without a state: the last recorded one stays; "held" is never inferred.
    (None, InstanceStatus.COMPLETED, "da_xac_nhan", MeetingState.CONFIRMED),
    (None, InstanceStatus.COMPLETED, None, MeetingState.REGISTERED),
    (None, InstanceStatus.ERROR, "dang_hop", MeetingState.IN_SESSION),
])
def test_state_resolution(recorded: MeetingState | None, status: InstanceStatus, previous: str | None,
                          expected: MeetingState) -> None:
    assert meetings.resolve_state(recorded, status, previous) is expected


# ---------------------------------------------------------------- conflicts (pure)


def meeting(mid: int, start: str, end: str, room: str = "Phòng họp A", endpoints: int = 1,
            state: str = "da_xac_nhan", day: str = "2026-12-03") -> Meeting:
    return Meeting(id=mid, instance_id=100 + mid, title=f"Cuộc họp {mid}", room=room, endpoints=endpoints,
                   state=state, starts_at=at(day, start), ends_at=at(day, end))


def clashes(pool: list[Meeting], capacity: int = 40) -> dict[int, list[tuple[ConflictKind, list[int]]]]:
    found = meeting_conflicts.among(pool, pool, capacity, VN)
    return {mid: [(c.kind, [o.id for o in c.others]) for c in conflicts] for mid, conflicts in found.items()}


def test_same_room_at_the_same_time_whatever_the_spelling() -> None:
    pool = [meeting(1, "08:00", "11:30", "Phòng họp số 1"), meeting(2, "10:00", "11:00", "  phong HOP so1 "),
            meeting(3, "11:30", "12:00", "Phòng họp số 1"),   # starts when 1 ends: no overlap
            meeting(4, "08:00", "11:30", "Phòng họp số 2"), meeting(5, "09:00", "10:00", "")]
    assert clashes(pool) == {1: [(ConflictKind.ROOM, [2])], 2: [(ConflictKind.ROOM, [1])]}
    found = meeting_conflicts.among(pool, pool, 40, VN)
    assert found[1][0].message.vi == "Trùng phòng họp “Phòng họp số 1” với “Cuộc họp 2” (10:00–11:00 03/12/2026)."
    assert found[2][0].message.en.startswith("Room “  phong HOP so1 ” is also booked for “Cuộc họp 1”")


def test_refused_and_cancelled_meetings_hold_no_time_postponed_ones_hold_their_new_time() -> None:
    pool = [meeting(1, "08:00", "11:30"), meeting(2, "08:00", "11:30", state="tu_choi"),
            meeting(3, "08:00", "11:30", state="huy"), meeting(4, "10:00", "11:30", state="hoan"),
            meeting(5, "09:00", "10:00", state="da_hop")]
    assert clashes(pool) == {1: [(ConflictKind.ROOM, [4, 5])], 4: [(ConflictKind.ROOM, [1])],
                             5: [(ConflictKind.ROOM, [1])]}


def test_mcu_capacity_counts_endpoints_in_session_together() -> None:
    pool = [meeting(1, "08:00", "11:30", "Phòng A", 20), meeting(2, "09:00", "10:00", "Phòng B", 15),
            meeting(3, "09:30", "11:00", "Phòng C", 6),   # 20 + 15 + 6 = 41 from 09:30 to 10:00
            meeting(4, "10:00", "11:30", "Phòng D", 10),  # 20 + 6 + 10 = 36: within capacity
            meeting(5, "14:00", "16:00", "Phòng E", 45)]  # alone and still over
    assert clashes(pool) == {
        1: [(ConflictKind.CAPACITY, [2, 3])], 2: [(ConflictKind.CAPACITY, [1, 3])],
        3: [(ConflictKind.CAPACITY, [1, 2])], 5: [(ConflictKind.CAPACITY, [])]}
    found = meeting_conflicts.among(pool, pool, 40, VN)
    assert found[3][0].endpoints == 41 and found[3][0].capacity == 40
    assert found[3][0].message.vi.startswith("Vượt dung lượng MCU: 41 điểm cầu cùng lúc (tối đa 40), cùng với "
                                             "“Cuộc họp 1” (08:00–11:30 03/12/2026), “Cuộc họp 2”")
    assert found[5][0].message.vi == "Vượt dung lượng MCU: 45 điểm cầu cùng lúc (tối đa 40)."
    assert clashes(pool, capacity=50) == {}


# ---------------------------------------------------------------- conflicts and ranges on the database


@pytest.mark.usefixtures("procedure")
def test_conflicts_and_range_queries_on_stored_meetings(uow: Uow, booking: Callable[..., int],
                                                        settings: Settings, services: Services) -> None:
    sunday_evening = booking(registration("Họp cuối tuần", "2026-12-06", "21:00", room="Phòng trực tuyến"),
                             "da_xac_nhan")
    # Monday 7 Dec: a week later; 00:30 is still Sunday 6 Dec 17:30 UTC.
    monday = booking(registration("Họp đầu tuần", "2026-12-07", "00:00", room="phòng TRỰC TUYẾN"), "da_xac_nhan")
    big_a = booking(registration("Hội nghị tỉnh A", "2026-12-08", "08:00", room="Hội trường A", satellites=24))
    big_b = booking(registration("Hội nghị tỉnh B", "2026-12-08", "09:00", room="Hội trường B", satellites=19))
    refused = booking(registration("Họp bị từ chối", "2026-12-08", "08:00", room="Hội trường A", satellites=30),
                      "tu_choi")
    zone = ZoneInfo(settings.timezone)
    with uow() as u:
        week = meetings.between(u, date(2026, 11, 30), date(2026, 12, 6), zone)
        assert [m.instance_id for m in week] == [sunday_evening]
        next_week = meetings.between(u, date(2026, 12, 7), date(2026, 12, 13), zone)
        assert [m.instance_id for m in next_week] == [monday, big_a, refused, big_b]  # by start, then booking
        by_instance = {m.instance_id: m for m in (*week, *next_week)}
        # Sunday 21:00–23:00 and Monday 00:00…: no overlap, though the rooms are the same.
        assert by_instance[sunday_evening].ends_at == at("2026-12-06", "23:00")
        found = meeting_conflicts.find(u, week, settings.mcu_capacity, zone)
        assert found == {}
        found = meeting_conflicts.find(u, next_week, settings.mcu_capacity, zone)
        ids = {m.instance_id: m.id for m in next_week}
        assert set(found) == {ids[big_a], ids[big_b]}  # 25 + 20 endpoints from 09:00; the refused one is free
        (conflict,) = found[ids[big_a]]
        assert conflict.kind is ConflictKind.CAPACITY and conflict.endpoints == 45
        assert [o.id for o in conflict.others] == [ids[big_b]]
        # One meeting asked alone is still compared with the meetings around it.
        alone = meeting_conflicts.find(u, [by_instance[big_b]], settings.mcu_capacity, zone)
        assert [o.id for o in alone[ids[big_b]][0].others] == [ids[big_a]]
        assert [c.kind for c in meeting_calendar.conflicts_of(u, services, by_instance[big_b])] == [
            ConflictKind.CAPACITY]
        # The week as the calendar shows it: Monday to Sunday, empty days too.
        assert meeting_calendar.week_of(date(2026, 12, 10)) == (date(2026, 12, 7), date(2026, 12, 13))
        view = meeting_calendar.agenda(u, services, date(2026, 12, 7), date(2026, 12, 13))
        assert [len(d.meetings) for d in view.days] == [1, 3, 0, 0, 0, 0, 0]
        assert [m.instance_id for m in view.in_conflict] == [big_a, big_b] and view.capacity == 40


@pytest.mark.usefixtures("procedure")
def test_an_overnight_booking_meets_the_next_weeks_first_meeting(uow: Uow, booking: Callable[..., int],
                                                                 settings: Settings) -> None:
    late = booking(registration("Trực ban", "2026-12-06", "22:00", room="Phòng trực tuyến",
                                gio_ket_thuc="23:45"), "da_xac_nhan")
    with uow() as u:
        row = meetings.of_instance(u, late)
        assert row is not None
        row.ends_at = at("2026-12-07", "01:00")  # as a procedure's ket_thuc_luc may say
        u.commit()
    early = booking(registration("Họp sớm", "2026-12-07", "00:30", room="Phong truc tuyen"), "da_xac_nhan")
    zone = ZoneInfo(settings.timezone)
    with uow() as u:
        monday = meetings.between(u, date(2026, 12, 7), date(2026, 12, 13), zone)
        assert [m.instance_id for m in monday] == [early]
        found = meeting_conflicts.find(u, monday, 40, zone)
        (conflict,) = found[monday[0].id]
        assert conflict.kind is ConflictKind.ROOM and [o.instance_id for o in conflict.others] == [late]


def test_ranges_and_days_are_checked_in_vietnamese() -> None:
    assert meetings.parse_range("2026-12-01", "2027-01-31") == (date(2026, 12, 1), date(2027, 1, 31))
    with pytest.raises(InvalidData) as caught:
        meetings.parse_range("2026-12-01", "2027-02-01")
    assert caught.value.message.vi == "Mỗi lần chỉ xem được tối đa 62 ngày."
    with pytest.raises(InvalidData) as caught:
        meetings.parse_range("03/12/2026", "2026-12-31")
    assert caught.value.message.vi.startswith("Từ ngày “03/12/2026” không phải ngày hợp lệ")
    with pytest.raises(InvalidData) as caught:
        meetings.parse_range("2026-12-31", "2026-12-01")
    assert caught.value.message.vi == "“Từ ngày” phải trước hoặc bằng “Đến ngày”."
    for bad in ("", None, "2026-02-30", "1999-01-01", "2026-1-5"):
        with pytest.raises(InvalidData):
            meetings.parse_day(bad, meetings.TO_LABEL)


def test_get_refuses_an_unknown_meeting(uow: Uow) -> None:
    with uow() as u, pytest.raises(NotFound):
        meetings.get(u, 12345)


def test_the_end_is_read_in_the_meetings_zone() -> None:
    found = facts(hop_luc="2026-12-03T01:00:00Z")  # 08:00 in Đồng Tháp: the morning session
    assert found.ends_at == at("2026-12-03", "11:30")
    found = facts(hop_luc="2026-12-03T10:00:00Z")  # 17:00 in Đồng Tháp: two hours
    assert found.ends_at == at("2026-12-03", "19:00")
