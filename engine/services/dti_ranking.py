"""Ranking of a DTI round per unit group, the comparison with the previous year, and its Excel file.

A unit's total is the sum of its leaf indicators' final scores (the expert's score where given, else
the unit's own, 0 when neither scored). Units are ranked within their group, highest total first.
**Ties (đồng hạng)**: units with equal totals share the rank, and the next rank is skipped
(standard competition ranking: 1, 2, 2, 4); totals are compared exactly, in hundredths of a point.
Within a tie units are listed by name. The comparison takes the latest published round of an earlier
year: the unit's total and rank there, and the change of rank when it was ranked in the same group.
The totals come from one grouped query over the round's scores, so ranking 60 units × 300 indicators
takes a few tens of milliseconds (bench/dti.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case, func, select

from engine.domain.dti import RoundState, UnitGroup, as_points
from engine.domain.errors import Forbidden
from engine.domain.messages import Message
from engine.persistence.models import DtiRound, DtiRoundUnit, DtiScore, Unit, User
from engine.persistence.uow import UnitOfWork
from engine.reports.excel import Column, Kind, Row, table_workbook
from engine.services import dti_access, dti_index
from engine.services.context import Services
from engine.services.dti_rounds import previous_round

NOT_PUBLIC = Message("Bảng xếp hạng chỉ công khai sau khi kết quả được công bố.",
                     "The ranking is public only once the results are published.")
TIE_RULE = ("Đồng hạng: các đơn vị bằng tổng điểm cùng hạng, hạng kế tiếp được bỏ qua (ví dụ 1, 2, 2, 4).")


@dataclass(frozen=True)
class PreviousResult:
    round_id: int
    year: int
    group: UnitGroup
    total: int
    max_total: int
    rank: int
    #: previous rank − this rank (positive: moved up), when ranked in the same group both years.
    rank_change: int | None
    #: this total − previous total, in hundredths (index sets may differ from year to year).
    total_change: int


@dataclass(frozen=True)
class RankedUnit:
    unit_id: int
    unit_code: str
    unit_name: str
    group: UnitGroup
    #: Final total and the unit's own (self-assessed) total, in hundredths.
    total: int
    self_total: int
    max_total: int
    rank: int
    tied: bool
    late: bool
    previous: PreviousResult | None = None

    @property
    def percent(self) -> Decimal:
        """The total as a share of the group's maximum, rounded to two decimals."""
        if not self.max_total:
            return Decimal(0)
        return (Decimal(self.total) * 100 / self.max_total).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class GroupRanking:
    group: UnitGroup
    max_total: int
    units: list[RankedUnit]


@dataclass(frozen=True)
class Ranking:
    round_id: int
    name: str
    year: int
    state: RoundState
    published_at: datetime | None
    decision_number: str
    decision_date: date | None
    groups: list[GroupRanking]
    previous_round_id: int | None = None
    previous_year: int | None = None


def _totals(uow: UnitOfWork, round_id: int) -> list[tuple[DtiRoundUnit, Unit, int, int]]:
    final = case((DtiScore.expert_score.is_not(None), DtiScore.expert_score), else_=DtiScore.self_score)
    sums = (select(DtiScore.round_unit_id.label("ru"), func.coalesce(func.sum(DtiScore.self_score), 0).label("own"),
                   func.coalesce(func.sum(final), 0).label("final"))
            .join(DtiRoundUnit, DtiRoundUnit.id == DtiScore.round_unit_id)
            .where(DtiRoundUnit.round_id == round_id).group_by(DtiScore.round_unit_id).subquery())
    rows = uow.session.execute(
        select(DtiRoundUnit, Unit, sums.c.own, sums.c.final).join(Unit, Unit.id == DtiRoundUnit.unit_id)
        .outerjoin(sums, sums.c.ru == DtiRoundUnit.id).where(DtiRoundUnit.round_id == round_id)).all()
    return [(participant, unit, int(own or 0), int(final or 0)) for participant, unit, own, final in rows]


def competition_ranks(totals: list[int]) -> list[tuple[int, bool]]:
    """(rank, tied) for each total, in the given order: 1 + the number of strictly higher totals."""
    return [(1 + sum(1 for other in totals if other > total), totals.count(total) > 1) for total in totals]


def compute(uow: UnitOfWork, round_: DtiRound, *, compare: bool = True) -> Ranking:
    """The round's ranking, without access checks (the caller checked)."""
    maxima = dti_index.max_by_group(dti_index.indicators_of(uow, round_.index_set_id))
    by_group: dict[UnitGroup, list[tuple[DtiRoundUnit, Unit, int, int]]] = {}
    for item in _totals(uow, round_.id):
        by_group.setdefault(UnitGroup(item[0].unit_group), []).append(item)
    previous = previous_round(uow, round_) if compare else None
    earlier = _by_unit(compute(uow, previous, compare=False)) if previous is not None else {}
    groups = []
    for group in UnitGroup:
        members = sorted(by_group.get(group, []), key=lambda item: (-item[3], item[1].name))
        if not members:
            continue
        maximum = maxima.get(group.value, 0)
        ranks = competition_ranks([final for *_rest, final in members])
        units = []
        for (participant, unit, own, final), (rank, tied) in zip(members, ranks, strict=True):
            before = earlier.get(unit.id)
            units.append(RankedUnit(unit.id, unit.code, unit.name, group, final, own, maximum, rank, tied,
                                    participant.late, _compared(before, group, rank, final)))
        groups.append(GroupRanking(group, maximum, units))
    return Ranking(round_.id, round_.name, round_.year, RoundState(round_.state), round_.published_at,
                   round_.decision_number, round_.decision_date, groups,
                   previous.id if previous else None, previous.year if previous else None)


def _by_unit(ranking: Ranking) -> dict[int, tuple[Ranking, RankedUnit]]:
    return {unit.unit_id: (ranking, unit) for group in ranking.groups for unit in group.units}


def _compared(before: tuple[Ranking, RankedUnit] | None, group: UnitGroup, rank: int,
              total: int) -> PreviousResult | None:
    if before is None:
        return None
    ranking, unit = before
    return PreviousResult(ranking.round_id, ranking.year, unit.group, unit.total, unit.max_total, unit.rank,
                          unit.rank - rank if unit.group is group else None, total - unit.total)


def check_sees_ranking(user: User, round_: DtiRound) -> None:
    """Before publication only those who evaluate and approve; afterwards every signed-in user."""
    if not (dti_access.sees_all(user, round_) or dti_access.is_published(round_)):
        raise Forbidden(NOT_PUBLIC)


def ranking(uow: UnitOfWork, services: Services, actor: User, round_id: int) -> Ranking:
    round_ = dti_access.get_round(uow, round_id)
    check_sees_ranking(actor, round_)
    return compute(uow, round_)


# ---------------------------------------------------------------- Excel


def _number(centi: int | None) -> Decimal | None:
    return as_points(centi)


def ranking_workbook(uow: UnitOfWork, services: Services, actor: User, round_id: int) -> tuple[bytes, str]:
    """The ranking as .xlsx (engine.reports.excel.table_workbook) and its file name."""
    result = ranking(uow, services, actor, round_id)
    columns = [Column("Nhóm xếp hạng", 26), Column("Hạng", 8, Kind.INTEGER), Column("Đơn vị", 36),
               Column("Tổng điểm", 11, Kind.NUMBER), Column("Điểm tối đa", 11, Kind.NUMBER),
               Column("Tỷ lệ (%)", 10, Kind.NUMBER), Column("Điểm tự đánh giá", 13, Kind.NUMBER),
               Column("Ghi chú", 22),
               Column(f"Hạng năm {result.previous_year or 'trước'}", 11, Kind.INTEGER, group="So sánh năm trước"),
               Column("Thay đổi hạng", 11, Kind.INTEGER, group="So sánh năm trước"),
               Column("Tổng điểm năm trước", 13, Kind.NUMBER, group="So sánh năm trước"),
               Column("Thay đổi điểm", 11, Kind.NUMBER, group="So sánh năm trước")]
    rows = []
    for group in result.groups:
        for unit in group.units:
            before = unit.previous
            notes = [note for note, on in (("Đồng hạng", unit.tied), ("Nộp báo cáo không đúng hạn", unit.late)) if on]
            rows.append(Row([group.group.label.vi, unit.rank, unit.unit_name, _number(unit.total),
                             _number(unit.max_total), unit.percent, _number(unit.self_total), "; ".join(notes),
                             before.rank if before else None, before.rank_change if before else None,
                             _number(before.total) if before else None,
                             _number(before.total_change) if before else None]))
    state = ("Đã công bố" + (f" theo Quyết định số {result.decision_number}" if result.decision_number else "")
             if result.state is RoundState.PUBLISHED else f"DỰ THẢO — {result.state.label.vi}, chưa công bố")
    content = table_workbook(f"XẾP HẠNG CHỈ SỐ CHUYỂN ĐỔI SỐ NĂM {result.year}", columns, rows,
                             subtitle=[result.name, state], notes=[TIE_RULE], sheet=f"Xếp hạng DTI {result.year}",
                             timezone=services.settings.timezone)
    return content, f"xep-hang-dti-{result.year}.xlsx"
