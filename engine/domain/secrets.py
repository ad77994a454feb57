"""Which data are secrets: kept out of the audit log, documents and error messages shown to people."""
from __future__ import annotations

from typing import Any

SECRET_WORDS = ("password", "mat_khau", "secret", "token")


def is_secret(name: object) -> bool:
    """A key naming a secret (mat_khau_moi, api_token, …)."""
    lowered = str(name).lower()
    return any(word in lowered for word in SECRET_WORDS)


def scrub(value: Any) -> Any:
    """The value without any key that names a secret, at any depth (lists and tuples become lists)."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if not is_secret(k)}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value
