"""Hotline 1022 statistics as JSON: the counts of the statistics page (docs/hotline.md, docs/api.md)."""
from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from marshmallow import Schema, fields, validate

from engine.persistence.models import User
from engine.services import hotline_board as hb
from webapp.api.auth import authenticated
from webapp.api.base import api_blueprint, documents_errors
from webapp.platform import services, uow

blp = api_blueprint("api_hotline_stats", __name__,
                    "Thống kê phiếu của Tổng đài 1022 theo lĩnh vực, kênh, cơ quan, ngày, tuần hoặc tháng.")


class StatsQuerySchema(Schema):
    date_from = fields.Date(data_key="from", load_default=None, metadata={
        "description": "Ngày đầu kỳ (yyyy-mm-dd, giờ Việt Nam); mặc định ngày 1 tháng này."})
    date_to = fields.Date(data_key="to", load_default=None,
                          metadata={"description": "Ngày cuối kỳ (tính cả ngày này); mặc định hôm nay."})
    group_by = fields.String(load_default="linh_vuc", validate=validate.OneOf(list(hb.GROUPINGS)),
                             metadata={"description": "linh_vuc, kenh, co_quan, ngay, tuan hoặc thang."})


class StatsCountsSchema(Schema):
    received = fields.Integer(metadata={"description": "Tiếp nhận trong kỳ."})
    processed = fields.Integer(metadata={"description": "Đã đóng trong kỳ (mọi kết quả)."})
    answered = fields.Integer(metadata={"description": "Đã trả lời trong kỳ."})
    referred = fields.Integer(metadata={"description": "Chuyển kênh 113/114/115/đơn thư trong kỳ."})
    overdue = fields.Integer(metadata={"description": "Tiếp nhận trong kỳ, có bước xử lý trễ hạn."})


class StatsRowSchema(Schema):
    key = fields.String(metadata={"description": "Mã lĩnh vực, kênh, cơ quan, hoặc ngày đầu của ngày/tuần/tháng."})
    label = fields.String()
    counts = fields.Nested(StatsCountsSchema)


class StatsSchema(Schema):
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    group_by = fields.String()
    rows = fields.List(fields.Nested(StatsRowSchema))
    total = fields.Nested(StatsCountsSchema)


@blp.route("/hotline/statistics", methods=["GET"])
@authenticated
@blp.arguments(StatsQuerySchema, location="query", error_status_code=400)
@blp.response(200, StatsSchema)
@documents_errors(blp, 400, 401, 403)
@blp.doc(summary="Thống kê phiếu Tổng đài 1022",
         description="Điện thoại viên, lãnh đạo và quản trị. Kỳ tối đa 366 ngày khi theo ngày, 5 năm với cách khác.")
def statistics(args: dict[str, Any], user: User) -> Any:
    today = hb.today(services())
    start = args["date_from"] or today.replace(day=1)
    end = args["date_to"] or today
    locale = str(get_locale() or "vi")
    with uow() as work:
        table = hb.statistics(work, services(), user, start, end, args["group_by"])
    return {"date_from": table.date_from, "date_to": table.date_to, "group_by": table.group_by,
            "rows": [{"key": r.key, "label": r.label.text(locale), "counts": r.values} for r in table.rows],
            "total": table.total}
