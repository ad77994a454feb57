"""Videoconference MCU adapter: virtual meeting rooms and each endpoint's personal account (docs/adapters.md).

Five operations, one per topic (`TOPICS`), read the meeting variables of the shared contract and return
variables to merge with a `ket_qua` for the history. `MCU` picks the implementation: `local` records rooms
and accounts in the platform's database (the embedded default; it has no live endpoints), `http` speaks
the HTTP/JSON contract of docs/adapters.md to an MCU or a gateway in front of it (`engine.adapters.mcu_http`).
What both share — reading and checking the variables, the results, the password hand-over — is here.
"""
from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.adapters.base import AdapterRefused, CallContext, Operation
from engine.adapters.mail_directory import new_password
from engine.persistence.models import AdapterOperation, McuAccount, McuRoom, utcnow
from engine.services.identity import hash_password

CREATE_ROOM, CREATE_ACCOUNTS = "mcu.create_room", "mcu.create_accounts"
LOCK_ROOM, LOCK_ACCOUNTS, LIST_PARTICIPANTS = "mcu.lock_room", "mcu.lock_accounts", "mcu.list_participants"
TOPICS = frozenset({CREATE_ROOM, CREATE_ACCOUNTS, LOCK_ROOM, LOCK_ACCOUNTS, LIST_PARTICIPANTS})
#: Longest room code and user name kept (the local store's columns; an HTTP MCU must keep to them too).
MAX_CODE = 64
#: Longest room name sent to the MCU (the meeting's `noi_dung`, cut).
MAX_NAME = 255
#: The status a refusal of bad meeting data carries, before any MCU is asked (as an HTTP MCU would answer).
INVALID, NOT_FOUND, CONFLICT = 422, 404, 409


class AccountPasswordSink(Protocol):
    """Hands one account's password to a person by a one-time link (PasswordDelivery.to_requester)."""

    def __call__(self, key: str, context: CallContext | None, account: str, email: str, password: str,
                 session: Session | None = None) -> str:
        """Issue the link for `key` (one per account) to `email`; return where it went, in words. With
        `session` the link joins the caller's transaction. Raise AdapterError when it cannot be sent."""


class Mcu(Protocol):
    """What the platform asks of an MCU; each call is idempotent by its key (the worker's call key)."""

    name: str

    def create_room(self, key: str, data: Mapping[str, Any], context: CallContext | None = None) -> dict[str, Any]:
        """noi_dung, hop_luc, ket_thuc_luc, dia_diem, diem_cau, ghi_hinh → {"phong_hop_ao", "ket_qua"}."""

    def create_accounts(self, key: str, data: Mapping[str, Any],
                        context: CallContext | None = None) -> dict[str, Any]:
        """phong_hop_ao, dia_diem, diem_cau, email_can_bo → {"tai_khoan_hop", "ket_qua"}; passwords go
        only by one-time links."""

    def lock_room(self, key: str, data: Mapping[str, Any], context: CallContext | None = None) -> dict[str, Any]:
        """phong_hop_ao → {"phong_hop_ao" (da_khoa True), "ket_qua"}."""

    def lock_accounts(self, key: str, data: Mapping[str, Any],
                      context: CallContext | None = None) -> dict[str, Any]:
        """phong_hop_ao, tai_khoan_hop → {"tai_khoan_hop" (each da_khoa True), "ket_qua"}."""

    def list_participants(self, key: str, data: Mapping[str, Any],
                          context: CallContext | None = None) -> dict[str, Any]:
        """phong_hop_ao → {"nguoi_tham_gia": [{diem_cau, ten_dang_nhap, ket_noi, tu_luc}], "ket_qua"}."""


def operations(mcu: Mcu) -> dict[str, Operation]:
    """The registry's entries: each topic → the MCU's operation."""
    return {CREATE_ROOM: mcu.create_room, CREATE_ACCOUNTS: mcu.create_accounts, LOCK_ROOM: mcu.lock_room,
            LOCK_ACCOUNTS: mcu.lock_accounts, LIST_PARTICIPANTS: mcu.list_participants}


# ---------------------------------------------------------------- reading the meeting variables


def refused(message: str, status: int = INVALID) -> AdapterRefused:
    """Bad meeting data (or a room the MCU does not have): sending it again cannot help, so the worker
    raises the incident at once with this message."""
    return AdapterRefused(message, status, "")


@dataclass(frozen=True)
class RoomPlan:
    """The room a meeting needs: its name, its time and the endpoints it carries (main one first)."""

    name: str
    starts_at: datetime
    ends_at: datetime
    endpoints: tuple[str, ...]
    recording: bool


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _moment(data: Mapping[str, Any], name: str) -> datetime:
    text = _text(data.get(name))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None:
        raise refused(f"Thời điểm {name} không hợp lệ: {text or '(trống)'} (cần dạng ISO 8601 có múi giờ)")
    if moment.tzinfo is None:
        raise refused(f"Thời điểm {name} thiếu múi giờ: {text}")
    return moment


def endpoints_of(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The main endpoint (`dia_diem`) then each satellite endpoint's `ten_diem_cau`: one account each."""
    main = _text(data.get("dia_diem"))
    if not main:
        raise refused("Thiếu địa điểm (điểm cầu chính) của cuộc họp (dia_diem)")
    rows = data.get("diem_cau") or []
    if not isinstance(rows, list):
        raise refused("Danh sách điểm cầu (diem_cau) không hợp lệ")
    names = [main]
    for number, row in enumerate(rows, 1):
        name = _text(row.get("ten_diem_cau")) if isinstance(row, Mapping) else ""
        if not name:
            raise refused(f"Điểm cầu dòng {number} thiếu tên điểm cầu (ten_diem_cau)")
        names.append(name)
    return tuple(names)


def room_plan(data: Mapping[str, Any]) -> RoomPlan:
    """The room `mcu.create_room` asks for; bad or missing variables are refused with the reason."""
    name = _text(data.get("noi_dung"))
    if not name:
        raise refused("Thiếu nội dung cuộc họp (noi_dung): không đặt được tên phòng họp ảo")
    starts_at, ends_at = _moment(data, "hop_luc"), _moment(data, "ket_thuc_luc")
    if ends_at <= starts_at:
        raise refused(f"Giờ kết thúc ({ends_at.isoformat()}) phải sau giờ bắt đầu ({starts_at.isoformat()})")
    # Recording needs the chair's consent (Huế 279): only an explicit True asks the MCU to record.
    return RoomPlan(name[:MAX_NAME], starts_at, ends_at, endpoints_of(data), data.get("ghi_hinh") is True)


def room_of(data: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The `phong_hop_ao` variable (a copy) and its code."""
    room = data.get("phong_hop_ao")
    code = _text(room.get("ma")) if isinstance(room, Mapping) else ""
    if not code or len(code) > MAX_CODE:
        raise refused("Thiếu mã phòng họp ảo (phong_hop_ao.ma): hãy tạo phòng họp ảo trước")
    assert isinstance(room, Mapping)
    return dict(room), code


def usernames_of(data: Mapping[str, Any]) -> list[str]:
    """The `ten_dang_nhap` of every `tai_khoan_hop` row."""
    rows = data.get("tai_khoan_hop") or []
    if not isinstance(rows, list):
        raise refused("Danh sách tài khoản (tai_khoan_hop) không hợp lệ")
    names = []
    for number, row in enumerate(rows, 1):
        name = _text(row.get("ten_dang_nhap")) if isinstance(row, Mapping) else ""
        if not name:
            raise refused(f"Tài khoản dòng {number} thiếu tên đăng nhập (ten_dang_nhap)")
        names.append(name)
    return names


def recipient_of(data: Mapping[str, Any]) -> str:
    """Where the password links go: the officer who registered the meeting (`email_can_bo`)."""
    return _text(data.get("email_can_bo")).lower()


# ---------------------------------------------------------------- results


def room_result(code: str, name: str, endpoints: int, recording: bool) -> dict[str, Any]:
    text = f"Đã tạo phòng họp ảo {code} cho {endpoints} điểm cầu" + ("; có ghi hình cuộc họp" if recording else "")
    return {"phong_hop_ao": {"ma": code, "ten": name, "so_diem_cau": endpoints, "ghi_hinh": recording,
                             "da_khoa": False}, "ket_qua": text}


def accounts_result(accounts: list[tuple[str, str]], code: str, sent_to: str | None) -> dict[str, Any]:
    """`accounts`: (endpoint, user name) in the endpoints' order; `sent_to`: where the links went."""
    text = f"Đã cấp {len(accounts)} tài khoản cá nhân (mỗi điểm cầu một tài khoản) cho phòng họp ảo {code}"
    if sent_to:
        text += f"; mật khẩu gửi qua liên kết dùng một lần tới {sent_to}"
    return {"tai_khoan_hop": [{"diem_cau": endpoint, "ten_dang_nhap": username, "da_khoa": False}
                              for endpoint, username in accounts], "ket_qua": text}


def locked_room_result(room: Mapping[str, Any], code: str) -> dict[str, Any]:
    return {"phong_hop_ao": {**room, "ma": code, "da_khoa": True}, "ket_qua": f"Đã khóa phòng họp ảo {code}"}


def locked_accounts_result(data: Mapping[str, Any], code: str) -> dict[str, Any]:
    rows = [{**row, "da_khoa": True} for row in data.get("tai_khoan_hop") or []]
    text = (f"Đã khóa {len(rows)} tài khoản của phòng họp ảo {code}" if rows
            else f"Phòng họp ảo {code}: không có tài khoản nào cần khóa")
    return {"tai_khoan_hop": rows, "ket_qua": text}


def participants_result(code: str, participants: list[dict[str, Any]], note: str = "") -> dict[str, Any]:
    connected = sum(1 for p in participants if p["ket_noi"])
    text = f"Phòng họp ảo {code}: {connected}/{len(participants)} điểm cầu đang kết nối{note}"
    return {"nguoi_tham_gia": participants, "ket_qua": text}


# ---------------------------------------------------------------- the local (database) MCU


class LocalMcu:
    """Records rooms and accounts in `mcu_rooms` / `mcu_accounts` (the embedded default).

    Each write's change, its password links and notifications, and its result stored in
    `adapter_operations` under the key commit together: a retry by key returns the first result and
    changes nothing; a refusal or a failed send changes nothing at all. There are no live endpoints,
    so every account is listed as not connected.
    """

    name = "local"

    def __init__(self, session_factory: Callable[[], Session], capacity: int = 40,
                 timezone: str = "Asia/Ho_Chi_Minh", sink: AccountPasswordSink | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = session_factory
        self.capacity = capacity
        self._zone = ZoneInfo(timezone)
        self._sink = sink
        self._clock = clock

    def _once(self, key: str, work: Callable[[Session], dict[str, Any]]) -> dict[str, Any]:
        with self._sessions() as session:
            stored = session.get(AdapterOperation, key)
            if stored is None:
                result = work(session)
                session.add(AdapterOperation(key=key, adapter="mcu.local", result=result))
                session.commit()
            else:
                result = stored.result
            return copy.deepcopy(result)  # the instance's data must not share the stored object

    @staticmethod
    def _room(session: Session, code: str) -> McuRoom:
        room = session.scalar(select(McuRoom).where(McuRoom.code == code))
        if room is None:
            raise refused(f"MCU không có phòng họp ảo {code}", NOT_FOUND)
        return room

    def create_room(self, key: str, data: Mapping[str, Any], context: CallContext | None = None) -> dict[str, Any]:
        plan = room_plan(data)
        if len(plan.endpoints) > self.capacity:
            raise refused(f"Cuộc họp có {len(plan.endpoints)} điểm cầu, vượt năng lực của MCU "
                          f"({self.capacity} điểm cầu cùng lúc, MCU_CAPACITY)", CONFLICT)

        def work(session: Session) -> dict[str, Any]:
            day = plan.starts_at.astimezone(self._zone)
            code = f"HNTH-{day:%y%m%d}-{secrets.token_hex(2).upper()}"
            while session.scalar(select(McuRoom.id).where(McuRoom.code == code)) is not None:
                code = f"HNTH-{day:%y%m%d}-{secrets.token_hex(3).upper()}"
            session.add(McuRoom(code=code, name=plan.name, starts_at=plan.starts_at, ends_at=plan.ends_at,
                                capacity=len(plan.endpoints), created_at=self._clock()))
            session.flush()
            return room_result(code, plan.name, len(plan.endpoints), plan.recording)

        return self._once(key, work)

    def create_accounts(self, key: str, data: Mapping[str, Any],
                        context: CallContext | None = None) -> dict[str, Any]:
        _room, code = room_of(data)
        endpoints = endpoints_of(data)
        email = recipient_of(data)

        def work(session: Session) -> dict[str, Any]:
            room = self._room(session, code)
            if room.locked:
                raise refused(f"Phòng họp ảo {code} đã khóa: không cấp thêm tài khoản", CONFLICT)
            if session.scalar(select(McuAccount.id).where(McuAccount.room_id == room.id).limit(1)) is not None:
                raise refused(f"Phòng họp ảo {code} đã được cấp tài khoản", CONFLICT)
            if len(endpoints) > room.capacity:
                raise refused(f"Cuộc họp có {len(endpoints)} điểm cầu, phòng họp ảo {code} chỉ tạo cho "
                              f"{room.capacity} điểm cầu", CONFLICT)
            accounts, sent_to = [], None
            for number, endpoint in enumerate(endpoints, 1):
                username = f"{code.lower()}-{number:02d}"
                # Only the hash is kept; the clear password leaves by the sink's one-time link.
                password = new_password()
                session.add(McuAccount(room_id=room.id, username=username, endpoint=endpoint[:255],
                                       password_hash=hash_password(password), created_at=self._clock()))
                if self._sink is not None:
                    sent_to = self._sink(f"{key}:{username}", context, username, email, password, session=session)
                accounts.append((endpoint, username))
            session.flush()
            return accounts_result(accounts, code, sent_to)

        return self._once(key, work)

    def lock_room(self, key: str, data: Mapping[str, Any], context: CallContext | None = None) -> dict[str, Any]:
        given, code = room_of(data)

        def work(session: Session) -> dict[str, Any]:
            room = self._room(session, code)
            if not room.locked:
                room.locked, room.locked_at = True, self._clock()
            return locked_room_result({**given, "ten": room.name, "so_diem_cau": room.capacity}, code)

        return self._once(key, work)

    def lock_accounts(self, key: str, data: Mapping[str, Any],
                      context: CallContext | None = None) -> dict[str, Any]:
        _given, code = room_of(data)
        usernames = usernames_of(data)

        def work(session: Session) -> dict[str, Any]:
            room = self._room(session, code)
            accounts = {a.username: a for a in session.scalars(
                select(McuAccount).where(McuAccount.room_id == room.id, McuAccount.username.in_(usernames)))}
            unknown = [name for name in usernames if name not in accounts]
            if unknown:
                raise refused(f"Phòng họp ảo {code} không có tài khoản {', '.join(unknown)}", NOT_FOUND)
            for account in accounts.values():
                account.locked = True
            return locked_accounts_result(data, code)

        return self._once(key, work)

    def list_participants(self, key: str, data: Mapping[str, Any],
                          context: CallContext | None = None) -> dict[str, Any]:
        """A reading, not a change: nothing is stored under the key."""
        _given, code = room_of(data)
        with self._sessions() as session:
            room = self._room(session, code)
            accounts = session.scalars(select(McuAccount).where(McuAccount.room_id == room.id)
                                       .order_by(McuAccount.id)).all()
            participants = [{"diem_cau": a.endpoint, "ten_dang_nhap": a.username, "ket_noi": False, "tu_luc": None}
                            for a in accounts]
        return participants_result(code, participants, " (MCU nội bộ: không có điểm cầu kết nối thật)")
