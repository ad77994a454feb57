"""File downloads: the right MIME type, a file name every browser keeps, and no sniffing or caching.

    attachment(docx_bytes, "Thông báo 12-TB-TTCĐS.docx")
    → Content-Disposition: attachment; filename="Thong_bao_12-TB-TTCDS.docx";
      filename*=UTF-8''Th%C3%B4ng%20b%C3%A1o%2012-TB-TTC%C4%90S.docx
"""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Response

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_MIME = "application/pdf"
MIME_BY_SUFFIX = {".docx": DOCX_MIME, ".pdf": PDF_MIME}
FALLBACK_MIME = "application/octet-stream"


def ascii_file_name(name: str) -> str:
    """The name without diacritics (đ → d), other unsafe characters as `_`, for old clients."""
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    plain = plain.encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", plain).strip("._")
    return plain or "tep"


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII name and the exact UTF-8 name (RFC 6266 / RFC 5987)."""
    return f"attachment; filename=\"{ascii_file_name(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def mime_type(name: str) -> str:
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    return MIME_BY_SUFFIX.get(suffix, FALLBACK_MIME)


def attachment(content: bytes, name: str, mimetype: str | None = None) -> Response:
    """A download response; dossier files are private, so nothing caches them."""
    response = Response(content, mimetype=mimetype or mime_type(name))
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
