"""The one Excel writer behind every export: a titled table that opens ready to read, filter and print.

Every list or statistic the platform exports goes through `table_workbook`, so all files look
alike (the title merged across the table, a dark-blue header that stays in view, real dates and
numbers) and the same safety rules apply to all of them: text is always stored as text, so a
value typed by a user such as `=HYPERLINK(…)` never becomes a formula; characters Excel cannot
store are dropped; times are shown on the province's clock.
"""
from __future__ import annotations

import enum
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from engine.calendar import DEFAULT_TZ

#: Who the files say made them (File → Info in Excel).
CREATOR = "Hệ thống quy trình nội bộ"
SHEET_NAME_MAX = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

HEADER_FILL = PatternFill("solid", start_color="1F3864", end_color="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
_THIN = Side(style="thin", color="808080")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


class Kind(str, enum.Enum):
    """How a column's values are stored and shown."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"          # dd/mm/yyyy
    DATETIME = "datetime"  # dd/mm/yyyy hh:mm, on the province's clock


NUMBER_FORMATS = {
    Kind.TEXT: "@",
    Kind.INTEGER: "#,##0",
    Kind.NUMBER: "#,##0.00",
    Kind.DATE: "dd/mm/yyyy",
    Kind.DATETIME: "dd/mm/yyyy hh:mm",
}


@dataclass(frozen=True)
class Column:
    """One column: its header, width (Excel character units) and kind.

    `group` puts a band over adjacent columns with the same group (a two-row header, as in
    "THỐNG KÊ SỐ CUỘC HỌP" over the quarters of Phụ lục V); `number_format` overrides the
    kind's format (e.g. `'"#"0'` shows the number 12 as #12 and keeps it a number).
    """

    label: str
    width: float = 16
    kind: Kind = Kind.TEXT
    group: str | None = None
    number_format: str | None = None

    @property
    def format(self) -> str:
        return self.number_format or NUMBER_FORMATS[self.kind]


@dataclass(frozen=True)
class Row:
    """A row of values, one per column; `emphasis` makes it bold (a total row)."""

    values: Sequence[Any]
    emphasis: bool = False


def sheet_name(title: str, fallback: str = "Bang") -> str:
    """A name Excel accepts for a sheet: at most 31 characters, none of []:*?/\\, else `fallback`."""
    name = _SHEET_FORBIDDEN.sub(" ", ILLEGAL_CHARACTERS_RE.sub("", title))
    name = " ".join(name.split()).strip("'")[:SHEET_NAME_MAX].strip().strip("'")
    return name or fallback


def style_header(ws: Any, row: int, count: int, *, fill: PatternFill = HEADER_FILL) -> None:
    """The header look every sheet shares: white bold text on `fill`, thin borders, centred and wrapped."""
    for index in range(1, count + 1):
        cell = ws.cell(row=row, column=index)
        cell.font, cell.fill, cell.border = HEADER_FONT, fill, BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def table_workbook(title: str, columns: Sequence[Column], rows: Iterable[Row | Sequence[Any]], *,
                   subtitle: str | Sequence[str] | None = None, notes: Sequence[str] = (),
                   sheet: str | None = None, auto_filter: bool = True,
                   timezone: str = DEFAULT_TZ, creator: str = CREATOR) -> bytes:
    """An .xlsx file with one sheet holding the table, as bytes.

    Layout: the title (and subtitle lines) merged across the table, an empty row, the header
    (one row, or two when columns have groups) frozen in view and repeated on every printed
    page, the rows, then `notes` as lines below the table. An auto filter covers the header
    unless `auto_filter` is false (statistics with a total row would sort it away).
    """
    if not columns:
        raise ValueError("a table needs at least one column")
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet_name(sheet or title)
    width = len(columns)
    lines = [subtitle] if isinstance(subtitle, str) else list(subtitle or [])
    row_no = _title_block(ws, width, title, lines)
    header_top = row_no + 1
    header_bottom = _header(ws, columns, header_top)
    zone = ZoneInfo(timezone)
    last = header_bottom
    for item in rows:
        row = item if isinstance(item, Row) else Row(item)
        last += 1
        _data_row(ws, columns, last, row, zone)
    for offset, note in enumerate(notes, start=2):
        cell = ws.cell(row=last + offset, column=1, value=_text(note))
        cell.data_type = "s"
        cell.font = Font(italic=True)
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = f"A{header_bottom + 1}"
    end = get_column_letter(width)
    if auto_filter:
        ws.auto_filter.ref = f"A{header_bottom}:{end}{max(last, header_bottom)}"
    ws.print_title_rows = f"{header_top}:{header_bottom}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    workbook.properties.creator = creator
    workbook.properties.lastModifiedBy = creator
    workbook.properties.title = _text(title)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- parts of the sheet


def _title_block(ws: Any, width: int, title: str, lines: Sequence[str]) -> int:
    """Title and subtitle lines merged across the table; returns the last row used (an empty one)."""
    for row_no, (text, font) in enumerate([(title, Font(bold=True, size=14)),
                                           *((line, Font(bold=True, size=12)) for line in lines)], start=1):
        cell = ws.cell(row=row_no, column=1, value=_text(text))
        cell.data_type = "s"
        cell.font = font
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if width > 1:
            ws.merge_cells(start_row=row_no, start_column=1, end_row=row_no, end_column=width)
    return len(lines) + 2


def _header(ws: Any, columns: Sequence[Column], top: int) -> int:
    """The header: one row, or a band row over grouped columns; returns its last row."""
    banded = any(c.group for c in columns)
    bottom = top + 1 if banded else top
    for index, column in enumerate(columns, start=1):
        ws.cell(row=bottom, column=index, value=_text(column.label)).data_type = "s"
        if banded and not column.group:
            ws.cell(row=top, column=index, value=_text(column.label)).data_type = "s"
            ws.merge_cells(start_row=top, start_column=index, end_row=bottom, end_column=index)
    if banded:
        for group, first, last in _runs(columns):
            ws.cell(row=top, column=first, value=_text(group)).data_type = "s"
            if last > first:
                ws.merge_cells(start_row=top, start_column=first, end_row=top, end_column=last)
    for row_no in range(top, bottom + 1):
        ws.row_dimensions[row_no].height = 32
        style_header(ws, row_no, len(columns))
    return bottom


def _runs(columns: Sequence[Column]) -> list[tuple[str, int, int]]:
    """(group, first column, last column) for each run of adjacent columns sharing a group."""
    runs: list[tuple[str, int, int]] = []
    for index, column in enumerate(columns, start=1):
        if not column.group:
            continue
        if runs and runs[-1][0] == column.group and runs[-1][2] == index - 1:
            runs[-1] = (column.group, runs[-1][1], index)
        else:
            runs.append((column.group, index, index))
    return runs


def _data_row(ws: Any, columns: Sequence[Column], row_no: int, row: Row, zone: ZoneInfo) -> None:
    values = list(row.values)
    if len(values) != len(columns):
        raise ValueError(f"row {row_no} has {len(values)} values for {len(columns)} columns")
    for index, (column, value) in enumerate(zip(columns, values, strict=True), start=1):
        cell = ws.cell(row=row_no, column=index)
        stored = _value(column.kind, value, zone)
        cell.value = stored
        if isinstance(stored, str):
            cell.data_type = "s"  # never a formula, whatever the text starts with
        elif stored is not None:
            cell.number_format = column.format
        cell.border = BORDER
        numeric = column.kind in (Kind.INTEGER, Kind.NUMBER) and not isinstance(stored, str)
        cell.alignment = Alignment(vertical="top", wrap_text=not numeric,
                                   horizontal="right" if numeric else None)
        if row.emphasis:
            cell.font = Font(bold=True)


# ---------------------------------------------------------------- values


def _text(value: Any) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _value(kind: Kind, value: Any, zone: ZoneInfo) -> Any:
    """What goes into the cell: a number, a naive local date/datetime, text, or None (empty)."""
    if value is None or value == "":
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    if kind in (Kind.INTEGER, Kind.NUMBER):
        return _number(kind, value)
    if kind == Kind.DATE:
        return _date(value, zone)
    if kind == Kind.DATETIME:
        return _datetime(value, zone)
    return _text(value)


def _number(kind: Kind, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return _text(value)  # not a number: keep what was given, as text
    return int(value) if kind == Kind.INTEGER and value == int(value) else value


def _local(value: datetime, zone: ZoneInfo) -> datetime:
    # Excel has no time zones: write the wall-clock time in the province.
    return value.astimezone(zone).replace(tzinfo=None) if value.tzinfo else value


def _date(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return _local(value, zone).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return _text(value)
    return _text(value)


def _datetime(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return _local(value, zone)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)  # a wall-clock day: Excel has no zones
    if isinstance(value, str):
        try:
            return _local(datetime.fromisoformat(value), zone)
        except ValueError:
            return _text(value)
    return _text(value)
