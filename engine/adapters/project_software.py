"""Project-software adapter: carries out Biểu 2.1 rows on the user API of the "phần mềm Quản lý
tiến độ dự án" over HTTP/JSON (contract in docs/adapters.md).

Only the standard library is used (`http.client`): no proxy from the environment, no redirects
followed, so a request goes exactly where `PROJECT_SOFTWARE_URL` says.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from engine.adapters.base import AdapterError, AdapterRefused, CallContext
from engine.domain.secrets import scrub

log = logging.getLogger(__name__)

SYSTEM = "phần mềm Quản lý tiến độ dự án"
SYSTEM_TITLE = SYSTEM[0].upper() + SYSTEM[1:]
NOT_CONFIGURED = f"Chưa cấu hình địa chỉ {SYSTEM} (PROJECT_SOFTWARE_URL)"
NO_TOKEN = f"Chưa cấu hình mã truy cập {SYSTEM} (PROJECT_SOFTWARE_TOKEN)"
#: Statuses that mean "try again later" although they are 4xx.
TRANSIENT_4XX = frozenset({408, 429})
#: Largest response body read; a peer's error page is shown truncated anyway.
MAX_BODY_BYTES = 1024 * 1024
#: Characters of the peer's error body kept in an error message (and so in the incident).
SHOWN_BODY_CHARS = 500

#: Receives a password the peer generated: (idempotency key, email, password). The one-time-link
#: delivery plugs in here; without it the password is dropped.
PasswordSink = Callable[[str, str, str], None]


@dataclass(frozen=True)
class Action:
    """One Biểu 2.1 action: its name for people, the outcome text and the HTTP request it makes."""

    name: str
    done: str
    method: str
    path: str  # `{email}` is replaced by the quoted address


ACTIONS: dict[str, Action] = {
    "cap_moi": Action("Cấp mới", "Đã cấp mới tài khoản", "POST", "/api/users"),
    "cap_nhat": Action("Cập nhật thông tin", "Đã cập nhật thông tin tài khoản", "PATCH", "/api/users/{email}"),
    "xoa": Action("Xóa", "Đã xóa tài khoản", "DELETE", "/api/users/{email}"),
    "doi_mat_khau": Action("Đổi mật khẩu", "Đã đặt lại mật khẩu (mật khẩu mới gửi riêng cho người dùng)",
                           "POST", "/api/users/{email}/reset-password"),
}
#: Biểu 2.1 column → field of the peer's user.
FIELDS = {"ho_ten": "full_name", "dien_thoai": "phone", "chuc_vu": "title", "phong_ban": "department"}


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


def _outcome(row: Mapping[str, Any], ok: bool, text: str, **extra: Any) -> dict[str, Any]:
    result = dict(row)
    action = ACTIONS.get(str(row.get("thao_tac")))
    result.update(ket_qua=text, trang_thai="thanh_cong" if ok else "that_bai",
                  thao_tac_ten=action.name if action else str(row.get("thao_tac")), **extra)
    return {"row": result}


def user_fields(row: Mapping[str, Any]) -> dict[str, str]:
    """The row's filled-in columns under the peer's names (an update sends only these)."""
    return {wire: str(row[col]).strip() for col, wire in FIELDS.items() if str(row.get(col) or "").strip()}


def shown_body(body: bytes, token: str) -> str:
    """The peer's body as an operator may see it: secrets dropped, the token masked, truncated."""
    text = body.decode("utf-8", errors="replace").strip()
    with contextlib.suppress(ValueError):  # not JSON: shown as text
        text = json.dumps(scrub(json.loads(text)), ensure_ascii=False)
    if token:
        text = text.replace(token, "***")
    return text if len(text) <= SHOWN_BODY_CHARS else text[:SHOWN_BODY_CHARS] + "…"


class HttpProjectSoftware:
    """Creates, updates, deletes users and resets passwords on the project software.

    Every write carries the worker's idempotency key, the same on each try, so the peer acts
    once however often the request is repeated. 5xx, 408/429 and network errors are tried
    again here a few times with a doubling pause; after that an `AdapterError` hands over to
    the worker's own retries and incident. Any other 4xx is an `AdapterRefused`, never retried.
    """

    name = "http"

    def __init__(self, base_url: str, token: str, timeout: float = 10.0, max_retries: int = 2,
                 backoff: float = 0.5, *, connect_timeout: float | None = None,
                 password_sink: PasswordSink | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.strip().rstrip("/")
        if self.base_url:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"PROJECT_SOFTWARE_URL={base_url!r}: write it as http(s)://host[:port][/path]")
            if parts.query or parts.fragment or parts.username or parts.password:
                raise ValueError(f"PROJECT_SOFTWARE_URL={base_url!r}: no query, fragment or credentials")
        self._token = token
        self.timeout = timeout
        self.connect_timeout = timeout if connect_timeout is None else connect_timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self._password_sink = password_sink
        self._sleep = sleep

    def __repr__(self) -> str:  # the token stays out of reprs, tracebacks and logs
        return f"HttpProjectSoftware(base_url={self.base_url!r})"

    # ------------------------------------------------------------ the operation

    def apply(self, key: str, data: Mapping[str, Any], context: CallContext | None = None) -> dict[str, Any]:
        """Carry out `data["row"]` once per `key`; return the row with its outcome."""
        row = data.get("row") or {}
        action = ACTIONS.get(str(row.get("thao_tac")))
        if action is None:
            return _outcome(row, False, f"Không thực hiện: thao tác không hợp lệ ({row.get('thao_tac')})")
        email = str(row.get("email") or "").strip().lower()
        if "@" not in email:
            return _outcome(row, False, "Không thực hiện: thiếu địa chỉ thư điện tử Đồng Tháp")
        if action.method == "PATCH" and not user_fields(row):
            return _outcome(row, False, "Không thực hiện: không có thông tin cần cập nhật")
        if not self.base_url:
            raise AdapterError(NOT_CONFIGURED)
        if not self._token:
            raise AdapterError(NO_TOKEN)
        body = self._body(str(row.get("thao_tac")), email, row)
        path = action.path.format(email=quote(email, safe="@"))
        reply = self._send(action, path, body, key, row)
        answer = self._json(reply)
        extra: dict[str, Any] = {}
        if answer.get("id") is not None:
            extra["ma_nguoi_dung"] = answer["id"]
        password = answer.get("password")
        if isinstance(password, str) and password:
            # Hook for the one-time-link delivery: the result only says a password exists.
            if self._password_sink is not None:
                self._password_sink(key, email, password)
            extra["mat_khau_moi"] = True
        return _outcome(row, True, action.done, **extra)

    @staticmethod
    def _body(action: str, email: str, row: Mapping[str, Any]) -> dict[str, Any] | None:
        if action == "cap_moi":
            return {"email": email, **user_fields(row)}
        if action == "cap_nhat":
            return user_fields(row)
        if action == "doi_mat_khau":
            return {}
        return None

    # ------------------------------------------------------------ HTTP with bounded retries

    def _send(self, action: Action, path: str, body: dict[str, Any] | None, key: str,
              row: Mapping[str, Any]) -> Reply:
        line = f" (dòng {row['stt']})" if row.get("stt") else ""
        what = f"{action.name.lower()} tài khoản {row.get('email')}{line}"
        tries = self.max_retries + 1
        problem = ""
        for attempt in range(1, tries + 1):
            if attempt > 1:
                self._sleep(self.backoff * 2 ** (attempt - 2))
            try:
                reply = self._request(action.method, path, body, key)
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, timeout, bad reply
                problem = f"lỗi kết nối ({type(exc).__name__}: {exc})"
                log.warning("project software %s %s, try %d/%d: %s", action.method, key, attempt, tries, problem)
                continue
            if 200 <= reply.status < 300:
                return reply
            shown = shown_body(reply.body, self._token)
            if reply.status >= 500 or reply.status in TRANSIENT_4XX:
                problem = f"HTTP {reply.status} — {shown}" if shown else f"HTTP {reply.status}"
                log.warning("project software %s %s, try %d/%d: HTTP %d", action.method, key, attempt, tries,
                            reply.status)
                continue
            raise AdapterRefused(f"{SYSTEM_TITLE} từ chối {what}: HTTP {reply.status}"
                                 + (f" — {shown}" if shown else ""), reply.status, shown)
        raise AdapterError(f"Không thực hiện được {what} trên {SYSTEM} sau {tries} lần thử: {problem}")

    def _request(self, method: str, path: str, body: dict[str, Any] | None, key: str) -> Reply:
        parts = urlsplit(self.base_url)
        connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                            else http.client.HTTPConnection)
        connection = connection_class(parts.netloc, timeout=self.connect_timeout)
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json",
                   "Idempotency-Key": key}
        payload = None
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            connection.connect()
            if connection.sock is not None:
                connection.sock.settimeout(self.timeout)
            connection.request(method, parts.path + path, body=payload, headers=headers)
            response = connection.getresponse()
            return Reply(response.status, response.read(MAX_BODY_BYTES))
        finally:
            connection.close()

    def _json(self, reply: Reply) -> dict[str, Any]:
        """The success body as an object; empty (204) is an empty object."""
        if not reply.body.strip():
            return {}
        try:
            answer = json.loads(reply.body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            # The effect may have happened: the worker's retry with the same key replays it.
            raise AdapterError(f"{SYSTEM_TITLE} trả về HTTP {reply.status} với nội dung không phải JSON")
        return answer
