"""Official documents without a database: Nghị định 30 formatting, the shipped templates as a reader
sees them in Word, escaping, the sandbox, and hostile template files refused."""
from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import pytest
from docx import Document as open_docx
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from engine.documents import vietnamese as vn
from engine.documents.render import RenderError, build_context, render_docx
from engine.documents.templates import check_template, valid_name
from engine.settings import ROOT
from tests.engine.docx_files import word_file

TEMPLATES = ROOT / "processes" / "templates"
DAY = date(2026, 2, 5)
CO_QUAN = {"chu_quan": "ỦY BAN NHÂN DÂN TỈNH ĐỒNG THÁP", "ban_hanh": "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
           "dia_danh": "Đồng Tháp"}
HO_SO = {"id": 7, "don_vi": "Sở Tài chính", "nguoi_tao": "Trần Thị Bình"}


# ---------------------------------------------------------------- Nghị định 30 formatting


@pytest.mark.parametrize(("day", "expected"), [
    (date(2026, 2, 5), "ngày 05 tháng 02 năm 2026"),
    (date(2026, 1, 15), "ngày 15 tháng 01 năm 2026"),
    (date(2026, 3, 15), "ngày 15 tháng 3 năm 2026"),
    (date(2026, 11, 26), "ngày 26 tháng 11 năm 2026"),
    (date(2026, 12, 9), "ngày 09 tháng 12 năm 2026"),
])
def test_date_words_follow_the_decree(day: date, expected: str) -> None:
    assert vn.date_words(day) == expected


def test_place_date_line_and_number_line() -> None:
    assert vn.place_date("Đồng Tháp", DAY) == "Đồng Tháp, ngày 05 tháng 02 năm 2026"
    assert vn.number_line(12, "TB-TTCĐS") == "Số: 12/TB-TTCĐS"
    assert vn.reference(5, "STTTT-TTCĐS") == "05/STTTT-TTCĐS"
    assert vn.reference(125, "BC-TTCĐS") == "125/BC-TTCĐS"
    assert vn.two_digits(0) == "00"
    with pytest.raises(ValueError, match="ký hiệu"):
        vn.reference(1, " / ")


@pytest.mark.parametrize(("typed", "printed"), [
    ("kt giám đốc", "KT. GIÁM ĐỐC"),
    ("KT.GIÁM ĐỐC", "KT. GIÁM ĐỐC"),
    ("tm. ủy ban nhân dân", "TM. ỦY BAN NHÂN DÂN"),
    ("TUQ. CHỦ TỊCH", "TUQ. CHỦ TỊCH"),
    ("tl  giám đốc", "TL. GIÁM ĐỐC"),
    ("q. giám đốc", "Q. GIÁM ĐỐC"),
    ("GIÁM ĐỐC", "GIÁM ĐỐC"),
    ("Tổng giám đốc", "TỔNG GIÁM ĐỐC"),
])
def test_signer_prefixes_are_plain_text_written_the_decrees_way(typed: str, printed: str) -> None:
    assert vn.signing_authority(typed) == printed


def test_file_names_are_ascii_without_slashes() -> None:
    name = vn.file_name("12/TB-TTCĐS", "V/v phúc đáp đề nghị cấp, thay đổi, thu hồi thư điện tử công vụ")
    assert name.startswith("12-TB-TTCDS_phuc-dap")
    assert name.endswith(".docx") and name.isascii() and "/" not in name
    assert vn.file_name("01/BC-TTCĐS", "") == "01-BC-TTCDS.docx"


# ---------------------------------------------------------------- reading a document like a reader


def paragraphs_of(document: DocxDocument) -> Iterator[Paragraph]:
    """Every paragraph in reading order, inside tables too."""
    def walk(container: Any) -> Iterator[Paragraph]:
        for block in container.iter_inner_content():
            if isinstance(block, Paragraph):
                yield block
            else:
                for row in block.rows:
                    seen: set[int] = set()
                    for cell in row.cells:
                        if id(cell._tc) not in seen:  # a merged cell is listed once per column
                            seen.add(id(cell._tc))
                            yield from walk(cell)
    return walk(document)


def lines_of(document: DocxDocument) -> list[str]:
    return [p.text for p in paragraphs_of(document) if p.text.strip()]


def paragraph(document: DocxDocument, text: str) -> Paragraph:
    found = [p for p in paragraphs_of(document) if p.text == text]
    assert found, f"no paragraph {text!r} in {lines_of(document)}"
    return found[0]


def data_rows(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows[1:]]


def van_ban(number: int, symbol: str, title: str, issuer: str = "STTTT") -> dict[str, Any]:
    return {"so": number, "so_ky_hieu": vn.reference(number, symbol), "ky_hieu": symbol, "don_vi": issuer,
            "ngay": DAY, "ngay_thang_nam": vn.date_words(DAY), "dia_danh_ngay": vn.place_date("Đồng Tháp", DAY),
            "trich_yeu": title, "nam": DAY.year}


def render(template: bytes, data: Mapping[str, Any], number: int = 12, symbol: str = "TB-TTCĐS",
           title: str = "") -> DocxDocument:
    docx = render_docx(template, build_context(data, van_ban=van_ban(number, symbol, title),
                                               co_quan=CO_QUAN, ho_so=HO_SO))
    return open_docx(io.BytesIO(docx))


def shipped(name: str) -> bytes:
    return (TEMPLATES / name).read_bytes()


# ---------------------------------------------------------------- the shipped templates

ROWS = [
    {"stt": 1, "loai": "ca_nhan", "ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch", "thao_tac": "cap_moi",
     "thao_tac_ten": "Cấp mới", "ket_qua": "Đã cấp mới", "dia_chi": "annv@dongthap.gov.vn",
     "mat_khau": "Bi-mat-123"},
    {"stt": 2, "loai": "ca_nhan", "ho_ten": "Lê Thị Hoa", "don_vi": "Văn phòng", "thao_tac": "thu_hoi",
     "thao_tac_ten": "Thu hồi", "ket_qua": "Đã thu hồi (khóa tài khoản, giữ dữ liệu)",
     "dia_chi": "hoalt@dongthap.gov.vn"},
    {"stt": 3, "loai": "tap_the", "ho_ten": "Phòng Tài chính – Kế hoạch", "don_vi": "Sở Tài chính",
     "thao_tac": "cap_moi", "thao_tac_ten": "Cấp mới", "ket_qua": "Đã cấp mới", "dia_chi": "ptckh@dongthap.gov.vn"},
]
REPLY = {
    "noi_dung_phuc_dap": "Sở Thông tin và Truyền thông nhận được Công văn số 45/STC-VP.\n\n"
                         "Kết quả xử lý từng trường hợp như sau:",
    "rows": ROWS, "quyen_han_ky": "kt giám đốc", "chuc_vu_ky": "Phó Giám đốc", "nguoi_ky": "Nguyễn Quốc Hùng",
    "noi_nhan": "- Như trên;\n- Giám đốc Sở (b/c);\nTrung tâm Chuyển đổi số", "luu": "TTCĐS",
    "password": "khong-bao-gio-in",
}
REPLY_TITLE = "V/v phúc đáp đề nghị cấp, thay đổi, thu hồi thư điện tử công vụ"


def test_email_account_reply_has_every_part_of_a_cong_van() -> None:
    document = render(shipped("email_account_reply.docx"), REPLY, 12, "STTTT-TTCĐS", REPLY_TITLE)
    header = document.tables[0]
    left, right = header.rows[0].cells
    assert [p.text for p in left.paragraphs if p.text] == ["ỦY BAN NHÂN DÂN TỈNH ĐỒNG THÁP",
                                                           "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"]
    assert left.paragraphs[1].runs[0].bold
    assert [p.text for p in right.paragraphs if p.text] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                                                            "Độc lập - Tự do - Hạnh phúc"]
    number, when = header.rows[1].cells
    assert [p.text for p in number.paragraphs] == ["Số: 12/STTTT-TTCĐS", REPLY_TITLE]
    assert when.paragraphs[0].text == "Đồng Tháp, ngày 05 tháng 02 năm 2026"
    assert when.paragraphs[0].runs[0].italic

    assert paragraph(document, "Kính gửi: Sở Tài chính.")
    lines = lines_of(document)
    assert lines.index("Sở Thông tin và Truyền thông nhận được Công văn số 45/STC-VP.") + 1 == \
        lines.index("Kết quả xử lý từng trường hợp như sau:")
    table = document.tables[1]
    assert [c.text for c in table.rows[0].cells] == ["STT", "Họ và tên / Tên cơ quan", "Đơn vị", "Nội dung đề nghị",
                                                     "Kết quả", "Địa chỉ thư điện tử"]
    assert data_rows(table) == [
        ["1", "Nguyễn Văn An", "Phòng Kế hoạch", "Cấp mới", "Đã cấp mới", "annv@dongthap.gov.vn"],
        ["2", "Lê Thị Hoa", "Văn phòng", "Thu hồi", "Đã thu hồi (khóa tài khoản, giữ dữ liệu)",
         "hoalt@dongthap.gov.vn"],
        ["3", "Phòng Tài chính – Kế hoạch", "Sở Tài chính", "Cấp mới", "Đã cấp mới", "ptckh@dongthap.gov.vn"],
    ]
    recipients, signer = document.tables[2].rows[0].cells
    assert [p.text for p in recipients.paragraphs if p.text] == [
        "Nơi nhận:", "- Như trên;", "- Giám đốc Sở (b/c);", "- Trung tâm Chuyển đổi số;", "- Lưu: VT, TTCĐS."]
    assert recipients.paragraphs[0].runs[0].bold and recipients.paragraphs[0].runs[0].italic
    signer_lines = [p for p in signer.paragraphs if p.text]
    assert [p.text for p in signer_lines] == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Quốc Hùng"]
    assert all(p.runs[0].bold for p in signer_lines)
    text = "\n".join(lines)
    assert "Bi-mat-123" not in text and "khong-bao-gio-in" not in text
    assert "Mật khẩu khởi tạo được gửi riêng" in text


def test_email_account_reply_defaults_without_optional_data() -> None:
    rows = [{**ROWS[1], "stt": 1}]  # only a revocation: no word about passwords
    document = render(shipped("email_account_reply.docx"), {"rows": rows}, 5, "STTTT-TTCĐS", REPLY_TITLE)
    lines = lines_of(document)
    assert "Số: 05/STTTT-TTCĐS" in lines
    assert "Kính gửi: Sở Tài chính." in lines  # kinh_gui falls back to the dossier's unit
    assert lines[lines.index("Kính gửi: Sở Tài chính.") + 1].startswith(
        "Phúc đáp đề nghị cấp, thay đổi, thu hồi thư điện tử công vụ của Sở Tài chính")
    assert len(document.tables[1].rows) == 2
    assert not any("Mật khẩu" in line for line in lines)
    recipients, signer = document.tables[2].rows[0].cells
    assert [p.text for p in recipients.paragraphs if p.text] == ["Nơi nhận:", "- Như trên;", "- Lưu: VT, STTTT."]
    assert [p.text for p in signer.paragraphs if p.text] == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]


def test_several_recipients_are_listed_under_kinh_gui() -> None:
    data = {**REPLY, "kinh_gui": "- Sở Tài chính;\n- Sở Y tế."}
    lines = lines_of(render(shipped("email_account_reply.docx"), data, 12, "STTTT-TTCĐS", REPLY_TITLE))
    start = lines.index("Kính gửi:")
    assert lines[start + 1:start + 3] == ["- Sở Tài chính;", "- Sở Y tế."]


def test_thong_bao_with_its_type_name_title_and_rows() -> None:
    data = {"noi_dung": "Trung tâm Chuyển đổi số thông báo kết quả cấp tài khoản như sau:",
            "rows": [{"stt": 1, "ho_ten": "Nguyễn Văn An", "email": "annv@dongthap.gov.vn",
                      "thao_tac_ten": "Cấp mới", "ket_qua": "Đã cấp"}],
            "nguoi_ky": "Phạm Minh Tâm", "quyen_han_ky": "GIÁM ĐỐC"}
    document = render(shipped("thong_bao.docx"), data, 3, "TB-TTCĐS",
                      "Kết quả cấp tài khoản phần mềm Quản lý tiến độ dự án")
    lines = lines_of(document)
    assert "Số: 03/TB-TTCĐS" in lines
    kind = paragraph(document, "THÔNG BÁO")
    assert kind.runs[0].bold and kind.alignment == 1  # centred
    assert lines[lines.index("THÔNG BÁO") + 1] == "Kết quả cấp tài khoản phần mềm Quản lý tiến độ dự án"
    assert not any(line.startswith("Kính gửi") for line in lines)
    assert data_rows(document.tables[1]) == [["1", "Nguyễn Văn An", "annv@dongthap.gov.vn", "Cấp mới", "Đã cấp"]]
    signer = document.tables[2].rows[0].cells[1]
    assert [p.text for p in signer.paragraphs if p.text] == ["GIÁM ĐỐC", "Phạm Minh Tâm"]
    recipients = document.tables[2].rows[0].cells[0]
    assert [p.text for p in recipients.paragraphs if p.text][1] == "- Sở Tài chính;"  # the dossier's unit


def test_thong_bao_without_rows_has_no_table() -> None:
    document = render(shipped("thong_bao.docx"), {"noi_dung": "Nội dung."}, 1)
    assert len(document.tables) == 2  # header and signature only


PHU_LUC_II = {
    "don_vi_chu_tri": "Văn phòng UBND tỉnh",
    "can_cu": "Căn cứ Công văn số 120/VP-HC ngày 18/11/2026 của Văn phòng UBND tỉnh;\n"
              "Căn cứ phiếu đăng ký ngày 19/11/2026 của Văn phòng UBND tỉnh.",
    "noi_dung": "Hội nghị trực tuyến sơ kết công tác chuyển đổi số", "thoi_gian": "08h00 ngày 26/11/2026",
    "cap_hop": "Tỉnh - Xã",
    "ky_thuat": [
        {"vi_tri": "diem_cau_ve_tinh", "diem_cau": "UBND xã Mỹ An", "ho_ten": "Trần Văn Bé", "dien_thoai": "0909000002",
         "thoi_gian": "07h00 – 11h30"},
        {"vi_tri": "giam_sat_mcu", "diem_cau": "Trung tâm Chuyển đổi số", "ho_ten": "Lê Minh Tâm",
         "dien_thoai": "0909000001", "thoi_gian": "07h00 – 11h30"},
        {"vi_tri": "diem_cau_chinh", "diem_cau": "Hội trường UBND tỉnh", "ho_ten": "Võ Thành Công",
         "dien_thoai": "0909000003", "thoi_gian": "07h00 – 11h30"},
        {"vi_tri": "diem_cau_ve_tinh", "diem_cau": "UBND xã Tân Thuận", "ho_ten": "Ngô Thị Lan",
         "dien_thoai": "0909000004", "thoi_gian": "07h00 – 11h30"},
    ],
    "kiem_tra": [{"lan": "Lần 1", "thoi_gian": "14h00 ngày 24/11/2026"},
                 {"lan": "Lần 2", "thoi_gian": "08h00 ngày 25/11/2026"},
                 {"lan": "Trước khi diễn ra hội nghị chính thức", "thoi_gian": "07h00 ngày 26/11/2026"}],
    "nguoi_ky": "Phạm Minh Tâm",
}


def test_phu_luc_ii_groups_technicians_by_position() -> None:
    document = render(shipped("phu_luc_ii_kich_ban.docx"), PHU_LUC_II, 9, "TB-TTCĐS")
    lines = lines_of(document)
    assert "Số: 09/TB-TTCĐS" in lines
    title = lines.index("THÔNG BÁO") + 1
    assert lines[title] == "Kịch bản triển khai và danh sách kỹ thuật trực hội nghị truyền hình trực tuyến"
    start = lines.index("Kính gửi:")
    assert lines[start + 1:start + 3] == ["- Sở Thông tin và Truyền thông;", "- Văn phòng UBND tỉnh."]
    assert "- Căn cứ Công văn số 120/VP-HC ngày 18/11/2026 của Văn phòng UBND tỉnh;" in lines
    staff = [[row[0], row[1], row[2], row[3]] for row in data_rows(document.tables[1])]
    assert staff == [
        ["I", "Giám sát hệ thống MCU", "Giám sát hệ thống MCU", "Giám sát hệ thống MCU"],  # one merged cell
        ["1", "Trung tâm Chuyển đổi số", "Lê Minh Tâm", "0909000001"],
        ["II", "Điểm cầu chính", "Điểm cầu chính", "Điểm cầu chính"],
        ["1", "Hội trường UBND tỉnh", "Võ Thành Công", "0909000003"],
        ["III", "Điểm cầu vệ tinh", "Điểm cầu vệ tinh", "Điểm cầu vệ tinh"],
        ["1", "UBND xã Mỹ An", "Trần Văn Bé", "0909000002"],
        ["2", "UBND xã Tân Thuận", "Ngô Thị Lan", "0909000004"],
    ]
    assert [row[1:3] for row in data_rows(document.tables[2])] == [
        ["Lần 1", "14h00 ngày 24/11/2026"], ["Lần 2", "08h00 ngày 25/11/2026"],
        ["Trước khi diễn ra hội nghị chính thức", "07h00 ngày 26/11/2026"]]
    recipients, signer = document.tables[3].rows[0].cells
    assert [p.text for p in recipients.paragraphs if p.text] == [
        "Nơi nhận:", "- Như trên;", "- Các cơ quan là điểm cầu;", "- Lưu: VT, STTTT."]
    assert [p.text for p in signer.paragraphs if p.text] == ["GIÁM ĐỐC", "Phạm Minh Tâm"]


def test_phu_luc_iii_reports_incidents_per_endpoint() -> None:
    data = {"noi_dung": "Hội nghị sơ kết", "don_vi_chu_tri": "Văn phòng UBND tỉnh", "thoi_gian": "07h00 – 11h30",
            "ngay_hop": "2026-11-26",
            "diem_cau": [{"ten_co_quan": "UBND xã Mỹ An", "diem_cau": "Hội trường xã", "thiet_bi": "Camera, micro"},
                         {"ten_co_quan": "UBND xã Tân Thuận", "diem_cau": "Phòng họp", "thiet_bi": "Tivi 65 inch"}],
            "su_co": "Mất tiếng tại điểm cầu UBND xã Mỹ An trong 5 phút.",
            "danh_gia": "Hệ thống hoạt động ổn định.", "de_xuat": "Thay micro dự phòng.", "nguoi_ky": "Phạm Minh Tâm"}
    document = render(shipped("phu_luc_iii_bao_cao_su_co.docx"), data, 2, "BC-TTCĐS")
    lines = lines_of(document)
    assert "Số: 02/BC-TTCĐS" in lines
    assert lines[lines.index("BÁO CÁO") + 1] == "Sự cố hội nghị truyền hình trực tuyến"
    assert "Kính gửi: Ban Giám đốc Sở Thông tin và Truyền thông." in lines
    assert any("vào ngày 26 tháng 11 năm 2026, như sau:" in line for line in lines)
    assert "2. Đơn vị chủ trì hội nghị: Văn phòng UBND tỉnh." in lines
    assert [row[:4] for row in data_rows(document.tables[1])] == [
        ["1", "UBND xã Mỹ An", "Hội trường xã", "Camera, micro"],
        ["2", "UBND xã Tân Thuận", "Phòng họp", "Tivi 65 inch"]]
    incident = lines.index("5. Sự cố xảy ra trong thời gian triển khai hội nghị truyền hình trực tuyến:")
    assert lines[incident + 1] == "Mất tiếng tại điểm cầu UBND xã Mỹ An trong 5 phút."
    assert "Thay micro dự phòng." in lines


def test_every_shipped_template_passes_the_upload_checks() -> None:
    names = sorted(p.name for p in TEMPLATES.glob("*.docx"))
    assert names == ["dti_bao_cao_danh_gia.docx", "email_account_reply.docx", "phu_luc_ii_kich_ban.docx",
                     "phu_luc_iii_bao_cao_su_co.docx", "project_software_account_refusal.docx", "thong_bao.docx"]
    for name in names:
        assert check_template(shipped(name)) == [], name


# ---------------------------------------------------------------- escaping, dates and the sandbox


def test_form_text_with_markup_characters_shows_literally() -> None:
    data = {**REPLY, "noi_dung_phuc_dap": "Đề nghị <b>&amp; \"kiểm tra\" 'ngay' </w:t>",
            "rows": [{**ROWS[0], "ho_ten": "<script>alert(1)</script> & Co"}]}
    document = render(shipped("email_account_reply.docx"), data, 12, "STTTT-TTCĐS", REPLY_TITLE)
    assert "Đề nghị <b>&amp; \"kiểm tra\" 'ngay' </w:t>" in lines_of(document)
    assert data_rows(document.tables[1])[0][1] == "<script>alert(1)</script> & Co"


def test_dates_print_as_day_month_year() -> None:
    template = word_file("Ngày đề nghị: {{ ngay_de_nghi }}", "Hạn: {{ han|ngay }}", "Họp {{ ngay_hop|ngay_chu }}",
                         "Số lượng: {{ so_luong|so }}; trống: [{{ khong_co }}]; mã: {{ ma }}")
    data = {"ngay_de_nghi": "2026-11-20", "han": "2026-12-01T08:30:00", "ngay_hop": date(2026, 1, 9),
            "so_luong": 7, "khong_co": None, "ma": "2026-11-20-A"}
    assert lines_of(render(template, data)) == [
        "Ngày đề nghị: 20/11/2026", "Hạn: 01/12/2026", "Họp ngày 09 tháng 01 năm 2026",
        "Số lượng: 07; trống: []; mã: 2026-11-20-A"]


@pytest.mark.parametrize(("tag", "reason"), [
    ("{{ ''.__class__.__mro__ }}", "không được phép trong hộp cát"),
    ("{{ ''.__class__ }}", "không được phép trong hộp cát"),
    ("{{ van_ban['__class__'] }}", "không được phép trong hộp cát"),
    ("{{ rows.append(1) }}", "không được phép trong hộp cát"),
    ("{{ 'x' * 100000000 }}", "không được phép trong hộp cát"),
    ("{{ 2 ** 100000000 }}", "không được phép trong hộp cát"),
    ("{{ ((10 ** 60) ** 60) ** 60 }}", "không được phép trong hộp cát"),
    ("{{ range(10000000)|list }}", "Không điền được mẫu văn bản: Range too big"),
    ("{{ 1 / 0 }}", "Không điền được mẫu văn bản: division by zero"),
])
def test_template_code_cannot_leave_the_sandbox(tag: str, reason: str) -> None:
    with pytest.raises(RenderError) as caught:
        render(word_file(f"Nội dung: {tag}"), {"rows": []})
    assert reason in caught.value.message.vi
    assert caught.value.message.en


def test_a_template_that_runs_too_long_is_stopped() -> None:
    template = word_file("{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}")
    with pytest.raises(RenderError) as caught:
        render_docx(template, build_context({}, van_ban={}, co_quan={}, ho_so={}), seconds=0.5)
    assert "quá 0.5 giây" in caught.value.message.vi


def test_secrets_never_reach_the_template() -> None:
    template = word_file("[{{ mat_khau }}][{{ user_password }}][{{ tai_khoan.token }}][{{ tai_khoan.ten }}]")
    data = {"mat_khau": "a", "user_password": "b", "tai_khoan": {"token": "c", "ten": "annv"}}
    assert lines_of(render(template, data)) == ["[][][][annv]"]


# ---------------------------------------------------------------- hostile uploads


def rezip(source: bytes, *, replace: Mapping[str, bytes] | None = None,
          add: Mapping[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for entry in old.infolist():
            new.writestr(entry.filename, (replace or {}).get(entry.filename, old.read(entry)))
        for name, content in (add or {}).items():
            new.writestr(name, content)
    return out.getvalue()


ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>
<w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>
<w:t>&x;</w:t></w:r></w:p></w:body></w:document>"""


@functools.cache
def hostile() -> dict[str, tuple[bytes, str]]:
    good = shipped("thong_bao.docx")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
        archive.writestr("word/media/image1.png", b"\0" * (64 * 1024 * 1024))  # 64 MB of zeros, ~64 KB zipped
    types = zipfile.ZipFile(io.BytesIO(good)).read("[Content_Types].xml")
    return {
        "not a zip": (b"%PDF-1.7 this is no Word file", "không phải tệp Word"),
        "truncated zip": (good[: len(good) // 2], "không phải tệp Word"),
        "zip without document": (rezip(word_file("x"), replace={}, add={}).replace(b"word/document.xml",
                                                                                   b"word/documenX.xml"),
                                 "thiếu phần word/document.xml"),
        "zip bomb": (bomb.getvalue(), "zip bomb"),
        "VBA project": (rezip(good, add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}), "macro"),
        "macro content type": (rezip(good, replace={"[Content_Types].xml": types.replace(
            b"document.main+xml", b"document.macroEnabled.main+xml")}), "macro"),
        "entity bomb": (rezip(good, replace={"word/document.xml": ENTITY_BOMB}), "không phải XML an toàn"),
        "external entity": (rezip(good, replace={"word/document.xml": EXTERNAL_ENTITY}), "không phải XML an toàn"),
        "broken XML": (rezip(good, replace={"word/document.xml": b"<w:document><w:body>"}), "không phải XML an toàn"),
        "unclosed loop": (word_file("Danh sách:", "{%p for r in rows %}", "{{ r.ho_ten }}"), "lỗi cú pháp"),
        "unclosed tag": (word_file("Kính gửi: {{ kinh_gui }"), "gần đoạn «Kính gửi: {{ kinh_gui }»"),
        "unknown filter": (word_file("{{ ngay_hop|khong_co_bo_loc }}"), "khong_co_bo_loc"),
        "private attribute": (word_file("{{ ''.__class__.__mro__ }}"), "thuộc tính nội bộ «__"),
        "raw XML through safe": (word_file("{{ noi_dung|safe }}"), "No filter named 'safe'"),
        "escaping turned off": (word_file("{% autoescape false %}{{ noi_dung }}{% endautoescape %}"),
                                "tắt tự động thoát ký tự"),
    }


@pytest.mark.parametrize("case", list(hostile()))
def test_hostile_templates_are_refused_with_a_reason(case: str) -> None:
    content, reason = hostile()[case]
    problems = check_template(content)
    assert problems, case
    assert reason in problems[0].vi, problems[0].vi
    assert problems[0].en


def test_oversized_templates_are_refused_before_opening() -> None:
    (problem,) = check_template(shipped("thong_bao.docx"), max_bytes=10 * 1024)
    assert problem.vi == "Tệp mẫu vượt quá 10 KB"


@pytest.mark.parametrize(("name", "ok"), [
    ("thong_bao.docx", True), ("Mẫu công văn (2026).docx", True), ("../thong_bao.docx", False),
    ("mau/thong_bao.docx", False), ("thong_bao.docm", False), (".docx", False), ("a..docx", False),
])
def test_template_names_are_bare_docx_file_names(name: str, ok: bool) -> None:
    assert valid_name(name) is ok
