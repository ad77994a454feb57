"""Office Open XML packages (.docx templates, .xlsx lists) uploaded by people, checked before any
library opens them.

A package is a zip. `read_package` refuses, with a `Refusal` reason each caller words for its own
users: an OLE file (.xls/.doc, or a password-protected workbook), anything that is not a zip, too
many parts, more unpacked data than allowed (the declared sizes first, then what really comes out,
since the directory may lie), macros or active content (VBA, ActiveX, Excel 4 macro sheets, in the
parts or in the content types), a missing required part, and any part that declares a DOCTYPE or
an ENTITY (the XML attacks; lxml never sees them).
"""
from __future__ import annotations

import enum
import io
import re
import zipfile
import zlib
from collections.abc import Callable

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CONTENT_TYPES = "[content_types].xml"
#: Parts that carry macros or active content.
MACRO_PART = re.compile(r"(^|/)(vbaproject\.bin|vbadata\.xml)$|(^|/)activex/|^xl/macrosheets/")
#: The same, as named in [Content_Types].xml (compared in lower case).
MACRO_TYPES = (b"macroenabled", b"vbaproject", b"vbadata", b"activex", b"macrosheet")
_DECLARATIONS = (b"<!doctype", b"<!entity")
_CHUNK = 64 * 1024


class Refusal(enum.Enum):
    OLE = "ole"
    NOT_ZIP = "not_zip"
    TOO_MANY_PARTS = "too_many_parts"
    TOO_LARGE_UNPACKED = "too_large_unpacked"
    MACRO = "macro"
    MISSING_PART = "missing_part"
    DECLARATION = "declaration"


class PackageRefused(ValueError):
    def __init__(self, reason: Refusal, part: str = "") -> None:
        super().__init__(f"{reason.value} {part}".strip())
        self.reason = reason
        #: The part at fault, where one is (a declaration).
        self.part = part


def _never(_name: str) -> bool:
    return False


def read_package(content: bytes, *, required: str, max_parts: int, max_unpacked: int,
                 keep: Callable[[str], bool] = _never) -> dict[str, bytes]:
    """Check the package; return the parts `keep` asks for (by their name in the zip).

    `required` is the part that makes the package what it claims to be (`word/document.xml`,
    `xl/workbook.xml`); [Content_Types].xml is always required. Raises PackageRefused.
    """
    if content.startswith(OLE_MAGIC):
        raise PackageRefused(Refusal.OLE)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return _read(archive, required.lower(), max_parts, max_unpacked, keep)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError,
            EOFError, OSError):
        raise PackageRefused(Refusal.NOT_ZIP) from None
    except ValueError as exc:
        if isinstance(exc, PackageRefused):
            raise
        raise PackageRefused(Refusal.NOT_ZIP) from None


def _read(archive: zipfile.ZipFile, required: str, max_parts: int, max_unpacked: int,
          keep: Callable[[str], bool]) -> dict[str, bytes]:
    parts = archive.infolist()
    names = {part.filename.lower() for part in parts}
    if len(parts) > max_parts:
        raise PackageRefused(Refusal.TOO_MANY_PARTS)
    if sum(part.file_size for part in parts) > max_unpacked:
        raise PackageRefused(Refusal.TOO_LARGE_UNPACKED)
    if any(MACRO_PART.search(name) for name in names):
        raise PackageRefused(Refusal.MACRO)
    if required not in names or CONTENT_TYPES not in names:
        raise PackageRefused(Refusal.MISSING_PART)
    kept: dict[str, bytes] = {}
    unpacked = 0
    for part in parts:
        wanted = keep(part.filename)
        chunks: list[bytes] = []
        tail = b""
        with archive.open(part) as stream:
            while chunk := stream.read(_CHUNK):
                unpacked += len(chunk)
                if unpacked > max_unpacked:
                    raise PackageRefused(Refusal.TOO_LARGE_UNPACKED)
                window = (tail + chunk).lower()
                if any(marker in window for marker in _DECLARATIONS):
                    raise PackageRefused(Refusal.DECLARATION, part.filename)
                if part.filename.lower() == CONTENT_TYPES and any(t in window for t in MACRO_TYPES):
                    raise PackageRefused(Refusal.MACRO)
                tail = window[-16:]
                if wanted:
                    chunks.append(chunk)
        if wanted:
            kept[part.filename] = b"".join(chunks)
    return kept
