"""Parsing XML that comes from people (BPMN, DMN, the parts of DOCX templates): no DTD, no entities,
no network, bounded size. Every untrusted XML read in the engine goes through `parse_xml`."""
from __future__ import annotations

from lxml import etree

from engine.domain.messages import Message

MAX_XML_BYTES = 2 * 1024 * 1024


class XmlRefused(ValueError):
    """The file is not XML we accept (too big, DOCTYPE/entities, malformed)."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.vi)
        self.message = message


_DOCTYPE = Message("Tệp chứa khai báo DOCTYPE/ENTITY, không được chấp nhận",
                   "The file contains a DOCTYPE/ENTITY declaration, which is refused")


def parse_xml(content: bytes, max_bytes: int = MAX_XML_BYTES) -> etree._ElementTree:
    """Parse untrusted XML: no DTD, no entities, no network, bounded size."""
    if len(content) > max_bytes:
        raise XmlRefused(Message(f"Tệp vượt quá {max_bytes // 1024} KB",
                                 f"The file exceeds {max_bytes // 1024} KB"))
    upper = content.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise XmlRefused(_DOCTYPE)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_pis=True,
    )
    try:
        tree = etree.ElementTree(etree.fromstring(content, parser))
    except etree.XMLSyntaxError as exc:
        raise XmlRefused(Message(f"XML không hợp lệ: {exc}", f"Malformed XML: {exc}")) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlRefused(_DOCTYPE)
    return tree
