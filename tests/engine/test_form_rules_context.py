"""Form rules that read when and by whom a form is submitted (engine/forms/context_rules.py): a date
at least N full working days ahead on the working calendar (`minWorkingDaysAhead`, waived by
`unlessField`), never a past date, and fields only some units may fill (`onlyUnits`); and the
`requiredWhen` forms the videoconference registration needs (a ticked choice, a file field, a list)."""
from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from engine.calendar import WorkingCalendar
from engine.domain.errors import InvalidData
from engine.forms import excel, rules, validate_submission
from engine.forms.context_rules import Submission, earliest_day

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TTCDS = {"ttcds": "Trung tâm Chuyển đổi số", "so_tc": "Sở Tài chính"}
SCHEMA: dict[str, Any] = {"type": "default", "id": "dang_ky_hop", "components": [
    {"type": "checkbox", "id": "F_DotXuat", "key": "dot_xuat", "label": "Đột xuất, khẩn cấp",
     "properties": {"onlyUnits": "ttcds"}},
    {"type": "datetime", "subtype": "date", "id": "F_NgayHop", "key": "ngay_hop", "dateLabel": "Ngày họp",
     "properties": {"minWorkingDaysAhead": "3", "unlessField": "dot_xuat"}},
    {"type": "checklist", "id": "F_YeuCau", "key": "yeu_cau", "label": "Yêu cầu",
     "values": [{"label": "Ghi lại video hội nghị", "value": "ghi_video"}, {"label": "Khác", "value": "khac"}]},
    {"type": "checkbox", "id": "F_DongY", "key": "dong_y", "label": "Người chủ trì đồng ý ghi hình",
     "properties": {"requiredWhen": "yeu_cau=ghi_video"}},
    {"type": "filepicker", "id": "F_VanBan", "key": "van_ban", "label": "Mô tả nội dung khác", "multiple": True,
     "properties": {"requiredWhen": "yeu_cau=khac"}},
    {"type": "checkbox", "id": "F_CoSuCo", "key": "co_su_co", "label": "Có sự cố"},
    {"type": "dynamiclist", "id": "L_SuCo", "path": "su_co", "isRepeating": True, "allowAddRemove": True,
     "properties": {"requiredWhen": "co_su_co=true"},
     "components": [{"type": "textfield", "id": "F_MoTa", "key": "mo_ta", "label": "Mô tả"}]},
]}


def at(day: int, month: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN)


def errors_of(data: dict[str, Any], now: datetime, unit: str | None = "so_tc") -> dict[str, str]:
    cleaned, errors = validate_submission(SCHEMA, data)
    submission = Submission(now, WorkingCalendar(), unit, TTCDS)
    return {e.path: e.message.vi for e in [*errors, *rules.rule_errors(SCHEMA, cleaned, errors, None, submission)]}


def booking(day: str, **more: Any) -> dict[str, Any]:
    return {"ngay_hop": day, "dot_xuat": False, "van_ban": [], **more}


# ---------------------------------------------------------------- three full working days


@pytest.mark.parametrize(("now", "earliest"), [
    (at(26, 11, 9), date(2026, 12, 2)),    # Thu: Fri 27, Mon 30, Tue 1 lie between → Wed 2
    (at(27, 11, 16), date(2026, 12, 3)),   # Fri afternoon: Mon, Tue, Wed → Thu 3
    (at(26, 11, 18), date(2026, 12, 3)),   # Thu after office hours counts as received on Fri
    (at(28, 11, 10), date(2026, 12, 4)),   # a Saturday counts as received on Monday 30
    (at(29, 4, 9), date(2026, 5, 7)),      # 30/4 and 1/5 are holidays: Mon 4, Tue 5, Wed 6 → Thu 7
    (at(31, 12, 9, year=2026), date(2027, 1, 7)),  # Fri 01/01/2027 is a holiday: Mon 4, Tue 5, Wed 6 → Thu 7
])
def test_earliest_meeting_day_leaves_three_full_working_days(now: datetime, earliest: date) -> None:
    assert earliest_day(WorkingCalendar(), now, 3) == earliest
    before = earliest.fromordinal(earliest.toordinal() - 1).isoformat()
    assert list(errors_of(booking(before), now)) == ["ngay_hop"]
    assert errors_of(booking(earliest.isoformat()), now) == {}


def test_too_soon_names_the_earliest_date_and_the_waiver() -> None:
    assert errors_of(booking("2026-12-01"), at(26, 11, 9)) == {"ngay_hop": (
        "Phải đăng ký trước ngày họp ít nhất 03 ngày làm việc (họp từ ngày 02/12/2026 trở đi), hoặc đánh dấu "
        "“Đột xuất, khẩn cấp”.")}


def test_an_administrators_day_off_pushes_the_earliest_date() -> None:
    calendar = WorkingCalendar({date(2026, 11, 30): (False, "Nghỉ bù")})
    assert earliest_day(calendar, at(26, 11, 9), 3) == date(2026, 12, 3)
    cleaned, errors = validate_submission(SCHEMA, booking("2026-12-02"))
    found = rules.rule_errors(SCHEMA, cleaned, errors, None, Submission(at(26, 11, 9), calendar, "so_tc", TTCDS))
    assert [e.message.vi for e in found] == [
        "Phải đăng ký trước ngày họp ít nhất 03 ngày làm việc (họp từ ngày 03/12/2026 trở đi), hoặc đánh dấu "
        "“Đột xuất, khẩn cấp”."]


def test_urgent_waives_the_working_days_but_not_the_past_and_only_ttcds_may_mark_it() -> None:
    now = at(26, 11, 9)
    assert errors_of(booking("2026-11-26", dot_xuat=True), now, unit="ttcds") == {}
    assert errors_of(booking("2026-11-25", dot_xuat=True), now, unit="ttcds") == {
        "ngay_hop": "Ngày này đã qua; chọn từ ngày 26/11/2026 trở đi."}
    assert errors_of(booking("2026-11-26", dot_xuat=True), now) == {
        "dot_xuat": "Chỉ cán bộ của Trung tâm Chuyển đổi số được đánh dấu “Đột xuất, khẩn cấp”.",
        "ngay_hop": "Phải đăng ký trước ngày họp ít nhất 03 ngày làm việc (họp từ ngày 02/12/2026 trở đi), hoặc "
                    "đánh dấu “Đột xuất, khẩn cấp”."}
    # Nobody's unit known (a caller without a submission context): refused, never waved through.
    assert "dot_xuat" in errors_of(booking("2026-12-02", dot_xuat=True), now, unit=None)
    assert errors_of(booking("2026-12-02", dot_xuat=False), now, unit=None) == {}


def test_without_a_submission_the_rules_use_the_national_calendar_at_the_systems_time() -> None:
    cleaned, errors = validate_submission(SCHEMA, booking("2000-01-03"))
    (error,) = rules.rule_errors(SCHEMA, cleaned, errors)
    assert error.path == "ngay_hop" and error.message.vi.startswith("Ngày này đã qua")


# ---------------------------------------------------------------- requiredWhen on choices, files and lists


def test_required_when_a_choice_is_ticked_a_file_is_needed_and_a_list_needs_a_row() -> None:
    now = at(26, 11, 9)
    assert errors_of(booking("2026-12-02", yeu_cau=["khac"]), now) == {"van_ban": "Trường này là bắt buộc."}
    assert errors_of(booking("2026-12-02", yeu_cau=["ghi_video"]), now) == {"dong_y": "Trường này là bắt buộc."}
    assert errors_of(booking("2026-12-02", yeu_cau=["ghi_video"], dong_y=True), now) == {}
    assert errors_of(booking("2026-12-02", co_su_co=True, su_co=[]), now) == {"su_co": "Cần ít nhất một dòng."}
    assert errors_of(booking("2026-12-02", co_su_co=True, su_co=[{"mo_ta": "Mất tiếng"}]), now) == {}


# ---------------------------------------------------------------- publishing


@pytest.mark.parametrize(("props", "ctype", "said"), [
    ({"minWorkingDaysAhead": "ba"}, "date", "minWorkingDaysAhead là số ngày làm việc"),
    ({"minWorkingDaysAhead": "300"}, "date", "minWorkingDaysAhead là số ngày làm việc"),
    ({"minWorkingDaysAhead": "3"}, "time", "chỉ dùng cho ô ngày"),
    ({"minWorkingDaysAhead": "3", "unlessField": "dot xuat"}, "date", "unlessField ghi tên một trường"),
    ({"unlessField": "dot_xuat"}, "date", "đi cùng minWorkingDaysAhead"),
    ({"onlyUnits": "ttcds; sttt"}, "date", "onlyUnits ghi mã các đơn vị"),
])
def test_publishing_refuses_malformed_context_rules(props: dict[str, str], ctype: str, said: str) -> None:
    schema = {"components": [{"type": "datetime", "subtype": ctype, "id": "F", "key": "f", "properties": props}]}
    (problem,) = rules.rule_problems(schema)
    assert said in problem.vi


def test_well_formed_context_rules_publish() -> None:
    assert rules.rule_problems(SCHEMA) == []


# ---------------------------------------------------------------- Excel import


def test_an_excel_import_applies_the_rule_to_each_row_on_the_submissions_calendar() -> None:
    schema: dict[str, Any] = {"type": "default", "id": "lich_van_hanh", "components": [
        {"type": "dynamiclist", "id": "L_Lich", "label": "Lịch vận hành thử", "path": "lich", "isRepeating": True,
         "allowAddRemove": True, "components": [
             {"type": "textfield", "id": "F_DiemCau", "key": "diem_cau", "label": "Điểm cầu"},
             {"type": "datetime", "subtype": "date", "id": "F_Ngay", "key": "ngay", "dateLabel": "Ngày",
              "properties": {"minWorkingDaysAhead": "1"}}]}]}
    book = openpyxl.load_workbook(io.BytesIO(excel.blank_workbook(schema, "lich")))
    book.worksheets[0].append(["UBND xã Mỹ Hiệp", "27/11/2026"])
    book.worksheets[0].append(["UBND huyện Cao Lãnh", "30/11/2026"])
    content = io.BytesIO()
    book.save(content)
    now = Submission(at(26, 11, 9), WorkingCalendar(), "so_tc", TTCDS)  # Thursday: Friday must lie between
    with pytest.raises(InvalidData) as caught:
        excel.read_rows(schema, "lich", content.getvalue(), submission=now)
    ((error,),) = [caught.value.details]
    assert (error.row, error.column) == (2, "B")
    # Friday must lie between: a meeting may be held from Saturday on (weekend meetings are not refused).
    assert error.message.vi == "Phải đăng ký trước ngày họp ít nhất 01 ngày làm việc (họp từ ngày 28/11/2026 trở đi)."
    later = Submission(at(25, 11, 9), WorkingCalendar(), "so_tc", TTCDS)
    assert [r["ngay"] for r in excel.read_rows(schema, "lich", content.getvalue(), submission=later)] == [
        "2026-11-27", "2026-11-30"]
