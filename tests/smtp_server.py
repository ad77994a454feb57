"""A real SMTP server for the tests: aiosmtpd's Controller on 127.0.0.1, collecting what it receives.

    with running_smtp() as smtp:
        ...  # send to smtp.port
        (message,) = smtp.messages     # email.message.EmailMessage, parsed as a mail client would
        smtp.refuse_next(1)            # the next message gets a temporary 451

The `smtp_server` fixture (tests/conftest.py) starts one per test.
"""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Collector:
    """The aiosmtpd handler: keeps each message with its envelope, or refuses it when told to."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []
        self._refusals = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self._refusals:
                self._refusals -= 1
                return "451 4.3.0 Tam thoi khong nhan thu"
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 2.0.0 OK"

    def refuse_next(self, count: int) -> None:
        with self._lock:
            self._refusals = count


class SmtpServer:
    def __init__(self, controller: Controller, collector: Collector) -> None:
        self._controller = controller
        self._collector = collector
        self.host = "127.0.0.1"
        self.port = int(controller.port)
        self.running = True

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message received, parsed with the modern policy (headers decoded, bodies by part)."""
        return [cast(EmailMessage, message_from_bytes(raw, policy=policy.default))
                for _sender, _to, raw in self._collector.envelopes]

    @property
    def envelopes(self) -> list[tuple[str, list[str], bytes]]:
        """(MAIL FROM, RCPT TO list, raw bytes) of every message received."""
        return list(self._collector.envelopes)

    def refuse_next(self, count: int = 1) -> None:
        self._collector.refuse_next(count)

    def stop(self) -> None:
        """Take the server down: connections are refused until the test ends."""
        if self.running:
            self._controller.stop()
            self.running = False


@contextmanager
def running_smtp() -> Iterator[SmtpServer]:
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    server = SmtpServer(controller, collector)
    try:
        yield server
    finally:
        server.stop()
