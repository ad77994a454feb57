"""Calendar use cases: overrides an administrator adds or removes (audited), and a year's view."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import MAX_YEAR, MIN_YEAR, Override, SpecialDay, WorkingCalendar
from engine.domain.enums import InstanceStatus, Role, TaskStatus
from engine.domain.errors import Forbidden, InvalidData, NotFound
from engine.domain.messages import Message
from engine.persistence.models import CalendarOverride, HumanTask, ProcessInstance, User
from engine.persistence.uow import UnitOfWork
from engine.services import audit
from engine.services.context import OverrideLoader, Services

TEXT_LIMIT = 255  # the width of calendar_overrides.reason and .decision

ADMINS_ONLY = Message("Chỉ quản trị hệ thống được điều chỉnh lịch làm việc.",
                      "Only system administrators may change the working calendar.")
NO_OVERRIDE = Message("Không tìm thấy điều chỉnh lịch.", "Calendar override not found.")
NO_REASON = Message("Vui lòng nhập lý do điều chỉnh.", "Give the reason for the override.")
TOO_LONG = Message(f"Lý do và số quyết định tối đa {TEXT_LIMIT} ký tự.",
                   f"The reason and the decision number are at most {TEXT_LIMIT} characters.")
BAD_YEAR = Message(f"Năm phải nằm trong khoảng {MIN_YEAR}–{MAX_YEAR}.",
                   f"The year must be between {MIN_YEAR} and {MAX_YEAR}.")

BAD_MOMENT = Message("Thời điểm không hợp lệ; dùng dạng ISO 8601, ví dụ 2026-02-13T15:00 "
                     "(không ghi múi giờ thì hiểu là giờ Việt Nam).",
                     "Invalid moment; use ISO 8601, e.g. 2026-02-13T15:00 (without an offset, Vietnam time).")
ONE_COUNT = Message("Cần đúng một trong hai: số ngày làm việc hoặc số giờ làm việc.",
                    "Give exactly one of: a number of working days or a number of working hours.")
BAD_COUNT = Message("Số ngày/giờ làm việc phải là số không âm và hợp lý (tối đa {days} ngày, {hours} giờ); "
                    "để tính lùi, dùng tùy chọn trước (before).",
                    "The number of working days/hours must be non-negative and reasonable (at most "
                    "{days} days, {hours} hours); to go back, use the before option.")
OUT_OF_RANGE = Message(f"Kết quả nằm ngoài khoảng lịch hỗ trợ ({MIN_YEAR}–{MAX_YEAR}).",
                       f"The result falls outside the supported calendar ({MIN_YEAR}–{MAX_YEAR}).")
#: Largest counts a deadline question may ask: far beyond any decision's deadline, small
#: enough that one request cannot keep a web thread busy.
MAX_DAYS = 1000
MAX_HOURS = 8000


def _vi(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def load_overrides(session: Session) -> dict[date, Override]:
    rows = session.scalars(select(CalendarOverride))
    return {row.day: Override(row.is_working, row.reason, row.decision) for row in rows}


def override_loader(session_factory: Callable[[], Session]) -> OverrideLoader:
    """What `Services.calendar_overrides` needs: each call reads the overrides in a short session."""
    def load() -> Mapping[date, Override]:
        with session_factory() as session:
            return load_overrides(session)
    return load


def _fresh_calendar(uow: UnitOfWork, services: Services) -> WorkingCalendar:
    # Read in this transaction rather than from the cache: another process may have just
    # changed an override, and the admin page must show exactly what is stored.
    return WorkingCalendar(load_overrides(uow.session), working_hours=services.settings.working_hours,
                           tz=services.settings.timezone)


def _move_deadlines(uow: UnitOfWork, old: WorkingCalendar, new: WorkingCalendar, day: date) -> int:
    """Keep each open deadline's working-time budget when `day` changes status.

    A deadline set before a day off was declared must step over it, as the office would; the
    budget is the working time from receipt to the old deadline on the old calendar. Paused
    dossiers are left alone: their deadlines are recomputed when the clock resumes.
    """
    start = datetime.combine(day, time.min, tzinfo=new.tz)
    end = start + timedelta(days=1)
    moved = 0
    rows: list[HumanTask | ProcessInstance] = [
        *uow.session.scalars(select(HumanTask).join(ProcessInstance).where(
            HumanTask.status == TaskStatus.READY, HumanTask.due_at >= start, HumanTask.created_at < end,
            ProcessInstance.paused_at.is_(None))),
        *uow.session.scalars(select(ProcessInstance).where(
            ProcessInstance.status == InstanceStatus.RUNNING, ProcessInstance.paused_at.is_(None),
            ProcessInstance.due_at >= start, ProcessInstance.created_at < end)),
    ]
    for row in rows:
        assert row.due_at is not None
        budget = old.working_seconds_between(row.created_at, row.due_at)
        due = new.add_working_hours(row.created_at, budget / 3600)
        if due != row.due_at:
            row.due_at, moved = due, moved + 1
    return moved


def _check_admin(actor: User) -> None:
    if Role.QUAN_TRI.value not in actor.role_codes:
        raise Forbidden(ADMINS_ONLY)


def add_override(uow: UnitOfWork, services: Services, actor: User, day: date, is_working: bool,
                 reason: str, decision: str = "") -> CalendarOverride:
    """Make `day` a working day or a day off, for `reason`, as ordered by `decision`."""
    _check_admin(actor)
    reason, decision = reason.strip(), decision.strip()
    if not reason:
        raise InvalidData(NO_REASON)
    if len(reason) > TEXT_LIMIT or len(decision) > TEXT_LIMIT:
        raise InvalidData(TOO_LONG)
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InvalidData(BAD_YEAR)
    if uow.session.scalar(select(CalendarOverride).where(CalendarOverride.day == day)) is not None:
        raise InvalidData(Message(f"Ngày {_vi(day)} đã có điều chỉnh; hãy xóa điều chỉnh cũ trước.",
                                  f"{day.isoformat()} already has an override; remove it first."))
    national = _fresh_calendar(uow, services)
    if national.is_national_working_day(day) == is_working:
        # An override that changes nothing would still be shown as a decision: refuse it.
        known = national.describe(day)
        what_vi = "ngày làm việc" if is_working else f"ngày nghỉ ({known.name if known else ''})"
        what_en = "a working day" if is_working else "a day off"
        raise InvalidData(Message(f"Ngày {_vi(day)} vốn đã là {what_vi}.",
                                  f"{day.isoformat()} is already {what_en}."))
    row = CalendarOverride(day=day, is_working=is_working, reason=reason, decision=decision,
                           created_by=actor.id)
    uow.add(row)
    uow.session.flush()
    moved = _move_deadlines(uow, national, _fresh_calendar(uow, services), day)
    kind_vi = "ngày làm việc" if is_working else "ngày nghỉ"
    audit.record(uow.session, actor, "calendar_override_add",
                 summary=f"{_vi(day)} là {kind_vi}: {reason}" + (f" ({decision})" if decision else "")
                 + f"; {moved} hạn xử lý được điều chỉnh",
                 after={"day": day.isoformat(), "is_working": is_working, "reason": reason,
                        "decision": decision})
    uow.commit()
    services.calendar_changed()
    return row


def remove_override(uow: UnitOfWork, services: Services, actor: User, override_id: int) -> None:
    """Drop an override: the day goes back to what the national calendar says."""
    _check_admin(actor)
    row = uow.session.get(CalendarOverride, override_id)
    if row is None:
        raise NotFound(NO_OVERRIDE)
    before = {"day": row.day.isoformat(), "is_working": row.is_working, "reason": row.reason,
              "decision": row.decision}
    old = _fresh_calendar(uow, services)
    uow.session.delete(row)
    uow.session.flush()
    moved = _move_deadlines(uow, old, _fresh_calendar(uow, services), row.day)
    audit.record(uow.session, actor, "calendar_override_remove",
                 summary=f"Bỏ điều chỉnh ngày {_vi(row.day)}: {row.reason}; {moved} hạn xử lý được điều chỉnh",
                 before=before)
    uow.commit()
    services.calendar_changed()


@dataclass(frozen=True)
class YearView:
    """A year of the calendar as stored now: the calendar itself, its special days, its overrides."""

    year: int
    calendar: WorkingCalendar
    special_days: list[SpecialDay]
    overrides: list[CalendarOverride]


def year_view(uow: UnitOfWork, services: Services, year: int) -> YearView:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidData(BAD_YEAR)
    calendar = _fresh_calendar(uow, services)
    overrides = list(uow.session.scalars(
        select(CalendarOverride).where(CalendarOverride.day.between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(CalendarOverride.day)))
    return YearView(year, calendar, calendar.special_days(year), overrides)


def parse_moment(text: str, tz: str) -> datetime:
    """An ISO date or date-time typed by a person; without an offset it is local time in `tz`."""
    try:
        value = datetime.fromisoformat(text.strip())  # 2026-02-13, 2026-02-13T15:00, …+07:00, …Z
    except ValueError:
        raise InvalidData(BAD_MOMENT) from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InvalidData(BAD_YEAR)
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(tz))


def deadline(services: Services, start: datetime, working_days: int | None = None,
             working_hours: float | None = None, before: bool = False) -> datetime:
    """The deadline `working_days` or `working_hours` after `start` (before it with `before`)."""
    if (working_days is None) == (working_hours is None):
        raise InvalidData(ONE_COUNT)
    count = working_days if working_days is not None else working_hours
    limit = MAX_DAYS if working_days is not None else MAX_HOURS
    if count is None or not 0 <= count <= limit:
        raise InvalidData(Message(BAD_COUNT.vi.format(days=MAX_DAYS, hours=MAX_HOURS),
                                  BAD_COUNT.en.format(days=MAX_DAYS, hours=MAX_HOURS)))
    sign = -1 if before else 1
    calendar = services.calendar()
    try:
        if working_days is not None:
            return calendar.add_working_days(start, sign * working_days)
        return calendar.add_working_hours(start, sign * float(count))
    except ValueError as err:  # walked past the years the holidays package covers
        raise InvalidData(OUT_OF_RANGE) from err
