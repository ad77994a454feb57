"""A user-facing message in both UI languages; the web layer picks one by locale."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    """Vietnamese (default) and English text of one message."""

    vi: str
    en: str

    def text(self, locale: str = "vi") -> str:
        return self.en if locale.startswith("en") else self.vi

    def as_dict(self) -> dict[str, str]:
        return {"vi": self.vi, "en": self.en}
