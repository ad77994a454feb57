"""File fields (form-js `filepicker`): the kinds of file accepted, read from `accept`, told by their bytes.

A filepicker's value in the form data is a list of uploaded files, each `{"ref", "name", "size",
"type"}`; the file itself is stored once by the upload (engine.services.attachments) and the data
only point at it. Which kind a file is comes from its first bytes (and for DOCX/XLSX from the
package inside), never from its name or the browser's word; the name's extension must agree.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypedDict

from engine.domain.messages import Message
from engine.forms.messages import msg
from engine.ooxml import OLE_MAGIC, PackageRefused, Refusal, read_package

FILE_TYPE = "filepicker"
#: Files one filepicker may hold (with `multiple: true`).
MAX_FILES_PER_FIELD = 20
#: Longest file name kept (the database column's size).
MAX_NAME_LENGTH = 255
#: Longest `ref` a form value may carry (refs are made by the upload, 32 characters).
MAX_REF_LENGTH = 64


@dataclass(frozen=True)
class FileKind:
    """One accepted kind of file: its canonical MIME type, the extensions it may carry, its name."""

    code: str
    mime: str
    extensions: tuple[str, ...]
    label: str


PDF = FileKind("pdf", "application/pdf", (".pdf",), "PDF")
JPEG = FileKind("jpeg", "image/jpeg", (".jpg", ".jpeg"), "JPEG")
PNG = FileKind("png", "image/png", (".png",), "PNG")
DOCX = FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                (".docx",), "Word (.docx)")
XLSX = FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                (".xlsx",), "Excel (.xlsx)")
#: Every kind, in the order messages list them.
KINDS: tuple[FileKind, ...] = (PDF, JPEG, PNG, DOCX, XLSX)
BY_MIME = {kind.mime: kind for kind in KINDS}

#: Recordings of the hotline's calls (engine.services.hotline_console): never accepted by a form's file field.
MP3 = FileKind("mp3", "audio/mpeg", (".mp3",), "MP3")
WAV = FileKind("wav", "audio/wav", (".wav",), "WAV")
OGG = FileKind("ogg", "audio/ogg", (".ogg",), "OGG")
M4A = FileKind("m4a", "audio/mp4", (".m4a",), "M4A")
AUDIO_KINDS: tuple[FileKind, ...] = (MP3, WAV, OGG, M4A)

# What a form's `accept` may name (the HTML accept attribute's tokens, lower-cased).
_ACCEPT_TOKENS: dict[str, frozenset[FileKind]] = {
    **{ext: frozenset({kind}) for kind in KINDS for ext in kind.extensions},
    **{kind.mime: frozenset({kind}) for kind in KINDS},
    "image/*": frozenset({JPEG, PNG}),
}
SUPPORTED_TEXT = ", ".join(sorted(_ACCEPT_TOKENS))


def accepted_kinds(accept: object) -> frozenset[FileKind] | None:
    """The kinds a filepicker's `accept` allows (every kind when absent or empty); None if unusable."""
    if accept is None:
        return frozenset(KINDS)
    if not isinstance(accept, str):
        return None
    tokens = [token.strip().lower() for token in accept.split(",") if token.strip()]
    if not tokens:
        return frozenset(KINDS)
    kinds: set[FileKind] = set()
    for token in tokens:
        if token not in _ACCEPT_TOKENS:
            return None
        kinds |= _ACCEPT_TOKENS[token]
    return frozenset(kinds)


def field_kinds(field: dict) -> frozenset[FileKind]:
    """The kinds a file field of a checked schema accepts."""
    return accepted_kinds(field.get("accept")) or frozenset(KINDS)


def kinds_text(kinds: frozenset[FileKind]) -> str:
    """“PDF, JPEG, PNG” in the fixed order."""
    return ", ".join(kind.label for kind in KINDS if kind in kinds)


# ---------------------------------------------------------------- names


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


def clean_name(raw: str) -> str:
    """The file's base name without path, control characters or surrounding dots and spaces."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", name).strip(" .")
    if len(name) <= MAX_NAME_LENGTH:
        return name
    suffix = extension(name)
    suffix = suffix if len(suffix) <= 10 else ""  # shorten the stem, keep the extension
    return name[:MAX_NAME_LENGTH - len(suffix)].rstrip(" .") + suffix


def extension(name: str) -> str:
    return name[name.rfind("."):].lower() if "." in name else ""


# ---------------------------------------------------------------- content


NOT_SUPPORTED = msg("Loại tệp không được hỗ trợ: chỉ nhận PDF, JPEG, PNG, Word (.docx) và Excel (.xlsx).",
                    "Unsupported file type: only PDF, JPEG, PNG, Word (.docx) and Excel (.xlsx) are accepted.")
OLE_FILE = msg("Tệp Word/Excel đời cũ (.doc, .xls) hoặc có mật khẩu không được nhận; hãy lưu lại thành "
               ".docx/.xlsx không đặt mật khẩu.",
               "Old-format (.doc, .xls) or password-protected Word/Excel files are not accepted; "
               "save it as .docx/.xlsx without a password.")
MACRO_FILE = msg("Tệp chứa macro hoặc nội dung thực thi nên không được nhận.",
                 "The file contains macros or active content and is not accepted.")
BROKEN_PACKAGE = msg("Tệp Word/Excel bị hỏng hoặc không đúng định dạng.",
                     "The Word/Excel file is damaged or not in the expected format.")

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PDF_MAGIC = b"%PDF-"
_ZIP_MAGIC = b"PK\x03\x04"
#: Parts a scanned dossier's Word or Excel file may hold, and what they may unpack to
#: (per byte uploaded: images do not compress, text does about tenfold).
_MAX_PARTS = 5000
_UNPACK_FACTOR = 20


class FileRefused(ValueError):
    """A file that cannot be attached; `message` says why in both languages."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.vi)
        self.message = message


def detect(content: bytes) -> FileKind:
    """The kind of file the bytes are, by their signature; FileRefused otherwise."""
    if content.startswith(_PDF_MAGIC):
        return PDF
    if content.startswith(_PNG_MAGIC):
        return PNG
    if content.startswith(_JPEG_MAGIC):
        return JPEG
    if content.startswith(OLE_MAGIC):
        raise FileRefused(OLE_FILE)
    if content.startswith(_ZIP_MAGIC):
        return _office_kind(content)
    raise FileRefused(NOT_SUPPORTED)


NOT_AUDIO = msg("Tệp ghi âm không được hỗ trợ: chỉ nhận MP3, WAV, OGG hoặc M4A.",
                "Unsupported recording: only MP3, WAV, OGG or M4A files are accepted.")
#: ISO base media brands of an audio-only MPEG-4 file (.m4a) as recorders and phone systems write them.
_M4A_BRANDS = frozenset({b"M4A ", b"M4B ", b"mp41", b"mp42", b"isom", b"iso2"})


def detect_audio(content: bytes) -> FileKind:
    """The kind of recording the bytes are, by their signature; FileRefused otherwise."""
    if content.startswith(b"RIFF") and content[8:12] == b"WAVE":
        return WAV
    if content.startswith(b"OggS"):
        return OGG
    if content[4:8] == b"ftyp" and content[8:12] in _M4A_BRANDS:
        return M4A
    if content.startswith(b"ID3") or _mpeg_frame(content):
        return MP3
    raise FileRefused(NOT_AUDIO)


def _mpeg_frame(content: bytes) -> bool:
    """An MP3 without a tag starts with a frame: 11 sync bits, then a layer that is not 00 (that is AAC)."""
    return len(content) >= 2 and content[0] == 0xFF and content[1] & 0xE0 == 0xE0 and content[1] & 0x06 != 0


def _office_kind(content: bytes) -> FileKind:
    """DOCX or XLSX by the main part the package holds; macros, bombs and XML declarations refused."""
    max_unpacked = max(len(content) * _UNPACK_FACTOR, 1 << 20)
    for kind, main_part in ((DOCX, "word/document.xml"), (XLSX, "xl/workbook.xml")):
        try:
            read_package(content, required=main_part, max_parts=_MAX_PARTS, max_unpacked=max_unpacked)
        except PackageRefused as exc:
            if exc.reason is Refusal.MISSING_PART:
                continue
            if exc.reason is Refusal.MACRO:
                raise FileRefused(MACRO_FILE) from None
            if exc.reason is Refusal.OLE:
                raise FileRefused(OLE_FILE) from None
            raise FileRefused(BROKEN_PACKAGE) from None
        return kind
    raise FileRefused(NOT_SUPPORTED)


# ---------------------------------------------------------------- form values


class FileValue(TypedDict):
    """One file in a filepicker's value, as the upload answers it and the form data keep it."""

    ref: str
    name: str
    size: int
    type: str


#: Finds uploaded files by ref: the ones this submission may use (of this dossier, uploaded for
#: this task or already in its data), as their form values; any other ref is left out.
FileLookup = Callable[[frozenset[str]], Mapping[str, FileValue]]

FILES_NOT_LIST = msg("Giá trị của trường tệp phải là danh sách các tệp đã tải lên.",
                     "A file field's value must be a list of uploaded files.")
BAD_FILE_VALUE = msg("Mỗi tệp đính kèm phải có mã tham chiếu (ref) do máy chủ cấp khi tải lên.",
                     "Each attached file must carry the reference (ref) the server gave on upload.")
DUPLICATE_FILE = msg("Một tệp được đính kèm hai lần.", "A file is attached twice.")
ONE_FILE_ONLY = msg("Trường này chỉ nhận một tệp.", "This field takes a single file.")
UNKNOWN_FILE = msg("Tệp đính kèm không tồn tại hoặc không thuộc hồ sơ và bước xử lý này; hãy tải tệp lên lại.",
                   "An attached file does not exist or does not belong to this dossier and step; upload it again.")


def too_many_files(n: int) -> Message:
    return msg(f"Tối đa {n} tệp.", f"At most {n} files.")


def wrong_kind(kinds: frozenset[FileKind]) -> Message:
    text = kinds_text(kinds)
    return msg(f"Trường này chỉ nhận tệp {text}.", f"This field only accepts {text} files.")


def file_field(schema: dict | None, field_id: str, key: str) -> dict | None:
    """The form's filepicker with this component id, else the one with this key (ids may be missing)."""
    found: list[dict] = []
    stack: list[object] = [(schema or {}).get("components")]
    while stack:
        components = stack.pop()
        for comp in components if isinstance(components, list) else []:
            if isinstance(comp, dict) and comp.get("type") == FILE_TYPE:
                found.append(comp)
            elif isinstance(comp, dict):
                stack.append(comp.get("components"))
    by_id = [c for c in found if field_id and c.get("id") == field_id]
    by_key = [c for c in found if key and c.get("key") == key]
    return by_id[0] if by_id else by_key[0] if len(by_key) == 1 else None
