"""A stand-in for an MCU on 127.0.0.1: serves the MCU's HTTP/JSON contract of docs/adapters.md.

No vendor MCU exists here, so this server is the other side of the contract. It shares the project
software stand-in's machinery — token, `Accept`, UTF-8 JSON bodies, an idempotency key on every write,
a key replayed only for the same request, faults on demand, breaches recorded in `violations` — and
differs only in its routes: rooms, their personal accounts, locks and the participants list.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from tests.engine.project_software_server import Answer, ProjectSoftwarePeer

ROOM_FIELDS = frozenset({"name", "starts_at", "ends_at", "capacity", "recording"})


def _moment(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


class McuPeer(ProjectSoftwarePeer):
    """`with McuPeer() as mcu:` serves on `mcu.url`; `rooms` by id, `accounts` by user name."""

    def __init__(self, token: str = "", capacity: int = 40) -> None:
        super().__init__(token)
        self.capacity = capacity
        self.rooms: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self._next_room = 1

    def connect(self, username: str, since: str) -> None:
        """The endpoint using `username` joins the room at `since` (an aware ISO-8601 time)."""
        with self._lock:
            self.accounts[username].update(connected=True, since=since)

    # ------------------------------------------------------------ routes

    def _route(self, method: str, path: str, body: dict[str, Any] | None) -> Answer:
        parts = [unquote(p) for p in path.split("/") if p]
        if parts[:2] != ["api", "rooms"] or len(parts) > 5:
            return Answer(404, {"error": "Không có đường dẫn này"})
        if len(parts) == 2:
            return self._create_room(body or {}) if method == "POST" else Answer(405, {"error": "Không hỗ trợ"})
        room = self.rooms.get(parts[2])
        if room is None:
            return Answer(404, {"error": f"Không có phòng {parts[2]}"})
        route = (method, "/".join(parts[3:]))
        if route == ("POST", "accounts"):
            return self._create_accounts(room, body or {})
        if route == ("POST", "lock"):
            if body:
                return self._violation(400, "Khóa phòng không nhận nội dung nào ngoài {}")
            room["locked"] = True
            return Answer(200, room)
        if route == ("POST", "accounts/lock"):
            return self._lock_accounts(room, body or {})
        if route == ("GET", "participants"):
            return Answer(200, {"participants": [
                {"username": a["username"], "endpoint": a["endpoint"], "connected": a["connected"],
                 "since": a["since"]} for a in self.accounts.values() if a["room"] == room["id"]]})
        if route == ("GET", ""):
            return Answer(200, room)
        return Answer(404, {"error": "Không có đường dẫn này"})

    def _create_room(self, body: dict[str, Any]) -> Answer:
        unknown = set(body) - ROOM_FIELDS
        if unknown:
            return Answer(400, {"error": f"Trường không hỗ trợ: {sorted(unknown)}"})
        if "recording" in body and body["recording"] is not True:
            return self._violation(400, "recording chỉ được gửi khi bằng true")
        starts_at, ends_at = _moment(body.get("starts_at")), _moment(body.get("ends_at"))
        capacity = body.get("capacity")
        if not isinstance(body.get("name"), str) or not body["name"].strip() or starts_at is None \
                or ends_at is None or not isinstance(capacity, int) or capacity < 1:
            return self._violation(400, f"Phòng thiếu hoặc sai name, starts_at, ends_at, capacity: {body}")
        if ends_at <= starts_at:
            return Answer(422, {"error": "Giờ kết thúc phải sau giờ bắt đầu"})
        if capacity > self.capacity:
            return Answer(409, {"error": f"MCU chỉ mang được {self.capacity} điểm cầu cùng lúc"})
        room_id = f"VC-{self._next_room:04d}"
        self._next_room += 1
        self.rooms[room_id] = {"id": room_id, "name": body["name"], "starts_at": body["starts_at"],
                               "ends_at": body["ends_at"], "capacity": capacity,
                               "recording": body.get("recording", False), "locked": False}
        return Answer(201, self.rooms[room_id])

    def _create_accounts(self, room: dict[str, Any], body: dict[str, Any]) -> Answer:
        wanted = body.get("accounts")
        if set(body) != {"accounts"} or not isinstance(wanted, list) or not wanted or not all(
                isinstance(a, dict) and set(a) == {"endpoint"} and isinstance(a["endpoint"], str) for a in wanted):
            return self._violation(400, f"Tài khoản phải là {{'accounts': [{{'endpoint': …}}]}}: {body}")
        if room["locked"]:
            return Answer(409, {"error": f"Phòng {room['id']} đã khóa"})
        if any(a["room"] == room["id"] for a in self.accounts.values()):
            return Answer(409, {"error": f"Phòng {room['id']} đã có tài khoản"})
        if len(wanted) > room["capacity"]:
            return Answer(409, {"error": f"Phòng {room['id']} chỉ có {room['capacity']} điểm cầu"})
        made = []
        for number, item in enumerate(wanted, 1):
            username = f"{room['id'].lower()}-{number:02d}"
            self.accounts[username] = {"username": username, "endpoint": item["endpoint"], "room": room["id"],
                                       "password": secrets.token_urlsafe(12), "locked": False,
                                       "connected": False, "since": None}
            made.append({k: self.accounts[username][k] for k in ("username", "endpoint", "password", "locked")})
        return Answer(201, {"accounts": made})

    def _lock_accounts(self, room: dict[str, Any], body: dict[str, Any]) -> Answer:
        names = body.get("usernames")
        if set(body) != {"usernames"} or not isinstance(names, list) or not names:
            return self._violation(400, f"Khóa tài khoản phải là {{'usernames': [...]}}: {body}")
        unknown = [n for n in names if self.accounts.get(n, {}).get("room") != room["id"]]
        if unknown:
            return Answer(404, {"error": f"Phòng {room['id']} không có tài khoản {unknown}"})
        for name in names:  # a locked account is also cut off
            self.accounts[name].update(locked=True, connected=False, since=None)
        return Answer(200, {"accounts": [{"username": n, "locked": True} for n in names]})
