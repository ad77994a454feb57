"""Index sets of the digital transformation index: import from Excel, correct before use, read.

An index set is data per year (QĐ 810 thủ tục 3; the national method changes, e.g. QĐ 405/QĐ-BKHCN in
2025): the Sở TT&TT imports it from a workbook (engine.services.dti_index_file), may correct an
indicator or import the file again while the set is a draft, and can no longer change it once a round
uses it. Who may: administrators and the experts and leaders of the evaluating unit (DTI_EVALUATOR_UNIT).
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from engine.domain.dti import IndexSetState, PointsError, ScoringMethod, UnitGroup, points
from engine.domain.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.domain.messages import Message
from engine.forms import files
from engine.forms.excel_cells import CellError
from engine.persistence.models import DtiIndexSet, DtiIndicator, DtiRound, User
from engine.persistence.uow import UnitOfWork
from engine.services import audit
from engine.services.context import Services
from engine.services.dti_index_file import MAX_NAME, MAX_TEXT, Draft, check, read_workbook, refused

NO_SET = Message("Không tìm thấy bộ chỉ số.", "Index set not found.")
NO_INDICATOR = Message("Không tìm thấy chỉ số trong bộ chỉ số.", "Indicator not found in the index set.")
NOT_MANAGER = Message("Chỉ quản trị hệ thống, chuyên viên và lãnh đạo của đơn vị đánh giá (Sở TT&TT) được quản lý "
                      "bộ chỉ số.",
                      "Only administrators and the evaluating unit's experts and leaders manage index sets.")
FROZEN = Message("Bộ chỉ số đang được dùng cho kỳ đánh giá (hoặc đã đóng): không sửa, không nhập lại được nữa.",
                 "The index set is used by a round (or closed): it can no longer be corrected or re-imported.")
USED = Message("Bộ chỉ số đã được dùng cho một kỳ đánh giá (đã hủy): không nhập lại được; hãy nhập thành bộ chỉ "
               "số mới với tên khác.",
               "The index set was used by a (cancelled) round: it cannot be re-imported; import a new set under "
               "another name.")
NO_FILE = Message("Chưa chọn tệp Excel bộ chỉ số.", "No index workbook was chosen.")
#: Roles of the evaluating unit that manage index sets and open rounds.
MANAGER_ROLES = frozenset({"chuyen_vien", "lanh_dao"})


def may_manage(user: User, services: Services) -> bool:
    """Administrators, and the experts and leaders of the evaluating unit."""
    if "quan_tri" in user.role_codes:
        return True
    return user.unit.code == services.settings.dti_evaluator_unit and bool(user.role_codes & MANAGER_ROLES)


def check_manager(user: User, services: Services) -> None:
    if not may_manage(user, services):
        raise Forbidden(NOT_MANAGER)


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class IndexSetSummary:
    id: int
    name: str
    year: int
    state: IndexSetState
    source_file: str
    imported_at: datetime
    imported_by: str
    indicators: int
    leaves: int
    #: Sum of the roots' maxima per unit group (the most a unit of that group can score).
    max_by_group: dict[str, int]


@dataclass(frozen=True)
class IndicatorView:
    """One indicator as read (points in hundredths)."""

    code: str
    parent_code: str | None
    group: str
    name: str
    max_points: int
    method: ScoringMethod
    method_text: str
    evidence_text: str
    applies_to: tuple[UnitGroup, ...]
    position: int
    depth: int
    is_leaf: bool


def indicator_view(row: DtiIndicator) -> IndicatorView:
    return IndicatorView(row.code, row.parent_code, row.group_name, row.name, row.max_points, ScoringMethod(row.method),
                         row.method_text, row.evidence_text, groups_of(row), row.position, row.depth, row.is_leaf)


@dataclass(frozen=True)
class IndexSetView:
    summary: IndexSetSummary
    indicators: list[IndicatorView]


def groups_of(indicator: DtiIndicator) -> tuple[UnitGroup, ...]:
    return tuple(UnitGroup(code) for code in indicator.applies_to.split(",") if code)


def max_by_group(indicators: list[DtiIndicator]) -> dict[str, int]:
    return {g.value: sum(i.max_points for i in indicators if i.parent_code is None and g in groups_of(i))
            for g in UnitGroup if any(g in groups_of(i) for i in indicators)}


def _summary(uow: UnitOfWork, row: DtiIndexSet, indicators: list[DtiIndicator]) -> IndexSetSummary:
    who = uow.session.get(User, row.imported_by) if row.imported_by else None
    return IndexSetSummary(row.id, row.name, row.year, IndexSetState(row.state), row.source_file, row.imported_at,
                           who.full_name if who else "", len(indicators), sum(1 for i in indicators if i.is_leaf),
                           max_by_group(indicators))


def indicators_of(uow: UnitOfWork, set_id: int) -> list[DtiIndicator]:
    return list(uow.session.scalars(select(DtiIndicator).where(DtiIndicator.index_set_id == set_id)
                                    .order_by(DtiIndicator.position)))


def get_set(uow: UnitOfWork, set_id: int) -> DtiIndexSet:
    row = uow.session.get(DtiIndexSet, set_id)
    if row is None:
        raise NotFound(NO_SET)
    return row


def index_sets(uow: UnitOfWork, services: Services, actor: User) -> list[IndexSetSummary]:
    """Every index set, newest year first (for those who manage them)."""
    check_manager(actor, services)
    rows = list(uow.session.scalars(select(DtiIndexSet).order_by(DtiIndexSet.year.desc(), DtiIndexSet.name)))
    return [_summary(uow, row, indicators_of(uow, row.id)) for row in rows]


def index_set(uow: UnitOfWork, services: Services, actor: User, set_id: int) -> IndexSetView:
    """One index set with its indicators in file order. Managers see every set; anyone taking part in a
    round sees the set it uses (the method is public to the units assessed)."""
    row = get_set(uow, set_id)
    if not may_manage(actor, services) and row.state == IndexSetState.DRAFT.value:
        raise Forbidden(NOT_MANAGER)
    indicators = indicators_of(uow, set_id)
    return IndexSetView(_summary(uow, row, indicators), [indicator_view(i) for i in indicators])


# ---------------------------------------------------------------- import


def _check_header(name: str, year: int) -> tuple[str, int]:
    name = " ".join((name or "").split())
    if not name or len(name) > 255:
        raise InvalidData(Message("Tên bộ chỉ số là bắt buộc (tối đa 255 ký tự).",
                                  "The index set needs a name (at most 255 characters)."))
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise InvalidData(Message("Năm áp dụng phải từ 2000 đến 2100.", "The year must be between 2000 and 2100."))
    return name, year


def _rows(set_id: int, drafts: list[Draft]) -> list[DtiIndicator]:
    return [DtiIndicator(index_set_id=set_id, code=d.code, parent_code=d.parent, group_name=d.group, name=d.name,
                         max_points=d.max_points, method=d.method.value, method_text=d.method_text,
                         evidence_text=d.evidence_text, applies_to=",".join(g.value for g in d.applies),
                         position=position, depth=d.depth, is_leaf=d.is_leaf)
            for position, d in enumerate(drafts, start=1)]


def import_index_set(uow: UnitOfWork, services: Services, actor: User, *, content: bytes, file_name: str,
                     name: str, year: int, replace_id: int | None = None) -> IndexSetView:
    """Read, check and store an index set; with `replace_id`, its indicators replace those of that draft set.

    Nothing is stored when any row is wrong (InvalidData listing every problem with its row).
    """
    check_manager(actor, services)
    name, year = _check_header(name, year)
    if not content:
        raise InvalidData(NO_FILE)
    drafts = read_workbook(content, services.settings.max_excel_bytes)
    session = uow.session
    same = session.scalar(select(DtiIndexSet).where(DtiIndexSet.year == year, DtiIndexSet.name == name))
    now = services.now()
    if replace_id is not None:
        row = get_set(uow, replace_id)
        if row.state != IndexSetState.DRAFT.value:
            raise Conflict(FROZEN)
        if session.scalar(select(func.count(DtiRound.id)).where(DtiRound.index_set_id == row.id)):
            raise Conflict(USED)
        if same is not None and same.id != row.id:
            raise Conflict(_taken(name, year))
        session.execute(delete(DtiIndicator).where(DtiIndicator.index_set_id == row.id))
        row.name, row.year, row.updated_at = name, year, now
        action = "Nhập lại"
    else:
        if same is not None:
            raise Conflict(_taken(name, year))
        row = DtiIndexSet(name=name, year=year, state=IndexSetState.DRAFT.value, imported_at=now, updated_at=now)
        uow.add(row)
        action = "Nhập"
    row.source_file = files.clean_name(file_name or "") or "bo-chi-so.xlsx"
    row.source_sha256 = hashlib.sha256(content).hexdigest()
    row.imported_by, row.imported_at = actor.id, now
    session.flush()
    session.add_all(_rows(row.id, drafts))
    audit.record(session, actor, "dti_index_import",
                 summary=f"{action} bộ chỉ số “{name}” năm {year} từ tệp {row.source_file}: {len(drafts)} chỉ số",
                 after={"index_set_id": row.id, "indicators": len(drafts), "sha256": row.source_sha256})
    uow.commit()
    return index_set(uow, services, actor, row.id)


def _taken(name: str, year: int) -> Message:
    return Message(f"Đã có bộ chỉ số “{name}” năm {year}; chọn nhập lại để thay thế bộ chỉ số dự thảo đó, "
                   "hoặc đặt tên khác.",
                   f"An index set “{name}” for {year} exists; re-import to replace that draft, or use another name.")


# ---------------------------------------------------------------- correcting one indicator

#: What `edit_indicator` may change, with the names people see in errors.
EDITABLE = ("name", "group_name", "max_points", "method", "method_text", "evidence_text", "applies_to")


def _draft_of(row: DtiIndicator) -> Draft:
    return Draft(None, row.code, row.parent_code, row.group_name, row.name, row.max_points,
                 ScoringMethod(row.method), row.method_text, row.evidence_text,
                 tuple(UnitGroup(g) for g in row.applies_to.split(",") if g))


def _edited(draft: Draft, changes: dict[str, Any]) -> Draft:
    """The draft with the changes applied; InvalidData for a value of the wrong kind."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidData(Message(f"Không sửa được: {', '.join(unknown)}.", f"Cannot change: {', '.join(unknown)}."))
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "max_points":
            try:
                values["max_points"] = points(value)
            except PointsError as exc:
                raise InvalidData(Message(f"Điểm tối đa {exc.message.vi}.", f"Maximum points {exc.message.en}.")) \
                    from None
        elif key == "method":
            try:
                values["method"] = ScoringMethod(value)
            except ValueError:
                raise InvalidData(Message("Cách tính điểm phải là diem, muc hoặc ty_le.",
                                          "The scoring method must be diem, muc or ty_le.")) from None
        elif key == "applies_to":
            codes = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
            try:
                chosen = {UnitGroup(str(c).strip()) for c in codes if str(c).strip()}
                values["applies"] = tuple(g for g in UnitGroup if g in chosen)
            except ValueError:
                raise InvalidData(Message("Nhóm đơn vị phải là so_nganh, huyen hoặc xa.",
                                          "Unit groups must be so_nganh, huyen or xa.")) from None
            if not values["applies"]:
                raise InvalidData(Message("Chọn ít nhất một nhóm đơn vị áp dụng.", "Choose at least one unit group."))
        else:
            text = " ".join(str(value or "").split()) if key in ("name", "group_name") else str(value or "").strip()
            limit = MAX_NAME if key == "name" else 255 if key == "group_name" else MAX_TEXT
            if (key == "name" and not text) or len(text) > limit:
                raise InvalidData(Message(f"Nội dung “{key}” trống hoặc dài quá {limit} ký tự.",
                                          f"“{key}” is empty or longer than {limit} characters."))
            values["group" if key == "group_name" else key] = text
    return replace(draft, **values)


def edit_indicators(uow: UnitOfWork, services: Services, actor: User, set_id: int,
                    edits: Mapping[str, Mapping[str, Any]]) -> list[IndicatorView]:
    """Correct indicators of a draft set, code → changes (several at once, so that a maximum and its
    parent's change together); the whole set is checked again and nothing changes when it no longer
    holds (a parent no longer the sum of its children, …)."""
    check_manager(actor, services)
    row = get_set(uow, set_id)
    if row.state != IndexSetState.DRAFT.value:
        raise Conflict(FROZEN)
    if not edits:
        raise InvalidData(Message("Chưa có chỉ số nào được sửa.", "No indicator was changed."))
    indicators = indicators_of(uow, set_id)
    by_code = {i.code: i for i in indicators}
    unknown = [code for code in edits if code not in by_code]
    if unknown:
        raise NotFound(Message(f"Không có chỉ số {', '.join(unknown)} trong bộ chỉ số.",
                               f"No indicator {', '.join(unknown)} in the index set."))
    drafts = [_edited(_draft_of(i), dict(edits[i.code])) if i.code in edits else _draft_of(i) for i in indicators]
    for code, changes in edits.items():
        if "group_name" in changes:  # children left blank in the file inherited it: they follow the rename
            renamed = next(d.group for d in drafts if d.code == code)
            drafts = [replace(d, group=renamed) if d.group == by_code[code].group_name
                      and "group_name" not in edits.get(d.code, {}) and _below(d, code, drafts) else d
                      for d in drafts]
    completed, problems = check(drafts)
    if problems:
        raise refused([CellError("", "", p.message, label=p.label) for p in problems], summary=edit_refused)
    before = {code: {k: getattr(by_code[code], k) for k in EDITABLE} for code in edits}
    for indicator, draft in zip(indicators, completed, strict=True):
        indicator.name, indicator.group_name, indicator.max_points = draft.name, draft.group, draft.max_points
        indicator.method, indicator.method_text, indicator.evidence_text = (draft.method.value, draft.method_text,
                                                                           draft.evidence_text)
        indicator.applies_to = ",".join(g.value for g in draft.applies)
        indicator.depth, indicator.is_leaf = draft.depth, draft.is_leaf
    row.updated_at = services.now()
    audit.record(uow.session, actor, "dti_index_edit",
                 summary=f"Sửa chỉ số {', '.join(edits)} của bộ chỉ số “{row.name}” năm {row.year}",
                 before=before, after={code: {k: getattr(by_code[code], k) for k in EDITABLE} for code in edits})
    changed = [indicator_view(by_code[code]) for code in edits]
    uow.commit()
    return changed


def edit_refused(count: int) -> Message:
    return Message(f"Không sửa được: bộ chỉ số sẽ có {count} lỗi; chưa thay đổi chỉ số nào.",
                   f"Not changed: the index set would have {count} error(s); no indicator was changed.")


def _below(draft: Draft, code: str, drafts: list[Draft]) -> bool:
    by_code = {d.code: d for d in drafts}
    node = draft
    while node.parent is not None:
        if node.parent == code:
            return True
        node = by_code[node.parent]
    return False
