"""Excel exports and statistics: the shared writer, report definitions, and the Phụ lục V counts."""
from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from engine.domain.enums import InstanceStatus, TaskStatus
from engine.domain.errors import Forbidden, InvalidData, NotFound
from engine.persistence.models import HumanTask, User
from engine.persistence.uow import UnitOfWork
from engine.reports import statistics
from engine.reports.definitions import DefinitionError, Period, load_file, match_key, parse
from engine.reports.excel import Column, Kind, Row, sheet_name, table_workbook
from engine.services import instances
from engine.services.context import Services
from engine.settings import ROOT, Settings
from tests.engine.conftest import Clock, Publish

Uow = Callable[[], UnitOfWork]
REPORTS_DIR = ROOT / "processes" / "reports"


def sheet_of(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data)).active


# ---------------------------------------------------------------- the writer


def sample_workbook() -> bytes:
    columns = [Column("Công việc", 30), Column("Số hồ sơ", 8, Kind.INTEGER), Column("Ngày họp", 12, Kind.DATE),
               Column("Nhận lúc", 17, Kind.DATETIME), Column("Kinh phí", 14, Kind.NUMBER)]
    rows = [
        ["Xử lý nội dung đăng ký", 12, date(2026, 3, 5), datetime(2026, 3, 5, 1, 30, tzinfo=UTC), 1250000.5],
        ["=HYPERLINK(\"http://127.0.0.1\")", 13, "2026-11-30", None, None],
        Row(["Tổng cộng", 25, None, None, 1250000.5], emphasis=True),
    ]
    return table_workbook("Việc cần làm", columns, rows, subtitle="Người xuất: Lê Văn Cường")


def test_writer_styles_the_header_freezes_it_and_filters() -> None:
    ws = sheet_of(sample_workbook())
    assert ws["A1"].value == "Việc cần làm" and ws["A1"].font.b
    assert "A1:E1" in {str(r) for r in ws.merged_cells.ranges}  # the title spans the table
    assert ws["A2"].value == "Người xuất: Lê Văn Cường"
    header = [c.value for c in ws[4]]
    assert header == ["Công việc", "Số hồ sơ", "Ngày họp", "Nhận lúc", "Kinh phí"]
    for cell in ws[4]:
        assert cell.font.b and cell.font.color.rgb == "00FFFFFF"
        assert cell.fill.fgColor.rgb == "001F3864"
        assert cell.alignment.wrap_text and cell.border.bottom.style == "thin"
    assert ws.freeze_panes == "A5"  # the header stays in view below the title
    assert ws.auto_filter.ref == "A4:E7"
    assert ws.column_dimensions["A"].width == 30
    assert ws.print_title_rows == "$4:$4"


def test_writer_stores_real_dates_numbers_and_text() -> None:
    ws = sheet_of(sample_workbook())
    day, moment, count, money = ws["C5"], ws["D5"], ws["B5"], ws["E5"]
    assert day.value == datetime(2026, 3, 5) and day.number_format == "dd/mm/yyyy"
    assert moment.value == datetime(2026, 3, 5, 8, 30)  # 01:30 UTC is 08:30 in Đồng Tháp
    assert moment.number_format == "dd/mm/yyyy hh:mm"
    assert (count.value, count.data_type, count.number_format) == (12, "n", "#,##0")
    assert money.value == 1250000.5
    assert ws["C6"].value == datetime(2026, 11, 30)  # ISO text from the facts becomes a date too
    formula_like = ws["A6"]
    assert (formula_like.data_type, formula_like.value) == ("s", '=HYPERLINK("http://127.0.0.1")')
    assert ws["D6"].value is None
    assert ws["A7"].font.b and not ws["A5"].font.b


def test_writer_sets_properties_and_a_valid_sheet_name() -> None:
    data = table_workbook("Thống kê: [Quý I/2026] *bản nháp*? của Trung tâm Chuyển đổi số",
                          [Column("Cấp họp")], [["Huyện - Xã"]])
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.properties.creator == "Hệ thống quy trình nội bộ"
    assert book.properties.title.startswith("Thống kê: [Quý I/2026]")
    name = book.active.title
    assert len(name) <= 31 and not set(name) & set("[]:*?/\\")
    assert name.startswith("Thống kê Quý I 2026")
    assert sheet_name("[]:*?/\\") == "Bang"


def test_writer_band_over_grouped_columns_and_no_filter_when_asked() -> None:
    columns = [Column("CẤP HỌP", 30), *(Column(q, 10, Kind.INTEGER, group="THỐNG KÊ SỐ CUỘC HỌP")
                                       for q in ("QUÝ I", "QUÝ II")), Column("Ghi chú")]
    ws = sheet_of(table_workbook("THỐNG KÊ", columns, [["Huyện - Xã", 1, 2, ""]], auto_filter=False))
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A3:A4", "B3:C3", "D3:D4"} <= merged
    assert (ws["B3"].value, ws["B4"].value, ws["C4"].value) == ("THỐNG KÊ SỐ CUỘC HỌP", "QUÝ I", "QUÝ II")
    assert ws.freeze_panes == "A5"
    assert ws.auto_filter.ref is None


def test_writer_refuses_a_row_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match="2 values for 3 columns"):
        table_workbook("X", [Column("a"), Column("b"), Column("c")], [["1", "2"]])


# ---------------------------------------------------------------- definitions


def phu_luc_v() -> dict[str, Any]:
    return json.loads((REPORTS_DIR / "phu_luc_v.json").read_text(encoding="utf-8"))


def test_every_bundled_definition_is_valid() -> None:
    found, refused = statistics.load_all(REPORTS_DIR)
    assert not refused
    assert "phu_luc_v" in {d.id for d in found}


def test_phu_luc_v_has_the_decision_rows_then_the_two_extra_levels() -> None:
    definition = statistics.load(REPORTS_DIR, "phu_luc_v")
    assert definition.title == "THỐNG KÊ SỐ LƯỢNG CUỘC HỌP CÁC CẤP"
    assert [g.label for g in definition.groups] == [
        "Huyện - Xã", "Tỉnh - Huyện", "Tỉnh - Huyện - Xã", "Trung Ương - Tỉnh", "Trung Ương - Tỉnh - Huyện",
        "Trung Ương - Tỉnh - Huyện - Xã", "Nội tỉnh", "Chuyển tiếp"]
    assert definition.period is Period.QUARTER
    assert definition.statuses == (InstanceStatus.COMPLETED,)  # meetings actually held, from finished instances
    assert definition.where == (("trang_thai_hop", ("da_hop",)),)
    assert (definition.group_field, definition.date_field) == ("cap_hop", "ngay_hop")


def test_values_match_by_value_label_or_alias_whatever_the_spelling() -> None:
    assert match_key("TW – TỈNH – HUYỆN") == match_key("tw_tinh_huyen") == "tw_tinh_huyen"
    assert match_key("Chuyên tiếp") == match_key("Chuyển tiếp")  # the decision's OCR spelling too
    group = statistics.load(REPORTS_DIR, "phu_luc_v").groups[3]
    assert {match_key(v) for v in ("tw_tinh", "Trung Ương - Tỉnh", "TW - Tỉnh")} <= group.keys


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"id": "Phụ lục V"}, "id", "chữ thường"),
    ({"title": ""}, "title", "chuỗi không rỗng"),
    ({"procedures": []}, "procedures", "danh sách không rỗng"),
    ({"statuses": ["running", "archived"]}, "statuses", "running, error, completed, cancelled"),
    ({"period": "week"}, "period", "quarter"),
    ({"group_field": "cấp họp"}, "group_field", "tên biến"),
    ({"groups": [{"value": "a", "label": "Huyện - Xã"}, {"value": "huyen_xa", "label": "B"}]}, "groups[1]",
     "trùng với dòng “Huyện - Xã”"),
    ({"groups": [{"value": "a"}]}, "groups[0].label", "bắt buộc"),
    ({"groups": [{"value": "khac", "label": "Khác biệt"}]}, "groups[0]", "trùng với dòng “Khác”"),
    ({"grop_field": "cap_hop"}, "grop_field", "không được hỗ trợ"),
    ({"where": ["da_hop"]}, "where", "đối tượng {biến: giá trị}"),
    ({"where": {}}, "where", "không rỗng"),
    ({"where": {"trạng thái": "da_hop"}}, "where.trạng thái", "tên biến"),
    ({"where": {"trang_thai_hop": []}}, "where.trang_thai_hop", "danh sách không rỗng các giá trị"),
    ({"where": {"trang_thai_hop": ["da_hop", " – "]}}, "where.trang_thai_hop", "chuỗi có chữ"),
])
def test_a_bad_definition_is_refused_naming_the_field(change: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse({**phu_luc_v(), **change}, "phu_luc_v.json")
    problems = {d["field"]: d["message"] for d in caught.value.details}
    assert field in problems and words in problems[field], problems
    assert "phu_luc_v.json" in caught.value.message.vi


def test_every_problem_is_listed_at_once() -> None:
    bad = {**phu_luc_v(), "title": 5, "period": "week"}
    del bad["group_field"]
    with pytest.raises(DefinitionError) as caught:
        parse(bad)
    assert {d["field"] for d in caught.value.details} == {"title", "period", "group_field"}


def test_files_must_be_json_objects_named_by_their_id(tmp_path: Path) -> None:
    (tmp_path / "hong.json").write_text("{khong phai json", encoding="utf-8")
    (tmp_path / "ten_khac.json").write_text(json.dumps(phu_luc_v()), encoding="utf-8")
    (tmp_path / "phu_luc_v.json").write_text(json.dumps(phu_luc_v()), encoding="utf-8")
    with pytest.raises(DefinitionError, match="not valid UTF-8 JSON"):
        load_file(tmp_path / "hong.json")
    with pytest.raises(DefinitionError) as caught:
        load_file(tmp_path / "ten_khac.json")
    assert "phải trùng tên tệp “ten_khac”" in caught.value.message.vi
    found, refused = statistics.load_all(tmp_path)
    assert [d.id for d in found] == ["phu_luc_v"] and len(refused) == 2
    for missing in ("khong_co", "../phu_luc_v", "PHU_LUC_V"):
        with pytest.raises(NotFound):
            statistics.load(tmp_path, missing)


def test_year_and_viewer_checks() -> None:
    assert statistics.parse_year(None, 2026) == 2026
    assert statistics.parse_year(" 2025 ", 2026) == 2025
    for bad in ("hai nghìn", "1999", "2100"):
        with pytest.raises(InvalidData, match="not a valid year"):
            statistics.parse_year(bad, 2026)
    clerk = User(username="cv", full_name="Chuyên viên")
    with pytest.raises(Forbidden):
        statistics.check_viewer(clerk)


# ---------------------------------------------------------------- counting (SQLite and PostgreSQL)

MEETING_PROCESS = "hop_truc_tuyen_thu"
OTHER_PROCESS = "hop_khac_thu"
LEVELS = [  # (stored value, label) as a procedure's form may offer them
    ("Huyện - Xã", "Huyện - Xã"), ("tw_tinh", "TW - Tỉnh"), ("TW - Tỉnh - Huyện - Xã", "TW - Tỉnh - Huyện - Xã"),
    ("noi_tinh", "Nội tỉnh"), ("tinh_huyen", "Tỉnh - Huyện"), ("chuyen_tiep", "Chuyển tiếp"),
    ("tinh_huyen_xa", "Tỉnh - Huyện - Xã"), ("lien_tinh", "Liên tỉnh"),
]
MEETING_FORM = {"type": "default", "id": "Form_DangKyHop", "components": [
    {"type": "select", "key": "cap_hop", "id": "Field_CapHop", "label": "Cấp họp",
     "values": [{"value": v, "label": label} for v, label in LEVELS], "validate": {"required": True}},
    {"type": "datetime", "subtype": "date", "key": "ngay_hop", "id": "Field_NgayHop", "dateLabel": "Ngày họp"},
]}
DONE_FORM = {"type": "default", "id": "Form_KetThucHop", "components": [
    {"type": "select", "key": "trang_thai_hop", "id": "Field_TrangThaiHop", "label": "Trạng thái cuộc họp",
     "values": [{"value": "da_hop", "label": "Đã họp"}, {"value": "tu_choi", "label": "Từ chối"}],
     "validate": {"required": True}},
    {"type": "textfield", "key": "ghi_chu", "id": "Field_GhiChu", "label": "Ghi chú"},
]}


def meeting_procedure(process_id: str = MEETING_PROCESS) -> dict[str, bytes]:
    """Register a meeting (level and date), then close it with its state: two user tasks of the requester."""
    xml = f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_{process_id}"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{process_id}" name="Hỗ trợ họp trực tuyến ({process_id})" isExecutable="true">
    <bpmn:startEvent id="StartEvent_BatDau"/>
    <bpmn:userTask id="Task_DangKy" name="Đăng ký cuộc họp" camunda:formKey="dang_ky_hop"
        camunda:candidateGroups="initiator:chuyen_vien"/>
    <bpmn:userTask id="Task_KetThuc" name="Kết thúc cuộc họp" camunda:formKey="ket_thuc_hop"
        camunda:candidateGroups="initiator:chuyen_vien"/>
    <bpmn:endEvent id="EndEvent_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_BatDau" targetRef="Task_DangKy"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_DangKy" targetRef="Task_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_KetThuc" targetRef="EndEvent_KetThuc"/>
  </bpmn:process>
</bpmn:definitions>'''
    return {f"{process_id}.bpmn": xml.encode(), "dang_ky_hop.form": json.dumps(MEETING_FORM).encode(),
            "ket_thuc_hop.form": json.dumps(DONE_FORM).encode()}


def counting_definition(**changes: Any) -> statistics.ReportDefinition:
    """The shipped Phụ lục V definition, counting the test procedure."""
    return parse({**phu_luc_v(), "procedures": [MEETING_PROCESS], **changes})


@dataclass(frozen=True)
class Meeting:
    level: str
    day: str | None          # ngay_hop, or None to leave it empty
    end: str = "running"     # running, completed (held: da_hop), refused (completed: tu_choi) or cancelled
    process_id: str = MEETING_PROCESS


def hold_meeting(uow: Uow, services: Services, actor: User, meeting: Meeting) -> int:
    """Start, register the level and date, and take the instance to the state asked for."""
    with uow() as u:
        instance_id = instances.start(u, services, actor, meeting.process_id).id
    data: dict[str, Any] = {"cap_hop": meeting.level} | ({"ngay_hop": meeting.day} if meeting.day else {})
    closing = {"completed": "da_hop", "refused": "tu_choi"}
    steps = [data]
    if meeting.end in closing:
        steps.append({"ghi_chu": "Kết thúc", "trang_thai_hop": closing[meeting.end]})
    for step in steps:
        with uow() as u:
            task_id = u.session.scalar(select(HumanTask.id).where(
                HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY))
            instances.complete_task(u, services, actor, task_id, step)
    if meeting.end == "cancelled":
        with uow() as u:
            instances.cancel(u, services, actor, instance_id)
    return instance_id


#: Created on 31 March 2026 at 17:30 UTC, which is already 1 April (Quý II) in Đồng Tháp.
LATE_EVENING = datetime(2026, 3, 31, 17, 30, tzinfo=UTC)
MEETINGS = [
    Meeting("Huyện - Xã", "2026-02-10", "completed"),
    Meeting("tw_tinh", "2026-05-20", "completed"),
    Meeting("TW - Tỉnh - Huyện - Xã", "2026-08-03", "completed"),
    Meeting("noi_tinh", "2026-11-30", "completed"),
    Meeting("Huyện - Xã", "2026-11-02", "cancelled"),              # cancelled: not counted
    Meeting("tinh_huyen_xa", "2026-06-10"),                        # still running: not counted
    Meeting("tinh_huyen_xa", "2026-09-10", "refused"),             # finished but not held: not counted
    Meeting("lien_tinh", "2026-08-15", "completed"),               # not a Phụ lục V level: "Khác"
    Meeting("tinh_huyen", "2025-12-20", "completed"),              # held in 2025
    Meeting("chuyen_tiep", "2027-01-05", "completed"),             # recorded now, held in 2027
    Meeting("Huyện - Xã", "2026-03-03", "completed", OTHER_PROCESS),  # another procedure
]
EMPTY = (0, 0, 0, 0, 0)


@pytest.fixture
def meetings(uow: Uow, services: Services, people: dict[str, User], publish: Publish, clock: Clock) -> None:
    publish(meeting_procedure())
    publish(meeting_procedure(OTHER_PROCESS))
    for meeting in MEETINGS:
        hold_meeting(uow, services, people["cv_stc"], meeting)
    clock.now = LATE_EVENING  # no meeting date: counted by the day it was created, on local time
    hold_meeting(uow, services, people["cv_stc"], Meeting("Huyện - Xã", None, "completed"))


def counts(table: statistics.ReportTable) -> dict[str, tuple[int, ...]]:
    return {row.label: row.values for row in table.rows}


@pytest.mark.usefixtures("meetings")
def test_phu_luc_v_counts_every_cell_of_the_year(uow: Uow, settings: Settings) -> None:
    with uow() as u:
        table = statistics.compute(u, counting_definition(), 2026, timezone=settings.timezone)
    assert table.columns == ("QUÝ I", "QUÝ II", "QUÝ III", "QUÝ IV", "CẢ NĂM")
    assert counts(table) == {
        "Huyện - Xã": (1, 1, 0, 0, 2),
        "Tỉnh - Huyện": EMPTY,
        "Tỉnh - Huyện - Xã": EMPTY,
        "Trung Ương - Tỉnh": (0, 1, 0, 0, 1),
        "Trung Ương - Tỉnh - Huyện": EMPTY,
        "Trung Ương - Tỉnh - Huyện - Xã": (0, 0, 1, 0, 1),
        "Nội tỉnh": (0, 0, 0, 1, 1),
        "Chuyển tiếp": EMPTY,
        "Khác": (0, 0, 1, 0, 1),
        "TỔNG CỘNG": (1, 2, 2, 1, 6),
    }
    assert [r.kind for r in table.rows][-2:] == [statistics.RowKind.OTHER, statistics.RowKind.TOTAL]
    assert table.procedure_names == (f"Hỗ trợ họp trực tuyến ({MEETING_PROCESS})",)


@pytest.mark.usefixtures("meetings")
def test_other_years_and_the_other_row_only_when_it_counts(uow: Uow) -> None:
    with uow() as u:
        last_year = statistics.compute(u, counting_definition(), 2025)
        next_year = statistics.compute(u, counting_definition(), 2027)
        empty_year = statistics.compute(u, counting_definition(), 2030)
    assert "Khác" not in counts(last_year)
    assert counts(last_year)["Tỉnh - Huyện"] == (0, 0, 0, 1, 1)
    assert last_year.total.values == (0, 0, 0, 1, 1)
    assert counts(next_year)["Chuyển tiếp"] == (1, 0, 0, 0, 1)
    assert next_year.total.year_total == 1
    assert empty_year.total.values == EMPTY and len(empty_year.rows) == 9


@pytest.mark.usefixtures("meetings")
def test_statuses_procedures_and_period_come_from_the_definition(uow: Uow) -> None:
    with uow() as u:
        cancelled_too = statistics.compute(u, counting_definition(statuses=["completed", "cancelled"], where=None),
                                           2026)
        not_held_too = statistics.compute(u, counting_definition(where={"trang_thai_hop": ["da_hop", "TỪ CHỐI"]}),
                                          2026)
        running_too = statistics.compute(u, counting_definition(statuses=["running", "completed"]), 2026)
        both = statistics.compute(u, counting_definition(procedures=[MEETING_PROCESS, OTHER_PROCESS]), 2026)
        monthly = statistics.compute(u, counting_definition(period="month", date_field=None), 2026)
    # Without `where`: Feb and Apr (completed) and Nov (cancelled); the refused meeting too.
    assert counts(cancelled_too)["Huyện - Xã"] == (1, 1, 0, 1, 3)
    assert counts(cancelled_too)["Tỉnh - Huyện - Xã"] == (0, 0, 1, 0, 1)
    assert cancelled_too.total.year_total == 8
    assert counts(not_held_too)["Tỉnh - Huyện - Xã"] == (0, 0, 1, 0, 1)  # values match like groups
    assert not_held_too.total.year_total == 7
    assert running_too.total.values == (1, 2, 2, 1, 6)  # the running meeting has no trang_thai_hop
    assert counts(both)["Huyện - Xã"] == (2, 1, 0, 0, 3)
    # Without a date variable every instance counts in the month it was created (26 Nov, or 1 Apr).
    assert monthly.columns[-2:] == ("THÁNG 12", "CẢ NĂM")
    assert monthly.total.values[3] == 1 and monthly.total.values[10] == 7 and monthly.total.year_total == 8


@pytest.mark.usefixtures("meetings")
def test_the_statistics_workbook_has_the_decision_layout(uow: Uow) -> None:
    with uow() as u:
        table = statistics.compute(u, counting_definition(), 2026)
    ws = sheet_of(statistics.workbook(table, as_of=datetime(2026, 11, 26, 2, 0, tzinfo=UTC)))
    assert [ws.cell(row=r, column=1).value for r in (1, 2, 3)] == [
        "THỐNG KÊ SỐ LƯỢNG CUỘC HỌP CÁC CẤP", "HỆ THỐNG HỘI NGHỊ TRUYỀN HÌNH TRỰC TUYẾN", "NĂM 2026"]
    assert [c.value for c in ws[5]] == ["CẤP HỌP", "THỐNG KÊ SỐ CUỘC HỌP", None, None, None, None, "Ghi chú"]
    assert [c.value for c in ws[6]][1:6] == ["QUÝ I", "QUÝ II", "QUÝ III", "QUÝ IV", "CẢ NĂM"]
    assert ws.freeze_panes == "A7"
    body = {row[0]: row[1:6] for row in ws.iter_rows(min_row=7, max_row=16, values_only=True)}
    assert body["Huyện - Xã"] == (1, 1, 0, 0, 2)
    assert body["Khác"] == (0, 0, 1, 0, 1)
    assert body["TỔNG CỘNG"] == (1, 2, 2, 1, 6)
    assert ws["A16"].value == "TỔNG CỘNG" and ws["A16"].font.b
    assert ws["G13"].value == "Dòng bổ sung: cấp họp có trong Phụ lục I"
    notes = [ws.cell(row=r, column=1).value for r in range(18, 21)]
    assert notes[0].startswith("Ghi chú: Đếm các hồ sơ của quy trình")
    assert ("đã hoàn thành, có trạng thái cuộc họp “Đã họp” (cuộc họp đã thực sự diễn ra); không đếm hồ sơ "
            "đang xử lý, đang có sự cố hoặc đã hủy.") in notes[0]
    assert notes[1] == "Số liệu tính đến 09:00 ngày 26/11/2026."
    assert notes[2].startswith("(Mẫu Phụ lục V kèm theo Quyết định số 810/QĐ-UBND-HC")
    assert ws.title == "Thống kê Phụ lục V 2026"
