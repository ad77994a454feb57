"""Vietnam's national days off and swapped working weekends, read from the `holidays` package."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from types import MappingProxyType

import holidays

#: Years the calendar answers for: the package's lunar tables cover them, and a year outside
#: is a typing mistake rather than a deadline anyone needs.
MIN_YEAR = 2000
MAX_YEAR = 2099


@dataclass(frozen=True)
class NationalYear:
    """One year of the national calendar: days off and weekend days worked, each with its name."""

    days_off: Mapping[date, str]
    working_weekends: Mapping[date, str]


def check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside {MIN_YEAR}–{MAX_YEAR} "
                         f"(năm {year} nằm ngoài khoảng {MIN_YEAR}–{MAX_YEAR})")


@lru_cache(maxsize=32)
def national_year(year: int) -> NationalYear:
    """Days off and swapped working weekends of `year`, names in Vietnamese.

    The package records a government swap as a substituted day off ("Ngày nghỉ (thay cho ngày
    26/04/2025)") and puts the weekend day worked in exchange into `weekend_workdays`. A swap
    is announced under the year of its day off, which may differ from the year of the day
    worked (31 Dec 2018 off for Saturday 5 Jan 2019), so the neighbouring years are read too.
    """
    check_year(year)
    known = holidays.country_holidays("VN", years=range(year - 1, year + 2), language="vi")
    days_off = {day: str(name) for day, name in known.items() if day.year == year}
    working: dict[date, str] = {}
    for day in sorted(known.weekend_workdays):
        if day.year != year:
            continue
        stamp = day.strftime("%d/%m/%Y")
        swapped = [d for d, name in known.items() if stamp in str(name)]
        working[day] = (f"Làm việc bù cho ngày nghỉ {swapped[0].strftime('%d/%m/%Y')}" if swapped
                        else "Ngày làm việc bù")
    return NationalYear(MappingProxyType(days_off), MappingProxyType(working))
