"""The `http` MCU: the five MCU operations over the HTTP/JSON contract of docs/adapters.md.

No vendor MCU exists here, so this speaks a vendor-neutral contract that a real MCU, or a thin gateway in
front of one, must offer. The requests and their retries are engine.adapters.http_json's.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from engine.adapters.base import AdapterError, CallContext
from engine.adapters.http_json import JsonHttp, Peer, Reply
from engine.adapters.mcu import (
    MAX_CODE,
    AccountPasswordSink,
    accounts_result,
    endpoints_of,
    locked_accounts_result,
    locked_room_result,
    participants_result,
    recipient_of,
    room_of,
    room_plan,
    room_result,
    usernames_of,
)

PEER = Peer("MCU", "MCU_URL", "MCU_TOKEN")
NOT_CONFIGURED = PEER.not_configured
NO_TOKEN = PEER.no_token


class ContractBroken(AdapterError):
    """The MCU answered 2xx with a body the contract does not allow. The effect may have happened:
    the worker's retry with the same key gets the remembered answer, and an incident if it stays wrong."""


def _field(answer: Mapping[str, Any], name: str, kind: type, what: str) -> Any:
    value = answer.get(name)
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise ContractBroken(f"MCU trả lời {what} không đúng hợp đồng: thiếu hoặc sai trường {name!r}")
    return value


def _room_path(code: str, rest: str = "") -> str:
    return f"/api/rooms/{quote(code, safe='')}{rest}"


class HttpMcu:
    """Creates and locks rooms and accounts and lists participants on an MCU over HTTP/JSON.

    Every write carries the worker's idempotency key, the same on each try, so the MCU acts once
    however often a request is repeated. 5xx, 408/429 and network errors are tried again here a few
    times with a doubling pause; after that an `AdapterError` hands over to the worker's own retries
    and incident. Any other 4xx is an `AdapterRefused` (status and scrubbed body shown), never retried.
    """

    name = "http"

    def __init__(self, base_url: str, token: str, timeout: float = 10.0, max_retries: int = 2,
                 backoff: float = 0.5, *, password_sink: AccountPasswordSink | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._http = JsonHttp(PEER, base_url, token, timeout, max_retries, backoff, sleep=sleep)
        self._sink = password_sink

    def __repr__(self) -> str:  # the token stays out of reprs, tracebacks and logs
        return f"HttpMcu(base_url={self._http.base_url!r})"

    # ------------------------------------------------------------ the operations

    def create_room(self, key: str, data: Mapping[str, Any], context: CallContext | None = None) -> dict[str, Any]:
        plan = room_plan(data)
        body: dict[str, Any] = {"name": plan.name, "starts_at": plan.starts_at.isoformat(),
                                "ends_at": plan.ends_at.isoformat(), "capacity": len(plan.endpoints)}
        if plan.recording:  # never sent otherwise: recording needs the chair's consent
            body["recording"] = True
        what = "tạo phòng họp ảo"
        answer = self._call("POST", "/api/rooms", body, key, what)
        code = _field(answer, "id", str, what)
        recording = answer.get("recording", False)
        if len(code) > MAX_CODE:
            raise ContractBroken(f"MCU trả lời {what} không đúng hợp đồng: mã phòng dài quá {MAX_CODE} ký tự")
        if recording is not plan.recording:
            raise ContractBroken(f"MCU tạo phòng họp ảo {code} với ghi hình = {recording!r}, "
                                 f"trong khi cuộc họp {'có' if plan.recording else 'không'} ghi hình")
        return room_result(code, plan.name, len(plan.endpoints), plan.recording)

    def create_accounts(self, key: str, data: Mapping[str, Any],
                        context: CallContext | None = None) -> dict[str, Any]:
        _room, code = room_of(data)
        endpoints = endpoints_of(data)
        email = recipient_of(data)
        what = f"cấp tài khoản phòng họp ảo {code}"
        answer = self._call("POST", _room_path(code, "/accounts"),
                            {"accounts": [{"endpoint": name} for name in endpoints]}, key, what)
        given = _field(answer, "accounts", list, what)
        if len(given) != len(endpoints):
            raise ContractBroken(f"MCU trả lời {what} không đúng hợp đồng: {len(given)} tài khoản cho "
                                 f"{len(endpoints)} điểm cầu")
        accounts: list[tuple[str, str, str]] = []
        for endpoint, account in zip(endpoints, given, strict=True):
            if not isinstance(account, Mapping) or account.get("endpoint") != endpoint:
                raise ContractBroken(f"MCU trả lời {what} không đúng hợp đồng: tài khoản không theo thứ tự "
                                     "các điểm cầu đã gửi")
            username = _field(account, "username", str, what)
            password = _field(account, "password", str, what)
            if len(username) > MAX_CODE or username in {a[1] for a in accounts}:
                raise ContractBroken(f"MCU trả lời {what} không đúng hợp đồng: tên đăng nhập {username!r} "
                                     "trùng hoặc dài quá")
            accounts.append((endpoint, username, password))
        sent_to = None
        if self._sink is not None:
            # One link per account, each in its own transaction: a retry after a failed send gets the
            # same passwords replayed by the MCU and sends only the links still missing.
            for _endpoint, username, password in accounts:
                sent_to = self._sink(f"{key}:{username}", context, username, email, password)
        return accounts_result([(endpoint, username) for endpoint, username, _p in accounts], code, sent_to)

    def lock_room(self, key: str, data: Mapping[str, Any], context: CallContext | None = None) -> dict[str, Any]:
        given, code = room_of(data)
        what = f"khóa phòng họp ảo {code}"
        answer = self._call("POST", _room_path(code, "/lock"), {}, key, what)
        if answer.get("locked") is not True:
            raise ContractBroken(f"MCU trả lời {what} nhưng phòng chưa khóa")
        return locked_room_result(given, code)

    def lock_accounts(self, key: str, data: Mapping[str, Any],
                      context: CallContext | None = None) -> dict[str, Any]:
        _given, code = room_of(data)
        usernames = usernames_of(data)
        if not usernames:
            return locked_accounts_result(data, code)
        what = f"khóa tài khoản phòng họp ảo {code}"
        answer = self._call("POST", _room_path(code, "/accounts/lock"), {"usernames": usernames}, key, what)
        locked = {a.get("username") for a in _field(answer, "accounts", list, what)
                  if isinstance(a, Mapping) and a.get("locked") is True}
        missing = [name for name in usernames if name not in locked]
        if missing:
            raise ContractBroken(f"MCU trả lời {what} nhưng chưa khóa {', '.join(missing)}")
        return locked_accounts_result(data, code)

    def list_participants(self, key: str, data: Mapping[str, Any],
                          context: CallContext | None = None) -> dict[str, Any]:
        _given, code = room_of(data)
        what = f"liệt kê điểm cầu phòng họp ảo {code}"
        answer = self._call("GET", _room_path(code, "/participants"), None, key, what)
        participants = []
        for item in _field(answer, "participants", list, what):
            if not isinstance(item, Mapping):
                raise ContractBroken(f"MCU trả lời {what} không đúng hợp đồng: một điểm cầu không phải đối tượng")
            connected = _field(item, "connected", bool, what)
            participants.append({"diem_cau": _field(item, "endpoint", str, what),
                                 "ten_dang_nhap": _field(item, "username", str, what),
                                 "ket_noi": connected, "tu_luc": _since(item.get("since"), connected, what)})
        return participants_result(code, participants)

    # ------------------------------------------------------------ the JSON answer

    def _call(self, method: str, path: str, body: dict[str, Any] | None, key: str, what: str) -> dict[str, Any]:
        return self._json(self._http.send(method, path, body, key, what), what)

    @staticmethod
    def _json(reply: Reply, what: str) -> dict[str, Any]:
        try:
            answer = json.loads(reply.body) if reply.body.strip() else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ContractBroken(f"MCU trả lời {what} bằng HTTP {reply.status} với nội dung không phải đối tượng JSON")
        return answer


def _since(value: object, connected: bool, what: str) -> str | None:
    """When a connected endpoint joined, as an aware ISO-8601 text; None when it is not connected."""
    if not connected:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ContractBroken(f"MCU trả lời {what} không đúng hợp đồng: thời điểm kết nối {value!r} không hợp lệ")
    return moment.isoformat()
