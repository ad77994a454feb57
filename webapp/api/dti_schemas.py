"""HTTP shapes of the DTI API (chỉ số chuyển đổi số): requests checked for shape only, answers laid out.

Points are numbers of points with at most two decimals (12.5); the engine keeps hundredths.
"""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from engine.domain.dti import (
    ChangeKind,
    IndexSetState,
    RoundState,
    ScoringMethod,
    UnitGroup,
    UnitPhase,
    as_points,
)

POINTS = "Điểm (số, tối đa hai chữ số thập phân)."


class Points(fields.Field):
    """Hundredths of a point dumped as a JSON number of points (1250 → 12.5)."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        points = as_points(value)
        return None if points is None else float(points)


def points(description: str = POINTS, **kwargs: Any) -> Points:
    return Points(metadata={"type": "number", "description": description}, **kwargs)


def label(enum_attr: str) -> fields.Function:
    """The Vietnamese label of an enum attribute (`phase` → phase_label)."""
    return fields.Function(lambda obj: _get(obj, enum_attr).label.vi, metadata={"type": "string"})


def _get(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


# ---------------------------------------------------------------- index sets


class IndexSetImportQuerySchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255),
                         metadata={"description": "Tên bộ chỉ số, ví dụ “Bộ chỉ số DTI cấp tỉnh năm 2026”."})
    year = fields.Integer(required=True, metadata={"description": "Năm áp dụng (2000–2100)."})
    replace = fields.Integer(load_default=None, allow_none=True,
                             metadata={"description": "Mã bộ chỉ số dự thảo cần thay thế (nhập lại)."})


class IndexFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "Tệp .xlsx bộ chỉ số (docs/dti.md)."})


class IndicatorSchema(Schema):
    code = fields.String()
    parent_code = fields.String(allow_none=True)
    group = fields.String(metadata={"description": "Nhóm chỉ số (trụ cột)."})
    name = fields.String()
    max_points = points("Điểm tối đa.")
    method = fields.Enum(ScoringMethod, by_value=True,
                         metadata={"description": "diem (0 đến tối đa), muc (đạt / một nửa / không), ty_le."})
    method_text = fields.String(metadata={"description": "Phương pháp chấm điểm."})
    evidence_text = fields.String(metadata={"description": "Tài liệu kiểm chứng cần có (rỗng: không bắt buộc)."})
    applies_to = fields.List(fields.Enum(UnitGroup, by_value=True), metadata={"description": "Nhóm đơn vị áp dụng."})
    position = fields.Integer()
    depth = fields.Integer(metadata={"description": "Cấp: 0 là chỉ số cấp cao nhất."})
    is_leaf = fields.Boolean(metadata={"description": "Không có chỉ số con: được chấm điểm."})


class IndexSetSummarySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    year = fields.Integer()
    state = fields.Enum(IndexSetState, by_value=True, metadata={"description": "du_thao, dang_ap_dung, da_dong."})
    state_label = label("state")
    source_file = fields.String()
    imported_at = fields.DateTime()
    imported_by = fields.String()
    indicators = fields.Integer()
    leaves = fields.Integer(metadata={"description": "Số chỉ số được chấm điểm (không có chỉ số con)."})
    max_by_group = fields.Dict(keys=fields.String(), values=Points(),
                               metadata={"description": "Tổng điểm tối đa theo nhóm đơn vị."})


class IndexSetSchema(Schema):
    """Dumped from dti_index.IndexSetView."""

    summary = fields.Nested(IndexSetSummarySchema)
    indicators = fields.List(fields.Nested(IndicatorSchema))


class IndicatorEditSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(validate=validate.Length(max=2000))
    group_name = fields.String(validate=validate.Length(max=255))
    max_points = fields.Raw(metadata={"type": "number", "description": POINTS})
    method = fields.String(validate=validate.OneOf([m.value for m in ScoringMethod]))
    method_text = fields.String(validate=validate.Length(max=4000))
    evidence_text = fields.String(validate=validate.Length(max=4000))
    applies_to = fields.List(fields.String(), metadata={"description": "Mã nhóm đơn vị: so_nganh, huyen, xa."})


class IndicatorEditsSchema(Schema):
    indicators = fields.List(fields.Nested(IndicatorEditSchema), required=True,
                             validate=validate.Length(min=1, max=2000),
                             metadata={"description": "Các chỉ số cần sửa, mỗi chỉ số: code và các trường đổi."})


# ---------------------------------------------------------------- rounds


class ParticipantRequestSchema(Schema):
    unit = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={"description": "Mã đơn vị."})
    group = fields.String(required=True, metadata={"description": "Nhóm xếp hạng: so_nganh, huyen, xa."})


class RoundOpenSchema(Schema):
    index_set_id = fields.Integer(required=True)
    name = fields.String(load_default=None, validate=validate.Length(max=255),
                         metadata={"description": "Tên kỳ đánh giá (mặc định theo năm của bộ chỉ số)."})
    deadline = fields.String(required=True, metadata={
        "description": "Hạn nộp báo cáo tự đánh giá: ngày (YYYY-MM-DD, đến 17:00) hoặc ngày giờ ISO 8601."})
    participants = fields.List(fields.Nested(ParticipantRequestSchema), required=True)
    evaluator_unit = fields.String(load_default=None, metadata={"description": "Mã đơn vị đánh giá (mặc định sttt)."})
    approver_unit = fields.String(load_default=None,
                                  metadata={"description": "Mã đơn vị phê duyệt (mặc định ubnd_tinh)."})


class ParticipantSchema(Schema):
    unit_code = fields.String()
    unit_name = fields.String()
    group = fields.Enum(UnitGroup, by_value=True)
    phase = fields.Enum(UnitPhase, by_value=True, metadata={
        "description": "tu_danh_gia, danh_gia_doc_lap, phan_hoi, xem_xet_phan_hoi, da_chot_diem."})
    phase_label = label("phase")
    late = fields.Boolean(metadata={"description": "Không nộp báo cáo tự đánh giá trong hạn."})
    submitted_at = fields.DateTime(allow_none=True)
    settled_at = fields.DateTime(allow_none=True)
    task_id = fields.Integer(allow_none=True, metadata={"description": "Công việc đang chờ của đơn vị."})


class RoundSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    year = fields.Integer()
    state = fields.Enum(RoundState, by_value=True, metadata={
        "description": "dang_danh_gia, tong_hop, trinh_phe_duyet, da_phe_duyet, da_cong_bo, da_huy."})
    state_label = label("state")
    index_set_id = fields.Integer()
    index_set_name = fields.String()
    deadline = fields.DateTime()
    instance_id = fields.Integer(allow_none=True)
    evaluator_unit = fields.String()
    approver_unit = fields.String()
    opened_at = fields.DateTime()
    approved_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    decision_number = fields.String()
    decision_date = fields.Date(allow_none=True)
    task_id = fields.Integer(allow_none=True, metadata={
        "description": "Công việc đang chờ của cả kỳ (tổng hợp, phê duyệt, công bố): hoàn thành qua "
                       "/tasks/{task_id}/complete."})
    task_element = fields.String(allow_none=True)
    participants = fields.List(fields.Nested(ParticipantSchema))


# ---------------------------------------------------------------- the sheet


class LineSchema(Schema):
    code = fields.String()
    parent_code = fields.String(allow_none=True)
    group = fields.String()
    name = fields.String()
    depth = fields.Integer()
    is_leaf = fields.Boolean()
    max_points = points("Điểm tối đa.")
    method = fields.Enum(ScoringMethod, by_value=True)
    method_text = fields.String()
    evidence_text = fields.String()
    self_score = points("Điểm tự đánh giá (chỉ số cha: tổng các chỉ số con); null: chưa chấm.", allow_none=True)
    self_note = fields.String()
    expert_score = points("Điểm của chuyên gia Sở TT&TT; null: chưa chấm hoặc chưa được xem.", allow_none=True)
    expert_reason = fields.String(metadata={"description": "Lý do điều chỉnh."})
    response = fields.String(allow_none=True, metadata={"description": "Phản hồi của đơn vị (một lần)."})
    final_score = points("Điểm đạt: của chuyên gia nếu có, không thì tự đánh giá.", allow_none=True)
    adjusted = fields.Boolean()
    evidence = fields.Integer(metadata={"description": "Số tài liệu kiểm chứng."})
    self_at = fields.DateTime(allow_none=True)
    expert_at = fields.DateTime(allow_none=True)
    response_at = fields.DateTime(allow_none=True)


class GroupTotalSchema(Schema):
    name = fields.String()
    max_points = points()
    self_total = points()
    final_total = points()


class SheetSchema(Schema):
    round_id = fields.Integer()
    round_name = fields.String()
    year = fields.Integer()
    round_state = fields.Enum(RoundState, by_value=True)
    unit_code = fields.String()
    unit_name = fields.String()
    unit_group = fields.Enum(UnitGroup, by_value=True)
    phase = fields.Enum(UnitPhase, by_value=True)
    phase_label = label("phase")
    late = fields.Boolean()
    submitted_at = fields.DateTime(allow_none=True)
    task_id = fields.Integer(allow_none=True)
    may_edit_self = fields.Boolean()
    may_edit_expert = fields.Boolean()
    may_respond = fields.Boolean()
    shows_expert = fields.Boolean()
    lines = fields.List(fields.Nested(LineSchema))
    groups = fields.List(fields.Nested(GroupTotalSchema))
    max_total = points()
    self_total = points()
    final_total = points()
    leaves = fields.Integer()
    missing_scores = fields.List(fields.String(), metadata={"description": "Mã các chỉ số chưa chấm điểm."})
    missing_evidence = fields.List(fields.String(),
                                   metadata={"description": "Mã các chỉ số có điểm nhưng thiếu tài liệu kiểm chứng."})
    adjustments = fields.Integer()
    responses = fields.Integer()


class SelfScoreSchema(Schema):
    score = fields.Raw(required=True, allow_none=True,
                       metadata={"type": "number", "description": POINTS + " null: xóa điểm đã chấm."})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000),
                         metadata={"description": "Ghi chú, trích dẫn tài liệu kiểm chứng."})


class ExpertScoreSchema(Schema):
    score = fields.Raw(required=True, allow_none=True,
                       metadata={"type": "number", "description": POINTS + " null: rút điểm chuyên gia."})
    reason = fields.String(load_default="", validate=validate.Length(max=4000),
                           metadata={"description": "Lý do điều chỉnh (bắt buộc khi khác điểm tự đánh giá)."})


class ResponseSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(max=4000))


class SavedSchema(Schema):
    line = fields.Nested(LineSchema)
    self_total = points("Tổng điểm tự đánh giá của đơn vị.")
    final_total = points("Tổng điểm đạt của đơn vị.")


class StepSchema(Schema):
    data = fields.Dict(keys=fields.String(), load_default=dict,
                       metadata={"description": "Dữ liệu biểu mẫu của bước đang chờ (docs/dti.md)."})


class ChangeSchema(Schema):
    kind = fields.Enum(ChangeKind, by_value=True, metadata={
        "description": "tu_danh_gia, chuyen_gia, phan_hoi, them_tai_lieu, xoa_tai_lieu."})
    old_value = points(allow_none=True)
    new_value = points(allow_none=True)
    text = fields.String(metadata={"description": "Ghi chú, lý do, phản hồi hoặc tên tệp."})
    actor = fields.String()
    at = fields.DateTime()


# ---------------------------------------------------------------- evidence


class EvidenceUploadSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "Tệp PDF, JPEG, PNG, DOCX hoặc XLSX."})


class EvidenceQuerySchema(Schema):
    indicator = fields.String(load_default=None, metadata={"description": "Chỉ lấy tài liệu của chỉ số này."})


class EvidenceSchema(Schema):
    id = fields.Integer()
    indicator_code = fields.String()
    name = fields.String()
    size = fields.Integer()
    type = fields.String()
    phase = fields.Enum(UnitPhase, by_value=True, metadata={"description": "Bước đã thêm tệp."})
    uploaded_by = fields.String()
    created_at = fields.DateTime()
    content = fields.String(metadata={"description": "Đường dẫn tải tệp."})


# ---------------------------------------------------------------- ranking


class PreviousSchema(Schema):
    round_id = fields.Integer()
    year = fields.Integer()
    group = fields.Enum(UnitGroup, by_value=True)
    total = points()
    max_total = points()
    rank = fields.Integer()
    rank_change = fields.Integer(allow_none=True, metadata={
        "description": "Hạng năm trước − hạng năm nay (dương: tăng hạng); null khi khác nhóm."})
    total_change = points("Tổng điểm năm nay − năm trước.")


class RankedUnitSchema(Schema):
    unit_code = fields.String()
    unit_name = fields.String()
    total = points()
    self_total = points()
    max_total = points()
    percent = fields.Float(metadata={"description": "Tổng điểm / điểm tối đa × 100."})
    rank = fields.Integer()
    tied = fields.Boolean(metadata={"description": "Đồng hạng."})
    late = fields.Boolean()
    previous = fields.Nested(PreviousSchema, allow_none=True)


class GroupRankingSchema(Schema):
    group = fields.Enum(UnitGroup, by_value=True)
    group_label = label("group")
    max_total = points()
    units = fields.List(fields.Nested(RankedUnitSchema))


class RankingSchema(Schema):
    round_id = fields.Integer()
    name = fields.String()
    year = fields.Integer()
    state = fields.Enum(RoundState, by_value=True)
    published_at = fields.DateTime(allow_none=True)
    decision_number = fields.String()
    decision_date = fields.Date(allow_none=True)
    previous_round_id = fields.Integer(allow_none=True)
    previous_year = fields.Integer(allow_none=True)
    groups = fields.List(fields.Nested(GroupRankingSchema))
