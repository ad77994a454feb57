"""The meeting calendar: booked videoconferences of a range of days, each with its conflicts."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from engine.persistence.models import Meeting, User
from engine.services import meeting_calendar, meetings
from engine.services.meeting_conflicts import Conflict
from webapp.api.auth import authenticated
from webapp.api.base import api_blueprint, documents_errors
from webapp.api.schemas import MeetingCalendarSchema, MeetingRangeQuerySchema
from webapp.platform import services, uow

blp = api_blueprint("api_meetings", __name__,
                    "Lịch họp: hội nghị truyền hình đã đăng ký, trùng phòng họp và vượt dung lượng MCU.")


@blp.route("/meetings", methods=["GET"])
@authenticated
@blp.arguments(MeetingRangeQuerySchema, location="query", error_status_code=400)
@blp.response(200, MeetingCalendarSchema)
@documents_errors(blp, 400, 401)
@blp.doc(summary="Lịch họp theo khoảng ngày",
         description="Các cuộc họp bắt đầu trong các ngày from…to (giờ Việt Nam, tính cả hai đầu, tối đa 62 "
                     "ngày), theo giờ bắt đầu, với cảnh báo xung đột của từng cuộc họp. Mọi người dùng đăng nhập "
                     "đều xem được (lịch chung của tỉnh). Xem docs/meetings.md.")
def calendar(query: dict[str, Any], user: User) -> Any:
    first, last = meetings.parse_range(query["start"], query["end"])
    platform = services()
    zone = ZoneInfo(platform.settings.timezone)
    with uow() as work:
        agenda = meeting_calendar.agenda(work, platform, first, last)
        listed = [_meeting(m, agenda.conflicts.get(m.id, []), zone) for m in agenda.meetings]
    return {"start": first, "end": last, "mcu_capacity": agenda.capacity, "meetings": listed}


def _meeting(meeting: Meeting, conflicts: list[Conflict], zone: ZoneInfo) -> dict[str, Any]:
    state = meetings.state_of(meeting.state)
    return {
        "id": meeting.id, "instance_id": meeting.instance_id, "process_id": meeting.process_id,
        "title": meeting.title, "level": meeting.level, "level_label": meetings.level_label(meeting.level).vi,
        "starts_at": meeting.starts_at.astimezone(zone) if meeting.starts_at else None,
        "ends_at": meeting.ends_at.astimezone(zone) if meeting.ends_at else None,
        "room": meeting.room, "host_unit": meeting.host_unit, "endpoints": meeting.endpoints,
        "state": state.value, "state_label": state.label.vi, "urgent": meeting.urgent,
        "conflicts": [{"kind": c.kind.value, "message": c.message.vi, "message_en": c.message.en,
                       "meetings": [o.id for o in c.others], "endpoints": c.endpoints or None,
                       "capacity": c.capacity or None} for c in conflicts],
    }
