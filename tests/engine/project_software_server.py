"""A stand-in for the project software on 127.0.0.1: serves the user API of docs/adapters.md,
checks that callers keep the contract, and can be told to fail.

No real peer exists here, so this server is the other side of the contract: a request breaking
it (no idempotency key on a write, a body that is not UTF-8 JSON, a key reused for another
request) is answered 4xx *and* recorded in `violations`, which the tests require to stay empty.
"""
from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

#: Longest a stalled answer waits; `stop()` releases stalled answers at once.
STALL_SECONDS = 10.0
USER_FIELDS = ("full_name", "phone", "title", "department")


@dataclass(frozen=True)
class Seen:
    """One request as the peer received it."""

    method: str
    path: str
    key: str | None
    body: Any


@dataclass
class Fault:
    """What the next request meets instead of (or after) normal handling."""

    kind: str  # "fail": answer `status` and do nothing; "stall": answer too late
    status: int = 500
    body: Any = None
    after_effect: bool = False


@dataclass
class Answer:
    status: int
    body: Any = None
    replayed: bool = False
    headers: dict[str, str] = field(default_factory=dict)


class ProjectSoftwarePeer:
    """`with ProjectSoftwarePeer() as peer:` serves on `peer.url` until the block ends."""

    def __init__(self, token: str = "") -> None:
        self.token = token or "ma-truy-cap-thu-nghiem"
        self.users: dict[str, dict[str, Any]] = {}
        self.requests: list[Seen] = []
        self.violations: list[str] = []
        self.effects = 0
        self.replays = 0
        self._replies: dict[str, tuple[tuple[str, str, bytes], Answer]] = {}
        self._faults: deque[Fault] = deque()
        self._next_id = 1
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ProjectSoftwarePeer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # ------------------------------------------------------------ telling it to fail

    def fail_next(self, count: int = 1, status: int = 500,
                  body: Any = "Lỗi máy chủ nội bộ (thử nghiệm)") -> None:
        """The next `count` requests get `status` and change nothing."""
        self._faults.extend(Fault("fail", status, body) for _ in range(count))

    def refuse_next(self, status: int = 400, body: Any = None) -> None:
        """The next request is refused with `status` and `body`, whatever it asks."""
        self.fail_next(1, status, body if body is not None else {"error": "Yêu cầu không hợp lệ"})

    def stall_next(self, count: int = 1, *, after_effect: bool = False) -> None:
        """The next `count` requests are answered too late; with `after_effect` the change is
        made (and remembered under its key) before the answer is held back."""
        self._faults.extend(Fault("stall", after_effect=after_effect) for _ in range(count))

    def keys(self) -> list[str | None]:
        return [seen.key for seen in self.requests]

    # ------------------------------------------------------------ handling

    def handle(self, request: BaseHTTPRequestHandler) -> Answer | None:
        """The answer to send, or None to say nothing (a stalled request whose client left)."""
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        with self._lock:
            key = request.headers.get("Idempotency-Key")
            self.requests.append(Seen(request.command, request.path, key, _parsed(raw)))
            fault = self._faults.popleft() if self._faults else None
            if fault is not None and fault.kind == "fail":
                return Answer(fault.status, fault.body)
            answer = self._answer(request, raw) if fault is None or fault.after_effect else None
        if fault is not None:  # stalled: wait (outside the lock) until the client has given up
            self._release.wait(STALL_SECONDS)
        return answer

    def _violation(self, status: int, text: str) -> Answer:
        self.violations.append(text)
        return Answer(status, {"error": text})

    def _answer(self, request: BaseHTTPRequestHandler, raw: bytes) -> Answer:
        method, path, headers = request.command, request.path, request.headers
        if headers.get("Authorization") != f"Bearer {self.token}":
            return Answer(401, {"error": "Thiếu hoặc sai mã truy cập"})
        if "application/json" not in (headers.get("Accept") or ""):
            return self._violation(406, "Accept phải là application/json")
        write = method in ("POST", "PATCH", "DELETE")
        key = headers.get("Idempotency-Key") or ""
        if write and not key:
            return self._violation(400, f"{method} {path} thiếu Idempotency-Key")
        body: dict[str, Any] | None = None
        if method in ("POST", "PATCH"):
            content_type = (headers.get("Content-Type") or "").replace(" ", "").lower()
            if content_type != "application/json;charset=utf-8":
                return self._violation(415, f"Content-Type phải là application/json; charset=utf-8, "
                                            f"không phải {content_type!r}")
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                return self._violation(400, "Nội dung không phải JSON UTF-8")
            if not isinstance(body, dict):
                return self._violation(400, "Nội dung phải là một đối tượng JSON")
        if write:
            fingerprint = (method, path, raw)
            stored = self._replies.get(key)
            if stored is not None:
                if stored[0] != fingerprint:
                    return self._violation(422, f"Idempotency-Key {key} đã dùng cho yêu cầu khác")
                self.replays += 1
                return Answer(stored[1].status, stored[1].body, replayed=True)
        answer = self._route(method, path, body)
        if write and 200 <= answer.status < 300:
            # Only a change that was made is remembered: a refused request may be sent again.
            self.effects += 1
            self._replies[key] = ((method, path, raw), answer)
        return answer

    def _route(self, method: str, path: str, body: dict[str, Any] | None) -> Answer:
        parts = [unquote(p) for p in path.split("/") if p]
        if parts[:2] != ["api", "users"] or len(parts) > 4:
            return Answer(404, {"error": "Không có đường dẫn này"})
        if len(parts) == 2:
            return self._create(body or {}) if method == "POST" else Answer(405, {"error": "Không hỗ trợ"})
        email = parts[2].lower()
        user = self.users.get(email)
        if user is None:
            return Answer(404, {"error": f"Không tìm thấy người dùng {email}"})
        if len(parts) == 4:
            if parts[3] != "reset-password" or method != "POST":
                return Answer(404, {"error": "Không có đường dẫn này"})
            user["password"] = secrets.token_urlsafe(12)
            return Answer(200, {"id": user["id"], "email": email, "password": user["password"]})
        if method == "PATCH":
            unknown = set(body or {}) - set(USER_FIELDS)
            if unknown:
                return Answer(400, {"error": f"Trường không hỗ trợ: {sorted(unknown)}"})
            user.update(body or {})
            return Answer(200, _public(user))
        if method == "DELETE":
            del self.users[email]
            return Answer(204)
        if method == "GET":
            return Answer(200, _public(user))
        return Answer(405, {"error": "Không hỗ trợ"})

    def _create(self, body: dict[str, Any]) -> Answer:
        email = str(body.get("email") or "").lower()
        if "@" not in email or not body.get("full_name"):
            return Answer(400, {"error": "Thiếu email hoặc họ tên"})
        if email in self.users:
            return Answer(409, {"error": f"Người dùng {email} đã tồn tại"})
        unknown = set(body) - {"email", *USER_FIELDS}
        if unknown:
            return Answer(400, {"error": f"Trường không hỗ trợ: {sorted(unknown)}"})
        self.users[email] = {"id": self._next_id, **body, "email": email}
        self._next_id += 1
        return Answer(201, _public(self.users[email]))


def _public(user: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in user.items() if k != "password"}


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8")) if raw else None
    except ValueError:
        return raw


def _handler_for(peer: ProjectSoftwarePeer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            answer = peer.handle(self)
            if answer is None:
                self.close_connection = True
                return
            payload = b"" if answer.body is None else (
                answer.body.encode("utf-8") if isinstance(answer.body, str)
                else json.dumps(answer.body, ensure_ascii=False).encode("utf-8"))
            try:
                self.send_response(answer.status)
                if payload:
                    content_type = "text/plain" if isinstance(answer.body, str) else "application/json"
                    self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                if answer.replayed:
                    self.send_header("Idempotent-Replayed", "true")
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up (timeout) before the answer came
                self.close_connection = True

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read `peer.requests` instead."""

    return Handler
