"""Working calendar: a deadline from a moment and a count, and a year's days off."""
from __future__ import annotations

from typing import Any

from engine.persistence.models import User
from engine.services import calendar as calendar_service
from webapp.api.auth import authenticated
from webapp.api.base import api_blueprint, documents_errors
from webapp.api.schemas import CalendarYearSchema, DeadlineQuerySchema, DeadlineSchema
from webapp.platform import services, uow

blp = api_blueprint("api_calendar", __name__, "Lịch làm việc: tính hạn theo ngày/giờ làm việc, ngày nghỉ.")


@blp.route("/calendar/deadline", methods=["GET"])
@authenticated
@blp.arguments(DeadlineQuerySchema, location="query", error_status_code=400)
@blp.response(200, DeadlineSchema)
@documents_errors(blp, 400, 401)
@blp.doc(summary="Tính hạn",
         description="Cho đúng một trong working_days, working_hours. Theo ngày: tính từ ngày làm việc "
                     "sau ngày nhận, hạn là cuối giờ làm việc của ngày cuối. Nhận ngoài giờ: tính từ "
                     "giờ làm việc kế tiếp. Xem docs/calendar.md.")
def deadline(query: dict[str, Any], user: User) -> Any:
    platform = services()
    start = calendar_service.parse_moment(query["start"], platform.settings.timezone)
    due = calendar_service.deadline(platform, start, query["working_days"], query["working_hours"],
                                    query["before"])
    return {"deadline": due}


@blp.route("/calendar/<int(signed=True):year>", methods=["GET"])
@authenticated
@blp.response(200, CalendarYearSchema)
@documents_errors(blp, 400, 401)
@blp.doc(summary="Ngày nghỉ trong năm",
         description="Ngày lễ, nghỉ bù, hoán đổi (nguồn holidays) và điều chỉnh của quản trị (override); "
                     "thứ Bảy, Chủ nhật thông thường không liệt kê.")
def year(year: int, user: User) -> Any:
    with uow() as work:
        view = calendar_service.year_view(work, services(), year)
        hours = [{"start": start, "end": end} for start, end in view.calendar.working_hours]
        return {"year": view.year, "working_hours": hours, "days": view.special_days}
