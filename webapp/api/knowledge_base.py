"""Hotline 1022 knowledge base: search the question–answer articles (docs/hotline.md)."""
from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from marshmallow import Schema, fields, validate

from engine.domain.hotline import FIELDS_BY_CODE
from engine.persistence.models import User
from engine.services import knowledge_base as kb
from webapp.api.auth import authenticated
from webapp.api.base import api_blueprint, documents_errors
from webapp.platform import uow

blp = api_blueprint("api_knowledge_base", __name__,
                    "Cơ sở dữ liệu hỏi đáp của Tổng đài 1022: tìm câu hỏi – trả lời theo lĩnh vực, "
                    "có dấu hoặc không dấu.")


class KbQuerySchema(Schema):
    q = fields.String(load_default="", metadata={"description": "Từ khóa, có dấu hoặc không dấu; mọi từ đều phải có."})
    field = fields.String(load_default=None, allow_none=True,
                          metadata={"description": "Mã lĩnh vực, ví dụ thu_tuc_hanh_chinh."})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=kb.MAX_RESULTS))


class KbArticleSchema(Schema):
    id = fields.Integer()
    field = fields.String()
    field_label = fields.String()
    question = fields.String()
    answer = fields.String()
    keywords = fields.String()
    published = fields.Boolean(metadata={"description": "Đã công bố trên trang hỏi đáp công khai."})
    published_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime()


class KbSearchSchema(Schema):
    total = fields.Integer(metadata={"description": "Số bài phù hợp (danh sách có tối đa `limit` bài)."})
    articles = fields.List(fields.Nested(KbArticleSchema))


@blp.route("/kb/articles", methods=["GET"])
@authenticated
@blp.arguments(KbQuerySchema, location="query", error_status_code=400)
@blp.response(200, KbSearchSchema)
@documents_errors(blp, 400, 401)
@blp.doc(summary="Tìm câu hỏi – trả lời",
         description="Câu hỏi có từ khóa đứng trước, rồi bài mới cập nhật. Điện thoại viên và quản trị thấy cả bài "
                     "chưa công bố; người khác chỉ thấy bài đã công bố.")
def search(args: dict[str, Any], user: User) -> Any:
    locale = str(get_locale() or "vi")
    with uow() as work:
        result = kb.search(work, user, args["q"], args["field"], published_only=False, limit=args["limit"])
        return {"total": result.total, "articles": [{
            "id": a.id, "field": a.field, "field_label": FIELDS_BY_CODE[a.field].label(locale),
            "question": a.question, "answer": a.answer, "keywords": a.keywords, "published": a.is_published,
            "published_at": a.published_at, "updated_at": a.updated_at} for a in result.articles]}
