"""The uploaded file itself: a real .xlsx of bounded size, with no macros and no XML declarations.

Checked (engine.ooxml) before openpyxl parses anything, since the file comes from a browser and
may be anything renamed to .xlsx; this module words the refusals for people filling a list.
"""
from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from openpyxl import load_workbook

from engine.domain.errors import InvalidData
from engine.domain.messages import Message
from engine.forms.excel_cells import CellError
from engine.forms.messages import msg
from engine.ooxml import OLE_MAGIC, PackageRefused, Refusal, read_package

MAX_UNPACKED_BYTES = 30 * 1024 * 1024  # all parts of the zip together, decompressed
MAX_PARTS = 1000

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


_MESSAGES = {Refusal.OLE: OLE_FILE, Refusal.NOT_ZIP: NOT_XLSX, Refusal.TOO_MANY_PARTS: NOT_XLSX,
             Refusal.TOO_LARGE_UNPACKED: UNPACKED_TOO_LARGE, Refusal.MACRO: MACRO,
             Refusal.MISSING_PART: NOT_XLSX, Refusal.DECLARATION: DECLARATION}


def check_package(content: bytes, max_bytes: int) -> None:
    """A real .xlsx of bounded size, without macros or XML declarations; InvalidData otherwise."""
    if not content:
        raise refuse(EMPTY_FILE)
    if len(content) > max_bytes:
        raise refuse(_too_large(max_bytes))
    if not content.startswith((OLE_MAGIC, b"PK\x03\x04")):
        raise refuse(NOT_XLSX)
    try:
        read_package(content, required="xl/workbook.xml", max_parts=MAX_PARTS, max_unpacked=MAX_UNPACKED_BYTES)
    except PackageRefused as refused:
        raise refuse(_MESSAGES[refused.reason]) from None


T = TypeVar("T")


def read_book(content: bytes, read: Callable[[Any], T]) -> T:
    """Open an uploaded workbook (checked by check_package first) read-only, formulas as written and without
    external links, and read it with `read`. Whatever openpyxl trips on is the file's fault: refused as not an
    .xlsx workbook; InvalidData from `read` passes through."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about features of other tools it drops
        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=False, keep_links=False)
        except Exception:  # noqa: BLE001 - whatever the parser trips on is the file's fault
            raise refuse(NOT_XLSX) from None
        try:
            return read(book)
        except InvalidData:
            raise
        except Exception:  # noqa: BLE001 - as above
            raise refuse(NOT_XLSX) from None
        finally:
            book.close()
