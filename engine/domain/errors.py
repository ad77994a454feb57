"""Domain errors: each has a machine code, an HTTP-neutral kind and a bilingual message."""
from __future__ import annotations

from typing import Any

from engine.domain.messages import Message


class DomainError(Exception):
    code = "error"

    def __init__(self, message: Message, details: Any = None) -> None:
        super().__init__(message.en)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    code = "conflict"


class InvalidData(DomainError):
    """Submitted data failed validation; `details` lists FieldErrors."""

    code = "invalid_data"


class PublishRefused(DomainError):
    """A procedure failed validation; `details` is the list of Problems."""

    code = "publish_refused"


class AuthFailed(DomainError):
    code = "auth_failed"


class RateLimited(DomainError):
    """Too many attempts from one address or at one account within the window (HTTP 429)."""

    code = "rate_limited"
