"""Hotline 1022 tickets for the centre and its leaders: the filtered ticket list (and its Excel file), the live
monitoring board, and the statistics (engine.services.hotline_statistics, re-exported here). docs/hotline.md.

Who: operators, leaders and administrators (engine.domain.hotline.BOARD_ROLES). Only operators see a citizen's
full name, phone and e-mail; everyone else gets them masked, and an export with the full contacts is audited.
A ticket is *overdue* while its instance has a ready task past its due date (the working-calendar deadlines of
engine.services.sla; the hotline's tasks never pause the clock).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from engine.domain.enums import TaskStatus
from engine.domain.errors import Forbidden, InvalidData
from engine.domain.hotline import BOARD_ROLES, FIELDS_BY_CODE, may_see_contacts, shown_contact
from engine.domain.messages import Message
from engine.persistence.models import HotlineTicket, HumanTask, Unit, User
from engine.persistence.uow import UnitOfWork
from engine.reports.excel import Column, Kind, table_workbook
from engine.services import audit
from engine.services.context import Services
from engine.services.hotline import Channel, TicketState, channel_label, state_label
from engine.services.hotline_statistics import (  # noqa: F401 - part of this module's interface
    GROUPINGS,
    METRICS,
    StatisticsTable,
    export_statistics,
    statistics,
)

PAGE_SIZE = 50
#: Rows of one Excel export at most (a year of a busy centre); the file says when it was cut.
MAX_EXPORT = 20_000
MAX_SEARCH = 200
RECENT = 10
EXPORT_ACTION = "hotline.export_contacts"
NO_FIELD = Message("Chưa phân loại", "Not classified")
NO_AGENCY = Message("Chưa chuyển cơ quan", "Not routed")


def check_viewer(viewer: User) -> None:
    if BOARD_ROLES.isdisjoint(viewer.role_codes):
        raise Forbidden(Message("Chỉ điện thoại viên, lãnh đạo và quản trị xem danh sách phiếu của Tổng đài 1022.",
                                "Only operators, leaders and administrators see the hotline's tickets."))


def field_label(code: str) -> Message:
    found = FIELDS_BY_CODE.get(code)
    return Message(found.label_vi, found.label_en) if found else NO_FIELD if not code else Message(code, code)


# ---------------------------------------------------------------- time


def zone(services: Services) -> ZoneInfo:
    return ZoneInfo(services.settings.timezone)


def day_start(services: Services, day: date) -> datetime:
    """Midnight starting `day` in Vietnam, as an aware datetime (the bound every period uses)."""
    return datetime.combine(day, time(0), tzinfo=zone(services))


def today(services: Services) -> date:
    return services.now().astimezone(zone(services)).date()


def parse_day(value: str | None, what_vi: str, what_en: str) -> date | None:
    """yyyy-mm-dd (a date field) or dd/mm/yyyy; empty for none; InvalidData otherwise."""
    raw = (value or "").strip()
    if not raw:
        return None
    try:
        if "/" in raw:
            d, m, y = raw.split("/")
            return date(int(y), int(m), int(d))
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidData(Message(f"{what_vi} “{raw[:20]}” không phải ngày hợp lệ (dd/mm/yyyy).",
                                  f"{what_en} “{raw[:20]}” is not a valid date (dd/mm/yyyy).")) from None


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """The ticket's instance has a ready task past its due date at `now`."""
    return exists(select(HumanTask.id).where(
        HumanTask.instance_id == HotlineTicket.instance_id, HumanTask.status == TaskStatus.READY,
        HumanTask.due_at.is_not(None), HumanTask.due_at < now))


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class TicketFilter:
    state: str = ""
    field: str = ""
    channel: str = ""
    agency: str = ""
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""
    overdue: bool = False
    page: int = 1

    def as_args(self) -> dict[str, str]:
        """The filter as query-string values (for links keeping it: pages, the Excel file)."""
        values = {"state": self.state, "field": self.field, "channel": self.channel, "agency": self.agency,
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else "", "q": self.text,
                  "overdue": "1" if self.overdue else ""}
        return {k: v for k, v in values.items() if v}


def ticket_filter(args: Mapping[str, Any]) -> TicketFilter:
    """The filter from a form's values (state, field, channel, agency, from, to, q, overdue, page); an unknown
    state, field or channel, a malformed date, a reversed period or an over-long search is refused."""
    state, fld, channel = (str(args.get(k) or "").strip() for k in ("state", "field", "channel"))
    if state and state not in {s.value for s in TicketState}:
        raise InvalidData(Message(f"Trạng thái “{state[:30]}” không có.", f"Unknown state “{state[:30]}”."))
    if fld and fld not in FIELDS_BY_CODE:
        raise InvalidData(Message("Lĩnh vực không có trong danh mục.", "Unknown field."))
    if channel and channel not in {c.value for c in Channel}:
        raise InvalidData(Message(f"Kênh “{channel[:30]}” không có.", f"Unknown channel “{channel[:30]}”."))
    agency = str(args.get("agency") or "").strip()[:64]
    start = parse_day(args.get("from"), "Từ ngày", "From")
    end = parse_day(args.get("to"), "Đến ngày", "To")
    if start and end and start > end:
        raise InvalidData(Message("“Từ ngày” phải trước hoặc bằng “Đến ngày”.", "“From” must not be after “To”."))
    text = " ".join(str(args.get("q") or "").split())
    if len(text) > MAX_SEARCH:
        raise InvalidData(Message(f"Từ khóa tìm kiếm dài quá {MAX_SEARCH} ký tự.",
                                  f"The search text is longer than {MAX_SEARCH} characters."))
    try:
        page = max(1, int(str(args.get("page") or "1")))
    except ValueError:
        page = 1
    overdue = str(args.get("overdue") or "") in ("1", "on", "true")
    return TicketFilter(state, fld, channel, agency, start, end, text, overdue, page)


def _patterns(text: str) -> list[str]:
    """LIKE patterns for `text` as typed, in lower case and with a capital first letter: SQLite folds only
    ASCII letters, so "đèn" must also be tried as "Đèn" (PostgreSQL's ILIKE folds them all)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    variants = dict.fromkeys((escaped, escaped.lower(), escaped.capitalize(), escaped.upper()))
    return [f"%{v}%" for v in variants]


def _conditions(services: Services, flt: TicketFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if flt.state:
        where.append(HotlineTicket.state == flt.state)
    if flt.field:
        where.append(HotlineTicket.field == flt.field)
    if flt.channel:
        where.append(HotlineTicket.channel == flt.channel)
    if flt.agency:
        where.append(HotlineTicket.agency_code == flt.agency)
    if flt.date_from:
        where.append(HotlineTicket.created_at >= day_start(services, flt.date_from))
    if flt.date_to:
        where.append(HotlineTicket.created_at < day_start(services, flt.date_to + timedelta(days=1)))
    if flt.text:
        where.append(or_(*(column.ilike(pattern, escape="\\") for pattern in _patterns(flt.text)
                           for column in (HotlineTicket.code, HotlineTicket.content))))
    if flt.overdue:
        where.append(and_(HotlineTicket.closed_at.is_(None), overdue_clause(services.now())))
    return where


# ---------------------------------------------------------------- rows


@dataclass(frozen=True)
class TicketRow:
    code: str
    created_at: datetime
    channel: str
    channel_label: Message
    caller: str
    phone: str
    email: str
    field: str
    field_label: Message
    state: str
    state_label: Message
    agency_code: str
    agency_name: str
    content: str
    closed_at: datetime | None
    overdue: bool


@dataclass
class TicketPage:
    rows: list[TicketRow]
    total: int
    page: int
    pages: int
    masked: bool
    filter: TicketFilter = field(default_factory=TicketFilter)


def _unit_names(uow: UnitOfWork, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(uow.session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all())


def agency_options(uow: UnitOfWork) -> list[tuple[str, str]]:
    """The agencies tickets were routed to, as (code, name) by name: the list filter's choices."""
    codes = set(uow.session.scalars(select(HotlineTicket.agency_code).where(HotlineTicket.agency_code != "")
                                    .distinct()))
    names = _unit_names(uow, codes)
    return sorted(((code, names.get(code, code)) for code in codes), key=lambda pair: pair[1])


def _rows(uow: UnitOfWork, services: Services, tickets: list[HotlineTicket], masked: bool) -> list[TicketRow]:
    now = services.now()
    late = set()
    ids = [t.instance_id for t in tickets if t.instance_id is not None and t.closed_at is None]
    if ids:
        late = set(uow.session.scalars(select(HumanTask.instance_id).where(
            HumanTask.instance_id.in_(ids), HumanTask.status == TaskStatus.READY, HumanTask.due_at.is_not(None),
            HumanTask.due_at < now)))
    names = _unit_names(uow, {t.agency_code for t in tickets if t.agency_code})
    return [TicketRow(
        code=t.code, created_at=t.created_at, channel=t.channel, channel_label=channel_label(t.channel),
        **shown_contact(t.caller_name, t.phone, t.email, masked=masked, name_key="caller"),
        field=t.field, field_label=field_label(t.field), state=t.state, state_label=state_label(t.state),
        agency_code=t.agency_code, agency_name=names.get(t.agency_code, t.agency_code), content=t.content,
        closed_at=t.closed_at, overdue=t.instance_id in late) for t in tickets]


def ticket_list(uow: UnitOfWork, services: Services, viewer: User, filters: TicketFilter) -> TicketPage:
    """One page (PAGE_SIZE rows, newest first) of the tickets matching `filters`, contacts masked per role."""
    check_viewer(viewer)
    where = _conditions(services, filters)
    total = uow.session.scalar(select(func.count(HotlineTicket.id)).where(*where)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(filters.page, pages)
    tickets = list(uow.session.scalars(select(HotlineTicket).where(*where)
                                       .order_by(HotlineTicket.created_at.desc(), HotlineTicket.id.desc())
                                       .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    masked = not may_see_contacts(viewer.role_codes)
    return TicketPage(_rows(uow, services, tickets, masked), total, page, pages, masked, filters)


def export_tickets(uow: UnitOfWork, services: Services, viewer: User, filters: TicketFilter,
                   locale: str = "vi", stamp: str = "") -> bytes:
    """The matching tickets (all pages, at most MAX_EXPORT) as an .xlsx file; an operator's file holds the full
    contacts and is audited (`hotline.export_contacts`, committed)."""
    check_viewer(viewer)
    where = _conditions(services, filters)
    total = uow.session.scalar(select(func.count(HotlineTicket.id)).where(*where)) or 0
    tickets = list(uow.session.scalars(select(HotlineTicket).where(*where)
                                       .order_by(HotlineTicket.created_at.desc(), HotlineTicket.id.desc())
                                       .limit(MAX_EXPORT)))
    masked = not may_see_contacts(viewer.role_codes)
    rows = _rows(uow, services, tickets, masked)

    def t(vi: str, en: str) -> str:
        return Message(vi, en).text(locale)

    columns = [Column(t("Mã phiếu", "Code"), 18), Column(t("Tiếp nhận lúc", "Received"), 17, Kind.DATETIME),
               Column(t("Kênh", "Channel"), 16), Column(t("Người liên hệ", "Caller"), 22),
               Column(t("Điện thoại", "Phone"), 14), Column(t("Thư điện tử", "E-mail"), 24),
               Column(t("Lĩnh vực", "Field"), 24), Column(t("Nội dung", "Content"), 50),
               Column(t("Cơ quan xử lý", "Agency"), 26), Column(t("Trạng thái", "State"), 16),
               Column(t("Quá hạn", "Overdue"), 9), Column(t("Đóng lúc", "Closed"), 17, Kind.DATETIME)]
    data = [[r.code, r.created_at, r.channel_label.text(locale), r.caller, r.phone, r.email,
             r.field_label.text(locale), r.content, r.agency_name, r.state_label.text(locale),
             t("Có", "Yes") if r.overdue else "", r.closed_at] for r in rows]
    notes = [t("Thông tin liên hệ của người dân đã được che theo Nghị định 13/2023/NĐ-CP.",
               "The citizens' contacts are masked (Decree 13/2023/ND-CP).")] if masked else []
    if total > len(rows):
        notes.append(t(f"Chỉ xuất {len(rows)} trên {total} phiếu: hãy thu hẹp bộ lọc.",
                       f"Only {len(rows)} of {total} tickets exported: narrow the filter."))
    content = table_workbook(t("DANH SÁCH PHIẾU TỔNG ĐÀI 1022", "HOTLINE 1022 TICKETS"), columns, data,
                             subtitle=stamp or None, notes=notes, timezone=services.settings.timezone)
    if not masked:
        audit.record(uow.session, viewer, EXPORT_ACTION,
                     summary=f"Xuất Excel {len(rows)} phiếu Tổng đài 1022 kèm thông tin liên hệ đầy đủ",
                     after={"filter": filters.as_args(), "rows": len(rows)})
        uow.commit()
    return content


# ---------------------------------------------------------------- the monitoring board


@dataclass(frozen=True)
class Count:
    key: str
    label: Message
    count: int


@dataclass(frozen=True)
class OperatorDay:
    operator_id: int | None
    name: str
    received: int
    closed: int
    open: int


@dataclass
class Board:
    now: datetime
    open_total: int
    overdue: int
    received_today: int
    closed_today: int
    by_state: list[Count]
    by_field: list[Count]
    by_agency: list[Count]
    operators: list[OperatorDay]
    recent: list[TicketRow]
    masked: bool


def _grouped(uow: UnitOfWork, column: Any, *where: Any) -> dict[Any, int]:
    query = select(column, func.count(HotlineTicket.id)).where(*where).group_by(column)
    return {row[0]: row[1] for row in uow.session.execute(query)}


def board(uow: UnitOfWork, services: Services, viewer: User) -> Board:
    """What the centre's leaders watch: open tickets by state, field and agency, the overdue ones, today's
    work per operator and the latest tickets (GROUP BY queries: nothing loads every ticket)."""
    check_viewer(viewer)
    now = services.now()
    start = day_start(services, today(services))
    still_open = HotlineTicket.closed_at.is_(None)
    states = _grouped(uow, HotlineTicket.state, still_open)
    by_state = [Count(s.value, s.label, states.get(s.value, 0)) for s in TicketState
                if s not in (TicketState.CANCELLED, TicketState.ANSWERED, TicketState.REFERRED)
                or states.get(s.value)]
    fields = _grouped(uow, HotlineTicket.field, still_open)
    by_field = sorted((Count(code, field_label(code), n) for code, n in fields.items()),
                      key=lambda c: (-c.count, c.label.vi))
    agencies = _grouped(uow, HotlineTicket.agency_code, still_open)
    names = _unit_names(uow, {code for code in agencies if code})
    by_agency = sorted((Count(code, Message(names.get(code, code), names.get(code, code)) if code else NO_AGENCY, n)
                        for code, n in agencies.items()), key=lambda c: (-c.count, c.label.vi))
    overdue = uow.session.scalar(select(func.count(HotlineTicket.id)).where(still_open, overdue_clause(now))) or 0
    received = _grouped(uow, HotlineTicket.operator_id, HotlineTicket.created_at >= start)
    closed = _grouped(uow, HotlineTicket.operator_id, HotlineTicket.closed_at >= start)
    pending = _grouped(uow, HotlineTicket.operator_id, still_open)
    ids = {i for i in (*received, *closed, *pending) if i is not None}
    people = dict(uow.session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all()) \
        if ids else {}
    operators = sorted((OperatorDay(i, people.get(i, "") if i is not None else "", received.get(i, 0),
                                    closed.get(i, 0), pending.get(i, 0))
                        for i in {*received, *closed, *pending}),
                       key=lambda o: (o.operator_id is None, -o.received, o.name))
    latest = list(uow.session.scalars(select(HotlineTicket).order_by(HotlineTicket.created_at.desc(),
                                                                     HotlineTicket.id.desc()).limit(RECENT)))
    masked = not may_see_contacts(viewer.role_codes)
    return Board(now=now, open_total=sum(states.values()), overdue=overdue,
                 received_today=sum(received.values()), closed_today=sum(closed.values()), by_state=by_state,
                 by_field=by_field, by_agency=by_agency, operators=operators,
                 recent=_rows(uow, services, latest, masked), masked=masked)
