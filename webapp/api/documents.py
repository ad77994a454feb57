"""Issued documents (văn bản): the list of an instance's documents and each file's content."""
from __future__ import annotations

from typing import Any

from flask import url_for
from marshmallow import Schema, fields

from engine.persistence.models import User
from engine.services import documents_view
from engine.services.documents_view import DocumentFormat, DocumentSummary
from webapp.api.auth import authenticated
from webapp.api.base import api_blueprint, documents_errors
from webapp.downloads import DOCX_MIME, PDF_MIME, attachment
from webapp.platform import uow

blp = api_blueprint("api_documents", __name__, "Văn bản đã phát hành của hồ sơ: danh sách và tệp DOCX, PDF.")

BINARY = {"type": "string", "format": "binary"}
FILE_ANSWER = "Tệp văn bản: DOCX (format=docx) hoặc PDF (format=pdf)."


class DocumentLinksSchema(Schema):
    docx = fields.String(metadata={"description": "Tải bản DOCX."})
    pdf = fields.String(allow_none=True, metadata={"description": "Tải bản PDF; null khi chưa có bản PDF."})


class DocumentSchema(Schema):
    """Dumped from {"document": DocumentSummary, "links"}."""

    id = fields.Integer(attribute="document.id")
    reference = fields.String(attribute="document.reference",
                              metadata={"description": "Số và ký hiệu, ví dụ 12/TB-TTCĐS."})
    doc_type = fields.String(attribute="document.doc_type",
                             metadata={"description": "Loại văn bản: CV công văn, TB thông báo, BC báo cáo…"})
    title = fields.String(attribute="document.title", metadata={"description": "Trích yếu nội dung."})
    template = fields.String(attribute="document.template", metadata={"description": "Tệp mẫu đã dùng."})
    file_name = fields.String(attribute="document.file_name")
    element_id = fields.String(attribute="document.element_id", metadata={"description": "Bước phát hành."})
    issued_at = fields.DateTime(attribute="document.issued_at", metadata={"description": "Thời điểm ban hành."})
    size = fields.Integer(attribute="document.docx_size", metadata={"description": "Dung lượng bản DOCX (byte)."})
    has_pdf = fields.Boolean(attribute="document.has_pdf",
                             metadata={"description": "false khi máy chủ chưa cài LibreOffice."})
    links = fields.Nested(DocumentLinksSchema)


class ContentQuerySchema(Schema):
    format = fields.Enum(DocumentFormat, by_value=True, load_default=DocumentFormat.DOCX,
                         metadata={"description": "docx (mặc định) hoặc pdf."})


def shown(document: DocumentSummary) -> dict[str, Any]:
    def link(fmt: DocumentFormat) -> str:
        return url_for("api_documents.content", document_id=document.id, format=fmt.value)
    return {"document": document,
            "links": {"docx": link(DocumentFormat.DOCX),
                      "pdf": link(DocumentFormat.PDF) if document.has_pdf else None}}


@blp.route("/process-instances/<int:instance_id>/documents", methods=["GET"])
@authenticated
@blp.response(200, DocumentSchema(many=True))
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Văn bản của hồ sơ", description="Các văn bản đã phát hành, mới nhất trước.")
def document_list(instance_id: int, user: User) -> Any:
    with uow() as work:
        return [shown(d) for d in documents_view.documents_of(work, user, instance_id)]


@blp.route("/documents/<int:document_id>/content", methods=["GET"])
@authenticated
@blp.arguments(ContentQuerySchema, location="query", error_status_code=400)
@blp.response(200, BINARY, content_type=DOCX_MIME, description=FILE_ANSWER)
@blp.alt_response(200, schema=BINARY, content_type=PDF_MIME, description=FILE_ANSWER)
@documents_errors(blp, 400, 401, 403, 404)
@blp.doc(summary="Tải văn bản",
         description="Tệp DOCX hoặc PDF (tải về, Content-Disposition: attachment). "
                     "404 khi văn bản chưa có bản PDF.")
def content(query: dict[str, Any], document_id: int, user: User) -> Any:
    with uow() as work:
        document = documents_view.document_for(work, user, document_id)
        data, name = documents_view.content_of(document, query["format"])
    return attachment(data, name)
