"""Statistics of the hotline 1022 over a period, by field, channel, agency, day, week or month, with totals;
and the same table as an Excel file (docs/hotline.md, "Ticket list, monitoring board and statistics").

Columns, each counting tickets whose event falls in the period (Vietnam days, bounds computed here):
- received  (Tiếp nhận): created_at;
- processed (Đã xử lý): closed_at — closed with any outcome (answered, referred, cancelled);
- answered  (Đã trả lời): answered_at;
- referred  (Chuyển kênh): closed_at of tickets referred to 113/114/115 or written complaints;
- overdue   (Quá hạn): received in the period with a task that finished after its due date or is still
  ready past it.
By attribute the database groups (GROUP BY); by day, week or month only the event times of the period are
read and put into Vietnam days here, the same on SQLite and PostgreSQL whatever the UTC offset.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from engine.domain.enums import TaskStatus
from engine.domain.errors import Forbidden, InvalidData
from engine.domain.hotline import BOARD_ROLES, FIELDS, FIELDS_BY_CODE
from engine.domain.messages import Message
from engine.persistence.models import HotlineTicket, HumanTask, Unit, User
from engine.persistence.uow import UnitOfWork
from engine.reports.excel import Column, Kind, Row, table_workbook
from engine.services.context import Services
from engine.services.hotline import Channel, TicketState

#: group_by values and their headers.
GROUPINGS: dict[str, Message] = {
    "linh_vuc": Message("Lĩnh vực", "Field"),
    "kenh": Message("Kênh tiếp nhận", "Channel"),
    "co_quan": Message("Cơ quan xử lý", "Agency"),
    "ngay": Message("Ngày", "Day"),
    "tuan": Message("Tuần", "Week"),
    "thang": Message("Tháng", "Month"),
}
METRICS: tuple[tuple[str, Message], ...] = (
    ("received", Message("Tiếp nhận", "Received")),
    ("processed", Message("Đã xử lý", "Processed")),
    ("answered", Message("Đã trả lời", "Answered")),
    ("referred", Message("Chuyển kênh", "Referred")),
    ("overdue", Message("Quá hạn", "Overdue")),
)
#: The longest period by day, and by anything else (days).
MAX_DAYS_BY_DAY, MAX_DAYS = 366, 5 * 366
_NONE = {"linh_vuc": Message("Chưa phân loại", "Not classified"),
         "co_quan": Message("Chưa chuyển cơ quan", "Not routed")}


@dataclass(frozen=True)
class StatisticsRow:
    key: str
    label: Message
    values: dict[str, int]


@dataclass
class StatisticsTable:
    date_from: date
    date_to: date
    group_by: str
    rows: list[StatisticsRow]
    total: dict[str, int]

    @property
    def header(self) -> Message:
        return GROUPINGS[self.group_by]


def _checked(viewer: User, date_from: date | None, date_to: date | None, group_by: str) -> tuple[date, date]:
    if BOARD_ROLES.isdisjoint(viewer.role_codes):
        raise Forbidden(Message("Chỉ điện thoại viên, lãnh đạo và quản trị xem thống kê Tổng đài 1022.",
                                "Only operators, leaders and administrators see the hotline's statistics."))
    if group_by not in GROUPINGS:
        raise InvalidData(Message(f"Không thống kê theo “{group_by[:30]}” được (chọn lĩnh vực, kênh, cơ quan, "
                                  "ngày, tuần hoặc tháng).",
                                  f"Cannot group by “{group_by[:30]}” (field, channel, agency, day, week or month)."))
    if date_from is None or date_to is None:
        raise InvalidData(Message("Chọn “Từ ngày” và “Đến ngày” của kỳ thống kê.", "Choose the period's dates."))
    if date_from > date_to:
        raise InvalidData(Message("“Từ ngày” phải trước hoặc bằng “Đến ngày”.", "“From” must not be after “To”."))
    days = (date_to - date_from).days + 1
    limit = MAX_DAYS_BY_DAY if group_by == "ngay" else MAX_DAYS
    if days > limit:
        raise InvalidData(Message(f"Kỳ thống kê dài quá {limit} ngày ({days} ngày).",
                                  f"The period is longer than {limit} days ({days})."))
    return date_from, date_to


def _late(now: datetime) -> ColumnElement[bool]:
    """One of the ticket's tasks finished after its due date, or is ready past it at `now`."""
    return exists(select(HumanTask.id).where(
        HumanTask.instance_id == HotlineTicket.instance_id, HumanTask.due_at.is_not(None),
        or_(HumanTask.completed_at > HumanTask.due_at,
            (HumanTask.status == TaskStatus.READY) & (HumanTask.due_at < now))))


def _metric_queries(start: datetime, end: datetime, now: datetime) -> dict[str, tuple[Any, list[Any]]]:
    """For each metric: the time column it is dated by and its conditions."""
    def inside(column: Any) -> list[Any]:
        return [column >= start, column < end]

    return {
        "received": (HotlineTicket.created_at, inside(HotlineTicket.created_at)),
        "processed": (HotlineTicket.closed_at, inside(HotlineTicket.closed_at)),
        "answered": (HotlineTicket.answered_at, inside(HotlineTicket.answered_at)),
        "referred": (HotlineTicket.closed_at, [*inside(HotlineTicket.closed_at),
                                               HotlineTicket.state == TicketState.REFERRED.value]),
        "overdue": (HotlineTicket.created_at, [*inside(HotlineTicket.created_at), _late(now)]),
    }


def _bucket(group_by: str) -> Callable[[date], date]:
    if group_by == "tuan":
        return lambda d: d - timedelta(days=d.weekday())
    if group_by == "thang":
        return lambda d: d.replace(day=1)
    return lambda d: d


def _time_rows(group_by: str, first: date, last: date, counts: dict[str, dict[Any, int]]) -> list[StatisticsRow]:
    bucket = _bucket(group_by)
    keys: list[date] = []
    day = first
    while day <= last:
        key = bucket(day)
        if not keys or keys[-1] != key:
            keys.append(key)
        day += timedelta(days=1)
    return [StatisticsRow(k.isoformat(), _time_label(group_by, k), {m: counts[m].get(k, 0) for m, _l in METRICS})
            for k in keys]


def _time_label(group_by: str, key: date) -> Message:
    if group_by == "thang":
        return Message(f"Tháng {key.month:02d}/{key.year}", f"{key.year}-{key.month:02d}")
    if group_by == "tuan":
        year, week, _weekday = key.isocalendar()
        end = key + timedelta(days=6)
        span = f"{key:%d/%m}–{end:%d/%m}"
        return Message(f"Tuần {week:02d}/{year} ({span})", f"Week {week:02d}/{year} ({span})")
    return Message(f"{key:%d/%m/%Y}", f"{key:%d/%m/%Y}")


def _attribute_rows(uow: UnitOfWork, group_by: str, counts: dict[str, dict[Any, int]]) -> list[StatisticsRow]:
    keys: set[str] = set().union(*(set(c) for c in counts.values()))
    if group_by == "linh_vuc":
        order = [f.code for f in FIELDS if f.code in keys] + sorted(keys - set(FIELDS_BY_CODE))
        labels = {f.code: Message(f.label_vi, f.label_en) for f in FIELDS}
    elif group_by == "kenh":
        order = [c.value for c in Channel if c.value in keys] + sorted(keys - {c.value for c in Channel})
        labels = {c.value: c.label for c in Channel}
    else:
        names = dict(uow.session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(keys))).all()) \
            if keys else {}
        labels = {code: Message(name, name) for code, name in names.items()}
        order = sorted(keys, key=lambda k: (k == "", names.get(k, k)))
    none = _NONE.get(group_by, Message("—", "—"))
    return [StatisticsRow(k, labels.get(k, none if not k else Message(k, k)),
                          {m: counts[m].get(k, 0) for m, _l in METRICS}) for k in order]


def statistics(uow: UnitOfWork, services: Services, viewer: User, date_from: date | None, date_to: date | None,
               group_by: str = "linh_vuc") -> StatisticsTable:
    """The counts of the period [date_from, date_to] (Vietnam days, both included), grouped by `group_by`."""
    first, last = _checked(viewer, date_from, date_to, group_by)
    tz = ZoneInfo(services.settings.timezone)
    start = datetime.combine(first, time(0), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    queries = _metric_queries(start, end, services.now())
    counts: dict[str, dict[Any, int]] = {}
    if group_by in ("ngay", "tuan", "thang"):
        bucket = _bucket(group_by)
        for metric, (column, where) in queries.items():
            found: dict[Any, int] = {}
            for (moment,) in uow.session.execute(select(column).where(*where)):
                key = bucket(moment.astimezone(tz).date())
                found[key] = found.get(key, 0) + 1
            counts[metric] = found
        rows = _time_rows(group_by, first, last, counts)
    else:
        attribute = {"linh_vuc": HotlineTicket.field, "kenh": HotlineTicket.channel,
                     "co_quan": HotlineTicket.agency_code}[group_by]
        for metric, (_column, where) in queries.items():
            query = select(attribute, func.count(HotlineTicket.id)).where(*where).group_by(attribute)
            counts[metric] = {row[0]: row[1] for row in uow.session.execute(query)}
        rows = _attribute_rows(uow, group_by, counts)
    total = {m: sum(counts[m].values()) for m, _l in METRICS}
    return StatisticsTable(first, last, group_by, rows, total)


def export_statistics(uow: UnitOfWork, services: Services, viewer: User, date_from: date | None,
                      date_to: date | None, group_by: str = "linh_vuc", locale: str = "vi",
                      stamp: str = "") -> bytes:
    """The statistics table as an .xlsx file: title, period, one row per group and the total row."""
    table = statistics(uow, services, viewer, date_from, date_to, group_by)
    return workbook(table, locale, stamp, services.settings.timezone)


def workbook(table: StatisticsTable, locale: str = "vi", stamp: str = "", timezone: str = "Asia/Ho_Chi_Minh") -> bytes:
    def t(message: Message) -> str:
        return message.text(locale)

    columns = [Column(t(Message("STT", "No.")), 6, Kind.INTEGER), Column(t(table.header), 36),
               *(Column(t(label), 13, Kind.INTEGER) for _m, label in METRICS)]
    rows: Iterable[Row] = [Row([n, t(r.label), *(r.values[m] for m, _l in METRICS)])
                           for n, r in enumerate(table.rows, start=1)]
    total = Row(["", t(Message("Tổng cộng", "Total")), *(table.total[m] for m, _l in METRICS)], emphasis=True)
    period = Message(f"Từ ngày {table.date_from:%d/%m/%Y} đến ngày {table.date_to:%d/%m/%Y} — theo "
                     f"{table.header.vi.lower()}",
                     f"From {table.date_from:%d/%m/%Y} to {table.date_to:%d/%m/%Y} — by {table.header.en.lower()}")
    notes = [t(Message("Đã xử lý: phiếu đã đóng trong kỳ (đã trả lời, chuyển kênh hoặc hủy). Quá hạn: phiếu tiếp "
                       "nhận trong kỳ có bước xử lý trễ hạn.",
                       "Processed: tickets closed in the period (answered, referred or cancelled). Overdue: tickets "
                       "received in the period with a step past its deadline."))]
    return table_workbook(t(Message("THỐNG KÊ PHIẾU TỔNG ĐÀI 1022", "HOTLINE 1022 STATISTICS")), columns,
                          [*rows, total], subtitle=[line for line in (t(period), stamp) if line], notes=notes,
                          auto_filter=False, timezone=timezone)
