"""The quarterly report to the chairman on videoconferences (Huế 279/QĐ-UBND, Điều 7.2; docs/meeting_rules.md).

Computed from the meeting register, the invitations, the meeting documents, the audit of
postponements and the instances' incidents, for meetings starting in the quarter (Vietnam time):

* meetings held (`da_hop`) by level, and in all; cancelled (`huy`); postponed (postponed by the host
  side on the platform, or recorded `hoan` by their procedure); refused registrations;
* per invited unit: invitations, attending, not attending, unanswered (cancelled and refused
  meetings left out);
* documents against their due time (engine.services.meeting_documents) of the meetings not
  cancelled or refused: on time, sent late, none sent after the due time, not yet due, urgent;
* meetings with incidents: an incident of their instance (sự cố of the platform), or one reported
  by their procedure: `co_su_co` true, a `su_co` text (Phụ lục III) or a positive `so_su_co`.
"""
from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from sqlalchemy import select

from engine.documents.vietnamese import place_date
from engine.domain.enums import REPORT_ROLES
from engine.domain.errors import Forbidden, InvalidData
from engine.domain.messages import Message
from engine.persistence.models import AuditEvent, Incident, Meeting, MeetingInvitation, ProcessInstance, Unit, User
from engine.persistence.uow import UnitOfWork
from engine.reports.excel import Column, Kind, Row, table_workbook
from engine.reports.statistics import parse_year
from engine.services import meeting_documents, meetings
from engine.services.context import Services
from engine.services.invitations import InvitationStatus
from engine.services.meeting_documents import DocumentsState
from engine.services.meetings import MeetingLevel, MeetingState

QUARTERS = ("I", "II", "III", "IV")
#: Meetings that will not take place: left out of the answers and documents figures.
CALLED_OFF = (MeetingState.CANCELLED.value, MeetingState.REFUSED.value)
NOT_ALLOWED = Message("Chỉ lãnh đạo và quản trị hệ thống xem được báo cáo này.",
                      "Only leaders and administrators may see this report.")
#: Variables meeting procedures set when an incident was reported: a flag, the Phụ lục III text, a count.
INCIDENT_FLAG, INCIDENT_TEXT, INCIDENT_COUNT = "co_su_co", "su_co", "so_su_co"


def check_viewer(actor: User) -> None:
    if not REPORT_ROLES & actor.role_codes:
        raise Forbidden(NOT_ALLOWED)


def parse_quarter(year_text: str | None, quarter_text: str | None, today: date) -> tuple[int, int]:
    """(year, quarter) asked for; the current quarter when not given."""
    year = parse_year(year_text, today.year)
    text = (quarter_text or "").strip().upper()
    if not text:
        return year, (today.month - 1) // 3 + 1
    quarter = QUARTERS.index(text) + 1 if text in QUARTERS else int(text) if text.isdigit() else 0
    if not 1 <= quarter <= 4:
        raise InvalidData(Message(f"Quý “{text[:10]}” không hợp lệ; chọn quý 1, 2, 3 hoặc 4.",
                                  f"Quarter “{text[:10]}” is not valid; choose 1, 2, 3 or 4."))
    return year, quarter


@dataclass(frozen=True)
class UnitAnswers:
    unit: str
    invited: int
    attending: int
    declined: int
    unanswered: int


@dataclass(frozen=True)
class MeetingLine:
    """One meeting of the quarter as the report lists it."""

    meeting: Meeting
    postponed: bool
    documents: DocumentsState
    incidents: int


@dataclass(frozen=True)
class QuarterReport:
    year: int
    quarter: int
    first_day: date
    last_day: date
    #: (level label, meetings held) in the levels' order; levels nobody used are listed with 0.
    held_by_level: list[tuple[Message, int]]
    held: int
    cancelled: int
    postponed: int
    refused: int
    units: list[UnitAnswers]
    documents: dict[DocumentsState, int]
    lines: list[MeetingLine]

    @property
    def total(self) -> int:
        return len(self.lines)

    @property
    def with_incidents(self) -> list[MeetingLine]:
        return [line for line in self.lines if line.incidents]

    @property
    def title(self) -> str:
        return f"Tình hình tổ chức Hội nghị truyền hình quý {QUARTERS[self.quarter - 1]} năm {self.year}"


def _bounds(year: int, quarter: int) -> tuple[date, date]:
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, date.fromordinal(after.toordinal() - 1)


def _incidents(uow: UnitOfWork, listed: list[Meeting]) -> dict[int, int]:
    """Incidents per instance: the platform's, and one for a procedure's own report (Phụ lục III)."""
    ids = [m.instance_id for m in listed]
    counts: Counter[int] = Counter(uow.session.scalars(select(Incident.instance_id)
                                                       .where(Incident.instance_id.in_(ids))))
    for instance_id, facts in uow.session.execute(select(ProcessInstance.id, ProcessInstance.facts)
                                                  .where(ProcessInstance.id.in_(ids))):
        values = facts or {}
        if (values.get(INCIDENT_FLAG) is True or (isinstance(values.get(INCIDENT_TEXT), str)
                                                   and values[INCIDENT_TEXT].strip())):
            counts[instance_id] += 1
        elif isinstance(values.get(INCIDENT_COUNT), int) and values[INCIDENT_COUNT] > 0:
            counts[instance_id] += values[INCIDENT_COUNT]
    return dict(counts)


def _unit_answers(uow: UnitOfWork, listed: list[Meeting]) -> list[UnitAnswers]:
    counted = [m.id for m in listed if m.state not in CALLED_OFF]
    rows = uow.session.execute(select(Unit.name, MeetingInvitation.status)
                               .join(Unit, Unit.id == MeetingInvitation.unit_id)
                               .where(MeetingInvitation.meeting_id.in_(counted))).all() if counted else []
    by_unit: dict[str, Counter[str]] = {}
    for name, status in rows:
        by_unit.setdefault(name, Counter())[status] += 1
    return [UnitAnswers(name, sum(c.values()), c[InvitationStatus.ATTENDING.value], c[InvitationStatus.DECLINED.value],
                        c[InvitationStatus.PENDING.value]) for name, c in sorted(by_unit.items())]


def compute(uow: UnitOfWork, services: Services, actor: User, year: int, quarter: int) -> QuarterReport:
    check_viewer(actor)
    zone = ZoneInfo(services.settings.timezone)
    first, last = _bounds(year, quarter)
    listed = meetings.between(uow, first, last, zone)
    ids = [m.instance_id for m in listed]
    postponed_ids = set(uow.session.scalars(select(AuditEvent.instance_id).where(
        AuditEvent.action == "meeting_postpone", AuditEvent.instance_id.in_(ids)))) if ids else set()
    incidents = _incidents(uow, listed) if ids else {}
    sent = meeting_documents.first_sent(uow.session, ids)
    now = services.now()
    lines = []
    for m in listed:
        state = meeting_documents.state_of(m, meeting_documents.due_at(services, m), sent.get(m.instance_id), now)
        lines.append(MeetingLine(m, m.instance_id in postponed_ids or m.state == MeetingState.POSTPONED.value,
                                 state, incidents.get(m.instance_id, 0)))
    held = [m for m in listed if m.state == MeetingState.HELD.value]
    by_level = Counter(m.level for m in held)
    levels: list[tuple[Message, int]] = [(level.label, by_level.pop(level.value, 0)) for level in MeetingLevel]
    levels += [(meetings.level_label(code), n) for code, n in sorted(by_level.items())]
    # Documents of the meetings still held or to be held; the urgent ones count as not applicable.
    documents = Counter(line.documents for line in lines if line.meeting.state not in CALLED_OFF)
    return QuarterReport(
        year=year, quarter=quarter, first_day=first, last_day=last, held_by_level=levels, held=len(held),
        cancelled=sum(m.state == MeetingState.CANCELLED.value for m in listed),
        postponed=sum(line.postponed for line in lines),
        refused=sum(m.state == MeetingState.REFUSED.value for m in listed),
        units=_unit_answers(uow, listed), documents={s: documents.get(s, 0) for s in DocumentsState}, lines=lines)


# ---------------------------------------------------------------- files


def summary_rows(report: QuarterReport) -> list[tuple[str, str, int]]:
    """The figures as (group, item, number): the Excel table, and the DOCX's tables are built from the same."""
    rows = [("Cuộc họp đã tổ chức theo cấp", label.vi, n) for label, n in report.held_by_level]
    rows += [("Tổng hợp cuộc họp", "Tổng số cuộc họp trong quý", report.total),
             ("Tổng hợp cuộc họp", "Đã tổ chức", report.held),
             ("Tổng hợp cuộc họp", "Bị hủy", report.cancelled),
             ("Tổng hợp cuộc họp", "Bị hoãn", report.postponed),
             ("Tổng hợp cuộc họp", "Đăng ký bị từ chối", report.refused),
             ("Tổng hợp cuộc họp", "Có sự cố", len(report.with_incidents))]
    rows += [("Tài liệu họp (hạn: trước 01 ngày làm việc)", state.label.vi, n) for state, n in report.documents.items()]
    for unit in report.units:
        rows += [(f"Trả lời giấy mời: {unit.unit}", "Được mời", unit.invited),
                 (f"Trả lời giấy mời: {unit.unit}", "Xác nhận tham dự", unit.attending),
                 (f"Trả lời giấy mời: {unit.unit}", "Không tham dự (có lý do)", unit.declined),
                 (f"Trả lời giấy mời: {unit.unit}", "Chưa trả lời", unit.unanswered)]
    return rows


def workbook(report: QuarterReport, stamp: str, timezone: str) -> bytes:
    columns = [Column("Nhóm chỉ tiêu", 44), Column("Chỉ tiêu", 40), Column("Số lượng", 12, Kind.INTEGER)]
    return table_workbook(f"Báo cáo {report.title[0].lower()}{report.title[1:]}", columns,
                          [Row(r) for r in summary_rows(report)],
                          subtitle=[f"Từ ngày {report.first_day:%d/%m/%Y} đến ngày {report.last_day:%d/%m/%Y}", stamp],
                          sheet=f"Quy {report.quarter} nam {report.year}", timezone=timezone)


def _table(doc: Any, header: list[str], rows: list[list[Any]], widths: list[float]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = str(value)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)


def _line(paragraph: Any, text: str, *, bold: bool = False, italic: bool = False, size: float = 13,
          align: Any = WD_ALIGN_PARAGRAPH.CENTER) -> None:
    paragraph.alignment = align
    run = paragraph.add_run(text)
    run.bold, run.italic, run.font.size = bold, italic, Pt(size)


def _centred(doc: Any, text: str, *, bold: bool = False, size: float = 13, italic: bool = False) -> None:
    _line(doc.add_paragraph(), text, bold=bold, italic=italic, size=size)


def _heading(doc: Any, services: Services) -> None:
    """Nghị định 30's top: the issuing body on the left, the national motto on the right, then place and date."""
    settings = services.settings
    table = doc.add_table(rows=1, cols=2)  # no borders: the default table style
    left, right = table.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(9.5)
    _line(left.paragraphs[0], settings.org_parent_name.upper(), size=12)
    _line(left.add_paragraph(), settings.org_name.upper(), bold=True, size=12)
    _line(right.paragraphs[0], "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=12)
    _line(right.add_paragraph(), "Độc lập - Tự do - Hạnh phúc", bold=True)
    today = services.now().astimezone(ZoneInfo(settings.timezone)).date()
    _line(right.add_paragraph(), place_date(settings.org_place, today), italic=True)


def docx(report: QuarterReport, services: Services, author: str) -> bytes:
    """The report as a Word document for the chairman (Nghị định 30 layout, Times New Roman 13)."""
    zone = ZoneInfo(services.settings.timezone)
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = "Times New Roman", Pt(13)
    _heading(doc, services)
    _centred(doc, "BÁO CÁO", bold=True, size=14)
    _centred(doc, report.title, bold=True, size=14)
    _centred(doc, "Kính gửi: Chủ tịch Ủy ban nhân dân tỉnh.")
    doc.add_paragraph(f"Thực hiện Quy chế tổ chức Hội nghị truyền hình (Quyết định số 279/QĐ-UBND), xin báo cáo tình "
                      f"hình tổ chức Hội nghị truyền hình từ ngày {report.first_day:%d/%m/%Y} đến ngày "
                      f"{report.last_day:%d/%m/%Y} như sau:")
    doc.add_paragraph(f"1. Tổng số cuộc họp trong quý: {report.total}; đã tổ chức: {report.held}; bị hủy: "
                      f"{report.cancelled}; bị hoãn: {report.postponed}; đăng ký bị từ chối: {report.refused}.")
    _table(doc, ["Cấp họp", "Số cuộc họp đã tổ chức"],
           [[label.vi, n] for label, n in report.held_by_level] + [["Tổng cộng", report.held]], [10, 6])
    doc.add_paragraph("2. Xác nhận tham dự của các đơn vị được mời:")
    _table(doc, ["Đơn vị", "Được mời", "Tham dự", "Không tham dự", "Chưa trả lời"],
           [[u.unit, u.invited, u.attending, u.declined, u.unanswered] for u in report.units] or [["—", 0, 0, 0, 0]],
           [6.5, 2.2, 2.2, 2.6, 2.5])
    doc.add_paragraph("3. Gửi tài liệu họp tới các điểm cầu (chậm nhất 01 ngày làm việc trước cuộc họp):")
    _table(doc, ["Tình trạng", "Số cuộc họp"], [[s.label.vi, n] for s, n in report.documents.items()], [10, 6])
    incidents = report.with_incidents
    doc.add_paragraph(f"4. Cuộc họp có sự cố: {len(incidents)}.")
    if incidents:
        _table(doc, ["Cuộc họp", "Thời gian", "Số sự cố"],
               [[line.meeting.title, _when(line.meeting, zone), line.incidents] for line in incidents], [9, 4.5, 2.5])
    doc.add_paragraph(f"Người lập báo cáo: {author}.")
    receivers = doc.add_paragraph()
    _line(receivers, "Nơi nhận:", bold=True, italic=True, size=12, align=WD_ALIGN_PARAGRAPH.LEFT)
    _line(receivers, "\n- Chủ tịch UBND tỉnh;\n- Lưu: VT.", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _when(meeting: Meeting, zone: ZoneInfo) -> str:
    start = meeting.starts_at.astimezone(zone) if meeting.starts_at else None
    return f"{start:%H:%M %d/%m/%Y}" if start else "—"
