"""The videoconference MCU adapter, both implementations: `local` (the database) and `http` (against the local
stand-in of tests/engine/mcu_server.py, which checks the contract of docs/adapters.md). Every operation,
idempotency by key, refusals of bad data, passwords only by one-time links; the HTTP client's retries,
timeouts and refusals; and procedures calling the topics through the worker."""
from __future__ import annotations

import itertools
import json
import logging
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine import worker
from engine.adapters import mcu as mcu_module
from engine.adapters.base import AdapterError, AdapterRefused, AdapterRegistry, CallContext
from engine.adapters.mcu import TOPICS, LocalMcu, Mcu
from engine.adapters.mcu_http import NO_TOKEN, NOT_CONFIGURED, ContractBroken, HttpMcu
from engine.adapters.notifications import LocalNotifier
from engine.adapters.registry import KNOWN_TOPICS, build_mcu, build_registry
from engine.domain.enums import CallStatus, IncidentStatus, InstanceStatus
from engine.persistence.models import (
    AdapterOperation,
    CredentialLink,
    Incident,
    McuAccount,
    McuRoom,
    Notification,
    ProcessInstance,
    ServiceCall,
)
from engine.persistence.uow import UnitOfWork
from engine.services import credentials, identity, instances
from engine.services.context import Services
from engine.services.credentials import PasswordDelivery
from engine.settings import Settings
from tests.engine.conftest import Clock
from tests.engine.mcu_server import McuPeer

Uow = Callable[[], UnitOfWork]
KEY = "57:3f9c2a"
OFFICER = "binh.stc@dongthap.gov.vn"
MEETING: dict[str, Any] = {
    "noi_dung": "Hội nghị trực tuyến triển khai nhiệm vụ chuyển đổi số năm 2027",
    "hop_luc": "2026-11-30T08:00:00+07:00", "ket_thuc_luc": "2026-11-30T11:30:00+07:00",
    "dia_diem": "Phòng họp trực tuyến UBND tỉnh",
    "diem_cau": [
        {"ten_diem_cau": "UBND huyện Cao Lãnh", "dia_chi": "Số 1, thị trấn Mỹ Thọ", "so_nguoi": 25,
         "can_bo_ky_thuat": "Lê Văn Tâm", "dien_thoai": "0277 3822 111"},
        {"ten_diem_cau": "UBND xã Mỹ Hiệp", "dia_chi": "Ấp 3, xã Mỹ Hiệp", "so_nguoi": 12,
         "can_bo_ky_thuat": "Phạm Thị Hoa", "dien_thoai": "0277 3822 222"},
    ],
    "ghi_hinh": False, "email_can_bo": OFFICER,
}
ENDPOINTS = ["Phòng họp trực tuyến UBND tỉnh", "UBND huyện Cao Lãnh", "UBND xã Mỹ Hiệp"]


# ---------------------------------------------------------------- fixtures: one contract, two implementations


@pytest.fixture
def pauses() -> list[float]:
    """The pauses the HTTP client took between tries (recorded instead of slept)."""
    return []


@pytest.fixture
def generated(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the local MCU generates (still random: they are checked against hashes)."""
    issued: list[str] = []
    real = mcu_module.new_password

    def recorded() -> str:
        issued.append(real())
        return issued[-1]

    monkeypatch.setattr(mcu_module, "new_password", recorded)
    return issued


@pytest.fixture
def delivery(settings: Settings, session_factory: sessionmaker[Session], clock: Clock) -> PasswordDelivery:
    """One-time links whose notifications stay in the platform (NOTIFICATIONS=local)."""
    return PasswordDelivery(settings, session_factory, LocalNotifier(session_factory, clock), clock)


@pytest.fixture(params=["local", "http"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def mcu(kind: str, settings: Settings, session_factory: sessionmaker[Session], clock: Clock, mcu_peer: McuPeer,
        delivery: PasswordDelivery, generated: list[str]) -> Mcu:
    """The MCU the settings pick, as the registry builds it, its passwords delivered by one-time links."""
    chosen = replace(settings, mcu=kind, mcu_url=mcu_peer.url, mcu_token=mcu_peer.token)
    return build_mcu(chosen, session_factory, delivery.to_requester, clock)


@pytest.fixture
def http(mcu_peer: McuPeer, pauses: list[float]) -> HttpMcu:
    """The HTTP client alone (no database): its passwords would be dropped."""
    return HttpMcu(mcu_peer.url, mcu_peer.token, timeout=5, sleep=pauses.append)


class Holdings:
    """What the MCU holds, whichever it is: rooms by code, accounts by user name, passwords set."""

    def __init__(self, kind: str, sessions: sessionmaker[Session], peer: McuPeer, generated: list[str]) -> None:
        self.kind, self._sessions, self._peer, self._generated = kind, sessions, peer, generated

    def rooms(self) -> dict[str, dict[str, Any]]:
        if self.kind == "http":
            return {code: {"locked": r["locked"], "capacity": r["capacity"], "recording": r["recording"]}
                    for code, r in self._peer.rooms.items()}
        with self._sessions() as s:
            return {r.code: {"locked": r.locked, "capacity": r.capacity} for r in s.scalars(select(McuRoom))}

    def accounts(self) -> dict[str, tuple[str, bool]]:
        if self.kind == "http":
            return {name: (a["endpoint"], a["locked"]) for name, a in self._peer.accounts.items()}
        with self._sessions() as s:
            return {a.username: (a.endpoint, a.locked)
                    for a in s.scalars(select(McuAccount).order_by(McuAccount.id))}

    def passwords(self) -> list[str]:
        if self.kind == "http":
            return [a["password"] for a in self._peer.accounts.values()]
        return list(self._generated)

    def password_hash(self, username: str) -> str | None:
        with self._sessions() as s:
            return s.scalar(select(McuAccount.password_hash).where(McuAccount.username == username))


@pytest.fixture
def holdings(kind: str, session_factory: sessionmaker[Session], mcu_peer: McuPeer,
             generated: list[str]) -> Holdings:
    return Holdings(kind, session_factory, mcu_peer, generated)


def context() -> CallContext:
    return CallContext(0, 0, "Task_TaoPhongHop", "Tạo phòng họp ảo")


def with_room(mcu: Mcu, **changes: Any) -> dict[str, Any]:
    """The meeting's variables after its room was created."""
    data = {**MEETING, **changes}
    return {**data, **mcu.create_room("1:phong", data, context())}


def with_accounts(mcu: Mcu, **changes: Any) -> dict[str, Any]:
    data = with_room(mcu, **changes)
    return {**data, **mcu.create_accounts("1:tai-khoan", data, context())}


def notes(session_factory: sessionmaker[Session]) -> list[Notification]:
    with session_factory() as s:
        found = list(s.scalars(select(Notification).order_by(Notification.id)))
        s.expunge_all()
    return found


def reveal(uow: Uow, token: str, clock: Clock) -> credentials.Revealed:
    with uow() as u:
        return credentials.reveal(u, token, clock())


# ---------------------------------------------------------------- every operation, both implementations


def test_create_room_carries_every_endpoint_without_recording_unless_asked(mcu, holdings, mcu_peer) -> None:  # type: ignore[no-untyped-def]
    result = mcu.create_room(KEY, MEETING, context())
    room = result["phong_hop_ao"]
    assert set(room) == {"ma", "ten", "so_diem_cau", "ghi_hinh", "da_khoa"}
    assert (room["ten"], room["so_diem_cau"], room["ghi_hinh"], room["da_khoa"]) == (MEETING["noi_dung"], 3, False,
                                                                                     False)
    assert result["ket_qua"] == f"Đã tạo phòng họp ảo {room['ma']} cho 3 điểm cầu"
    assert holdings.rooms()[room["ma"]]["capacity"] == 3 and not holdings.rooms()[room["ma"]]["locked"]
    if holdings.kind == "http":
        (seen,) = mcu_peer.requests
        assert (seen.method, seen.path, seen.key) == ("POST", "/api/rooms", KEY)
        assert seen.body == {"name": MEETING["noi_dung"], "starts_at": "2026-11-30T08:00:00+07:00",
                             "ends_at": "2026-11-30T11:30:00+07:00", "capacity": 3}  # no "recording"
    else:
        assert room["ma"].startswith("HNTH-261130-")


@pytest.mark.parametrize(("given", "recorded"), [(True, True), ("true", False), (1, False), (None, False)])
def test_recording_is_asked_for_only_when_ghi_hinh_is_true(mcu, holdings, mcu_peer, given, recorded) -> None:  # type: ignore[no-untyped-def]
    room = mcu.create_room(KEY, {**MEETING, "ghi_hinh": given}, context())
    assert room["phong_hop_ao"]["ghi_hinh"] is recorded
    assert room["ket_qua"].endswith("; có ghi hình cuộc họp") is recorded
    if holdings.kind == "http":
        assert ("recording" in mcu_peer.requests[0].body) is recorded
        assert holdings.rooms()[room["phong_hop_ao"]["ma"]]["recording"] is recorded


def test_the_same_key_twice_makes_one_room_with_the_same_result(mcu, holdings, mcu_peer) -> None:  # type: ignore[no-untyped-def]
    first = mcu.create_room(KEY, MEETING, context())
    again = mcu.create_room(KEY, MEETING, context())
    assert first == again and len(holdings.rooms()) == 1
    first["phong_hop_ao"]["ten"] = "đổi trong dữ liệu hồ sơ"  # the caller's copy, not the stored result
    assert mcu.create_room(KEY, MEETING, context()) == again
    other = mcu.create_room("57:khac", MEETING, context())
    assert other["phong_hop_ao"]["ma"] != again["phong_hop_ao"]["ma"] and len(holdings.rooms()) == 2
    if holdings.kind == "http":
        assert mcu_peer.effects == 2 and mcu_peer.replays == 2


def test_one_personal_account_per_endpoint_passwords_only_by_one_time_links(  # type: ignore[no-untyped-def]
        mcu, holdings, session_factory, uow, clock, caplog) -> None:
    data = with_room(mcu)
    code = data["phong_hop_ao"]["ma"]
    with caplog.at_level(logging.DEBUG):
        result = mcu.create_accounts(KEY, data, context())
    accounts = result["tai_khoan_hop"]
    assert [a["diem_cau"] for a in accounts] == ENDPOINTS
    assert all(set(a) == {"diem_cau", "ten_dang_nhap", "da_khoa"} and a["da_khoa"] is False for a in accounts)
    usernames = [a["ten_dang_nhap"] for a in accounts]
    assert len(set(usernames)) == 3  # personal, never shared (Huế 279)
    assert holdings.accounts() == {name: (endpoint, False) for name, endpoint in zip(usernames, ENDPOINTS,
                                                                                      strict=True)}
    assert result["ket_qua"] == (f"Đã cấp 3 tài khoản cá nhân (mỗi điểm cầu một tài khoản) cho phòng họp ảo {code}; "
                                 f"mật khẩu gửi qua liên kết dùng một lần tới {OFFICER}")
    passwords = holdings.passwords()
    assert len(passwords) == 3
    shown = json.dumps(result, ensure_ascii=False) + caplog.text
    assert not any(p in shown for p in passwords)
    messages = notes(session_factory)
    assert [(n.recipient, n.channel) for n in messages] == [(OFFICER, "local")] * 3
    for message, username, password in zip(messages, usernames, passwords, strict=True):
        assert username in message.subject and "Hội nghị truyền hình" in message.subject
        assert password not in message.body
        token = credentials.token_in(message.body)
        assert token is not None
        opened = reveal(uow, token, clock)
        assert (opened.account, opened.system, opened.password) == (username, "mcu", password)
        if holdings.kind == "local":
            stored = holdings.password_hash(username)
            assert stored is not None and password not in stored
            assert identity.verify_password(stored, password)


def test_the_same_key_twice_makes_the_accounts_once_and_sends_no_second_link(  # type: ignore[no-untyped-def]
        mcu, holdings, session_factory) -> None:
    data = with_room(mcu)
    first = mcu.create_accounts(KEY, data, context())
    again = mcu.create_accounts(KEY, data, context())
    assert first == again
    assert len(holdings.accounts()) == 3 and len(holdings.passwords()) == 3
    assert len(notes(session_factory)) == 3
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(CredentialLink)) == 3


def test_a_second_set_of_accounts_for_the_room_is_refused(mcu, holdings) -> None:  # type: ignore[no-untyped-def]
    data = with_accounts(mcu)
    with pytest.raises(AdapterRefused, match=r"đã có tài khoản|đã được cấp tài khoản") as raised:
        mcu.create_accounts("57:lan-hai", data, context())
    assert raised.value.status == 409 and len(holdings.accounts()) == 3


def test_lock_room_and_lock_accounts_lock_them_in_the_mcu(mcu, holdings) -> None:  # type: ignore[no-untyped-def]
    data = with_accounts(mcu, ghi_hinh=True)
    code = data["phong_hop_ao"]["ma"]
    locked = mcu.lock_room(KEY, data, context())
    assert locked == {"phong_hop_ao": {**data["phong_hop_ao"], "da_khoa": True},
                      "ket_qua": f"Đã khóa phòng họp ảo {code}"}
    assert holdings.rooms()[code]["locked"] is True
    assert mcu.lock_room(KEY, data, context()) == locked  # replayed by key
    result = mcu.lock_accounts("57:khoa-tk", data, context())
    assert result["tai_khoan_hop"] == [{**a, "da_khoa": True} for a in data["tai_khoan_hop"]]
    assert result["ket_qua"] == f"Đã khóa 3 tài khoản của phòng họp ảo {code}"
    assert all(is_locked for _endpoint, is_locked in holdings.accounts().values())
    with pytest.raises(AdapterRefused, match="đã khóa") as raised:  # a locked room takes no new accounts
        mcu.create_accounts("57:them", {**data, "tai_khoan_hop": []}, context())
    assert raised.value.status == 409


def test_lock_accounts_locks_only_the_listed_ones_and_nothing_when_none(mcu, holdings) -> None:  # type: ignore[no-untyped-def]
    data = with_accounts(mcu)
    first = data["tai_khoan_hop"][:1]
    mcu.lock_accounts(KEY, {**data, "tai_khoan_hop": first}, context())
    assert [is_locked for _e, is_locked in holdings.accounts().values()] == [True, False, False]
    none = mcu.lock_accounts("57:rong", {**data, "tai_khoan_hop": []}, context())
    assert none == {"tai_khoan_hop": [],
                    "ket_qua": f"Phòng họp ảo {data['phong_hop_ao']['ma']}: không có tài khoản nào cần khóa"}


def test_list_participants_reports_every_account_and_who_is_connected(mcu, holdings, mcu_peer) -> None:  # type: ignore[no-untyped-def]
    data = with_accounts(mcu)
    code = data["phong_hop_ao"]["ma"]
    usernames = [a["ten_dang_nhap"] for a in data["tai_khoan_hop"]]
    if holdings.kind == "http":
        mcu_peer.connect(usernames[1], "2026-11-30T07:48:10+07:00")
    result = mcu.list_participants(KEY, data, context())
    expected = [{"diem_cau": endpoint, "ten_dang_nhap": name, "ket_noi": False, "tu_luc": None}
                for endpoint, name in zip(ENDPOINTS, usernames, strict=True)]
    if holdings.kind == "http":
        expected[1].update(ket_noi=True, tu_luc="2026-11-30T07:48:10+07:00")
        assert result == {"nguoi_tham_gia": expected, "ket_qua": f"Phòng họp ảo {code}: 1/3 điểm cầu đang kết nối"}
        assert mcu_peer.requests[-1].method == "GET"
    else:  # no live endpoints: honestly none connected
        assert result == {"nguoi_tham_gia": expected, "ket_qua": f"Phòng họp ảo {code}: 0/3 điểm cầu đang kết nối "
                                                                 "(MCU nội bộ: không có điểm cầu kết nối thật)"}


# ---------------------------------------------------------------- bad data: refused at once, nothing changed


@pytest.mark.parametrize(("changes", "message"), [
    ({"noi_dung": "  "}, "Thiếu nội dung cuộc họp (noi_dung)"),
    ({"hop_luc": "30/11/2026 08:00"}, "Thời điểm hop_luc không hợp lệ: 30/11/2026 08:00"),
    ({"hop_luc": "2026-11-30T08:00:00"}, "Thời điểm hop_luc thiếu múi giờ"),
    ({"ket_thuc_luc": None}, "Thời điểm ket_thuc_luc không hợp lệ: (trống)"),
    ({"ket_thuc_luc": "2026-11-30T07:00:00+07:00"}, "Giờ kết thúc (2026-11-30T07:00:00+07:00) phải sau giờ bắt đầu"),
    ({"dia_diem": ""}, "Thiếu địa điểm (điểm cầu chính) của cuộc họp (dia_diem)"),
    ({"diem_cau": [{"ten_diem_cau": "UBND huyện Cao Lãnh"}, {"dia_chi": "Ấp 3"}]},
     "Điểm cầu dòng 2 thiếu tên điểm cầu (ten_diem_cau)"),
    ({"diem_cau": "UBND huyện Cao Lãnh"}, "Danh sách điểm cầu (diem_cau) không hợp lệ"),
])
def test_bad_meeting_data_is_refused_without_asking_the_mcu(mcu, holdings, mcu_peer, changes, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AdapterRefused) as raised:
        mcu.create_room(KEY, {**MEETING, **changes}, context())
    assert str(raised.value).startswith(message) and raised.value.status == 422
    assert holdings.rooms() == {} and mcu_peer.requests == []


def test_operations_on_a_room_need_its_code_and_an_existing_room(mcu, holdings, mcu_peer, session_factory) -> None:  # type: ignore[no-untyped-def]
    for operation in (mcu.create_accounts, mcu.lock_room, mcu.lock_accounts, mcu.list_participants):
        with pytest.raises(AdapterRefused, match=r"Thiếu mã phòng họp ảo \(phong_hop_ao.ma\)"):
            operation(KEY, {**MEETING, "phong_hop_ao": {"ten": "Không có mã"}}, context())
    assert mcu_peer.requests == []
    unknown = {**MEETING, "phong_hop_ao": {"ma": "HNTH-000000-0000"},
               "tai_khoan_hop": [{"diem_cau": ENDPOINTS[0], "ten_dang_nhap": "khong-co"}]}
    for operation in (mcu.create_accounts, mcu.lock_room, mcu.lock_accounts, mcu.list_participants):
        with pytest.raises(AdapterRefused) as raised:
            operation(KEY, unknown, context())
        assert raised.value.status == 404 and "HNTH-000000-0000" in str(raised.value)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AdapterOperation)) == 0
    assert holdings.accounts() == {} and notes(session_factory) == []


def test_lock_accounts_refuses_accounts_of_another_room(mcu, holdings) -> None:  # type: ignore[no-untyped-def]
    data = with_accounts(mcu)
    stranger = {**data, "tai_khoan_hop": [*data["tai_khoan_hop"], {"diem_cau": "Lạ", "ten_dang_nhap": "nguoi-la"}]}
    with pytest.raises(AdapterRefused, match="nguoi-la") as raised:
        mcu.lock_accounts(KEY, stranger, context())
    assert raised.value.status == 404
    assert not any(is_locked for _e, is_locked in holdings.accounts().values())  # none locked
    with pytest.raises(AdapterRefused, match="Tài khoản dòng 1 thiếu tên đăng nhập"):
        mcu.lock_accounts(KEY, {**data, "tai_khoan_hop": [{"diem_cau": "X"}]}, context())


def test_a_meeting_larger_than_the_mcu_is_refused(kind, settings, session_factory, clock, delivery) -> None:  # type: ignore[no-untyped-def]
    with McuPeer(capacity=2) as small:
        chosen = replace(settings, mcu=kind, mcu_url=small.url, mcu_token=small.token, mcu_capacity=2)
        mcu = build_mcu(chosen, session_factory, delivery.to_requester, clock)
        with pytest.raises(AdapterRefused, match="2 điểm cầu") as raised:
            mcu.create_room(KEY, MEETING, context())
        assert raised.value.status == 409 and small.rooms == {} and small.violations == []
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(McuRoom)) == 0


def test_without_an_email_and_an_instance_no_one_can_receive_the_passwords(mcu, holdings, session_factory) -> None:  # type: ignore[no-untyped-def]
    data = with_room(mcu, email_can_bo="")
    with pytest.raises(AdapterError, match="thiếu thư điện tử cán bộ phụ trách"):
        mcu.create_accounts(KEY, data, context())
    assert notes(session_factory) == []
    if holdings.kind == "local":  # nothing kept: the retry starts afresh
        assert holdings.accounts() == {}


# ---------------------------------------------------------------- the HTTP client: retries, timeouts, refusals


def test_500_then_success_makes_exactly_one_room(http, mcu_peer, pauses) -> None:  # type: ignore[no-untyped-def]
    mcu_peer.fail_next(1, 500)
    result = http.create_room(KEY, MEETING, context())
    assert list(mcu_peer.rooms) == [result["phong_hop_ao"]["ma"]] and mcu_peer.effects == 1
    assert mcu_peer.keys() == [KEY, KEY] and pauses == [0.5]


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
def test_5xx_408_429_every_time_is_an_adapter_error_for_the_worker_to_retry(http, mcu_peer, pauses, status) -> None:  # type: ignore[no-untyped-def]
    mcu_peer.fail_next(3, status, {"error": "MCU đang bảo trì"})
    with pytest.raises(AdapterError) as raised:
        http.create_room(KEY, MEETING, context())
    assert not isinstance(raised.value, AdapterRefused)
    assert str(raised.value).startswith("Không thực hiện được tạo phòng họp ảo trên MCU sau 3 lần thử: "
                                        f"HTTP {status} — ")
    assert "MCU đang bảo trì" in str(raised.value)
    assert mcu_peer.keys() == [KEY] * 3 and mcu_peer.rooms == {} and pauses == [0.5, 1.0]


def test_timeouts_are_retried_then_an_adapter_error(mcu_peer, pauses) -> None:  # type: ignore[no-untyped-def]
    impatient = HttpMcu(mcu_peer.url, mcu_peer.token, timeout=0.2, sleep=pauses.append)
    mcu_peer.stall_next(3)
    with pytest.raises(AdapterError, match=r"lỗi kết nối .*(TimeoutError|timed out)") as raised:
        impatient.create_room(KEY, MEETING, context())
    assert not isinstance(raised.value, AdapterRefused)
    assert mcu_peer.keys() == [KEY] * 3 and mcu_peer.rooms == {}


def test_an_answer_lost_after_the_room_was_made_is_replayed_not_repeated(mcu_peer, pauses) -> None:  # type: ignore[no-untyped-def]
    impatient = HttpMcu(mcu_peer.url, mcu_peer.token, timeout=0.2, sleep=pauses.append)
    mcu_peer.stall_next(1, after_effect=True)
    result = impatient.create_room(KEY, MEETING, context())
    assert list(mcu_peer.rooms) == [result["phong_hop_ao"]["ma"]]
    assert mcu_peer.effects == 1 and mcu_peer.replays == 1 and mcu_peer.keys() == [KEY, KEY]


def test_a_closed_port_is_a_network_error(pauses) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = HttpMcu(f"http://127.0.0.1:{port}", "bi-mat-mcu", timeout=2, sleep=pauses.append)
    with pytest.raises(AdapterError, match="lỗi kết nối") as raised:
        closed.create_room(KEY, MEETING, context())
    assert "bi-mat-mcu" not in str(raised.value) and pauses == [0.5, 1.0]


def test_4xx_is_refused_at_once_showing_status_and_body_without_secrets(http, mcu_peer, pauses) -> None:  # type: ignore[no-untyped-def]
    mcu_peer.refuse_next(400, {"error": "Tên phòng chứa ký tự không hỗ trợ", "field": "name",
                               "echo": f"Authorization: Bearer {mcu_peer.token}", "password": "khong-duoc-lo"})
    with pytest.raises(AdapterRefused) as raised:
        http.create_room(KEY, MEETING, context())
    message = str(raised.value)
    assert raised.value.status == 400 and message.startswith("MCU từ chối tạo phòng họp ảo: HTTP 400 — ")
    assert "Tên phòng chứa ký tự không hỗ trợ" in message and "Bearer ***" in message
    assert mcu_peer.token not in message and "khong-duoc-lo" not in message
    assert len(mcu_peer.requests) == 1 and pauses == []


def test_a_wrong_token_and_an_unknown_room_are_refusals(mcu_peer) -> None:  # type: ignore[no-untyped-def]
    stranger = HttpMcu(mcu_peer.url, "ma-sai-mcu", timeout=5)
    with pytest.raises(AdapterRefused, match="HTTP 401") as raised:
        stranger.create_room(KEY, MEETING, context())
    assert "ma-sai-mcu" not in str(raised.value) and mcu_peer.rooms == {}


@pytest.mark.parametrize(("answer", "problem"), [
    ({"name": "thiếu id"}, "thiếu hoặc sai trường 'id'"),
    ({"id": "VC-9", "recording": True}, "ghi hình = True"),
    ("không phải JSON", "không phải đối tượng JSON"),
    (None, "không phải đối tượng JSON"),
])
def test_a_success_that_breaks_the_contract_is_an_error_not_a_result(http, mcu_peer, answer, problem) -> None:  # type: ignore[no-untyped-def]
    mcu_peer.fail_next(1, 201, answer)  # answered 201 with this body, nothing made
    with pytest.raises(ContractBroken, match=problem) as raised:
        http.create_room(KEY, MEETING, context())
    assert not isinstance(raised.value, AdapterRefused)  # retried with the same key by the worker


def test_accounts_answered_out_of_order_or_without_password_are_an_error(mcu_peer) -> None:  # type: ignore[no-untyped-def]
    handed: list[str] = []
    http = HttpMcu(mcu_peer.url, mcu_peer.token, timeout=5,
                   password_sink=lambda key, context, account, *_rest, **_kw: handed.append(account) or "")
    data = with_room(http)
    swapped = [{"username": f"u{i}", "endpoint": e, "password": "p", "locked": False}
               for i, e in enumerate(reversed(ENDPOINTS))]
    mcu_peer.fail_next(1, 201, {"accounts": swapped})
    with pytest.raises(ContractBroken, match="không theo thứ tự"):
        http.create_accounts(KEY, data, context())
    in_order = [{"username": f"u{i}", "endpoint": e, "locked": False} for i, e in enumerate(ENDPOINTS)]
    mcu_peer.fail_next(1, 201, {"accounts": in_order})
    with pytest.raises(ContractBroken, match="'password'"):
        http.create_accounts(KEY, data, context())
    assert handed == []  # nothing delivered from an answer that breaks the contract


def test_a_failed_link_is_sent_on_retry_with_the_passwords_the_mcu_replays(  # type: ignore[no-untyped-def]
        mcu_peer, delivery, session_factory, uow, clock) -> None:
    sends: list[str] = []

    def flaky(key: str, context: CallContext | None, account: str, email: str, password: str,
              session: Session | None = None) -> str:
        sends.append(account)
        if len(sends) == 2:
            raise AdapterError("Không gửi được thư qua máy chủ SMTP (thử nghiệm)")
        return delivery.to_requester(key, context, account, email, password, session)

    http = HttpMcu(mcu_peer.url, mcu_peer.token, timeout=5, password_sink=flaky)
    data = with_room(http)
    with pytest.raises(AdapterError, match="SMTP"):
        http.create_accounts(KEY, data, context())
    result = http.create_accounts(KEY, data, context())  # the worker's retry, same key
    assert len(mcu_peer.accounts) == 3 and mcu_peer.replays == 1
    messages = notes(session_factory)
    assert len(messages) == 3  # one per account: the first is not sent twice
    for message, account in zip(messages, result["tai_khoan_hop"], strict=True):
        token = credentials.token_in(message.body)
        assert token is not None
        assert reveal(uow, token, clock).password == mcu_peer.accounts[account["ten_dang_nhap"]]["password"]


# ---------------------------------------------------------------- configuration


def test_not_configured_fails_with_a_clear_vietnamese_message() -> None:
    settings = Settings.from_env({"MCU": "http"})
    unconfigured = HttpMcu(settings.mcu_url, settings.mcu_token, settings.mcu_timeout_seconds)
    with pytest.raises(AdapterError) as raised:
        unconfigured.create_room(KEY, MEETING)
    assert str(raised.value) == NOT_CONFIGURED == "Chưa cấu hình địa chỉ MCU (MCU_URL)"
    no_token = HttpMcu("http://127.0.0.1:9", "", 1)
    with pytest.raises(AdapterError) as raised:
        no_token.lock_room(KEY, {"phong_hop_ao": {"ma": "VC-0001"}})
    assert str(raised.value) == NO_TOKEN


def test_settings_read_the_environment_and_keep_the_token_out_of_reprs() -> None:
    settings = Settings.from_env({"MCU": " HTTP ", "MCU_URL": "http://127.0.0.1:8443/mcu", "MCU_TOKEN": "bi-mat-456",
                                  "MCU_TIMEOUT_SECONDS": "4", "MCU_CAPACITY": "60"})
    assert (settings.mcu, settings.mcu_url, settings.mcu_token, settings.mcu_timeout_seconds,
            settings.mcu_capacity) == ("http", "http://127.0.0.1:8443/mcu", "bi-mat-456", 4.0, 60)
    defaults = Settings.from_env({})
    assert (defaults.mcu, defaults.mcu_url, defaults.mcu_capacity) == ("local", "", 40)
    adapter = HttpMcu(settings.mcu_url, settings.mcu_token)
    assert "bi-mat-456" not in repr(settings) and "bi-mat-456" not in repr(adapter)
    for bad in ("0", "bốn mươi", "-3"):
        with pytest.raises(ValueError, match="MCU_CAPACITY"):
            Settings.from_env({"MCU_CAPACITY": bad})


def test_the_registry_picks_the_mcu_and_knows_its_topics(settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    assert {"mcu.create_room", "mcu.create_accounts", "mcu.lock_room", "mcu.lock_accounts",
            "mcu.list_participants"} == TOPICS
    assert KNOWN_TOPICS >= TOPICS and build_registry(settings, session_factory).topics() >= TOPICS
    assert isinstance(build_mcu(settings, session_factory), LocalMcu)
    assert isinstance(build_mcu(replace(settings, mcu="http"), session_factory), HttpMcu)
    with pytest.raises(ValueError, match="MCU='vnpt': use local or http"):
        build_mcu(replace(settings, mcu="vnpt"), session_factory)
    for url in ("127.0.0.1:8443", "ftp://127.0.0.1/", "http://nguoi:mk@127.0.0.1/", "http://127.0.0.1/?a=1"):
        with pytest.raises(ValueError, match="MCU_URL"):
            HttpMcu(url, "t")


def test_a_base_path_prefixes_every_request(mcu_peer, pauses) -> None:  # type: ignore[no-untyped-def]
    prefixed = HttpMcu(mcu_peer.url + "/mcu/", mcu_peer.token, sleep=pauses.append)
    with pytest.raises(AdapterRefused, match="HTTP 404"):  # the stand-in serves /api only
        prefixed.lock_room(KEY, {"phong_hop_ao": {"ma": "VC 1/2"}})
    assert [s.path for s in mcu_peer.requests] == ["/mcu/api/rooms/VC%201%2F2/lock"]


# ---------------------------------------------------------------- through the worker


def service_task(number: int, topic: str, name: str) -> str:
    return (f'<bpmn:serviceTask id="Task_{number}" name="{name}" camunda:type="external" '
            f'camunda:topic="{topic}"/>')


def procedure(process_id: str, steps: list[tuple[str, str]]) -> bytes:
    """A straight line of service tasks between a start and an end event."""
    nodes = ["StartEvent_BatDau", *(f"Task_{i}" for i in range(len(steps))), "EndEvent_KetThuc"]
    tasks = "\n    ".join(service_task(i, topic, name) for i, (topic, name) in enumerate(steps))
    flows = "\n    ".join(f'<bpmn:sequenceFlow id="Flow_{i}" sourceRef="{a}" targetRef="{b}"/>'
                          for i, (a, b) in enumerate(itertools.pairwise(nodes)))
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_{process_id}"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{process_id}" name="Thử phòng họp ảo trên MCU" isExecutable="true">
    <bpmn:startEvent id="StartEvent_BatDau"/>
    {tasks}
    <bpmn:endEvent id="EndEvent_KetThuc"/>
    {flows}
  </bpmn:process>
</bpmn:definitions>'''.encode()


WHOLE_MEETING = [("mcu.create_room", "Tạo phòng họp ảo"), ("mcu.create_accounts", "Cấp tài khoản điểm cầu"),
                 ("mcu.list_participants", "Kiểm tra điểm cầu kết nối"), ("mcu.lock_accounts", "Khóa tài khoản"),
                 ("mcu.lock_room", "Khóa phòng họp ảo")]


def outcome(uow: Uow, services: Services, instance_id: int) -> dict[str, Any]:
    with uow() as u:
        instance = u.session.get(ProcessInstance, instance_id)
        assert instance is not None
        workflow = services.runtime.restore(instance.version.spec_json, instance.state_json)
        calls = u.session.scalars(select(ServiceCall).where(ServiceCall.instance_id == instance_id)
                                  .order_by(ServiceCall.id)).all()
        incidents = u.session.scalars(select(Incident).where(Incident.instance_id == instance_id)).all()
        return {"status": instance.status, "data": dict(services.runtime.variables(workflow)),
                "calls": [(c.topic, c.status, c.attempts) for c in calls],
                "incidents": [(i.element_id, i.topic, i.message, i.status) for i in incidents]}


def test_a_whole_meeting_runs_through_the_worker_on_the_registrys_mcu(  # type: ignore[no-untyped-def]
        kind, publish, uow, people, settings, session_factory, clock, mcu_peer, generated) -> None:
    """create room → accounts → participants → lock accounts → lock room, with build_registry's wiring."""
    publish({"thu_mcu.bpmn": procedure("thu_mcu", WHOLE_MEETING)})
    chosen = replace(settings, mcu=kind, mcu_url=mcu_peer.url, mcu_token=mcu_peer.token)
    services = Services(chosen, build_registry(chosen, session_factory, clock), clock=clock)
    with uow() as u:
        instance_id = instances.start(u, services, people["cv_stc"], "thu_mcu", dict(MEETING)).id
    assert worker.run_once(uow, services, owner="w1") == 5
    after = outcome(uow, services, instance_id)
    assert after["status"] == InstanceStatus.COMPLETED
    assert [(topic, status) for topic, status, _a in after["calls"]] == [
        (topic, CallStatus.SUCCEEDED) for topic, _name in WHOLE_MEETING]
    data = after["data"]
    assert data["phong_hop_ao"]["da_khoa"] is True and data["phong_hop_ao"]["so_diem_cau"] == 3
    assert [(a["diem_cau"], a["da_khoa"]) for a in data["tai_khoan_hop"]] == [(e, True) for e in ENDPOINTS]
    assert [p["ket_noi"] for p in data["nguoi_tham_gia"]] == [False] * 3
    assert data["ket_qua"] == f"Đã khóa phòng họp ảo {data['phong_hop_ao']['ma']}"
    passwords = [a["password"] for a in mcu_peer.accounts.values()] if kind == "http" else generated
    assert len(passwords) == 3 and not any(p in json.dumps(data, ensure_ascii=False) for p in passwords)
    with session_factory() as s:
        links = s.scalars(select(CredentialLink).order_by(CredentialLink.id)).all()
        assert [(link.instance_id, link.recipient, link.system) for link in links] == [
            (instance_id, OFFICER, "mcu")] * 3
    assert all(n.instance_id == instance_id for n in notes(session_factory))


@pytest.fixture
def started(publish, uow, people, services, http) -> Iterator[Callable[[], tuple[Services, int]]]:  # type: ignore[no-untyped-def]
    """The one-step procedure (mcu.create_room) wired to the HTTP MCU against the local stand-in."""
    publish({"thu_phong_hop.bpmn": procedure("thu_phong_hop", WHOLE_MEETING[:1])}, topics=frozenset(TOPICS))
    wired = Services(services.settings, AdapterRegistry({"mcu.create_room": http.create_room}), clock=services.clock)

    def start() -> tuple[Services, int]:
        with uow() as u:
            return wired, instances.start(u, wired, people["cv_stc"], "thu_phong_hop", dict(MEETING)).id

    yield start


def test_worker_creates_the_room_on_the_mcu(started, uow, mcu_peer) -> None:  # type: ignore[no-untyped-def]
    services, instance_id = started()
    mcu_peer.fail_next(1, 503)  # retried inside the call
    assert worker.run_once(uow, services, owner="w1") == 1
    after = outcome(uow, services, instance_id)
    assert after["status"] == InstanceStatus.COMPLETED
    assert after["calls"] == [("mcu.create_room", CallStatus.SUCCEEDED, 1)]
    assert list(mcu_peer.rooms) == [after["data"]["phong_hop_ao"]["ma"]]
    first, again = mcu_peer.keys()  # the worker's call key, the same on the retry
    assert first == again and str(first).startswith(f"{instance_id}:")


def test_worker_turns_the_mcus_refusal_into_an_incident_showing_the_answer(started, uow, mcu_peer, clock) -> None:  # type: ignore[no-untyped-def]
    services, instance_id = started()
    mcu_peer.refuse_next(422, {"error": "Khung giờ đã hết tài nguyên MCU", "token": mcu_peer.token})
    assert worker.run_once(uow, services, owner="w1") == 0
    after = outcome(uow, services, instance_id)
    assert (after["status"], after["calls"]) == (InstanceStatus.ERROR, [("mcu.create_room", CallStatus.FAILED, 1)])
    ((element_id, topic, message, status),) = after["incidents"]
    assert (element_id, topic, status) == ("Task_0", "mcu.create_room", IncidentStatus.OPEN)
    assert message.startswith("MCU từ chối tạo phòng họp ảo: HTTP 422 — ")
    assert "Khung giờ đã hết tài nguyên MCU" in message and message.endswith("(bị từ chối, không thử lại)")
    assert mcu_peer.token not in message
    clock.advance(days=1)
    assert worker.run_once(uow, services, owner="w1") == 0
    assert len(mcu_peer.requests) == 1 and mcu_peer.rooms == {}
