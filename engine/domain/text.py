"""Vietnamese text made ASCII: for mail addresses, file names and loose comparisons."""
from __future__ import annotations

import re
import unicodedata


def strip_diacritics(text: str) -> str:
    """The text without Vietnamese diacritics (đ → d, Đ → D), case kept; other characters as they are."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def ascii_words(text: str) -> list[str]:
    """Lower-case ASCII words of the text: "Thư điện tử – Cấp mới" → ["thu", "dien", "tu", "cap", "moi"]."""
    return re.findall(r"[a-z0-9]+", strip_diacritics(text).lower())


def slug(text: str, limit: int = 40) -> str:
    """The words joined by hyphens, cut at a word boundary within `limit`: "phuc-dap-de-nghi"."""
    out = ""
    for word in ascii_words(text):
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > limit:
            break
        out = candidate
    return out
