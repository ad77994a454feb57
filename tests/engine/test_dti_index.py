"""DTI index sets: importing the example and bad workbooks (every problem named with its row), corrections."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.domain.dti import IndexSetState, ScoringMethod, UnitGroup, points, points_text
from engine.domain.errors import Conflict, Forbidden, InvalidData
from engine.persistence.models import AuditEvent, DtiIndexSet, DtiIndicator, User
from engine.persistence.uow import UnitOfWork
from engine.services import dti_index
from engine.services.context import Services
from tests.engine.dti_files import EXAMPLE, HEADERS, SMALL, header_row, workbook

Uow = Callable[[], UnitOfWork]
FIRST = header_row() + 1  # the spreadsheet row of SMALL[0]


def imported(uow: Uow, services: Services, actor: User, content: bytes, **kwargs: Any) -> dti_index.IndexSetView:
    options = {"name": "Bộ chỉ số thử", "year": 2026, "file_name": "bo-chi-so.xlsx", **kwargs}
    with uow() as u:
        return dti_index.import_index_set(u, services, actor, content=content, **options)


def problems(uow: Uow, services: Services, actor: User, content: bytes) -> list[dict[str, Any]]:
    """The import is refused: every problem as {row, column, label, vi}, and nothing was stored."""
    with pytest.raises(InvalidData) as caught:
        imported(uow, services, actor, content)
    assert caught.value.message.vi.startswith("Tệp bộ chỉ số có") or caught.value.details
    with uow() as u:
        assert u.session.scalar(select(func.count(DtiIndexSet.id))) == 0
        assert u.session.scalar(select(func.count(DtiIndicator.id))) == 0
    return [{"row": d.row, "column": d.column, "label": d.label, "vi": d.message.vi} for d in caught.value.details]


def with_row(index: int, **changes: Any) -> list[list[Any]]:
    rows = [list(row) for row in SMALL]
    for key, value in changes.items():
        rows[index][HEADERS.index(key)] = value
    return rows


# ---------------------------------------------------------------- points


@pytest.mark.parametrize(("text", "centi"), [(4, 400), ("2,5", 250), (2.25, 225), ("0", 0), (" 12.5 ", 1250)])
def test_points_are_hundredths(text: object, centi: int) -> None:
    assert points(text) == centi
    assert points(points_text(centi)) == centi


@pytest.mark.parametrize("text", ["abc", "-1", "1.234", None, True, "nan", "1e400"])
def test_points_refuse_what_is_not_a_score(text: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        points(text)


# ---------------------------------------------------------------- good files


def test_the_example_set_imports_with_its_groups_and_sums(uow: Uow, services: Services,
                                                          people: dict[str, User]) -> None:
    view = imported(uow, services, people["cv_sttt"], EXAMPLE.read_bytes(), name="Bộ chỉ số mẫu")
    summary = view.summary
    assert (summary.state, summary.indicators, summary.source_file) == (IndexSetState.DRAFT, 38, "bo-chi-so.xlsx")
    assert summary.max_by_group == {"so_nganh": 10000, "huyen": 10000}
    by_code = {i.code: i for i in view.indicators}
    assert [i.code for i in view.indicators][:4] == ["1", "1.1", "1.2", "1.2.1"]
    assert (by_code["1.2.1"].parent_code, by_code["1.2.1"].depth, by_code["1.2.1"].is_leaf) == ("1.2", 2, True)
    assert by_code["1.2"].is_leaf is False and by_code["1.2"].group == "Nhận thức số"
    assert by_code["1.1"].method is ScoringMethod.LEVELS and by_code["1.1"].evidence_text
    assert by_code["2.1.3"].applies_to == (UnitGroup.DISTRICT,)
    assert by_code["2.1.4"].applies_to == (UnitGroup.DEPARTMENT,)
    assert by_code["3.1.1"].applies_to == (UnitGroup.DEPARTMENT, UnitGroup.DISTRICT)
    with uow() as u:
        event = u.session.scalar(select(AuditEvent).where(AuditEvent.action == "dti_index_import"))
        assert event is not None and "38 chỉ số" in event.summary and event.actor_name == "Lê Văn Cường"


def test_headers_are_found_below_titles_in_any_order_with_labels_for_groups(
        uow: Uow, services: Services, people: dict[str, User]) -> None:
    order = [4, 0, 1, 2, 3, 7, 5, 6, 8]  # name first, then code, …
    rows = [[row[i] for i in order] for row in with_row(4, **{"Áp dụng cho": "Sở, ban, ngành tỉnh"})]
    content = workbook(rows, headers=[HEADERS[i].upper() for i in order], titles=("BỘ CHỈ SỐ", "Năm 2026"))
    view = imported(uow, services, people["cv_sttt"], content)
    assert {i.code: i.applies_to for i in view.indicators}["2.1"] == (UnitGroup.DEPARTMENT,)
    assert {i.code: i.max_points for i in view.indicators}["1.1"] == 400


# ---------------------------------------------------------------- bad files


def test_duplicate_codes_are_named_with_both_rows(uow: Uow, services: Services, people: dict[str, User]) -> None:
    rows = [*SMALL, ("1.2", "1", None, "Trùng mã", 1, None, None, None, None)]
    found = problems(uow, services, people["cv_sttt"], workbook(rows))
    assert {"row": FIRST + 6, "column": None, "label": "Mã chỉ số",
            "vi": f"Mã chỉ số “1.2” trùng với dòng {FIRST + 2}."} in found


def test_children_not_summing_to_their_parent_are_refused_per_group(
        uow: Uow, services: Services, people: dict[str, User]) -> None:
    rows = with_row(2, **{"Điểm tối đa": 5})  # 1.1 (4) + 1.2 (5) = 9, parent says 10
    found = problems(uow, services, people["cv_sttt"], workbook(rows))
    assert [f["row"] for f in found] == [FIRST, FIRST]  # once for each group the parent applies to
    assert found[0]["vi"] == ("Điểm tối đa của chỉ số “1” là 10 nhưng tổng điểm các chỉ số con áp dụng cho "
                              "Sở, ban, ngành tỉnh (1.1, 1.2) là 9.")
    rows = with_row(5, **{"Điểm tối đa": "4,5"})  # 2.2 (huyện only) no longer equals 2's 5 points
    found = problems(uow, services, people["cv_sttt"], workbook(rows))
    assert len(found) == 1 and "UBND huyện, thị xã, thành phố (2.2) là 4,5" in found[0]["vi"]


def test_missing_required_columns_are_named(uow: Uow, services: Services, people: dict[str, User]) -> None:
    headers = [h for h in HEADERS if h not in ("Điểm tối đa", "Tên chỉ số")]
    rows = [[r for h, r in zip(HEADERS, row, strict=True) if h in headers] for row in SMALL]
    found = problems(uow, services, people["cv_sttt"], workbook(rows, headers=headers))
    assert found == [{"row": header_row(), "column": None, "label": None,
                      "vi": f"Hàng tiêu đề (dòng {header_row()}) thiếu cột bắt buộc “Tên chỉ số”, “Điểm tối đa”."}]
    found = problems(uow, services, people["cv_sttt"], workbook([["x", "y"]], headers=["STT", "Nội dung"]))
    assert "Không tìm thấy hàng tiêu đề" in found[0]["vi"] and "“Mã chỉ số”" in found[0]["vi"]


def test_bad_numbers_are_each_named_with_row_and_column(uow: Uow, services: Services,
                                                         people: dict[str, User]) -> None:
    rows = [list(row) for row in SMALL]
    rows[1][4], rows[2][4], rows[4][4], rows[5][4] = "bốn", -1, "1,234", None
    found = problems(uow, services, people["cv_sttt"], workbook(rows))
    assert [(f["row"], f["column"], f["label"]) for f in found] == [
        (FIRST + 1, "E", "Điểm tối đa"), (FIRST + 2, "E", "Điểm tối đa"), (FIRST + 4, "E", "Điểm tối đa"),
        (FIRST + 5, "E", "Điểm tối đa")]
    assert [f["vi"] for f in found] == [
        "Điểm tối đa “bốn” phải là một số (ví dụ 2 hoặc 2,5).", "Điểm tối đa “-1” không được âm.",
        "Điểm tối đa “1,234” chỉ được tối đa hai chữ số thập phân.", "Thiếu điểm tối đa."]


def test_other_row_problems_are_all_reported_together(uow: Uow, services: Services, people: dict[str, User]) -> None:
    rows = [list(row) for row in SMALL]
    rows[1][5] = "Cảm tính"          # unknown scoring method
    rows[2][7] = "doanh nghiệp"      # unknown unit group
    rows[3][3] = None                # no name
    rows.append(["mã sai!", None, None, "Mã có dấu", 1, None, None, None, None])
    found = problems(uow, services, people["cv_sttt"], workbook(rows))
    assert [(f["row"], f["label"]) for f in found] == [
        (FIRST + 1, "Cách tính điểm"), (FIRST + 2, "Áp dụng cho"), (FIRST + 3, "Tên chỉ số"), (FIRST + 6, "Mã chỉ số")]
    assert "“doanh nghiệp” không có; dùng: so_nganh" in found[1]["vi"]


def test_parents_must_exist_and_form_no_loop(uow: Uow, services: Services, people: dict[str, User]) -> None:
    found = problems(uow, services, people["cv_sttt"], workbook(with_row(1, **{"Mã chỉ số cha": "9"})))
    assert found == [{"row": FIRST + 1, "column": None, "label": "Mã chỉ số cha",
                      "vi": "Mã chỉ số cha “9” không có trong bộ chỉ số."}]
    rows = [("A", "B", "G", "A", 1, None, None, None, None), ("B", "A", "G", "B", 1, None, None, None, None)]
    found = problems(uow, services, people["cv_sttt"], workbook(rows))
    assert [f["row"] for f in found] == [FIRST, FIRST + 1] and "vòng lặp" in found[0]["vi"]


def test_a_child_cannot_apply_where_its_parent_does_not_and_halves_must_be_exact(
        uow: Uow, services: Services, people: dict[str, User]) -> None:
    rows = with_row(0, **{"Áp dụng cho": "so_nganh"})
    rows[3][7] = "so_nganh"
    found = problems(uow, services, people["cv_sttt"], workbook(rows))
    assert any(f["row"] == FIRST + 5 and "chỉ số cha “2” không áp dụng" in f["vi"] for f in found)
    rows = [("1", None, "G", "Một", "0,05", "Mức", None, None, None)]
    found = problems(uow, services, people["cv_sttt"], workbook(rows))
    assert found[0]["vi"].startswith("Điểm tối đa 0,05 không chia đôi được")


def test_formulas_and_files_that_are_not_workbooks_are_refused(uow: Uow, services: Services,
                                                               people: dict[str, User]) -> None:
    rows = with_row(0, **{"Điểm tối đa": "=E6+E7"})
    found = problems(uow, services, people["cv_sttt"], workbook(rows))
    assert found[0]["row"] == FIRST and "công thức" in found[0]["vi"]
    found = problems(uow, services, people["cv_sttt"], b"PK\x03\x04 not really a zip")
    assert found[0]["vi"] == "Tệp không phải bảng tính Excel .xlsx hợp lệ."
    found = problems(uow, services, people["cv_sttt"], workbook([]))
    assert "chưa có chỉ số nào" in found[0]["vi"]


# ---------------------------------------------------------------- corrections and who may


def test_reimport_replaces_a_draft_and_names_must_differ(uow: Uow, services: Services,
                                                         people: dict[str, User]) -> None:
    actor = people["cv_sttt"]
    first = imported(uow, services, actor, workbook(SMALL))
    with pytest.raises(Conflict, match=r"exists"):
        imported(uow, services, actor, workbook(SMALL))
    again = imported(uow, services, actor, EXAMPLE.read_bytes(), replace_id=first.summary.id, name="Bộ chỉ số 2026")
    assert (again.summary.id, again.summary.indicators, again.summary.name) == (first.summary.id, 38, "Bộ chỉ số 2026")
    with uow() as u:
        assert u.session.scalar(select(func.count(DtiIndicator.id))) == 38


def test_corrections_keep_the_set_consistent(uow: Uow, services: Services, people: dict[str, User]) -> None:
    actor = people["cv_sttt"]
    set_id = imported(uow, services, actor, workbook(SMALL)).summary.id
    with uow() as u, pytest.raises(InvalidData) as caught:
        dti_index.edit_indicators(u, services, actor, set_id, {"1.1": {"max_points": 5}})
    assert "tổng điểm các chỉ số con" in caught.value.details[0].message.vi
    with uow() as u:
        changed = dti_index.edit_indicators(u, services, actor, set_id, {
            "1.1": {"max_points": "5", "name": "Kế hoạch chuyển đổi số năm", "method": "diem"},
            "1": {"max_points": 11, "group_name": "Nhận thức và thể chế số"}})
        assert [c.code for c in changed] == ["1.1", "1"]
    with uow() as u:
        rows = {i.code: i for i in dti_index.indicators_of(u, set_id)}
        assert (rows["1.1"].max_points, rows["1.1"].name, rows["1.1"].method) == (500, "Kế hoạch chuyển đổi số năm",
                                                                                  "diem")
        assert rows["1.2"].group_name == "Nhận thức và thể chế số"  # the rename reached the children
        assert u.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "dti_index_edit")) == 1


def test_only_managers_import_and_see_draft_sets(uow: Uow, services: Services, people: dict[str, User]) -> None:
    with pytest.raises(Forbidden):
        imported(uow, services, people["cv_stc"], workbook(SMALL))
    set_id = imported(uow, services, people["qt"], workbook(SMALL)).summary.id
    with uow() as u, pytest.raises(Forbidden):
        dti_index.index_set(u, services, people["cv_stc"], set_id)
    with uow() as u:
        assert [s.id for s in dti_index.index_sets(u, services, people["cv_sttt"])] == [set_id]
