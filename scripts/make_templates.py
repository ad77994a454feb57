"""Generates the shipped DOCX templates in processes/templates/ (layout of Nghị định 30/2020, Phụ lục I).

Run `python -m scripts.make_templates` after changing this file, and commit the .docx files:
administrators edit those in Word afterwards (docs/documents.md). The output is byte-for-byte
reproducible (fixed zip and document dates), so regenerating an unchanged layout does not make a
new procedure version.

Layout: A4, margins 20/20/30/15 mm (top, bottom, left, right), Times New Roman; a borderless
two-column header table (cơ quan chủ quản over cơ quan ban hành with a short rule, "Số: …" and,
for a công văn, the trích yếu "V/v …" under it | Quốc hiệu, tiêu ngữ with a rule, địa danh and
date in italics); for thông báo/báo cáo the type name in bold capitals and the trích yếu centred;
"Kính gửi"; body; tables with docxtpl row loops (`{%tr for r in rows %}`); a borderless footer table
(Nơi nhận | quyền hạn, chức vụ, space for the signature, name).
"""
from __future__ import annotations

import argparse
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

FONT = "Times New Roman"
TEXT_WIDTH_CM = 16.5  # A4 210 mm − 30 mm − 15 mm
# Header columns: 17.9 cm, centred, so 7 mm into each side margin (as offices do) and the names of
# the bodies and the Quốc hiệu each fit on one line.
LEFT_CM, RIGHT_CM = 8.3, 9.6
FIXED_TIME = datetime(2026, 1, 1, 0, 0, 0)
OUT = Path(__file__).resolve().parent.parent / "processes" / "templates"

Container = DocumentObject | _Cell


# ---------------------------------------------------------------- low-level helpers

#: What may follow w:pBdr and w:rPr inside w:pPr: Word refuses elements out of schema order.
_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
               "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
               "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
               "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
               "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
_AFTER_RPR = ("w:sectPr", "w:pPrChange")


def _fonts(run_properties: Any) -> None:
    """Times New Roman for every script Word knows (Vietnamese uses the ASCII/hAnsi slots)."""
    fonts = run_properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        run_properties.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(slot), FONT)


def para(where: Container, text: str = "", *, size: float = 14, bold: bool = False, italic: bool = False,
         align: str = "justify", indent_first: float = 0.0, after: float = 6, before: float = 0,
         left: float = 0.0, right: float = 0.0, line: float | None = None) -> Paragraph:
    """One paragraph of one run, formatted the way the decree asks."""
    paragraph = where.add_paragraph()
    paragraph.alignment = {"justify": WD_ALIGN_PARAGRAPH.JUSTIFY, "center": WD_ALIGN_PARAGRAPH.CENTER,
                           "left": WD_ALIGN_PARAGRAPH.LEFT, "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
    fmt = paragraph.paragraph_format
    fmt.space_after, fmt.space_before = Pt(after), Pt(before)
    fmt.first_line_indent = Cm(indent_first) if indent_first else None
    fmt.left_indent = Cm(left) if left else None
    fmt.right_indent = Cm(right) if right else None
    if line is not None:
        fmt.line_spacing = line
    if text:
        run = paragraph.add_run(text)
        run.font.size, run.font.bold, run.font.italic, run.font.name = Pt(size), bold, italic, FONT
        _fonts(run._element.get_or_add_rPr())
    _mark_size(paragraph, size)
    return paragraph


def _mark_size(paragraph: Paragraph, size: float) -> None:
    """The paragraph mark's size sets an empty paragraph's height (used for the short rules)."""
    p_pr = paragraph._p.get_or_add_pPr()
    r_pr = p_pr.find(qn("w:rPr"))
    if r_pr is None:
        r_pr = OxmlElement("w:rPr")
        p_pr.insert_element_before(r_pr, *_AFTER_RPR)
    _fonts(r_pr)
    for tag in ("w:sz", "w:szCs"):
        element = OxmlElement(tag)
        element.set(qn("w:val"), str(round(size * 2)))
        r_pr.append(element)


def tag(where: Container, text: str) -> Paragraph:
    """A docxtpl paragraph tag ({%p … %}): the paragraph disappears when the document is made."""
    return para(where, text, size=11, after=0, align="left")


def gap(where: Container, size: float) -> Paragraph:
    """An empty paragraph of `size` points: the space between blocks."""
    return para(where, "", size=size, after=0)


def rule(where: Container, width_cm: float, column_cm: float) -> Paragraph:
    """A short horizontal line, centred: an empty 2 pt paragraph with a bottom border."""
    side = max((column_cm - 0.4 - width_cm) / 2, 0)
    paragraph = para(where, "", size=2, after=0, before=2, align="center", left=side, right=side)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().insert_element_before(borders, *_AFTER_PBDR)
    return paragraph


def first_paragraph(cell: _Cell, text: str, **style: object) -> Paragraph:
    """Write into the paragraph a new cell already has, so the cell has no blank first line."""
    paragraph = cell.paragraphs[0]
    paragraph._p.getparent().remove(paragraph._p)
    return para(cell, text, **style)  # type: ignore[arg-type]


def _widths(table: Table, widths: Sequence[float]) -> None:
    table.autofit = False
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(int(Cm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)


def _fixed(table: Table, widths: Sequence[float], indent_cm: float = 0.0) -> None:
    """A fixed-layout table of exactly these widths, shifted by `indent_cm` (negative: into the margin)."""
    _widths(table, widths)
    tbl_pr = table._tbl.tblPr
    for tag_name, attrs in (("w:tblW", {"w:w": str(int(Cm(sum(widths)).twips)), "w:type": "dxa"}),
                            ("w:tblInd", {"w:w": str(int(Cm(indent_cm).twips)), "w:type": "dxa"}),
                            ("w:tblLayout", {"w:type": "fixed"})):
        element = tbl_pr.find(qn(tag_name))
        if element is None:
            element = OxmlElement(tag_name)
            tbl_pr.insert_element_before(element, "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd",
                                         "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
                                         "w:tblDescription", "w:tblPrChange")
        for key, value in attrs.items():
            element.set(qn(key), value)


def _repeat_header(table: Table) -> None:
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _no_break(table: Table) -> None:
    """Keep each row on one page (a signature block must not split)."""
    for row in table.rows:
        element = OxmlElement("w:cantSplit")
        row._tr.get_or_add_trPr().append(element)


# ---------------------------------------------------------------- document parts

def new_document(title: str) -> DocumentObject:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(14)
    _fonts(normal.element.get_or_add_rPr())
    normal.paragraph_format.space_after = Pt(6)
    props = document.core_properties
    props.title, props.author, props.last_modified_by, props.comments = title, "", "", ""
    props.subject, props.keywords, props.category = "", "", ""
    props.created = props.modified = props.last_printed = FIXED_TIME
    props.revision = 1
    body = document.element.body
    for paragraph in list(body.iterchildren(qn("w:p"))):  # the default template's empty paragraph
        body.remove(paragraph)
    return document


@dataclass(frozen=True)
class Kind:
    """How a document type shows its name and trích yếu."""

    name: str  # "" for a công văn: its trích yếu goes under the number instead
    default_title: str = ""


def header(document: DocumentObject, kind: Kind) -> None:
    """Cơ quan, Số, Quốc hiệu, tiêu ngữ, địa danh và ngày; for TB/BC the type and the trích yếu."""
    table = document.add_table(rows=2, cols=2)
    _fixed(table, (LEFT_CM, RIGHT_CM), -(LEFT_CM + RIGHT_CM - TEXT_WIDTH_CM) / 2)
    left, right = table.rows[0].cells
    first_paragraph(left, "{{ co_quan.chu_quan|upper }}", size=12, align="center", after=0)
    para(left, "{{ co_quan.ban_hanh|upper }}", size=12, bold=True, align="center", after=0)
    rule(left, 3.0, LEFT_CM)
    first_paragraph(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True, align="center", after=0)
    para(right, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True, align="center", after=0)
    rule(right, 6.0, RIGHT_CM)
    number, date = table.rows[1].cells
    first_paragraph(number, "Số: {{ van_ban.so_ky_hieu }}", size=13, align="center", after=0, before=6)
    if not kind.name:
        para(number, "{{ van_ban.trich_yeu }}", size=12, align="center", after=0)
    first_paragraph(date, "{{ van_ban.dia_danh_ngay }}", size=14, italic=True, align="center", after=0, before=6)
    if kind.name:
        gap(document, 8)
        para(document, kind.name, size=14, bold=True, align="center", after=0, before=12)
        para(document, f"{{{{ van_ban.trich_yeu or '{kind.default_title}' }}}}", size=14, bold=True,
             align="center", after=0)
        rule(document, 3.0, TEXT_WIDTH_CM)
    gap(document, 8)


def kinh_gui(document: DocumentObject, default: str) -> None:
    """"Kính gửi: X." for one recipient; "Kính gửi:" and "- A;" lines for several."""
    tag(document, f"{{%p set ds_kinh_gui = (kinh_gui or {default})|muc %}}")
    tag(document, "{%p if ds_kinh_gui|length > 1 %}")
    para(document, "Kính gửi:", align="left", left=3.0, after=0, before=6)
    tag(document, "{%p for k in ds_kinh_gui %}")
    para(document, "- {{ k }}{{ '.' if loop.last else ';' }}", align="left", left=4.5, after=0)
    tag(document, "{%p endfor %}")
    tag(document, "{%p else %}")
    para(document, "Kính gửi: {{ ds_kinh_gui|first }}.", align="center", after=0, before=6)
    tag(document, "{%p endif %}")
    gap(document, 8)


def lines(document: DocumentObject, expression: str, *, prefix: str = "") -> None:
    """One body paragraph per line of a text variable (first-line indent, justified)."""
    tag(document, f"{{%p for dong_vb in ({expression})|dong %}}")
    para(document, f"{prefix}{{{{ dong_vb }}}}", indent_first=1.27, line=1.15)
    tag(document, "{%p endfor %}")


def body(document: DocumentObject, text: str, **style: object) -> Paragraph:
    style = {"indent_first": 1.27, "line": 1.15, **style}
    return para(document, text, **style)  # type: ignore[arg-type]


def grid_table(document: DocumentObject, rows: int, widths: Sequence[float]) -> Table:
    """A bordered, centred table of fixed column widths."""
    table = document.add_table(rows=rows, cols=len(widths))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, widths)
    return table


def heading_row(table: Table, titles: Sequence[str], size: float) -> None:
    """The first row: column titles in bold, repeated on every page."""
    for cell, title in zip(table.rows[0].cells, titles, strict=True):
        first_paragraph(cell, title, size=size, bold=True, align="center", after=0)
    _repeat_header(table)


def tag_row(table: Table, index: int, text: str, size: float) -> None:
    """A row holding one docxtpl row tag ({%tr … %}): the row disappears when the document is made."""
    first_paragraph(table.rows[index].cells[0], text, size=size, align="left", after=0)


def item_row(table: Table, index: int, values: Sequence[str], size: float) -> None:
    """One row of values, the first (the number) centred."""
    for column, (cell, value) in enumerate(zip(table.rows[index].cells, values, strict=True)):
        first_paragraph(cell, value, size=size, align="center" if column == 0 else "left", after=0)


def data_table(document: DocumentObject, columns: Sequence[tuple[str, float, str]], loop: str,
               *, size: float = 12) -> Table:
    """A bordered table: a header row, then one row per item (`{%tr for … %}` … `{%tr endfor %}`), then a gap."""
    table = grid_table(document, 4, [width for _title, width, _cell in columns])
    heading_row(table, [title for title, _width, _value in columns], size)
    tag_row(table, 1, f"{{%tr {loop} %}}", size)
    item_row(table, 2, [value for _title, _width, value in columns], size)
    tag_row(table, 3, "{%tr endfor %}", size)
    gap(document, 6)
    return table


def signature(document: DocumentObject, *, authority: str, title: str, recipients: str, keep: str) -> None:
    """Nơi nhận on the left; quyền hạn, chức vụ, space for signature and seal, name on the right.

    Without `quyen_han_ky` and `chuc_vu_ky` in the data the defaults are printed; with only
    `quyen_han_ky` (the head signs) no chức vụ line is printed.
    """
    tag(document, f"{{%p set qh_ky = quyen_han_ky or '{authority}' %}}")
    tag(document, f"{{%p set cv_ky = chuc_vu_ky if quyen_han_ky else (chuc_vu_ky or '{title}') %}}")
    gap(document, 8)
    table = document.add_table(rows=1, cols=2)
    _widths(table, (7.4, 9.1))
    _no_break(table)
    left, right = table.rows[0].cells
    first_paragraph(left, "Nơi nhận:", size=12, bold=True, italic=True, align="left", after=0, before=6)
    tag(left, f"{{%p for n in (noi_nhan or {recipients})|muc %}}")
    para(left, "- {{ n }};", size=11, align="left", after=0)
    tag(left, "{%p endfor %}")
    para(left, f"- Lưu: VT, {{{{ luu or {keep} }}}}.", size=11, align="left", after=0)
    first_paragraph(right, "{{ qh_ky|quyen_han }}", size=14, bold=True, align="center", after=0, before=6)
    tag(right, "{%p if cv_ky %}")
    para(right, "{{ cv_ky|upper }}", size=14, bold=True, align="center", after=0)
    tag(right, "{%p endif %}")
    for _line in range(4):  # space for the signature and the seal
        gap(right, 14)
    para(right, "{{ nguoi_ky }}", size=14, bold=True, align="center", after=0)


# ---------------------------------------------------------------- the templates

def email_account_reply() -> DocumentObject:
    """Công văn phúc đáp of procedure email_account (QĐ 810, thủ tục 1, bước 3). Never a password."""
    document = new_document("Công văn phúc đáp đề nghị cấp, thay đổi, thu hồi thư điện tử công vụ")
    header(document, Kind(""))
    kinh_gui(document, "ho_so.don_vi")
    tag(document, "{%p if not noi_dung_phuc_dap %}")
    body(document, "Phúc đáp đề nghị cấp, thay đổi, thu hồi thư điện tử công vụ của {{ ho_so.don_vi }}, "
                   "Sở Thông tin và Truyền thông thông báo kết quả xử lý như sau:")
    tag(document, "{%p endif %}")
    lines(document, "noi_dung_phuc_dap")
    data_table(document, [
        ("STT", 1.4, "{{ r.stt }}"),
        ("Họ và tên / Tên cơ quan", 3.3, "{{ r.ho_ten }}"),
        ("Đơn vị", 2.6, "{{ r.don_vi }}"),
        ("Nội dung đề nghị", 2.4, "{{ r.thao_tac_ten }}"),
        ("Kết quả", 2.6, "{{ r.ket_qua }}"),
        ("Địa chỉ thư điện tử", 4.2, "{{ r.dia_chi }}"),
    ], "for r in rows")
    tag(document, "{%p if rows|selectattr('thao_tac', 'in', ['cap_moi', 'cap_lai_mat_khau'])|list %}")
    body(document, "Mật khẩu khởi tạo được gửi riêng đến từng người sử dụng, không ghi trong văn bản này; "
                   "đề nghị người sử dụng đổi mật khẩu ngay khi đăng nhập lần đầu.")
    tag(document, "{%p endif %}")
    body(document, "Sở Thông tin và Truyền thông phúc đáp để {{ ho_so.don_vi }} biết, thực hiện./.")
    signature(document, authority="KT. GIÁM ĐỐC", title="PHÓ GIÁM ĐỐC", recipients="'Như trên'",
              keep="van_ban.don_vi")
    return document


def thong_bao() -> DocumentObject:
    """Văn bản thông báo: generic text and an optional list of people and results."""
    document = new_document("Văn bản thông báo")
    header(document, Kind("THÔNG BÁO", "Kết quả xử lý hồ sơ"))
    tag(document, "{%p if kinh_gui %}")
    kinh_gui(document, "''")
    tag(document, "{%p endif %}")
    lines(document, "noi_dung")
    tag(document, "{%p if rows %}")
    data_table(document, [
        ("STT", 1.4, "{{ r.stt }}"),
        ("Họ và tên", 3.8, "{{ r.ho_ten }}"),
        ("Thư điện tử", 4.2, "{{ r.email }}"),
        ("Nội dung", 3.3, "{{ r.thao_tac_ten }}"),
        ("Kết quả", 3.8, "{{ r.ket_qua }}"),
    ], "for r in rows")
    tag(document, "{%p endif %}")
    body(document, "{{ ket_luan or 'Thông báo để các cơ quan, đơn vị, cá nhân có liên quan biết, thực hiện./.' }}")
    signature(document, authority="KT. GIÁM ĐỐC", title="PHÓ GIÁM ĐỐC",
              recipients="ho_so.don_vi", keep="van_ban.don_vi")
    return document


def project_software_account_refusal() -> DocumentObject:
    """Công văn trả lời từ chối giải quyết hồ sơ of procedure project_software_account (QĐ 810, thủ tục 2)."""
    document = new_document("Công văn từ chối giải quyết hồ sơ đề nghị cấp tài khoản phần mềm Quản lý tiến độ dự án")
    header(document, Kind(""))
    kinh_gui(document, "ho_so.don_vi")
    body(document, "Sở Thông tin và Truyền thông nhận được Công văn số {{ so_cong_van }}"
                   "{% if ngay_cong_van %} ngày {{ ngay_cong_van|ngay }}{% endif %} của {{ ho_so.don_vi }} về việc "
                   "đề nghị cấp mới, xóa, cập nhật thông tin, đổi mật khẩu tài khoản người dùng phần mềm Quản lý "
                   "tiến độ dự án{% if so_ho_so_mot_cua %} (hồ sơ số {{ so_ho_so_mot_cua }}"
                   "{% if ngay_tiep_nhan %}, tiếp nhận ngày {{ ngay_tiep_nhan|ngay }}{% endif %}){% endif %}.")
    body(document, "Sau khi kiểm tra hồ sơ, Sở Thông tin và Truyền thông từ chối giải quyết hồ sơ với lý do sau:")
    tag(document, "{%p for ly_do in ly_do_tu_choi|muc %}")
    body(document, "- {{ ly_do }}{{ '.' if loop.last else ';' }}")
    tag(document, "{%p endfor %}")
    body(document, "Đơn vị hoàn thiện hồ sơ theo quy định tại Quyết định số 810/QĐ-UBND-HC ngày 03/8/2023 của "
                   "Ủy ban nhân dân tỉnh và nộp lại khi có nhu cầu.")
    body(document, "Sở Thông tin và Truyền thông trả lời để {{ ho_so.don_vi }} biết./.")
    signature(document, authority="KT. GIÁM ĐỐC", title="PHÓ GIÁM ĐỐC", recipients="'Như trên'",
              keep="van_ban.don_vi + ', TTCĐS'")
    return document


def phu_luc_ii() -> DocumentObject:
    """Phụ lục II (QĐ 810, thủ tục 4): kịch bản và danh sách cán bộ kỹ thuật trực hội nghị."""
    document = new_document("Phụ lục II – Thông báo kịch bản và danh sách kỹ thuật trực hội nghị truyền hình")
    header(document, Kind("THÔNG BÁO",
                          "Kịch bản triển khai và danh sách kỹ thuật trực hội nghị truyền hình trực tuyến"))
    kinh_gui(document, "['Sở Thông tin và Truyền thông', don_vi_chu_tri or ho_so.don_vi]")
    lines(document, "can_cu", prefix="- ")
    body(document, "Trung tâm Chuyển đổi số tỉnh Đồng Tháp thông báo kịch bản triển khai hội nghị "
                   "truyền hình trực tuyến như sau:")
    body(document, "Nội dung hội nghị: {{ noi_dung|muc|join('; ') }}.")
    # The procedure gives the level's name in ten_cap_hop (cap_hop is its code, e.g. tinh_huyen_xa).
    body(document, "Thời gian: {{ thoi_gian|muc|join('; ') }}. Cấp họp: {{ ten_cap_hop or cap_hop }}.")
    body(document, "1. Danh sách cán bộ kỹ thuật trực vận hành tại các điểm cầu:", bold=True)
    tag(document, "{%p set nhom_ky_thuat = [('giam_sat_mcu', 'I', 'Giám sát hệ thống MCU'), "
                  "('diem_cau_chinh', 'II', 'Điểm cầu chính'), ('diem_cau_ve_tinh', 'III', 'Điểm cầu vệ tinh')] %}")
    table = grid_table(document, 7, (1.4, 4.3, 3.5, 2.6, 2.7, 2.0))
    heading_row(table, ("Stt", "Điểm cầu", "Tên cán bộ kỹ thuật", "Số điện thoại", "Thời gian", "Ghi chú"), 12)
    tag_row(table, 1, "{%tr for ma_nhom, so_nhom, ten_nhom in nhom_ky_thuat %}", 12)
    group = table.rows[2].cells
    first_paragraph(group[0], "{{ so_nhom }}", size=12, bold=True, align="center", after=0)
    merged = group[1].merge(group[5])
    for paragraph in merged.paragraphs:
        paragraph._p.getparent().remove(paragraph._p)
    para(merged, "{{ ten_nhom }}", size=12, bold=True, align="left", after=0)
    tag_row(table, 3, "{%tr for r in ky_thuat|selectattr('vi_tri', 'equalto', ma_nhom) %}", 12)
    item_row(table, 4, ("{{ loop.index }}", "{{ r.diem_cau }}", "{{ r.ho_ten }}", "{{ r.dien_thoai }}",
                        "{{ r.thoi_gian }}", "{{ r.ghi_chu }}"), 12)
    # Two loops close here: the rows of one group, then the groups (one docxtpl tag per row).
    tag_row(table, 5, "{%tr endfor %}", 12)
    tag_row(table, 6, "{%tr endfor %}", 12)
    gap(document, 6)
    body(document, "2. Dự kiến thời gian vận hành thử:", bold=True)
    data_table(document, [
        ("Stt", 1.4, "{{ r.stt or loop.index }}"),
        ("Lần vận hành thử", 4.6, "{{ r.lan }}"),
        ("Thời gian bắt đầu", 5.5, "{{ r.thoi_gian }}"),
        ("Ghi chú", 5.0, "{{ r.ghi_chu }}"),
    ], "for r in kiem_tra")
    body(document, "Trung tâm Chuyển đổi số tỉnh Đồng Tháp thông báo để các cơ quan, đơn vị liên quan phối hợp./.")
    signature(document, authority="GIÁM ĐỐC", title="", recipients="['Như trên', 'Các cơ quan là điểm cầu']",
              keep="van_ban.don_vi")
    return document


def phu_luc_iii() -> DocumentObject:
    """Phụ lục III (QĐ 810, thủ tục 4): báo cáo sự cố hội nghị truyền hình trực tuyến."""
    document = new_document("Phụ lục III – Báo cáo sự cố hội nghị truyền hình trực tuyến")
    header(document, Kind("BÁO CÁO", "Sự cố hội nghị truyền hình trực tuyến"))
    kinh_gui(document, "'Ban Giám đốc Sở Thông tin và Truyền thông'")
    lines(document, "can_cu", prefix="- ")
    body(document, "Trung tâm Chuyển đổi số tỉnh Đồng Tháp kính báo cáo kết quả triển khai hội nghị truyền hình "
                   "trực tuyến{% if ngay_hop %} vào {{ ngay_hop|ngay_chu }}{% endif %}, như sau:")
    body(document, "1. Nội dung hội nghị: {{ noi_dung|muc|join('; ') }}.")
    body(document, "2. Đơn vị chủ trì hội nghị: {{ don_vi_chu_tri }}.")
    body(document, "3. Thời gian triển khai hệ thống: {{ thoi_gian|muc|join('; ') }}.")
    body(document, "4. Các điểm cầu tham dự:")
    data_table(document, [
        ("Stt", 1.4, "{{ r.stt or loop.index }}"),
        ("Tên cơ quan", 3.9, "{{ r.ten_co_quan }}"),
        ("Điểm cầu", 3.8, "{{ r.diem_cau }}"),
        ("Thiết bị phục vụ hội nghị", 4.4, "{{ r.thiet_bi }}"),
        ("Ghi chú", 3.0, "{{ r.ghi_chu }}"),
    ], "for r in (diem_cau_tham_du or diem_cau)")  # the procedure's report rows; diem_cau holds its endpoints
    body(document, "5. Sự cố xảy ra trong thời gian triển khai hội nghị truyền hình trực tuyến:")
    lines(document, "su_co or 'Không có sự cố.'")
    body(document, "6. Đánh giá công tác triển khai hệ thống và đề xuất giải pháp khắc phục:")
    lines(document, "danh_gia")
    lines(document, "de_xuat")
    body(document, "Trung tâm Chuyển đổi số tỉnh Đồng Tháp kính báo cáo Ban Giám đốc Sở Thông tin và "
                   "Truyền thông nắm thông tin./.")
    signature(document, authority="GIÁM ĐỐC", title="", recipients="'Như trên'", keep="van_ban.don_vi")
    return document


def dti_bao_cao_danh_gia() -> DocumentObject:
    """Báo cáo kết quả đánh giá chỉ số chuyển đổi số of one unit (QĐ 810, thủ tục 3; engine/services/dti_report.py)."""
    document = new_document("Báo cáo kết quả đánh giá chỉ số chuyển đổi số của cơ quan, đơn vị")
    header(document, Kind("BÁO CÁO", "Kết quả đánh giá chỉ số chuyển đổi số"))
    tag(document, "{%p if du_thao %}")
    para(document, "(Dự thảo — kết quả chưa được công bố)", size=13, italic=True, align="center", after=6)
    tag(document, "{%p endif %}")
    kinh_gui(document, "don_vi")
    body(document, "Căn cứ {{ bo_chi_so }} và báo cáo tự đánh giá của {{ don_vi }}, {{ don_vi_danh_gia }} "
                   "đã đánh giá độc lập, thẩm định kết quả chỉ số chuyển đổi số năm {{ nam }} của {{ don_vi }} "
                   "({{ nhom }}) như sau:")
    body(document, "1. Kết quả chung", bold=True)
    body(document, "Tổng điểm đạt: {{ tong_diem }}/{{ diem_toi_da }} điểm ({{ ty_le }}%); điểm đơn vị tự đánh giá: "
                   "{{ tong_tu_danh_gia }} điểm; số chỉ số được điều chỉnh điểm: {{ so_dieu_chinh }}.")
    tag(document, "{%p if xep_hang %}")
    body(document, "Xếp hạng: thứ {{ xep_hang }}/{{ so_don_vi }} trong nhóm {{ nhom }}"
                   "{% if dong_hang %} (đồng hạng){% endif %}.")
    tag(document, "{%p endif %}")
    tag(document, "{%p if so_sanh %}")
    body(document, "So với năm {{ so_sanh.nam }}: tổng điểm {{ so_sanh.tong_diem }} điểm, xếp hạng thứ "
                   "{{ so_sanh.xep_hang }}{% if so_sanh.thay_doi_hang %} ({{ so_sanh.thay_doi_hang }}){% endif %}.")
    tag(document, "{%p endif %}")
    tag(document, "{%p if nop_muon %}")
    body(document, "Đơn vị không nộp báo cáo tự đánh giá trong hạn; phiếu được khóa với số liệu đã lưu khi hết hạn.")
    tag(document, "{%p endif %}")
    body(document, "2. Kết quả theo từng chỉ số", bold=True)
    data_table(document, [
        ("Mã", 1.5, "{{ r.ma }}"),
        ("Chỉ số", 6.3, "{{ r.ten }}"),
        ("Điểm tối đa", 1.7, "{{ r.toi_da }}"),
        ("Tự đánh giá", 1.9, "{{ r.tu_danh_gia }}"),
        ("Sở TT&TT đánh giá", 2.0, "{{ r.chuyen_gia }}"),
        ("Điểm đạt", 1.7, "{{ r.diem_dat }}"),
    ], "for r in rows", size=11)
    tag(document, "{%p if dieu_chinh %}")
    body(document, "3. Các chỉ số được điều chỉnh điểm", bold=True)
    tag(document, "{%p for r in dieu_chinh %}")
    body(document, "- Chỉ số {{ r.ma }} ({{ r.ten }}): từ {{ r.tu_danh_gia or 'chưa chấm' }} thành {{ r.chuyen_gia }} "
                   "điểm. Lý do: {{ r.ly_do }}{% if r.phan_hoi %} Ý kiến phản hồi của đơn vị: {{ r.phan_hoi }}"
                   "{% endif %}")
    tag(document, "{%p endfor %}")
    tag(document, "{%p endif %}")
    body(document, "{{ don_vi_danh_gia }} báo cáo để {{ don_vi }} biết./.")
    signature(document, authority="KT. GIÁM ĐỐC", title="PHÓ GIÁM ĐỐC", recipients="'Như trên'",
              keep="van_ban.don_vi")
    return document


TEMPLATES = {
    "email_account_reply.docx": email_account_reply,
    "thong_bao.docx": thong_bao,
    "phu_luc_ii_kich_ban.docx": phu_luc_ii,
    "phu_luc_iii_bao_cao_su_co.docx": phu_luc_iii,
    "project_software_account_refusal.docx": project_software_account_refusal,
    "dti_bao_cao_danh_gia.docx": dti_bao_cao_danh_gia,
}


def reproducible(document: DocumentObject) -> bytes:
    """The DOCX with fixed zip dates: the same layout always gives the same bytes."""
    raw = io.BytesIO()
    document.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(entry))
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Tạo các mẫu văn bản DOCX có sẵn (Nghị định 30/2020)")
    parser.add_argument("--out", type=Path, default=OUT, help="thư mục ghi mẫu (mặc định processes/templates)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in TEMPLATES.items():
        (args.out / name).write_bytes(reproducible(build()))
        print(f"{args.out / name}")


if __name__ == "__main__":
    main()
