"""Issued documents and document templates through the test client: pages, downloads, API, rights."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import docx
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.persistence.models import AuditEvent, Document, ProcedureFile, ProcedureVersion, User
from engine.services import documents_view, instances
from tests.web.conftest import PASSWORD, Browser
from webapp.platform import services, uow

API = "/api/v1"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: 18:00 UTC on 26 Nov is 01:00 on 27 Nov in Việt Nam: the page shows the local day.
NOTICE_AT = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
REPLY_AT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
TEMPLATE_NAME = "thong_bao_ket_qua.docx"


def docx_bytes(*paragraphs: str) -> bytes:
    """A real (small) Word document, as the renderer would store."""
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@dataclass
class Issued:
    instance_id: int
    other_instance_id: int
    notice_id: int    # newest, with a PDF
    reply_id: int     # older, DOCX only
    other_id: int     # a document of the other instance
    version_id: int
    notice_docx: bytes
    template: bytes


def seed_documents(app: Flask) -> Issued:
    """Two instances of cv_stc (Sở Tài chính), two documents in the first, one in the second, one template."""
    notice, reply, template = (docx_bytes("THÔNG BÁO", "Số: 12/TB-TTCĐS"),
                               docx_bytes("Số: 125/STTTT-CĐS"), docx_bytes("Số: {{ so_ky_hieu }}"))
    with app.app_context(), uow() as work:
        actor = work.session.scalar(select(User).where(User.username == "cv_stc"))
        first = instances.start(work, services(), actor, "email_account")
        second = instances.start(work, services(), actor, "email_account")
        rows = [
            Document(instance_id=first.id, element_id="Task_PhatHanhThongBao", number=12, reference="12/TB-TTCĐS",
                     doc_type="TB", title="V/v kết quả cấp thư điện tử công vụ", template=TEMPLATE_NAME,
                     file_name="Thông báo 12-TB-TTCĐS.docx", docx=notice, pdf=b"%PDF-1.7 thong bao",
                     issued_at=NOTICE_AT),
            Document(instance_id=first.id, element_id="Task_PhucDap", number=125, reference="125/STTTT-CĐS",
                     doc_type="CV", title="V/v phúc đáp công văn số 45/STC-VP", template="cong_van.docx",
                     file_name="Công văn 125-STTTT-CĐS.docx", docx=reply, pdf=None, issued_at=REPLY_AT),
            Document(instance_id=second.id, element_id="Task_PhucDap", number=126, reference="126/STTTT-CĐS",
                     doc_type="CV", title="V/v hồ sơ khác", template="cong_van.docx",
                     file_name="Công văn 126.docx", docx=docx_bytes("126"), issued_at=REPLY_AT),
        ]
        work.session.add_all(rows)
        work.session.add(AuditEvent(actor_name="Hệ thống", action="document", instance_id=first.id,
                                    element_id="Task_PhatHanhThongBao", summary="Đã phát hành văn bản số 12/TB-TTCĐS",
                                    at=NOTICE_AT))
        version_id = first.version_id
        work.session.add(ProcedureFile(version_id=version_id, name=TEMPLATE_NAME, content=template,
                                       sha256=hashlib.sha256(template).hexdigest()))
        work.commit()
        return Issued(first.id, second.id, rows[0].id, rows[1].id, rows[2].id, version_id, notice, template)


def doc_url(issued: Issued, document_id: int, fmt: str = "docx", instance_id: int | None = None) -> str:
    return f"/instances/{instance_id or issued.instance_id}/documents/{document_id}.{fmt}"


def api_headers(client: FlaskClient, username: str) -> dict[str, str]:
    response = client.post(f"{API}/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


# ---------------------------------------------------------------- instance page


def test_requester_sees_the_documents_card_newest_first_with_local_dates(app: Flask, browser: Browser) -> None:
    issued = seed_documents(app)
    browser.login("cv_stc")
    page = browser.client.get(f"/instances/{issued.instance_id}").get_data(as_text=True)
    card = page[page.index("Văn bản đã phát hành"):page.index("Lịch sử xử lý")]
    assert card.index("12/TB-TTCĐS") < card.index("125/STTTT-CĐS")  # newest first
    assert "V/v kết quả cấp thư điện tử công vụ" in card
    assert "27/11/2026" in card and "25/11/2026" in card  # 18:00 UTC on the 26th is the 27th here
    assert "126/STTTT-CĐS" not in card  # the other instance's document
    assert card.count("Tải DOCX") == 2
    assert card.count("Tải PDF") == 1 and doc_url(issued, issued.notice_id, "pdf") in card
    assert doc_url(issued, issued.reply_id, "pdf") not in card
    assert "Chưa có bản PDF (máy chủ chưa cài LibreOffice)" in card
    history = page[page.index("Lịch sử xử lý"):]
    assert "Phát hành văn bản" in history and "Đã phát hành văn bản số 12/TB-TTCĐS" in history
    english = browser.client.get(f"/instances/{issued.instance_id}?lang=en").get_data(as_text=True)
    assert "Issued documents" in english and "27 Nov 2026" in english


def test_instance_without_documents_shows_no_card(app: Flask, browser: Browser) -> None:
    issued = seed_documents(app)
    with app.app_context(), uow() as work:
        actor = work.session.scalar(select(User).where(User.username == "cv_stc"))
        bare = instances.start(work, services(), actor, "email_account").id
    browser.login("cv_stc")
    assert "Văn bản đã phát hành" not in browser.client.get(f"/instances/{bare}").get_data(as_text=True)
    assert "Văn bản đã phát hành" in browser.client.get(f"/instances/{issued.instance_id}").get_data(as_text=True)


def test_requester_downloads_the_stored_docx_and_pdf(app: Flask, browser: Browser) -> None:
    issued = seed_documents(app)
    browser.login("cv_stc")
    response = browser.client.get(doc_url(issued, issued.notice_id))
    assert response.status_code == 200
    assert response.data == issued.notice_docx
    assert response.mimetype == DOCX_MIME
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="Thong_bao_12-TB-TTCDS.docx"' in disposition
    assert f"filename*=UTF-8''{quote('Thông báo 12-TB-TTCĐS.docx', safe='')}" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]

    pdf = browser.client.get(doc_url(issued, issued.notice_id, "pdf"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data == b"%PDF-1.7 thong bao"
    assert "filename*=UTF-8''Th%C3%B4ng%20b%C3%A1o%2012-TB-TTC%C4%90S.pdf" in pdf.headers["Content-Disposition"]


def test_missing_pdf_and_wrong_documents_are_not_found(app: Flask, browser: Browser) -> None:
    issued = seed_documents(app)
    browser.login("cv_stc")
    missing_pdf = browser.client.get(doc_url(issued, issued.reply_id, "pdf"))
    assert missing_pdf.status_code == 404
    assert "chưa có bản PDF" in missing_pdf.get_data(as_text=True)
    assert browser.client.get(doc_url(issued, 9999)).status_code == 404
    # A document reached through an instance it does not belong to (the user may see both).
    assert browser.client.get(doc_url(issued, issued.other_id)).status_code == 404
    assert browser.client.get(doc_url(issued, issued.other_id, instance_id=issued.other_instance_id)).status_code == 200
    assert browser.client.get(f"/instances/{issued.instance_id}/documents/{issued.notice_id}.exe").status_code == 404


def test_another_units_user_may_not_see_or_download(app: Flask, browser: Browser) -> None:
    issued = seed_documents(app)
    browser.login("cv_syt")  # Sở Y tế: not the requester, no task in these instances
    assert browser.client.get(f"/instances/{issued.instance_id}").status_code == 403
    response = browser.client.get(doc_url(issued, issued.notice_id))
    assert response.status_code == 403
    assert issued.notice_docx not in response.data
    assert browser.client.get(doc_url(issued, issued.notice_id, "pdf")).status_code == 403


def test_downloads_need_sign_in(app: Flask, client: FlaskClient) -> None:
    issued = seed_documents(app)
    response = client.get(doc_url(issued, issued.notice_id))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_list_query_reports_sizes_without_the_bytes(app: Flask) -> None:
    issued = seed_documents(app)
    with app.app_context(), uow() as work:
        actor = work.session.scalar(select(User).where(User.username == "cv_stc"))
        shown = documents_view.documents_of(work, actor, issued.instance_id)
    assert [d.id for d in shown] == [issued.notice_id, issued.reply_id]
    assert shown[0].docx_size == len(issued.notice_docx) and shown[0].has_pdf
    assert shown[1].pdf_size is None and not shown[1].has_pdf


# ---------------------------------------------------------------- API


def test_api_lists_documents_and_serves_their_content(app: Flask, client: FlaskClient) -> None:
    issued = seed_documents(app)
    headers = api_headers(client, "cv_stc")
    listed = client.get(f"{API}/process-instances/{issued.instance_id}/documents", headers=headers)
    assert listed.status_code == 200
    body = listed.get_json()
    assert [d["id"] for d in body] == [issued.notice_id, issued.reply_id]
    notice, reply = body
    assert notice["reference"] == "12/TB-TTCĐS" and notice["doc_type"] == "TB"
    assert notice["title"] == "V/v kết quả cấp thư điện tử công vụ"
    assert notice["template"] == TEMPLATE_NAME and notice["file_name"] == "Thông báo 12-TB-TTCĐS.docx"
    assert datetime.fromisoformat(notice["issued_at"]) == NOTICE_AT
    assert notice["has_pdf"] is True and reply["has_pdf"] is False
    assert reply["links"]["pdf"] is None
    assert "docx" not in reply and "content" not in reply  # no bytes in the list

    content = client.get(notice["links"]["docx"], headers=headers)
    assert content.status_code == 200 and content.mimetype == DOCX_MIME
    assert content.data == issued.notice_docx
    assert content.headers["Content-Disposition"].startswith("attachment;")
    pdf = client.get(notice["links"]["pdf"], headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


def test_api_errors_for_documents(app: Flask, client: FlaskClient) -> None:
    issued = seed_documents(app)
    headers = api_headers(client, "cv_stc")
    no_pdf = client.get(f"{API}/documents/{issued.reply_id}/content?format=pdf", headers=headers)
    assert no_pdf.status_code == 404 and no_pdf.get_json()["error"]["code"] == "not_found"
    assert "PDF" in no_pdf.get_json()["error"]["message"]
    bad_format = client.get(f"{API}/documents/{issued.notice_id}/content?format=xlsx", headers=headers)
    assert bad_format.status_code == 400
    assert bad_format.get_json()["error"]["code"] == "invalid_request"
    assert client.get(f"{API}/documents/9999/content", headers=headers).status_code == 404
    assert client.get(f"{API}/process-instances/9999/documents", headers=headers).status_code == 404
    assert client.get(f"{API}/documents/{issued.notice_id}/content").status_code == 401

    outsider = api_headers(client, "cv_syt")
    forbidden = client.get(f"{API}/documents/{issued.notice_id}/content", headers=outsider)
    assert forbidden.status_code == 403 and forbidden.get_json()["error"]["code"] == "forbidden"
    assert client.get(f"{API}/process-instances/{issued.instance_id}/documents",
                      headers=outsider).status_code == 403


def test_openapi_describes_the_document_endpoints(client: FlaskClient) -> None:
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    assert "/api/v1/process-instances/{instance_id}/documents" in paths
    content = paths["/api/v1/documents/{document_id}/content"]["get"]
    assert {DOCX_MIME, "application/pdf"} <= set(content["responses"]["200"]["content"])
    assert "422" not in content["responses"]


# ---------------------------------------------------------------- admin templates


def test_admin_sees_and_downloads_a_versions_templates(app: Flask, browser: Browser) -> None:
    issued = seed_documents(app)
    browser.login("qt")
    page = browser.client.get("/admin/procedures").get_data(as_text=True)
    url = f"/admin/versions/{issued.version_id}/files/{TEMPLATE_NAME}"
    assert url in page
    assert hashlib.sha256(issued.template).hexdigest()[:12] in page
    assert f"{len(issued.template) / 1024:.1f}".replace(".", ",") + " KB" in page
    assert 'accept=".bpmn,.dmn,.form,.docx"' in page
    assert "Mẫu văn bản .docx soạn bằng Word" in page
    response = browser.client.get(url)
    assert response.status_code == 200 and response.data == issued.template
    assert response.mimetype == DOCX_MIME
    assert 'filename="thong_bao_ket_qua.docx"' in response.headers["Content-Disposition"]
    assert browser.client.get(f"/admin/versions/{issued.version_id}/files/khong_co.docx").status_code == 404
    assert browser.client.get(f"/admin/versions/9999/files/{TEMPLATE_NAME}").status_code == 404


def test_templates_are_for_admins_only(app: Flask, browser: Browser) -> None:
    issued = seed_documents(app)
    browser.login("cv_stc")
    response = browser.client.get(f"/admin/versions/{issued.version_id}/files/{TEMPLATE_NAME}")
    assert response.status_code == 403
    assert issued.template not in response.data


def test_publish_refuses_other_file_types_and_names_docx(app: Flask, browser: Browser) -> None:
    browser.login("qt")
    token = browser.csrf("/admin/procedures")
    response = browser.client.post("/admin/procedures", data={
        "csrf_token": token, "files": (io.BytesIO(b"MZ"), "mau.exe")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "Chỉ nhận tệp .bpmn, .dmn, .form và mẫu văn bản .docx (mau.exe)." in response.get_data(as_text=True)
    with app.app_context(), uow() as work:
        assert work.session.scalar(select(ProcedureVersion.version).order_by(ProcedureVersion.id.desc())) == 1
