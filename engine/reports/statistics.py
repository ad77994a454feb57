"""Statistics tables by group and period (Phụ lục V and its kin), computed from the instances' facts.

A definition (engine.reports.definitions, one JSON file each) names the procedures, statuses, the
variable holding each instance's group and the one holding its date. `compute` counts, per group
row and per quarter (or month), the instances of that year; values that match no row go to the
row "Khác", shown only when it counts something; "TỔNG CỘNG" sums every row. Nothing here knows
about meetings: hotline tickets by field per month are another JSON file, not code.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select

from engine.calendar import DEFAULT_TZ, MAX_YEAR, MIN_YEAR
from engine.domain.enums import REPORT_ROLES, InstanceStatus
from engine.domain.errors import Forbidden, InvalidData
from engine.domain.messages import Message
from engine.persistence.models import ProcedureVersion, ProcessInstance, User
from engine.persistence.uow import UnitOfWork
from engine.reports.definitions import (
    DefinitionError,
    Period,
    ReportDefinition,
    load,
    load_all,
    match_key,
    parse,
)
from engine.reports.excel import Column, Kind, Row, table_workbook

__all__ = [
    "DefinitionError", "Period", "ReportDefinition", "ReportRow", "ReportTable", "RowKind", "check_viewer",
    "compute", "load", "load_all", "parse", "parse_year", "workbook",
]

YEAR_LABEL = "CẢ NĂM"
TOTAL_LABEL = "TỔNG CỘNG"
OTHER_NOTE = "Không ghi hoặc không thuộc các dòng trên"
NOT_ALLOWED = Message("Chỉ lãnh đạo và quản trị hệ thống được xem báo cáo thống kê.",
                      "Only leaders and administrators may see the statistics reports.")
STATUS_WORDS = {
    InstanceStatus.RUNNING: ("đang xử lý", "in progress"),
    InstanceStatus.COMPLETED: ("đã hoàn thành", "completed"),
    InstanceStatus.ERROR: ("đang có sự cố", "with an incident"),
    InstanceStatus.CANCELLED: ("đã hủy", "cancelled"),
}


class RowKind(str, enum.Enum):
    GROUP = "group"
    OTHER = "other"
    TOTAL = "total"


@dataclass(frozen=True)
class ReportRow:
    label: str
    #: One count per period, then the whole year.
    values: tuple[int, ...]
    kind: RowKind = RowKind.GROUP
    note: str = ""

    @property
    def year_total(self) -> int:
        return self.values[-1]


@dataclass(frozen=True)
class ReportTable:
    definition: ReportDefinition
    year: int
    #: Period labels (QUÝ I … or THÁNG 1 …), then "CẢ NĂM".
    columns: tuple[str, ...]
    #: The definition's rows in order, "Khác" when it counts something, then "TỔNG CỘNG".
    rows: tuple[ReportRow, ...]
    #: Names of the counted procedures (newest version), for the note under the table.
    procedure_names: tuple[str, ...]

    def row(self, label: str) -> ReportRow:
        return next(r for r in self.rows if r.label == label)

    @property
    def total(self) -> ReportRow:
        return self.rows[-1]

    def counting_note(self) -> Message:
        """What was counted, in words, from the definition itself (so it never disagrees with it)."""
        d = self.definition
        names = ", ".join(f"“{n}”" for n in self.procedure_names)
        counted = [s for s in InstanceStatus if s in d.statuses]
        left_out = [s for s in InstanceStatus if s not in d.statuses]
        period_vi, period_en = ("quý", "quarter") if d.period is Period.QUARTER else ("tháng", "month")
        date_vi = (f"{d.date_label or d.date_field} ghi trong hồ sơ (khi chưa ghi thì theo ngày tạo hồ sơ)"
                   if d.date_field else "ngày tạo hồ sơ")
        date_en = (f"the {d.date_field} recorded in the dossier (the day it was created when missing)"
                   if d.date_field else "the day the dossier was created")
        where_vi, where_en = _conditions(d)
        vi = (f"Đếm các hồ sơ của quy trình {names} {_words(counted, 0, 'hoặc')}{where_vi}"
              + (f"; không đếm hồ sơ {_words(left_out, 0, 'hoặc')}" if left_out else "")
              + f". Xếp vào {period_vi} theo {date_vi}; xếp vào dòng theo {d.group_header.lower()}, "
              f"giá trị không có trong danh sách được đếm ở dòng “{d.other_label}”.")
        en = (f"Counts the dossiers of {names} that are {_words(counted, 1, 'or')}{where_en}"
              + (f"; {_words(left_out, 1, 'or')} dossiers are not counted" if left_out else "")
              + f". Each goes to a {period_en} by {date_en} and to a row by its {d.group_field}; "
              f"values not in the list are counted in the row “{d.other_label}”.")
        return Message(vi, en)


def _conditions(d: ReportDefinition) -> tuple[str, str]:
    """The `where` conditions as words after the statuses (vi, en); empty without conditions."""
    if not d.where:
        return "", ""
    each = [(variable, [f"“{v}”" for v in values]) for variable, values in d.where]
    vi = " và ".join(f"{variable} là {' hoặc '.join(values)}" for variable, values in each)
    en = " and ".join(f"{variable} is {' or '.join(values)}" for variable, values in each)
    return f", {d.where_label or 'có ' + vi}", f", whose {en}"


def _words(statuses: list[InstanceStatus], lang: int, joiner: str) -> str:
    words = [STATUS_WORDS[s][lang] for s in statuses]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {joiner} {words[-1]}"


# ---------------------------------------------------------------- who and which year


def check_viewer(actor: User) -> None:
    """Statistics are for whoever may see the deadline report (leaders and administrators)."""
    if not REPORT_ROLES & actor.role_codes:
        raise Forbidden(NOT_ALLOWED)


def parse_year(text: str | None, default: int) -> int:
    """The year asked for in a form or URL; `default` when none is given."""
    if text is None or not text.strip():
        return default
    try:
        year = int(text.strip())
    except ValueError:
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidData(Message(f"Năm “{text.strip()[:20]}” không hợp lệ; hãy chọn một năm từ {MIN_YEAR} "
                                  f"đến {MAX_YEAR}.",
                                  f"“{text.strip()[:20]}” is not a valid year; choose one from {MIN_YEAR} "
                                  f"to {MAX_YEAR}."))
    return year


# ---------------------------------------------------------------- counting


def compute(uow: UnitOfWork, definition: ReportDefinition, year: int, *,
            timezone: str = DEFAULT_TZ) -> ReportTable:
    """The table of `year`: counts per row and period, the year column, "Khác" and the total row."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside {MIN_YEAR}–{MAX_YEAR}")
    zone = ZoneInfo(timezone)
    periods = len(definition.period.labels)
    counts = {g.label: [0] * periods for g in definition.groups}
    other = [0] * periods
    rows_of = {key: group for group in definition.groups for key in group.keys}
    for created_at, stored in _candidates(uow, definition, year, zone):
        facts = stored if isinstance(stored, dict) else {}
        if not definition.accepts(facts):
            continue
        day = _day_of(facts, definition.date_field, created_at, zone)
        if day.year != year:
            continue
        value = facts.get(definition.group_field)
        group = rows_of.get(match_key(value)) if value is not None else None
        target = counts[group.label] if group else other
        target[definition.period.column_of(day.month)] += 1
    rows = [_row(g.label, counts[g.label], RowKind.GROUP, g.note) for g in definition.groups]
    if any(other):
        rows.append(_row(definition.other_label, other, RowKind.OTHER, OTHER_NOTE))
    totals = [sum(column) for column in zip(*(counts[g.label] for g in definition.groups), other, strict=True)]
    rows.append(_row(TOTAL_LABEL, totals, RowKind.TOTAL))
    return ReportTable(definition, year, (*definition.period.labels, YEAR_LABEL), tuple(rows),
                       _procedure_names(uow, definition.procedures))


def _row(label: str, counts: list[int], kind: RowKind, note: str = "") -> ReportRow:
    return ReportRow(label, (*counts, sum(counts)), kind, note)


def _candidates(uow: UnitOfWork, definition: ReportDefinition, year: int,
                zone: ZoneInfo) -> Iterable[tuple[datetime, Any]]:
    """(created_at, facts) of the instances that may fall in `year`.

    Without a date variable that is exactly the instances created in the year. With one, an
    instance is looked at when it was created from the year before to the year after (a meeting
    registered in December for January, or recorded after it took place), so the query stays
    bounded by the indexed creation time however many years the table holds.
    """
    margin = 1 if definition.date_field else 0
    start = datetime.combine(date(max(year - margin, MIN_YEAR), 1, 1), time(), zone)
    end = datetime.combine(date(year + margin + 1, 1, 1), time(), zone)
    query = (select(ProcessInstance.created_at, ProcessInstance.facts)
             .join(ProcedureVersion, ProcessInstance.version_id == ProcedureVersion.id)
             .where(ProcedureVersion.process_id.in_(definition.procedures),
                    ProcessInstance.status.in_(definition.statuses),
                    ProcessInstance.created_at >= start, ProcessInstance.created_at < end))
    return [(created_at, facts) for created_at, facts in uow.session.execute(query)]


def _day_of(facts: dict[str, Any], field: str | None, created_at: datetime, zone: ZoneInfo) -> date:
    """The instance's day: the date variable when it holds a date, else the day it was created (local)."""
    raw = facts.get(field) if field else None
    if isinstance(raw, str) and raw.strip():
        text = raw.strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is not None:
            return moment.astimezone(zone).date() if moment.tzinfo else moment.date()
    return created_at.astimezone(zone).date()


def _procedure_names(uow: UnitOfWork, process_ids: tuple[str, ...]) -> tuple[str, ...]:
    newest = (select(ProcedureVersion.process_id, func.max(ProcedureVersion.version).label("v"))
              .where(ProcedureVersion.process_id.in_(process_ids)).group_by(ProcedureVersion.process_id).subquery())
    names = dict(uow.session.execute(
        select(ProcedureVersion.process_id, ProcedureVersion.name)
        .join(newest, and_(ProcedureVersion.process_id == newest.c.process_id,
                           ProcedureVersion.version == newest.c.v))).all())
    return tuple(names.get(pid, pid) for pid in process_ids)


# ---------------------------------------------------------------- the Excel file


def workbook(table: ReportTable, *, as_of: datetime | None = None, timezone: str = DEFAULT_TZ) -> bytes:
    """The table as an .xlsx in the decision's layout: title, the header band, rows, total, notes."""
    d = table.definition
    band = d.value_header or None
    columns = [Column(d.group_header.upper(), 30),
               *(Column(label, 11, Kind.INTEGER, group=band) for label in table.columns),
               Column("Ghi chú", 34)]
    rows = [Row([r.label, *r.values, r.note], emphasis=r.kind is RowKind.TOTAL) for r in table.rows]
    subtitle = [line for line in (d.subtitle, f"NĂM {table.year}") if line]
    notes = [f"Ghi chú: {table.counting_note().vi}"]
    if as_of is not None:
        local = as_of.astimezone(ZoneInfo(timezone))
        notes.append(f"Số liệu tính đến {local:%H:%M} ngày {local:%d/%m/%Y}.")
    if d.source:
        notes.append(d.source)
    return table_workbook(d.title, columns, rows, subtitle=subtitle, notes=notes, sheet=f"{d.name} {table.year}",
                          auto_filter=False, timezone=timezone)
