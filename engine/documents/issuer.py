"""The `document.render` operation: number, render, store an official document, once per call key.

Order of work, and why:
1. everything that can fail without a number first: the task's properties, the template (loaded
   from the version's `ProcedureFile` and checked again), the instance;
2. take the number (`registers.next_number`, the register row stays locked from here), render the
   DOCX with it (the number is part of the text), insert the `Document`, commit: number and
   document are stored together or not at all, and a failing template gives the number back;
3. only then the PDF (LibreOffice takes seconds; holding the register row that long would make
   every other issuer of the register wait on PostgreSQL, and every writer on SQLite), stored in
   a second short transaction. A retried call whose document has no PDF yet tries again.
A retried call with the same key finds its document and returns the same result.
"""
from __future__ import annotations

import hashlib
import keyword
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from engine.adapters.base import AdapterError, CallContext
from engine.documents import pdf as pdf_conversion
from engine.documents.registers import next_number
from engine.documents.render import RenderError, build_context, render_docx
from engine.documents.templates import check_template, valid_name
from engine.documents.vietnamese import date_words, file_name, place_date, reference, two_digits
from engine.domain.messages import Message
from engine.persistence.models import Document, ProcedureFile, ProcessInstance, utcnow
from engine.settings import Settings

log = logging.getLogger(__name__)
TOPIC = "document.render"
DEFAULT_VARIABLE = "van_ban"
#: Properties a `document.render` task must have, with their names for people.
REQUIRED_PROPERTIES = {
    "template": ("mẫu văn bản", "template file"),
    "issuer": ("mã đơn vị ban hành", "issuing unit code"),
    "doc_type": ("mã loại văn bản, ví dụ CV, TB, BC", "document type code, e.g. CV, TB, BC"),
    "symbol": ("ký hiệu sau số, ví dụ TB-TTCĐS", "symbol after the number, e.g. TB-TTCĐS"),
}


@dataclass(frozen=True)
class DocumentStep:
    """A `document.render` service task's camunda:properties, read and checked."""

    template: str
    issuer: str
    doc_type: str
    symbol: str
    title: str
    variable: str
    chu_quan: str
    ban_hanh: str
    dia_danh: str


def property_problems(properties: Mapping[str, str]) -> list[Message]:
    """What is missing or wrong in a document task's properties (publishing refuses on any)."""
    props = {k: str(v).strip() for k, v in properties.items()}
    missing = [name for name in REQUIRED_PROPERTIES if not props.get(name)]
    problems = []
    if missing:
        problems.append(Message(
            "Bước phát hành văn bản thiếu thuộc tính: "
            + "; ".join(f"{n} ({REQUIRED_PROPERTIES[n][0]})" for n in missing),
            "The document step lacks the properties: "
            + "; ".join(f"{n} ({REQUIRED_PROPERTIES[n][1]})" for n in missing)))
    template = props.get("template", "")
    if template and not valid_name(template):
        problems.append(Message(f"Tên mẫu văn bản «{template}» không hợp lệ: chỉ tên tệp .docx, không có thư mục",
                                f"Template name «{template}» is not valid: a bare .docx file name"))
    if len(props.get("issuer", "")) > 64 or len(props.get("doc_type", "")) > 32 \
            or len(props.get("symbol", "")) > 80 or len(props.get("title", "")) > 500:
        problems.append(Message("Quá dài: mã đơn vị ban hành (tối đa 64 ký tự), mã loại văn bản (32), "
                                "ký hiệu (80) hoặc trích yếu (500)",
                                "Too long: issuing unit code (64 characters), type code (32), symbol (80) "
                                "or title (500)"))
    if props.get("symbol") and not props["symbol"].strip("/ "):
        problems.append(Message("Ký hiệu văn bản không hợp lệ (chỉ có dấu /)", "The symbol is only slashes"))
    variable = props.get("variable") or DEFAULT_VARIABLE
    if not variable.isidentifier() or keyword.iskeyword(variable):
        problems.append(Message(f"Tên biến kết quả «{variable}» không hợp lệ (chữ, số, dấu _)",
                                f"Result variable «{variable}» is not a valid name (letters, digits, _)"))
    return problems


def read_step(properties: Mapping[str, str], settings: Settings) -> DocumentStep:
    """The step's settings, defaults from Settings; AdapterError naming what is missing."""
    problems = property_problems(properties)
    if problems:
        raise AdapterError("; ".join(p.vi for p in problems))
    props = {k: str(v).strip() for k, v in properties.items()}
    return DocumentStep(
        template=props["template"], issuer=props["issuer"], doc_type=props["doc_type"],
        symbol=props["symbol"], title=props.get("title", ""),
        variable=props.get("variable") or DEFAULT_VARIABLE,
        chu_quan=props.get("co_quan_chu_quan") or settings.org_parent_name,
        ban_hanh=props.get("co_quan_ban_hanh") or settings.org_name,
        dia_danh=props.get("dia_danh") or settings.org_place,
    )


@dataclass(frozen=True)
class Issued:
    """What the result variable reports of a stored document."""

    id: int
    number: int
    reference: str
    day: date
    file_name: str
    has_pdf: bool

    def result(self) -> dict[str, Any]:
        return {"so": self.number, "so_ky_hieu": self.reference, "ngay_ban_hanh": self.day.isoformat(),
                "document_id": self.id, "ten_tep": self.file_name, "co_pdf": self.has_pdf,
                "ket_qua": f"Đã phát hành văn bản số {self.reference}"}


class DocumentIssuer:
    """Issues documents from the templates published with a procedure version."""

    def __init__(self, session_factory: Callable[[], Session], settings: Settings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = session_factory
        self.settings = settings
        self._clock = clock
        self._zone = ZoneInfo(settings.timezone)
        # Templates of a version never change: each is checked once per process (by content).
        self._checked: dict[str, list[Message]] = {}
        self._checked_lock = threading.Lock()

    def render(self, key: str, data: Mapping[str, Any], context: CallContext) -> dict[str, Any]:
        """The `document.render` operation (see the module docstring for the order of work)."""
        step = read_step(context.properties, self.settings)
        session = self._sessions()
        try:
            issued, docx = self._find(session, key), None
            if issued is None:
                issued, docx = self._issue(session, key, data, context, step)
        except OperationalError as exc:
            # Database unreachable or busy: worth a retry, nothing was stored.
            raise AdapterError(f"Cơ sở dữ liệu chưa sẵn sàng, sẽ thử lại: {exc.orig}") from None
        finally:
            session.close()
        if not issued.has_pdf:
            issued = self._add_pdf(issued, docx)
        return {step.variable: issued.result()}

    # ------------------------------------------------------------ steps

    def _issued(self, document: Document) -> Issued:
        return Issued(document.id, document.number or 0, document.reference,
                      document.issued_at.astimezone(self._zone).date(), document.file_name,
                      document.pdf is not None)

    def _find(self, session: Session, key: str) -> Issued | None:
        document = session.scalar(select(Document).where(Document.call_key == key))
        return self._issued(document) if document is not None else None

    def _template(self, session: Session, context: CallContext, step: DocumentStep) -> bytes:
        content = session.scalar(select(ProcedureFile.content).where(
            ProcedureFile.version_id == context.version_id, ProcedureFile.name == step.template))
        if content is None:
            raise AdapterError(f"Phiên bản quy trình không có mẫu văn bản {step.template}; "
                               "hãy công bố lại quy trình kèm mẫu")
        problems = self._check(content)
        if problems:
            raise AdapterError(f"Mẫu văn bản {step.template} không dùng được: {problems[0].vi}")
        return content

    def _check(self, content: bytes) -> list[Message]:
        """The template checks again (the row may not come from publishing), once per content."""
        digest = hashlib.sha256(content).hexdigest()
        with self._checked_lock:
            known = self._checked.get(digest)
        if known is None:
            known = check_template(content, max(self.settings.max_upload_bytes, len(content)))
            with self._checked_lock:
                if len(self._checked) > 256:
                    self._checked.clear()
                self._checked[digest] = known
        return known

    def _ho_so(self, session: Session, context: CallContext) -> dict[str, Any]:
        instance = session.get(ProcessInstance, context.instance_id)
        if instance is None:
            raise AdapterError(f"Không tìm thấy hồ sơ {context.instance_id}")
        return {"id": instance.id, "don_vi": instance.initiator_unit.name,
                "nguoi_tao": instance.initiator.full_name, "tieu_de": instance.title}

    def _van_ban(self, step: DocumentStep, number: int, day: date, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "so": number, "so_chu": two_digits(number), "so_ky_hieu": reference(number, step.symbol),
            "ky_hieu": step.symbol, "loai": step.doc_type, "don_vi": step.issuer,
            "ngay": day, "ngay_ban_hanh": day.isoformat(), "ngay_thang_nam": date_words(day),
            "dia_danh_ngay": place_date(step.dia_danh, day), "nam": day.year,
            # The task's title is the trích yếu; without one the data may give it.
            "trich_yeu": step.title or str(data.get("trich_yeu") or ""),
        }

    def _issue(self, session: Session, key: str, data: Mapping[str, Any], context: CallContext,
               step: DocumentStep) -> tuple[Issued, bytes]:
        template = self._template(session, context, step)
        ho_so = self._ho_so(session, context)
        now = self._clock()
        day = now.astimezone(self._zone).date()
        co_quan = {"chu_quan": step.chu_quan, "ban_hanh": step.ban_hanh, "dia_danh": step.dia_danh}
        # From here the register row is locked until commit or rollback: render and insert only.
        register, number = next_number(session, step.issuer, step.doc_type, day.year)
        van_ban = self._van_ban(step, number, day, data)
        try:
            docx = render_docx(template, build_context(data, van_ban=van_ban, co_quan=co_quan, ho_so=ho_so))
        except RenderError as exc:
            session.rollback()  # gives the number back
            raise AdapterError(exc.message.vi) from None
        document = Document(
            instance_id=context.instance_id, element_id=context.element_id, call_key=key,
            register_id=register.id, number=number, reference=van_ban["so_ky_hieu"], doc_type=step.doc_type,
            title=van_ban["trich_yeu"][:500], template=step.template,
            file_name=file_name(van_ban["so_ky_hieu"], van_ban["trich_yeu"]), docx=docx, pdf=None, issued_at=now)
        session.add(document)
        try:
            session.flush()
            issued = self._issued(document)
            session.commit()
        except IntegrityError:
            # The same call ran twice at once and the other one stored first: use its document.
            session.rollback()
            winner = self._find(session, key)
            if winner is None:
                raise AdapterError("Không lưu được văn bản (trùng số trong sổ); sẽ thử lại") from None
            return winner, b""
        return issued, docx

    def _add_pdf(self, issued: Issued, docx: bytes | None) -> Issued:
        if pdf_conversion.find_soffice(self.settings) is None:
            return issued
        session = self._sessions()
        try:
            if not docx:
                docx = session.scalar(select(Document.docx).where(Document.id == issued.id))
                session.rollback()
            pdf = pdf_conversion.to_pdf(docx, self.settings) if docx else None
            if pdf is None:
                return issued
            session.execute(update(Document).where(Document.id == issued.id, Document.pdf.is_(None))
                            .values(pdf=pdf).execution_options(synchronize_session=False))
            session.commit()
        except OperationalError as exc:
            log.warning("PDF of document %s not stored: %s", issued.id, exc.orig)
            return issued  # the document stands; a retry of the call tries the PDF again
        finally:
            session.close()
        return replace(issued, has_pdf=True)
