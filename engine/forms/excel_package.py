"""The uploaded file itself: a real .xlsx of bounded size, with no macros and no XML declarations.

Checked on the raw bytes and the zip directory before openpyxl parses anything, since the
file comes from a browser and may be anything renamed to .xlsx.
"""
from __future__ import annotations

import io
import zipfile
import zlib

from engine.domain.errors import InvalidData
from engine.domain.messages import Message
from engine.forms.excel_cells import CellError
from engine.forms.messages import msg

MAX_UNPACKED_BYTES = 30 * 1024 * 1024  # all parts of the zip together, decompressed
MAX_PARTS = 1000
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MACRO_MARKERS = (b"macroenabled", b"vbaproject", b"macrosheet")

EMPTY_FILE = msg("Tệp rỗng.", "The file is empty.")
NOT_XLSX = msg("Tệp không phải bảng tính Excel .xlsx hợp lệ.", "The file is not a valid Excel .xlsx workbook.")
OLE_FILE = msg("Tệp có định dạng Excel 97–2003 (.xls) hoặc đã đặt mật khẩu; hãy mở bằng Excel, bỏ mật khẩu "
               "và lưu lại dạng .xlsx.",
               "The file is an Excel 97–2003 (.xls) or password-protected workbook; open it in Excel, remove "
               "the password and save it as .xlsx.")
MACRO = msg("Tệp chứa macro, không được chấp nhận.", "The file contains macros, which are not accepted.")
UNPACKED_TOO_LARGE = msg("Nội dung giải nén của tệp quá lớn.", "The file's unpacked content is too large.")
DECLARATION = msg("Tệp chứa khai báo XML (DOCTYPE/ENTITY), không được chấp nhận.",
                  "The file contains XML declarations (DOCTYPE/ENTITY), which are not accepted.")


def _too_large(limit: int) -> Message:
    size = f"{limit / (1024 * 1024):g} MB"
    return msg(f"Tệp quá lớn (tối đa {size}).", f"The file is too large (at most {size}).")


def refuse(message: Message) -> InvalidData:
    """The error for a whole file: the message, once more as a detail without row or column."""
    return InvalidData(message, [CellError("", "", message)])


def check_package(content: bytes, max_bytes: int) -> None:
    """A real .xlsx of bounded size, without macros or XML declarations; InvalidData otherwise."""
    if not content:
        raise refuse(EMPTY_FILE)
    if len(content) > max_bytes:
        raise refuse(_too_large(max_bytes))
    if content.startswith(_OLE_MAGIC):
        raise refuse(OLE_FILE)
    if not content.startswith(b"PK\x03\x04"):
        raise refuse(NOT_XLSX)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            _check_parts(archive)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, ValueError, EOFError, OSError):
        raise refuse(NOT_XLSX) from None


def _check_parts(archive: zipfile.ZipFile) -> None:
    parts = archive.infolist()
    names = {part.filename.lower() for part in parts}
    if len(parts) > MAX_PARTS:
        raise refuse(NOT_XLSX)
    if any(name.endswith("vbaproject.bin") or name.startswith("xl/macrosheets/") for name in names):
        raise refuse(MACRO)
    if "xl/workbook.xml" not in names or "[content_types].xml" not in names:
        raise refuse(NOT_XLSX)
    if sum(part.file_size for part in parts) > MAX_UNPACKED_BYTES:
        raise refuse(UNPACKED_TOO_LARGE)
    unpacked = 0
    for part in parts:
        tail = b""
        with archive.open(part) as stream:  # the declared sizes may lie: count what comes out
            while chunk := stream.read(64 * 1024):
                unpacked += len(chunk)
                if unpacked > MAX_UNPACKED_BYTES:
                    raise refuse(UNPACKED_TOO_LARGE)
                window = (tail + chunk).lower()
                if b"<!doctype" in window or b"<!entity" in window:
                    raise refuse(DECLARATION)
                if part.filename.lower() == "[content_types].xml" and any(m in window for m in _MACRO_MARKERS):
                    raise refuse(MACRO)
                tail = window[-16:]
