"""Word files in tests: a DOCX typed the way an administrator would, and the text a reader sees."""
from __future__ import annotations

import io

from docx import Document


def word_file(*texts: str) -> bytes:
    """A Word file with one paragraph per text (as an administrator would type tags in Word)."""
    document = Document()
    for text in texts:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_text(content: bytes) -> str:
    """Every paragraph and table cell of a DOCX, one per line."""
    document = Document(io.BytesIO(content))
    lines = [p.text for p in document.paragraphs]
    lines += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(lines)
