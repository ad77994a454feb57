"""Project-software adapter: carries out Biểu 2.1 rows on the user API of the "phần mềm Quản lý
tiến độ dự án" over HTTP/JSON (contract in docs/adapters.md).

The requests and their retries are engine.adapters.http_json's.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from engine.adapters.base import AdapterError, CallContext
from engine.adapters.http_json import JsonHttp, Peer, Reply

PEER = Peer("phần mềm Quản lý tiến độ dự án", "PROJECT_SOFTWARE_URL", "PROJECT_SOFTWARE_TOKEN")
NOT_CONFIGURED = PEER.not_configured
NO_TOKEN = PEER.no_token

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


def _outcome(row: Mapping[str, Any], ok: bool, text: str, **extra: Any) -> dict[str, Any]:
    result = dict(row)
    action = ACTIONS.get(str(row.get("thao_tac")))
    result.update(ket_qua=text, trang_thai="thanh_cong" if ok else "that_bai",
                  thao_tac_ten=action.name if action else str(row.get("thao_tac")), **extra)
    return {"row": result}


def user_fields(row: Mapping[str, Any]) -> dict[str, str]:
    """The row's filled-in columns under the peer's names (an update sends only these)."""
    return {wire: str(row[col]).strip() for col, wire in FIELDS.items() if str(row.get(col) or "").strip()}


class HttpProjectSoftware:
    """Creates, updates, deletes users and resets passwords on the project software.

    Every write carries the worker's idempotency key, the same on each try, so the peer acts
    once however often the request is repeated. 5xx, 408/429 and network errors are tried
    again here a few times with a doubling pause; after that an `AdapterError` hands over to
    the worker's own retries and incident. Any other 4xx is an `AdapterRefused`, never retried
    (engine.adapters.http_json).
    """

    name = "http"

    def __init__(self, base_url: str, token: str, timeout: float = 10.0, max_retries: int = 2,
                 backoff: float = 0.5, *, connect_timeout: float | None = None,
                 password_sink: PasswordSink | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._http = JsonHttp(PEER, base_url, token, timeout, max_retries, backoff,
                              connect_timeout=connect_timeout, sleep=sleep)
        self._password_sink = password_sink

    def __repr__(self) -> str:  # the token stays out of reprs, tracebacks and logs
        return f"HttpProjectSoftware(base_url={self._http.base_url!r})"

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
        body = self._body(str(row.get("thao_tac")), email, row)
        path = action.path.format(email=quote(email, safe="@"))
        line = f" (dòng {row['stt']})" if row.get("stt") else ""
        what = f"{action.name.lower()} tài khoản {row.get('email')}{line}"
        answer = self._json(self._http.send(action.method, path, body, key, what))
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

    @staticmethod
    def _json(reply: Reply) -> dict[str, Any]:
        """The success body as an object; empty (204) is an empty object."""
        if not reply.body.strip():
            return {}
        try:
            answer = json.loads(reply.body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            # The effect may have happened: the worker's retry with the same key replays it.
            raise AdapterError(f"{PEER.title} trả về HTTP {reply.status} với nội dung không phải JSON")
        return answer
