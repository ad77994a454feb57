"""The digital transformation index (DTI, chỉ số chuyển đổi số): states, groups, methods and points.

Points are kept as whole hundredths (`centi`): 12.5 points is 1250, so sums and ties are exact and
the same on SQLite and PostgreSQL. `points` turns what people type (12,5 / "12.5" / 12.5) into
hundredths and refuses more than two decimals.
"""
from __future__ import annotations

import enum
from decimal import Decimal, InvalidOperation

from engine.domain.messages import Message

#: The BPMN process that runs a round.
PROCESS_ID = "dti_assessment"
#: Most points one indicator may carry (hundredths): far above any real index set.
MAX_POINTS_CENTI = 100_000_00


class IndexSetState(str, enum.Enum):
    """Bộ chỉ số: corrected freely as a draft, frozen once a round opens, closed when it is published."""

    DRAFT = "du_thao"
    OPEN = "dang_ap_dung"
    CLOSED = "da_dong"

    @property
    def label(self) -> Message:
        return {"du_thao": Message("Dự thảo", "Draft"),
                "dang_ap_dung": Message("Đang áp dụng", "In use"),
                "da_dong": Message("Đã đóng", "Closed")}[self.value]


class ScoringMethod(str, enum.Enum):
    """How an indicator is scored (the index file's “Cách tính điểm” column)."""

    #: Any score from 0 to the maximum, in hundredths.
    POINTS = "diem"
    #: Đạt (full points), đạt một nửa (half) or không đạt (0): QĐ 405/QĐ-BKHCN's full/half/zero items.
    LEVELS = "muc"
    #: A ratio of the maximum (achieved / required × maximum), entered as the resulting score.
    RATIO = "ty_le"

    @property
    def label(self) -> Message:
        return {"diem": Message("Chấm điểm (0 đến tối đa)", "Points (0 to the maximum)"),
                "muc": Message("Đạt / đạt một nửa / không đạt", "Full / half / zero"),
                "ty_le": Message("Theo tỷ lệ", "As a ratio")}[self.value]


class UnitGroup(str, enum.Enum):
    """Nhóm xếp hạng: units are ranked only against units of the same group."""

    DEPARTMENT = "so_nganh"
    DISTRICT = "huyen"
    COMMUNE = "xa"

    @property
    def label(self) -> Message:
        return {"so_nganh": Message("Sở, ban, ngành tỉnh", "Provincial departments"),
                "huyen": Message("UBND huyện, thị xã, thành phố", "District people's committees"),
                "xa": Message("UBND xã, phường, đặc khu", "Commune people's committees")}[self.value]


class RoundState(str, enum.Enum):
    """Kỳ đánh giá, as its dti_assessment instance stands."""

    ASSESSING = "dang_danh_gia"
    AGGREGATING = "tong_hop"
    AWAITING_APPROVAL = "trinh_phe_duyet"
    APPROVED = "da_phe_duyet"
    PUBLISHED = "da_cong_bo"
    CANCELLED = "da_huy"

    @property
    def label(self) -> Message:
        return {"dang_danh_gia": Message("Đang đánh giá", "Assessing"),
                "tong_hop": Message("Tổng hợp, xếp hạng", "Aggregating and ranking"),
                "trinh_phe_duyet": Message("Trình Chủ tịch UBND tỉnh phê duyệt", "Awaiting the chairman's approval"),
                "da_phe_duyet": Message("Đã phê duyệt, chờ công bố", "Approved, to be published"),
                "da_cong_bo": Message("Đã công bố", "Published"),
                "da_huy": Message("Đã hủy", "Cancelled")}[self.value]


class UnitPhase(str, enum.Enum):
    """Where one participating unit's sheet stands."""

    SELF = "tu_danh_gia"
    EXPERT = "danh_gia_doc_lap"
    RESPONSE = "phan_hoi"
    REVIEW = "xem_xet_phan_hoi"
    DONE = "da_chot_diem"

    @property
    def label(self) -> Message:
        return {"tu_danh_gia": Message("Đơn vị tự đánh giá", "Self-assessment"),
                "danh_gia_doc_lap": Message("Sở TT&TT đánh giá độc lập", "Independent evaluation"),
                "phan_hoi": Message("Đơn vị xem điều chỉnh, phản hồi", "The unit reviews adjustments"),
                "xem_xet_phan_hoi": Message("Sở TT&TT xem xét phản hồi", "The response is reviewed"),
                "da_chot_diem": Message("Đã chốt điểm", "Scores settled")}[self.value]


class ChangeKind(str, enum.Enum):
    """What one line of a score's history records."""

    SELF = "tu_danh_gia"
    EXPERT = "chuyen_gia"
    RESPONSE = "phan_hoi"
    EVIDENCE_ADDED = "them_tai_lieu"
    EVIDENCE_REMOVED = "xoa_tai_lieu"


#: The user tasks of dti_assessment that belong to one unit (element id → the unit's phase).
UNIT_TASKS = {"Task_TuDanhGia": UnitPhase.SELF, "Task_DanhGiaDocLap": UnitPhase.EXPERT,
              "Task_PhanHoi": UnitPhase.RESPONSE, "Task_XemXetPhanHoi": UnitPhase.REVIEW}
#: The round-level user tasks (element id → the round's state while it waits).
ROUND_TASKS = {"Task_TongHop": RoundState.AGGREGATING, "Task_PheDuyet": RoundState.AWAITING_APPROVAL,
               "Task_CongBo": RoundState.APPROVED}


class PointsError(ValueError):
    """Not a number of points; `message` says why in both languages."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.vi)
        self.message = message


NOT_A_NUMBER = Message("phải là một số (ví dụ 2 hoặc 2,5)", "must be a number (e.g. 2 or 2.5)")
NEGATIVE = Message("không được âm", "may not be negative")
TOO_PRECISE = Message("chỉ được tối đa hai chữ số thập phân", "may have at most two decimals")
TOO_LARGE = Message("quá lớn", "is too large")


def points(value: object) -> int:
    """Hundredths of a point from a number or its text (a decimal comma is accepted); PointsError otherwise."""
    if isinstance(value, bool) or value is None:
        raise PointsError(NOT_A_NUMBER)
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip().replace(",", ".") if isinstance(value, str) else value
    try:
        number = Decimal(text)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise PointsError(NOT_A_NUMBER) from None
    if not number.is_finite():
        raise PointsError(NOT_A_NUMBER)
    if number < 0:
        raise PointsError(NEGATIVE)
    # Decimal arithmetic rounds to 28 digits: "99999.999999999999999999999999" * 100 would become a whole
    # 10000000. The digits themselves say how many decimals were typed; the bounds are compared exactly.
    _sign, digits, exponent = number.as_tuple()
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:  # 2.500 has one decimal
        significant -= 1
    if number and -int(exponent) - (len(digits) - significant) > 2:
        raise PointsError(TOO_PRECISE)
    if number > Decimal(MAX_POINTS_CENTI) / 100:
        raise PointsError(TOO_LARGE)
    return int(number.scaleb(2))


def as_points(centi: int | None) -> Decimal | None:
    """Hundredths back to points: 1250 → Decimal("12.5")."""
    if centi is None:
        return None
    return (Decimal(centi) / 100).normalize() if centi % 100 else Decimal(centi // 100)


def points_text(centi: int | None) -> str:
    """Points as Vietnamese text: 1250 → "12,5", 1200 → "12", None → ""."""
    value = as_points(centi)
    if value is None:
        return ""
    return format(value, "f").replace(".", ",")
