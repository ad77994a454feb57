"""File downloads: the right MIME type, a file name every browser keeps, and no sniffing or caching.

    attachment(docx_bytes, "Thông báo 12-TB-TTCĐS.docx")
    → Content-Disposition: attachment; filename="Thong_bao_12-TB-TTCDS.docx";
      filename*=UTF-8''Th%C3%B4ng%20b%C3%A1o%2012-TB-TTC%C4%90S.docx
"""
from __future__ import annotations

import re
from urllib.parse import quote

from flask import Response

from engine.domain.text import strip_diacritics

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_MIME = "application/pdf"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIME_BY_SUFFIX = {".docx": DOCX_MIME, ".pdf": PDF_MIME, ".xlsx": XLSX_MIME}
FALLBACK_MIME = "application/octet-stream"


def ascii_file_name(name: str) -> str:
    """The name without diacritics (đ → d), other unsafe characters as `_`, for old clients."""
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", strip_diacritics(name)).strip("._")
    return plain or "tep"


def content_disposition(name: str, ascii_name: str | None = None) -> str:
    """`attachment` with an ASCII name (given, or made from `name`) and the exact UTF-8 name (RFC 6266 / 5987)."""
    plain = ascii_name or ascii_file_name(name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def mime_type(name: str) -> str:
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    return MIME_BY_SUFFIX.get(suffix, FALLBACK_MIME)


def attachment(content: bytes, name: str, mimetype: str | None = None, *, ascii_name: str | None = None) -> Response:
    """A download response; dossier files are private, so nothing caches them.

    `ascii_name` replaces the name made from `name` for old clients when a better one is at hand
    (thong-ke-phu-luc-v-2026.xlsx rather than Thong_ke_Phu_luc_V_nam_2026.xlsx).
    """
    response = Response(content, mimetype=mimetype or mime_type(name))
    response.headers["Content-Disposition"] = content_disposition(name, ascii_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
