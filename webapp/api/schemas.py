"""HTTP shapes of the JSON API: what requests must look like and how answers are laid out."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields, pre_dump, validate

from engine.domain.enums import DueState, InstanceStatus, SlaOutcome, TaskStatus


def _plain(value: Any) -> Any:
    """A JSON value for what a workflow may hold besides JSON types (dates, decimals)."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


class JsonObject(fields.Dict):
    """Process data: dumped as plain JSON, dates in ISO 8601."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return json.loads(json.dumps(value, default=_plain, ensure_ascii=False))


# ---------------------------------------------------------------- errors


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "Mã lỗi, ví dụ invalid_data, forbidden."})
    message = fields.String(required=True, metadata={"description": "Thông báo tiếng Việt."})
    message_en = fields.String(required=True, metadata={"description": "The message in English."})
    details = fields.Raw(metadata={"description": "Chi tiết, ví dụ danh sách lỗi theo trường "
                                                  "[{path, message: {vi, en}}]."})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


# ---------------------------------------------------------------- requests


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024),
                             load_only=True)


class StartRequestSchema(Schema):
    process = fields.String(required=True, validate=validate.Length(min=1, max=128),
                            metadata={"description": "Mã quy trình (process_id), ví dụ email_account."})
    data = fields.Dict(keys=fields.String(), load_default=None, allow_none=True,
                       metadata={"description": "Dữ liệu khởi tạo của hồ sơ."})


class TaskListQuerySchema(Schema):
    sort = fields.String(load_default="due", validate=validate.OneOf(("due", "created")),
                         metadata={"description": "due: hạn xử lý gần nhất trước; created: mới nhất trước."})


class CompleteRequestSchema(Schema):
    data = fields.Dict(keys=fields.String(), required=True,
                       metadata={"description": "Dữ liệu biểu mẫu của công việc."})
    revision = fields.Integer(load_default=None, allow_none=True,
                              metadata={"description": "Phiên bản hồ sơ khi mở công việc; "
                                                       "khác phiên bản hiện tại thì trả 409."})


# ---------------------------------------------------------------- answers


class TokenSchema(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class ProcessSchema(Schema):
    process_id = fields.String()
    name = fields.String()
    version = fields.Integer()
    content_hash = fields.String()
    published_at = fields.DateTime()


class PersonSchema(Schema):
    username = fields.String()
    full_name = fields.String()
    unit = fields.String(attribute="unit.code", metadata={"description": "Mã đơn vị."})
    unit_name = fields.String(attribute="unit.name")


class ActiveTaskSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    element_id = fields.String()
    form_key = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)


class HistoryEntrySchema(Schema):
    at = fields.DateTime()
    actor = fields.String(attribute="actor_name")
    action = fields.String()
    element_id = fields.String(allow_none=True)
    summary = fields.String()


DUE_STATE = ("Tình trạng hạn (docs/sla.md): dung_han, sap_den_han hoặc qua_han; null khi không có hạn "
             "hoặc không còn tính hạn.")


def _outcome(value: str | None) -> SlaOutcome | None:
    return SlaOutcome(value) if value in {o.value for o in SlaOutcome} else None


class InstanceSchema(Schema):
    """Dumped from {"view": queries.InstanceView, "due_state"}; data before/after of the history stay out."""

    id = fields.Integer(attribute="instance.id")
    process_id = fields.String(attribute="instance.version.process_id")
    version = fields.Integer(attribute="instance.version.version")
    status = fields.Enum(InstanceStatus, by_value=True, attribute="instance.status")
    title = fields.String(attribute="instance.title")
    initiator = fields.Nested(PersonSchema, attribute="instance.initiator")
    created_at = fields.DateTime(attribute="instance.created_at")
    ended_at = fields.DateTime(attribute="instance.ended_at", allow_none=True)
    revision = fields.Integer(attribute="instance.revision")
    due_at = fields.DateTime(attribute="instance.due_at", allow_none=True,
                             metadata={"description": "Thời hạn giải quyết hồ sơ."})
    due_state = fields.Enum(DueState, by_value=True, allow_none=True,
                            metadata={"description": DUE_STATE + " Hồ sơ đã kết thúc: null."})
    sla_outcome = fields.Enum(SlaOutcome, by_value=True, allow_none=True,
                              metadata={"description": "Hồ sơ đã xong có hạn: truoc_han, dung_han hoặc qua_han; "
                                                       "null khi chưa xong hoặc không có hạn."})
    paused = fields.Boolean(metadata={"description": "true: đang tạm dừng tính hạn (chờ bổ sung hồ sơ)."})
    active_tasks = fields.List(fields.Nested(ActiveTaskSchema))
    history = fields.List(fields.Nested(HistoryEntrySchema))

    @pre_dump
    def _from_view(self, shown: dict[str, Any], **_: Any) -> dict[str, Any]:
        view = shown["view"]
        return {"instance": view.instance, "history": view.history,
                "active_tasks": [t for t in view.tasks if t.status == TaskStatus.READY],
                "due_state": shown["due_state"], "sla_outcome": _outcome(view.instance.sla_outcome),
                "paused": view.instance.paused_at is not None}


def _task(shown: dict[str, Any], *names: str) -> dict[str, Any]:
    task = shown["task"]
    return {**{name: getattr(task, name) for name in
               ("id", "name", "element_id", "instance_id", "instance", "form_key", "due_at", "created_at",
                *names)},
            "due_state": shown["due_state"]}


class TaskSchema(Schema):
    """Dumped from {"task", "due_state"}."""

    id = fields.Integer()
    name = fields.String()
    element_id = fields.String()
    instance_id = fields.Integer()
    process_id = fields.String(attribute="instance.version.process_id")
    form_key = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    due_state = fields.Enum(DueState, by_value=True, allow_none=True,
                            metadata={"description": DUE_STATE + " Công việc đã xong: null."})
    created_at = fields.DateTime()

    @pre_dump
    def _flatten(self, shown: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _task(shown)


class TaskDetailSchema(TaskSchema):
    """Dumped from {"task", "due_state", "form", "data"}: the task, its form-js schema and its opening data."""

    status = fields.Enum(TaskStatus, by_value=True)
    form = fields.Dict(allow_none=True, metadata={"description": "Lược đồ biểu mẫu form-js."})
    data = JsonObject(metadata={"description": "Dữ liệu hiện tại, điền sẵn vào biểu mẫu."})

    @pre_dump
    def _flatten(self, shown: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {**_task(shown, "status"), "form": shown["form"], "data": shown["data"]}


# ---------------------------------------------------------------- calendar


class DeadlineQuerySchema(Schema):
    start = fields.String(data_key="from", required=True, validate=validate.Length(min=1, max=64),
                          metadata={"description": "Thời điểm nhận (ISO 8601); không ghi múi giờ thì hiểu "
                                                   "là giờ Việt Nam. Ví dụ 2026-02-13T15:00."})
    working_days = fields.Integer(load_default=None, metadata={"description": "Số ngày làm việc."})
    working_hours = fields.Float(load_default=None, allow_nan=False,
                                 metadata={"description": "Số giờ làm việc."})
    before = fields.Boolean(load_default=False,
                            metadata={"description": "1: tính lùi (ví dụ hạn gửi trước ngày họp)."})


class DeadlineSchema(Schema):
    deadline = fields.DateTime(required=True, metadata={"description": "Hạn, giờ Việt Nam (+07:00)."})


class CalendarDaySchema(Schema):
    date = fields.Date(attribute="day")
    name = fields.String()
    source = fields.String(attribute="source.value",
                           metadata={"description": "holidays (thư viện holidays) hoặc override (quản trị)."})
    is_working = fields.Boolean(metadata={"description": "true: ngày cuối tuần làm việc bù."})
    decision = fields.String(metadata={"description": "Số quyết định (với điều chỉnh của quản trị)."})


class WorkingPeriodSchema(Schema):
    start = fields.Time(format="%H:%M")
    end = fields.Time(format="%H:%M")


class CalendarYearSchema(Schema):
    year = fields.Integer()
    working_hours = fields.List(fields.Nested(WorkingPeriodSchema))
    days = fields.List(fields.Nested(CalendarDaySchema),
                       metadata={"description": "Ngày nghỉ (trừ thứ Bảy, Chủ nhật thông thường) và ngày "
                                                "cuối tuần làm việc bù, theo thứ tự ngày."})


# ---------------------------------------------------------------- meeting calendar


class MeetingRangeQuerySchema(Schema):
    start = fields.String(data_key="from", required=True, validate=validate.Length(min=1, max=40),
                          metadata={"description": "Ngày đầu, dạng YYYY-MM-DD (giờ Việt Nam)."})
    end = fields.String(data_key="to", required=True, validate=validate.Length(min=1, max=40),
                        metadata={"description": "Ngày cuối (tính cả ngày này), YYYY-MM-DD; tối đa 62 ngày."})


class MeetingConflictSchema(Schema):
    kind = fields.String(metadata={"description": "trung_phong (trùng phòng họp) hoặc vuot_mcu (vượt dung lượng "
                                                  "MCU)."})
    message = fields.String(metadata={"description": "Cảnh báo tiếng Việt."})
    message_en = fields.String()
    meetings = fields.List(fields.Integer(), metadata={"description": "id các cuộc họp xung đột với cuộc họp này."})
    endpoints = fields.Integer(allow_none=True, metadata={"description": "vuot_mcu: số điểm cầu cùng lúc cao nhất."})
    capacity = fields.Integer(allow_none=True, metadata={"description": "vuot_mcu: dung lượng MCU (MCU_CAPACITY)."})


class MeetingSchema(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    process_id = fields.String()
    title = fields.String(metadata={"description": "Nội dung (noi_dung)."})
    level = fields.String(metadata={"description": "Cấp họp (cap_hop), ví dụ tinh_huyen_xa."})
    level_label = fields.String()
    starts_at = fields.DateTime(allow_none=True, metadata={"description": "Giờ bắt đầu, giờ Việt Nam (+07:00)."})
    ends_at = fields.DateTime(allow_none=True)
    room = fields.String(metadata={"description": "Phòng họp, điểm cầu chính (dia_diem)."})
    host_unit = fields.String(metadata={"description": "Đơn vị chủ trì."})
    endpoints = fields.Integer(metadata={"description": "Số điểm cầu: 1 điểm cầu chính + các điểm cầu vệ tinh."})
    state = fields.String(metadata={"description": "dang_ky, da_xac_nhan, tu_choi, dang_hop, da_hop, hoan, huy."})
    state_label = fields.String()
    urgent = fields.Boolean(metadata={"description": "Đột xuất."})
    conflicts = fields.List(fields.Nested(MeetingConflictSchema))


class MeetingCalendarSchema(Schema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    mcu_capacity = fields.Integer(metadata={"description": "Số điểm cầu MCU mang được cùng lúc."})
    meetings = fields.List(fields.Nested(MeetingSchema), metadata={"description": "Theo giờ bắt đầu."})
