"""How Nghị định 30/2020/NĐ-CP writes numbers, dates, references and signer lines.

Phụ lục I of the decree: the number of a document is written in Arabic digits with a leading
zero below 10 ("Số: 05/TB-TTCĐS"); in the date line days below 10 and the months 1 and 2 take a
leading zero ("ngày 05 tháng 02 năm 2026", but "ngày 26 tháng 11", "ngày 15 tháng 3").
"""
from __future__ import annotations

import re
from datetime import date

from engine.domain.text import slug, strip_diacritics

# Signer prefixes of the decree: thay mặt, ký thay, quyền, thừa lệnh, thừa ủy quyền.
_PREFIX = re.compile(r"^(TUQ|TM|KT|TL|Q)(?:\.\s*|\s+)(?=\S)", re.IGNORECASE)


def two_digits(number: int) -> str:
    """A number as the decree writes it: a leading zero below 10 ("05"), else as is ("12", "125")."""
    if number < 0:
        raise ValueError("a document number is never negative")
    return f"{number:02d}"


def date_words(day: date) -> str:
    """"ngày 05 tháng 02 năm 2026": day < 10 and months 1–2 with a leading zero, others without."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def place_date(place: str, day: date) -> str:
    """The date line under the national motto: "Đồng Tháp, ngày 05 tháng 02 năm 2026"."""
    place = place.strip()
    return f"{place}, {date_words(day)}" if place else date_words(day).capitalize()


def reference(number: int, symbol: str) -> str:
    """Số và ký hiệu as printed after "Số:", e.g. "12/TB-TTCĐS" or "05/STTTT-TTCĐS"."""
    symbol = symbol.strip().strip("/")
    if not symbol:
        raise ValueError("a document needs a ký hiệu")
    return f"{two_digits(number)}/{symbol}"


def number_line(number: int, symbol: str) -> str:
    """The whole line under the issuing body: "Số: 12/TB-TTCĐS"."""
    return f"Số: {reference(number, symbol)}"


def signing_authority(text: str) -> str:
    """The quyền hạn line of the signer in capitals, its prefix written the decree's way.

    "kt giám đốc" → "KT. GIÁM ĐỐC", "TM. Ủy ban nhân dân" → "TM. ỦY BAN NHÂN DÂN"; text without a
    prefix ("GIÁM ĐỐC") stays as it is. The prefixes are plain text: nothing else reads them.
    """
    text = " ".join(text.split())
    match = _PREFIX.match(text)
    if match:
        text = f"{match.group(1).upper()}. {text[match.end():]}"
    return text.upper()


def file_name(reference_text: str, title: str, extension: str = "docx") -> str:
    """An ASCII file name without slashes: "12-TB-TTCDS_phuc-dap-de-nghi-cap.docx"."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", strip_diacritics(reference_text)).strip("-") or "van-ban"
    topic = slug(re.sub(r"^\s*(V/v|Về việc)\s*", "", title, flags=re.IGNORECASE))
    return f"{stem}_{topic}.{extension}" if topic else f"{stem}.{extension}"
