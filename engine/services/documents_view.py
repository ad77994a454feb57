"""Read side of issued documents and document templates: who may see them, and their bytes.

Lists never load the file bytes (a dossier may hold several DOCX and PDF files): they read the
metadata and the sizes, and only a download loads the one file asked for.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from engine.domain.errors import NotFound
from engine.domain.messages import Message
from engine.persistence.models import Document, ProcedureFile, User
from engine.persistence.uow import UnitOfWork
from engine.services import queries

NO_DOCUMENT = Message("Không tìm thấy văn bản.", "Document not found.")
NO_PDF = Message("Văn bản này chưa có bản PDF (máy chủ chưa cài LibreOffice).",
                 "This document has no PDF (LibreOffice is not installed on the server).")
NO_TEMPLATE = Message("Không tìm thấy tệp mẫu của phiên bản này.", "No such file in this version.")


class DocumentFormat(StrEnum):
    """The forms a document is downloaded in: the DOCX always, the PDF when it was converted."""

    DOCX = "docx"
    PDF = "pdf"


@dataclass(frozen=True)
class DocumentSummary:
    """An issued document as lists show it: metadata and sizes, not the bytes."""

    id: int
    instance_id: int
    element_id: str
    reference: str
    doc_type: str
    title: str
    template: str
    file_name: str
    issued_at: datetime
    docx_size: int
    #: None when no PDF was made (LibreOffice missing or the conversion failed).
    pdf_size: int | None

    @property
    def has_pdf(self) -> bool:
        return self.pdf_size is not None


@dataclass(frozen=True)
class TemplateSummary:
    """A file published with a version (a DOCX template), without its bytes."""

    version_id: int
    name: str
    size: int
    sha256: str
    created_at: datetime


def issued_in(uow: UnitOfWork, instance_id: int) -> list[DocumentSummary]:
    """The documents issued in an instance, newest first, without their bytes.

    For a caller that has already checked the instance (the instance page, through
    queries.instance_view); others use `documents_of`.
    """
    rows = uow.session.execute(
        select(Document, func.length(Document.docx), func.length(Document.pdf))
        # raiseload: a page touching the bytes by mistake fails loudly instead of loading them all.
        .options(defer(Document.docx, raiseload=True), defer(Document.pdf, raiseload=True))
        .where(Document.instance_id == instance_id)
        .order_by(Document.issued_at.desc(), Document.id.desc()))
    return [DocumentSummary(
        id=doc.id, instance_id=doc.instance_id, element_id=doc.element_id, reference=doc.reference,
        doc_type=doc.doc_type, title=doc.title, template=doc.template, file_name=doc.file_name,
        issued_at=doc.issued_at, docx_size=int(docx_size or 0),
        pdf_size=None if pdf_size is None else int(pdf_size)) for doc, docx_size, pdf_size in rows]


def documents_of(uow: UnitOfWork, user: User, instance_id: int) -> list[DocumentSummary]:
    """The documents issued in an instance the user may see whole (queries.whole_instance), newest first."""
    return issued_in(uow, queries.whole_instance(uow, user, instance_id).id)


def document_for(uow: UnitOfWork, user: User, document_id: int, instance_id: int | None = None) -> Document:
    """One document with its bytes, if the user may see its instance whole (queries.whole_instance).

    With `instance_id` (the page's URL) that instance is checked first, and a document of another
    instance is NotFound, so a URL cannot reach a document through an instance it does not belong to.
    """
    if instance_id is not None:
        queries.whole_instance(uow, user, instance_id)
    document = uow.session.get(Document, document_id)
    if document is None or instance_id not in (None, document.instance_id):
        raise NotFound(NO_DOCUMENT)
    if instance_id is None:
        queries.whole_instance(uow, user, document.instance_id)
    return document


def content_of(document: Document, fmt: DocumentFormat) -> tuple[bytes, str]:
    """The bytes and the download file name of a document in one format; NotFound for a missing PDF."""
    if fmt is DocumentFormat.DOCX:
        return document.docx, document.file_name
    if document.pdf is None:
        raise NotFound(NO_PDF)
    stem = document.file_name.rsplit(".", 1)[0] if "." in document.file_name else document.file_name
    return document.pdf, f"{stem}.pdf"


def templates_by_version(uow: UnitOfWork, version_ids: Iterable[int]) -> dict[int, list[TemplateSummary]]:
    """The files of several versions, by name, in one query, for the versions list (admins only)."""
    rows = uow.session.execute(
        select(ProcedureFile.version_id, ProcedureFile.name, func.length(ProcedureFile.content),
               ProcedureFile.sha256, ProcedureFile.created_at)
        .where(ProcedureFile.version_id.in_(list(version_ids)))
        .order_by(ProcedureFile.version_id, ProcedureFile.name))
    grouped: dict[int, list[TemplateSummary]] = {}
    for version_id, name, size, sha256, created_at in rows:
        grouped.setdefault(version_id, []).append(TemplateSummary(version_id, name, int(size or 0), sha256,
                                                                  created_at))
    return grouped


def template_file(uow: UnitOfWork, version_id: int, name: str) -> ProcedureFile:
    """One published file with its bytes. Admins only: the caller checks the role."""
    found = uow.session.scalar(select(ProcedureFile).where(
        ProcedureFile.version_id == version_id, ProcedureFile.name == name))
    if found is None:
        raise NotFound(NO_TEMPLATE)
    return found
