"""One JSON request to a peer system over HTTP with bounded retries, shared by the HTTP adapters
(the project software, the MCU).

Only the standard library is used (`http.client`): no proxy from the environment, no redirects
followed, so a request goes exactly where the configured URL says.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from engine.adapters.base import AdapterError, AdapterRefused
from engine.domain.secrets import scrub

log = logging.getLogger(__name__)

#: Statuses that mean "try again later" although they are 4xx.
TRANSIENT_4XX = frozenset({408, 429})
#: Largest response body read; a peer's error page is shown truncated anyway.
MAX_BODY_BYTES = 1024 * 1024
#: Characters of the peer's error body kept in an error message (and so in the incident).
SHOWN_BODY_CHARS = 500


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


@dataclass(frozen=True)
class Peer:
    """The system called, as its messages name it: `name` inside a sentence, `title` at its start, and
    the settings that configure it."""

    name: str
    url_setting: str
    token_setting: str

    @property
    def title(self) -> str:
        return self.name[0].upper() + self.name[1:]

    @property
    def not_configured(self) -> str:
        return f"Chưa cấu hình địa chỉ {self.name} ({self.url_setting})"

    @property
    def no_token(self) -> str:
        return f"Chưa cấu hình mã truy cập {self.name} ({self.token_setting})"


def shown_body(body: bytes, token: str) -> str:
    """The peer's body as an operator may see it: secrets dropped, the token masked, truncated."""
    text = body.decode("utf-8", errors="replace").strip()
    with contextlib.suppress(ValueError):  # not JSON: shown as text
        text = json.dumps(scrub(json.loads(text)), ensure_ascii=False)
    if token:
        text = text.replace(token, "***")
    return text if len(text) <= SHOWN_BODY_CHARS else text[:SHOWN_BODY_CHARS] + "…"


class JsonHttp:
    """Sends one JSON request to `base_url` + a path, trying again on 5xx, 408/429 and network errors.

    Every request carries the caller's idempotency key, the same on each try, so the peer acts once
    however often it is repeated. After `max_retries` further tries with a doubling pause an
    `AdapterError` hands over to the worker's own retries and incident; any other 4xx is an
    `AdapterRefused` (status and scrubbed body shown), never retried.
    """

    def __init__(self, peer: Peer, base_url: str, token: str, timeout: float, max_retries: int,
                 backoff: float, *, connect_timeout: float | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.peer = peer
        self.base_url = base_url.strip().rstrip("/")
        if self.base_url:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{peer.url_setting}={base_url!r}: write it as http(s)://host[:port][/path]")
            if parts.query or parts.fragment or parts.username or parts.password:
                raise ValueError(f"{peer.url_setting}={base_url!r}: no query, fragment or credentials")
        self._token = token
        self.timeout = timeout
        self.connect_timeout = timeout if connect_timeout is None else connect_timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self._sleep = sleep

    def __repr__(self) -> str:  # the token stays out of reprs, tracebacks and logs
        return f"JsonHttp(base_url={self.base_url!r})"

    def check_configured(self) -> None:
        """An `AdapterError` naming the missing setting when the URL or the token is not set."""
        if not self.base_url:
            raise AdapterError(self.peer.not_configured)
        if not self._token:
            raise AdapterError(self.peer.no_token)

    def send(self, method: str, path: str, body: dict[str, Any] | None, key: str, what: str) -> Reply:
        """The peer's 2xx reply to `method path`; `what` names the request in errors ("khóa phòng họp ảo …")."""
        self.check_configured()
        tries = self.max_retries + 1
        problem = ""
        for attempt in range(1, tries + 1):
            if attempt > 1:
                self._sleep(self.backoff * 2 ** (attempt - 2))
            try:
                reply = self._request(method, path, body, key)
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, timeout, bad reply
                problem = f"lỗi kết nối ({type(exc).__name__}: {exc})"
                log.warning("%s %s %s, try %d/%d: %s", self.peer.name, method, key, attempt, tries, problem)
                continue
            if 200 <= reply.status < 300:
                return reply
            shown = shown_body(reply.body, self._token)
            if reply.status >= 500 or reply.status in TRANSIENT_4XX:
                problem = f"HTTP {reply.status} — {shown}" if shown else f"HTTP {reply.status}"
                log.warning("%s %s %s, try %d/%d: HTTP %d", self.peer.name, method, key, attempt, tries,
                            reply.status)
                continue
            raise AdapterRefused(f"{self.peer.title} từ chối {what}: HTTP {reply.status}"
                                 + (f" — {shown}" if shown else ""), reply.status, shown)
        raise AdapterError(f"Không thực hiện được {what} trên {self.peer.name} sau {tries} lần thử: {problem}")

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
