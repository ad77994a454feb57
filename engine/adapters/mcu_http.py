"""The `http` MCU: the five MCU operations over the HTTP/JSON contract of docs/adapters.md.

No vendor MCU exists here, so this speaks a vendor-neutral contract that a real MCU, or a thin gateway in
front of one, must offer. Only the standard library is used (`http.client`): no proxy from the
environment, no redirects followed, so a request goes exactly where `MCU_URL` says.
"""
from __future__ import annotations

import http.client
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from engine.adapters.base import AdapterError, AdapterRefused, CallContext
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
from engine.adapters.project_software import MAX_BODY_BYTES, TRANSIENT_4XX, Reply, shown_body

log = logging.getLogger(__name__)

NOT_CONFIGURED = "Chưa cấu hình địa chỉ MCU (MCU_URL)"
NO_TOKEN = "Chưa cấu hình mã truy cập MCU (MCU_TOKEN)"  # noqa: S105 - a message, not a secret


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
        self.base_url = base_url.strip().rstrip("/")
        if self.base_url:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"MCU_URL={base_url!r}: write it as http(s)://host[:port][/path]")
            if parts.query or parts.fragment or parts.username or parts.password:
                raise ValueError(f"MCU_URL={base_url!r}: no query, fragment or credentials")
        self._token = token
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self._sink = password_sink
        self._sleep = sleep

    def __repr__(self) -> str:  # the token stays out of reprs, tracebacks and logs
        return f"HttpMcu(base_url={self.base_url!r})"

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

    # ------------------------------------------------------------ HTTP with bounded retries

    def _call(self, method: str, path: str, body: dict[str, Any] | None, key: str, what: str) -> dict[str, Any]:
        if not self.base_url:
            raise AdapterError(NOT_CONFIGURED)
        if not self._token:
            raise AdapterError(NO_TOKEN)
        tries = self.max_retries + 1
        problem = ""
        for attempt in range(1, tries + 1):
            if attempt > 1:
                self._sleep(self.backoff * 2 ** (attempt - 2))
            try:
                reply = self._request(method, path, body, key)
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, timeout, bad reply
                problem = f"lỗi kết nối ({type(exc).__name__}: {exc})"
                log.warning("MCU %s %s, try %d/%d: %s", method, key, attempt, tries, problem)
                continue
            if 200 <= reply.status < 300:
                return self._json(reply, what)
            shown = shown_body(reply.body, self._token)
            if reply.status >= 500 or reply.status in TRANSIENT_4XX:
                problem = f"HTTP {reply.status} — {shown}" if shown else f"HTTP {reply.status}"
                log.warning("MCU %s %s, try %d/%d: HTTP %d", method, key, attempt, tries, reply.status)
                continue
            raise AdapterRefused(f"MCU từ chối {what}: HTTP {reply.status}" + (f" — {shown}" if shown else ""),
                                 reply.status, shown)
        raise AdapterError(f"Không thực hiện được {what} trên MCU sau {tries} lần thử: {problem}")

    def _request(self, method: str, path: str, body: dict[str, Any] | None, key: str) -> Reply:
        parts = urlsplit(self.base_url)
        connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                            else http.client.HTTPConnection)
        connection = connection_class(parts.netloc, timeout=self.timeout)
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json",
                   "Idempotency-Key": key}
        payload = None
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            connection.request(method, parts.path + path, body=payload, headers=headers)
            response = connection.getresponse()
            return Reply(response.status, response.read(MAX_BODY_BYTES))
        finally:
            connection.close()

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
