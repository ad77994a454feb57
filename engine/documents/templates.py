"""Checks of an uploaded DOCX template that trust nothing in it.

A template is a zip written by Word. Before python-docx or docxtpl open it we check its size, then
the package (engine.ooxml: a zip holding `word/document.xml`, bounded entries and unpacked size,
no macros or active content, no DOCTYPE/ENTITY), then that every XML part parses with the
hardened parser (engine.safe_xml: no DTD, no entities, no network). Then the Jinja tags are parsed
and compiled in the sandbox the renderer uses, and attributes starting with "_" (the way out of a
sandbox) are refused by name. Problems come back as bilingual `Message`s.
"""
from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterator

from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError, nodes

from engine.documents.render import environment
from engine.domain.messages import Message
from engine.ooxml import PackageRefused, Refusal, read_package
from engine.safe_xml import XmlRefused, parse_xml

#: Largest template file accepted, in bytes (a letter with a logo is well under 1 MB).
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
#: Largest total size of the zip's entries once inflated.
MAX_UNCOMPRESSED_BYTES = 40 * 1024 * 1024
#: Most entries a template zip may hold.
MAX_ENTRIES = 500
_NAME = re.compile(r"^[\w][\w .()-]{0,200}\.docx$")
_PARTS = {"document": ("phần thân", "body"), "header": ("đầu trang", "header"),
          "footer": ("chân trang", "footer")}


def valid_name(name: str) -> bool:
    """A template is named by a bare file name ending in .docx (no folders, no "..")."""
    return bool(_NAME.match(name)) and ".." not in name


def _unsafe_part(name: str, reason: str) -> Message:
    return Message(f"Phần {name} của tệp mẫu không phải XML an toàn ({reason})",
                   f"Part {name} of the template is not safe XML ({reason})")


_NOT_DOCX = Message("Tệp mẫu không phải tệp Word .docx (không đọc được dạng nén zip)",
                    "The template is not a Word .docx file (not a readable zip)")
_BOMB = Message("Tệp mẫu giải nén ra quá lớn (nghi tệp nén độc hại – zip bomb)",
                "The template inflates to too much data (suspected zip bomb)")
_REFUSALS = {
    Refusal.OLE: _NOT_DOCX, Refusal.NOT_ZIP: _NOT_DOCX, Refusal.TOO_MANY_PARTS: _BOMB,
    Refusal.TOO_LARGE_UNPACKED: _BOMB,
    Refusal.MISSING_PART: Message("Tệp mẫu thiếu phần word/document.xml: không phải văn bản Word",
                                  "The template has no word/document.xml: not a Word document"),
    Refusal.MACRO: Message("Tệp mẫu chứa macro hoặc nội dung tự chạy (VBA, ActiveX): không được chấp nhận; "
                           "hãy lưu lại dạng .docx thường",
                           "The template contains macros or active content (VBA, ActiveX): refused; "
                           "save it as a plain .docx"),
}


def _package_problems(content: bytes, max_bytes: int) -> list[Message]:
    """Size, zip structure, zip bomb, macros and XML safety (engine.ooxml, engine.safe_xml), without python-docx."""
    if len(content) > max_bytes:
        return [Message(f"Tệp mẫu vượt quá {max_bytes // 1024} KB", f"The template exceeds {max_bytes // 1024} KB")]
    try:
        parts = read_package(content, required="word/document.xml", max_parts=MAX_ENTRIES,
                             max_unpacked=MAX_UNCOMPRESSED_BYTES, keep=lambda name: name.endswith((".xml", ".rels")))
    except PackageRefused as refused:
        if refused.reason is Refusal.DECLARATION:
            return [_unsafe_part(refused.part, "DOCTYPE/ENTITY")]
        return [_REFUSALS[refused.reason]]
    for name, xml in parts.items():
        try:
            parse_xml(xml, max_bytes=MAX_UNCOMPRESSED_BYTES)
        except XmlRefused as exc:
            return [_unsafe_part(name, exc.message.en)]
    return []


def _jinja_sources(content: bytes) -> Iterator[tuple[str, str]]:
    """The text docxtpl hands to Jinja, per part: body, then headers and footers.

    Like docxtpl, each paragraph starts a line, so Jinja's line numbers point at paragraphs.
    """
    template = DocxTemplate(io.BytesIO(content))
    template.init_docx()
    parts = [("document", template.get_xml())]
    for kind, uri in (("header", template.HEADER_URI), ("footer", template.FOOTER_URI)):
        parts += [(kind, template.get_part_xml(part)) for _key, part in template.get_headers_footers(uri)]
    for kind, xml in parts:
        yield kind, re.sub(r"<w:p([ >])", r"\n<w:p\1", template.patch_xml(xml))


def _near(source: str, lineno: int | None) -> str:
    """The Word text around a Jinja error: docxtpl puts each paragraph on its own line."""
    lines = source.splitlines()
    if not lineno or lineno > len(lines):
        return ""
    text = re.sub(r"<[^>]+>", "", lines[lineno - 1]).strip()
    return text[:120]


def _private_access(tree: nodes.Template) -> str | None:
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(getattr(node, "arg", None), "value", None)
        if isinstance(name, str) and name.startswith("_"):
            return name
    return None


def _turns_escaping_off(tree: nodes.Template) -> bool:
    """`{% autoescape false %}` would let form data write raw Word XML into the document."""
    return any(option.key == "autoescape" for modifier in tree.find_all(nodes.EvalContextModifier)
               for option in modifier.options)


def _jinja_problems(content: bytes) -> list[Message]:
    env = environment()
    problems: list[Message] = []
    try:
        sources = list(_jinja_sources(content))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds on a package it cannot read
        return [Message(f"Word không mở được tệp mẫu ({type(exc).__name__}: {exc})",
                        f"The template cannot be opened as a Word document ({type(exc).__name__}: {exc})")]
    for kind, source in sources:
        where_vi, where_en = _PARTS[kind]
        try:
            tree = env.parse(source)
            env.compile(tree)  # unknown filters and tests show up only when compiling
        except TemplateSyntaxError as exc:
            near = _near(source, exc.lineno)
            near_vi = f", gần đoạn «{near}»" if near else ""
            near_en = f", near «{near}»" if near else ""
            problems.append(Message(f"Mẫu có lỗi cú pháp thẻ {{{{ }}}}/{{% %}} ở {where_vi}{near_vi}: {exc.message}",
                                    f"The template has a {{{{ }}}}/{{% %}} syntax error in the {where_en}"
                                    f"{near_en}: {exc.message}"))
            continue
        if _turns_escaping_off(tree):
            problems.append(Message(f"Mẫu tắt tự động thoát ký tự ({{% autoescape %}}) ở {where_vi}: không được phép",
                                    f"The template turns escaping off ({{% autoescape %}}) in the {where_en}: "
                                    "not allowed"))
        private = _private_access(tree)
        if private:
            problems.append(Message(f"Mẫu truy cập thuộc tính nội bộ «{private}» ở {where_vi}: không được phép",
                                    f"The template reaches the internal attribute «{private}» in the {where_en}: "
                                    "not allowed"))
    return problems


def check_template(content: bytes, max_bytes: int = MAX_TEMPLATE_BYTES) -> list[Message]:
    """Every reason this DOCX cannot serve as a document template; empty when it can."""
    if len(content) > max_bytes:
        return _package_problems(content, max_bytes)
    return list(_content_problems(content))


@functools.lru_cache(maxsize=32)
def _content_problems(content: bytes) -> tuple[Message, ...]:
    """The checks below the size limit; the same bytes always give the same answer, so publishing
    again (or procedures sharing a template) checks a template once per process."""
    return tuple(_package_problems(content, len(content)) or _jinja_problems(content))
